/* The resolve stage: every source named by the app becomes local bytes with a pin. Local
 * files are hashed where they are; remote sources are fetched into the content store and
 * pinned in the lock file (spec/lock.md). */
#ifndef CORE_RESOLVE_H
#define CORE_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "app_config.h"
#include "digest.h"
#include "error.h"
#include "layer_kind.h"
#include "reporter.h"

/* One thing to read: a file or directory on this machine (a store blob or a local path). */
typedef struct core_resolved_part {
  core_layer_kind format; /* how to read it: dir, tar (any compression) or deb */
  char *path;
  int has_digest;         /* directories are read as they are at link time */
  core_digest digest;
  uint64_t size;
  char *media_type;       /* OCI layers: the layer media type; else NULL */
} core_resolved_part;

typedef struct core_resolved {
  core_source_kind kind;
  core_resolved_part *parts; /* one, except an OCI image: its layers in order */
  size_t n_parts;
  char *pin;                 /* what the source was pinned to: a digest, commit or version */
  core_pos pos;
} core_resolved;

typedef struct core_resolve_opts {
  const char *store_dir; /* NULL = $CORE_HOME/store (CORE_STORE_DIR overrides) */
  const char *lock_path; /* NULL = app.lock next to the app.yml */
  int locked;            /* fail if the lock file would change */
  int offline;           /* use only the store */
  int update_lock;       /* re-resolve refs and tags, allow unpinned URLs */
  int dry_run;           /* never write the lock file (corec plan) */
  core_reporter *reporter; /* progress of downloads; NULL = none */
} core_resolve_opts;

typedef struct core_resolver core_resolver;

int core_resolver_new(const core_app_config *cfg, const core_resolve_opts *opts, core_resolver **out, core_error **err);
/* what names the role in messages ("kernel source", "rootfs source"). */
int core_resolve(core_resolver *r, const core_source *src, const char *what, core_resolved *out, core_error **err);
/* After every source: writes the lock file when it changed (or fails under --locked). */
int core_resolver_finish(core_resolver *r, core_error **err);
void core_resolver_free(core_resolver *r);
void core_resolver_freep(core_resolver **r);
#define cleanup_resolver __attribute__((cleanup(core_resolver_freep)))

void core_resolved_release(core_resolved *res);
/* Checks that pinned parts still have the digest they had when resolved. */
int core_resolved_recheck(const core_resolved *res, core_error **err);

#endif
