/* The ISO 9660 writer: lays out the volume (spec/iso.md), encodes the descriptors, path
 * tables, directories and El Torito catalog from ECMA-119 and the El Torito specification,
 * and embeds each file's extents where its data goes. */
#include "iso9660.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "byteorder.h"
#include "cleanup.h"
#include "iso9660_tree.h"

#define B CORE_ISO_BLOCK

/* ECMA-119 7.2 and 7.3: numbers little-endian, big-endian, or both in turn. */
static void both16(uint8_t *p, uint16_t v) { core_put_le16(p, v), core_put_be16(p + 2, v); }
static void both32(uint8_t *p, uint32_t v) { core_put_le32(p, v), core_put_be32(p + 4, v); }

static uint32_t sectors(uint64_t bytes) { return (uint32_t)((bytes + B - 1) / B); }

/* Everything the layout decides, before a byte is written. */
typedef struct iso_layout {
  iso_tree tree;
  struct tm when;
  uint32_t pt_size;     /* bytes of one path table */
  uint32_t pt_l, pt_m;  /* their LBAs */
  uint32_t meta_lba;    /* path tables and directories lie in [meta_lba, data_lba) */
  uint32_t data_lba;
  uint32_t *file_lba;   /* per caller's file */
  uint32_t total;       /* sectors in the volume */
  long bios, efi;       /* indices of the boot files, or -1 */
} iso_layout;

static void layout_release(iso_layout *l) {
  iso_tree_release(&l->tree);
  free(l->file_lba);
}

/* A directory record's length for an identifier of LEN bytes (ECMA-119 9.1.12: padded even). */
static uint32_t record_len(size_t len) { return (uint32_t)(33 + len + (len % 2 == 0)); }

static uint32_t path_record_len(size_t len) { return (uint32_t)(8 + len + (len % 2)); }

/* A directory's bytes: ".", "..", then its entries; a record never crosses a sector boundary
 * (ECMA-119 6.8.1.1), so a record that would is moved to the next sector. */
static uint32_t dir_size(const iso_tree *t, size_t d) {
  uint32_t at = 2 * record_len(1);
  for (size_t i = 0; i < t->n_entries; i++) {
    if (t->entries[i].parent != d) continue;
    uint32_t len = record_len(strlen(t->entries[i].id));
    if (at % B + len > B) at += B - at % B;
    at += len;
  }
  return sectors(at) * B;
}

static int check_opts(const core_iso_opts *o, core_error **err) {
  if (o->volume_id == NULL || !iso_is_dchars(o->volume_id, strlen(o->volume_id), 32))
    return core_error_set(err, 0, "ISO volume id '%s' is not 1-32 of A-Z, 0-9, _", o->volume_id ? o->volume_id : "");
  return 0;
}

/* Timestamps hold years 1900-2155 (a directory record counts years from 1900 in one byte). */
static int set_time(iso_layout *l, int64_t mtime, core_error **err) {
  time_t t = (time_t)mtime;
  if ((int64_t)t != mtime || gmtime_r(&t, &l->when) == NULL || l->when.tm_year < 0 || l->when.tm_year > 255)
    return core_error_set(err, 0, "ISO timestamp %lld is outside the years 1900-2155 ISO 9660 can record", (long long)mtime);
  return 0;
}

static long find_file(const core_iso_file *files, size_t n, const char *path) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(files[i].path, path) == 0) return (long)i;
  return -1;
}

static int find_boot_files(iso_layout *l, const core_iso_file *files, size_t n, const core_iso_opts *o, core_error **err) {
  l->bios = l->efi = -1;
  if (o->bios_boot != NULL) {
    if ((l->bios = find_file(files, n, o->bios_boot)) < 0)
      return core_error_set(err, 0, "ISO BIOS boot file '%s' is not among the ISO's files", o->bios_boot);
    uint64_t size = files[l->bios].content->size;
    if (size < 64 || size > CORE_ISO_BIOS_BOOT_MAX)
      return core_error_set(err, 0, "ISO BIOS boot file '%s' has %llu bytes: a no-emulation boot file with a boot info table has 64 to %u",
                            o->bios_boot, (unsigned long long)size, CORE_ISO_BIOS_BOOT_MAX);
  }
  if (o->efi_boot != NULL) {
    if ((l->efi = find_file(files, n, o->efi_boot)) < 0)
      return core_error_set(err, 0, "ISO EFI boot image '%s' is not among the ISO's files", o->efi_boot);
    if (files[l->efi].content->size == 0) return core_error_set(err, 0, "ISO EFI boot image '%s' is empty", o->efi_boot);
  }
  if (l->bios >= 0 && l->bios == l->efi)
    return core_error_set(err, 0, "ISO file '%s' cannot be both the BIOS boot file and the EFI boot image", o->bios_boot);
  return 0;
}

/* Every check on the caller's input, before anything is laid out. */
static int check_input(iso_layout *l, const core_iso_file *files, size_t n, const core_iso_opts *o, core_error **err) {
  if (check_opts(o, err) < 0 || set_time(l, o->mtime, err) < 0) return -1;
  for (size_t i = 0; i < n; i++) {
    if (files[i].content == NULL) return core_error_set(err, 0, "ISO path '%s' has no content", files[i].path ? files[i].path : "");
    if (iso_tree_add(&l->tree, files[i].path, i, err) < 0) return -1;
    /* Sorted and checked now, so no bad content is found after others were moved. */
    if (core_image_finish(files[i].content, err) < 0) return core_error_wrap(err, "ISO path '%s'", files[i].path);
    if (files[i].content->size > UINT32_MAX)
      return core_error_set(err, 0, "ISO path '%s' has %llu bytes: more than the 4 GiB - 1 one extent holds (multi-extent files are not written)",
                            files[i].path, (unsigned long long)files[i].content->size);
  }
  if (o->reserved_size > (uint64_t)UINT32_MAX * B)
    return core_error_set(err, 0, "ISO reserved region of %llu bytes is too large", (unsigned long long)o->reserved_size);
  return iso_tree_order(&l->tree, err) < 0 ? -1 : find_boot_files(l, files, n, o, err);
}

/* Sector numbers for everything after the reserved region, in the order spec/iso.md gives:
 * path tables, directories, file data. */
static int assign_sectors(iso_layout *l, const core_iso_file *files, size_t n, const core_iso_opts *o, core_error **err) {
  uint64_t lba = CORE_ISO_RESERVED_LBA + (uint64_t)sectors(o->reserved_size);
  l->pt_size = 0;
  for (size_t i = 0; i < l->tree.n_dirs; i++) l->pt_size += path_record_len(i == 0 ? 1 : strlen(l->tree.dirs[i].id));
  l->meta_lba = (uint32_t)lba;
  l->pt_l = (uint32_t)lba, lba += sectors(l->pt_size);
  l->pt_m = (uint32_t)lba, lba += sectors(l->pt_size);
  for (size_t q = 0; q < l->tree.n_dirs; q++) {
    iso_dir *d = &l->tree.dirs[l->tree.order[q]];
    d->size = dir_size(&l->tree, l->tree.order[q]);
    d->lba = (uint32_t)lba;
    lba += d->size / B;
  }
  l->data_lba = (uint32_t)lba;
  if ((l->file_lba = calloc(n ? n : 1, sizeof *l->file_lba)) == NULL) return core_error_set(err, ENOMEM, "allocating the ISO layout");
  for (size_t i = 0; i < n && lba <= UINT32_MAX; i++) {
    l->file_lba[i] = (uint32_t)lba; /* an empty file points where data would start, using none */
    lba += sectors(files[i].content->size);
  }
  if (lba > UINT32_MAX) return core_error_set(err, 0, "the ISO would need more than 2^32 sectors");
  l->total = (uint32_t)lba;
  return 0;
}

/* ECMA-119 9.1.5: the seven-byte date of directory records. */
static void put_dir_time(uint8_t *p, const struct tm *t) {
  p[0] = (uint8_t)t->tm_year, p[1] = (uint8_t)(t->tm_mon + 1), p[2] = (uint8_t)t->tm_mday;
  p[3] = (uint8_t)t->tm_hour, p[4] = (uint8_t)t->tm_min, p[5] = (uint8_t)t->tm_sec, p[6] = 0; /* UTC */
}

static void put_digits(uint8_t *p, int v, int width) {
  for (int i = width - 1; i >= 0; i--, v /= 10) p[i] = (uint8_t)('0' + v % 10);
}

/* ECMA-119 8.4.26.1: the seventeen-byte date of volume descriptors; NULL is "not specified". */
static void put_vol_time(uint8_t *p, const struct tm *t) {
  memset(p, '0', 16);
  p[16] = 0; /* offset from UTC in 15-minute steps */
  if (t == NULL) return;
  put_digits(p, t->tm_year + 1900, 4);
  put_digits(p + 4, t->tm_mon + 1, 2);
  put_digits(p + 6, t->tm_mday, 2);
  put_digits(p + 8, t->tm_hour, 2);
  put_digits(p + 10, t->tm_min, 2);
  put_digits(p + 12, t->tm_sec, 2); /* hundredths stay "00" */
}

static uint32_t put_record(uint8_t *p, uint32_t lba, uint32_t size, int is_dir, const char *id, size_t id_len, const struct tm *t) {
  uint32_t len = record_len(id_len);
  p[0] = (uint8_t)len;
  both32(p + 2, lba);
  both32(p + 10, size);
  put_dir_time(p + 18, t);
  p[25] = is_dir ? 0x02 : 0x00;
  both16(p + 28, 1); /* volume sequence number */
  p[32] = (uint8_t)id_len;
  memcpy(p + 33, id, id_len);
  return len;
}

static void put_dir(uint8_t *p, const iso_layout *l, size_t d, const core_iso_file *files) {
  const iso_tree *t = &l->tree;
  const iso_dir *self = &t->dirs[d], *parent = &t->dirs[self->parent];
  uint32_t at = put_record(p, self->lba, self->size, 1, "\0", 1, &l->when);
  at += put_record(p + at, parent->lba, parent->size, 1, "\1", 1, &l->when);
  for (size_t i = 0; i < t->n_entries; i++) {
    const iso_entry *e = &t->entries[i];
    if (e->parent != d) continue;
    if (at % B + record_len(strlen(e->id)) > B) at += B - at % B;
    if (e->is_dir)
      at += put_record(p + at, t->dirs[e->target].lba, t->dirs[e->target].size, 1, e->id, strlen(e->id), &l->when);
    else
      at += put_record(p + at, l->file_lba[e->target], (uint32_t)files[e->target].content->size, 0, e->id, strlen(e->id), &l->when);
  }
}

/* ECMA-119 9.4: one path table, little-endian (L) or big-endian (M). */
static void put_path_table(uint8_t *p, const iso_layout *l, int big) {
  const iso_tree *t = &l->tree;
  for (size_t q = 0; q < t->n_dirs; q++) {
    const iso_dir *d = &t->dirs[t->order[q]];
    const char *id = q == 0 ? "\0" : d->id;
    size_t len = q == 0 ? 1 : strlen(d->id);
    p[0] = (uint8_t)len;
    (big ? core_put_be32 : core_put_le32)(p + 2, d->lba);
    (big ? core_put_be16 : core_put_le16)(p + 6, (uint16_t)t->dirs[d->parent].number);
    memcpy(p + 8, id, len);
    p += path_record_len(len);
  }
}

static void put_padded(uint8_t *p, const char *s, size_t width) {
  memset(p, ' ', width);
  memcpy(p, s, strlen(s));
}

static void put_vd_header(uint8_t *p, uint8_t type) {
  p[0] = type;
  memcpy(p + 1, "CD001", 5);
  p[6] = 1;
}

/* ECMA-119 8.4: the primary volume descriptor. */
static void put_pvd(uint8_t *p, const iso_layout *l, const core_iso_opts *o) {
  put_vd_header(p, 1);
  put_padded(p + 8, "", 32); /* system identifier */
  put_padded(p + 40, o->volume_id, 32);
  both32(p + 80, l->total);
  both16(p + 120, 1); /* volume set size */
  both16(p + 124, 1); /* volume sequence number */
  both16(p + 128, B);
  both32(p + 132, l->pt_size);
  core_put_le32(p + 140, l->pt_l);
  core_put_be32(p + 148, l->pt_m);
  const iso_dir *root = &l->tree.dirs[0];
  put_record(p + 156, root->lba, root->size, 1, "\0", 1, &l->when);
  /* volume set, publisher, preparer, application; copyright, abstract, bibliographic files */
  put_padded(p + 190, "", 128), put_padded(p + 318, "", 128), put_padded(p + 446, "", 128), put_padded(p + 574, "", 128);
  put_padded(p + 702, "", 37), put_padded(p + 739, "", 37), put_padded(p + 776, "", 37);
  put_vol_time(p + 813, &l->when); /* creation */
  put_vol_time(p + 830, &l->when); /* modification */
  put_vol_time(p + 847, NULL);     /* expiration: never */
  put_vol_time(p + 864, NULL);     /* effective: at once */
  p[881] = 1;                      /* file structure version */
}

/* El Torito 2.0: the boot record volume descriptor, always at sector 17. */
static void put_boot_record(uint8_t *p) {
  put_vd_header(p, 0);
  memcpy(p + 7, "EL TORITO SPECIFICATION", 23); /* the rest of the 32 bytes stay zero */
  core_put_le32(p + 71, CORE_ISO_CATALOG_LBA);
}

/* El Torito's 16-bit sector count of a no-emulation image, in 512-byte units. A larger image
 * gets 0: EDK2 (PartitionDxe/ElTorito.c) then spans the partition from the image to the end
 * of the volume, and xorriso writes the same; see spec/iso.md. */
static uint16_t efi_sector_count(uint64_t size) {
  uint64_t n = (size + 511) / 512;
  return n <= 0xFFFF ? (uint16_t)n : 0;
}

/* A bootable no-emulation entry (El Torito 2.2 and 2.4): load segment 0 means 0x7C0. */
static void put_boot_entry(uint8_t *p, uint16_t count, uint32_t lba) {
  p[0] = 0x88;
  core_put_le16(p + 6, count);
  core_put_le32(p + 8, lba);
}

/* El Torito 2.1-2.4: validation entry, default entry, and for the second platform a final
 * section header with its one entry. */
static void put_catalog(uint8_t *p, const iso_layout *l, const core_iso_file *files) {
  int bios = l->bios >= 0;
  p[0] = 1;
  p[1] = bios ? 0x00 : 0xEF; /* platform of the default entry: x86, else UEFI */
  p[30] = 0x55, p[31] = 0xAA;
  uint16_t sum = 0;
  for (int i = 0; i < 32; i += 2) sum = (uint16_t)(sum + (p[i] | p[i + 1] << 8));
  core_put_le16(p + 28, (uint16_t)-sum); /* the sixteen words then sum to zero */
  uint64_t efi_size = l->efi >= 0 ? files[l->efi].content->size : 0;
  if (!bios) {
    put_boot_entry(p + 32, efi_sector_count(efi_size), l->file_lba[l->efi]);
    return;
  }
  /* Four 512-byte sectors: what BIOSes reliably load; ISOLINUX loads the rest itself. */
  put_boot_entry(p + 32, 4, l->file_lba[l->bios]);
  if (l->efi < 0) return;
  p[64] = 0x91; /* final section header */
  p[65] = 0xEF;
  core_put_le16(p + 66, 1);
  put_boot_entry(p + 96, efi_sector_count(efi_size), l->file_lba[l->efi]);
}

/* Sectors 16-19: the volume descriptors and the boot catalog. */
static int add_descriptors(core_image *img, const iso_layout *l, const core_iso_file *files, const core_iso_opts *o, core_error **err) {
  uint8_t *p = calloc(4, B);
  if (p == NULL) return core_error_set(err, ENOMEM, "allocating the ISO descriptors");
  put_pvd(p, l, o);
  int boots = l->bios >= 0 || l->efi >= 0;
  if (boots) {
    put_boot_record(p + B);
    put_catalog(p + 3 * B, l, files);
  }
  put_vd_header(p + (boots ? 2 : 1) * B, 255); /* terminator */
  return core_image_add_owned(img, (uint64_t)CORE_ISO_PVD_LBA * B, p, 4 * B, err);
}

/* Path tables and directories, one buffer from meta_lba to data_lba. */
static int add_metadata(core_image *img, const iso_layout *l, const core_iso_file *files, core_error **err) {
  uint64_t len = (uint64_t)(l->data_lba - l->meta_lba) * B;
  uint8_t *p = calloc(1, len);
  if (p == NULL) return core_error_set(err, ENOMEM, "allocating %llu bytes of ISO directories", (unsigned long long)len);
  put_path_table(p + (uint64_t)(l->pt_l - l->meta_lba) * B, l, 0);
  put_path_table(p + (uint64_t)(l->pt_m - l->meta_lba) * B, l, 1);
  for (size_t d = 0; d < l->tree.n_dirs; d++) put_dir(p + (uint64_t)(l->tree.dirs[d].lba - l->meta_lba) * B, l, d, files);
  return core_image_add_owned(img, (uint64_t)l->meta_lba * B, p, len, err);
}

/* The boot info table of mkisofs' -boot-info-table, which ISOLINUX reads to find itself:
 * bytes 8-63 of the file hold the PVD's LBA, the file's LBA, its length and the sum of its
 * 32-bit little-endian words from byte 64 on (a short last word counts as zero-padded). */
static void patch_boot_info(uint8_t *f, uint32_t size, uint32_t lba) {
  uint32_t sum = 0;
  for (uint32_t i = 64; i < size; i += 4) {
    uint8_t w[4] = {0};
    memcpy(w, f + i, size - i < 4 ? size - i : 4);
    sum += (uint32_t)w[0] | (uint32_t)w[1] << 8 | (uint32_t)w[2] << 16 | (uint32_t)w[3] << 24;
  }
  memset(f + 8, 0, 56);
  core_put_le32(f + 8, CORE_ISO_PVD_LBA);
  core_put_le32(f + 12, lba);
  core_put_le32(f + 16, size);
  core_put_le32(f + 20, sum);
}

/* The BIOS boot file is copied, patched, and its content image emptied like the others'. */
static int add_bios_boot(core_image *img, const iso_layout *l, const core_iso_file *f, core_error **err) {
  core_image *c = f->content;
  uint32_t size = (uint32_t)c->size;
  cleanup_free uint8_t *buf = malloc(size);
  if (buf == NULL) return core_error_set(err, ENOMEM, "allocating the BIOS boot file '%s'", f->path);
  if (core_image_read(c, 0, buf, size, err) < 0) return core_error_wrap(err, "reading the BIOS boot file '%s'", f->path);
  patch_boot_info(buf, size, l->file_lba[l->bios]);
  if (core_image_add_owned(img, (uint64_t)l->file_lba[l->bios] * B, TAKE_PTR(buf), size, err) < 0) return -1;
  core_image_release(c); /* its descriptor is no longer needed for this file */
  return 0;
}

static int add_files(core_image *img, const iso_layout *l, const core_iso_file *files, size_t n, core_error **err) {
  /* The BIOS boot file first: reading it can fail, and nothing has been moved yet. */
  if (l->bios >= 0 && add_bios_boot(img, l, &files[l->bios], err) < 0) return -1;
  for (size_t i = 0; i < n; i++) {
    if ((long)i == l->bios) continue;
    if (core_image_embed(img, (uint64_t)l->file_lba[i] * B, files[i].content, err) < 0) return -1;
    core_image_release(files[i].content); /* frees nothing: embed took all; size becomes 0 */
  }
  return 0;
}

int core_iso_build(const core_iso_file *files, size_t n, const core_iso_opts *o, core_image *out,
                   uint64_t *file_offsets, uint64_t *reserved_offset, core_error **err) {
  if (out->n != 0 || out->n_owned != 0) return core_error_set(err, 0, "the ISO's output image must start empty");
  __attribute__((cleanup(layout_release))) iso_layout l = {0};
  if (check_input(&l, files, n, o, err) < 0 || assign_sectors(&l, files, n, o, err) < 0) return -1;
  /* Every check is done: only reading the BIOS boot file or allocation can fail from here,
   * and the callers' contents are moved last. */
  cleanup_image core_image img = CORE_IMAGE_INIT;
  img.size = (uint64_t)l.total * B;
  if (add_descriptors(&img, &l, files, o, err) < 0 || add_metadata(&img, &l, files, err) < 0) return -1;
  if (core_image_add_zero(&img, (uint64_t)CORE_ISO_RESERVED_LBA * B, o->reserved_size, err) < 0) return -1;
  if (add_files(&img, &l, files, n, err) < 0 || core_image_finish(&img, err) < 0) return -1;
  for (size_t i = 0; file_offsets != NULL && i < n; i++) file_offsets[i] = (uint64_t)l.file_lba[i] * B;
  if (reserved_offset != NULL) *reserved_offset = (uint64_t)CORE_ISO_RESERVED_LBA * B;
  *out = img;
  img = (core_image)CORE_IMAGE_INIT;
  return 0;
}
