/* Writes a TIM: an OCI image layout as a deterministic, uncompressed POSIX (ustar) tar. */
#ifndef CORE_TIM_WRITE_H
#define CORE_TIM_WRITE_H

#include <stddef.h>

#include "buf.h"
#include "digest.h"
#include "error.h"

typedef struct core_blob {
  core_digest digest;
  core_buf data;
} core_blob;

typedef struct core_blob_set {
  core_blob *blobs;
  size_t n;
} core_blob_set;

/* Adds bytes as a blob and returns its digest; a blob that is already there is not added
 * twice. data is taken on success and on failure alike. */
int core_blob_set_add(core_blob_set *set, core_buf *data, core_digest *digest, core_error **err);
void core_blob_set_release(core_blob_set *set);
#define cleanup_blob_set __attribute__((cleanup(core_blob_set_release)))

/* Writes oci-layout, index.json and every blob (sorted by digest) to path, atomically. */
/* The same tar, written from the current position of FD (the signed metadata of disk forms). */
int core_tim_write_fd(int fd, const core_buf *index_json, const core_blob_set *blobs, core_error **err);
int core_tim_write(const char *path, const core_buf *index_json, const core_blob_set *blobs, core_error **err);

#endif
