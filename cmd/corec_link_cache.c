/* The link cache: key = a digest of everything the linker reads; entry = the list of the
 * linked app's blobs, each kept in the content store by its digest (spec/store.md). */
#include "corec_link_cache.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "json.h"
#include "rootfs.h"

/* --- the key --- */

/* Every field goes in as tag, length, bytes: two different inputs never hash as one stream. */
static int feed(core_hasher *h, const char *tag, const void *data, size_t len, core_error **err) {
  char head[96];
  int n = snprintf(head, sizeof head, "%s %zu\n", tag, len);
  if (core_hasher_update(h, head, (size_t)n, err) < 0) return -1;
  return len ? core_hasher_update(h, data, len, err) : 0;
}

static int feed_str(core_hasher *h, const char *tag, const char *s, core_error **err) {
  return s ? feed(h, tag, s, strlen(s), err) : feed(h, "unset", tag, strlen(tag), err);
}

static int feed_file(core_hasher *h, const char *tag, const char *path, core_error **err) {
  core_digest d;
  if (core_digest_file(path, &d, NULL, err) < 0) return -1;
  return feed(h, tag, d.str, strlen(d.str), err) < 0 || feed_str(h, "path", path, err) < 0 ? -1 : 0;
}

/* A directory source is read as it is at link time, so its whole tree is part of the key:
 * every entry's name, type, mode, owner, size, device, link target and content digest. */
#define DIR_MAX_DEPTH 256
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* FD (a directory, taken) is read as REL. */
static int feed_tree(core_hasher *h, int fd, const char *rel, int depth, core_error **err) {
  if (depth > DIR_MAX_DEPTH) {
    close(fd);
    return core_error_set(err, 0, "'%s' is nested more than %d deep", rel, DIR_MAX_DEPTH);
  }
  cleanup_closedir DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return core_error_set(err, errno, "reading '%s'", rel);
  }
  char **names = NULL;
  size_t n = 0;
  int rc = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char **grown = realloc(names, (n + 1) * sizeof *grown);
    if (grown == NULL || (grown[n] = strdup(e->d_name)) == NULL) {
      names = grown ? grown : names;
      rc = core_error_set(err, ENOMEM, "allocating");
      break;
    }
    names = grown;
    n++;
  }
  if (rc == 0 && n > 0) qsort(names, n, sizeof *names, cmp_str); /* qsort must not get NULL, even for 0 */
  int dfd = dirfd(d);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    cleanup_free char *path = NULL;
    struct stat st;
    if (asprintf(&path, "%s/%s", rel, names[i]) < 0) {
      path = NULL;
      rc = core_error_set(err, ENOMEM, "allocating");
      break;
    }
    if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
      rc = core_error_set(err, errno, "'%s'", path);
      break;
    }
    char meta[160];
    snprintf(meta, sizeof meta, "%o %u %u %llu %llu", (unsigned)st.st_mode, (unsigned)st.st_uid, (unsigned)st.st_gid,
             (unsigned long long)st.st_size, (unsigned long long)st.st_rdev);
    if (feed_str(h, "entry", path, err) < 0 || feed_str(h, "meta", meta, err) < 0) {
      rc = -1;
      break;
    }
    if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t l = readlinkat(dfd, names[i], target, sizeof target);
      if (l < 0) rc = core_error_set(err, errno, "'%s'", path);
      else rc = feed(h, "target", target, (size_t)l, err);
    } else if (S_ISREG(st.st_mode)) {
      cleanup_close int f = openat(dfd, names[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
      core_digest cd;
      if (f < 0) rc = core_error_set(err, errno, "'%s'", path);
      else if (core_digest_fd(f, path, &cd, NULL, err) < 0) rc = -1;
      else rc = feed_str(h, "content", cd.str, err);
    } else if (S_ISDIR(st.st_mode)) {
      int sub = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) rc = core_error_set(err, errno, "'%s'", path);
      else rc = feed_tree(h, sub, path, depth + 1, err);
    }
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  return rc;
}

static int feed_resolved(core_hasher *h, const core_resolved *r, core_error **err) {
  for (size_t i = 0; i < r->n_parts; i++) {
    if (r->parts[i].format != CORE_LAYER_DIR) continue; /* its digest is in the plan */
    int fd = open(r->parts[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return core_error_set(err, errno, "'%s'", r->parts[i].path);
    if (feed_str(h, "dir", r->parts[i].path, err) < 0) {
      close(fd);
      return -1;
    }
    if (feed_tree(h, fd, ".", 0, err) < 0) return -1;
  }
  return 0;
}

/* The environment an app may read: ${NAME} from --env-var or a variable declared with
 * `env: true`. Rather than re-deriving which, every word of every input that names a set
 * environment variable is part of the key: a superset, so a change is never missed. */
static int feed_env_words(core_hasher *h, const core_buf *text, json_t *seen, core_error **err) {
  const char *p = (const char *)text->data, *end = p + text->len;
  while (p < end) {
    if (!(isalpha((unsigned char)*p) || *p == '_')) {
      p++;
      continue;
    }
    const char *w = p;
    while (p < end && (isalnum((unsigned char)*p) || *p == '_')) p++;
    char name[256];
    size_t l = (size_t)(p - w);
    if (l >= sizeof name) continue;
    memcpy(name, w, l);
    name[l] = 0;
    const char *v = getenv(name);
    if (v == NULL || json_object_get(seen, name)) continue;
    if (json_object_set_new(seen, name, json_string(v)) < 0) return core_error_set(err, ENOMEM, "allocating");
  }
  (void)h;
  return 0;
}

int core_link_cache_key(const core_plan *plan, const core_load_opts *lo, core_digest *key, core_error **err) {
  const core_app_config *cfg = plan->cfg;
  cleanup_hasher core_hasher *h = NULL;
  if (core_hasher_new(&h, err) < 0) return -1;
  char format[32];
  snprintf(format, sizeof format, "%d", CORE_LINK_CACHE_FORMAT);
  if (feed_str(h, "core-link-cache", format, err) < 0 || feed_file(h, "corec", "/proc/self/exe", err) < 0) return -1;
  cleanup_json json_t *pj = NULL;
  cleanup_buf core_buf text = CORE_BUF_INIT;
  if (core_plan_to_json(plan, &pj, err) < 0 || core_json_dump(pj, &text, err) < 0 ||
      feed(h, "plan", text.data, text.len, err) < 0)
    return -1;
  cleanup_json json_t *env = json_object();
  if (env == NULL) return core_error_set(err, ENOMEM, "allocating");
  /* Every file the config was read from (app.yml, each include, even one that only sets
   * variables), by the digest of the bytes the loader parsed. The text is read again only to
   * find the environment variables it may name; if it is no longer what was parsed, the
   * build is refused rather than keyed on something else. */
  for (size_t i = 0; i < cfg->n_loaded; i++) {
    const core_app_input *f = &cfg->loaded[i];
    cleanup_buf core_buf in = CORE_BUF_INIT;
    core_digest now;
    if (core_read_file(f->name, &in, err) < 0 || core_digest_bytes(in.data, in.len, &now, err) < 0) return -1;
    if (strcmp(now.str, f->digest.str) != 0)
      return core_error_set(err, 0, "'%s' changed while corec was reading it; build again", f->name);
    if (feed(h, "input", f->digest.str, strlen(f->digest.str), err) < 0 || feed_env_words(h, &in, env, err) < 0)
      return -1;
  }
  for (size_t i = 0; lo && i < lo->n_vars; i++)
    if (feed_str(h, "var", lo->vars[i], err) < 0) return -1;
  for (size_t i = 0; lo && i < lo->n_env_vars; i++)
    if (feed_str(h, "env-var", lo->env_vars[i], err) < 0 || feed_str(h, lo->env_vars[i], getenv(lo->env_vars[i]), err) < 0)
      return -1;
  if (lo && feed_str(h, "linuxkit", lo->linuxkit ? "1" : "0", err) < 0) return -1;
  cleanup_buf core_buf env_text = CORE_BUF_INIT;
  if (core_json_dump(env, &env_text, err) < 0 || feed(h, "app-env", env_text.data, env_text.len, err) < 0) return -1;
  /* What the linker itself reads from the environment. */
  static const char *const linker_env[] = {"SOURCE_DATE_EPOCH", CORE_ROOTFS_MAX_ENTRY_ENV, CORE_ROOTFS_MAX_TOTAL_ENV,
                                           "HOME", "CORE_STDLIB_DIR"};
  for (size_t i = 0; i < sizeof linker_env / sizeof linker_env[0]; i++)
    if (feed_str(h, linker_env[i], getenv(linker_env[i]), err) < 0) return -1;
  if (feed_resolved(h, &plan->kernel, err) < 0) return -1;
  for (size_t i = 0; i < cfg->n_layers; i++)
    if (feed_resolved(h, &plan->layers[i], err) < 0) return -1;
  for (size_t i = 0; i < cfg->n_files; i++)
    if (feed_resolved(h, &plan->files[i], err) < 0) return -1;
  return core_hasher_final(h, key, err);
}

/* --- entries --- */

void core_link_entry_release(core_link_entry *e) {
  free(e->blobs);
  free(e->sizes);
  free(e->warnings);
  memset(e, 0, sizeof *e);
}

int core_link_entry_parse(const void *text, size_t len, core_link_entry *out, core_error **err) {
  memset(out, 0, sizeof *out);
  if (len > CORE_LINK_ENTRY_MAX_BYTES)
    return core_error_set(err, 0, "a link cache entry of %zu bytes is over the limit of %u", len, CORE_LINK_ENTRY_MAX_BYTES);
  cleanup_json json_t *j = NULL;
  if (core_json_parse(text, len, &j, err) < 0) return -1;
  json_t *format = json_object_get(j, "format"), *manifest = json_object_get(j, "manifest");
  json_t *blobs = json_object_get(j, "blobs"), *warnings = json_object_get(j, "warnings");
  if (!json_is_object(j) || !json_is_integer(format) || json_integer_value(format) != CORE_LINK_CACHE_FORMAT)
    return core_error_set(err, 0, "not a link cache entry of format %d", CORE_LINK_CACHE_FORMAT);
  if (!json_is_string(manifest) || !core_digest_is_valid(json_string_value(manifest)))
    return core_error_set(err, 0, "the entry's \"manifest\" is not a sha256 digest");
  if (!json_is_array(blobs) || json_array_size(blobs) == 0 || json_array_size(blobs) > CORE_LINK_ENTRY_MAX_BLOBS)
    return core_error_set(err, 0, "the entry's \"blobs\" is not a list of 1 to %d blobs", CORE_LINK_ENTRY_MAX_BLOBS);
  if (warnings && !json_is_null(warnings) && !json_is_string(warnings))
    return core_error_set(err, 0, "the entry's \"warnings\" is not a string");
  size_t n = json_array_size(blobs);
  core_link_entry e = {0};
  e.blobs = calloc(n, sizeof *e.blobs);
  e.sizes = calloc(n, sizeof *e.sizes);
  if (e.blobs == NULL || e.sizes == NULL || (json_is_string(warnings) && (e.warnings = strdup(json_string_value(warnings))) == NULL)) {
    core_link_entry_release(&e);
    return core_error_set(err, ENOMEM, "allocating");
  }
  int has_manifest = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *b = json_array_get(blobs, i);
    json_t *d = json_object_get(b, "digest"), *size = json_object_get(b, "size");
    if (!json_is_object(b) || !json_is_string(d) || !core_digest_is_valid(json_string_value(d)) ||
        !json_is_integer(size) || json_integer_value(size) < 0) {
      core_link_entry_release(&e);
      return core_error_set(err, 0, "blob %zu of the entry is not {\"digest\": sha256, \"size\": bytes}", i);
    }
    snprintf(e.blobs[i].str, sizeof e.blobs[i].str, "%s", json_string_value(d));
    e.sizes[i] = (uint64_t)json_integer_value(size);
    for (size_t k = 0; k < i; k++)
      if (strcmp(e.blobs[k].str, e.blobs[i].str) == 0) {
        core_error_set(err, 0, "the entry lists blob %s twice", e.blobs[i].str);
        core_link_entry_release(&e);
        return -1;
      }
    has_manifest |= strcmp(e.blobs[i].str, json_string_value(manifest)) == 0;
  }
  if (!has_manifest) {
    core_link_entry_release(&e);
    return core_error_set(err, 0, "the entry's manifest is not among its blobs");
  }
  snprintf(e.manifest.str, sizeof e.manifest.str, "%s", json_string_value(manifest));
  e.n_blobs = n;
  *out = e;
  return 0;
}

static int entry_path(core_store *s, const core_digest *key, char **out, core_error **err) {
  cleanup_free char *dir = NULL;
  if (core_store_cache_dir(s, "link", &dir, err) < 0) return -1;
  if (asprintf(out, "%s/%s.json", dir, core_digest_hex(key)) < 0) return core_error_set(err, ENOMEM, "allocating a path");
  return 0;
}

/* The one place blobs go into the store and come back: a blob set's bytes by digest. */
static int store_blob(core_store *s, const core_blob *b, core_error **err) {
  if (core_store_has(s, &b->digest)) return 0;
  core_digest got;
  if (b->fd < 0) {
    if (core_store_put(s, b->data.data, b->data.len, &got, err) < 0) return -1;
  } else { /* a file-backed blob (the initramfs) is copied file to file, never held */
    cleanup_store_writer core_store_writer *w = NULL;
    if (core_store_writer_begin(s, &w, err) < 0 || core_blob_copy(b, core_store_writer_fd(w), err) < 0 ||
        core_store_writer_rehash(w, err) < 0 || core_store_writer_commit(w, &b->digest, &got, err) < 0)
      return -1;
  }
  if (strcmp(got.str, b->digest.str) != 0)
    return core_error_set(err, 0, "blob %s was stored as %s", b->digest.str, got.str);
  return 0;
}

/* Blobs larger than this come back file-backed, as the linker made them: not in memory. */
#define LINK_CACHE_FILE_BLOB (UINT64_C(16) << 20)

/* A big blob: the store re-hashes its file (a damaged one is removed and reported as such),
 * then the set reads it from that file. */
static int load_file_blob(core_store *s, const core_digest *want, uint64_t size, core_blob_set *set, core_error **err) {
  cleanup_free char *path = NULL;
  if (core_store_get_verified(s, want, &path, err) < 0) return -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  if (fd < 0) return core_error_set(err, errno, "opening '%s'", path);
  if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != size) {
    close(fd);
    return core_error_set(err, 0, "blob %s does not have the %llu bytes the entry says", want->str, (unsigned long long)size);
  }
  return core_blob_set_add_fd(set, fd, size, want, err);
}

static int load_blob(core_store *s, const core_digest *want, uint64_t size, core_blob_set *set, core_error **err) {
  if (size > LINK_CACHE_FILE_BLOB) return load_file_blob(s, want, size, set, err);
  cleanup_buf core_buf data = CORE_BUF_INIT;
  core_digest got;
  /* Read once and hashed once, by the blob set: what is used is exactly what was checked. */
  if (core_store_read_blob(s, want, size, &data, err) < 0) return -1;
  if (data.len != size)
    return core_error_set(err, 0, "blob %s has %zu bytes, the entry says %llu", want->str, data.len, (unsigned long long)size);
  if (core_blob_set_add(set, &data, &got, err) < 0) return -1;
  if (strcmp(got.str, want->str) != 0) return core_store_corrupt(s, want, &got, err);
  return 0;
}

int core_link_cache_load(core_store *s, const core_digest *key, const char *name, core_linked_app *out,
                         char **warnings, char **why, core_error **err) {
  *warnings = NULL;
  *why = NULL;
  cleanup_free char *path = NULL;
  if (entry_path(s, key, &path, err) < 0) return -1;
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0 && errno == ENOENT) return 0;
  cleanup_error core_error *cause = NULL;
  cleanup_buf core_buf text = CORE_BUF_INIT;
  struct stat st;
  if (fd < 0) {
    core_error_set(&cause, errno, "opening it");
  } else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CORE_LINK_ENTRY_MAX_BYTES) {
    core_error_set(&cause, 0, "it is not a regular file of at most %u bytes", CORE_LINK_ENTRY_MAX_BYTES);
  } else if (core_buf_reserve(&text, (size_t)st.st_size, err) < 0) {
    return -1;
  } else if (core_pread_exact(fd, text.data, (size_t)st.st_size, 0, path, &cause) == 0) {
    text.len = (size_t)st.st_size;
  }
  core_link_entry e = {0};
  cleanup_linked_app core_linked_app app = {0};
  if (cause == NULL && core_link_entry_parse(text.data, text.len, &e, &cause) == 0) {
    for (size_t i = 0; i < e.n_blobs && cause == NULL; i++) {
      if (load_blob(s, &e.blobs[i], e.sizes[i], &app.blobs, &cause) == 0 && strcmp(e.blobs[i].str, e.manifest.str) == 0)
        app.manifest_size = e.sizes[i];
    }
  }
  if (cause) {
    core_link_entry_release(&e);
    if (cause->errnum == ENOMEM) return *err = TAKE_PTR(cause), -1;
    /* A damaged entry is never used; removing it lets this build store a good one. */
    unlink(path);
    if (asprintf(why, "the link cache entry %s was refused (%s); linking again", path, cause->msg) < 0) *why = NULL;
    return 0;
  }
  app.manifest = e.manifest;
  *warnings = TAKE_PTR(e.warnings);
  core_link_entry_release(&e);
  if ((app.name = strdup(name)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  /* The entry was used: its age for 'corec cache gc --older-than' starts again. */
  (void)futimens(fd, NULL);
  *out = app;
  memset(&app, 0, sizeof app);
  return 1;
}

int core_link_cache_save(core_store *s, const core_digest *key, const core_linked_app *app, const char *warnings,
                         core_error **err) {
  cleanup_json json_t *blobs = json_array();
  if (blobs == NULL) return core_error_set(err, ENOMEM, "allocating");
  for (size_t i = 0; i < app->blobs.n; i++) {
    const core_blob *b = &app->blobs.blobs[i];
    if (store_blob(s, b, err) < 0) return -1;
    if (json_array_append_new(blobs, json_pack("{s:s, s:I}", "digest", b->digest.str, "size", (json_int_t)b->size)) < 0)
      return core_error_set(err, ENOMEM, "allocating");
  }
  cleanup_json json_t *entry = json_pack("{s:i, s:s, s:O, s:s?}", "format", CORE_LINK_CACHE_FORMAT, "manifest",
                                         app->manifest.str, "blobs", blobs, "warnings", warnings);
  cleanup_buf core_buf text = CORE_BUF_INIT;
  cleanup_free char *path = NULL;
  if (entry == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (core_json_dump(entry, &text, err) < 0 || entry_path(s, key, &path, err) < 0) return -1;
  /* The blobs are durable before the entry that names them appears. */
  return core_write_file_atomic(path, text.data, text.len, 0644, err);
}

/* --- maintenance --- */

/* Calls FN for every entry file's name in <store>/cache/link. */
static int each_entry(core_store *s, int (*fn)(core_store *s, const char *path, void *ctx, core_error **err), void *ctx,
                      core_error **err) {
  cleanup_free char *dir = NULL;
  if (core_store_cache_dir(s, "link", &dir, err) < 0) return -1;
  cleanup_closedir DIR *d = opendir(dir);
  if (d == NULL) return core_error_set(err, errno, "reading '%s'", dir);
  for (struct dirent *e; (e = readdir(d));) {
    size_t l = strlen(e->d_name);
    if (l != 64 + 5 || strcmp(e->d_name + 64, ".json") != 0) continue;
    cleanup_free char *path = core_path_join(dir, e->d_name);
    if (path == NULL) return core_error_set(err, ENOMEM, "allocating a path");
    if (fn(s, path, ctx, err) < 0) return -1;
  }
  return 0;
}

static int count_one(core_store *s, const char *path, void *ctx, core_error **err) {
  (void)s, (void)path, (void)err;
  ++*(size_t *)ctx;
  return 0;
}

int core_link_cache_count(core_store *s, size_t *n, core_error **err) {
  *n = 0;
  return each_entry(s, count_one, n, err);
}

static int prune_one(core_store *s, const char *path, void *ctx, core_error **err) {
  cleanup_buf core_buf text = CORE_BUF_INIT;
  core_link_entry e = {0};
  int keep = 0;
  struct stat st;
  if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= CORE_LINK_ENTRY_MAX_BYTES &&
      core_read_file(path, &text, NULL) == 0 && core_link_entry_parse(text.data, text.len, &e, NULL) == 0) {
    keep = 1;
    for (size_t i = 0; i < e.n_blobs; i++) keep &= core_store_has(s, &e.blobs[i]);
  }
  core_link_entry_release(&e);
  if (keep) return 0;
  if (unlink(path) < 0 && errno != ENOENT) return core_error_set(err, errno, "removing '%s'", path);
  ++*(size_t *)ctx;
  return 0;
}

int core_link_cache_prune(core_store *s, size_t *removed, core_error **err) {
  *removed = 0;
  return each_entry(s, prune_one, removed, err);
}

/* --- capturing the link's notices --- */

static core_reporter *inner_of(core_reporter *r) { return ((core_capture_reporter *)r)->inner; }
static void cap_begin(core_reporter *r, const char *label) {
  core_reporter *in = inner_of(r);
  if (in && in->ops->begin) in->ops->begin(in, label);
}
static void cap_update(core_reporter *r, uint64_t bytes, uint64_t total) {
  core_reporter *in = inner_of(r);
  if (in && in->ops->update) in->ops->update(in, bytes, total);
}
static void cap_end(core_reporter *r, int ok) {
  core_reporter *in = inner_of(r);
  if (in && in->ops->end) in->ops->end(in, ok);
}
static void cap_notice(core_reporter *r, const char *text) {
  core_capture_reporter *c = (core_capture_reporter *)r;
  /* A notice that cannot be kept is still shown; the entry is then stored without it. */
  (void)core_buf_append(&c->notices, text, strlen(text), NULL);
  core_report_notice(c->inner, text);
}

void core_capture_reporter_init(core_capture_reporter *r, core_reporter *inner) {
  static const core_reporter_ops ops = {cap_begin, cap_update, cap_end, cap_notice};
  r->base.ops = &ops;
  r->inner = inner;
  r->notices = (core_buf)CORE_BUF_INIT;
}

void core_capture_reporter_release(core_capture_reporter *r) { core_buf_release(&r->notices); }
