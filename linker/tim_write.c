/* The TIM writer: entries in a fixed order with the canonical headers of lib/tim_format.c, so
 * equal content gives an equal file, byte for byte. */
#include "tim_write.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fsutil.h"
#include "oci.h"
#include "tim_format.h"

int core_blob_set_add(core_blob_set *set, core_buf *data, core_digest *digest, core_error **err) {
  core_digest d;
  if (core_digest_bytes(data->data, data->len, &d, err) < 0) {
    core_buf_release(data);
    return -1;
  }
  if (digest) *digest = d;
  for (size_t i = 0; i < set->n; i++)
    if (strcmp(set->blobs[i].digest.str, d.str) == 0) {
      core_buf_release(data);
      return 0;
    }
  core_blob *grown = realloc(set->blobs, (set->n + 1) * sizeof *grown);
  if (grown == NULL) {
    core_buf_release(data);
    return core_error_set(err, ENOMEM, "allocating");
  }
  set->blobs = grown;
  set->blobs[set->n].digest = d;
  set->blobs[set->n].data = *data;
  *data = (core_buf)CORE_BUF_INIT;
  set->n++;
  return 0;
}

void core_blob_set_release(core_blob_set *set) {
  for (size_t i = 0; i < set->n; i++) core_buf_release(&set->blobs[i].data);
  free(set->blobs);
  set->blobs = NULL;
  set->n = 0;
}

/* One entry: its canonical header, its data, zeros up to the next block. */
static int put(int fd, const char *name, core_tar_type type, const void *data, size_t len, core_error **err) {
  uint8_t hdr[CORE_TAR_BLOCK];
  static const uint8_t zeros[CORE_TAR_BLOCK];
  if (core_tar_header(hdr, name, type, len, err) < 0 || core_write_all(fd, hdr, sizeof hdr, err) < 0 ||
      (len && core_write_all(fd, data, len, err) < 0) || core_write_all(fd, zeros, core_tar_padding(len), err) < 0)
    return core_error_wrap(err, "writing '%s'", name);
  return 0;
}

static int by_digest(const void *a, const void *b) {
  return strcmp((*(const core_blob *const *)a)->digest.str, (*(const core_blob *const *)b)->digest.str);
}

int core_tim_write(const char *path, const core_buf *index_json, const core_blob_set *blobs, core_error **err) {
  cleanup_atomic_file core_atomic_file f = {.fd = -1};
  if (core_atomic_open(&f, path, 0644, err) < 0) return -1;
  if (core_tim_write_fd(f.fd, index_json, blobs, err) < 0) return core_error_wrap(err, "'%s'", path);
  return core_atomic_commit(&f, err);
}

int core_tim_write_fd(int fd, const core_buf *index_json, const core_blob_set *blobs, core_error **err) {
  cleanup_free const core_blob **sorted = calloc(blobs->n + 1, sizeof *sorted);
  if (sorted == NULL) return core_error_set(err, ENOMEM, "allocating");
  for (size_t i = 0; i < blobs->n; i++) sorted[i] = &blobs->blobs[i];
  qsort(sorted, blobs->n, sizeof *sorted, by_digest);
  if (put(fd, CORE_TIM_LAYOUT_NAME, CORE_TAR_FILE, OCI_LAYOUT_FILE, strlen(OCI_LAYOUT_FILE), err) < 0 ||
      put(fd, CORE_TIM_INDEX_NAME, CORE_TAR_FILE, index_json->data, index_json->len, err) < 0 ||
      put(fd, CORE_TIM_BLOBS_DIR, CORE_TAR_DIR, NULL, 0, err) < 0 ||
      put(fd, CORE_TIM_SHA256_DIR, CORE_TAR_DIR, NULL, 0, err) < 0)
    return -1;
  for (size_t i = 0; i < blobs->n; i++) {
    char name[sizeof CORE_TIM_SHA256_DIR + 64];
    snprintf(name, sizeof name, CORE_TIM_SHA256_DIR "%s", core_digest_hex(&sorted[i]->digest));
    if (put(fd, name, CORE_TAR_FILE, sorted[i]->data.data, sorted[i]->data.len, err) < 0) return -1;
  }
  /* The end-of-archive marker, and nothing after it: no padding to a 10 KiB record. */
  static const uint8_t end[2 * CORE_TAR_BLOCK];
  if (core_write_all(fd, end, sizeof end, err) < 0) return core_error_wrap(err, "finishing the tar");
  return 0;
}
