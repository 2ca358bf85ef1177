/* The loader: parse -> includes -> variables -> check, reported together as one diagnostic
 * list; and the --var/--env-var flags that feed it. */
#include "load.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "diag.h"
#include "expand.h"
#include "fsutil.h"
#include "include.h"
#include "linuxkit.h"

static int finish(core_diag *d, const char *path, core_error **err) {
  if (core_diag_to_error(d, err) == 0) return core_error_set(err, 0, "'%s': loading failed", path);
  return -1;
}

static const core_load_opts no_opts = CORE_LOAD_OPTS_INIT;

core_app_config *core_app_load_diag(const char *path, const char *text, size_t len, const core_load_opts *opts,
                                    core_diag *d) {
  if (opts == NULL) opts = &no_opts;
  cleanup_yaml_doc core_yaml_doc *doc = NULL;
  if (core_include_load(path, text, len, opts->stdlib_dir, d, &doc) < 0) return NULL;
  core_expand_opts eo = {opts->vars, opts->n_vars, opts->env_vars, opts->n_env_vars};
  /* Expanding a tree that includes could not build completely would only add noise. */
  if (core_diag_error_count(d) == 0) core_expand_doc(doc, &eo, d);
  if (core_diag_error_count(d) > 0) return NULL;
  /* A LinuxKit file is lowered to the app language first; its diagnostics stay in its terms. */
  cleanup_yaml_doc core_yaml_doc *lowered = NULL; /* its positions point into doc: doc outlives it */
  if (opts->linuxkit || (doc->root && core_linuxkit_detect(doc->root)))
    if (core_linuxkit_lower(doc, path, d, &lowered) < 0) return NULL;
  core_app_config *cfg = core_app_check_doc(lowered ? lowered : doc, path, d);
  if (cfg && core_diag_error_count(d) > 0) {
    core_app_config_free(cfg);
    cfg = NULL;
  }
  if (cfg == NULL && core_diag_error_count(d) == 0) core_diag_error(d, NULL, 0, NULL, "'%s': checking failed", path);
  return cfg;
}

static int load(const char *path, const char *text, size_t len, const core_load_opts *opts, core_app_config **out,
                core_error **err) {
  if (opts == NULL) opts = &no_opts;
  cleanup_diag core_diag *d = core_diag_new(path);
  if (d == NULL) return core_error_set(err, ENOMEM, "loading '%s'", path);
  core_app_config *cfg = core_app_load_diag(path, text, len, opts, d);
  if (cfg == NULL) return finish(d, path, err);
  if (opts->warnings) {
    *opts->warnings = NULL;
    if (core_diag_warning_count(d) > 0 && (*opts->warnings = core_diag_render(d)) == NULL) {
      core_app_config_free(cfg);
      return core_error_set(err, ENOMEM, "loading '%s'", path);
    }
  }
  *out = cfg;
  return 0;
}

int core_app_load(const char *path, const core_load_opts *opts, core_app_config **out, core_error **err) {
  return load(path, NULL, 0, opts, out, err);
}

int core_app_load_text(const char *path, const char *text, size_t len, const core_load_opts *opts,
                       core_app_config **out, core_error **err) {
  return load(path, text ? text : "", len, opts, out, err);
}

static int push(const char ***v, size_t *n, const char *s, core_error **err) {
  const char **nv = realloc(*v, (*n + 1) * sizeof *nv);
  if (nv == NULL) return core_error_set(err, ENOMEM, "reading the command line");
  nv[(*n)++] = s;
  *v = nv;
  return 0;
}

/* The value of --flag VALUE or --flag=VALUE at argv[*i], or NULL when argv[*i] is another flag. */
static const char *flag_value(const char *flag, int argc, char **argv, int *i, bool *missing) {
  size_t n = strlen(flag);
  *missing = false;
  if (strncmp(argv[*i], flag, n) != 0) return NULL;
  if (argv[*i][n] == '=') return argv[*i] + n + 1;
  if (argv[*i][n] != 0) return NULL;
  if (*i + 1 >= argc) {
    *missing = true;
    return NULL;
  }
  return argv[++*i];
}

int core_load_opts_parse_flag(core_load_opts *opts, int argc, char **argv, int *i, core_error **err) {
  if (strcmp(argv[*i], "--linuxkit") == 0) {
    opts->linuxkit = 1;
    return 1;
  }
  bool missing;
  const char *v = flag_value("--var", argc, argv, i, &missing);
  if (missing) return core_error_set(err, 0, "--var needs NAME=VALUE");
  if (v) {
    const char *eq = strchr(v, '=');
    if (eq == NULL || !core_var_name_valid(v, (size_t)(eq - v)))
      return core_error_set(err, 0,
                            "invalid --var '%s'; write --var NAME=VALUE, NAME being letters, digits and '_', not "
                            "starting with a digit",
                            v);
    return push(&opts->vars, &opts->n_vars, v, err) < 0 ? -1 : 1;
  }
  v = flag_value("--env-var", argc, argv, i, &missing);
  if (missing) return core_error_set(err, 0, "--env-var needs a variable name");
  if (v) {
    if (!core_var_name_valid(v, strlen(v)))
      return core_error_set(err, 0,
                            "invalid --env-var '%s'; a name is letters, digits and '_', not starting with a digit", v);
    return push(&opts->env_vars, &opts->n_env_vars, v, err) < 0 ? -1 : 1;
  }
  return 0;
}

void core_load_opts_release(core_load_opts *opts) {
  free(opts->vars);
  free(opts->env_vars);
  opts->vars = opts->env_vars = NULL;
  opts->n_vars = opts->n_env_vars = 0;
}
