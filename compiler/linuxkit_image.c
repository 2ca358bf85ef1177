/* LinuxKit's onboot, onshutdown and services entries: each image becomes a rootfs layer under
 * /containers/SECTION/NAME/rootfs, where LinuxKit lays it out too, and a step or service that
 * runs its command chrooted there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linuxkit_internal.h"

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_-"

/* One entry as read, before it is written out. */
typedef struct entry {
  const char *section; /* "onboot", "onshutdown", "services" */
  bool service;
  const char *where;   /* "services[0]" */
  const core_yaml_node *item;
  const core_yaml_node *name, *image, *image_key, *command, *command_key;
  const core_yaml_node *env, *env_key, *cwd, *cwd_key, *uid, *gid, *user_key;
  unsigned long uid_v, gid_v;
  bool ok;
} entry;

static const core_yaml_node *key_of(const core_yaml_node *map, const char *key) {
  for (size_t i = 0; i < map->n_pairs; i++)
    if (strcmp(map->pairs[i].key->value, key) == 0) return map->pairs[i].key;
  return NULL;
}

static void missing(lk *l, const entry *e, const char *key, const char *hint) {
  core_diag_error(l->d, &e->item->pos, 0, hint, "missing required key '%s' in '%s'", key, e->where);
}

/* LinuxKit's own rule for names ([a-z0-9_-]+); core's stricter one is the checker's. Checked
 * here because the name becomes a directory. */
static void read_name(lk *l, entry *e) {
  const core_yaml_node *n = core_yaml_get(e->item, "name");
  if (n == NULL) {
    missing(l, e, "name", "for example 'name: getty'");
    e->ok = false;
    return;
  }
  char what[96];
  snprintf(what, sizeof what, "%s.name", e->where);
  const char *s = lk_string(l, n, what);
  if (s == NULL) {
    e->ok = false;
    return;
  }
  size_t good = strspn(s, NAME_CHARS);
  if (*s == 0 || s[good]) {
    core_pos p = *s ? lk_char_pos(n, good) : n->pos;
    char vb[80];
    core_diag_error(l->d, &p, *s ? 1 : n->len, "LinuxKit names use lowercase letters, digits, '_' and '-'",
                    "'%s' must be a name, found '%s'", what, core_diag_excerpt(s, vb, sizeof vb));
    e->ok = false;
    return;
  }
  e->name = n;
}

static void read_image(lk *l, entry *e) {
  const core_yaml_node *n = core_yaml_get(e->item, "image");
  if (n == NULL) {
    missing(l, e, "image", "for example 'image: linuxkit/getty:TAG'");
    e->ok = false;
    return;
  }
  char what[96];
  snprintf(what, sizeof what, "%s.image", e->where);
  const char *s = lk_string(l, n, what);
  if (s && *s == 0) {
    core_diag_error(l->d, &n->pos, n->len, NULL, "'%s' must not be empty", what);
    s = NULL;
  }
  if (s == NULL) {
    e->ok = false;
    return;
  }
  e->image = n;
  e->image_key = key_of(e->item, "image");
}

static void read_command(lk *l, entry *e) {
  const core_yaml_node *n = core_yaml_get(e->item, "command");
  char what[96];
  snprintf(what, sizeof what, "%s.command", e->where);
  if (n == NULL) {
    /* LinuxKit falls back on the image's entrypoint and cmd, and on its org.mobyproject.config
     * label; core reads neither yet, and guessing a command would boot something else. */
    core_diag_error(l->d, e->name ? &e->name->pos : &e->item->pos, e->name ? e->name->len : 0,
                    "write it out as 'command: [PROGRAM, ARG...]': what LinuxKit would run is the image's "
                    "Entrypoint and Cmd, or the command in its org.mobyproject.config label",
                    "'%s' has no 'command'; core does not read an image's own entrypoint yet", e->where);
    e->ok = false;
    return;
  }
  if (!lk_strings(l, n, what)) {
    e->ok = false;
    return;
  }
  if (n->n_items == 0) {
    core_diag_error(l->d, &n->pos, n->len, NULL, "'%s' must not be empty; it is the program to run", what);
    e->ok = false;
    return;
  }
  e->command = n;
  e->command_key = key_of(e->item, "command");
}

static void read_env(lk *l, entry *e) {
  const core_yaml_node *n = core_yaml_get(e->item, "env");
  if (n == NULL) return;
  char what[96];
  snprintf(what, sizeof what, "%s.env", e->where);
  if (!lk_strings(l, n, what)) {
    e->ok = false;
    return;
  }
  for (size_t i = 0; i < n->n_items; i++) {
    const core_yaml_node *v = n->items[i];
    size_t name_len = strcspn(v->value, "=");
    if (v->value[name_len] == 0 || name_len == 0) {
      char vb[80];
      core_diag_error(l->d, &v->pos, v->len, "write it as NAME=VALUE", "'%s[%zu]' must be NAME=VALUE, found '%s'",
                      what, i, core_diag_excerpt(v->value, vb, sizeof vb));
      e->ok = false;
      continue;
    }
    for (size_t j = 0; j < i; j++) {
      const char *w = n->items[j]->value;
      if (strncmp(w, v->value, name_len + 1) != 0) continue;
      core_diag_error(l->d, &v->pos, v->len, NULL, "'%s[%zu]' sets '%.*s' again", what, i, (int)name_len, v->value);
      core_diag_note(l->d, &n->items[j]->pos, n->items[j]->len, "'%.*s' is first set here", (int)name_len, w);
      e->ok = false;
      break;
    }
  }
  e->env = n;
  e->env_key = key_of(e->item, "env");
}

/* Steps in core run as root in '/': LinuxKit's defaults. Other values need a service. */
static void step_only_default(lk *l, const entry *e, const char *key) {
  const core_yaml_node *k = key_of(e->item, key);
  core_diag_error(l->d, &k->pos, k->len,
                  "core runs onboot and onshutdown steps as root in '/'; only services take a working directory "
                  "and a user",
                  "LinuxKit's '%s' in '%s' is not supported by core yet", key, e->where);
}

static void read_user(lk *l, entry *e) {
  const core_yaml_node *cwd = core_yaml_get(e->item, "cwd");
  char what[96];
  if (cwd) {
    snprintf(what, sizeof what, "%s.cwd", e->where);
    const char *s = lk_string(l, cwd, what);
    if (s == NULL) {
      e->ok = false;
    } else if (!e->service && strcmp(s, "/") != 0) {
      step_only_default(l, e, "cwd");
      e->ok = false;
    } else if (e->service) {
      e->cwd = cwd;
      e->cwd_key = key_of(e->item, "cwd");
    }
  }
  static const char *const ids[] = {"uid", "gid"};
  for (int i = 0; i < 2; i++) {
    const core_yaml_node *n = core_yaml_get(e->item, ids[i]);
    if (n == NULL) continue;
    snprintf(what, sizeof what, "%s.%s", e->where, ids[i]);
    unsigned long *v = i == 0 ? &e->uid_v : &e->gid_v;
    if (!lk_id(l, n, what, v)) {
      e->ok = false;
    } else if (!e->service && *v != 0) {
      step_only_default(l, e, ids[i]);
      e->ok = false;
    } else if (e->service) {
      *(i == 0 ? &e->uid : &e->gid) = n;
      if (e->user_key == NULL) e->user_key = key_of(e->item, ids[i]);
    }
  }
}

/* LinuxKit shares the host's net, ipc and uts namespaces by default, as core does for every
 * namespace; asking for that explicitly is fine, asking for any other is not. */
static void read_namespaces(lk *l, entry *e) {
  static const char *const keys[] = {"net", "pid", "ipc", "uts"};
  for (size_t i = 0; i < 4; i++) {
    const core_yaml_node *n = core_yaml_get(e->item, keys[i]);
    if (n == NULL) continue;
    char what[96];
    snprintf(what, sizeof what, "%s.%s", e->where, keys[i]);
    const char *s = lk_string(l, n, what);
    if (s == NULL || strcmp(s, "host") == 0 || strcmp(s, "root") == 0) {
      if (s == NULL) e->ok = false;
      continue;
    }
    char vb[80];
    core_diag_error(l->d, &n->pos, n->len,
                    "core runs every process in the guest's own namespaces; only 'host' says that",
                    "LinuxKit's '%s: %s' in '%s' is not supported by core yet", keys[i],
                    core_diag_excerpt(s, vb, sizeof vb), e->where);
    e->ok = false;
  }
}

/* "NAME=VALUE" items -> a mapping NAME: "VALUE"; values stay strings whatever they look like. */
static core_yaml_node *lower_env(lk *l, const entry *e) {
  core_yaml_node *m = lk_map(l, e->env);
  for (size_t i = 0; i < e->env->n_items; i++) {
    const core_yaml_node *v = e->env->items[i];
    size_t name_len = strcspn(v->value, "=");
    char *name = strndup(v->value, name_len);
    if (name == NULL) {
      l->oom = true;
      return m;
    }
    core_yaml_node at = *v;
    at.len = (int)name_len;
    at.pos = lk_char_pos(v, 0);
    core_yaml_node vat = *v;
    vat.pos = lk_char_pos(v, name_len + 1);
    vat.len = vat.pos.col == v->pos.col ? v->len : (int)(strlen(v->value) - name_len - 1);
    lk_put(l, m, name, &at, lk_str(l, &vat, CORE_YAML_DOUBLE_QUOTED, v->value + name_len + 1));
    free(name);
  }
  return m;
}

static void lower_entry(lk *l, const entry *e, size_t index, core_yaml_node *list) {
  char dest[512];
  if (e->service)
    snprintf(dest, sizeof dest, "/containers/%s/%s/rootfs", e->section, e->name->value);
  else /* LinuxKit numbers them, so that a listing shows the order they run in */
    snprintf(dest, sizeof dest, "/containers/%s/%03zu-%s/rootfs", e->section, index, e->name->value);
  lk_layer(l, e->item, e->image_key, e->image, dest, e->name);

  core_yaml_node *m = lk_map(l, e->item);
  lk_put(l, m, "name", key_of(e->item, "name"), lk_copy(l, e->name));
  lk_put(l, m, "run", e->command_key, lk_copy(l, e->command));
  lk_put(l, m, "root", e->name, lk_str(l, e->name, CORE_YAML_DOUBLE_QUOTED, dest));
  /* LinuxKit starts a service once; it is restarted only by hand ('service restart'). */
  if (e->service) lk_put(l, m, "restart", e->item, lk_str(l, e->item, CORE_YAML_PLAIN, "never"));
  if (e->env) lk_put(l, m, "env", e->env_key, lower_env(l, e));
  if (e->cwd) lk_put(l, m, "cwd", e->cwd_key, lk_copy(l, e->cwd));
  if (e->uid || e->gid) {
    char user[32];
    snprintf(user, sizeof user, "%lu:%lu", e->uid_v, e->gid_v);
    const core_yaml_node *at = e->uid ? e->uid : e->gid;
    lk_put(l, m, "user", e->user_key, lk_str(l, at, CORE_YAML_DOUBLE_QUOTED, user));
  }
  lk_append(l, list, m);
}

void lk_images(lk *l, const core_yaml_node *key, const core_yaml_node *n) {
  const char *section = key->value;
  if (!lk_sequence(l, n, section, "a sequence of images, each a mapping with 'name' and 'image'")) return;
  core_yaml_node *list = lk_seq(l, n);
  for (size_t i = 0; i < n->n_items; i++) {
    char where[64];
    snprintf(where, sizeof where, "%s[%zu]", section, i);
    entry e = {.section = section, .service = strcmp(section, "services") == 0, .where = where, .item = n->items[i],
               .ok = true};
    if (!lk_mapping(l, e.item, where)) continue;
    lk_keys(l, e.item, lk_image_keys, where);
    read_name(l, &e);
    read_image(l, &e);
    read_command(l, &e);
    read_env(l, &e);
    read_user(l, &e);
    read_namespaces(l, &e);
    if (e.ok) lower_entry(l, &e, i, list);
  }
  lk_put(l, l->root, section, key, list);
}
