/* The TIM writer: entries in a fixed order with the canonical headers of lib/tim_format.c, so
 * equal content gives an equal file, byte for byte. */
#include "tim_write.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "oci.h"
#include "tim_format.h"

static void blob_release(core_blob *b) {
  core_buf_release(&b->data);
  if (b->fd >= 0) close(b->fd);
  b->fd = -1;
}

/* Takes b (its buffer or fd) into the set, unless a blob of that digest is there already. */
static int add(core_blob_set *set, core_blob *b, core_error **err) {
  for (size_t i = 0; i < set->n; i++)
    if (strcmp(set->blobs[i].digest.str, b->digest.str) == 0) {
      blob_release(b);
      return 0;
    }
  core_blob *grown = realloc(set->blobs, (set->n + 1) * sizeof *grown);
  if (grown == NULL) {
    blob_release(b);
    return core_error_set(err, ENOMEM, "allocating");
  }
  set->blobs = grown;
  set->blobs[set->n++] = *b;
  return 0;
}

int core_blob_set_add(core_blob_set *set, core_buf *data, core_digest *digest, core_error **err) {
  core_blob b = {.data = *data, .fd = -1, .size = data->len};
  *data = (core_buf)CORE_BUF_INIT;
  if (core_digest_bytes(b.data.data, b.data.len, &b.digest, err) < 0) {
    blob_release(&b);
    return -1;
  }
  if (digest) *digest = b.digest;
  return add(set, &b, err);
}

int core_blob_set_add_fd(core_blob_set *set, int fd, uint64_t size, const core_digest *digest, core_error **err) {
  core_blob b = {.digest = *digest, .data = CORE_BUF_INIT, .fd = fd, .size = size};
  return add(set, &b, err);
}

int core_blob_read(const core_blob *b, core_buf *out, core_error **err) {
  if (b->fd < 0) return core_buf_append(out, b->data.data, b->data.len, err);
  if (b->size > SIZE_MAX - 1) return core_error_set(err, EFBIG, "blob %s does not fit in memory", b->digest.str);
  if (core_buf_reserve(out, (size_t)b->size + 1, err) < 0 ||
      core_pread_exact(b->fd, out->data + out->len, (size_t)b->size, 0, b->digest.str, err) < 0)
    return -1;
  out->len += (size_t)b->size;
  return 0;
}

int core_blob_copy(const core_blob *b, int fd, core_error **err) {
  if (b->fd < 0) return b->size ? core_write_all(fd, b->data.data, b->data.len, err) : 0;
  /* In the kernel where it can (same file system), through a buffer where it cannot. */
  loff_t at = 0;
  while ((uint64_t)at < b->size) {
    ssize_t n = copy_file_range(b->fd, &at, fd, NULL, (size_t)(b->size - (uint64_t)at < (1u << 30) ? b->size - (uint64_t)at : (1u << 30)), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n > 0) continue;
    if (n == 0) return core_error_set(err, 0, "blob %s ends at byte %llu, before its %llu bytes", b->digest.str,
                                      (unsigned long long)at, (unsigned long long)b->size);
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP && errno != EBADF)
      return core_error_set(err, errno, "copying blob %s", b->digest.str);
    break;
  }
  enum { CHUNK = 1 << 20 };
  cleanup_free uint8_t *buf = NULL;
  while ((uint64_t)at < b->size) {
    size_t n = b->size - (uint64_t)at < CHUNK ? (size_t)(b->size - (uint64_t)at) : CHUNK;
    if (buf == NULL && (buf = malloc(CHUNK)) == NULL) return core_error_set(err, ENOMEM, "allocating");
    if (core_pread_exact(b->fd, buf, n, (uint64_t)at, b->digest.str, err) < 0 || core_write_all(fd, buf, n, err) < 0) return -1;
    at += (loff_t)n;
  }
  return 0;
}

void core_blob_set_release(core_blob_set *set) {
  for (size_t i = 0; i < set->n; i++) blob_release(&set->blobs[i]);
  free(set->blobs);
  set->blobs = NULL;
  set->n = 0;
}

/* One entry: its canonical header, its data (bytes, or a blob's), zeros up to the next block. */
static int put_entry(int fd, const char *name, core_tar_type type, const void *data, const core_blob *blob, uint64_t len,
                     core_error **err) {
  uint8_t hdr[CORE_TAR_BLOCK];
  static const uint8_t zeros[CORE_TAR_BLOCK];
  if (core_tar_header(hdr, name, type, len, err) < 0 || core_write_all(fd, hdr, sizeof hdr, err) < 0 ||
      (blob ? core_blob_copy(blob, fd, err) < 0 : len && core_write_all(fd, data, (size_t)len, err) < 0) ||
      core_write_all(fd, zeros, core_tar_padding(len), err) < 0)
    return core_error_wrap(err, "writing '%s'", name);
  return 0;
}

static int put(int fd, const char *name, core_tar_type type, const void *data, size_t len, core_error **err) {
  return put_entry(fd, name, type, data, NULL, len, err);
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
    if (put_entry(fd, name, CORE_TAR_FILE, NULL, sorted[i], sorted[i]->size, err) < 0) return -1;
  }
  /* The end-of-archive marker, and nothing after it: no padding to a 10 KiB record. */
  static const uint8_t end[2 * CORE_TAR_BLOCK];
  if (core_write_all(fd, end, sizeof end, err) < 0) return core_error_wrap(err, "finishing the tar");
  return 0;
}
