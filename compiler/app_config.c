/* Freeing the checked app description, every part of it. */
#include "app_config.h"

#include <stdlib.h>

const char *core_source_label(const core_source *s) {
  switch (s->kind) {
    case CORE_SOURCE_FILE: return s->path;
    case CORE_SOURCE_URL:
    case CORE_SOURCE_GIT: return s->url;
    case CORE_SOURCE_OCI: return s->image;
    case CORE_SOURCE_DEB: return s->package;
  }
  return "?";
}

static void source_release(core_source *s) {
  free(s->path);
  free(s->resolved);
  free(s->url);
  free(s->sha256);
  free(s->commit);
  free(s->ref);
  free(s->image);
  free(s->package);
  free(s->version);
}

static void env_free(core_env_var *env, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(env[i].name);
    free(env[i].value);
  }
  free(env);
}

/* argv may have holes where the check rejected an argument: free by count. */
static void command_release(core_command *cmd) {
  for (size_t i = 0; cmd->argv && i < cmd->argc; i++) free(cmd->argv[i]);
  free(cmd->argv);
}

static void steps_free(core_step *steps, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(steps[i].name);
    command_release(&steps[i].run);
    free(steps[i].root);
    env_free(steps[i].env, steps[i].n_env);
  }
  free(steps);
}

static void services_free(core_service *svc, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(svc[i].name);
    command_release(&svc[i].run);
    free(svc[i].root);
    env_free(svc[i].env, svc[i].n_env);
    free(svc[i].cwd);
    free(svc[i].user);
    for (size_t j = 0; j < svc[i].n_depends; j++) free(svc[i].depends_on[j]);
    free(svc[i].depends_on);
    free(svc[i].depends_pos);
  }
  free(svc);
}

void core_app_config_free(core_app_config *cfg) {
  if (cfg == NULL) return;
  free(cfg->name);
  free(cfg->version);
  source_release(&cfg->kernel);
  free(cfg->cmdline);
  for (size_t i = 0; i < cfg->n_modules; i++) free(cfg->modules[i].name);
  free(cfg->modules);
  for (size_t i = 0; i < cfg->n_layers; i++) {
    source_release(&cfg->layers[i].source);
    free(cfg->layers[i].dest);
  }
  free(cfg->layers);
  for (size_t i = 0; i < cfg->n_files; i++) {
    free(cfg->files[i].path);
    free(cfg->files[i].contents);
    source_release(&cfg->files[i].source);
    free(cfg->files[i].target);
  }
  free(cfg->files);
  steps_free(cfg->onboot, cfg->n_onboot);
  steps_free(cfg->onshutdown, cfg->n_onshutdown);
  services_free(cfg->services, cfg->n_services);
  command_release(&(core_command){cfg->main_argv, cfg->main_argc, {0}});
  env_free(cfg->env, cfg->n_env);
  free(cfg->hostname);
  for (size_t i = 0; i < cfg->n_sysctls; i++) {
    free(cfg->sysctls[i].key);
    free(cfg->sysctls[i].value);
  }
  free(cfg->sysctls);
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    free(cfg->mounts[i].path);
    free(cfg->mounts[i].volume);
  }
  free(cfg->mounts);
  for (size_t i = 0; i < cfg->n_ports; i++) free(cfg->ports[i].protocol);
  free(cfg->ports);
  for (size_t i = 0; i < cfg->n_users; i++) {
    free(cfg->users[i].name);
    free(cfg->users[i].home);
    free(cfg->users[i].shell);
  }
  free(cfg->users);
  for (size_t i = 0; i < cfg->n_groups; i++) {
    free(cfg->groups[i].name);
    for (size_t j = 0; j < cfg->groups[i].n_members; j++) free(cfg->groups[i].members[j]);
    free(cfg->groups[i].members);
  }
  free(cfg->groups);
  /* Last: every position points into it. */
  free(cfg->file);
  free(cfg->dir);
  /* Last: every core_pos in the config points into these names. */
  for (size_t i = 0; i < cfg->n_inputs; i++) free(cfg->inputs[i]);
  free(cfg->inputs);
  for (size_t i = 0; i < cfg->n_vars; i++) free(cfg->vars[i]);
  free(cfg->vars);
  for (size_t i = 0; i < cfg->n_loaded; i++) free(cfg->loaded[i].name);
  free(cfg->loaded);
  free(cfg);
}
