/* The libcurl adapter: a CURLcode and the handle's error buffer become one core_error. */
#include "error_curl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int core_error_curl(core_error **err, CURLcode code, const char *errbuf, const char *fmt, ...) {
  char *ctx = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&ctx, fmt, ap) < 0) ctx = NULL;
  va_end(ap);
  const char *cause = errbuf && errbuf[0] ? errbuf : curl_easy_strerror(code);
  /* libcurl's error buffer often ends in a newline; a message must stay one line. */
  size_t n = strlen(cause);
  while (n > 0 && (cause[n - 1] == '\n' || cause[n - 1] == '\r')) n--;
  int rc = core_error_set(err, 0, "%s: %.*s", ctx ? ctx : "libcurl", (int)n, cause);
  free(ctx);
  return rc;
}
