/* Adding sections to a PE32+ image (Microsoft's "PE Format" specification): the stub's own
 * headers and sections stay as they are; new section headers go into the room the stub leaves
 * before its first section, and their data after the end of the stub file. */
#include "uki.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "cleanup.h"

#define PE_MACHINE_AMD64 0x8664
#define PE32PLUS_MAGIC 0x20b
#define SECTION_HEADER_SIZE 40
/* IMAGE_SCN_CNT_INITIALIZED_DATA | IMAGE_SCN_MEM_READ */
#define SECTION_READ_DATA 0x40000040u
/* Page-aligned addresses for the new sections: loaders map them at ImageBase + address. */
#define NEW_SECTION_ALIGN 0x1000u

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

typedef struct pe_layout {
  uint32_t coff;          /* offset of the COFF file header */
  uint32_t opt;           /* offset of the optional header */
  uint32_t table;         /* offset of the section table */
  uint16_t n_sections;
  uint32_t file_align, section_align, size_of_headers;
  uint64_t first_raw;     /* lowest PointerToRawData of a section: the table must end before it */
  uint64_t raw_end;       /* end of the stub file's section data */
  uint64_t virt_end;      /* end of the highest section in memory */
} pe_layout;

#define BAD_STUB(...) core_error_set(err, 0, __VA_ARGS__)

static int parse_stub(const core_uki_input *in, pe_layout *l, core_error **err) {
  const uint8_t *d = in->stub;
  uint64_t n = in->stub_size;
  const char *name = in->stub_name;
  if (n < 0x40 || d[0] != 'M' || d[1] != 'Z') return BAD_STUB("'%s' is not a PE file (no MZ header)", name);
  l->coff = core_get_le32(d + 0x3c) + 4;
  if (l->coff < 0x40 || (uint64_t)l->coff + 20 > n || memcmp(d + l->coff - 4, "PE\0\0", 4) != 0)
    return BAD_STUB("'%s' is not a PE file (no PE signature where its DOS header points)", name);
  if (core_get_le16(d + l->coff) != PE_MACHINE_AMD64) return BAD_STUB("'%s' is not an x86-64 EFI binary", name);
  l->n_sections = core_get_le16(d + l->coff + 2);
  uint16_t opt_size = core_get_le16(d + l->coff + 16);
  l->opt = l->coff + 20;
  if (opt_size < 112 || (uint64_t)l->opt + opt_size > n || core_get_le16(d + l->opt) != PE32PLUS_MAGIC)
    return BAD_STUB("'%s' has no PE32+ optional header", name);
  l->section_align = core_get_le32(d + l->opt + 32);
  l->file_align = core_get_le32(d + l->opt + 36);
  l->size_of_headers = core_get_le32(d + l->opt + 60);
  uint32_t n_dirs = core_get_le32(d + l->opt + 108);
  /* A signed stub (a certificate table, directory 4) would no longer verify once sections
   * are added; core does not do Secure Boot yet, so it takes the unsigned stub. */
  if (n_dirs > 4 && 112 + 5 * 8 <= opt_size && core_get_le32(d + l->opt + 112 + 4 * 8 + 4) != 0)
    return BAD_STUB("'%s' carries an Authenticode signature, which adding sections would break; use the unsigned "
                    "stub from Debian's systemd-boot-efi", name);
  if (l->file_align < 512 || (l->file_align & (l->file_align - 1)) || l->section_align < l->file_align ||
      (l->section_align & (l->section_align - 1)) || NEW_SECTION_ALIGN % l->section_align)
    return BAD_STUB("'%s' has unusual alignments (file %u, section %u)", name, l->file_align, l->section_align);
  l->table = l->opt + opt_size;
  if ((uint64_t)l->table + (uint64_t)l->n_sections * SECTION_HEADER_SIZE > n) return BAD_STUB("'%s' is truncated in its section table", name);
  l->first_raw = UINT64_MAX;
  l->raw_end = n;
  l->virt_end = 0;
  for (uint16_t i = 0; i < l->n_sections; i++) {
    const uint8_t *s = d + l->table + (size_t)i * SECTION_HEADER_SIZE;
    uint64_t vsize = core_get_le32(s + 8), va = core_get_le32(s + 12), raw_size = core_get_le32(s + 16), raw_at = core_get_le32(s + 20);
    if (raw_size && raw_at < l->first_raw) l->first_raw = raw_at;
    if (raw_at + raw_size > n) return BAD_STUB("'%s' is truncated: section %.8s lies beyond its end", name, (const char *)s);
    if (va + (vsize > raw_size ? vsize : raw_size) > l->virt_end) l->virt_end = va + (vsize > raw_size ? vsize : raw_size);
  }
  return 0;
}

typedef struct new_section {
  const char *name;
  const uint8_t *data; /* or NULL: size bytes from the start of fd */
  uint64_t size;
  int fd;
} new_section;

int core_uki_build(const core_uki_input *in, core_image *out, uint64_t *kernel_at, uint64_t *initrd_at, core_error **err) {
  pe_layout l = {0};
  if (parse_stub(in, &l, err) < 0) return -1;
  const new_section add[] = {
      {".osrel", (const uint8_t *)in->osrel, strlen(in->osrel), -1},
      {".cmdline", (const uint8_t *)in->cmdline, strlen(in->cmdline), -1},
      {".linux", in->kernel, in->kernel_size, -1},
      {".initrd", in->initrd, in->initrd_size, in->initrd ? -1 : in->initrd_fd},
  };
  enum { N_ADD = sizeof add / sizeof *add };
  uint64_t table_end = l.table + (uint64_t)(l.n_sections + N_ADD) * SECTION_HEADER_SIZE;
  if (table_end > l.size_of_headers || table_end > l.first_raw)
    return core_error_set(err, 0, "'%s' has no room for %d more section headers", in->stub_name, N_ADD);

  uint8_t *head = malloc(in->stub_size);
  if (head == NULL) return core_error_set(err, ENOMEM, "allocating the UKI headers");
  memcpy(head, in->stub, in->stub_size);
  if (core_image_add_owned(out, 0, head, in->stub_size, err) < 0) return -1;

  uint64_t raw_at = align_up(l.raw_end, l.file_align), va = align_up(l.virt_end, NEW_SECTION_ALIGN);
  uint64_t init_data = core_get_le32(head + l.opt + 8);
  for (int i = 0; i < N_ADD; i++) {
    uint64_t raw_size = align_up(add[i].size, l.file_align);
    if (raw_at + raw_size > UINT32_MAX || va + add[i].size > UINT32_MAX)
      return core_error_set(err, 0, "the UKI would exceed the 4 GiB a PE image can address (%s is %llu bytes)",
                            add[i].name, (unsigned long long)add[i].size);
    uint8_t *s = head + l.table + (size_t)(l.n_sections + i) * SECTION_HEADER_SIZE;
    memset(s, 0, SECTION_HEADER_SIZE);
    memcpy(s, add[i].name, strlen(add[i].name));
    core_put_le32(s + 8, (uint32_t)add[i].size);
    core_put_le32(s + 12, (uint32_t)va);
    core_put_le32(s + 16, (uint32_t)raw_size);
    core_put_le32(s + 20, (uint32_t)raw_at);
    core_put_le32(s + 36, SECTION_READ_DATA);
    /* Zero padding up to raw_size is the image's default: nothing is written there. The big
     * sections stay the caller's bytes; the small texts are copied, the caller's may not last. */
    int big = strcmp(add[i].name, ".linux") == 0 || strcmp(add[i].name, ".initrd") == 0;
    if ((add[i].data == NULL ? core_image_add_fd(out, raw_at, add[i].fd, 0, add[i].size, err)
         : big             ? core_image_add_ref(out, raw_at, add[i].data, add[i].size, err)
                           : core_image_add_copy(out, raw_at, add[i].data, add[i].size, err)) < 0)
      return -1;
    if (strcmp(add[i].name, ".linux") == 0) *kernel_at = raw_at;
    if (strcmp(add[i].name, ".initrd") == 0) *initrd_at = raw_at;
    init_data += raw_size;
    raw_at += raw_size;
    va = align_up(va + add[i].size, NEW_SECTION_ALIGN);
  }
  core_put_le16(head + l.coff + 2, (uint16_t)(l.n_sections + N_ADD));
  core_put_le32(head + l.opt + 8, (uint32_t)(init_data > UINT32_MAX ? UINT32_MAX : init_data));
  core_put_le32(head + l.opt + 56, (uint32_t)va); /* SizeOfImage: a multiple of the section alignment */
  /* The checksum covered the stub alone; firmware ignores it for applications, and a stale
   * one would only mislead a tool that checks it. */
  core_put_le32(head + l.opt + 64, 0);
  out->size = raw_at;
  return core_image_finish(out, err);
}
