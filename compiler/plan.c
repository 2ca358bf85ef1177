/* Planning: resolve sources, pin them, and fix the build's one timestamp. */
#include "plan.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "diag.h"

static void source_release(core_plan_source *s) { free(s->path); }

void core_plan_free(core_plan *p) {
  if (p == NULL) return;
  free(p->name);
  source_release(&p->kernel);
  free(p->cmdline);
  for (size_t i = 0; i < p->n_modules; i++) free(p->modules[i]);
  free(p->modules);
  free(p->module_pos);
  for (size_t i = 0; i < p->n_layers; i++) {
    source_release(&p->layers[i].source);
    free(p->layers[i].dest);
  }
  free(p->layers);
  for (size_t i = 0; i < p->main_argc; i++) free(p->main_argv[i]);
  free(p->main_argv);
  free(p);
}

void core_plan_freep(core_plan **p) {
  core_plan_free(*p);
  *p = NULL;
}

static int resolve_source(const core_source *src, const char *what, core_plan_source *out, core_error **err) {
  out->pos = src->pos;
  if ((out->path = strdup(src->resolved)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  struct stat st;
  if (stat(src->resolved, &st) < 0) {
    int e = errno;
    if (e == ENOENT)
      return core_error_at(err, &src->pos, "paths are relative to the directory of the app.yml",
                           "%s '%s' does not exist (looked for '%s')", what, src->path, src->resolved);
    return core_error_at(err, &src->pos, NULL, "%s '%s': %s", what, src->path, strerror(e));
  }
  core_error *cause = NULL;
  if (core_layer_kind_of(src->resolved, &out->kind, &cause) < 0) {
    int rc = core_error_at(err, &src->pos, NULL, "%s: %s", what, cause->msg);
    core_error_free(cause);
    return rc;
  }
  if (out->kind == CORE_LAYER_DIR) return 0;
  out->has_digest = 1;
  return core_digest_file(src->resolved, &out->digest, &out->size, err);
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

int core_plan_make(const core_app_config *cfg, core_plan **out, core_error **err) {
  cleanup_plan core_plan *p = calloc(1, sizeof *p);
  if (p == NULL) return core_error_set(err, ENOMEM, "allocating");
  if ((p->name = strdup(cfg->name)) == NULL || (p->cmdline = strdup(cfg->cmdline ? cfg->cmdline : "")) == NULL)
    return core_error_set(err, ENOMEM, "allocating");
  if (source_date_epoch(&p->source_date_epoch, err) < 0) return -1;
  if (resolve_source(&cfg->kernel, "kernel source", &p->kernel, err) < 0) return -1;
  if (p->kernel.kind == CORE_LAYER_DIR)
    return core_error_at(err, &cfg->kernel.pos, "name a linux-image .deb or a bzImage file",
                         "kernel source '%s' is a directory", cfg->kernel.path);

  p->modules = calloc(cfg->n_modules + 1, sizeof *p->modules);
  p->module_pos = calloc(cfg->n_modules + 1, sizeof *p->module_pos);
  p->layers = calloc(cfg->n_layers + 1, sizeof *p->layers);
  p->main_argv = calloc(cfg->main_argc + 1, sizeof *p->main_argv);
  if (!p->modules || !p->module_pos || !p->layers || !p->main_argv) return core_error_set(err, ENOMEM, "allocating");
  for (size_t i = 0; i < cfg->n_modules; i++, p->n_modules++) {
    if ((p->modules[i] = strdup(cfg->modules[i].name)) == NULL) return core_error_set(err, ENOMEM, "allocating");
    p->module_pos[i] = cfg->modules[i].pos;
  }
  for (size_t i = 0; i < cfg->n_layers; i++, p->n_layers++) {
    if ((p->layers[i].dest = strdup(cfg->layers[i].dest ? cfg->layers[i].dest : "")) == NULL)
      return core_error_set(err, ENOMEM, "allocating");
    if (resolve_source(&cfg->layers[i].source, "rootfs source", &p->layers[i].source, err) < 0) return -1;
  }
  for (size_t i = 0; i < cfg->main_argc; i++, p->main_argc++)
    if ((p->main_argv[i] = strdup(cfg->main_argv[i])) == NULL) return core_error_set(err, ENOMEM, "allocating");
  p->memory_mib = cfg->memory_bytes >> 20;
  p->cpus = cfg->cpus;
  *out = TAKE_PTR(p);
  return 0;
}

int core_plan_source_recheck(const core_plan_source *src, core_error **err) {
  if (!src->has_digest) return 0;
  core_digest now;
  if (core_digest_file(src->path, &now, NULL, err) < 0) return -1;
  if (strcmp(now.str, src->digest.str) != 0)
    return core_error_set(err, 0, "'%s' changed during the build (was %s, now %s); build again", src->path,
                          src->digest.str, now.str);
  return 0;
}

static json_t *source_json(const core_plan_source *s) {
  json_t *j = json_pack("{s:s, s:s}", "path", s->path, "kind", core_layer_kind_name(s->kind));
  if (j && s->has_digest) {
    json_object_set_new(j, "digest", json_string(s->digest.str));
    json_object_set_new(j, "size", json_integer((json_int_t)s->size));
  }
  return j;
}

int core_plan_to_json(const core_plan *p, json_t **out, core_error **err) {
  json_t *modules = json_array(), *layers = json_array(), *argv = json_array();
  for (size_t i = 0; i < p->n_modules; i++) json_array_append_new(modules, json_string(p->modules[i]));
  for (size_t i = 0; i < p->n_layers; i++) {
    json_t *l = source_json(&p->layers[i].source);
    json_object_set_new(l, "dest", json_string(p->layers[i].dest));
    json_array_append_new(layers, l);
  }
  for (size_t i = 0; i < p->main_argc; i++) json_array_append_new(argv, json_string(p->main_argv[i]));
  json_t *j = json_pack("{s:s, s:{s:o, s:s, s:o}, s:o, s:o, s:{s:I, s:i}, s:I}", "name", p->name, "kernel", "source",
                        source_json(&p->kernel), "cmdline", p->cmdline, "modules", modules, "rootfs", layers, "main",
                        argv, "resources", "memory_mib", (json_int_t)p->memory_mib, "cpus", (int)p->cpus,
                        "source_date_epoch", (json_int_t)p->source_date_epoch);
  if (j == NULL) return core_error_set(err, ENOMEM, "building the plan JSON");
  *out = j;
  return 0;
}
