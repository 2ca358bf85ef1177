/* The link plan: everything the linker will do, as plain data, with every local source
 * resolved and pinned by digest. Nothing after planning reads app.yml. */
#ifndef CORE_PLAN_H
#define CORE_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "app_config.h"
#include "digest.h"
#include "error.h"
#include "json.h"
#include "layer_reader.h"

typedef struct core_plan_source {
  char *path;            /* resolved path on this machine */
  core_pos pos;          /* where app.yml names it */
  core_layer_kind kind;
  int has_digest;        /* files are pinned; directories are read as they are at link time */
  core_digest digest;
  uint64_t size;
} core_plan_source;

typedef struct core_plan_layer {
  core_plan_source source;
  char *dest;
} core_plan_layer;

typedef struct core_plan {
  char *name;
  core_plan_source kernel;
  char *cmdline;
  char **modules;
  core_pos *module_pos;
  size_t n_modules;
  core_plan_layer *layers;
  size_t n_layers;
  char **main_argv; /* NULL-terminated */
  size_t main_argc;
  uint64_t memory_mib;
  unsigned cpus;
  int64_t source_date_epoch; /* every timestamp in the output */
} core_plan;

/* Resolves the checked config into a plan: sources must exist and are hashed. */
int core_plan_make(const core_app_config *cfg, core_plan **out, core_error **err);
int core_plan_to_json(const core_plan *plan, json_t **out, core_error **err);
void core_plan_free(core_plan *plan);
void core_plan_freep(core_plan **plan);
#define cleanup_plan __attribute__((cleanup(core_plan_freep)))

/* Checks that a pinned file still has the digest the plan recorded. */
int core_plan_source_recheck(const core_plan_source *src, core_error **err);

#endif
