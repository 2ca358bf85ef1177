/* init.conf: global settings first, then one block per mount, step, service and main. */
#include "init_config.h"

#include "initconf.h"

int core_init_config_head(const core_app_config *cfg, core_buf *out, core_error **err) {
  if (core_initconf_begin(out, err) < 0 ||
      core_initconf_add(out, INITCONF_HOSTNAME, cfg->hostname ? cfg->hostname : cfg->name, err) < 0)
    return -1;
  for (size_t i = 0; i < cfg->n_env; i++)
    if (core_initconf_addf(out, INITCONF_ENV, err, "%s=%s", cfg->env[i].name, cfg->env[i].value) < 0) return -1;
  for (size_t i = 0; i < cfg->n_sysctls; i++)
    if (core_initconf_addf(out, INITCONF_SYSCTL, err, "%s=%s", cfg->sysctls[i].key, cfg->sysctls[i].value) < 0)
      return -1;
  return 0;
}

int core_init_config_module(const char *guest_path, core_buf *out, core_error **err) {
  return core_initconf_add(out, INITCONF_MODULE, guest_path, err);
}

static int add_command(core_buf *out, const core_command *c, core_error **err) {
  for (size_t i = 0; i < c->argc; i++)
    if (core_initconf_field(out, INITCONF_KEY_ARG, c->argv[i], err) < 0) return -1;
  return 0;
}

static int add_env(core_buf *out, const core_env_var *env, size_t n, core_error **err) {
  for (size_t i = 0; i < n; i++)
    if (core_initconf_fieldf(out, INITCONF_KEY_ENV, err, "%s=%s", env[i].name, env[i].value) < 0) return -1;
  return 0;
}

static int add_step(core_buf *out, const char *kind, const core_step *s, core_error **err) {
  if (core_initconf_add(out, kind, s->name, err) < 0 || add_command(out, &s->run, err) < 0 ||
      add_env(out, s->env, s->n_env, err) < 0)
    return -1;
  return s->root ? core_initconf_field(out, INITCONF_KEY_ROOT, s->root, err) : 0;
}

static int add_service(core_buf *out, const core_service *s, core_error **err) {
  /* Indexed by core_restart. */
  static const char *const restart[] = {INITCONF_RESTART_ALWAYS, INITCONF_RESTART_ON_FAILURE,
                                        INITCONF_RESTART_NEVER};
  if (core_initconf_add(out, INITCONF_SERVICE, s->name, err) < 0 || add_command(out, &s->run, err) < 0 ||
      core_initconf_field(out, INITCONF_KEY_RESTART, restart[s->restart], err) < 0 ||
      add_env(out, s->env, s->n_env, err) < 0)
    return -1;
  if (s->cwd && core_initconf_field(out, INITCONF_KEY_CWD, s->cwd, err) < 0) return -1;
  if (s->user && core_initconf_field(out, INITCONF_KEY_USER, s->user, err) < 0) return -1;
  if (s->root && core_initconf_field(out, INITCONF_KEY_ROOT, s->root, err) < 0) return -1;
  for (size_t i = 0; i < s->n_depends; i++)
    if (core_initconf_field(out, INITCONF_KEY_DEPENDS_ON, s->depends_on[i], err) < 0) return -1;
  return 0;
}

static int add_mount(core_buf *out, const core_mount *m, core_error **err) {
  const char *type = m->type == CORE_MOUNT_TMPFS ? INITCONF_TYPE_TMPFS : INITCONF_TYPE_VOLUME;
  if (core_initconf_add(out, INITCONF_MOUNT, m->path, err) < 0 ||
      core_initconf_field(out, INITCONF_KEY_TYPE, type, err) < 0)
    return -1;
  if (m->type == CORE_MOUNT_TMPFS && m->size_bytes &&
      core_initconf_fieldf(out, INITCONF_KEY_SIZE, err, "%llu", (unsigned long long)m->size_bytes) < 0)
    return -1;
  if (m->type == CORE_MOUNT_VOLUME && core_initconf_field(out, INITCONF_KEY_VOLUME, m->volume, err) < 0) return -1;
  if (m->mode >= 0 && core_initconf_fieldf(out, INITCONF_KEY_MODE, err, "%04o", (unsigned)m->mode) < 0) return -1;
  return 0;
}

int core_init_config_body(const core_app_config *cfg, core_buf *out, core_error **err) {
  /* The main command as top-level "arg" lines, the form every coreinit version reads. */
  for (size_t i = 0; i < cfg->main_argc; i++)
    if (core_initconf_add(out, INITCONF_ARG, cfg->main_argv[i], err) < 0) return -1;
  for (size_t i = 0; i < cfg->n_mounts; i++)
    if (add_mount(out, &cfg->mounts[i], err) < 0) return -1;
  for (size_t i = 0; i < cfg->n_onboot; i++)
    if (add_step(out, INITCONF_ONBOOT, &cfg->onboot[i], err) < 0) return -1;
  for (size_t i = 0; i < cfg->n_services; i++)
    if (add_service(out, &cfg->services[i], err) < 0) return -1;
  for (size_t i = 0; i < cfg->n_onshutdown; i++)
    if (add_step(out, INITCONF_ONSHUTDOWN, &cfg->onshutdown[i], err) < 0) return -1;
  return 0;
}
