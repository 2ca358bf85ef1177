/* corec's reporter (lib/reporter.h): the one place that draws progress and prints notices. */
#ifndef COREC_REPORTER_H
#define COREC_REPORTER_H

#include <stdio.h>

#include "error.h"
#include "reporter.h"

typedef struct corec_reporter_opts {
  int quiet;       /* no progress at all (notices still print) */
  int json_events; /* progress as {"event":"progress","source":..,"bytes":..,"total":..} lines,
                    * at most once a second and once at the end (total null when unknown) */
  int terminal;    /* without json_events, a bar (bytes, rate, ETA) is drawn only on a
                    * terminal, at most 10 times a second; elsewhere progress is silent */
  FILE *stream;    /* NULL = stderr */
  int columns;     /* the width of the bar's line; 0 = ask the terminal (80 if it does not say) */
  /* Monotonic seconds; NULL = CLOCK_MONOTONIC. Tests inject one to control the throttle. */
  double (*clock)(void *ctx);
  void *clock_ctx;
} corec_reporter_opts;

int corec_reporter_new(const corec_reporter_opts *opts, core_reporter **out, core_error **err);
/* The reporter for corec's own flags: on stderr, a bar only when stderr is a terminal. */
int corec_reporter_for_stderr(int quiet, int json_events, core_reporter **out, core_error **err);
/* A task still open (a failure) is cleared first. */
void corec_reporter_free(core_reporter *r);
void corec_reporter_freep(core_reporter **r);
#define cleanup_corec_reporter __attribute__((cleanup(corec_reporter_freep)))

#endif
