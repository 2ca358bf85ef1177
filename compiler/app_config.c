/* Freeing the checked app description. */
#include "app_config.h"

#include <stdlib.h>

static void source_release(core_source *s) {
  free(s->path);
  free(s->resolved);
}

void core_app_config_free(core_app_config *cfg) {
  if (cfg == NULL) return;
  free(cfg->name);
  source_release(&cfg->kernel);
  free(cfg->cmdline);
  for (size_t i = 0; i < cfg->n_modules; i++) free(cfg->modules[i].name);
  free(cfg->modules);
  for (size_t i = 0; i < cfg->n_layers; i++) {
    source_release(&cfg->layers[i].source);
    free(cfg->layers[i].dest);
  }
  free(cfg->layers);
  if (cfg->main_argv)
    for (size_t i = 0; i < cfg->main_argc; i++) free(cfg->main_argv[i]);
  free(cfg->main_argv);
  /* Last: every position points into it. */
  free(cfg->file);
  free(cfg->dir);
  free(cfg);
}
