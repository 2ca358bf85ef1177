/* Writes coreinit's configuration files (spec/init.md): "keyword value" lines, escaped.
 * The keywords are in initconf_keys.h, which the reader in the guest shares. */
#ifndef CORE_INITCONF_H
#define CORE_INITCONF_H

#include "buf.h"
#include "error.h"
#include "initconf_keys.h"

/* Starts a file with its "version 1" line. */
int core_initconf_begin(core_buf *out, core_error **err);
/* Appends the top-level line "keyword value\n", escaping backslash, newline and tab in the
 * value. A block starts with such a line (INITCONF_SERVICE and the service's name). */
int core_initconf_add(core_buf *out, const char *keyword, const char *value, core_error **err);
/* The same with the value formatted first (then escaped as a whole). */
int core_initconf_addf(core_buf *out, const char *keyword, core_error **err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Appends an indented "key value\n" line to the block the last top-level line started. */
int core_initconf_field(core_buf *out, const char *key, const char *value, core_error **err);
int core_initconf_fieldf(core_buf *out, const char *key, core_error **err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
