/* The front end in one call: app.yml -> includes merged -> variables expanded -> checked
 * config. What corec build, check and plan run before planning. */
#ifndef CORE_LOAD_H
#define CORE_LOAD_H

#include <stddef.h>

#include "app_config.h"
#include "error.h"

typedef struct core_load_opts {
  const char **vars; /* "NAME=VALUE" from --var, in order given (a later one wins) */
  size_t n_vars;
  const char **env_vars; /* names --env-var allows to be read from the environment */
  size_t n_env_vars;
  const char *stdlib_dir; /* NULL: $CORE_STDLIB_DIR, else the built-in directory */
  int linuxkit;           /* treat the file as a LinuxKit image YAML even if it does not look like one */
  /* When not NULL, receives the rendered warnings (unused --var names...) of a successful
   * load, or NULL when there were none; the caller frees it. */
  char **warnings;
} core_load_opts;

#define CORE_LOAD_OPTS_INIT {0}

/* Loads path: includes, variables, the schema check. On failure *out is untouched and *err
 * holds every diagnostic, rendered with source lines, ending with a summary line. */
int core_app_load(const char *path, const core_load_opts *opts, core_app_config **out, core_error **err);

/* The same with the app's text in memory (path names it and anchors relative includes). */
int core_app_load_text(const char *path, const char *text, size_t len, const core_load_opts *opts,
                       core_app_config **out, core_error **err);

/* The same pipeline, keeping the diagnostics as data (for --json and for warnings). Returns
 * the config, or NULL when d holds errors. */
struct core_diag;
core_app_config *core_app_load_diag(const char *path, const char *text, size_t len, const core_load_opts *opts,
                                    struct core_diag *d);

/* For a command's flag loop: if argv[*i] is --var K=V, --var=K=V, --env-var NAME or
 * --env-var=NAME, records it in opts (the strings stay argv's), advances *i past a separate
 * value and returns 1; returns 0 when the flag is not one of these; -1 with *err when its
 * value is missing or malformed. */
int core_load_opts_parse_flag(core_load_opts *opts, int argc, char **argv, int *i, core_error **err);

/* The usage lines for those flags, for a command's --help. */
#define CORE_LOAD_FLAGS_HELP                                                                        \
  "      --var NAME=VALUE  set ${NAME} in app.yml (repeatable)\n"                                   \
  "      --env-var NAME    let ${NAME} be read from the environment (repeatable)\n"                 \
  "      --linuxkit        read APP.yml as a LinuxKit image YAML (detected when it has\n"         \
  "                        kernel.image or init and no core keys)\n"

/* Frees the arrays parse_flag made (not the strings). */
void core_load_opts_release(core_load_opts *opts);
#define cleanup_load_opts __attribute__((cleanup(core_load_opts_release)))

#endif
