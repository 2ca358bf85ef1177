/* The SLSA Provenance v1 statement of an app (spec/sbom.md, "The provenance"). */
#include "provenance.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json.h"
#include "oci.h"
#include "sbom.h"
#include "version.h"

static json_t *sha256_of(const core_digest *d) { return json_pack("{s:s}", "sha256", core_digest_hex(d)); }

/* A file app.yml was made from, named as it is relative to app.yml's directory (or by its base
 * name when it is elsewhere, e.g. a stdlib template), never by where this machine keeps it. */
static json_t *input_file(const char *path, const char *dir, const core_digest *d, core_error **err) {
  size_t n = dir ? strlen(dir) : 0;
  const char *name = path;
  if (n && strncmp(path, dir, n) == 0 && path[n] == '/') name = path + n + 1;
  else if (strrchr(path, '/')) name = strrchr(path, '/') + 1;
  json_t *o = json_pack("{s:s, s:o}", "name", name, "digest", sha256_of(d));
  if (o == NULL) core_error_set(err, ENOMEM, "building the provenance");
  return o;
}

static int cmp_name(const void *x, const void *y) {
  return strcmp(json_string_value(json_object_get(*(json_t *const *)x, "name")),
                json_string_value(json_object_get(*(json_t *const *)y, "name")));
}

/* app.yml, its includes (sorted by name), the --var values (the last of a name wins, as in
 * expansion) and SOURCE_DATE_EPOCH: what a user gives a build. The files are named by the
 * digests of the bytes the loader parsed (app_config.h, loaded). */
static json_t *external_parameters(const core_plan *plan, core_error **err) {
  const core_app_config *cfg = plan->cfg;
  size_t n = cfg->n_loaded, k = 0;
  cleanup_json json_t *app = NULL, *includes = json_array(), *vars = json_object();
  cleanup_free json_t **inc = calloc(n ? n : 1, sizeof *inc);
  if (inc == NULL || includes == NULL || vars == NULL) return core_error_set(err, ENOMEM, "allocating"), NULL;
  for (size_t i = 0; i < n; i++) {
    int is_app = app == NULL && strcmp(cfg->loaded[i].name, cfg->file) == 0;
    json_t *f = input_file(cfg->loaded[i].name, is_app ? NULL : cfg->dir, &cfg->loaded[i].digest, err);
    if (f == NULL) {
      for (size_t j = 0; j < k; j++) json_decref(inc[j]);
      return NULL;
    }
    if (is_app) app = f;
    else inc[k++] = f;
  }
  qsort(inc, k, sizeof *inc, cmp_name);
  for (size_t i = 0; i < k; i++) json_array_append_new(includes, inc[i]);
  if (app == NULL) { /* app.yml gave the merged document no node of its own (only include:) */
    core_digest d;
    uint64_t size;
    if (core_digest_file(cfg->file, &d, &size, err) < 0 || (app = input_file(cfg->file, NULL, &d, err)) == NULL)
      return NULL;
  }
  for (size_t i = 0; i < cfg->n_vars; i++) {
    const char *eq = strchr(cfg->vars[i], '=');
    if (eq == NULL) continue;
    cleanup_free char *name = strndup(cfg->vars[i], (size_t)(eq - cfg->vars[i]));
    if (name == NULL || json_object_set_new(vars, name, json_string(eq + 1)) < 0)
      return core_error_set(err, ENOMEM, "allocating"), NULL;
  }
  json_t *o = json_pack("{s:O, s:O, s:O, s:I}", "app", app, "includes", includes, "vars", vars, "sourceDateEpoch",
                        (json_int_t)plan->source_date_epoch);
  if (o == NULL) core_error_set(err, ENOMEM, "building the provenance");
  return o;
}

static const core_pkg *control_of(const core_pkg_list *pkgs, size_t k) {
  for (size_t i = 0; i < pkgs->n; i++)
    if (pkgs->v[i].is_source && pkgs->v[i].source == (int)k) return &pkgs->v[i];
  return NULL;
}

/* One pinned source as a ResourceDescriptor; NULL with no error for an unpinned directory. */
static json_t *dependency(const core_source_ref *s, const core_pkg *control, core_error **err) {
  const core_resolved *r = s->res;
  if (r->pin == NULL) return NULL;
  cleanup_free char *name = core_source_name(s), *uri = NULL;
  json_t *digest = NULL;
  int n = 0;
  switch (s->src->kind) {
    case CORE_SOURCE_FILE: n = asprintf(&uri, "file:%s", s->src->path); break;
    case CORE_SOURCE_URL: n = asprintf(&uri, "%s", s->src->url); break;
    case CORE_SOURCE_GIT: n = asprintf(&uri, "git+%s@%s", s->src->url, r->pin); break;
    case CORE_SOURCE_OCI: n = asprintf(&uri, "%s", s->src->image); break;
    case CORE_SOURCE_DEB: uri = control ? core_pkg_purl(control) : NULL; break;
  }
  if (s->src->kind == CORE_SOURCE_GIT) {
    digest = json_pack("{s:s}", "gitCommit", r->pin);
  } else {
    core_digest d;
    /* A pin is the digest itself, except a package's, which is its version. */
    const char *pinned = s->src->kind == CORE_SOURCE_DEB || !core_digest_is_valid(r->pin) ? NULL : r->pin;
    if (pinned) memcpy(d.str, pinned, sizeof d.str);
    else if (r->n_parts == 1 && r->parts[0].has_digest) d = r->parts[0].digest;
    else return NULL;
    digest = sha256_of(&d);
  }
  json_t *o = n < 0 || name == NULL || digest == NULL ? NULL
                                                      : json_pack("{s:s, s:s?, s:o}", "name", name, "uri", uri, "digest", digest);
  if (o == NULL) return core_error_set(err, ENOMEM, "building the provenance"), NULL;
  return o;
}

static json_t *resolved_dependencies(const core_plan *plan, const core_pkg_list *pkgs, core_error **err) {
  cleanup_json json_t *deps = json_array();
  if (deps == NULL) return core_error_set(err, ENOMEM, "allocating"), NULL;
  for (size_t k = 0; k < core_source_count(plan); k++) {
    core_source_ref s;
    if (!core_source_get(plan, k, &s)) continue;
    core_error *e = NULL;
    json_t *d = dependency(&s, control_of(pkgs, k), &e);
    if (e) return *err = e, NULL;
    if (d && json_array_append_new(deps, d) < 0) return core_error_set(err, ENOMEM, "allocating"), NULL;
  }
  return TAKE_PTR(deps);
}

int core_provenance_write(const core_plan *plan, const core_pkg_list *pkgs, const core_provenance_subjects *subjects,
                          core_buf *out, core_error **err) {
  json_t *params = external_parameters(plan, err);
  if (params == NULL) return -1;
  json_t *deps = resolved_dependencies(plan, pkgs, err);
  if (deps == NULL) return json_decref(params), -1;
  cleanup_json json_t *st = json_pack(
      "{s:s, s:[{s:s, s:o}, {s:s, s:o}, {s:s, s:o}], s:s, s:{s:{s:s, s:o, s:o}, s:{s:{s:s, s:{s:s}}}}}", "_type",
      INTOTO_STATEMENT_TYPE, "subject", "name", "vmlinuz", "digest", sha256_of(&subjects->kernel), "name", "initramfs",
      "digest", sha256_of(&subjects->initramfs), "name", "runtime-config.json", "digest", sha256_of(&subjects->config),
      "predicateType", CORE_SLSA_PREDICATE_TYPE, "predicate", "buildDefinition", "buildType", CORE_BUILD_TYPE,
      "externalParameters", params, "resolvedDependencies", deps, "runDetails", "builder", "id", CORE_BUILDER_ID,
      "version", "corec", CORE_COREC_VERSION);
  if (st == NULL) return core_error_set(err, ENOMEM, "building the provenance");
  return core_json_dump(st, out, err);
}
