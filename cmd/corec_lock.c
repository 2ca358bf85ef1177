/* corec lock: pin every remote source of an app in app.lock. Thin: the app is loaded as build
 * loads it (compiler/load.c), resolved by compiler/resolve.c, the pins read back by
 * compiler/lockfile.c. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cleanup.h"
#include "corec.h"
#include "corec_fetch_flags.h"
#include "corec_reporter.h"
#include "fsutil.h"
#include "load.h"
#include "load_flags.h"
#include "lockfile.h"
#include "plan.h"

static const char lock_help[] =
    "usage: corec lock [OPTIONS] APP.yml\n"
    "\n"
    "Resolves every remote source of APP.yml again (git refs, image tags, the candidate versions of\n"
    "Debian packages, unpinned URLs), fetches it into the content store and writes the pins to\n"
    "app.lock next to APP.yml (spec/lock.md). Prints what is pinned. Local files are not locked.\n"
    "APP.yml is read as 'corec build' reads it: includes, ${...} variables, LinuxKit files.\n"
    "\n"
    COREC_FETCH_FLAGS_HELP
    CORE_LOAD_FLAGS_HELP
    "  -h, --help            show this help\n";

int corec_lock(int argc, char **argv, core_error **err) {
  static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
                                       COREC_FETCH_OPTIONS,
                                       CORE_LOAD_OPTIONS,
                                       {0, 0, 0, 0}};
  corec_fetch_flags ff = {.resolve = {.update_lock = 1}};
  cleanup_load_opts core_load_opts lo = CORE_LOAD_OPTS_INIT;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
      case 'h': fputs(lock_help, stdout); return 0;
      default: {
        if (corec_fetch_flag_set(&ff, c, optarg)) break;
        int r = core_load_opts_set(&lo, c, optarg, err);
        if (r < 0) return -1;
        if (r == 0) return fputs(lock_help, stderr), 2;
      }
    }
  }
  if (optind != argc - 1) return core_error_set(err, 0, "lock takes one app.yml; see 'corec lock --help'");
  cleanup_app_config core_app_config *cfg = NULL;
  cleanup_plan core_plan *plan = NULL;
  /* The same front half as corec build (includes, variables, one reporter), so both lock the
   * same sources. */
  cleanup_corec_reporter core_reporter *reporter = NULL;
  if (corec_load_and_plan(argv[optind], &lo, &ff, &reporter, &cfg, &plan, err) < 0) return -1;
  /* Read back through the one reader: what is printed is what the next build will read. A
   * missing file means the app has no remote source (none is written then); any other
   * problem is the reader's error. */
  cleanup_free char *lock_path = core_path_join(cfg->dir ? cfg->dir : ".", "app.lock");
  if (lock_path == NULL) return core_error_set(err, ENOMEM, "allocating");
  cleanup_lockfile core_lockfile *lock = NULL;
  if (core_lockfile_load(lock_path, &lock, err) < 0) return -1;
  if (core_lockfile_count(lock) == 0) {
    printf("%s: no remote sources; nothing to lock\n", argv[optind]);
    return 0;
  }
  for (size_t i = 0; i < core_lockfile_count(lock); i++) {
    cleanup_free char *line = NULL;
    if (core_lockfile_entry_text(lock, i, &line, err) < 0) return -1;
    printf("pinned %s\n", line);
  }
  printf("wrote %s\n", lock_path);
  return 0;
}
