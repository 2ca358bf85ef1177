/* The check stage: app.yml -> core_app_config, with every schema error reported at once.
 * The schema is written down in spec/app.yml.md. */
#ifndef CORE_CHECK_H
#define CORE_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "app_config.h"
#include "diag.h"
#include "error.h"
#include "yaml_ast.h"

/* Whether key is one of app.yml's top-level keys ('name', 'kernel', 'services'...). */
bool core_app_top_key(const char *key);

/* Reads, parses and validates path. On success *out is a new config (free it with
 * core_app_config_free). On failure *out is untouched and *err holds every diagnostic,
 * rendered with source lines and ending with a summary line ("app.yml: 2 errors"). */
int core_app_check(const char *path, core_app_config **out, core_error **err);

/* The same for text already in memory; path names it in messages and anchors relative
 * sources. For tests and fuzzing. */
int core_app_check_text(const char *path, const char *text, size_t len, core_app_config **out, core_error **err);

/* The same, reporting every diagnostic (warnings too) to diag instead of failing with them:
 * returns the config when diag holds no errors, else NULL. For callers that show the
 * diagnostics themselves (corec check, its --json form, the golden tests). text is path's
 * contents; the _file_ form reads path and reports a failure to read it as a diagnostic. */
core_app_config *core_app_check_diag(const char *path, const char *text, size_t len, core_diag *diag);
core_app_config *core_app_check_file_diag(const char *path, core_diag *diag);

/* Validates a parsed document, reporting to diag. Returns a config even when it reported
 * errors (so that all of them are found); the caller decides by core_diag_error_count. */
core_app_config *core_app_check_doc(const core_yaml_doc *doc, const char *path, core_diag *diag);

/* Parses a size ("256M", "1G", "1048576"); the suffixes are binary (M = MiB). Returns -1
 * on bad syntax or overflow. Range and granularity are for the caller to judge. */
int core_parse_size(const char *s, uint64_t *out);

#endif
