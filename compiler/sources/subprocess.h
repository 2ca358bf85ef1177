/* Running a helper program (apt) without a shell and keeping what it printed, so its own
 * words can go into the error message. */
#ifndef CORE_SUBPROCESS_H
#define CORE_SUBPROCESS_H

#include "buf.h"
#include "error.h"

/* Runs argv[0] (looked up in PATH) in dir (NULL = the current directory) with stdin from
 * /dev/null and LC_ALL=C, so its output can be parsed. stdout and stderr are captured into
 * out and errout (each NUL-terminated; either may be NULL to discard). *status gets the exit
 * status; a program that cannot be started or dies by a signal is an error. */
int core_run_capture(char *const argv[], const char *dir, core_buf *out, core_buf *errout, int *status,
                     core_error **err);

/* The same, calling tick(ctx) about ten times a second while the program runs (progress). */
int core_run_capture_ticking(char *const argv[], const char *dir, core_buf *out, core_buf *errout, int *status,
                             void (*tick)(void *ctx), void *ctx, core_error **err);

#endif
