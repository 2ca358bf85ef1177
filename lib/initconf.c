/* coreinit configuration writer; the reader is runtime/init/conf.c. */
#include "initconf.h"

#include <string.h>

int core_initconf_begin(core_buf *out, core_error **err) {
  static const char header[] = "version 1\n";
  return core_buf_append(out, header, sizeof header - 1, err);
}

int core_initconf_add(core_buf *out, const char *keyword, const char *value, core_error **err) {
  if (core_buf_append(out, keyword, strlen(keyword), err) < 0 || core_buf_append(out, " ", 1, err) < 0) return -1;
  for (const char *p = value; *p; p++) {
    const char *esc = *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : *p == '\t' ? "\\t" : NULL;
    if (esc ? core_buf_append(out, esc, 2, err) : core_buf_append(out, p, 1, err)) return -1;
  }
  return core_buf_append(out, "\n", 1, err);
}
