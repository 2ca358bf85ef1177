/* corec check and corec plan: the front end without the linker. */
#include <getopt.h>
#include <stdio.h>

#include "cleanup.h"
#include "corec.h"
#include "diag.h"
#include "json.h"
#include "load.h"
#include "load_flags.h"
#include "plan.h"

static const char check_help[] =
    "usage: corec check [--json] [--var NAME=VALUE]... [--env-var NAME]... [--linuxkit] APP.yml\n"
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
    "  -h, --help  show this help\n"
    "\n"
    "Exit status: 0 when valid (warnings allowed), 1 when not, 2 on bad usage.\n";

/* The flags of check and plan: the loader's, --json and --help. Returns the app's path, or
 * NULL with *status set (0 after --help, 2 on bad usage, -1 with *err). */
static const char *parse_args(int argc, char **argv, const char *help, core_load_opts *lo, bool *json, int *status,
                              core_error **err) {
  static const struct option opts[] = {
      {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, CORE_LOAD_OPTIONS, {0, 0, 0, 0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
      case 'j': *json = true; break;
      case 'h': *status = 0; fputs(help, stdout); return NULL;
      default: {
        int r = core_load_opts_set(lo, c, optarg, err);
        if (r < 0) return *status = -1, NULL;
        if (r == 0) return *status = 2, fputs(help, stderr), NULL;
      }
    }
  }
  if (optind != argc - 1) return *status = 2, fputs(help, stderr), NULL;
  return argv[optind];
}

int corec_check(int argc, char **argv, core_error **err) {
  bool json = false;
  int status;
  cleanup_load_opts core_load_opts opts = CORE_LOAD_OPTS_INIT;
  const char *path = parse_args(argc, argv, check_help, &opts, &json, &status, err);
  if (path == NULL) return status;
  cleanup_diag core_diag *d = core_diag_new(path);
  if (d == NULL) return core_error_set(err, 0, "out of memory");
  opts.diag = d;
  cleanup_app_config core_app_config *cfg = NULL;
  cleanup_error core_error *failed = NULL; /* only a count: the diagnostics are in d */
  (void)core_app_load(path, &opts, &cfg, &failed);
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
    "usage: corec plan [--json] [--var NAME=VALUE]... [--env-var NAME]... [--linuxkit] APP.yml\n"
    "\n"
    "Resolves APP.yml (every source must exist; files are hashed) and prints the link plan that\n"
    "'corec build' would execute, as JSON.\n"
    "\n"
    "  --json   the only form (accepted for symmetry with check)\n" CORE_LOAD_FLAGS_HELP
    "  -h, --help  show this help\n";

int corec_plan(int argc, char **argv, core_error **err) {
  /* A plan only looks: it resolves like a build but never rewrites app.lock. */
  core_resolve_opts plan_opts = {.dry_run = 1}; /* and no reporter: a plan shows no progress */
  bool json = false; /* JSON is the only form so far */
  int status;
  cleanup_load_opts core_load_opts opts = CORE_LOAD_OPTS_INIT;
  const char *path = parse_args(argc, argv, plan_help, &opts, &json, &status, err);
  if (path == NULL) return status;
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
