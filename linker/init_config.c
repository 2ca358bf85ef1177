/* init.conf: global settings first, then one block per mount, step, service and main. */
#include "init_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "initconf.h"

static int add_kv(core_buf *out, const char *keyword, const char *name, const char *value, core_error **err) {
  cleanup_free char *line = NULL;
  if (asprintf(&line, "%s=%s", name, value) < 0) return core_error_set(err, ENOMEM, "allocating");
  return core_initconf_add(out, keyword, line, err);
}

static int add_fmt(core_buf *out, const char *keyword, core_error **err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int add_fmt(core_buf *out, const char *keyword, core_error **err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *value = NULL;
  int n = vasprintf(&value, fmt, ap);
  va_end(ap);
  if (n < 0) return core_error_set(err, ENOMEM, "allocating");
  return core_initconf_add(out, keyword, value, err);
}

int core_init_config_head(const core_app_config *cfg, core_buf *out, core_error **err) {
  if (core_initconf_begin(out, err) < 0 ||
      core_initconf_add(out, "hostname", cfg->hostname ? cfg->hostname : cfg->name, err) < 0)
    return -1;
  for (size_t i = 0; i < cfg->n_env; i++)
    if (add_kv(out, "env", cfg->env[i].name, cfg->env[i].value, err) < 0) return -1;
  for (size_t i = 0; i < cfg->n_sysctls; i++)
    if (add_kv(out, "sysctl", cfg->sysctls[i].key, cfg->sysctls[i].value, err) < 0) return -1;
  return 0;
}

static int add_command(core_buf *out, const core_command *c, core_error **err) {
  for (size_t i = 0; i < c->argc; i++)
    if (core_initconf_add(out, "  arg", c->argv[i], err) < 0) return -1;
  return 0;
}

static int add_env(core_buf *out, const core_env_var *env, size_t n, core_error **err) {
  for (size_t i = 0; i < n; i++)
    if (add_kv(out, "  env", env[i].name, env[i].value, err) < 0) return -1;
  return 0;
}

static int add_step(core_buf *out, const char *kind, const core_step *s, core_error **err) {
  if (core_initconf_add(out, kind, s->name, err) < 0 || add_command(out, &s->run, err) < 0 ||
      add_env(out, s->env, s->n_env, err) < 0)
    return -1;
  return s->root ? core_initconf_add(out, "  root", s->root, err) : 0;
}

static int add_service(core_buf *out, const core_service *s, core_error **err) {
  static const char *const restart[] = {"always", "on-failure", "never"};
  if (core_initconf_add(out, "service", s->name, err) < 0 || add_command(out, &s->run, err) < 0 ||
      core_initconf_add(out, "  restart", restart[s->restart], err) < 0 || add_env(out, s->env, s->n_env, err) < 0)
    return -1;
  if (s->cwd && core_initconf_add(out, "  cwd", s->cwd, err) < 0) return -1;
  if (s->user && core_initconf_add(out, "  user", s->user, err) < 0) return -1;
  if (s->root && core_initconf_add(out, "  root", s->root, err) < 0) return -1;
  for (size_t i = 0; i < s->n_depends; i++)
    if (core_initconf_add(out, "  depends-on", s->depends_on[i], err) < 0) return -1;
  return 0;
}

static int add_mount(core_buf *out, const core_mount *m, core_error **err) {
  if (core_initconf_add(out, "mount", m->path, err) < 0 ||
      core_initconf_add(out, "  type", m->type == CORE_MOUNT_TMPFS ? "tmpfs" : "volume", err) < 0)
    return -1;
  if (m->type == CORE_MOUNT_TMPFS && m->size_bytes &&
      add_fmt(out, "  size", err, "%llu", (unsigned long long)m->size_bytes) < 0)
    return -1;
  if (m->type == CORE_MOUNT_VOLUME && core_initconf_add(out, "  volume", m->volume, err) < 0) return -1;
  if (m->mode >= 0 && add_fmt(out, "  mode", err, "%04o", (unsigned)m->mode) < 0) return -1;
  return 0;
}

int core_init_config_body(const core_app_config *cfg, core_buf *out, core_error **err) {
  /* The main command as top-level "arg" lines, the form every coreinit version reads. */
  for (size_t i = 0; i < cfg->main_argc; i++)
    if (core_initconf_add(out, "arg", cfg->main_argv[i], err) < 0) return -1;
  for (size_t i = 0; i < cfg->n_mounts; i++)
    if (add_mount(out, &cfg->mounts[i], err) < 0) return -1;
  for (size_t i = 0; i < cfg->n_onboot; i++)
    if (add_step(out, "onboot", &cfg->onboot[i], err) < 0) return -1;
  for (size_t i = 0; i < cfg->n_services; i++)
    if (add_service(out, &cfg->services[i], err) < 0) return -1;
  for (size_t i = 0; i < cfg->n_onshutdown; i++)
    if (add_step(out, "onshutdown", &cfg->onshutdown[i], err) < 0) return -1;
  return 0;
}
