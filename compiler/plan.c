/* Planning: resolve every source, pin it, and fix the build's one timestamp. */
#include "plan.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "diag.h"

void core_plan_free(core_plan *p) {
  if (p == NULL) return;
  core_resolved_release(&p->kernel);
  for (size_t i = 0; p->layers && i < p->cfg->n_layers; i++) core_resolved_release(&p->layers[i]);
  for (size_t i = 0; p->files && i < p->cfg->n_files; i++) core_resolved_release(&p->files[i]);
  free(p->layers);
  free(p->files);
  free(p);
}

void core_plan_freep(core_plan **p) {
  core_plan_free(*p);
  *p = NULL;
}

static int source_date_epoch(int64_t *out, core_error **err) {
  const char *s = getenv("SOURCE_DATE_EPOCH");
  *out = 0;
  if (s == NULL || *s == 0) return 0;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || v < 0 || v > (long long)UINT32_MAX)
    return core_error_set(err, 0, "SOURCE_DATE_EPOCH='%s' is not a number of seconds since 1970 (0 to %u)", s, UINT32_MAX);
  *out = v;
  return 0;
}

int core_plan_make(const core_app_config *cfg, const core_resolve_opts *opts, core_plan **out, core_error **err) {
  cleanup_plan core_plan *p = calloc(1, sizeof *p);
  if (p == NULL) return core_error_set(err, ENOMEM, "allocating");
  p->cfg = cfg;
  p->layers = calloc(cfg->n_layers + 1, sizeof *p->layers);
  p->files = calloc(cfg->n_files + 1, sizeof *p->files);
  if (p->layers == NULL || p->files == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (source_date_epoch(&p->source_date_epoch, err) < 0) return -1;

  cleanup_resolver core_resolver *r = NULL;
  if (core_resolver_new(cfg, opts, &r, err) < 0) return -1;
  if (core_resolve(r, &cfg->kernel, "kernel source", &p->kernel, err) < 0) return -1;
  if (p->kernel.n_parts == 1 && p->kernel.parts[0].format == CORE_LAYER_DIR)
    return core_error_at(err, &cfg->kernel.pos, "name a linux-image .deb or a bzImage file",
                         "kernel source '%s' is a directory", cfg->kernel.path);
  for (size_t i = 0; i < cfg->n_layers; i++)
    if (core_resolve(r, &cfg->layers[i].source, "rootfs source", &p->layers[i], err) < 0) return -1;
  for (size_t i = 0; i < cfg->n_files; i++) {
    if (cfg->files[i].type != CORE_FILE_SOURCE) continue;
    if (core_resolve(r, &cfg->files[i].source, "file source", &p->files[i], err) < 0) {
      /* An optional file whose local source is missing is left out, as the user asked. */
      if (!cfg->files[i].optional || cfg->files[i].source.kind != CORE_SOURCE_FILE) return -1;
      core_error_freep(err);
      core_resolved_release(&p->files[i]);
    }
  }
  if (core_resolver_finish(r, err) < 0) return -1;
  *out = TAKE_PTR(p);
  return 0;
}

int core_plan_recheck(const core_plan *p, core_error **err) {
  if (core_resolved_recheck(&p->kernel, err) < 0) return -1;
  for (size_t i = 0; i < p->cfg->n_layers; i++)
    if (core_resolved_recheck(&p->layers[i], err) < 0) return -1;
  for (size_t i = 0; i < p->cfg->n_files; i++)
    if (core_resolved_recheck(&p->files[i], err) < 0) return -1;
  return 0;
}

static json_t *resolved_json(const core_resolved *r) {
  static const char *const kinds[] = {"file", "url", "git", "oci", "deb"};
  json_t *parts = json_array();
  for (size_t i = 0; i < r->n_parts; i++) {
    const core_resolved_part *p = &r->parts[i];
    json_t *j = json_pack("{s:s, s:s}", "path", p->path, "format", core_layer_kind_name(p->format));
    if (p->has_digest) {
      json_object_set_new(j, "digest", json_string(p->digest.str));
      json_object_set_new(j, "size", json_integer((json_int_t)p->size));
    }
    if (p->media_type) json_object_set_new(j, "mediaType", json_string(p->media_type));
    json_array_append_new(parts, j);
  }
  json_t *j = json_pack("{s:s, s:o}", "kind", kinds[r->kind], "parts", parts);
  if (r->pin) json_object_set_new(j, "pin", json_string(r->pin));
  return j;
}

static json_t *strv_json(char *const *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(v[i]));
  return a;
}

int core_plan_to_json(const core_plan *p, json_t **out, core_error **err) {
  const core_app_config *c = p->cfg;
  json_t *modules = json_array(), *layers = json_array(), *files = json_array();
  for (size_t i = 0; i < c->n_modules; i++) json_array_append_new(modules, json_string(c->modules[i].name));
  for (size_t i = 0; i < c->n_layers; i++) {
    json_t *l = resolved_json(&p->layers[i]);
    json_object_set_new(l, "dest", json_string(c->layers[i].dest ? c->layers[i].dest : ""));
    json_array_append_new(layers, l);
  }
  for (size_t i = 0; i < c->n_files; i++) {
    static const char *const types[] = {"contents", "source", "directory", "symlink"};
    json_t *f = json_pack("{s:s, s:s}", "path", c->files[i].path, "type", types[c->files[i].type]);
    if (c->files[i].type == CORE_FILE_SOURCE) json_object_set_new(f, "source", resolved_json(&p->files[i]));
    json_array_append_new(files, f);
  }
  json_t *j = json_pack("{s:s, s:{s:o, s:s, s:o}, s:o, s:o, s:o, s:{s:I, s:i}, s:I}", "name", c->name, "kernel",
                        "source", resolved_json(&p->kernel), "cmdline", c->cmdline ? c->cmdline : "", "modules",
                        modules, "rootfs", layers, "files", files, "main", strv_json(c->main_argv, c->main_argc),
                        "resources", "memory_mib", (json_int_t)(c->memory_bytes >> 20), "cpus", (int)c->cpus,
                        "source_date_epoch", (json_int_t)p->source_date_epoch);
  if (j == NULL) return core_error_set(err, ENOMEM, "building the plan JSON");
  *out = j;
  return 0;
}
