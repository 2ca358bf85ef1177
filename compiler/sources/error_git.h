/* The error adapter for libgit2: turns its per-thread error report into a core_error. */
#ifndef CORE_ERROR_GIT_H
#define CORE_ERROR_GIT_H

#include "error.h"

/* Sets *err to "<fmt>: <libgit2's last error message>" and clears libgit2's report, so a
 * later failure is never described with a stale message. Returns -1. */
int core_error_git(core_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
