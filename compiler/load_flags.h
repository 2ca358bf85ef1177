/* The loader's command-line flags (--var, --env-var, --linuxkit): one getopt_long table and one
 * setter, shared by every corec command that loads an app (build, check, plan, lock). */
#ifndef CORE_LOAD_FLAGS_H
#define CORE_LOAD_FLAGS_H

#include <getopt.h>

#include "error.h"
#include "load.h"

/* What getopt_long returns for them: outside the characters commands use as short options. */
enum {
  CORE_LOAD_OPT_VAR = 0x10000,
  CORE_LOAD_OPT_ENV_VAR,
  CORE_LOAD_OPT_LINUXKIT,
};

/* The table's entries, spliced into a command's own struct option array before its
 * terminator, so each command has one getopt_long table and these flags are spelt once:
 *   static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, CORE_LOAD_OPTIONS, {0}};
 * In the command's switch, `default:` hands the rest to core_load_opts_set. */
#define CORE_LOAD_OPTIONS                                        \
  {"var", required_argument, NULL, CORE_LOAD_OPT_VAR},           \
  {"env-var", required_argument, NULL, CORE_LOAD_OPT_ENV_VAR},   \
  {"linuxkit", no_argument, NULL, CORE_LOAD_OPT_LINUXKIT}

/* Records what getopt_long returned (opt, and arg its optarg) in opts: returns 1 when opt is
 * one of the loader's flags, 0 when it is not (the command's usage error: '?', an unknown
 * id), -1 with *err when the value is malformed (--var without '=', a bad name). The strings
 * stay the caller's (argv's); the arrays are freed by core_load_opts_release. */
int core_load_opts_set(core_load_opts *opts, int opt, const char *arg, core_error **err);

/* Frees the arrays core_load_opts_set made (not the strings). */
void core_load_opts_release(core_load_opts *opts);
#define cleanup_load_opts __attribute__((cleanup(core_load_opts_release)))

/* The usage lines for those flags, for a command's --help. */
#define CORE_LOAD_FLAGS_HELP                                                                        \
  "      --var NAME=VALUE  set ${NAME} in app.yml (repeatable)\n"                                   \
  "      --env-var NAME    let ${NAME} be read from the environment (repeatable)\n"                 \
  "      --linuxkit        read APP.yml as a LinuxKit image YAML (detected when it has\n"         \
  "                        kernel.image or init and no core keys)\n"

#endif
