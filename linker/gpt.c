/* The GPT writer (see gpt.h). Everything but the two headers, the two entry arrays and the
 * protective MBR is the partitions' own extents, so a disk image stays sparse. */
#include "gpt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "byteorder.h"
#include "cleanup.h"

#define SECTOR 512
#define ENTRY_SIZE 128
#define ENTRIES_BYTES (CORE_GPT_MAX_PARTITIONS * ENTRY_SIZE) /* 16 KiB: 32 sectors */
#define HEADER_SIZE 92

static bool all_zero(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i]) return false;
  return true;
}

static int check_partition(const core_gpt_partition *p, size_t i, uint64_t last_usable, core_error **err) {
  const char *name = p->name ? p->name : "";
  size_t len = strlen(name);
  if (len > CORE_GPT_NAME_MAX)
    return core_error_set(err, 0, "GPT partition %zu ('%s'): the name is longer than %d characters", i + 1, name, CORE_GPT_NAME_MAX);
  for (size_t k = 0; k < len; k++)
    if (name[k] < 0x20 || name[k] > 0x7E)
      return core_error_set(err, 0, "GPT partition %zu ('%s'): the name is not printable ASCII", i + 1, name);
  if (all_zero(p->type_guid, 16))
    return core_error_set(err, 0, "GPT partition %zu ('%s') has the all-zero type GUID, which marks an unused entry", i + 1, name);
  if (p->n_lba == 0) return core_error_set(err, 0, "GPT partition %zu ('%s') has no sectors", i + 1, name);
  if (p->first_lba < CORE_GPT_FIRST_USABLE || p->first_lba > last_usable || p->n_lba - 1 > last_usable - p->first_lba)
    return core_error_set(err, 0, "GPT partition %zu ('%s') at LBA %llu..%llu lies outside the usable LBAs %d..%llu", i + 1, name,
                          (unsigned long long)p->first_lba, (unsigned long long)(p->first_lba + p->n_lba - 1),
                          CORE_GPT_FIRST_USABLE, (unsigned long long)last_usable);
  if (p->content && p->content->size > p->n_lba * SECTOR)
    return core_error_set(err, 0, "GPT partition %zu ('%s'): its content of %llu bytes is larger than its %llu sectors", i + 1,
                          name, (unsigned long long)p->content->size, (unsigned long long)p->n_lba);
  return 0;
}

static int check_partitions(const core_gpt_partition *parts, size_t n, uint64_t last_usable, core_error **err) {
  if (n > CORE_GPT_MAX_PARTITIONS) return core_error_set(err, 0, "%zu GPT partitions: at most %d fit the entry array", n, CORE_GPT_MAX_PARTITIONS);
  for (size_t i = 0; i < n; i++) {
    if (check_partition(&parts[i], i, last_usable, err) < 0) return -1;
    for (size_t j = 0; j < i; j++) {
      const core_gpt_partition *a = &parts[j], *b = &parts[i];
      if (a->first_lba < b->first_lba + b->n_lba && b->first_lba < a->first_lba + a->n_lba)
        return core_error_set(err, 0, "GPT partitions %zu ('%s') and %zu ('%s') overlap", j + 1, a->name ? a->name : "", i + 1,
                              b->name ? b->name : "");
    }
  }
  return 0;
}

/* The entry array: partitions in the order given, the rest of the 128 entries zero (unused). */
static int entries(uint8_t *buf, const core_gpt_partition *parts, size_t n, const core_digest *seed, core_error **err) {
  for (size_t i = 0; i < n; i++) {
    uint8_t *e = buf + i * ENTRY_SIZE;
    char label[32];
    snprintf(label, sizeof label, "partition %zu", i + 1);
    memcpy(e, parts[i].type_guid, 16);
    if (core_guid_derive(seed, label, e + 16, err) < 0) return -1;
    core_put_le64(e + 32, parts[i].first_lba);
    core_put_le64(e + 40, parts[i].first_lba + parts[i].n_lba - 1); /* inclusive */
    core_put_le64(e + 48, parts[i].attributes);
    for (const char *c = parts[i].name ? parts[i].name : ""; *c; c++) core_put_le16(e + 56 + 2 * (c - parts[i].name), (uint8_t)*c);
  }
  return 0;
}

static void header(uint8_t *h, uint64_t my_lba, uint64_t alt_lba, uint64_t last_usable, const uint8_t disk_guid[16],
                   uint64_t entries_lba, uint32_t entries_crc) {
  memcpy(h, "EFI PART", 8);
  core_put_le32(h + 8, 0x00010000); /* revision 1.0 */
  core_put_le32(h + 12, HEADER_SIZE);
  core_put_le64(h + 24, my_lba);
  core_put_le64(h + 32, alt_lba);
  core_put_le64(h + 40, CORE_GPT_FIRST_USABLE);
  core_put_le64(h + 48, last_usable);
  memcpy(h + 56, disk_guid, 16);
  core_put_le64(h + 72, entries_lba);
  core_put_le32(h + 80, CORE_GPT_MAX_PARTITIONS);
  core_put_le32(h + 84, ENTRY_SIZE);
  core_put_le32(h + 88, entries_crc);
  core_put_le32(h + 16, (uint32_t)crc32(0, h, HEADER_SIZE)); /* over the header with this field zero */
}

/* One 0xEE partition from LBA 1 over the whole disk (capped, as the UEFI specification says),
 * so tools that know only MBR see the disk as in use. */
static void protective_mbr(uint8_t *m, uint64_t lbas) {
  uint8_t *p = m + 446;
  p[1] = 0x00; /* starting CHS 0/0/2: LBA 1 */
  p[2] = 0x02;
  p[3] = 0x00;
  p[4] = 0xEE;
  p[5] = p[6] = p[7] = 0xFF; /* ending CHS: beyond what CHS can say */
  core_put_le32(p + 8, 1);
  core_put_le32(p + 12, lbas - 1 > 0xFFFFFFFF ? 0xFFFFFFFF : (uint32_t)(lbas - 1));
  m[510] = 0x55;
  m[511] = 0xAA;
}

/* Emits the first BYTES of BUF, rounded up to whole sectors, at OFFSET. */
static int add_used(core_image *img, uint64_t offset, const uint8_t *buf, size_t bytes, core_error **err) {
  bytes = (bytes + SECTOR - 1) / SECTOR * SECTOR;
  return core_image_add_copy(img, offset, buf, bytes, err);
}

int core_gpt_build(uint64_t disk_size, const core_gpt_partition *parts, size_t n, const core_digest *seed,
                   core_image *out, core_error **err) {
  uint64_t lbas = disk_size / SECTOR;
  if (seed == NULL) return core_error_set(err, 0, "a GPT disk needs a seed for its GUIDs");
  if (disk_size % SECTOR != 0) return core_error_set(err, 0, "disk size %llu is not a multiple of 512", (unsigned long long)disk_size);
  if (lbas < CORE_GPT_FIRST_USABLE + CORE_GPT_BACKUP_SECTORS + 1)
    return core_error_set(err, 0, "a disk of %llu bytes is too small for GPT: it needs at least %d sectors",
                          (unsigned long long)disk_size, CORE_GPT_FIRST_USABLE + CORE_GPT_BACKUP_SECTORS + 1);
  uint64_t last = lbas - 1, last_usable = last - CORE_GPT_BACKUP_SECTORS;
  if (check_partitions(parts, n, last_usable, err) < 0) return -1;

  cleanup_free uint8_t *array = calloc(1, ENTRIES_BYTES);
  if (array == NULL) return core_error_set(err, ENOMEM, "allocating the GPT entries");
  uint8_t disk_guid[16], mbr[SECTOR] = {0}, primary[SECTOR] = {0}, backup[SECTOR] = {0};
  if (entries(array, parts, n, seed, err) < 0 || core_guid_derive(seed, "disk", disk_guid, err) < 0) return -1;
  uint32_t crc = (uint32_t)crc32(0, array, ENTRIES_BYTES);
  protective_mbr(mbr, lbas);
  header(primary, 1, last, last_usable, disk_guid, 2, crc);
  header(backup, last, 1, last_usable, disk_guid, last - 32, crc);

  cleanup_image core_image img = CORE_IMAGE_INIT;
  img.size = disk_size;
  /* Unused entries are zero: only the sectors holding partitions are written. */
  if (core_image_add_copy(&img, 0, mbr, SECTOR, err) < 0 || core_image_add_copy(&img, SECTOR, primary, SECTOR, err) < 0 ||
      add_used(&img, 2 * SECTOR, array, n * ENTRY_SIZE, err) < 0 ||
      add_used(&img, (last - 32) * SECTOR, array, n * ENTRY_SIZE, err) < 0 ||
      core_image_add_copy(&img, last * SECTOR, backup, SECTOR, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (parts[i].content && core_image_embed(&img, parts[i].first_lba * SECTOR, parts[i].content, err) < 0) return -1;
  if (core_image_finish(&img, err) < 0) return core_error_wrap(err, "building the GPT disk");
  core_image_release(out);
  *out = img;
  img = (core_image)CORE_IMAGE_INIT;
  return 0;
}
