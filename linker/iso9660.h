/* An ISO 9660 (ECMA-119, level 1) writer with El Torito boot entries, built as a core_image so
 * a kernel or initramfs goes from its file straight into the output. spec/iso.md gives the
 * layout sector by sector and says why libarchive's iso9660 writer is not used. */
#ifndef CORE_ISO9660_H
#define CORE_ISO9660_H

#include <stddef.h>
#include <stdint.h>

#include "disk_image.h"
#include "error.h"

#define CORE_ISO_BLOCK 2048u
/* Fixed sectors, whatever the files: a launcher finds the reserved region without parsing. */
#define CORE_ISO_PVD_LBA 16u
#define CORE_ISO_CATALOG_LBA 19u  /* the El Torito boot catalog (zero when nothing boots) */
#define CORE_ISO_RESERVED_LBA 20u /* the caller's reserved region */
/* A BIOS boot file is copied into memory to patch its boot info table; more is a mistake. */
#define CORE_ISO_BIOS_BOOT_MAX (4u << 20)

typedef struct core_iso_file {
  /* "ISOLINUX/ISOLINUX.BIN": '/'-separated level-1 names (A-Z 0-9 _; files 8.3, directories
   * up to 8 without a dot); parent directories are implied. */
  const char *path;
  /* The file's bytes (content->size of them). On success its extents are moved into the ISO
   * and it is left empty; FD extents keep needing their descriptors until the ISO is written. */
  core_image *content;
} core_iso_file;

typedef struct core_iso_opts {
  const char *volume_id;  /* 1 to 32 d-characters (A-Z 0-9 _) */
  int64_t mtime;          /* every timestamp, seconds since the epoch (UTC), years 1900-2155 */
  const char *bios_boot;  /* path of an x86 no-emulation boot file (isolinux.bin), 64 bytes to
                             CORE_ISO_BIOS_BOOT_MAX: copied into the ISO's memory with its boot
                             info table patched in. NULL: no BIOS entry */
  const char *efi_boot;   /* path of a FAT image for the UEFI (platform 0xEF) no-emulation entry,
                             any size (over 65535 * 512 bytes its sector count is 0, which EDK2
                             reads as "to the end of the volume"). NULL: none */
  uint64_t reserved_size; /* bytes reserved at CORE_ISO_RESERVED_LBA, allocated and zero */
} core_iso_opts;

/* Lays the files out and builds the ISO into *OUT (which must be empty; it is untouched on
 * failure). Same files and options, same bytes. FILE_OFFSETS (n entries) receives the byte
 * offset of each file's data in the ISO and *RESERVED_OFFSET that of the reserved region;
 * either may be NULL. Data lies in the order of FILES, each file contiguous. */
int core_iso_build(const core_iso_file *files, size_t n, const core_iso_opts *o, core_image *out,
                   uint64_t *file_offsets, uint64_t *reserved_offset, core_error **err);

#endif
