/* A GUID Partition Table writer (UEFI specification, chapter 5): protective MBR, primary and
 * backup headers and entry arrays, partitions whose contents are moved in as extents. GUIDs
 * are derived from a seed, so the same input gives the same disk. Layout: spec/gpt-fat.md. */
#ifndef CORE_GPT_H
#define CORE_GPT_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "disk_image.h"
#include "error.h"
#include "guid.h"

#define CORE_GPT_MAX_PARTITIONS 128
#define CORE_GPT_NAME_MAX 36
#define CORE_GPT_FIRST_USABLE 34 /* protective MBR, header, 32 sectors of entries */
#define CORE_GPT_BACKUP_SECTORS 33 /* backup entries and header at the end of the disk */

typedef struct core_gpt_partition {
  uint8_t type_guid[16]; /* on-disk (mixed-endian) byte order: see core_guid_parse */
  const char *name;      /* printable ASCII, up to 36 characters, stored as UTF-16LE; NULL = "" */
  uint64_t first_lba, n_lba;
  uint64_t attributes;
  core_image *content; /* may be NULL; its extents are MOVED to first_lba * 512 on success
                          (on failure they may have been moved already) */
} core_gpt_partition;

/* Builds a disk of DISK_SIZE bytes (a multiple of 512, at least 68 sectors) into OUT, which
 * must be empty (CORE_IMAGE_INIT). The disk GUID and each partition's unique GUID come from
 * SEED (core_guid_derive with "disk" and "partition N", N counted from 1). Refuses partitions
 * that are zero-sized, outside the usable LBAs, overlapping, more than 128, an all-zero type,
 * names too long or not printable ASCII, and content larger than its partition. */
int core_gpt_build(uint64_t disk_size, const core_gpt_partition *parts, size_t n, const core_digest *seed,
                   core_image *out, core_error **err);

#endif
