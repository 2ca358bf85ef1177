/* cmocka fixtures shared by the unit tests: a fresh temporary directory as the test state,
 * removed with everything in it afterwards, even when the test failed. */
#ifndef CORE_TEST_TMPDIR_H
#define CORE_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int make_tmpdir(void **state) {
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

static int remove_tmpdir(void **state) {
  char *dir = *state;
  int rc = nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  free(dir);
  return rc;
}

#endif
