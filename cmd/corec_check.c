/* corec check and corec plan: the front end without the linker. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cleanup.h"
#include "corec.h"
#include "expand.h"
#include "include.h"
#include "json.h"
#include "load.h"
#include "plan.h"

static const char check_help[] =
    "usage: corec check [--json] [--var NAME=VALUE]... [--env-var NAME]... APP.yml\n"
    "\n"
    "Validates APP.yml against the app.yml language (spec/app.yml.md) and reports every problem at\n"
    "once, each as file:line:col with the source line, a caret and a hint. A file that is not YAML, or\n"
    "not an app (no app.yml key), is never quoted: only its file:line:col and the problem are shown\n"
    "(spec/composition.md). Nothing is fetched: whether sources exist is found out by 'corec plan' and\n"
    "'corec build'.\n"
    "\n"
    "  --json   print the result on stdout as one JSON object:\n"
    "           {\"file\", \"ok\", \"errors\", \"warnings\", \"diagnostics\": [{\"file\", \"line\", \"col\",\n"
    "            \"severity\", \"message\", \"hint\"?, \"notes\"?: [{\"file\", \"line\", \"col\", \"message\"}]}]}\n"
    "           (line and col are 0 for a problem with the whole file)\n" CORE_LOAD_FLAGS_HELP
    "\n"
    "Exit status: 0 when valid (warnings allowed), 1 when not, 2 on bad usage.\n";

int corec_check(int argc, char **argv, core_error **err) {
  const char *path = NULL;
  bool json = false;
  cleanup_load_opts core_load_opts opts = CORE_LOAD_OPTS_INIT;
  for (int i = 1; i < argc; i++) {
    int r = core_load_opts_parse_flag(&opts, argc, argv, &i, err);
    if (r < 0) return -1;
    if (r > 0) continue;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(check_help, stdout);
      return 0;
    }
    if (strcmp(argv[i], "--json") == 0) {
      json = true;
      continue;
    }
    if (path || argv[i][0] == '-') {
      fputs(check_help, stderr);
      return 2;
    }
    path = argv[i];
  }
  if (path == NULL) {
    fputs(check_help, stderr);
    return 2;
  }
  cleanup_diag core_diag *d = core_diag_new(path);
  if (d == NULL) return core_error_set(err, 0, "out of memory");
  cleanup_app_config core_app_config *cfg = core_app_load_diag(path, NULL, 0, &opts, d);
  bool ok = core_diag_error_count(d) == 0;
  if (json) {
    cleanup_json json_t *j = NULL;
    cleanup_buf core_buf text = CORE_BUF_INIT;
    if (core_diag_to_json(d, &j, err) < 0 || core_json_dump_pretty(j, &text, err) < 0) return -1;
    fwrite(text.data, 1, text.len, stdout);
    return ok ? 0 : 1;
  }
  cleanup_free char *rendered = core_diag_render(d);
  if (rendered == NULL) return core_error_set(err, 0, "out of memory while rendering diagnostics");
  fputs(rendered, stderr);
  if (ok) fprintf(stderr, "%s: ok\n", path);
  return ok ? 0 : 1;
}

static const char plan_help[] =
    "usage: corec plan [--json] [--var NAME=VALUE]... [--env-var NAME]... APP.yml\n"
    "\n"
    "Resolves APP.yml (every source must exist; files are hashed) and prints the link plan that\n"
    "'corec build' would execute, as JSON.\n"
    "\n" CORE_LOAD_FLAGS_HELP;

int corec_plan(int argc, char **argv, core_error **err) {
  /* A plan only looks: it resolves like a build but never rewrites app.lock. */
  core_resolve_opts plan_opts = {.dry_run = 1}; /* and no reporter: a plan shows no progress */
  const char *path = NULL;
  cleanup_load_opts core_load_opts opts = CORE_LOAD_OPTS_INIT;
  for (int i = 1; i < argc; i++) {
    int r = core_load_opts_parse_flag(&opts, argc, argv, &i, err);
    if (r < 0) return -1;
    if (r > 0) continue;
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
  if (core_app_load(path, &opts, &cfg, err) < 0 || core_plan_make(cfg, &plan_opts, &plan, err) < 0 ||
      core_plan_to_json(plan, &j, err) < 0 || core_json_dump_pretty(j, &text, err) < 0)
    return -1;
  fwrite(text.data, 1, text.len, stdout);
  return 0;
}
