/* corec check and corec plan: the front end without the linker. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cleanup.h"
#include "corec.h"
#include "json.h"
#include "plan.h"

static const char check_help[] =
    "usage: corec check APP.yml\n"
    "\n"
    "Validates APP.yml and reports every error with file:line:col. Exit 0 when valid, 1 when not.\n";

int corec_check(int argc, char **argv, core_error **err) {
  if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    fputs(check_help, stdout);
    return 0;
  }
  if (argc != 2 || argv[1][0] == '-') {
    fputs(check_help, stderr);
    return 2;
  }
  cleanup_app_config core_app_config *cfg = NULL;
  if (core_app_check(argv[1], &cfg, err) < 0) return -1;
  fprintf(stderr, "%s: ok\n", argv[1]);
  return 0;
}

static const char plan_help[] =
    "usage: corec plan [--json] APP.yml\n"
    "\n"
    "Resolves APP.yml (every source must exist; files are hashed) and prints the link plan that\n"
    "'corec build' would execute, as JSON.\n";

int corec_plan(int argc, char **argv, core_error **err) {
  const char *path = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(plan_help, stdout);
      return 0;
    }
    if (strcmp(argv[i], "--json") == 0) continue; /* JSON is the only form so far */
    if (path || argv[i][0] == '-') {
      fputs(plan_help, stderr);
      return 2;
    }
    path = argv[i];
  }
  if (path == NULL) {
    fputs(plan_help, stderr);
    return 2;
  }
  cleanup_app_config core_app_config *cfg = NULL;
  cleanup_plan core_plan *plan = NULL;
  cleanup_json json_t *j = NULL;
  cleanup_buf core_buf text = CORE_BUF_INIT;
  if (core_app_check(path, &cfg, err) < 0 || core_plan_make(cfg, NULL, &plan, err) < 0 || core_plan_to_json(plan, &j, err) < 0 ||
      core_json_dump_pretty(j, &text, err) < 0)
    return -1;
  fwrite(text.data, 1, text.len, stdout);
  return 0;
}
