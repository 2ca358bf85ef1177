/* Runs a real tool (dosfstools, mtools, gdisk, sfdisk) for a differential test and captures its
 * output. A missing tool fails the test: these tests exist to compare with them. */
#ifndef CORE_TEST_TOOL_RUN_H
#define CORE_TEST_TOOL_RUN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Runs CMD with sh, stdout and stderr into a malloc'd string *OUT; returns the exit status. */
__attribute__((unused)) static int tool_run(const char *cmd, char **out) {
  char full[4096];
  snprintf(full, sizeof full, "MTOOLS_SKIP_CHECK=1 MTOOLSRC=/dev/null LC_ALL=C %s 2>&1", cmd);
  FILE *p = popen(full, "r");
  if (p == NULL) return -1;
  size_t len = 0, cap = 4096;
  char *buf = malloc(cap);
  size_t got;
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
  *out = buf;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Fails the test, loudly, when TOOL is not installed. */
#define require_tool(tool)                                                                          \
  do {                                                                                              \
    char *o_ = NULL;                                                                                \
    int rc_ = tool_run("command -v " tool, &o_);                                                   \
    free(o_);                                                                                       \
    if (rc_ != 0) fail_msg("'%s' is not installed: apt-get install dosfstools mtools gdisk fdisk", tool); \
  } while (0)

#endif
