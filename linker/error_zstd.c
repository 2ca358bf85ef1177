/* The libzstd adapter: a zstd return code becomes one core_error. */
#include "error_zstd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <zstd.h>

int core_error_zstd(core_error **err, size_t code, const char *fmt, ...) {
  char *ctx = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&ctx, fmt, ap) < 0) ctx = NULL;
  va_end(ap);
  int rc = core_error_set(err, 0, "%s: %s", ctx ? ctx : "libzstd", ZSTD_getErrorName(code));
  free(ctx);
  return rc;
}
