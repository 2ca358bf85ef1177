/* A unified kernel image (UKI): systemd's EFI stub with the kernel, the initramfs and the
 * command line added as PE sections (.linux, .initrd, .cmdline, .osrel), so the firmware boots
 * the app from one file, EFI/BOOT/BOOTX64.EFI, with no boot loader configuration at all. */
#ifndef CORE_UKI_H
#define CORE_UKI_H

#include <stdint.h>

#include "disk_image.h"
#include "error.h"

typedef struct core_uki_input {
  const uint8_t *stub; /* linuxx64.efi.stub, as systemd-boot-efi ships it */
  uint64_t stub_size;
  const char *stub_name; /* for messages */
  const char *cmdline; /* copied */
  const char *osrel;   /* os-release text naming the app; copied */
  const uint8_t *kernel; /* kept by the caller while the image is used */
  uint64_t kernel_size;
  const uint8_t *initrd; /* or NULL: initrd_size bytes from the start of initrd_fd */
  uint64_t initrd_size;
  int initrd_fd;         /* when initrd is NULL; kept open by the caller while the image is used */
} core_uki_input;

/* Builds the UKI into OUT (size set, extents referring to kernel and initrd). *kernel_at and
 * *initrd_at get the byte offsets of their sections' data in the UKI file. */
int core_uki_build(const core_uki_input *in, core_image *out, uint64_t *kernel_at, uint64_t *initrd_at, core_error **err);

#endif
