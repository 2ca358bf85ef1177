/* coreinit's error report: a fixed buffer filled by the step that failed, printed by main.
 * coreinit cannot use lib/error.c (it is built alone against musl), and a fixed buffer
 * means reporting an error never needs memory. */
#ifndef INIT_ERROR_H
#define INIT_ERROR_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct init_error {
  char msg[512]; /* without the "coreinit: " prefix; truncated if longer */
} init_error;

/* Fills *err and returns -1, so callers can write `return init_error_set(err, ...)`.
 * A non-zero errnum appends ": <strerror>". Static so the unit test, which includes
 * conf.c alone, needs no other object. */
__attribute__((format(printf, 3, 4), unused)) static int init_error_set(init_error *err, int errnum,
                                                                        const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  if (errnum && n >= 0 && (size_t)n < sizeof err->msg)
    snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", strerror(errnum));
  return -1;
}

#endif
