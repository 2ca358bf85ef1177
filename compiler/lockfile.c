/* Reading, matching and writing app.lock. Entries are matched by kind and the canonical
 * JSON text of their source, so a change to a source in app.yml is a new entry. */
#include "lockfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "digest.h"
#include "fsutil.h"
#include "input_file.h"

typedef struct lock_entry {
  char *kind;
  char *key;      /* canonical JSON of the source: the match key */
  json_t *source;
  json_t *old_pin; /* from the file; NULL when new in this run */
  json_t *new_pin; /* recorded by this run; NULL when unused (dropped on write) */
} lock_entry;

struct core_lockfile {
  char *path;
  bool existed;
  core_buf text; /* the file as read, to write only when the content differs */
  lock_entry *entries;
  size_t n, cap;
};

static void entry_release(lock_entry *e) {
  free(e->kind);
  free(e->key);
  json_decref(e->source);
  json_decref(e->old_pin);
  json_decref(e->new_pin);
}

void core_lockfile_free(core_lockfile *l) {
  if (l == NULL) return;
  for (size_t i = 0; i < l->n; i++) entry_release(&l->entries[i]);
  free(l->entries);
  core_buf_release(&l->text);
  free(l->path);
  free(l);
}

void core_lockfile_freep(core_lockfile **l) {
  core_lockfile_free(*l);
  *l = NULL;
}

const char *core_lockfile_path(const core_lockfile *l) { return l->path; }

size_t core_lockfile_count(const core_lockfile *l) { return l->n; }

void core_lockfile_entry(const core_lockfile *l, size_t i, const char **kind, const json_t **source,
                         const json_t **pin) {
  const lock_entry *e = &l->entries[i];
  *kind = e->kind;
  *source = e->source;
  *pin = e->new_pin ? e->new_pin : e->old_pin;
}

static char *canonical(const json_t *j, core_error **err) {
  core_buf b = CORE_BUF_INIT;
  if (core_json_dump(j, &b, err) < 0) return NULL;
  return (char *)b.data; /* NUL-terminated by core_json_dump */
}

int core_lockfile_entry_text(const core_lockfile *l, size_t i, char **out, core_error **err) {
  const char *kind;
  const json_t *source, *pin;
  core_lockfile_entry(l, i, &kind, &source, &pin);
  cleanup_free char *src = canonical(source, err);
  cleanup_free char *pn = src ? canonical(pin, err) : NULL;
  if (pn == NULL) return -1;
  if (asprintf(out, "%s %s: %s", kind, src, pn) < 0) return core_error_set(err, ENOMEM, "allocating");
  return 0;
}

/* Digests sit at any depth of a pin (an image's layers, a package's .deb): every string is looked at. */
static int walk_digests(const json_t *j, int (*fn)(void *, const char *, core_error **), void *ctx, core_error **err) {
  if (json_is_string(j) && core_digest_is_valid(json_string_value(j))) return fn(ctx, json_string_value(j), err);
  const char *k;
  size_t i;
  json_t *v;
  if (json_is_object(j)) json_object_foreach((json_t *)j, k, v) if (walk_digests(v, fn, ctx, err) < 0) return -1;
  if (json_is_array(j)) json_array_foreach(j, i, v) if (walk_digests(v, fn, ctx, err) < 0) return -1;
  return 0;
}

int core_lockfile_digests(const core_lockfile *l, int (*fn)(void *ctx, const char *digest, core_error **err),
                          void *ctx, core_error **err) {
  for (size_t i = 0; i < l->n; i++) {
    const lock_entry *e = &l->entries[i];
    if (walk_digests(e->new_pin ? e->new_pin : e->old_pin, fn, ctx, err) < 0) return -1;
  }
  return 0;
}

static lock_entry *find(const core_lockfile *l, const char *kind, const char *key) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->entries[i].kind, kind) == 0 && strcmp(l->entries[i].key, key) == 0) return &l->entries[i];
  return NULL;
}

static lock_entry *add(core_lockfile *l, const char *kind, const json_t *source, core_error **err) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    lock_entry *e = realloc(l->entries, cap * sizeof *e);
    if (e == NULL) return core_error_set(err, ENOMEM, "allocating"), NULL;
    l->entries = e;
    l->cap = cap;
  }
  lock_entry *e = &l->entries[l->n];
  memset(e, 0, sizeof *e);
  e->kind = strdup(kind);
  e->key = canonical(source, err);
  e->source = json_deep_copy(source);
  if (e->kind == NULL || e->key == NULL || e->source == NULL) {
    entry_release(e);
    if (*err == NULL) core_error_set(err, ENOMEM, "allocating");
    return NULL;
  }
  l->n++;
  return e;
}

static int bad(core_error **err, const char *path, size_t i, const char *what) {
  return core_error_set(err, 0,
                        "'%s': sources[%zu] %s; fix the file, or delete it and run 'corec lock' to pin every "
                        "source again",
                        path, i, what);
}

static int parse(core_lockfile *l, core_error **err) {
  cleanup_json json_t *doc = NULL;
  if (core_json_parse(l->text.data, l->text.len, &doc, err) < 0)
    return core_error_wrap(err, "'%s' is not a valid lock file (delete it and run 'corec lock')", l->path);
  json_t *version = json_object_get(doc, "version");
  json_t *sources = json_object_get(doc, "sources");
  if (!json_is_object(doc) || !json_is_integer(version) || !json_is_array(sources))
    return core_error_set(err, 0, "'%s' is not a lock file: it needs \"version\" and \"sources\" (spec/lock.md)",
                          l->path);
  if (json_integer_value(version) != CORE_LOCKFILE_VERSION)
    return core_error_set(err, 0, "'%s' has version %lld, but this corec reads version %d; use a matching corec or run "
                          "'corec lock' to rewrite it",
                          l->path, (long long)json_integer_value(version), CORE_LOCKFILE_VERSION);
  /* Refused on the count it claims, before the matching below (quadratic) does any work. */
  if (json_array_size(sources) > CORE_LOCKFILE_MAX_ENTRIES)
    return core_error_set(err, 0, "'%s' has %zu sources, over the limit of %d; delete it and run 'corec lock'",
                          l->path, json_array_size(sources), CORE_LOCKFILE_MAX_ENTRIES);
  size_t i;
  json_t *item;
  json_array_foreach(sources, i, item) {
    const char *kind = json_string_value(json_object_get(item, "kind"));
    json_t *source = json_object_get(item, "source");
    json_t *pin = json_object_get(item, "pin");
    if (kind == NULL || !json_is_object(source) || !json_is_object(pin))
      return bad(err, l->path, i, "needs \"kind\" (a string), \"source\" and \"pin\" (objects)");
    if (strcmp(kind, "url") && strcmp(kind, "git") && strcmp(kind, "oci") && strcmp(kind, "deb"))
      return bad(err, l->path, i, "has a kind other than url, git, oci or deb");
    if (json_object_get(source, kind) == NULL) return bad(err, l->path, i, "has a source that does not name its kind");
    cleanup_free char *key = canonical(source, err);
    if (key == NULL) return -1;
    if (find(l, kind, key)) return bad(err, l->path, i, "repeats an earlier source");
    lock_entry *e = add(l, kind, source, err);
    if (e == NULL) return -1;
    e->old_pin = json_deep_copy(pin);
    if (e->old_pin == NULL) return core_error_set(err, ENOMEM, "allocating");
  }
  return 0;
}

int core_lockfile_load(const char *path, core_lockfile **out, core_error **err) {
  cleanup_lockfile core_lockfile *l = calloc(1, sizeof *l);
  if (l == NULL || (l->path = strdup(path)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  core_error *cause = NULL;
  if (core_read_input_file(path, CORE_INPUT_MAX_BYTES, &l->text, &cause) < 0) {
    int e = cause->errnum;
    if (e != ENOENT) {
      *err = cause;
      return core_error_wrap(err, "%s", e == EFBIG || e == EISDIR || e == EINVAL
                                            ? "app.lock must be a regular file written by corec (spec/lock.md)"
                                            : "reading the lock file");
    }
    core_error_free(cause);
  } else {
    l->existed = true;
    if (parse(l, err) < 0) return -1;
  }
  *out = TAKE_PTR(l);
  return 0;
}

static int set_str(json_t *o, const char *key, const char *value) {
  return value ? json_object_set_new(o, key, json_string(value)) : 0;
}

int core_lock_source_of(const core_source *src, const char **kind, json_t **out, core_error **err) {
  *kind = NULL;
  *out = NULL;
  json_t *j = json_object();
  if (j == NULL) return core_error_set(err, ENOMEM, "allocating");
  int rc = 0;
  switch (src->kind) {
    case CORE_SOURCE_FILE: json_decref(j); return 0;
    case CORE_SOURCE_URL:
      /* The sha256 written in app.yml is a pin, not part of the name: it is checked against
       * the lock's, so changing it is caught instead of silently making a new entry. */
      *kind = "url";
      rc = set_str(j, "url", src->url);
      break;
    case CORE_SOURCE_GIT:
      *kind = "git";
      rc = set_str(j, "git", src->url) | set_str(j, "commit", src->commit) | set_str(j, "ref", src->ref);
      if (src->path && src->path[0]) rc |= set_str(j, "path", src->path);
      break;
    case CORE_SOURCE_OCI:
      *kind = "oci";
      rc = set_str(j, "oci", src->image);
      break;
    case CORE_SOURCE_DEB:
      *kind = "deb";
      rc = set_str(j, "deb", src->package) | set_str(j, "version", src->version);
      break;
  }
  if (rc) {
    json_decref(j);
    return core_error_set(err, ENOMEM, "allocating");
  }
  *out = j;
  return 0;
}

const json_t *core_lockfile_find(const core_lockfile *l, const char *kind, const json_t *source, bool fresh_only) {
  core_error *err = NULL;
  cleanup_free char *key = canonical(source, &err);
  if (key == NULL) {
    core_error_free(err);
    return NULL;
  }
  lock_entry *e = find(l, kind, key);
  if (e == NULL) return NULL;
  if (e->new_pin || fresh_only) return e->new_pin;
  return e->old_pin;
}

int core_lockfile_put(core_lockfile *l, const char *kind, const json_t *source, const json_t *pin, core_error **err) {
  cleanup_free char *key = canonical(source, err);
  if (key == NULL) return -1;
  lock_entry *e = find(l, kind, key);
  if (e == NULL && (e = add(l, kind, source, err)) == NULL) return -1;
  json_t *copy = json_deep_copy(pin);
  if (copy == NULL) return core_error_set(err, ENOMEM, "allocating");
  json_decref(e->new_pin);
  e->new_pin = copy;
  return 0;
}

static int entry_cmp(const void *a, const void *b) {
  const lock_entry *x = *(const lock_entry *const *)a, *y = *(const lock_entry *const *)b;
  int r = strcmp(x->kind, y->kind);
  return r ? r : strcmp(x->key, y->key);
}

/* The entries in the order the file lists them: by kind, then by source text. */
static const lock_entry **sorted(const core_lockfile *l, core_error **err) {
  const lock_entry **v = calloc(l->n + 1, sizeof *v);
  if (v == NULL) return core_error_set(err, ENOMEM, "allocating"), NULL;
  for (size_t i = 0; i < l->n; i++) v[i] = &l->entries[i];
  if (l->n) qsort(v, l->n, sizeof *v, entry_cmp);
  return v;
}

static int append_str(core_buf *b, const char *s, core_error **err) { return core_buf_append(b, s, strlen(s), err); }

int core_lockfile_changes(const core_lockfile *l, char **out, core_error **err) {
  cleanup_free const lock_entry **v = sorted(l, err);
  if (v == NULL) return -1;
  cleanup_buf core_buf b = CORE_BUF_INIT;
  for (size_t i = 0; i < l->n; i++) {
    const lock_entry *e = v[i];
    if (e->old_pin && e->new_pin && json_equal(e->old_pin, e->new_pin)) continue;
    if (!e->old_pin && !e->new_pin) continue;
    cleanup_free char *old_pin = e->old_pin ? canonical(e->old_pin, err) : NULL;
    cleanup_free char *new_pin = e->new_pin ? canonical(e->new_pin, err) : NULL;
    if (*err) return -1;
    cleanup_free char *line = NULL;
    int n;
    if (!e->old_pin)
      n = asprintf(&line, "add %s %s: %s\n", e->kind, e->key, new_pin);
    else if (!e->new_pin)
      n = asprintf(&line, "remove %s %s (no longer used)\n", e->kind, e->key);
    else
      n = asprintf(&line, "change %s %s: %s -> %s\n", e->kind, e->key, old_pin, new_pin);
    if (n < 0) return core_error_set(err, ENOMEM, "allocating");
    if (append_str(&b, line, err) < 0) return -1;
  }
  if (b.len && b.data[b.len - 1] == '\n') b.len--;
  if (core_buf_append(&b, "", 1, err) < 0) return -1;
  *out = (char *)core_buf_take(&b, NULL);
  return 0;
}

int core_lockfile_render(const core_lockfile *l, core_buf *out, core_error **err) {
  cleanup_free const lock_entry **v = sorted(l, err);
  if (v == NULL) return -1;
  cleanup_json json_t *sources = json_array();
  if (sources == NULL) return core_error_set(err, ENOMEM, "allocating");
  for (size_t i = 0; i < l->n; i++) {
    if (v[i]->new_pin == NULL) continue;
    json_t *e = json_pack("{s:s, s:O, s:O}", "kind", v[i]->kind, "source", v[i]->source, "pin", v[i]->new_pin);
    if (e == NULL || json_array_append_new(sources, e) < 0) return core_error_set(err, ENOMEM, "allocating");
  }
  cleanup_json json_t *doc = json_pack("{s:i, s:O}", "version", CORE_LOCKFILE_VERSION, "sources", sources);
  if (doc == NULL) return core_error_set(err, ENOMEM, "allocating");
  return core_json_dump_pretty(doc, out, err);
}

int core_lockfile_write(const core_lockfile *l, bool *written, core_error **err) {
  *written = false;
  bool any = false;
  for (size_t i = 0; i < l->n && !any; i++) any = l->entries[i].new_pin != NULL;
  /* An app with only local sources needs no lock; one is not created for it. */
  if (!l->existed && !any) return 0;
  cleanup_buf core_buf text = CORE_BUF_INIT;
  if (core_lockfile_render(l, &text, err) < 0) return -1;
  if (l->existed && text.len == l->text.len && memcmp(text.data, l->text.data, text.len) == 0) return 0;
  if (core_write_file_atomic(l->path, text.data, text.len, 0644, err) < 0)
    return core_error_wrap(err, "writing the lock file '%s'", l->path);
  *written = true;
  return 0;
}
