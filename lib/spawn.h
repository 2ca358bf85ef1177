/* Running a helper program (apt, mkfs.ext4, qemu --version) without a shell, waiting for it
 * and keeping what it printed, so its own words can go into the error message. The one
 * fork/exec/wait of the host tools (QEMU itself, which must outlive a call, is runtime/qemu.c's). */
#ifndef CORE_SPAWN_H
#define CORE_SPAWN_H

#include "buf.h"
#include "error.h"

typedef struct core_spawn_opts {
  const char *dir;         /* where it runs; NULL = the current directory */
  unsigned timeout_ms;     /* 0 = none; a program still running then is killed, and that is an error */
  void (*tick)(void *ctx); /* NULL, or called about ten times a second while it runs (progress) */
  void *ctx;
} core_spawn_opts;

#define CORE_SPAWN_OPTS_INIT {NULL, 0, NULL, NULL}

/* Runs argv[0] (looked up in PATH) with stdin from /dev/null and LC_ALL=C, so its output can
 * be parsed. stdout and stderr are captured into out and errout (each NUL-terminated; either
 * may be NULL to discard). *status gets the exit status; a program that cannot be started,
 * dies by a signal or outlives the timeout is an error. o may be NULL. */
int core_spawn(char *const argv[], const core_spawn_opts *o, core_buf *out, core_buf *errout, int *status,
               core_error **err);

/* Shorthands of core_spawn for the common cases. */
int core_run_capture(char *const argv[], const char *dir, core_buf *out, core_buf *errout, int *status,
                     core_error **err);
int core_run_capture_ticking(char *const argv[], const char *dir, core_buf *out, core_buf *errout, int *status,
                             void (*tick)(void *ctx), void *ctx, core_error **err);

/* What a failed program said, for an error message: errout's last non-empty line, without
 * its line end, or "" (a pointer into errout, which must be NUL-terminated). */
const char *core_spawn_last_line(core_buf *errout);

#endif
