/* corerun's half of the disk forms (raw, qcow2, ISO): find the signed metadata without
 * trusting the file, then, once the manifest is verified, prove every other byte of the file
 * against the signed digest and take the kernel and initramfs from the signed offsets. */
#ifndef CORE_DISK_VERIFY_H
#define CORE_DISK_VERIFY_H

#include <jansson.h>
#include <stdint.h>

#include "disk_form.h"
#include "error.h"
#include "tim_read.h"

typedef struct core_disk_meta {
  core_form form;
  uint64_t file_size;
  uint64_t meta_offset; /* where the metadata tar starts in the file */
  uint64_t tar_len;     /* its length, up to its end-of-archive marker */
} core_disk_meta;

/* Reads the metadata tar of a FORM file (not a TIM) into *tim: nothing in it is trusted yet. */
int core_disk_read_meta(const char *path, int fd, core_form form, core_tim **tim, core_disk_meta *meta, core_error **err);

/* With MANIFEST verified: the file must be exactly what it describes (its digest with the
 * metadata region read as zeros, its size, the region's place, nothing but zeros after the tar
 * in the region); then the layers with a file offset are read into sealed memfds, checked
 * against their descriptors, and added to TIM. */
int core_disk_check(const char *path, int fd, const json_t *manifest, const core_disk_meta *meta, core_tim *tim,
                    core_error **err);

#endif
