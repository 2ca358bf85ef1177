/* For the check tests: an app loaded through the front end's one entry, its diagnostics kept
 * as data in d (as corec check and its --json do). */
#ifndef CORE_TEST_LOAD_INTO_H
#define CORE_TEST_LOAD_INTO_H

#include "diag.h"
#include "load.h"

/* The config, or NULL when d holds errors; a failed load must set *err and leave *out alone. */
__attribute__((unused)) static core_app_config *load_into(const char *path, core_diag *d) {
  core_load_opts o = {.diag = d};
  core_app_config *cfg = NULL;
  core_error *err = NULL;
  if (core_app_load(path, &o, &cfg, &err) < 0) {
    if (err == NULL || cfg != NULL) fail_msg("a failed load must set *err and leave *out alone");
    core_error_free(err);
  }
  return cfg;
}

#endif
