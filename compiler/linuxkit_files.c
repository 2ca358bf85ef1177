/* LinuxKit's files section -> app.yml's files: the same entries, with LinuxKit's relative
 * paths made absolute and its defaults (mode 0600, directories 0700) written out, since
 * app.yml's defaults differ. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "linuxkit_internal.h"

static const core_yaml_node *key_of(const core_yaml_node *map, const char *key) {
  for (size_t i = 0; i < map->n_pairs; i++)
    if (strcmp(map->pairs[i].key->value, key) == 0) return map->pairs[i].key;
  return NULL;
}

/* "etc/motd" and "/etc/motd" name the same file in LinuxKit: the root is implied. */
static void lower_path(lk *l, const core_yaml_node *item, const char *where, core_yaml_node *out) {
  const core_yaml_node *n = core_yaml_get(item, "path");
  if (n == NULL) {
    core_diag_error(l->d, &item->pos, 0, "for example 'path: etc/motd'", "missing required key 'path' in '%s'",
                    where);
    return;
  }
  char what[96];
  snprintf(what, sizeof what, "%s.path", where);
  const char *s = lk_string(l, n, what);
  if (s == NULL) return;
  const char *rel = s + strspn(s, "/");
  if (*rel == 0) {
    core_diag_error(l->d, &n->pos, n->len, "for example 'path: etc/motd'", "'%s' must name a file below '/'", what);
    return;
  }
  if (rel == s + 1) {
    lk_put(l, out, "path", key_of(item, "path"), lk_copy(l, n));
    return;
  }
  cleanup_free char *abs = NULL;
  if (asprintf(&abs, "/%s", rel) < 0) {
    abs = NULL;
    l->oom = true;
    return;
  }
  lk_put(l, out, "path", key_of(item, "path"), lk_str(l, n, CORE_YAML_DOUBLE_QUOTED, abs));
}

/* A local path; "~/" is the building user's home, as in LinuxKit. */
static void lower_source(lk *l, const core_yaml_node *n, const core_yaml_node *key, const char *what,
                         core_yaml_node *out) {
  const char *s = lk_string(l, n, what);
  if (s == NULL) return;
  if (*s == 0) {
    core_diag_error(l->d, &n->pos, n->len, NULL, "'%s' must not be empty", what);
    return;
  }
  cleanup_free char *home_path = NULL;
  if (strncmp(s, "~/", 2) == 0) {
    const char *home = getenv("HOME");
    if (home == NULL || *home == 0) {
      core_diag_error(l->d, &n->pos, n->len, "set HOME, or write the path out",
                      "'%s' starts with '~/' but HOME is not set", what);
      return;
    }
    if (asprintf(&home_path, "%s%s", home, s + 1) < 0) {
      home_path = NULL;
      l->oom = true;
      return;
    }
    s = home_path;
  }
  core_yaml_node *v = s == n->value ? lk_copy(l, n) : lk_str(l, n, CORE_YAML_DOUBLE_QUOTED, s);
  /* A plain string that looks like a URL is a download in app.yml; LinuxKit means a file. */
  if (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0) {
    core_yaml_node *m = lk_map(l, n);
    lk_put(l, m, "file", n, v);
    v = m;
  }
  lk_put(l, out, "source", key, v);
}

/* LinuxKit's mode is an octal string; app.yml wants a quoted octal string too. */
static bool read_mode(lk *l, const core_yaml_node *n, const char *what, unsigned *mode) {
  const char *s = lk_string(l, n, what);
  if (s == NULL) return false;
  size_t len = strlen(s);
  if (len == 0 || len > 5 || strspn(s, "01234567") != len || strtoul(s, NULL, 8) > 07777) {
    char vb[64];
    core_diag_error(l->d, &n->pos, n->len, "for example mode: \"0644\"",
                    "'%s' must be an octal permission mode up to 7777, found '%s'", what,
                    core_diag_excerpt(s, vb, sizeof vb));
    return false;
  }
  *mode = (unsigned)strtoul(s, NULL, 8);
  return true;
}

static void lower_file(lk *l, const core_yaml_node *item, const char *where, core_yaml_node *list) {
  core_yaml_node *out = lk_map(l, item);
  lower_path(l, item, where, out);
  char what[96];
  const core_yaml_node *n;
  bool directory = false, symlink = false;
  if ((n = core_yaml_get(item, "directory"))) {
    snprintf(what, sizeof what, "%s.directory", where);
    if (lk_bool(l, n, what, &directory) && directory)
      lk_put(l, out, "directory", key_of(item, "directory"), lk_str(l, n, CORE_YAML_PLAIN, "true"));
  }
  if ((n = core_yaml_get(item, "contents"))) {
    snprintf(what, sizeof what, "%s.contents", where);
    if (lk_string(l, n, what)) lk_put(l, out, "contents", key_of(item, "contents"), lk_copy(l, n));
  }
  if ((n = core_yaml_get(item, "source"))) {
    snprintf(what, sizeof what, "%s.source", where);
    lower_source(l, n, key_of(item, "source"), what, out);
  }
  if ((n = core_yaml_get(item, "symlink"))) {
    snprintf(what, sizeof what, "%s.symlink", where);
    if (lk_string(l, n, what)) {
      symlink = true;
      lk_put(l, out, "symlink", key_of(item, "symlink"), lk_copy(l, n));
    }
  }
  if ((n = core_yaml_get(item, "optional"))) {
    snprintf(what, sizeof what, "%s.optional", where);
    bool optional;
    if (lk_bool(l, n, what, &optional))
      lk_put(l, out, "optional", key_of(item, "optional"), lk_str(l, n, CORE_YAML_PLAIN, optional ? "true" : "false"));
  }
  unsigned mode = directory ? 0700 : 0600;
  const core_yaml_node *mode_at = item;
  if ((n = core_yaml_get(item, "mode"))) {
    snprintf(what, sizeof what, "%s.mode", where);
    read_mode(l, n, what, &mode);
    mode_at = n;
  }
  if (!symlink) { /* a symlink's own mode means nothing on Linux */
    char ms[8];
    snprintf(ms, sizeof ms, "%04o", mode);
    const core_yaml_node *mode_key = key_of(item, "mode");
    lk_put(l, out, "mode", mode_key ? mode_key : item, lk_str(l, mode_at, CORE_YAML_DOUBLE_QUOTED, ms));
  }
  static const char *const ids[] = {"uid", "gid"};
  for (int i = 0; i < 2; i++) {
    if ((n = core_yaml_get(item, ids[i])) == NULL) continue;
    snprintf(what, sizeof what, "%s.%s", where, ids[i]);
    unsigned long id;
    if (!lk_id(l, n, what, &id)) continue;
    char buf[24];
    snprintf(buf, sizeof buf, "%lu", id);
    lk_put(l, out, ids[i], key_of(item, ids[i]), lk_str(l, n, CORE_YAML_PLAIN, buf));
  }
  lk_append(l, list, out);
}

void lk_files(lk *l, const core_yaml_node *key, const core_yaml_node *n) {
  if (!lk_sequence(l, n, "files", "a sequence of files, each a mapping with 'path'")) return;
  core_yaml_node *list = lk_seq(l, n);
  for (size_t i = 0; i < n->n_items; i++) {
    char where[64];
    snprintf(where, sizeof where, "files[%zu]", i);
    const core_yaml_node *item = n->items[i];
    if (!lk_mapping(l, item, where)) continue;
    lk_keys(l, item, lk_file_keys, where);
    lower_file(l, item, where, list);
  }
  lk_put(l, l->root, "files", key, list);
}
