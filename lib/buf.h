/* A growable byte buffer: the in-memory form of blobs, archives and JSON text. */
#ifndef CORE_BUF_H
#define CORE_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct core_buf {
  uint8_t *data;
  size_t len;
  size_t cap;
} core_buf;

#define CORE_BUF_INIT {NULL, 0, 0}

int core_buf_append(core_buf *b, const void *data, size_t len, core_error **err);
/* Appends printf-formatted text (without its NUL). */
int core_buf_appendf(core_buf *b, core_error **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int core_buf_reserve(core_buf *b, size_t extra, core_error **err);
void core_buf_release(core_buf *b);
/* Takes the bytes out of the buffer; the buffer is left empty. */
uint8_t *core_buf_take(core_buf *b, size_t *len);

#define cleanup_buf __attribute__((cleanup(core_buf_release)))

#endif
