/* The artifact forms (spec/formats.md): the TIM, and the raw disk, qcow2 disk and ISO that
 * carry the same signed layout in a region of their own. What writer and reader must agree
 * on is here: the names, where the signed metadata sits, and the manifest's annotations. */
#ifndef CORE_DISK_FORM_H
#define CORE_DISK_FORM_H

#include <stdint.h>

#include "error.h"

typedef enum core_form { CORE_FORM_TIM, CORE_FORM_RAW, CORE_FORM_QCOW2, CORE_FORM_ISO } core_form;

#define CORE_FORM_LIST "tim (.tim), raw (.img, .raw), qcow2 (.qcow2), iso (.iso)"

/* "tim", "raw", "qcow2", "iso" */
const char *core_form_name(core_form form);
/* By name (--format): tim, raw (or img), qcow2, iso. */
int core_form_parse(const char *name, core_form *out, core_error **err);
/* By the output file's extension; an unknown one is an error listing the forms. */
int core_form_from_path(const char *path, core_form *out, core_error **err);
/* What an existing file is, by its magic numbers (qcow2 header, ISO 9660 volume descriptor,
 * GPT header); anything else is taken for a TIM, whose reader has the last word. */
int core_form_detect(int fd, core_form *out, core_error **err);

/* Where the signed metadata (a TIM-layout tar without the kernel and initramfs) starts: in the
 * disk's view for raw and qcow2 (the first partition, at 1 MiB), in the file for an ISO (the
 * sectors right after the volume descriptors and the boot catalog). */
#define CORE_DISK_META_OFFSET (1u << 20)
#define CORE_ISO_META_LBA 20u
#define CORE_ISO_META_OFFSET ((uint64_t)CORE_ISO_META_LBA * 2048u)
/* The most corerun reads while looking for the metadata, before anything is verified. */
#define CORE_DISK_META_MAX (64u << 20)

/* Annotations of a disk form's app manifest, all signed with it. A raw disk and its qcow2
 * are one artifact: one manifest gives the digests of both files, so both hold the same
 * metadata and `qemu-img compare` finds them identical. */
#define CORE_ANN_IMAGE_FORMAT "dev.core.image.format"     /* "disk" (raw and qcow2) or "iso" */
#define CORE_FORMAT_DISK "disk"
#define CORE_FORMAT_ISO "iso"
/* "dev.core.image.<raw|qcow2|iso>.digest": of the whole file, the metadata region as zeros;
 * "....size": the file's length, decimal. */
#define CORE_ANN_IMAGE_PREFIX "dev.core.image."
#define CORE_ANN_META_OFFSET "dev.core.image.meta.offset" /* the region's offset in the disk (ISO: file), decimal */
#define CORE_ANN_META_SIZE "dev.core.image.meta.size"   /* its length, decimal */
/* On the kernel and initramfs descriptors: where their bytes are in the disk as a guest sees
 * it (the raw file; in a qcow2, through its tables) or in the ISO, decimal. */
#define CORE_ANN_BLOB_OFFSET "dev.core.image.offset"

#endif
