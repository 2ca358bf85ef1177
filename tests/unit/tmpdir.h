/* cmocka fixtures shared by the unit tests: a fresh temporary directory as the test state,
 * removed with everything in it afterwards, even when the test failed. */
#ifndef CORE_TEST_TMPDIR_H
#define CORE_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((unused)) static int make_tmpdir(void **state) {
  char *dir = strdup("/tmp/core-test-XXXXXX");
  if (dir == NULL || mkdtemp(dir) == NULL) {
    free(dir);
    return -1;
  }
  *state = dir;
  return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

__attribute__((unused)) static int remove_tmpdir(void **state) {
  char *dir = *state;
  int rc = nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  free(dir);
  return rc;
}

/* The same, with the directory as the working directory for the test's duration, so paths in
 * messages are short and relative. */
static char tmpdir_old_cwd[4096];

__attribute__((unused)) static int enter_tmpdir(void **state) {
  if (getcwd(tmpdir_old_cwd, sizeof tmpdir_old_cwd) == NULL || make_tmpdir(state) < 0) return -1;
  return chdir(*state);
}

__attribute__((unused)) static int leave_tmpdir(void **state) {
  if (chdir(tmpdir_old_cwd) < 0) return -1;
  return remove_tmpdir(state);
}

#endif
