/* The content of the disk forms (spec/formats.md): a GPT disk whose first partition holds
 * the signed metadata and whose EFI system partition holds the UKI, and an ISO whose El Torito
 * entries boot ISOLINUX (BIOS) and the same UKI (UEFI). An encrypted app's disk holds the
 * kernel and the age file as plain files instead, with no boot path: only corerun runs it. Built as extent lists; nothing here
 * writes files or knows about signatures. */
#ifndef CORE_DISK_LAYOUT_H
#define CORE_DISK_LAYOUT_H

#include <stdint.h>

#include "buf.h"
#include "digest.h"
#include "disk_form.h"
#include "disk_image.h"
#include "error.h"

/* A kernel's or initramfs's bytes: in memory (data), or size bytes from the start of fd
 * (data NULL), read only as the image is written. */
typedef struct core_disk_bytes {
  const uint8_t *data;
  int fd;
  uint64_t size;
} core_disk_bytes;

/* What goes on the disk. The byte arrays and files are the caller's and must outlive the image. */
typedef struct core_disk_content {
  const char *name;        /* the app's name */
  const char *cmdline;     /* the whole kernel command line */
  core_disk_bytes kernel, initrd;
  const core_buf *efi_stub;    /* systemd's linuxx64.efi.stub */
  const core_buf *isolinux_bin, *ldlinux_c32; /* ISO only */
  const core_digest *seed; /* identifiers (GPT GUIDs, FAT serial) derive from it */
  int64_t mtime;           /* every timestamp */
  uint64_t meta_size;      /* bytes reserved for the signed metadata */
  uint64_t disk_size;      /* raw/qcow2: the disk's size; 0 = what the content needs */
  int encrypted;           /* initrd is an age file: stored as plain files for corerun, no boot path */
} core_disk_content;

typedef struct core_disk_layout {
  core_image image;       /* the disk (raw, qcow2) or the ISO file, as the guest sees it */
  uint64_t meta_at;       /* where the metadata region starts in the image */
  uint64_t kernel_at;     /* where the kernel's bytes are in the image (one contiguous copy) */
  uint64_t initrd_at;
} core_disk_layout;

int core_disk_layout_build(core_form form, const core_disk_content *c, core_disk_layout *out, core_error **err);
void core_disk_layout_release(core_disk_layout *l);
#define cleanup_disk_layout __attribute__((cleanup(core_disk_layout_release)))

#endif
