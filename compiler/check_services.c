/* onboot, onshutdown and services: what the guest runs besides main, their names (unique across
 * the three lists), and the order depends_on gives services, which must have no cycle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "cleanup.h"

static const field step_fields[] = {
    {"name", false, NULL},
    {"run", true, "run: [\"/sbin/setup\"]"},
    {"env", false, NULL},
    {"root", false, NULL},
    {NULL, false, NULL},
};
static const field service_fields[] = {
    {"name", true, "name: web"},
    {"run", true, "run: [\"/bin/server\"]"},
    {"restart", false, NULL},
    {"env", false, NULL},
    {"cwd", false, NULL},
    {"user", false, NULL},
    {"depends_on", false, NULL},
    {"root", false, NULL},
    {NULL, false, NULL},
};

static const word_rule process_name_rule = {
    CHECK_LOWER CHECK_DIGIT, CHECK_LOWER CHECK_DIGIT "-", "a lowercase letter or a digit",
    "lowercase letters, digits and '-'", 63, true,
};

static const char *const restart_values[] = {"always", "on-failure", "never", NULL};

static char *check_process_name(checker *c, const core_yaml_node *n, const char *what) {
  const char *s = check_string(c, n, what);
  if (s == NULL || !check_word(c, n, s, what, &process_name_rule)) return NULL;
  return check_strdup(c, s);
}

static void check_root(checker *c, const core_yaml_node *item, const char *where, char **out) {
  const core_yaml_node *v = core_yaml_get(item, "root");
  if (v == NULL) return;
  char w[96];
  snprintf(w, sizeof w, "%s.root", where);
  *out = check_abs_path(c, v, w, true);
}

void check_steps(checker *c, const core_yaml_node *n, const char *key, core_step **out, size_t *n_out) {
  char hint[128];
  snprintf(hint, sizeof hint, "write each step on its own line as '- run: [\"/sbin/setup\"]'");
  if (!check_kind(c, n, CORE_YAML_SEQUENCE, key, "a sequence of steps", hint)) return;
  core_step *steps = check_calloc(c, n->n_items, sizeof *steps);
  if (steps == NULL) return;
  *out = steps;
  for (size_t i = 0; i < n->n_items; i++) {
    const core_yaml_node *item = n->items[i];
    char where[48], w[96];
    snprintf(where, sizeof where, "%s[%zu]", key, i);
    if (item->kind == CORE_YAML_SCALAR || item->kind == CORE_YAML_SEQUENCE) {
      check_type_error(c, item, where, "a mapping with 'run' and optionally 'name' and 'env'",
                       "write it as '- run: COMMAND'");
      continue;
    }
    check_fields(c, item, step_fields, where);
    core_step *s = &steps[(*n_out)++];
    s->pos = check_pos(c, item);
    const core_yaml_node *v = core_yaml_get(item, "name");
    if (v) {
      snprintf(w, sizeof w, "%s.name", where);
      s->name = check_process_name(c, v, w);
    } else if (asprintf(&s->name, "%s-%zu", key, i) < 0) {
      s->name = NULL;
      check_oom(c);
    }
    if (s->name) check_name_add(c, s->name, v, item, key);
    if ((v = core_yaml_get(item, "run"))) {
      snprintf(w, sizeof w, "%s.run", where);
      check_command(c, v, w, &s->run);
    }
    if ((v = core_yaml_get(item, "env"))) {
      snprintf(w, sizeof w, "%s.env", where);
      check_env(c, v, w, &s->env, &s->n_env);
    }
    check_root(c, item, where, &s->root);
  }
}

/* "root", "www-data", "1000" or "1000:1000". */
static void check_user_ref(checker *c, const core_yaml_node *v, const char *what, char **out) {
  const char *s = check_nonempty(c, v, what);
  if (s == NULL) return;
  if (s[0] >= '0' && s[0] <= '9') {
    const char *colon = strchr(s, ':');
    size_t ul = colon ? (size_t)(colon - s) : strlen(s);
    bool ok = strspn(s, CHECK_DIGIT) == ul && ul <= 10 && strtoull(s, NULL, 10) <= CHECK_ID_MAX;
    if (ok && colon) {
      size_t gl = strlen(colon + 1);
      ok = gl > 0 && gl <= 10 && strspn(colon + 1, CHECK_DIGIT) == gl && strtoull(colon + 1, NULL, 10) <= CHECK_ID_MAX;
    }
    if (!ok) {
      char vb[64];
      core_diag_error(c->d, &v->pos, v->len, "write a user name, or numeric ids as UID or UID:GID (up to 4294967294)",
                      "'%s' must be a user name or UID[:GID], found '%s'", what, core_diag_excerpt(s, vb, sizeof vb));
      return;
    }
  } else if (!check_word(c, v, s, what, &check_user_name_rule)) {
    return;
  }
  /* A name need not be declared in 'users': the root file system's /etc/passwd may hold it. */
  *out = check_strdup(c, s);
}

static void check_depends(checker *c, const core_yaml_node *v, const char *what, core_service *s) {
  if (!check_kind(c, v, CORE_YAML_SEQUENCE, what, "a sequence of service names", "for example 'depends_on: [db]'"))
    return;
  if ((s->depends_on = check_calloc(c, v->n_items + 1, sizeof *s->depends_on)) == NULL ||
      (s->depends_pos = check_calloc(c, v->n_items + 1, sizeof *s->depends_pos)) == NULL)
    return;
  for (size_t j = 0; j < v->n_items; j++) {
    char w[128];
    snprintf(w, sizeof w, "%s[%zu]", what, j);
    const char *name = check_nonempty(c, v->items[j], w);
    if (name == NULL) continue;
    bool twice = false;
    for (size_t k = 0; k < s->n_depends && !twice; k++) twice = strcmp(s->depends_on[k], name) == 0;
    if (twice) {
      core_diag_error(c->d, &v->items[j]->pos, v->items[j]->len, NULL, "'%s' lists '%s' twice", what, name);
      continue;
    }
    if ((s->depends_on[s->n_depends] = check_strdup(c, name)) == NULL) return;
    s->depends_pos[s->n_depends++] = check_pos(c, v->items[j]);
  }
}

void check_services(checker *c, const core_yaml_node *n) {
  if (!check_kind(c, n, CORE_YAML_SEQUENCE, "services", "a sequence of services",
                  "write each service as '- name: web' with 'run: [\"/bin/server\"]' below it"))
    return;
  core_app_config *cfg = c->cfg;
  if ((cfg->services = check_calloc(c, n->n_items, sizeof *cfg->services)) == NULL) return;
  for (size_t i = 0; i < n->n_items; i++) {
    const core_yaml_node *item = n->items[i];
    char where[48], w[96];
    snprintf(where, sizeof where, "services[%zu]", i);
    if (!check_kind(c, item, CORE_YAML_MAPPING, where, "a mapping with 'name' and 'run'",
                    "for example '- {name: web, run: [\"/bin/server\"]}'"))
      continue;
    check_fields(c, item, service_fields, where);
    core_service *s = &cfg->services[cfg->n_services++];
    s->pos = check_pos(c, item);
    const core_yaml_node *v;
    if ((v = core_yaml_get(item, "name"))) {
      snprintf(w, sizeof w, "%s.name", where);
      if ((s->name = check_process_name(c, v, w))) check_name_add(c, s->name, v, item, "services");
    }
    if ((v = core_yaml_get(item, "run"))) {
      snprintf(w, sizeof w, "%s.run", where);
      check_command(c, v, w, &s->run);
    }
    if ((v = core_yaml_get(item, "restart"))) {
      snprintf(w, sizeof w, "%s.restart", where);
      int r = check_enum(c, v, w, restart_values);
      static const core_restart policies[] = {CORE_RESTART_ALWAYS, CORE_RESTART_ON_FAILURE, CORE_RESTART_NEVER};
      if (r >= 0) s->restart = policies[r];
    }
    if ((v = core_yaml_get(item, "env"))) {
      snprintf(w, sizeof w, "%s.env", where);
      check_env(c, v, w, &s->env, &s->n_env);
    }
    if ((v = core_yaml_get(item, "cwd"))) {
      snprintf(w, sizeof w, "%s.cwd", where);
      s->cwd = check_abs_path(c, v, w, true);
    } else {
      s->cwd = check_strdup(c, "/");
    }
    if ((v = core_yaml_get(item, "user"))) {
      snprintf(w, sizeof w, "%s.user", where);
      check_user_ref(c, v, w, &s->user);
    }
    if ((v = core_yaml_get(item, "depends_on"))) {
      snprintf(w, sizeof w, "%s.depends_on", where);
      check_depends(c, v, w, s);
    }
    check_root(c, item, where, &s->root);
  }
}

/* --- across the lists --- */

static void report_duplicate_names(checker *c) {
  for (size_t i = 1; i < c->n_named; i++) {
    const check_named *b = &c->named[i];
    for (size_t j = 0; j < i; j++) {
      const check_named *a = &c->named[j];
      if (strcmp(a->name, b->name) != 0) continue;
      const core_yaml_node *at = b->node ? b->node : b->item;
      bool both_services = strcmp(a->list, "services") == 0 && strcmp(b->list, "services") == 0;
      if (both_services)
        core_diag_error(c->d, &at->pos, at->len, "service names must be unique", "service '%s' is defined twice", b->name);
      else
        core_diag_error(c->d, &at->pos, b->node ? at->len : 0, "steps and services share one set of names",
                        "the name '%s' is already used by %s %s", b->name,
                        strcmp(a->list, "services") == 0 ? "a service in" : "a step in", a->list);
      const core_yaml_node *first = a->node ? a->node : a->item;
      if (a->node)
        core_diag_note(c->d, &first->pos, first->len, "'%s' first used here", a->name);
      else
        core_diag_note(c->d, &first->pos, 0, "the step here is named '%s' by default", a->name);
      break;
    }
  }
}

/* The first service named name, or -1. */
static long service_index(const core_app_config *cfg, const char *name) {
  for (size_t i = 0; i < cfg->n_services; i++)
    if (cfg->services[i].name && strcmp(cfg->services[i].name, name) == 0) return (long)i;
  return -1;
}

static void report_unknown_dependency(checker *c, const core_service *s, size_t j) {
  const core_app_config *cfg = c->cfg;
  const char *dep = s->depends_on[j];
  const core_pos *p = &s->depends_pos[j];
  int len = (int)strlen(dep);
  if (strcmp(dep, s->name) == 0) {
    core_diag_error(c->d, p, len, "remove it from 'depends_on'", "service '%s' depends on itself", s->name);
    return;
  }
  for (size_t k = 0; k < c->n_named; k++) {
    if (strcmp(c->named[k].name, dep) != 0 || strcmp(c->named[k].list, "services") == 0) continue;
    core_diag_error(c->d, p, len, "every onboot step has finished before the first service starts; remove it",
                    "service '%s' depends on '%s', which is a step in %s, not a service", s->name, dep,
                    c->named[k].list);
    return;
  }
  cleanup_free const char **names = calloc(cfg->n_services + 1, sizeof *names);
  const char *near = NULL;
  if (names) {
    for (size_t k = 0; k < cfg->n_services; k++) names[k] = cfg->services[k].name;
    near = check_closest(dep, names, cfg->n_services);
  }
  if (near)
    core_diag_error(c->d, p, len, NULL, "service '%s' depends on unknown service '%s' (did you mean '%s'?)", s->name, dep,
                    near);
  else
    core_diag_error(c->d, p, len, "depends_on names services defined under 'services'",
                    "service '%s' depends on unknown service '%s'", s->name, dep);
}

enum { WHITE, GREY, BLACK };

typedef struct graph {
  checker *c;
  unsigned char *color;
  size_t *stack; /* services on the current path */
  size_t depth;
} graph;

/* Kept out of visit() so that the recursion's frames stay small. */
static __attribute__((noinline)) void report_cycle(graph *g, const core_service *s, size_t j, size_t t) {
  const core_app_config *cfg = g->c->cfg;
  size_t from = 0;
  while (g->stack[from] != t) from++;
  char cycle[512] = "";
  for (size_t k = from; k < g->depth; k++) {
    size_t len = strlen(cycle);
    snprintf(cycle + len, sizeof cycle - len, "%s -> ", cfg->services[g->stack[k]].name);
  }
  size_t len = strlen(cycle);
  snprintf(cycle + len, sizeof cycle - len, "%s", cfg->services[t].name);
  core_diag_error(g->c->d, &s->depends_pos[j], (int)strlen(s->depends_on[j]),
                  "services start in depends_on order, so a cycle can never start; remove one of its edges",
                  "dependency cycle: %s", cycle);
}

/* Depth first; an edge to a service on the current path closes a cycle, reported at that edge. */
static void visit(graph *g, size_t i) {
  core_app_config *cfg = g->c->cfg;
  core_service *s = &cfg->services[i];
  g->color[i] = GREY;
  g->stack[g->depth++] = i;
  for (size_t j = 0; j < s->n_depends; j++) {
    long t = service_index(cfg, s->depends_on[j]);
    if (t < 0 || (size_t)t == i) continue;
    if (g->color[t] == WHITE) {
      visit(g, (size_t)t);
    } else if (g->color[t] == GREY) {
      report_cycle(g, s, j, (size_t)t);
    }
  }
  g->depth--;
  g->color[i] = BLACK;
}

void check_service_graph(checker *c) {
  report_duplicate_names(c);
  core_app_config *cfg = c->cfg;
  for (size_t i = 0; i < cfg->n_services; i++) {
    core_service *s = &cfg->services[i];
    if (s->name == NULL) continue;
    for (size_t j = 0; j < s->n_depends; j++) {
      long t = service_index(cfg, s->depends_on[j]);
      if (t < 0 || (size_t)t == i) report_unknown_dependency(c, s, j);
    }
  }
  if (cfg->n_services == 0) return;
  graph g = {c, calloc(cfg->n_services, 1), calloc(cfg->n_services, sizeof(size_t)), 0};
  if (g.color == NULL || g.stack == NULL) {
    check_oom(c);
  } else {
    for (size_t i = 0; i < cfg->n_services; i++)
      if (cfg->services[i].name && g.color[i] == WHITE) visit(&g, i);
  }
  free(g.color);
  free(g.stack);
}
