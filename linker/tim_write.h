/* Writes a TIM: an OCI image layout as a deterministic, uncompressed POSIX (ustar) tar. */
#ifndef CORE_TIM_WRITE_H
#define CORE_TIM_WRITE_H

#include <stddef.h>

#include "buf.h"
#include "digest.h"
#include "error.h"

/* A blob's bytes are in memory (data; fd is -1) or, for the big ones, in a file the set owns
 * (fd, read with pread from offset 0; data is empty): the initramfs is never in memory. */
typedef struct core_blob {
  core_digest digest;
  core_buf data;
  int fd;
  uint64_t size; /* either way */
} core_blob;

typedef struct core_blob_set {
  core_blob *blobs;
  size_t n;
} core_blob_set;

/* Adds bytes as a blob and returns its digest; a blob that is already there is not added
 * twice. data is taken on success and on failure alike. */
int core_blob_set_add(core_blob_set *set, core_buf *data, core_digest *digest, core_error **err);
/* Adds the size bytes at the start of fd as a blob whose digest the caller computed while
 * writing them (the initramfs writer does). fd is taken, on success and on failure alike. */
int core_blob_set_add_fd(core_blob_set *set, int fd, uint64_t size, const core_digest *digest, core_error **err);
void core_blob_set_release(core_blob_set *set);
/* A blob's bytes, whole, appended to *out: for the small ones a caller needs (JSON). */
int core_blob_read(const core_blob *b, core_buf *out, core_error **err);
/* Copies a blob's bytes to fd at its current position, wherever they are. */
int core_blob_copy(const core_blob *b, int fd, core_error **err);
#define cleanup_blob_set __attribute__((cleanup(core_blob_set_release)))

/* Writes oci-layout, index.json and every blob (sorted by digest) to path, atomically. */
/* The same tar, written from the current position of FD (the signed metadata of disk forms). */
int core_tim_write_fd(int fd, const core_buf *index_json, const core_blob_set *blobs, core_error **err);
int core_tim_write(const char *path, const core_buf *index_json, const core_blob_set *blobs, core_error **err);

#endif
