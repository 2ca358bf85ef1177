/* files: single files, directories and symlinks written into the root after the layers, each
 * with a guest path that is unique, a type, a mode and an owner. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "cleanup.h"

static const field file_fields[] = {
    {"path", true, "path: /etc/app.conf"},
    {"contents", false, NULL},
    {"source", false, NULL},
    {"directory", false, NULL},
    {"symlink", false, NULL},
    {"mode", false, NULL},
    {"uid", false, NULL},
    {"gid", false, NULL},
    {"optional", false, NULL},
    {NULL, false, NULL},
};

/* The keys that say what a file is, in the order of core_file_type. */
static const char *const type_keys[] = {"contents", "source", "directory", "symlink", NULL};

static const core_yaml_node *pair_key(const core_yaml_node *map, const char *key) {
  for (size_t i = 0; i < map->n_pairs; i++)
    if (strcmp(map->pairs[i].key->value, key) == 0) return map->pairs[i].key;
  return NULL;
}

/* Which type the item has; reports none or two. */
static int file_type(checker *c, const core_yaml_node *item, const char *where) {
  int type = -1;
  for (size_t i = 0; i < item->n_pairs; i++) {
    const core_yaml_node *k = item->pairs[i].key;
    for (int t = 0; type_keys[t]; t++) {
      if (strcmp(k->value, type_keys[t]) != 0) continue;
      if (type >= 0) {
        core_diag_error(c->d, &k->pos, k->len, "write a second entry for the other",
                        "'%s' gives both '%s' and '%s'; a file is one of them", where, type_keys[type], type_keys[t]);
        return -2;
      }
      type = t;
    }
  }
  if (type == -1)
    core_diag_error(c->d, &item->pos, 0, "for example 'contents: \"hello\\n\"', 'source: ./app.conf', 'directory: true' or 'symlink: /target'",
                    "'%s' needs one of 'contents', 'source', 'directory' or 'symlink'", where);
  return type;
}

static bool fill_type(checker *c, const core_yaml_node *item, const char *where, int type, core_file *f) {
  char w[96];
  snprintf(w, sizeof w, "%s.%s", where, type_keys[type]);
  const core_yaml_node *v = core_yaml_get(item, type_keys[type]);
  f->type = (core_file_type)type;
  switch (f->type) {
    case CORE_FILE_CONTENTS: {
      /* Text as written, numbers too; NUL bytes are allowed, contents_len counts them. */
      if (v->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(v) == CORE_YAML_NULL) {
        check_type_error(c, v, w, "text", "for an empty file write 'contents: \"\"'");
        return false;
      }
      if (v->kind != CORE_YAML_SCALAR || core_yaml_scalar_type(v) == CORE_YAML_BOOL) {
        check_type_error(c, v, w, "text", NULL);
        return false;
      }
      if ((f->contents = malloc(v->value_len + 1)) == NULL) {
        check_oom(c);
        return false;
      }
      memcpy(f->contents, v->value, v->value_len + 1);
      f->contents_len = v->value_len;
      return true;
    }
    case CORE_FILE_SOURCE:
      check_source(c, v, w, &f->source);
      return true;
    case CORE_FILE_DIRECTORY: {
      bool b;
      if (!check_bool(c, v, w, &b)) return false;
      if (!b) {
        core_diag_error(c->d, &v->pos, v->len, "leave 'directory' out, and give 'contents', 'source' or 'symlink'",
                        "'%s' can only be true", w);
        return false;
      }
      return true;
    }
    case CORE_FILE_SYMLINK: {
      const char *s = check_nonempty(c, v, w);
      return s && (f->target = check_strdup(c, s)) != NULL;
    }
  }
  return false;
}

static void fill_attrs(checker *c, const core_yaml_node *item, const char *where, core_file *f) {
  char w[96];
  const core_yaml_node *v;
  uint64_t id;
  f->mode = -1;
  if ((v = core_yaml_get(item, "mode"))) {
    snprintf(w, sizeof w, "%s.mode", where);
    if (f->type == CORE_FILE_SYMLINK) {
      const core_yaml_node *k = pair_key(item, "mode");
      core_diag_error(c->d, &k->pos, k->len, "a symlink's own mode is always 0777; remove 'mode'",
                      "'%s' does not apply to a symlink", w);
    } else {
      check_mode(c, v, w, &f->mode);
    }
  }
  if ((v = core_yaml_get(item, "uid"))) {
    snprintf(w, sizeof w, "%s.uid", where);
    if (check_uint(c, v, w, 0, CHECK_ID_MAX, &id)) f->uid = (uint32_t)id;
  }
  if ((v = core_yaml_get(item, "gid"))) {
    snprintf(w, sizeof w, "%s.gid", where);
    if (check_uint(c, v, w, 0, CHECK_ID_MAX, &id)) f->gid = (uint32_t)id;
  }
  if ((v = core_yaml_get(item, "optional"))) {
    snprintf(w, sizeof w, "%s.optional", where);
    if (f->type != CORE_FILE_SOURCE) {
      const core_yaml_node *k = pair_key(item, "optional");
      core_diag_error(c->d, &k->pos, k->len, "only a file copied from a 'source' can be missing; remove 'optional'",
                      "'%s' applies only to files with a 'source'", w);
    } else {
      check_bool(c, v, w, &f->optional);
    }
  }
}

/* Paths the linker writes itself (spec/tim.md, "The initramfs"): a files: entry there, or
 * below one, would be replaced without a word, so it is refused here, where the path is. */
static const struct {
  const char *path;
  const char *what;
  const char *instead;
} linker_files[] = {
    {"/init", "coreinit, the guest's PID 1", "run your program with 'main' or 'services'"},
    {"/etc/core/init.conf", "coreinit's configuration, made from app.yml",
     "set what it holds with 'main', 'services', 'env', 'sysctls' and 'mounts'"},
    {"/dev/console", "the console device the kernel opens for PID 1", "leave /dev/console out; it is always there"},
};

/* Directories the linker writes into or mounts over: a files: entry may make them only
 * directories (the linker's own mode then wins). */
static const char *const linker_dirs[] = {"/dev", "/etc", "/etc/core", "/proc", "/sys", "/run", "/tmp", "/root", NULL};

static void check_linker_path(checker *c, const core_yaml_node *pv, const core_file *f) {
  for (size_t i = 0; i < sizeof linker_files / sizeof *linker_files; i++) {
    size_t len = strlen(linker_files[i].path);
    if (strncmp(f->path, linker_files[i].path, len) != 0 || (f->path[len] != 0 && f->path[len] != '/')) continue;
    if (f->path[len])
      core_diag_error(c->d, &pv->pos, pv->len, linker_files[i].instead,
                      "'%s' is below '%s', which the linker writes itself (%s)", f->path, linker_files[i].path,
                      linker_files[i].what);
    else
      core_diag_error(c->d, &pv->pos, pv->len, linker_files[i].instead,
                      "'%s' is written by the linker itself (%s); a files entry there would be dropped", f->path,
                      linker_files[i].what);
    return;
  }
  if (f->type == CORE_FILE_DIRECTORY) return;
  for (size_t i = 0; linker_dirs[i]; i++)
    if (strcmp(f->path, linker_dirs[i]) == 0) {
      core_diag_error(c->d, &pv->pos, pv->len, "write files below it instead",
                      "'%s' must stay a directory: the linker writes into it or mounts over it", f->path);
      return;
    }
}

void check_files(checker *c, const core_yaml_node *n) {
  if (!check_kind(c, n, CORE_YAML_SEQUENCE, "files", "a sequence of files",
                  "write each file on its own line as '- path: /etc/app.conf' with 'contents' or 'source'"))
    return;
  core_app_config *cfg = c->cfg;
  if ((cfg->files = check_calloc(c, n->n_items, sizeof *cfg->files)) == NULL) return;
  cleanup_free const core_yaml_node **path_nodes = check_calloc(c, n->n_items, sizeof *path_nodes);
  if (path_nodes == NULL) return;
  for (size_t i = 0; i < n->n_items; i++) {
    const core_yaml_node *item = n->items[i];
    char where[48], w[96];
    snprintf(where, sizeof where, "files[%zu]", i);
    if (!check_kind(c, item, CORE_YAML_MAPPING, where, "a mapping with 'path' and one of 'contents', 'source', 'directory' or 'symlink'",
                    "for example '- {path: /etc/motd, contents: \"hello\\n\"}'"))
      continue;
    check_fields(c, item, file_fields, where);
    core_file *f = &cfg->files[cfg->n_files++];
    f->pos = check_pos(c, item);
    f->mode = -1;
    const core_yaml_node *pv = core_yaml_get(item, "path");
    if (pv) {
      snprintf(w, sizeof w, "%s.path", where);
      f->path = check_abs_path(c, pv, w, false);
      path_nodes[cfg->n_files - 1] = f->path ? pv : NULL;
    }
    int type = file_type(c, item, where);
    if (type >= 0) fill_type(c, item, where, type, f);
    else f->type = CORE_FILE_CONTENTS;
    fill_attrs(c, item, where, f);
    if (f->path == NULL) continue;
    check_linker_path(c, pv, f);
    for (size_t j = 0; j + 1 < cfg->n_files; j++) {
      if (cfg->files[j].path == NULL || strcmp(cfg->files[j].path, f->path) != 0) continue;
      core_diag_error(c->d, &pv->pos, pv->len, "each path may be written once; merge the two entries",
                      "'%s' is listed twice in 'files'", f->path);
      core_diag_note(c->d, &path_nodes[j]->pos, path_nodes[j]->len, "'%s' first listed here", f->path);
      break;
    }
  }
}
