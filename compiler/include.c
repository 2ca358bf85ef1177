/* Includes: resolving `include:` items to files, guarding against cycles, depth and size,
 * and merging each file's tree onto what it includes. */
#include "include.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "cleanup.h"
#include "fsutil.h"
#include "input_file.h"
#include "templates.h"

#define STDLIB_PREFIX "stdlib:"

const core_yaml_merge_rule core_app_merge_rules[] = {
    {"rootfs", NULL},     {"files", "path"},  {"onboot", "name"},        {"onshutdown", "name"},
    {"services", "name"}, {"mounts", "path"}, {"users", "name"},         {"groups", "name"},
    {"network.ports", NULL}, {"kernel.modules", NULL}, {NULL, NULL},
};

typedef struct includer {
  core_yaml_doc *out;
  core_diag *diag;
  const char *stdlib_dir;
  /* The chain being loaded: real paths find cycles, shown names describe them. */
  char *chain_real[CORE_INCLUDE_MAX_DEPTH + 1];
  char *chain_shown[CORE_INCLUDE_MAX_DEPTH + 1];
  size_t depth;
  char **done; /* real paths of files already merged: each is merged once */
  size_t n_done;
  size_t n_files;
  size_t n_bytes; /* read so far, over all files: bounded by CORE_INCLUDE_MAX_TOTAL_BYTES */
  bool oom;
} includer;

static void oom(includer *c) {
  if (!c->oom) core_diag_error(c->diag, NULL, 0, NULL, "out of memory while loading includes");
  c->oom = true;
}

static bool is_done(const includer *c, const char *real) {
  for (size_t i = 0; i < c->n_done; i++)
    if (strcmp(c->done[i], real) == 0) return true;
  return false;
}

static void mark_done(includer *c, const char *real) {
  char **done = realloc(c->done, (c->n_done + 1) * sizeof *done);
  if (done == NULL || (done[c->n_done] = strdup(real)) == NULL) {
    if (done) c->done = done;
    oom(c);
    return;
  }
  c->done = done;
  c->n_done++;
}

static core_yaml_node *load_file(includer *c, const char *path, const char *text, size_t len, const char *real,
                                 const char *shown, const core_yaml_node *at);

/* Whether a mapping is of the kind expected, an app (or part of one): empty, or with at least
 * one app.yml key. /etc/shadow parses as a mapping (each line, ending in ':', a key), as do
 * most secrets files; none has an app.yml key, and an app with a typo still has others. */
static bool app_like(const core_yaml_node *map) {
  if (map->n_pairs == 0) return true;
  for (size_t i = 0; i < map->n_pairs; i++) {
    const char *k = map->pairs[i].key->value;
    if (core_app_top_key(k) || strcmp(k, "include") == 0 || strcmp(k, "variables") == 0) return true;
  }
  return false;
}

/* "a.yml -> b.yml -> a.yml": the chain from where the cycle starts, closed by the repeat. */
static char *cycle_text(const includer *c, size_t from, const char *shown) {
  core_buf b = CORE_BUF_INIT;
  for (size_t i = from; i < c->depth; i++) {
    if (core_buf_append(&b, c->chain_shown[i], strlen(c->chain_shown[i]), NULL) < 0 ||
        core_buf_append(&b, " -> ", 4, NULL) < 0) {
      core_buf_release(&b);
      return NULL;
    }
  }
  if (core_buf_append(&b, shown, strlen(shown) + 1, NULL) < 0) {
    core_buf_release(&b);
    return NULL;
  }
  return (char *)core_buf_take(&b, NULL);
}

/* One item of an `include:` list: finds the file, refuses cycles and excess, loads it.
 * Returns the file's merged tree, or NULL when there is nothing to merge. */
static core_yaml_node *include_item(includer *c, const char *including, const core_yaml_node *item) {
  char found[96], vb[160];
  if (item->kind != CORE_YAML_SCALAR || core_yaml_scalar_type(item) == CORE_YAML_NULL || item->value_len == 0 ||
      strlen(item->value) != item->value_len) {
    core_diag_error(c->diag, &item->pos, item->len, "write a path relative to this file, or stdlib:NAME",
                    "an include must be a path or stdlib:NAME, found %s", core_yaml_describe(item, found, sizeof found));
    return NULL;
  }
  const char *v = item->value;
  cleanup_free char *path = NULL;
  cleanup_free char *dir = NULL;
  const char *stdlib_dir = core_stdlib_dir(c->stdlib_dir);
  bool is_stdlib = strncmp(v, STDLIB_PREFIX, strlen(STDLIB_PREFIX)) == 0;
  if (is_stdlib) {
    const char *name = v + strlen(STDLIB_PREFIX);
    if (!core_stdlib_name_valid(name)) {
      core_diag_error(c->diag, &item->pos, item->len, "template names are lowercase letters, digits and '-'",
                      "invalid template name '%s'", core_diag_excerpt(name, vb, sizeof vb));
      return NULL;
    }
    path = core_stdlib_path(stdlib_dir, name);
  } else {
    dir = core_path_dirname(including);
    /* "b.yml" rather than "./b.yml" in messages about files next to a relative app.yml */
    path = dir == NULL ? NULL : strcmp(dir, ".") == 0 && v[0] != '/' ? strdup(v) : core_path_join(dir, v);
  }
  if (path == NULL) {
    oom(c);
    return NULL;
  }
  const char *shown = is_stdlib ? v : path;
  cleanup_free char *real = realpath(path, NULL);
  if (real == NULL) {
    int e = errno;
    char hint[PATH_MAX + 160];
    if (is_stdlib)
      snprintf(hint, sizeof hint, "run 'corec templates' to list the templates in %s (set %s to use another directory)",
               stdlib_dir, CORE_STDLIB_ENV);
    else
      snprintf(hint, sizeof hint, "an include path is relative to the directory of the file that names it (%s)", dir);
    if (is_stdlib && e == ENOENT)
      core_diag_error(c->diag, &item->pos, item->len, hint, "unknown template '%s'", core_diag_excerpt(v, vb, sizeof vb));
    else
      core_diag_error(c->diag, &item->pos, item->len, hint, "cannot read include '%s': %s",
                      core_diag_excerpt(shown, vb, sizeof vb), strerror(e));
    return NULL;
  }
  for (size_t i = 0; i < c->depth; i++) {
    if (strcmp(c->chain_real[i], real) != 0) continue;
    cleanup_free char *chain = cycle_text(c, i, shown);
    if (chain == NULL) {
      oom(c);
      return NULL;
    }
    core_diag_error(c->diag, &item->pos, item->len, "remove one of the includes that close the circle",
                    "include cycle: %s", chain);
    return NULL;
  }
  if (is_done(c, real)) return NULL; /* merged already, through another include */
  if (c->depth > CORE_INCLUDE_MAX_DEPTH) {
    core_diag_error(c->diag, &item->pos, item->len, "flatten the chain: include the files from fewer levels",
                    "includes are nested more than %d deep", CORE_INCLUDE_MAX_DEPTH);
    return NULL;
  }
  if (c->n_files >= CORE_INCLUDE_MAX_FILES) {
    core_diag_error(c->diag, &item->pos, item->len, NULL, "more than %d files are included", CORE_INCLUDE_MAX_FILES);
    return NULL;
  }
  return load_file(c, path, NULL, 0, real, shown, item);
}

/* The `include:` list of a file's tree, loaded and merged in order; NULL when empty. */
static core_yaml_node *include_list(includer *c, const char *including, const core_yaml_node *list) {
  char found[96];
  if (list->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(list) == CORE_YAML_NULL) return NULL;
  if (list->kind != CORE_YAML_SEQUENCE) {
    core_diag_error(c->diag, &list->pos, list->len, "for example 'include: [base.yml, stdlib:busybox]'",
                    "'include' must be a sequence of paths and stdlib:NAME references, found %s",
                    core_yaml_describe(list, found, sizeof found));
    return NULL;
  }
  core_yaml_node *acc = NULL;
  for (size_t i = 0; i < list->n_items && !c->oom; i++) {
    core_yaml_node *sub = include_item(c, including, list->items[i]);
    if (sub == NULL) continue;
    acc = acc ? core_yaml_merge(acc, sub, core_app_merge_rules) : sub;
    if (acc == NULL) oom(c);
  }
  return acc;
}

/* Reads, parses and copies one file into the result, then merges it onto its includes.
 * at is the include item that names it (NULL for the app itself). */
static core_yaml_node *load_file(includer *c, const char *path, const char *text, size_t len, const char *real,
                                 const char *shown, const core_yaml_node *at) {
  cleanup_buf core_buf b = CORE_BUF_INIT;
  if (text == NULL) {
    cleanup_error core_error *e = NULL;
    /* Each file within the cap, and all of them together within theirs: what is left of the
     * total bounds this read, so a hostile set of files never makes more than that be read. */
    size_t left = c->n_bytes < CORE_INCLUDE_MAX_TOTAL_BYTES ? CORE_INCLUDE_MAX_TOTAL_BYTES - c->n_bytes : 0;
    size_t cap = left < CORE_INPUT_MAX_BYTES ? left : CORE_INPUT_MAX_BYTES;
    if (core_read_input_file(path, cap, &b, &e) < 0) {
      char vb[160], why[512];
      if (e && e->errnum == EFBIG && cap < CORE_INPUT_MAX_BYTES)
        snprintf(why, sizeof why, "the app and its includes are over %u bytes together", CORE_INCLUDE_MAX_TOTAL_BYTES);
      else
        snprintf(why, sizeof why, "%s", e ? e->msg : "error");
      const char *hint = e && e->errnum == EFBIG
                             ? "app.yml and the files it includes are YAML text; split or shorten them"
                         : e && (e->errnum == EISDIR || e->errnum == EINVAL)
                             ? "name a YAML file (a symbolic link to one is fine)"
                             : NULL;
      if (at)
        core_diag_error(c->diag, &at->pos, at->len, hint, "cannot read include '%s': %s",
                        core_diag_excerpt(shown, vb, sizeof vb), why);
      else
        core_diag_error(c->diag, NULL, 0, hint, "%s", why);
      return NULL;
    }
    text = (const char *)b.data;
    len = b.len;
  }
  c->n_bytes += len;
  c->n_files++;
  mark_done(c, real);
  core_diag_set_source(c->diag, path, text, len);
  cleanup_yaml_doc core_yaml_doc *doc = NULL;
  /* Any file may be named here (/etc/shadow): its lines are quoted in diagnostics only once
   * it has parsed as YAML (a duplicate key still leaves a tree) of the kind expected, a
   * mapping of app.yml keys; libyaml's problem and position are reported either way. */
  if (core_yaml_parse(path, text, len, c->diag, &doc) < 0) {
    core_diag_hide_source(c->diag, path);
    return NULL;
  }
  if (core_yaml_doc_add_source(c->out, path, text, len) == NULL) {
    oom(c);
    return NULL;
  }
  if (doc->root == NULL) return NULL;
  core_yaml_node *root = core_yaml_copy(c->out, doc->root, CORE_INCLUDE_MAX_NODES);
  if (root == NULL) {
    if (c->out->n_all >= CORE_INCLUDE_MAX_NODES)
      core_diag_error(c->diag, at ? &at->pos : NULL, at ? at->len : 0, NULL,
                      "the app and its includes hold more than %d nodes", CORE_INCLUDE_MAX_NODES);
    else
      oom(c);
    return NULL;
  }
  if (root->kind != CORE_YAML_MAPPING) {
    /* A text file of plain lines parses as one long scalar: not an app, not to be quoted. */
    core_diag_hide_source(c->diag, path);
    if (at == NULL) return root; /* the checker says what the top level must be */
    char found[96];
    core_diag_error(c->diag, &root->pos, root->len, NULL,
                    "an included file must be a mapping of app.yml keys, found %s",
                    core_yaml_describe(root, found, sizeof found));
    return NULL;
  }
  if (!app_like(root)) {
    /* Neither its lines nor its keys are shown: the file may be anything. */
    core_diag_hide_source(c->diag, path);
    char vb[160];
    const char *hint = "an app.yml file has keys such as 'name', 'kernel', 'services' or 'files'; its lines are not "
                       "shown, as it may hold anything";
    if (at)
      core_diag_error(c->diag, &at->pos, at->len, hint,
                      "'%s' is not an app.yml file: none of its %zu top-level keys is an app.yml key",
                      core_diag_excerpt(shown, vb, sizeof vb), root->n_pairs);
    else
      core_diag_error(c->diag, &root->pos, 0, hint,
                      "'%s' is not an app.yml file: none of its %zu top-level keys is an app.yml key",
                      core_diag_excerpt(shown, vb, sizeof vb), root->n_pairs);
    return NULL;
  }
  const core_yaml_node *list = core_yaml_get(root, "include");
  if (list == NULL) return root;
  core_yaml_remove(root, "include");
  c->chain_real[c->depth] = (char *)real;
  c->chain_shown[c->depth] = (char *)shown;
  c->depth++;
  core_yaml_node *acc = include_list(c, path, list);
  c->depth--;
  if (acc == NULL || c->oom) return root;
  core_yaml_node *merged = core_yaml_merge(acc, root, core_app_merge_rules);
  if (merged == NULL) oom(c);
  return merged;
}

int core_include_load(const char *path, const char *text, size_t len, const char *stdlib_dir, core_diag *diag,
                      core_yaml_doc **out) {
  includer c = {.diag = diag, .stdlib_dir = stdlib_dir};
  c.out = core_yaml_doc_new(path);
  if (c.out == NULL) {
    oom(&c);
    return -1;
  }
  /* The app itself may not exist as a file (text given): its own name stands in. */
  cleanup_free char *real = realpath(path, NULL);
  core_yaml_node *root = load_file(&c, path, text, len, real ? real : path, path, NULL);
  int parsed = c.n_files > 0 && c.out->n_sources > 0;
  for (size_t i = 0; i < c.n_done; i++) free(c.done[i]);
  free(c.done);
  if (!parsed || c.oom) {
    core_yaml_doc_free(c.out);
    return -1;
  }
  c.out->root = root;
  *out = c.out;
  return 0;
}
