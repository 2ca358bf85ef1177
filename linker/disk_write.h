/* Writing a linked app as a disk form (raw, qcow2, ISO): lay it out, write it with the
 * metadata region empty, hash the file, sign a manifest that names that digest and where the
 * kernel and initramfs are, and put the signed metadata into the region. */
#ifndef CORE_DISK_WRITE_H
#define CORE_DISK_WRITE_H

#include <stdint.h>

#include "disk_form.h"
#include "keys.h"
#include "link.h"

typedef struct core_disk_opts {
  core_form form;
  uint64_t disk_size;      /* raw/qcow2; 0 = what the content needs */
  int64_t mtime;           /* SOURCE_DATE_EPOCH of the plan */
} core_disk_opts;

/* Where corec takes the boot code from, and the variables that move it (spec/formats.md). */
#define CORE_EFI_STUB_DEFAULT "/usr/lib/systemd/boot/efi/linuxx64.efi.stub"
#define CORE_ISOLINUX_BIN_DEFAULT "/usr/lib/ISOLINUX/isolinux.bin"
#define CORE_LDLINUX_C32_DEFAULT "/usr/lib/syslinux/modules/bios/ldlinux.c32"

/* Signs once per key, in order, as core_seal does. */
int core_disk_write(core_linked_app *app, EVP_PKEY *const *keys, size_t n_keys, const core_disk_opts *o, const char *out_path,
                    core_error **err);

#endif
