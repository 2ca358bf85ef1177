/* The libgit2 adapter of the project's error type, kept apart from error.c so that only
 * the programs that link libgit2 need it. */
#include "error_git.h"

#include <git2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int core_error_git(core_error **err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *ctx = NULL;
  if (vasprintf(&ctx, fmt, ap) < 0) ctx = NULL;
  va_end(ap);
  const git_error *ge = git_error_last();
  /* libgit2 returns codes without a report in a few paths (e.g. a callback's own code). */
  const char *cause = ge && ge->message && ge->message[0] ? ge->message : "libgit2 reported no reason";
  int rc = core_error_set(err, 0, "%s: %s", ctx ? ctx : "git", cause);
  git_error_clear();
  free(ctx);
  return rc;
}
