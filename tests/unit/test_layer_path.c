/* Unit tests for core_normalize_path (linker/layer_reader.c): every archive path becomes
 * relative and clean, and ".." is refused so no entry can escape the root. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "layer_reader.h"

static void expect_path(const char *in, const char *want) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", in);
  if (core_normalize_path(buf) != 0) fail_msg("'%s' was refused", in);
  if (strcmp(buf, want) != 0) fail_msg("'%s' became '%s', expected '%s'", in, buf, want);
}

static void expect_refused(const char *in) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", in);
  if (core_normalize_path(buf) != -1) fail_msg("'%s' was accepted as '%s'", in, buf);
}

static void test_normalize(void **state) {
  (void)state;
  expect_path("./a//b/", "a/b");
  expect_path("/x", "x");
  expect_path(".", "");
  expect_path("./", "");
  expect_path("", "");
  expect_path("/", "");
  expect_path("a/./b", "a/b");
  expect_path("a", "a");
  expect_path("usr/bin/sh", "usr/bin/sh");
  expect_path("///usr///lib//", "usr/lib");
  /* Names that only look like dot components are ordinary names. */
  expect_path("a/.hidden/..b/...", "a/.hidden/..b/...");
}

static void test_dotdot_refused(void **state) {
  (void)state;
  expect_refused("a/../b");
  expect_refused("..");
  expect_refused("../etc/passwd");
  expect_refused("/a/b/..");
  expect_refused("./../x");
  expect_refused("a/b/../");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_normalize),
      cmocka_unit_test(test_dotdot_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
