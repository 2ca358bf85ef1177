/* Compiler diagnostics: errors and warnings collected with their source positions, then
 * rendered together (file:line:col, the source line, a caret under the token) as one error. */
#ifndef CORE_DIAG_H
#define CORE_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "app_config.h"
#include "error.h"

typedef enum core_diag_level {
  CORE_DIAG_ERROR,
  CORE_DIAG_WARNING,
  CORE_DIAG_NOTE, /* attached to the error or warning added just before it */
} core_diag_level;

/* More than this many errors are counted but not shown. */
#define CORE_DIAG_MAX_ERRORS 50

typedef struct core_diag core_diag;

/* file names the input in the summary line ("app.yml: 2 errors"); it is copied.
 * Returns NULL only when out of memory. */
core_diag *core_diag_new(const char *file);
void core_diag_free(core_diag *d);
static inline void core_diag_freep(core_diag **d) { core_diag_free(*d); }
#define cleanup_diag __attribute__((cleanup(core_diag_freep)))

/* Registers the text of a file, so the source lines shown come from the bytes that were
 * parsed. Files never registered are read from disk when rendered. The text is copied. */
void core_diag_set_source(core_diag *d, const char *file, const char *text, size_t len);

/* Never shows a line of file, from memory or disk: for a file that did not parse as YAML of
 * the expected kind, which may be anything (`include: [/etc/shadow]`), and must not be
 * echoed into a CI log. Its diagnostics keep their file:line:col. */
void core_diag_hide_source(core_diag *d, const char *file);

/* Adds a diagnostic at pos (NULL, or line 0, for one about the whole file). len is the
 * length of the token in characters, 0 when unknown: the caret is then drawn alone.
 * hint may be NULL. Allocation failures are remembered and reported when rendering. */
void core_diag_add(core_diag *d, core_diag_level level, const core_pos *pos, int len, const char *hint,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Marks the diagnostic added last as quoting its file's content (a key, an anchor name):
 * when the file is hidden (core_diag_hide_source), fallback is shown in its place. */
void core_diag_set_private(core_diag *d, const char *fallback);

/* Shorthands for the common cases. */
void core_diag_error(core_diag *d, const core_pos *pos, int len, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void core_diag_warning(core_diag *d, const core_pos *pos, int len, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void core_diag_note(core_diag *d, const core_pos *pos, int len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* User text fit to quote in a message: control characters become '?', and text longer than
 * size allows is cut (at a character boundary) and ends in "...". Returns buf. */
const char *core_diag_excerpt(const char *s, char *buf, size_t size);

size_t core_diag_error_count(const core_diag *d);
size_t core_diag_warning_count(const core_diag *d);

/* Renders every diagnostic, ordered by position, followed by a summary line
 * ("app.yml: 2 errors, 1 warning"). The caller frees the text. NULL when out of memory. */
char *core_diag_render(core_diag *d);

/* The diagnostics as data, for tools and editors, in the order core_diag_render shows them:
 *   {"file", "ok", "errors", "warnings", "diagnostics": [{"file", "line", "col", "severity",
 *    "message", "hint"?, "notes"?: [{"file", "line", "col", "message"}]}]}
 * line and col are 0 for a diagnostic about the whole file. "errors" and "warnings" count
 * every one found, also those over CORE_DIAG_MAX_ERRORS that are not listed. */
struct json_t;
int core_diag_to_json(core_diag *d, struct json_t **out, core_error **err);

/* When errors were added: renders them into *err and returns -1. Otherwise returns 0. */
int core_diag_to_error(core_diag *d, core_error **err);

/* Builds one rendered diagnostic ("file:line:col: error: ...", the source line read from
 * pos->file, a caret, the hint) as the error and returns -1. For stages after the check
 * that find a problem with something app.yml names. */
int core_error_at(core_error **err, const core_pos *pos, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
