/* An image (a disk, a file system, a file inside one) as a sorted list of extents: the
 * ranges that hold bytes. Everything outside an extent is zero and is never written, so raw
 * output keeps it a hole and qcow2 leaves its clusters unallocated. Writers of formats
 * (GPT, FAT, ISO 9660, qcow2) build or consume these, so a kernel or initramfs is copied
 * once, from its file, straight into the output. */
#ifndef CORE_DISK_IMAGE_H
#define CORE_DISK_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef enum core_extent_kind {
  CORE_EXTENT_MEM,  /* bytes in memory the image owns */
  CORE_EXTENT_FD,   /* bytes read from a file descriptor the caller keeps open */
  CORE_EXTENT_ZERO, /* zeros that must still be allocated (a region filled in later) */
} core_extent_kind;

typedef struct core_extent {
  uint64_t offset; /* in the image */
  uint64_t length; /* > 0 */
  core_extent_kind kind;
  const uint8_t *data; /* MEM: a buffer the image owns, or one the caller keeps (add_ref) */
  int fd;              /* FD */
  uint64_t fd_offset;  /* FD */
} core_extent;

typedef struct core_image {
  uint64_t size; /* the image's length in bytes */
  core_extent *v;
  size_t n, cap;
  void **owned; /* buffers the MEM extents point into */
  size_t n_owned, cap_owned;
} core_image;

#define CORE_IMAGE_INIT {0, NULL, 0, 0, NULL, 0, 0}

/* Copies LEN bytes into the image at OFFSET. */
int core_image_add_copy(core_image *img, uint64_t offset, const void *data, uint64_t len, core_error **err);
/* Takes ownership of DATA (malloc'd; freed with the image, also on error). */
int core_image_add_owned(core_image *img, uint64_t offset, void *data, uint64_t len, core_error **err);
/* Points at DATA without copying it: DATA must outlive the image (a blob the caller holds). */
int core_image_add_ref(core_image *img, uint64_t offset, const void *data, uint64_t len, core_error **err);
/* Bytes [FD_OFFSET, FD_OFFSET+LEN) of FD; FD must stay open while the image is used. */
int core_image_add_fd(core_image *img, uint64_t offset, int fd, uint64_t fd_offset, uint64_t len, core_error **err);
int core_image_add_zero(core_image *img, uint64_t offset, uint64_t len, core_error **err);
/* Moves every extent (and the buffers they use) of SRC into IMG, shifted by OFFSET; SRC is
 * left empty. Used to place a file system inside a partition, or a file inside an ISO. */
int core_image_embed(core_image *img, uint64_t offset, core_image *src, core_error **err);
/* Sorts the extents and checks that none overlap and all lie inside [0, size). Writers call it;
 * it may be called more than once. */
int core_image_finish(core_image *img, core_error **err);
/* Copies bytes [offset, offset+len) of the image into BUF (zeros where no extent is). The
 * image must be finished. */
int core_image_read(const core_image *img, uint64_t offset, void *buf, size_t len, core_error **err);
void core_image_release(core_image *img);
#define cleanup_image __attribute__((cleanup(core_image_release)))

/* Writes the image as a raw file: ftruncate to its size, then each extent with pwrite; what no
 * extent covers stays a hole. FD must be an empty regular file. */
int core_image_write_raw(const core_image *img, int fd, core_error **err);

#endif
