/* The flags and front half that corec build and corec lock share (corec_fetch_flags.h). */
#include "corec_fetch_flags.h"

#include <stdlib.h>

#include "cleanup.h"
#include "corec_reporter.h"

int corec_fetch_flag_set(corec_fetch_flags *f, int id, const char *arg) {
  switch (id) {
    case COREC_OPT_STORE: f->resolve.store_dir = arg; return 1;
    case COREC_OPT_QUIET: f->quiet = 1; return 1;
    case COREC_OPT_JSON_EVENTS: f->json_events = 1; return 1;
    default: return 0;
  }
}

int corec_load_and_plan(const char *path, core_load_opts *lo, corec_fetch_flags *f, core_reporter **reporter,
                        core_app_config **cfg, core_plan **plan, core_error **err) {
  if (corec_reporter_for_stderr(f->quiet, f->json_events, reporter, err) < 0) return -1;
  f->resolve.reporter = *reporter;
  cleanup_free char *warnings = NULL;
  char **saved = lo->warnings;
  lo->warnings = &warnings;
  int rc = core_app_load(path, lo, cfg, err);
  lo->warnings = saved;
  if (rc < 0) return -1;
  core_report_notice(*reporter, warnings);
  return core_plan_make(*cfg, &f->resolve, plan, err);
}
