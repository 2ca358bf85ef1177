/* The check stage: a parsed app.yml -> core_app_config, with every schema error reported at
 * once. The schema is written down in spec/app.yml.md. Internal to the front end: callers
 * outside compiler/ load an app with core_app_load (load.h), which runs includes and
 * variables first; only core_parse_size is shared (the linker reads its size limits with it). */
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

/* Validates a parsed document, reporting to diag. Returns a config even when it reported
 * errors (so that all of them are found); the caller decides by core_diag_error_count. */
core_app_config *core_app_check_doc(const core_yaml_doc *doc, const char *path, core_diag *diag);

/* Parses a size ("256M", "1G", "1048576"); the suffixes are binary (M = MiB). Returns -1
 * on bad syntax or overflow. Range and granularity are for the caller to judge. */
int core_parse_size(const char *s, uint64_t *out);

#endif
