/* After parsing: lays run.conf over init.conf and checks what only the whole can tell (a
 * device for every volume, services in an order that respects depends-on), then builds
 * each process's environment. No I/O, like conf.c, so the unit tests cover it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

static const char *const init_env_defaults[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME=/root",
    "TERM=linux",
};

/* Makes room for `extra` more elements, plus the spare slot init_vec_grow keeps. */
static int init_vec_reserve(void **v, size_t *cap, size_t n, size_t extra, size_t elem) {
  while (*cap < n + extra + 2) {
    void *nv = init_vec_grow(*v, cap, *cap, elem);
    if (!nv) return -1;
    *v = nv;
  }
  return 0;
}

static void init_strv_move(init_strv *to, init_strv *from) {
  for (size_t i = 0; i < from->n; i++) to->v[to->n++] = from->v[i];
  if (to->v) to->v[to->n] = NULL;
  from->n = 0; /* the strings now belong to to */
}

static void init_take_string(char **to, char **from) {
  if (!*from) return;
  free(*to);
  *to = *from;
  *from = NULL;
}

int init_conf_merge(init_conf *base, init_conf *over, init_error *err) {
  /* Reserve first, so that once things start moving nothing can fail half-way. */
  if (init_strv_reserve(&base->modules, over->modules.n) < 0 ||
      init_strv_reserve(&base->env, over->env.n) < 0 ||
      init_strv_reserve(&base->sysctls, over->sysctls.n) < 0 ||
      init_strv_reserve(&base->warnings, over->warnings.n) < 0 ||
      init_vec_reserve((void **)&base->volumes.v, &base->volumes.cap, base->volumes.n,
                       over->volumes.n, sizeof *base->volumes.v) < 0 ||
      init_vec_reserve((void **)&base->ifaces.v, &base->ifaces.cap, base->ifaces.n, over->ifaces.n,
                       sizeof *base->ifaces.v) < 0)
    return init_error_set(err, ENOMEM, "merging " INIT_RUN_CONF_PATH);

  init_strv_move(&base->modules, &over->modules);
  init_strv_move(&base->env, &over->env);
  init_strv_move(&base->sysctls, &over->sysctls);
  init_strv_move(&base->warnings, &over->warnings);

  for (size_t i = 0; i < over->volumes.n; i++) {
    init_volume *o = &over->volumes.v[i], *b = NULL;
    for (size_t k = 0; k < base->volumes.n && !b; k++)
      if (strcmp(base->volumes.v[k].name, o->name) == 0) b = &base->volumes.v[k];
    if (b) {
      init_take_string(&b->device, &o->device);
      free(o->name);
    } else {
      base->volumes.v[base->volumes.n++] = *o;
    }
  }
  over->volumes.n = 0;
  for (size_t i = 0; i < over->ifaces.n; i++) {
    init_iface *o = &over->ifaces.v[i], *b = NULL;
    for (size_t k = 0; k < base->ifaces.n && !b; k++)
      if (strcmp(base->ifaces.v[k].name, o->name) == 0) b = &base->ifaces.v[k];
    /* The whole block is replaced: the launcher knows the network of this run. */
    if (b)
      init_iface_free(b);
    else
      b = &base->ifaces.v[base->ifaces.n++];
    *b = *o;
  }
  over->ifaces.n = 0;

  /* Any arg line replaces the whole command: `corerun app.tim -- CMD ARGS` must not
   * inherit arguments meant for the app's own main command. */
  if (over->argv.n > 0) {
    init_strv_free(&base->argv);
    base->argv = over->argv;
    over->argv = (init_strv){0};
  }
  init_take_string(&base->hostname, &over->hostname);
  init_take_string(&base->status_device, &over->status_device);
  init_conf_free(over);
  return 0;
}

/* Sets entry ("NAME=VALUE", owned) in env, replacing an earlier entry with the same NAME
 * in place so the order stays that of first appearance. */
static int init_env_set(init_strv *env, char *entry) {
  size_t name_len = (size_t)(strchr(entry, '=') - entry) + 1; /* with the '=' */
  for (size_t i = 0; i < env->n; i++) {
    if (strncmp(env->v[i], entry, name_len) == 0) {
      free(env->v[i]);
      env->v[i] = entry;
      return 0;
    }
  }
  return init_strv_push(env, entry);
}

/* Replaces *own with the whole environment: defaults < global < own. */
static int init_env_build(init_strv *own, const init_strv *global, bool *home_set) {
  init_strv env = {0};
  size_t n_defaults = sizeof init_env_defaults / sizeof init_env_defaults[0];
  size_t total = n_defaults + global->n + own->n;
  *home_set = false;
  for (size_t i = 0; i < total; i++) {
    const char *src = i < n_defaults               ? init_env_defaults[i]
                      : i < n_defaults + global->n ? global->v[i - n_defaults]
                                                   : own->v[i - n_defaults - global->n];
    if (i >= n_defaults && strncmp(src, "HOME=", 5) == 0) *home_set = true;
    char *copy = strdup(src);
    if (!copy || init_env_set(&env, copy) < 0) {
      init_strv_free(&env);
      return -1;
    }
  }
  init_strv_free(own);
  *own = env;
  return 0;
}

static const init_proc *init_service_find(const init_procv *s, const char *name) {
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->v[i].name, name) == 0) return &s->v[i];
  return NULL;
}

/* Called when no service can start because each waits for another: walks the waits from
 * the first such service until one repeats, which is the cycle to show. */
static int init_cycle_fail(const init_procv *s, const bool *placed, const char *file,
                           init_error *err) {
  size_t path[64], len = 0, at = 0;
  while (placed[at]) at++;
  for (;;) {
    for (size_t k = 0; k < len; k++) {
      if (path[k] != at) continue;
      char text[300] = "";
      for (size_t j = k; j < len; j++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s -> ", s->v[path[j]].name);
      snprintf(text + strlen(text), sizeof text - strlen(text), "%s", s->v[at].name);
      return init_error_set(err, 0, "%s:%d: services depend on each other in a cycle: %s", file,
                            s->v[at].line, text);
    }
    if (len == sizeof path / sizeof path[0])
      return init_error_set(err, 0, "%s: services depend on each other in a cycle", file);
    path[len++] = at;
    const init_proc *p = &s->v[at];
    for (size_t d = 0; d < p->depends.n; d++) {
      size_t next = (size_t)(init_service_find(s, p->depends.v[d]) - s->v);
      if (!placed[next]) {
        at = next;
        break;
      }
    }
  }
}

/* Puts the services in start order: each after those it depends on, and otherwise in
 * file order, so that a file without depends-on starts them as written. */
static int init_services_order(init_procv *s, const char *file, init_error *err) {
  for (size_t i = 0; i < s->n; i++) {
    const init_proc *p = &s->v[i];
    for (size_t d = 0; d < p->depends.n; d++)
      if (!init_service_find(s, p->depends.v[d]))
        return init_error_set(err, 0, "%s:%d: service '%s' depends on '%s', which is not a service",
                              file, p->depends_line[d], p->name, p->depends.v[d]);
  }
  if (s->n == 0) return 0;
  init_proc *sorted = malloc(s->n * sizeof *sorted);
  bool *placed = calloc(s->n, sizeof *placed);
  if (!sorted || !placed) {
    free(sorted);
    free(placed);
    return init_error_set(err, ENOMEM, "ordering the services");
  }
  for (size_t k = 0; k < s->n; k++) {
    size_t pick = s->n;
    for (size_t i = 0; i < s->n && pick == s->n; i++) {
      if (placed[i]) continue;
      bool ready = true;
      for (size_t d = 0; d < s->v[i].depends.n && ready; d++)
        ready = placed[init_service_find(s, s->v[i].depends.v[d]) - s->v];
      if (ready) pick = i;
    }
    if (pick == s->n) {
      int r = init_cycle_fail(s, placed, file, err);
      free(sorted);
      free(placed);
      return r;
    }
    sorted[k] = s->v[pick];
    placed[pick] = true;
  }
  memcpy(s->v, sorted, s->n * sizeof *sorted);
  free(sorted);
  free(placed);
  return 0;
}

int init_conf_finish(init_conf *c, const char *file, init_error *err) {
  if (c->argv.n == 0 && c->services.n == 0)
    return init_error_set(
        err, 0, "%s: no 'arg' line and no 'service' block, so there is nothing to run", file);
  if (c->argv.n > 0 && c->argv.v[0][0] == '\0')
    return init_error_set(err, 0, "%s: the first 'arg' (the program to run) is empty", file);

  for (size_t i = 0; i < c->mounts.n; i++) {
    init_mount *m = &c->mounts.v[i];
    if (m->type != INIT_MOUNT_VOLUME) continue;
    for (size_t k = 0; k < c->volumes.n && !m->device; k++)
      if (strcmp(c->volumes.v[k].name, m->volume) == 0) m->device = c->volumes.v[k].device;
    if (!m->device)
      return init_error_set(err, 0,
                            "%s:%d: mount '%s' needs volume '%s', but no 'volume %s DEVICE' line "
                            "says which disk holds it (the launcher must attach the disk and "
                            "name it in run.conf)",
                            file, m->line, m->path, m->volume, m->volume);
  }

  if (init_services_order(&c->services, file, err) < 0) return -1;

  init_procv *kinds[] = {&c->onboot, &c->services, &c->onshutdown};
  for (size_t k = 0; k < 3; k++)
    for (size_t i = 0; i < kinds[k]->n; i++)
      if (init_env_build(&kinds[k]->v[i].env, &c->env, &kinds[k]->v[i].home_set) < 0)
        return init_error_set(err, ENOMEM, "building the environment");
  /* Last: the others were built from the global lines this replaces. */
  bool home_set;
  const init_strv none = {0};
  if (init_env_build(&c->env, &none, &home_set) < 0)
    return init_error_set(err, ENOMEM, "building the environment");
  return 0;
}
