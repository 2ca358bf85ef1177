/* The directory tree of an ISO: level-1 names, implied parents, ECMA-119 ordering. */
#include "iso9660_tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>


int iso_is_dchars(const char *s, size_t len, size_t max) {
  if (len == 0 || len > max) return 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return 0;
  }
  return 1;
}

static iso_key make_key(const char *name, size_t name_len, const char *ext, size_t ext_len) {
  iso_key k;
  memset(k.k, ' ', sizeof k.k);
  memcpy(k.k, name, name_len);
  memcpy(k.k + 8, ext, ext_len);
  return k;
}

/* A directory component: 1-8 d-characters, no extension (ISO 9660 level 1). */
static int parse_dir_name(const char *path, const char *c, size_t len, iso_key *key, core_error **err) {
  if (!iso_is_dchars(c, len, 8))
    return core_error_set(err, 0,
                          "ISO path '%s': directory '%.*s' is not a level-1 name (1-8 of A-Z, 0-9, _)",
                          path, (int)len, c);
  *key = make_key(c, len, "", 0);
  return 0;
}

/* A file component: NAME or NAME.EXT, NAME 1-8 and EXT 0-3 d-characters (level 1, 8.3). */
static int parse_file_name(const char *path, const char *c, size_t len, iso_key *key, char id[15], core_error **err) {
  const char *dot = memchr(c, '.', len);
  size_t name_len = dot ? (size_t)(dot - c) : len;
  size_t ext_len = dot ? len - name_len - 1 : 0;
  if (!iso_is_dchars(c, name_len, 8) || (ext_len > 0 && !iso_is_dchars(dot + 1, ext_len, 3)))
    return core_error_set(err, 0,
                          "ISO path '%s': file name '%.*s' is not a level-1 name (8.3 of A-Z, 0-9, _)",
                          path, (int)len, c);
  *key = make_key(c, name_len, dot ? dot + 1 : "", ext_len);
  /* Level 1 records every file as NAME.EXT;1, the dot kept even without an extension. */
  memcpy(id, c, name_len);
  id[name_len] = '.';
  memcpy(id + name_len + 1, dot ? dot + 1 : "", ext_len);
  memcpy(id + name_len + 1 + ext_len, ";1", 3);
  return 0;
}

static iso_entry *find_entry(iso_tree *t, size_t parent, const iso_key *key) {
  for (size_t i = 0; i < t->n_entries; i++)
    if (t->entries[i].parent == parent && memcmp(t->entries[i].key.k, key->k, sizeof key->k) == 0) return &t->entries[i];
  return NULL;
}

static int push_entry(iso_tree *t, iso_entry e, core_error **err) {
  iso_entry *v = realloc(t->entries, (t->n_entries + 1) * sizeof *v);
  if (v == NULL) return core_error_set(err, ENOMEM, "allocating ISO directory entries");
  t->entries = v;
  t->entries[t->n_entries++] = e;
  return 0;
}

static int push_dir(iso_tree *t, iso_dir d, core_error **err) {
  iso_dir *v = realloc(t->dirs, (t->n_dirs + 1) * sizeof *v);
  if (v == NULL) return core_error_set(err, ENOMEM, "allocating ISO directories");
  t->dirs = v;
  t->dirs[t->n_dirs++] = d;
  return 0;
}

/* Finds or creates directory C under PARENT; *OUT is its index. */
static int enter_dir(iso_tree *t, const char *path, size_t parent, const char *c, size_t len, size_t *out, core_error **err) {
  iso_key key;
  if (parse_dir_name(path, c, len, &key, err) < 0) return -1;
  iso_entry *e = find_entry(t, parent, &key);
  if (e != NULL && !e->is_dir)
    return core_error_set(err, 0, "ISO path '%s': '%.*s' is both a file and a directory", path, (int)(c + len - path), path);
  if (e != NULL) {
    *out = e->target;
    return 0;
  }
  if (t->dirs[parent].depth + 1 > ISO_MAX_DEPTH)
    return core_error_set(err, 0, "ISO path '%s': directories nest deeper than ISO 9660's %d levels", path, ISO_MAX_DEPTH);
  iso_dir d = {.parent = parent, .depth = t->dirs[parent].depth + 1, .key = key};
  memcpy(d.id, c, len);
  d.id[len] = '\0';
  iso_entry de = {.parent = parent, .key = key, .is_dir = 1, .target = t->n_dirs};
  memcpy(de.id, d.id, len + 1);
  if (push_dir(t, d, err) < 0 || push_entry(t, de, err) < 0) return -1;
  *out = t->n_dirs - 1;
  return 0;
}

int iso_tree_add(iso_tree *t, const char *path, size_t file_index, core_error **err) {
  if (t->n_dirs == 0 && push_dir(t, (iso_dir){.parent = 0, .depth = 1}, err) < 0) return -1;
  if (path == NULL || *path == '\0') return core_error_set(err, 0, "an ISO file has an empty path");
  size_t dir = 0;
  const char *c = path;
  for (const char *slash; (slash = strchr(c, '/')) != NULL; c = slash + 1)
    if (enter_dir(t, path, dir, c, (size_t)(slash - c), &dir, err) < 0) return -1;
  iso_entry e = {.parent = dir, .target = file_index};
  if (parse_file_name(path, c, strlen(c), &e.key, e.id, err) < 0) return -1;
  iso_entry *old = find_entry(t, dir, &e.key);
  if (old != NULL && old->is_dir) return core_error_set(err, 0, "ISO path '%s' is both a file and a directory", path);
  if (old != NULL) return core_error_set(err, 0, "ISO path '%s' is given twice", path);
  return push_entry(t, e, err);
}

static int by_parent_key(const void *a, const void *b) {
  const iso_entry *x = a, *y = b;
  if (x->parent != y->parent) return x->parent < y->parent ? -1 : 1;
  return memcmp(x->key.k, y->key.k, sizeof x->key.k);
}

int iso_tree_order(iso_tree *t, core_error **err) {
  if (t->n_dirs == 0 && push_dir(t, (iso_dir){.parent = 0, .depth = 1}, err) < 0) return -1;
  if (t->n_entries) qsort(t->entries, t->n_entries, sizeof *t->entries, by_parent_key);
  free(t->order);
  t->order = malloc(t->n_dirs * sizeof *t->order);
  if (t->order == NULL) return core_error_set(err, ENOMEM, "allocating ISO directories");
  /* Breadth first, each directory's subdirectories in name order: parents are numbered before
   * their children, and a level's directories come by parent number, then name. */
  size_t n = 0;
  t->order[n++] = 0;
  for (size_t q = 0; q < n; q++) {
    t->dirs[t->order[q]].number = (uint32_t)q + 1;
    for (size_t i = 0; i < t->n_entries; i++)
      if (t->entries[i].is_dir && t->entries[i].parent == t->order[q]) t->order[n++] = t->entries[i].target;
  }
  return 0;
}

void iso_tree_release(iso_tree *t) {
  free(t->dirs);
  free(t->entries);
  free(t->order);
  *t = (iso_tree){0};
}
