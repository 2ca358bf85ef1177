/* The loader: parse -> includes -> variables -> check, reported together as one diagnostic
 * list. Its command-line flags are in load_flags.c. */
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

/* Every file the merged document was read from, with the digest of the text parsed: the
 * provenance names them (spec/sbom.md), by what was read rather than by reading them again. */
static int keep_loaded(core_app_config *cfg, const core_yaml_doc *doc) {
  if (doc->n_sources == 0) return 0;
  if ((cfg->loaded = calloc(doc->n_sources, sizeof *cfg->loaded)) == NULL) return -1;
  for (size_t i = 0; i < doc->n_sources; i++) {
    const core_yaml_source *src = &doc->sources[i];
    core_app_input *in = &cfg->loaded[cfg->n_loaded];
    core_error *err = NULL;
    if (src->text == NULL) continue; /* nothing was parsed from it */
    if ((in->name = strdup(src->name)) == NULL || core_digest_bytes(src->text, src->len, &in->digest, &err) < 0) {
      free(in->name);
      core_error_free(err);
      return -1;
    }
    cfg->n_loaded++;
  }
  return 0;
}

/* The pipeline, every diagnostic into d. Returns the config, or NULL when d holds errors. */
static core_app_config *load_diag(const char *path, const core_load_opts *opts, core_diag *d) {
  cleanup_yaml_doc core_yaml_doc *doc = NULL;
  if (core_include_load(path, NULL, 0, opts->stdlib_dir, d, &doc) < 0) return NULL;
  core_expand_opts eo = {opts->vars, opts->n_vars, opts->env_vars, opts->n_env_vars};
  /* Expanding a tree that includes could not build completely would only add noise. */
  if (core_diag_error_count(d) == 0) core_expand_doc(doc, &eo, d);
  if (core_diag_error_count(d) > 0) return NULL;
  /* A LinuxKit file is lowered to the app language first; its diagnostics stay in its terms. */
  cleanup_yaml_doc core_yaml_doc *lowered = NULL; /* its positions point into doc: doc outlives it */
  if (opts->linuxkit || (doc->root && core_linuxkit_detect(doc->root)))
    if (core_linuxkit_lower(doc, path, d, &lowered) < 0) return NULL;
  core_app_config *cfg = core_app_check_doc(lowered ? lowered : doc, path, d);
  if (cfg && keep_loaded(cfg, doc) < 0) core_diag_error(d, NULL, 0, NULL, "'%s': out of memory", path);
  if (cfg && core_diag_error_count(d) > 0) {
    core_app_config_free(cfg);
    cfg = NULL;
  }
  if (cfg == NULL && core_diag_error_count(d) == 0) core_diag_error(d, NULL, 0, NULL, "'%s': checking failed", path);
  return cfg;
}

/* The --var values are an input of the build as much as the files: the linker records them. */
static core_app_config *keep_vars(core_app_config *cfg, const core_load_opts *opts) {
  if (cfg == NULL || opts->n_vars == 0) return cfg;
  if ((cfg->vars = calloc(opts->n_vars, sizeof *cfg->vars)) == NULL) goto oom;
  for (; cfg->n_vars < opts->n_vars; cfg->n_vars++)
    if ((cfg->vars[cfg->n_vars] = strdup(opts->vars[cfg->n_vars])) == NULL) goto oom;
  return cfg;
oom:
  core_app_config_free(cfg);
  return NULL;
}

static const core_load_opts no_opts = CORE_LOAD_OPTS_INIT;

int core_app_load(const char *path, const core_load_opts *opts, core_app_config **out, core_error **err) {
  if (opts == NULL) opts = &no_opts;
  if (opts->diag) {
    core_app_config *cfg = keep_vars(load_diag(path, opts, opts->diag), opts);
    if (cfg == NULL)
      return core_error_set(err, 0, "%s: %zu error%s", path, core_diag_error_count(opts->diag),
                            core_diag_error_count(opts->diag) == 1 ? "" : "s");
    *out = cfg;
    return 0;
  }
  cleanup_diag core_diag *d = core_diag_new(path);
  if (d == NULL) return core_error_set(err, ENOMEM, "loading '%s'", path);
  core_app_config *cfg = load_diag(path, opts, d);
  if (cfg == NULL) return finish(d, path, err);
  if ((cfg = keep_vars(cfg, opts)) == NULL) return core_error_set(err, ENOMEM, "loading '%s'", path);
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
