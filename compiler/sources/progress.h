/* Download progress shared by every fetcher: a one-line bar on a terminal, JSON lines for
 * CI, nothing otherwise. */
#ifndef CORE_PROGRESS_H
#define CORE_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#include "error.h"

typedef struct core_progress core_progress;

/* source names what is fetched (a URL, an image reference) in the bar and the events.
 * quiet wins over everything; json_events gives
 *   {"event":"progress","source":...,"bytes":...,"total":...}
 * lines (total null when unknown) at most once a second and once at the end; otherwise a
 * bar with bytes, rate and ETA is redrawn at most 10 times a second, but only when stream
 * is a terminal. stream NULL = stderr. */
int core_progress_new(core_progress **out, const char *source, int quiet, int json_events, FILE *stream,
                      core_error **err);
/* bytes so far and the expected total (0 = unknown). Cheap when nothing is drawn, so it can
 * be called from every transfer callback. bytes may go down when a download restarts. */
void core_progress_update(core_progress *p, uint64_t bytes, uint64_t total);
/* The transfer finished: the last state is shown and the bar's line ended. */
void core_progress_done(core_progress *p);
/* Without done first (a failure), a bar is wiped so the error prints on a clean line. */
void core_progress_free(core_progress *p);
void core_progress_freep(core_progress **p);
#define cleanup_progress __attribute__((cleanup(core_progress_freep)))

#endif
