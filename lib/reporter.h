/* The reporter: how library code tells the user about progress and notices without printing.
 * The program makes one (corec: cmd/corec_reporter.c, from --quiet, --json-events and whether
 * stderr is a terminal) and passes it down; compiler, fetchers and linker only call it. It
 * lives in lib/ because every layer that reports (compiler/sources, linker) may include lib/
 * and nothing above it: the linker must not reach into the compiler's fetchers for it. */
#ifndef CORE_REPORTER_H
#define CORE_REPORTER_H

#include <stdint.h>

typedef struct core_reporter core_reporter;

/* One task at a time (a download, the unpacking of a layer): begin, any number of updates,
 * then end. Every operation may be NULL (that kind of report is not wanted). */
typedef struct core_reporter_ops {
  /* label names the task: a URL, an image reference, "unpacking ...". */
  void (*begin)(core_reporter *r, const char *label);
  /* bytes so far and the expected total (0 = unknown). Called from every transfer callback,
   * so an implementation throttles; bytes may go down when a download restarts. */
  void (*update)(core_reporter *r, uint64_t bytes, uint64_t total);
  /* ok: the task finished (its last state is shown); !ok: it failed, and whatever it drew
   * is cleared so the error prints on a clean line. */
  void (*end)(core_reporter *r, int ok);
  /* Complete lines for the user (rendered warnings); not silenced by --quiet. */
  void (*notice)(core_reporter *r, const char *text);
} core_reporter_ops;

/* Implementations put this first in their own struct. */
struct core_reporter {
  const core_reporter_ops *ops;
};

/* One task, ended as failed when it goes out of scope without core_progress_done: early
 * returns on errors need no extra code. A NULL reporter reports nothing. */
typedef struct core_progress {
  core_reporter *reporter; /* NULL once ended */
} core_progress;

core_progress core_progress_begin(core_reporter *r, const char *label);
void core_progress_update(core_progress *p, uint64_t bytes, uint64_t total);
void core_progress_done(core_progress *p);
void core_progress_abandon(core_progress *p);
#define cleanup_progress __attribute__((cleanup(core_progress_abandon)))

void core_report_notice(core_reporter *r, const char *text);

#endif
