/* Resolving sources. This version knows local files and directories only; remote kinds
 * are refused at their position until their fetchers are wired in. */
#include "resolve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "diag.h"

struct core_resolver {
  const core_app_config *cfg;
  core_resolve_opts opts;
};

int core_resolver_new(const core_app_config *cfg, const core_resolve_opts *opts, core_resolver **out, core_error **err) {
  core_resolver *r = calloc(1, sizeof *r);
  if (r == NULL) return core_error_set(err, ENOMEM, "allocating");
  r->cfg = cfg;
  if (opts) r->opts = *opts;
  *out = r;
  return 0;
}

void core_resolver_free(core_resolver *r) { free(r); }
void core_resolver_freep(core_resolver **r) {
  core_resolver_free(*r);
  *r = NULL;
}

void core_resolved_release(core_resolved *res) {
  for (size_t i = 0; i < res->n_parts; i++) {
    free(res->parts[i].path);
    free(res->parts[i].media_type);
  }
  free(res->parts);
  free(res->pin);
  memset(res, 0, sizeof *res);
}

static int resolve_local(const core_source *src, const char *what, core_resolved *out, core_error **err) {
  struct stat st;
  if (stat(src->resolved, &st) < 0) {
    int e = errno;
    if (e == ENOENT)
      return core_error_at(err, &src->pos, "paths are relative to the directory of the app.yml",
                           "%s '%s' does not exist (looked for '%s')", what, src->path, src->resolved);
    return core_error_at(err, &src->pos, NULL, "%s '%s': %s", what, src->path, strerror(e));
  }
  core_resolved_part *part = calloc(1, sizeof *part);
  if (part == NULL) return core_error_set(err, ENOMEM, "allocating");
  out->parts = part;
  out->n_parts = 1;
  if ((part->path = strdup(src->resolved)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  core_error *cause = NULL;
  if (core_layer_kind_of(src->resolved, &part->format, &cause) < 0) {
    int rc = core_error_at(err, &src->pos, NULL, "%s: %s", what, cause->msg);
    core_error_free(cause);
    return rc;
  }
  if (part->format == CORE_LAYER_DIR) return 0;
  part->has_digest = 1;
  if (core_digest_file(src->resolved, &part->digest, &part->size, err) < 0) return -1;
  if ((out->pin = strdup(part->digest.str)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  return 0;
}

static const char *kind_name(core_source_kind k) {
  switch (k) {
    case CORE_SOURCE_FILE: return "file";
    case CORE_SOURCE_URL: return "url";
    case CORE_SOURCE_GIT: return "git";
    case CORE_SOURCE_OCI: return "oci";
    case CORE_SOURCE_DEB: return "deb";
  }
  return "?";
}

int core_resolve(core_resolver *r, const core_source *src, const char *what, core_resolved *out, core_error **err) {
  (void)r;
  memset(out, 0, sizeof *out);
  out->kind = src->kind;
  out->pos = src->pos;
  if (src->kind == CORE_SOURCE_FILE) return resolve_local(src, what, out, err);
  return core_error_at(err, &src->pos, "use a local path for now", "%s: '%s' sources cannot be fetched yet", what,
                       kind_name(src->kind));
}

int core_resolver_finish(core_resolver *r, core_error **err) {
  (void)r;
  (void)err;
  return 0;
}

int core_resolved_recheck(const core_resolved *res, core_error **err) {
  for (size_t i = 0; i < res->n_parts; i++) {
    const core_resolved_part *p = &res->parts[i];
    if (!p->has_digest) continue;
    core_digest now;
    if (core_digest_file(p->path, &now, NULL, err) < 0) return -1;
    if (strcmp(now.str, p->digest.str) != 0)
      return core_error_set(err, 0, "'%s' changed during the build (was %s, now %s); build again", p->path,
                            p->digest.str, now.str);
  }
  return 0;
}
