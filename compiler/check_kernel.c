/* The kernel (its source, command line and modules) and the root file system's layers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "cleanup.h"

static const field kernel_fields[] = {
    {"source", true, "source: ./vmlinuz"},
    {"cmdline", false, NULL},
    {"modules", false, NULL},
    {NULL, false, NULL},
};
static const field layer_fields[] = {
    {"source", true, "source: ./rootfs.tar"},
    {"dest", false, NULL},
    {NULL, false, NULL},
};

static bool is_ascii_alnum(unsigned char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

static bool module_name_ok(const char *s) {
  if (*s == 0) return false;
  for (; *s; s++)
    if (!is_ascii_alnum((unsigned char)*s) && *s != '_' && *s != '-') return false;
  return true;
}

typedef struct module_seen {
  const char *name; /* normalised */
  const core_yaml_node *node;
  size_t index;
} module_seen;

static int module_cmp(const void *a, const void *b) {
  const module_seen *x = a, *y = b;
  int r = strcmp(x->name, y->name);
  if (r) return r;
  return x->index < y->index ? -1 : x->index > y->index;
}

static void check_modules(checker *c, const core_yaml_node *n) {
  if (!check_kind(c, n, CORE_YAML_SEQUENCE, "kernel.modules", "a sequence of module names",
                 "for example 'modules: [virtio_net, virtio_blk]'"))
    return;
  core_app_config *cfg = c->cfg;
  if (n->n_items == 0) return;
  cfg->modules = calloc(n->n_items, sizeof *cfg->modules);
  module_seen *seen = calloc(n->n_items, sizeof *seen);
  if (cfg->modules == NULL || seen == NULL) {
    free(seen);
    check_oom(c);
    return;
  }
  size_t n_seen = 0;
  for (size_t i = 0; i < n->n_items; i++) {
    const core_yaml_node *item = n->items[i];
    char what[64];
    snprintf(what, sizeof what, "kernel.modules[%zu]", i);
    const char *s = check_nonempty(c, item, what);
    if (s == NULL) continue;
    if (!module_name_ok(s)) {
      char vb[80];
      size_t len = strlen(s);
      const char *hint = len > 3 && strcmp(s + len - 3, ".ko") == 0
                             ? "give the name without '.ko', as modprobe takes it"
                             : "module names are made of letters, digits, '_' and '-', as modprobe takes them";
      core_diag_error(c->d, &item->pos, item->len, hint, "'%s' is not a valid module name: '%s'", what,
                      core_diag_excerpt(s, vb, sizeof vb));
      continue;
    }
    /* modprobe treats '-' and '_' alike; keep the form the kernel reports. */
    char *name = check_strdup(c, s);
    if (name == NULL) break;
    for (char *p = name; *p; p++)
      if (*p == '-') *p = '_';
    cfg->modules[cfg->n_modules++] = (core_module_ref){name, check_pos(c, item)};
    seen[n_seen++] = (module_seen){name, item, i};
  }
  qsort(seen, n_seen, sizeof *seen, module_cmp);
  for (size_t i = 1, first = 0; i < n_seen; i++) {
    if (strcmp(seen[i].name, seen[first].name) != 0) {
      first = i;
      continue;
    }
    const core_yaml_node *a = seen[first].node, *b = seen[i].node;
    bool differ = strcmp(a->value, b->value) != 0;
    core_diag_error(c->d, &b->pos, b->len, differ ? "'-' and '_' are the same in module names" : NULL,
                    "module '%s' is listed twice", b->value);
    core_diag_note(c->d, &a->pos, a->len, "'%s' first listed here", a->value);
  }
  free(seen);
}

void check_kernel(checker *c, const core_yaml_node *n) {
  char hint[160] = "for example:  kernel: {source: ./vmlinuz}";
  char vb[80];
  if (n->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(n) == CORE_YAML_STR)
    snprintf(hint, sizeof hint, "write it as:  kernel: {source: %s}", core_diag_excerpt(n->value, vb, sizeof vb));
  if (!check_kind(c, n, CORE_YAML_MAPPING, "kernel", "a mapping", hint)) return;
  check_fields(c, n, kernel_fields, "kernel");
  const core_yaml_node *v;
  if ((v = core_yaml_get(n, "source"))) check_source(c, v, "kernel.source", &c->cfg->kernel);
  if ((v = core_yaml_get(n, "cmdline"))) {
    const char *s = check_string(c, v, "kernel.cmdline");
    if (s) {
      free(c->cfg->cmdline);
      c->cfg->cmdline = check_strdup(c, s);
    }
  }
  if ((v = core_yaml_get(n, "modules"))) check_modules(c, v);
}

void check_rootfs(checker *c, const core_yaml_node *n) {
  if (!check_kind(c, n, CORE_YAML_SEQUENCE, "rootfs", "a sequence of layers",
                 "write each layer on its own line as '- source: PATH'"))
    return;
  if (n->n_items == 0) return;
  core_app_config *cfg = c->cfg;
  cfg->layers = calloc(n->n_items, sizeof *cfg->layers);
  if (cfg->layers == NULL) {
    check_oom(c);
    return;
  }
  for (size_t i = 0; i < n->n_items; i++) {
    const core_yaml_node *item = n->items[i];
    char where[64], what[80];
    snprintf(where, sizeof where, "rootfs[%zu]", i);
    char hint[160] = "write it as '- source: PATH', with 'dest: /DIR' on the next line if needed";
    char vb[80];
    if (item->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(item) == CORE_YAML_STR)
      snprintf(hint, sizeof hint, "write it as '- source: %s'", core_diag_excerpt(item->value, vb, sizeof vb));
    if (!check_kind(c, item, CORE_YAML_MAPPING, where, "a mapping with 'source' and optionally 'dest'", hint))
      continue;
    check_fields(c, item, layer_fields, where);
    core_layer *layer = &cfg->layers[cfg->n_layers++];
    layer->pos = check_pos(c, item);
    const core_yaml_node *v;
    if ((v = core_yaml_get(item, "source"))) {
      snprintf(what, sizeof what, "%s.source", where);
      check_source(c, v, what, &layer->source);
    }
    if ((v = core_yaml_get(item, "dest"))) {
      snprintf(what, sizeof what, "%s.dest", where);
      cleanup_free char *dest = check_abs_path(c, v, what, true);
      if (dest) layer->dest = check_strdup(c, dest + 1); /* stored relative to the root */
    } else {
      layer->dest = check_strdup(c, "");
    }
  }
}

