/* The link plan: the checked app plus every source resolved and pinned. Everything the
 * linker reads is named here; nothing after planning fetches anything. */
#ifndef CORE_PLAN_H
#define CORE_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "app_config.h"
#include "error.h"
#include "json.h"
#include "resolve.h"

typedef struct core_plan {
  const core_app_config *cfg; /* borrowed: must outlive the plan */
  core_resolved kernel;
  core_resolved *layers;      /* parallel to cfg->layers */
  core_resolved *files;       /* parallel to cfg->files; empty for files without a source */
  int64_t source_date_epoch;  /* every timestamp in the output */
} core_plan;

/* opts may be NULL (defaults: the default store, app.lock next to app.yml). */
int core_plan_make(const core_app_config *cfg, const core_resolve_opts *opts, core_plan **out, core_error **err);
int core_plan_to_json(const core_plan *plan, json_t **out, core_error **err);
void core_plan_free(core_plan *plan);
void core_plan_freep(core_plan **plan);
#define cleanup_plan __attribute__((cleanup(core_plan_freep)))

/* Checks that every pinned input still has the digest the plan recorded. */
int core_plan_recheck(const core_plan *plan, core_error **err);

#endif
