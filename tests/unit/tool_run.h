/* Running the reference tools (qemu-img, sgdisk, fsck.fat, mtools...) from unit tests: the
 * command's output, its exit status, and a loud failure when a tool is missing, since
 * comparing with it is the point of the test. */
#ifndef CORE_TEST_TOOL_RUN_H
#define CORE_TEST_TOOL_RUN_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

/* Runs CMD with sh, in the C locale, stdout and stderr together into *OUT (malloc'd, NUL-
 * terminated; may be NULL when OUT is NULL or memory ran out). Returns the exit status, -1 when
 * the command could not run or was killed. mtools is told not to read the host's
 * configuration nor to check the file system's geometry against a drive's. */
__attribute__((unused)) static int tool_run(const char *cmd, char **out) {
  char *full = NULL;
  if (asprintf(&full, "MTOOLS_SKIP_CHECK=1 MTOOLSRC=/dev/null LC_ALL=C; export MTOOLS_SKIP_CHECK MTOOLSRC LC_ALL; (%s) 2>&1", cmd) < 0)
    return -1;
  FILE *p = popen(full, "r");
  free(full);
  if (p == NULL) return -1;
  size_t len = 0, cap = 4096, got;
  char *buf = malloc(cap);
  while (buf && (got = fread(buf + len, 1, cap - len - 1, p)) > 0) {
    len += got;
    if (cap - len < 2) {
      char *b = realloc(buf, cap * 2);
      if (b == NULL) break;
      buf = b;
      cap *= 2;
    }
  }
  if (buf) buf[len] = '\0';
  int status = pclose(p);
  if (out)
    *out = buf;
  else
    free(buf);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A printf-style command that must succeed; returns its output for the caller to free. */
__attribute__((unused, format(printf, 1, 2))) static char *tool_run_ok(const char *fmt, ...) {
  char cmd[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  char *out = NULL;
  int rc = tool_run(cmd, &out);
  if (rc != 0) fail_msg("'%s' exited with %d: %.300s", cmd, rc, out ? out : "");
  return out;
}

/* Fails the test when one of TOOLS (NULL-terminated) is not installed, naming PACKAGES. */
__attribute__((unused)) static void tool_require(const char *const *tools, const char *packages) {
  for (; *tools; tools++) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s", *tools);
    if (tool_run(cmd, NULL) != 0) fail_msg("'%s' is not installed: apt-get install %s", *tools, packages);
  }
}

#endif
