/* Growable byte buffer. */
#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int core_buf_reserve(core_buf *b, size_t extra, core_error **err) {
  if (b->cap - b->len >= extra) return 0;
  size_t want = b->len + extra;
  if (want < b->len) return core_error_set(err, ENOMEM, "buffer size overflow");
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < want) cap = cap > SIZE_MAX / 2 ? want : cap * 2;
  uint8_t *p = realloc(b->data, cap);
  if (p == NULL) return core_error_set(err, ENOMEM, "allocating %zu bytes", cap);
  b->data = p;
  b->cap = cap;
  return 0;
}

int core_buf_append(core_buf *b, const void *data, size_t len, core_error **err) {
  if (len == 0) return 0;
  if (core_buf_reserve(b, len, err) < 0) return -1;
  memcpy(b->data + b->len, data, len);
  b->len += len;
  return 0;
}

void core_buf_release(core_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

uint8_t *core_buf_take(core_buf *b, size_t *len) {
  uint8_t *p = b->data;
  if (len) *len = b->len;
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

int core_buf_appendf(core_buf *b, core_error **err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0) return core_error_set(err, ENOMEM, "allocating");
  int rc = core_buf_append(b, s, (size_t)n, err);
  free(s);
  return rc;
}
