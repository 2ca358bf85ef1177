/* The loader's flags: what --var, --env-var and --linuxkit mean, checked once for every
 * command (the table itself is the macro in load_flags.h). */
#include "load_flags.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "expand.h"

static int push(const char ***v, size_t *n, const char *s, core_error **err) {
  const char **nv = realloc(*v, (*n + 1) * sizeof *nv);
  if (nv == NULL) return core_error_set(err, ENOMEM, "reading the command line");
  nv[(*n)++] = s;
  *v = nv;
  return 0;
}

int core_load_opts_set(core_load_opts *opts, int opt, const char *arg, core_error **err) {
  switch (opt) {
    case CORE_LOAD_OPT_LINUXKIT: opts->linuxkit = 1; return 1;
    case CORE_LOAD_OPT_VAR: {
      const char *eq = strchr(arg, '=');
      if (eq == NULL || !core_var_name_valid(arg, (size_t)(eq - arg)))
        return core_error_set(err, 0,
                              "invalid --var '%s'; write --var NAME=VALUE, NAME being letters, digits and '_', not "
                              "starting with a digit",
                              arg);
      return push(&opts->vars, &opts->n_vars, arg, err) < 0 ? -1 : 1;
    }
    case CORE_LOAD_OPT_ENV_VAR:
      if (!core_var_name_valid(arg, strlen(arg)))
        return core_error_set(err, 0,
                              "invalid --env-var '%s'; a name is letters, digits and '_', not starting with a digit",
                              arg);
      return push(&opts->env_vars, &opts->n_env_vars, arg, err) < 0 ? -1 : 1;
    default: return 0;
  }
}

void core_load_opts_release(core_load_opts *opts) {
  free(opts->vars);
  free(opts->env_vars);
  opts->vars = opts->env_vars = NULL;
  opts->n_vars = opts->n_env_vars = 0;
}
