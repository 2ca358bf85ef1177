/* The extent list every image writer shares (see disk_image.h). */
#include "disk_image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"

static int add_extent(core_image *img, core_extent e, core_error **err) {
  if (e.length == 0) return 0;
  if (e.offset + e.length < e.offset) return core_error_set(err, 0, "image extent at %llu overflows", (unsigned long long)e.offset);
  if (img->n == img->cap) {
    size_t cap = img->cap ? img->cap * 2 : 16;
    core_extent *v = realloc(img->v, cap * sizeof *v);
    if (v == NULL) return core_error_set(err, ENOMEM, "allocating image extents");
    img->v = v;
    img->cap = cap;
  }
  img->v[img->n++] = e;
  return 0;
}

static int own(core_image *img, void *data, core_error **err) {
  if (img->n_owned == img->cap_owned) {
    size_t cap = img->cap_owned ? img->cap_owned * 2 : 16;
    void **v = realloc(img->owned, cap * sizeof *v);
    if (v == NULL) {
      free(data);
      return core_error_set(err, ENOMEM, "allocating image buffers");
    }
    img->owned = v;
    img->cap_owned = cap;
  }
  img->owned[img->n_owned++] = data;
  return 0;
}

int core_image_add_owned(core_image *img, uint64_t offset, void *data, uint64_t len, core_error **err) {
  if (own(img, data, err) < 0) return -1;
  return add_extent(img, (core_extent){.offset = offset, .length = len, .kind = CORE_EXTENT_MEM, .data = data, .fd = -1}, err);
}

int core_image_add_ref(core_image *img, uint64_t offset, const void *data, uint64_t len, core_error **err) {
  return add_extent(img, (core_extent){.offset = offset, .length = len, .kind = CORE_EXTENT_MEM, .data = data, .fd = -1}, err);
}

int core_image_add_copy(core_image *img, uint64_t offset, const void *data, uint64_t len, core_error **err) {
  if (len == 0) return 0;
  void *copy = malloc(len);
  if (copy == NULL) return core_error_set(err, ENOMEM, "allocating %llu bytes", (unsigned long long)len);
  memcpy(copy, data, len);
  return core_image_add_owned(img, offset, copy, len, err);
}

int core_image_add_fd(core_image *img, uint64_t offset, int fd, uint64_t fd_offset, uint64_t len, core_error **err) {
  return add_extent(img, (core_extent){.offset = offset, .length = len, .kind = CORE_EXTENT_FD, .fd = fd, .fd_offset = fd_offset}, err);
}

int core_image_add_zero(core_image *img, uint64_t offset, uint64_t len, core_error **err) {
  return add_extent(img, (core_extent){.offset = offset, .length = len, .kind = CORE_EXTENT_ZERO, .fd = -1}, err);
}

int core_image_embed(core_image *img, uint64_t offset, core_image *src, core_error **err) {
  for (size_t i = 0; i < src->n_owned; i++) {
    if (own(img, src->owned[i], err) < 0) {
      /* own() freed this one; the rest stay with src, which frees them. */
      memmove(src->owned + i, src->owned + i + 1, (src->n_owned - i - 1) * sizeof *src->owned);
      src->n_owned--;
      return -1;
    }
  }
  src->n_owned = 0;
  for (size_t i = 0; i < src->n; i++) {
    core_extent e = src->v[i];
    if (e.offset + offset < e.offset) return core_error_set(err, 0, "embedded image overflows");
    e.offset += offset;
    if (add_extent(img, e, err) < 0) return -1;
  }
  src->n = 0;
  return 0;
}

static int by_offset(const void *a, const void *b) {
  const core_extent *x = a, *y = b;
  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

int core_image_finish(core_image *img, core_error **err) {
  if (img->n) qsort(img->v, img->n, sizeof *img->v, by_offset);
  for (size_t i = 0; i < img->n; i++) {
    const core_extent *e = &img->v[i];
    if (e->offset + e->length > img->size)
      return core_error_set(err, 0, "image extent [%llu, %llu) lies beyond the image's %llu bytes",
                            (unsigned long long)e->offset, (unsigned long long)(e->offset + e->length),
                            (unsigned long long)img->size);
    if (i > 0 && img->v[i - 1].offset + img->v[i - 1].length > e->offset)
      return core_error_set(err, 0, "image extents overlap at byte %llu", (unsigned long long)e->offset);
  }
  return 0;
}

static int read_extent(const core_extent *e, uint64_t skip, void *buf, size_t len, core_error **err) {
  switch (e->kind) {
  case CORE_EXTENT_MEM:
    memcpy(buf, e->data + skip, len);
    return 0;
  case CORE_EXTENT_ZERO:
    memset(buf, 0, len);
    return 0;
  case CORE_EXTENT_FD:
    break;
  }
  uint8_t *p = buf;
  uint64_t at = e->fd_offset + skip;
  while (len > 0) {
    ssize_t n = pread(e->fd, p, len, (off_t)at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core_error_set(err, errno, "reading image content");
    if (n == 0) return core_error_set(err, 0, "image content ends early: a file shrank while it was being written");
    p += n;
    at += (uint64_t)n;
    len -= (size_t)n;
  }
  return 0;
}

int core_image_read(const core_image *img, uint64_t offset, void *buf, size_t len, core_error **err) {
  uint8_t *out = buf;
  memset(out, 0, len);
  uint64_t end = offset + len;
  /* First extent that may overlap: binary search on the sorted list. */
  size_t lo = 0, hi = img->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (img->v[mid].offset + img->v[mid].length <= offset)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (size_t i = lo; i < img->n && img->v[i].offset < end; i++) {
    const core_extent *e = &img->v[i];
    uint64_t from = e->offset > offset ? e->offset : offset;
    uint64_t to = e->offset + e->length < end ? e->offset + e->length : end;
    if (read_extent(e, from - e->offset, out + (from - offset), (size_t)(to - from), err) < 0) return -1;
  }
  return 0;
}

void core_image_release(core_image *img) {
  for (size_t i = 0; i < img->n_owned; i++) free(img->owned[i]);
  free(img->owned);
  free(img->v);
  *img = (core_image)CORE_IMAGE_INIT;
}

int core_image_write_raw(const core_image *img, int fd, core_error **err) {
  if (ftruncate(fd, (off_t)img->size) < 0) return core_error_set(err, errno, "sizing the image to %llu bytes", (unsigned long long)img->size);
  enum { CHUNK = 1 << 20 };
  cleanup_free uint8_t *buf = NULL;
  for (size_t i = 0; i < img->n; i++) {
    const core_extent *e = &img->v[i];
    if (e->kind == CORE_EXTENT_ZERO) continue; /* already zero: the file is sparse there */
    if (e->kind == CORE_EXTENT_MEM) {
      if (core_pwrite_all(fd, e->data, e->length, e->offset, err) < 0) return -1;
      continue;
    }
    if (buf == NULL && (buf = malloc(CHUNK)) == NULL) return core_error_set(err, ENOMEM, "allocating a copy buffer");
    for (uint64_t done = 0; done < e->length;) {
      size_t n = e->length - done < CHUNK ? (size_t)(e->length - done) : CHUNK;
      if (read_extent(e, done, buf, n, err) < 0) return -1;
      if (core_pwrite_all(fd, buf, n, e->offset + done, err) < 0) return -1;
      done += n;
    }
  }
  return 0;
}
