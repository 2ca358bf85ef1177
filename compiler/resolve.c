/* Resolving sources: local files are hashed where they are; remote ones go through their
 * fetcher into the content store, pinned by app.lock (spec/lock.md), and are read back from
 * the store re-hashed, so what the plan names is exactly what was pinned. */
#include "resolve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "diag.h"
#include "fsutil.h"
#include "lockfile.h"
#include "sources/fetch.h"

struct core_resolver {
  const core_app_config *cfg;
  core_resolve_opts opts;
  core_lockfile *lock;
  core_store *store; /* opened on the first remote source: local-only apps need none */
  core_store *local_store; /* for the stat cache of local files: only a store that exists */
  int no_local_store;
  core_fetch_ctx ctx;
};

int core_resolver_new(const core_app_config *cfg, const core_resolve_opts *opts, core_resolver **out, core_error **err) {
  core_resolver *r = calloc(1, sizeof *r);
  if (r == NULL) return core_error_set(err, ENOMEM, "allocating");
  r->cfg = cfg;
  if (opts) r->opts = *opts;
  cleanup_free char *lock_path = NULL;
  if (r->opts.lock_path == NULL) lock_path = core_path_join(cfg->dir ? cfg->dir : ".", "app.lock");
  const char *path = r->opts.lock_path ? r->opts.lock_path : lock_path;
  if (path == NULL) {
    free(r);
    return core_error_set(err, ENOMEM, "allocating");
  }
  if (core_lockfile_load(path, &r->lock, err) < 0) {
    free(r);
    return -1;
  }
  *out = r;
  return 0;
}

void core_resolver_free(core_resolver *r) {
  if (r == NULL) return;
  core_lockfile_free(r->lock);
  core_store_close(r->store);
  core_store_close(r->local_store);
  free(r);
}
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

static int resolve_local(core_resolver *r, const core_source *src, const char *what, core_resolved *out,
                         core_error **err) {
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
  /* Through the stat cache of the store, when there is one (local files alone never make a
   * store): an unchanged file is not read again (spec/store.md). A store that cannot be
   * opened only means hashing every time. */
  if (r->local_store == NULL && !r->no_local_store &&
      (core_store_open_existing(r->opts.store_dir, &r->local_store, NULL) < 0 || r->local_store == NULL))
    r->no_local_store = 1;
  if (core_store_file_digest(r->local_store, src->resolved, &part->digest, &part->size, err) < 0) return -1;
  if ((out->pin = strdup(part->digest.str)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  return 0;
}

/* What a message calls a remote source: what app.yml wrote, short. */
static char *display_name(const core_source *src) {
  char *s = NULL;
  int n = -1;
  switch (src->kind) {
    case CORE_SOURCE_FILE: n = asprintf(&s, "%s", src->path); break;
    case CORE_SOURCE_URL: n = asprintf(&s, "%s", src->url); break;
    case CORE_SOURCE_GIT:
      n = asprintf(&s, "%s@%s", src->url, src->commit ? src->commit : src->ref ? src->ref : "HEAD");
      break;
    case CORE_SOURCE_OCI: n = asprintf(&s, "%s", src->image); break;
    case CORE_SOURCE_DEB:
      n = asprintf(&s, "deb %s%s%s", src->package, src->version ? "=" : "", src->version ? src->version : "");
      break;
  }
  return n < 0 ? NULL : s;
}

#define CORRUPT_HINT                                                                                     \
  "build again: the blob is fetched again (which needs the network, or the bytes in another store); "    \
  "'corec cache verify' re-hashes every blob and removes the corrupt ones"

/* A fetcher's error, placed at the source in app.yml. */
static int fetch_failed(core_error **err, const core_source *src, const char *name, core_error *cause,
                        const char *hint) {
  if (cause->errnum == CORE_STORE_ECORRUPT) {
    int rc = core_error_at(err, &src->pos, CORRUPT_HINT, "the store's copy of '%s' is corrupt: %s", name, cause->msg);
    core_error_free(cause);
    return rc;
  }
  int rc = core_error_at(err, &src->pos, hint, "fetching '%s': %s", name, cause->msg);
  core_error_free(cause);
  return rc;
}

static int open_store(core_resolver *r, core_error **err) {
  if (r->store) return 0;
  if (core_store_open(r->opts.store_dir, &r->store, err) < 0) return -1;
  r->ctx = (core_fetch_ctx){r->store, r->opts.offline, r->opts.reporter};
  return 0;
}

/* A blob of the store as one part, re-hashed on the way (DESIGN: the store is trusted only
 * as far as its digests). format < 0 = decide from the content. */
static int add_blob_part(core_resolver *r, const core_source *src, const char *name, const core_digest *d,
                         int format, const char *media_type, core_resolved *out, core_error **err) {
  core_resolved_part *parts = realloc(out->parts, (out->n_parts + 1) * sizeof *parts);
  if (parts == NULL) return core_error_set(err, ENOMEM, "allocating");
  out->parts = parts;
  core_resolved_part *p = &parts[out->n_parts++];
  memset(p, 0, sizeof *p);
  p->has_digest = 1;
  p->digest = *d;
  core_error *cause = NULL;
  if (core_store_get_verified(r->store, d, &p->path, &cause) < 0) {
    if (cause->errnum == CORE_STORE_ECORRUPT) return fetch_failed(err, src, name, cause, NULL);
    *err = cause;
    return -1;
  }
  struct stat st;
  if (stat(p->path, &st) < 0) return core_error_set(err, errno, "'%s'", p->path);
  p->size = (uint64_t)st.st_size;
  if (media_type && (p->media_type = strdup(media_type)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (format >= 0) {
    p->format = (core_layer_kind)format;
    return 0;
  }
  return core_layer_kind_of(p->path, &p->format, err);
}

/* A string field of the lock's pin, checked; NULL when the pin has none. */
static int pin_str(const json_t *pin, const char *key, int digest, const char **out, const core_resolver *r,
                   const core_source *src, core_error **err) {
  *out = NULL;
  if (pin == NULL) return 0;
  json_t *v = json_object_get(pin, key);
  const char *s = json_string_value(v);
  if (v && (s == NULL || (digest && !core_digest_is_valid(s))))
    return core_error_at(err, &src->pos, "fix it, or delete the entry and run 'corec lock'",
                         "'%s' has an invalid \"%s\" in the pin of this source", core_lockfile_path(r->lock), key);
  *out = s;
  return 0;
}

static int resolve_url(core_resolver *r, const core_source *src, const json_t *locked, const char *name,
                       core_resolved *out, json_t *pin, core_error **err) {
  const char *lock_sha;
  if (pin_str(locked, "sha256", 1, &lock_sha, r, src, err) < 0) return -1;
  if (lock_sha && src->sha256 && strcmp(lock_sha, src->sha256) != 0)
    return core_error_at(err, &src->pos,
                         "if app.yml is right, run 'corec lock' (or build with --update-lock) to pin it again",
                         "app.yml pins '%s' to %s but '%s' pins it to %s", name, src->sha256,
                         core_lockfile_path(r->lock), lock_sha);
  const char *want = src->sha256 ? src->sha256 : lock_sha;
  if (want == NULL && !r->opts.update_lock)
    return core_error_at(err, &src->pos, "add 'sha256: <hex>' to the source in app.yml, or run 'corec lock' to pin it",
                         "'%s' is not pinned: it has no sha256 and no entry in '%s'", name,
                         core_lockfile_path(r->lock));
  core_digest d;
  core_error *cause = NULL;
  if (core_fetch_url(&r->ctx, src->url, want, &d, &cause) < 0) return fetch_failed(err, src, name, cause, NULL);
  if (add_blob_part(r, src, name, &d, -1, NULL, out, err) < 0) return -1;
  if ((out->pin = strdup(d.str)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  return json_object_set_new(pin, "sha256", json_string(d.str)) < 0 ? core_error_set(err, ENOMEM, "allocating") : 0;
}

static int resolve_git(core_resolver *r, const core_source *src, const json_t *locked, const char *name,
                       core_resolved *out, json_t *pin, core_error **err) {
  const char *lock_commit;
  if (pin_str(locked, "commit", 0, &lock_commit, r, src, err) < 0) return -1;
  /* A commit in app.yml wins; a ref is followed only when the lock has no commit for it. */
  const char *commit = src->commit ? src->commit : lock_commit;
  const char *ref = commit ? NULL : src->ref;
  char resolved[41] = "";
  core_digest d;
  core_error *cause = NULL;
  if (core_fetch_git(&r->ctx, src->url, commit, ref, src->path && src->path[0] ? src->path : NULL, resolved, &d,
                     &cause) < 0)
    return fetch_failed(err, src, name, cause, NULL);
  if (add_blob_part(r, src, name, &d, CORE_LAYER_TAR, NULL, out, err) < 0) return -1;
  if ((out->pin = strdup(resolved)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  return json_object_set_new(pin, "commit", json_string(resolved)) < 0 ? core_error_set(err, ENOMEM, "allocating")
                                                                         : 0;
}

/* The reference to fetch: as written, except that a local image's path (oci-layout:DIR[:TAG],
 * oci-archive:FILE, docker-archive:FILE) is taken relative to the file that names it, not to
 * the directory corec runs in. */
static char *oci_fetch_reference(const core_source *src) {
  if (src->resolved == NULL || src->path == NULL) return strdup(src->image);
  const char *colon = strchr(src->image, ':');
  size_t prefix = colon ? (size_t)(colon - src->image) + 1 : 0;
  if (strncmp(src->image + prefix, src->path, strlen(src->path)) != 0) return strdup(src->image);
  const char *tail = src->image + prefix + strlen(src->path); /* ":TAG" or "" */
  char *ref = NULL;
  if (asprintf(&ref, "%.*s%s%s", (int)prefix, src->image, src->resolved, tail) < 0) return NULL;
  return ref;
}

static int resolve_oci(core_resolver *r, const core_source *src, const json_t *locked, const char *name,
                       core_resolved *out, json_t *pin, core_error **err) {
  const char *manifest;
  if (pin_str(locked, "manifest", 1, &manifest, r, src, err) < 0) return -1;
  cleanup_free char *reference = oci_fetch_reference(src);
  if (reference == NULL) return core_error_set(err, ENOMEM, "allocating");
  core_oci_image img = {0};
  core_error *cause = NULL;
  if (core_fetch_oci(&r->ctx, reference, manifest, &img, &cause) < 0) return fetch_failed(err, src, name, cause, NULL);
  int rc = 0;
  json_t *layers = json_array();
  for (size_t i = 0; i < img.n_layers && rc == 0; i++) {
    rc = add_blob_part(r, src, name, &img.layers[i], CORE_LAYER_TAR, img.layer_media_types ? img.layer_media_types[i] : NULL,
                       out, err);
    if (rc == 0 && json_array_append_new(layers, json_string(img.layers[i].str)) < 0)
      rc = core_error_set(err, ENOMEM, "allocating");
  }
  if (rc == 0 && ((out->pin = strdup(img.manifest.str)) == NULL ||
                  json_object_set_new(pin, "manifest", json_string(img.manifest.str)) < 0 ||
                  json_object_set_new(pin, "config", json_string(img.config.str)) < 0 ||
                  json_object_set(pin, "layers", layers) < 0))
    rc = core_error_set(err, ENOMEM, "allocating");
  json_decref(layers);
  core_oci_image_release(&img);
  return rc;
}

static int resolve_deb(core_resolver *r, const core_source *src, const json_t *locked, const char *name,
                       core_resolved *out, json_t *pin, core_error **err) {
  const char *lock_version, *lock_sha, *lock_package;
  if (pin_str(locked, "version", 0, &lock_version, r, src, err) < 0 ||
      pin_str(locked, "sha256", 1, &lock_sha, r, src, err) < 0 ||
      pin_str(locked, "package", 0, &lock_package, r, src, err) < 0)
    return -1;
  const char *version = src->version ? src->version : lock_version;
  /* A kernel metapackage is followed to the kernel it names; the lock keeps that package, so
   * a locked or offline build never asks apt again. */
  cleanup_free char *concrete = NULL;
  const char *package = src->package;
  core_error *cause = NULL;
  if (lock_package) {
    package = lock_package;
  } else if (!src->version) {
    int follow = core_deb_kernel_package(src->package, &concrete, &cause);
    if (follow < 0) return fetch_failed(err, src, name, cause, NULL);
    if (follow) package = concrete;
  }
  cleanup_free char *resolved = NULL;
  core_digest d;
  if (core_fetch_deb(&r->ctx, package, version, lock_sha, &resolved, &d, &cause) < 0)
    return fetch_failed(err, src, name, cause, NULL);
  if (add_blob_part(r, src, name, &d, CORE_LAYER_DEB, NULL, out, err) < 0) return -1;
  if ((out->pin = strdup(resolved)) == NULL || json_object_set_new(pin, "version", json_string(resolved)) < 0 ||
      json_object_set_new(pin, "sha256", json_string(d.str)) < 0 ||
      (package != src->package && json_object_set_new(pin, "package", json_string(package)) < 0))
    return core_error_set(err, ENOMEM, "allocating");
  return 0;
}

static int resolve_remote(core_resolver *r, const core_source *src, core_resolved *out, core_error **err) {
  const char *kind;
  cleanup_json json_t *key = NULL;
  if (core_lock_source_of(src, &kind, &key, err) < 0) return -1;
  cleanup_free char *name = display_name(src);
  if (name == NULL) return core_error_set(err, ENOMEM, "allocating");
  const json_t *locked = core_lockfile_find(r->lock, kind, key, false);
  if (locked == NULL && r->opts.locked)
    return core_error_at(err, &src->pos, "run 'corec lock' to pin it, then commit app.lock",
                         "'%s' has no entry in '%s', and --locked forbids adding one", name,
                         core_lockfile_path(r->lock));
  /* --update-lock ignores what the file says but keeps what this run already resolved, so a
   * source named twice resolves once. With --locked too, it re-resolves and fails if anything
   * moved: a check that the lock still matches what upstream serves. */
  if (r->opts.update_lock) locked = core_lockfile_find(r->lock, kind, key, true);
  if (open_store(r, err) < 0) return -1;
  cleanup_json json_t *pin = json_object();
  if (pin == NULL) return core_error_set(err, ENOMEM, "allocating");
  int rc = -1;
  switch (src->kind) {
    case CORE_SOURCE_URL: rc = resolve_url(r, src, locked, name, out, pin, err); break;
    case CORE_SOURCE_GIT: rc = resolve_git(r, src, locked, name, out, pin, err); break;
    case CORE_SOURCE_OCI: rc = resolve_oci(r, src, locked, name, out, pin, err); break;
    case CORE_SOURCE_DEB: rc = resolve_deb(r, src, locked, name, out, pin, err); break;
    case CORE_SOURCE_FILE: break;
  }
  if (rc < 0) return -1;
  return core_lockfile_put(r->lock, kind, key, pin, err);
}

int core_resolve(core_resolver *r, const core_source *src, const char *what, core_resolved *out, core_error **err) {
  memset(out, 0, sizeof *out);
  out->kind = src->kind;
  out->pos = src->pos;
  if (src->kind == CORE_SOURCE_FILE) return resolve_local(r, src, what, out, err);
  return resolve_remote(r, src, out, err);
}

int core_resolver_finish(core_resolver *r, core_error **err) {
  cleanup_free char *changes = NULL;
  if (core_lockfile_changes(r->lock, &changes, err) < 0) return -1;
  if (r->opts.locked) {
    if (changes[0] == 0) return 0;
    cleanup_buf core_buf list = CORE_BUF_INIT;
    for (const char *c = changes; *c; c++)
      if (core_buf_append(&list, c, 1, err) < 0 || (*c == '\n' && core_buf_append(&list, "  ", 2, err) < 0)) return -1;
    if (core_buf_append(&list, "", 1, err) < 0) return -1;
    return core_error_set(err, 0,
                          "'%s' is out of date and --locked forbids changing it; writing it would:\n  %s\n"
                          "run 'corec lock' (or build without --locked) and commit the new app.lock",
                          core_lockfile_path(r->lock), (char *)list.data);
  }
  if (r->opts.dry_run) return 0;
  bool written;
  return core_lockfile_write(r->lock, &written, err);
}

int core_resolved_recheck(const core_resolved *res, core_error **err) {
  for (size_t i = 0; i < res->n_parts; i++) {
    const core_resolved_part *p = &res->parts[i];
    if (!p->has_digest) continue;
    core_digest now;
    if (core_digest_file(p->path, &now, NULL, err) < 0) return -1;
    if (strcmp(now.str, p->digest.str) != 0)
      return core_error_at(err, &res->pos, "build again", "'%s' changed during the build (was %s, now %s)",
                           p->path, p->digest.str, now.str);
  }
  return 0;
}
