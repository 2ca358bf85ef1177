/* Writes coreinit's configuration files (spec/init.md): "keyword value" lines, escaped. */
#ifndef CORE_INITCONF_H
#define CORE_INITCONF_H

#include "buf.h"
#include "error.h"

/* Starts a file with its "version 1" line. */
int core_initconf_begin(core_buf *out, core_error **err);
/* Appends "keyword value\n", escaping backslash, newline and tab in the value. */
int core_initconf_add(core_buf *out, const char *keyword, const char *value, core_error **err);

#endif
