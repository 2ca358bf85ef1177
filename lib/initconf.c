/* coreinit configuration writer; the reader is runtime/init/conf.c. */
#include "initconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"

int core_initconf_begin(core_buf *out, core_error **err) {
  static const char header[] = INITCONF_VERSION " " INITCONF_VERSION_VALUE "\n";
  return core_buf_append(out, header, sizeof header - 1, err);
}

static int add_line(core_buf *out, const char *indent, const char *keyword, const char *value, core_error **err) {
  if (core_buf_append(out, indent, strlen(indent), err) < 0 ||
      core_buf_append(out, keyword, strlen(keyword), err) < 0 || core_buf_append(out, " ", 1, err) < 0)
    return -1;
  for (const char *p = value; *p; p++) {
    const char *esc = *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : *p == '\t' ? "\\t" : NULL;
    if (esc ? core_buf_append(out, esc, 2, err) : core_buf_append(out, p, 1, err)) return -1;
  }
  return core_buf_append(out, "\n", 1, err);
}

static int add_vline(core_buf *out, const char *indent, const char *keyword, core_error **err, const char *fmt,
                     va_list ap) {
  cleanup_free char *value = NULL;
  if (vasprintf(&value, fmt, ap) < 0) {
    value = NULL; /* undefined after a failure */
    return core_error_set(err, ENOMEM, "allocating");
  }
  return add_line(out, indent, keyword, value, err);
}

int core_initconf_add(core_buf *out, const char *keyword, const char *value, core_error **err) {
  return add_line(out, "", keyword, value, err);
}

int core_initconf_field(core_buf *out, const char *key, const char *value, core_error **err) {
  return add_line(out, INITCONF_INDENT, key, value, err);
}

int core_initconf_addf(core_buf *out, const char *keyword, core_error **err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = add_vline(out, "", keyword, err, fmt, ap);
  va_end(ap);
  return rc;
}

int core_initconf_fieldf(core_buf *out, const char *key, core_error **err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = add_vline(out, INITCONF_INDENT, key, err, fmt, ap);
  va_end(ap);
  return rc;
}
