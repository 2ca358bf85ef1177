/* A FAT12/16/32 file-system writer for EFI system partitions and El Torito images: every file
 * contiguous, its bytes placed as extents of a core_image, so a kernel is never copied into
 * memory. 8.3 names where they fit, VFAT long names where not (systemd-boot's "loader.conf").
 * Layout and refusals: spec/gpt-fat.md. */
#ifndef CORE_FAT_H
#define CORE_FAT_H

#include <stddef.h>
#include <stdint.h>

#include "disk_image.h"
#include "error.h"

typedef struct core_fat_file {
  /* "EFI/BOOT/BOOTX64.EFI", "loader/entries/core.conf": components separated by '/', compared
   * case-insensitively. A component that is an 8.3 name is stored as one, upper case, with the
   * NT lower-case flags when a part is written all lower case; any other (longer, mixed case,
   * several dots) gets VFAT long-name entries and a generated 8.3 alias. Printable ASCII only.
   * Parent directories are implied. */
  const char *path;
  /* The file's bytes (size = content->size, at most 4 GiB - 1). Its extents are MOVED into the
   * result on success; on failure they may have been moved already, so treat it as spent. */
  core_image *content;
} core_fat_file;

typedef struct core_fat_opts {
  uint64_t size;           /* bytes, a multiple of 512; 0 = the smallest that fits */
  int fat_bits;            /* 0 = by cluster count as the FAT specification defines it, or 12, 16, 32 */
  const char *label;       /* volume label, up to 11 characters; NULL or "" = none ("NO NAME") */
  uint32_t serial;         /* volume serial number */
  int64_t mtime;           /* every timestamp, UTC, clamped into 1980-01-01 .. 2107-12-31 */
  uint32_t hidden_sectors; /* BPB_HiddSec: sectors before the file system on its disk (0 is fine for UEFI) */
} core_fat_opts;

/* Builds the file system into OUT, which must be empty (CORE_IMAGE_INIT). DATA_OFFSETS (may be
 * NULL) receives, for each file, the byte offset of its first byte in the file system (0 for an
 * empty file, which has no cluster). Files are stored in the order given, after the
 * directories. Same input, same bytes. */
int core_fat_build(const core_fat_file *files, size_t n, const core_fat_opts *o, core_image *out,
                   uint64_t *data_offsets, core_error **err);

#endif
