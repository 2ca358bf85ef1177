/* Unit tests for lib/spawn.c, the one fork/exec/wait of the host tools: both streams
 * captured, the exit status, a program that is not there, the timeout, and the line of
 * stderr that goes into error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include "spawn.h"

static void test_captures_both_streams_and_status(void **state) {
  (void)state;
  char *argv[] = {"/bin/sh", "-c", "echo out; echo err1 >&2; echo 'err2: why' >&2; exit 3", NULL};
  core_buf out = CORE_BUF_INIT, errout = CORE_BUF_INIT;
  core_error *err = NULL;
  int status = -1;
  assert_int_equal(core_spawn(argv, NULL, &out, &errout, &status, &err), 0);
  assert_null(err);
  assert_int_equal(status, 3);
  assert_string_equal((char *)out.data, "out\n");
  assert_string_equal((char *)errout.data, "err1\nerr2: why\n");
  assert_string_equal(core_spawn_last_line(&errout), "err2: why");
  core_buf_release(&out);
  core_buf_release(&errout);
}

static void test_runs_in_dir_without_stdin(void **state) {
  (void)state;
  char *argv[] = {"/bin/sh", "-c", "pwd; cat; echo \"$LC_ALL\"", NULL};
  core_buf out = CORE_BUF_INIT;
  core_error *err = NULL;
  int status = -1;
  assert_int_equal(core_run_capture(argv, "/", &out, NULL, &status, &err), 0);
  assert_int_equal(status, 0);
  assert_string_equal((char *)out.data, "/\nC\n");
  core_buf_release(&out);
}

static void test_missing_program(void **state) {
  (void)state;
  char *argv[] = {"core-no-such-program", NULL};
  core_error *err = NULL;
  int status = -1;
  assert_int_equal(core_spawn(argv, NULL, NULL, NULL, &status, &err), -1);
  assert_non_null(err);
  assert_int_equal(err->errnum, ENOENT);
  assert_non_null(strstr(err->msg, "cannot run 'core-no-such-program'"));
  core_error_free(err);
}

/* A program that exits 127 itself is an exit status, not a missing program. */
static void test_exit_127_is_a_status(void **state) {
  (void)state;
  char *argv[] = {"/bin/sh", "-c", "exit 127", NULL};
  core_error *err = NULL;
  int status = -1;
  assert_int_equal(core_spawn(argv, NULL, NULL, NULL, &status, &err), 0);
  assert_int_equal(status, 127);
}

static void test_timeout_kills(void **state) {
  (void)state;
  char *argv[] = {"/bin/sleep", "10", NULL};
  core_spawn_opts o = {.timeout_ms = 200};
  core_error *err = NULL;
  int status = -1;
  time_t start = time(NULL);
  assert_int_equal(core_spawn(argv, &o, NULL, NULL, &status, &err), -1);
  assert_true(time(NULL) - start < 5);
  assert_non_null(err);
  assert_non_null(strstr(err->msg, "did not finish within 1 s"));
  core_error_free(err);
}

static void test_killed_by_signal(void **state) {
  (void)state;
  char *argv[] = {"/bin/sh", "-c", "kill -9 $$", NULL};
  core_error *err = NULL;
  int status = -1;
  assert_int_equal(core_spawn(argv, NULL, NULL, NULL, &status, &err), -1);
  assert_non_null(strstr(err->msg, "killed by signal 9"));
  core_error_free(err);
}

static void test_last_line(void **state) {
  (void)state;
  core_buf b = CORE_BUF_INIT;
  assert_string_equal(core_spawn_last_line(&b), "");
  core_error *err = NULL;
  const char text[] = "first\nE: the reason \n\n";
  assert_int_equal(core_buf_append(&b, text, sizeof text, &err), 0);
  b.len--; /* NUL-terminated, as core_spawn leaves it */
  assert_string_equal(core_spawn_last_line(&b), "E: the reason");
  core_buf_release(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_captures_both_streams_and_status),
      cmocka_unit_test(test_runs_in_dir_without_stdin),
      cmocka_unit_test(test_missing_program),
      cmocka_unit_test(test_exit_127_is_a_status),
      cmocka_unit_test(test_timeout_kills),
      cmocka_unit_test(test_killed_by_signal),
      cmocka_unit_test(test_last_line),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
