/* The library's error report (container.h): a fixed buffer, filled by the step that failed. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "container.h"

int ctr_error_set(ctr_error *err, int errnum, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  err->errnum = errnum;
  if (errnum && n >= 0 && (size_t)n < sizeof err->msg)
    snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", strerror(errnum));
  return -1;
}

int ctr_error_prefix(ctr_error *err, const char *fmt, ...) {
  char inner[sizeof err->msg];
  memcpy(inner, err->msg, sizeof inner);
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  /* Appended by hand: a truncated message is fine, and snprintf would warn about it. */
  size_t at = n < 0 ? 0 : (size_t)n;
  for (const char *p = ": "; *p && at + 1 < sizeof err->msg; p++) err->msg[at++] = *p;
  for (const char *p = inner; *p && at + 1 < sizeof err->msg; p++) err->msg[at++] = *p;
  if (at < sizeof err->msg) err->msg[at] = '\0';
  return -1;
}
