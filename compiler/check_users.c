/* users and groups: accounts added to the guest's /etc/passwd and /etc/group, with unique
 * names and ids, and group members that name users. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "cleanup.h"

static const field user_fields[] = {
    {"name", true, "name: app"},
    {"uid", true, "uid: 1000"},
    {"gid", false, NULL},
    {"home", false, NULL},
    {"shell", false, NULL},
    {NULL, false, NULL},
};
static const field group_fields[] = {
    {"name", true, "name: app"},
    {"gid", true, "gid: 1000"},
    {"members", false, NULL},
    {NULL, false, NULL},
};

/* What a duplicate is reported against: the node of the first occurrence. */
typedef struct seen {
  const core_yaml_node *name, *id;
} seen;

static char *check_account_name(checker *c, const core_yaml_node *n, const char *what) {
  const char *s = check_string(c, n, what);
  if (s == NULL || !check_word(c, n, s, what, &check_user_name_rule)) return NULL;
  return check_strdup(c, s);
}

static bool get_id(checker *c, const core_yaml_node *item, const char *where, const char *key, uint32_t *out,
                   const core_yaml_node **node) {
  const core_yaml_node *v = core_yaml_get(item, key);
  uint64_t id;
  char w[96];
  snprintf(w, sizeof w, "%s.%s", where, key);
  *node = NULL;
  if (v == NULL || !check_uint(c, v, w, 0, CHECK_ID_MAX, &id)) return false;
  *out = (uint32_t)id;
  *node = v;
  return true;
}

static void duplicate(checker *c, const core_yaml_node *second, const core_yaml_node *first, const char *what,
                      const char *value) {
  core_diag_error(c->d, &second->pos, second->len, NULL, "%s %s is defined twice", what, value);
  core_diag_note(c->d, &first->pos, first->len, "%s %s first defined here", what, value);
}

static void check_groups(checker *c, const core_yaml_node *n, seen *gseen) {
  core_app_config *cfg = c->cfg;
  if ((cfg->groups = check_calloc(c, n->n_items, sizeof *cfg->groups)) == NULL) return;
  for (size_t i = 0; i < n->n_items; i++) {
    const core_yaml_node *item = n->items[i];
    char where[48], w[96];
    snprintf(where, sizeof where, "groups[%zu]", i);
    if (!check_kind(c, item, CORE_YAML_MAPPING, where, "a mapping with 'name' and 'gid'",
                    "for example '- {name: app, gid: 1000, members: [app]}'"))
      continue;
    check_fields(c, item, group_fields, where);
    core_group *g = &cfg->groups[cfg->n_groups];
    seen *me = &gseen[cfg->n_groups++];
    g->pos = check_pos(c, item);
    const core_yaml_node *v = core_yaml_get(item, "name");
    snprintf(w, sizeof w, "%s.name", where);
    if (v && (g->name = check_account_name(c, v, w))) me->name = v;
    get_id(c, item, where, "gid", &g->gid, &me->id);
    for (size_t j = 0; j + 1 < cfg->n_groups; j++) {
      char num[16];
      if (me->name && gseen[j].name && strcmp(cfg->groups[j].name, g->name) == 0) {
        char q[80];
        snprintf(q, sizeof q, "'%s'", g->name);
        duplicate(c, me->name, gseen[j].name, "group", q);
      }
      if (me->id && gseen[j].id && cfg->groups[j].gid == g->gid) {
        snprintf(num, sizeof num, "%u", g->gid);
        duplicate(c, me->id, gseen[j].id, "gid", num);
      }
    }
    if ((v = core_yaml_get(item, "members")) == NULL) continue;
    snprintf(w, sizeof w, "%s.members", where);
    if (!check_kind(c, v, CORE_YAML_SEQUENCE, w, "a sequence of user names", "for example 'members: [app, www-data]'"))
      continue;
    if ((g->members = check_calloc(c, v->n_items + 1, sizeof *g->members)) == NULL) continue;
    for (size_t k = 0; k < v->n_items; k++) {
      char mw[128];
      snprintf(mw, sizeof mw, "%s[%zu]", w, k);
      char *name = check_account_name(c, v->items[k], mw);
      if (name == NULL) continue;
      bool twice = false;
      for (size_t j = 0; j < g->n_members && !twice; j++) twice = strcmp(g->members[j], name) == 0;
      if (twice) {
        core_diag_error(c->d, &v->items[k]->pos, v->items[k]->len, NULL, "'%s' lists '%s' twice", w, name);
        free(name);
        continue;
      }
      g->members[g->n_members++] = name;
      bool declared = false;
      for (size_t u = 0; u < cfg->n_users && !declared; u++)
        declared = cfg->users[u].name && strcmp(cfg->users[u].name, name) == 0;
      /* The root file system's /etc/passwd may hold the user, so this is only a warning. */
      if (!declared)
        core_diag_warning(c->d, &v->items[k]->pos, v->items[k]->len,
                          "declare it under 'users', unless the root file system's /etc/passwd has it",
                          "group '%s' lists '%s', which is not declared in 'users'", g->name ? g->name : "?", name);
    }
  }
}

void check_users(checker *c, const core_yaml_node *users, const core_yaml_node *groups) {
  core_app_config *cfg = c->cfg;
  bool users_ok = users && check_kind(c, users, CORE_YAML_SEQUENCE, "users", "a sequence of users",
                                      "for example 'users: [{name: app, uid: 1000}]'");
  bool groups_ok = groups && check_kind(c, groups, CORE_YAML_SEQUENCE, "groups", "a sequence of groups",
                                        "for example 'groups: [{name: app, gid: 1000}]'");
  cleanup_free seen *useen = users_ok ? check_calloc(c, users->n_items + 1, sizeof *useen) : NULL;
  cleanup_free seen *gseen = groups_ok ? check_calloc(c, groups->n_items + 1, sizeof *gseen) : NULL;
  cleanup_free bool *gid_given = users_ok ? check_calloc(c, users->n_items + 1, sizeof *gid_given) : NULL;
  if (users_ok && useen && gid_given && (cfg->users = check_calloc(c, users->n_items, sizeof *cfg->users))) {
    for (size_t i = 0; i < users->n_items; i++) {
      const core_yaml_node *item = users->items[i];
      char where[48], w[96];
      snprintf(where, sizeof where, "users[%zu]", i);
      if (!check_kind(c, item, CORE_YAML_MAPPING, where, "a mapping with 'name' and 'uid'",
                      "for example '- {name: app, uid: 1000}'"))
        continue;
      check_fields(c, item, user_fields, where);
      size_t me_i = cfg->n_users++;
      core_user *u = &cfg->users[me_i];
      seen *me = &useen[me_i];
      u->pos = check_pos(c, item);
      const core_yaml_node *v = core_yaml_get(item, "name"), *gidn;
      snprintf(w, sizeof w, "%s.name", where);
      if (v && (u->name = check_account_name(c, v, w))) me->name = v;
      get_id(c, item, where, "uid", &u->uid, &me->id);
      gid_given[me_i] = get_id(c, item, where, "gid", &u->gid, &gidn);
      for (size_t j = 0; j < me_i; j++) {
        if (me->name && useen[j].name && strcmp(cfg->users[j].name, u->name) == 0) {
          char q[80];
          snprintf(q, sizeof q, "'%s'", u->name);
          duplicate(c, me->name, useen[j].name, "user", q);
        }
        if (me->id && useen[j].id && cfg->users[j].uid == u->uid) {
          char num[16];
          snprintf(num, sizeof num, "%u", u->uid);
          duplicate(c, me->id, useen[j].id, "uid", num);
        }
      }
      if ((v = core_yaml_get(item, "home"))) {
        snprintf(w, sizeof w, "%s.home", where);
        u->home = check_abs_path(c, v, w, true);
      } else if (u->name) {
        if (u->uid == 0) u->home = check_strdup(c, "/root");
        else if (asprintf(&u->home, "/home/%s", u->name) < 0) {
          u->home = NULL;
          check_oom(c);
        }
      }
      if ((v = core_yaml_get(item, "shell"))) {
        snprintf(w, sizeof w, "%s.shell", where);
        u->shell = check_abs_path(c, v, w, false);
      } else {
        u->shell = check_strdup(c, "/bin/sh");
      }
    }
  }
  if (groups_ok && gseen) check_groups(c, groups, gseen);
  /* A user without a gid joins the group of its own name, else the group numbered as its uid. */
  for (size_t i = 0; gid_given && i < cfg->n_users; i++) {
    core_user *u = &cfg->users[i];
    if (gid_given[i]) continue;
    u->gid = u->uid;
    for (size_t j = 0; u->name && j < cfg->n_groups; j++)
      if (cfg->groups[j].name && strcmp(cfg->groups[j].name, u->name) == 0) u->gid = cfg->groups[j].gid;
  }
}
