/* Unit tests for core_qemu_decode_status (runtime/qemu.c): QEMU's wait status and the text
 * coreinit wrote on its status port become the guest's exit status, or a clear error; and
 * core_qemu_status_alive, which finds coreinit's first word there. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "qemu.h"

/* The wait status of a process that exited with code, or was killed by sig. */
static int exited(int code) { return (code & 0xff) << 8; }
static int killed(int sig) { return sig; }
/* What QEMU exits with when the guest writes n to isa-debug-exit. */
static int debug_exit(int n) { return ((n << 1) | 1) & 0xff; }

static int decode(int wait_status, const char *text, int *guest) {
  core_error *err = NULL;
  *guest = -12345;
  int rc = core_qemu_decode_status(wait_status, text, guest, &err);
  if (rc == 0) assert_null(err);
  core_error_free(err);
  return rc;
}

/* Expects an error whose message contains want; the output is left alone. */
static void expect_error(int wait_status, const char *text, const char *want) {
  core_error *err = NULL;
  int guest = -12345;
  assert_int_equal(core_qemu_decode_status(wait_status, text, &guest, &err), -1);
  assert_non_null(err);
  if (want && strstr(err->msg, want) == NULL) fail_msg("message '%s' does not mention '%s'", err->msg, want);
  assert_int_equal(guest, -12345);
  core_error_free(err);
}

static void test_status_port_and_debug_exit(void **state) {
  (void)state;
  static const int codes[] = {0, 1, 42, 127, 128, 137, 255};
  for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
    char text[64];
    int guest;
    snprintf(text, sizeof text, "exit-status %d\n", codes[i]);
    assert_int_equal(decode(exited(debug_exit(codes[i])), text, &guest), 0);
    assert_int_equal(guest, codes[i]);
  }
}

static void test_debug_exit_only(void **state) {
  (void)state;
  int guest;
  /* Without the status port only the low 7 bits are known. */
  assert_int_equal(decode(exited(debug_exit(42)), NULL, &guest), 0);
  assert_int_equal(guest, 42);
  assert_int_equal(decode(exited(debug_exit(42)), "", &guest), 0);
  assert_int_equal(guest, 42);
  assert_int_equal(decode(exited(debug_exit(137)), NULL, &guest), 0);
  assert_int_equal(guest, 137 & 0x7f);
  assert_int_equal(decode(exited(debug_exit(255)), "console noise\n", &guest), 0);
  assert_int_equal(guest, 127);
  assert_int_equal(decode(exited(3), NULL, &guest), 0);
  assert_int_equal(guest, 1);
  /* rc 1 is also what QEMU exits with on its own errors: with no report it is one. */
  expect_error(exited(1), NULL, "status 1");
  expect_error(exited(1), "", "status 1");
}

static void test_mismatch(void **state) {
  (void)state;
  expect_error(exited(debug_exit(42)), "exit-status 43\n", "42");
  expect_error(exited(debug_exit(1)), "exit-status 0\n", NULL);
  /* The port's 200 stands for 72 through isa-debug-exit, so 73 there contradicts it. */
  expect_error(exited(debug_exit(73)), "exit-status 200\n", "200");
}

static void test_last_line_wins(void **state) {
  (void)state;
  int guest;
  assert_int_equal(decode(exited(debug_exit(7)), "exit-status 3\nexit-status 7\n", &guest), 0);
  assert_int_equal(guest, 7);
  assert_int_equal(decode(exited(debug_exit(200)), "exit-status 1\nexit-status 200\n", &guest), 0);
  assert_int_equal(guest, 200);
  /* A line that is not a status (not a number, out of range) does not replace one. */
  assert_int_equal(decode(exited(debug_exit(7)), "exit-status 7\nexit-status 999\nexit-status x\n", &guest), 0);
  assert_int_equal(guest, 7);
  /* The first line agreeing with rc does not help when the last one does not. */
  expect_error(exited(debug_exit(3)), "exit-status 3\nexit-status 7\n", NULL);
}

static void test_powered_off(void **state) {
  (void)state;
  expect_error(exited(0), NULL, "powered off");
  expect_error(exited(0), "", "powered off");
}

static void test_qemu_failed(void **state) {
  (void)state;
  /* An even status other than 0 is QEMU's own failure, not the guest's. */
  expect_error(exited(2), NULL, "2");
  expect_error(exited(2), "exit-status 1\n", NULL);
}

static void test_killed(void **state) {
  (void)state;
  expect_error(killed(SIGKILL), NULL, "signal 9");
  expect_error(killed(SIGTERM), "exit-status 0\n", "signal 15");
}

static void test_status_alive(void **state) {
  (void)state;
  assert_true(core_qemu_status_alive("alive\n"));
  assert_true(core_qemu_status_alive("alive\nexit-status 0\n"));
  assert_true(core_qemu_status_alive("noise\nalive\n"));
  assert_false(core_qemu_status_alive(NULL));
  assert_false(core_qemu_status_alive(""));
  assert_false(core_qemu_status_alive("aliv"));
  assert_false(core_qemu_status_alive("alive")); /* not yet a whole line */
  assert_false(core_qemu_status_alive("not alive\n"));
  /* The "alive" line does not disturb the exit status that follows it. */
  int guest;
  assert_int_equal(decode(exited(debug_exit(42)), "alive\nexit-status 42\n", &guest), 0);
  assert_int_equal(guest, 42);
  assert_int_equal(decode(exited(debug_exit(200)), "alive\nexit-status 200\n", &guest), 0);
  assert_int_equal(guest, 200);
  expect_error(exited(0), "alive\n", "powered off");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_port_and_debug_exit),
      cmocka_unit_test(test_debug_exit_only),
      cmocka_unit_test(test_mismatch),
      cmocka_unit_test(test_last_line_wins),
      cmocka_unit_test(test_powered_off),
      cmocka_unit_test(test_qemu_failed),
      cmocka_unit_test(test_killed),
      cmocka_unit_test(test_status_alive),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
