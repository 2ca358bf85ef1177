/* The project's error type and its adapters for libarchive and OpenSSL (both programs link
 * them); the adapters of corec-only libraries live next to their users (error_zstd, error_curl). */
#include "error.h"

#include <archive.h>
#include <assert.h>
#include <errno.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *vformat(const char *fmt, va_list ap) {
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0) return NULL;
  return s;
}

static int set_owned(core_error **err, int errnum, char *msg) {
  if (err == NULL) {
    free(msg);
    return -1;
  }
  /* An error already there was lost by whoever set it and went on: a bug to find, not to
   * paper over by freeing it here. */
  assert(*err == NULL);
  core_error *e = calloc(1, sizeof *e);
  if (e == NULL) {
    free(msg);
    abort(); /* nothing sensible can be reported without memory */
  }
  e->errnum = errnum;
  e->msg = msg ? msg : strdup("out of memory");
  *err = e;
  return -1;
}

int core_error_set(core_error **err, int errnum, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *base = vformat(fmt, ap);
  va_end(ap);
  if (base && errnum) {
    char *full = NULL;
    if (asprintf(&full, "%s: %s", base, strerror(errnum)) < 0) full = NULL;
    free(base);
    base = full;
  }
  return set_owned(err, errnum, base);
}

int core_error_wrap(core_error **err, const char *fmt, ...) {
  if (err == NULL || *err == NULL) return -1;
  va_list ap;
  va_start(ap, fmt);
  char *ctx = vformat(fmt, ap);
  va_end(ap);
  char *full = NULL;
  if (ctx == NULL || asprintf(&full, "%s: %s", ctx, (*err)->msg) < 0) {
    free(ctx);
    return -1;
  }
  free(ctx);
  free((*err)->msg);
  (*err)->msg = full;
  return -1;
}

void core_error_free(core_error *err) {
  if (err == NULL) return;
  free(err->msg);
  free(err);
}

void core_error_freep(core_error **err) {
  core_error_free(*err);
  *err = NULL;
}

void core_error_print(const char *prog, const core_error *err) {
  if (err == NULL) return;
  /* Multi-line messages are compiler diagnostics that carry their own prefixes. */
  if (strchr(err->msg, '\n'))
    fprintf(stderr, "%s", err->msg);
  else
    fprintf(stderr, "%s: error: %s\n", prog, err->msg);
}

static int set_with_cause(core_error **err, int errnum, const char *cause, const char *fmt, va_list ap) {
  char *base = vformat(fmt, ap);
  char *full = NULL;
  if (base == NULL || asprintf(&full, "%s: %s", base, cause ? cause : "unknown error") < 0) full = NULL;
  free(base);
  return set_owned(err, errnum, full);
}

int core_error_archive(core_error **err, struct archive *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const char *cause = a ? archive_error_string(a) : NULL;
  int rc = set_with_cause(err, a ? archive_errno(a) : 0, cause, fmt, ap);
  va_end(ap);
  return rc;
}

int core_error_openssl(core_error **err, const char *fmt, ...) {
  char cause[256] = "OpenSSL reported no reason";
  unsigned long code = ERR_get_error();
  if (code) ERR_error_string_n(code, cause, sizeof cause);
  ERR_clear_error(); /* the queue is per thread; leave it empty for the next call */
  va_list ap;
  va_start(ap, fmt);
  int rc = set_with_cause(err, 0, cause, fmt, ap);
  va_end(ap);
  return rc;
}
