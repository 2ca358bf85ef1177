/* The front end in one call: app.yml -> includes merged -> variables expanded -> checked
 * config. What corec build, check and plan run before planning. */
#ifndef CORE_LOAD_H
#define CORE_LOAD_H

#include <stddef.h>

#include "app_config.h"
#include "error.h"

typedef struct core_load_opts {
  /* Usually filled by core_load_opts_set (load_flags.h) from a command line. */
  const char **vars; /* "NAME=VALUE" from --var, in order given (a later one wins) */
  size_t n_vars;
  const char **env_vars; /* names --env-var allows to be read from the environment */
  size_t n_env_vars;
  const char *stdlib_dir; /* NULL: $CORE_STDLIB_DIR, else the built-in directory */
  int linuxkit;           /* treat the file as a LinuxKit image YAML even if it does not look like one */
  /* When not NULL, receives the rendered warnings (unused --var names...) of a successful
   * load, or NULL when there were none; the caller frees it. */
  char **warnings;
  /* When not NULL, every diagnostic (warnings too) is reported here, as data, instead of into
   * *err and *warnings: for callers that show them themselves (corec check and its --json,
   * the golden tests). Made by core_diag_new(path). */
  struct core_diag *diag;
} core_load_opts;

#define CORE_LOAD_OPTS_INIT {0}

/* The front end's one entry (corec build, check, plan, lock and the fuzz target all come
 * here): reads path, merges its includes, expands variables, lowers a LinuxKit file, checks
 * the result. On success *out is a new config (core_app_config_free). On failure *out is
 * untouched and *err holds every diagnostic, rendered with source lines, ending with a
 * summary line ("app.yml: 2 errors") -- or, when opts->diag is set, only that summary. */
int core_app_load(const char *path, const core_load_opts *opts, core_app_config **out, core_error **err);

#endif
