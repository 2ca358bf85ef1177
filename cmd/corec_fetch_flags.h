/* What corec build and corec lock share: the flags that say where sources go and how their
 * fetching is shown, and the front half of both commands (report, load, plan). */
#ifndef COREC_FETCH_FLAGS_H
#define COREC_FETCH_FLAGS_H

#include <getopt.h>

#include "load.h"
#include "plan.h"
#include "reporter.h"
#include "resolve.h"

/* getopt_long ids of the shared flags; each command splices COREC_FETCH_OPTIONS into its
 * own table and hands these ids to corec_fetch_flag_set. */
enum { COREC_OPT_STORE = 0x2000, COREC_OPT_QUIET, COREC_OPT_JSON_EVENTS };

#define COREC_FETCH_OPTIONS                                    \
  {"store", required_argument, NULL, COREC_OPT_STORE},         \
      {"quiet", no_argument, NULL, COREC_OPT_QUIET},           \
      {"json-events", no_argument, NULL, COREC_OPT_JSON_EVENTS}

#define COREC_FETCH_FLAGS_HELP                                                              \
  "      --store DIR       the content store (default $CORE_STORE_DIR, else $CORE_HOME/store)\n" \
  "      --quiet           no download progress\n"                                              \
  "      --json-events     progress as JSON lines on stderr\n"

typedef struct corec_fetch_flags {
  core_resolve_opts resolve;
  int quiet, json_events;
} corec_fetch_flags;

/* 1 when id was one of the shared flags (and is now set), 0 when it is the command's own. */
int corec_fetch_flag_set(corec_fetch_flags *f, int id, const char *arg);

/* The front half of build and lock: the reporter for these flags (made into *reporter, owned
 * by the caller), the app loaded (its warnings reported as notices), the plan made. */
int corec_load_and_plan(const char *path, core_load_opts *lo, corec_fetch_flags *f, core_reporter **reporter,
                        core_app_config **cfg, core_plan **plan, core_error **err);

#endif
