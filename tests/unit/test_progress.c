/* Unit tests for compiler/sources/progress.c: the bar on a real pseudo-terminal, JSON lines,
 * and silence when quiet or not on a terminal. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sources/progress.h"

/* Everything the terminal side received, without waiting for more than a moment. */
static char *drain(int master) {
  static char buf[65536];
  size_t len = 0;
  struct pollfd p = {.fd = master, .events = POLLIN};
  while (len + 1 < sizeof buf && poll(&p, 1, 200) > 0) {
    ssize_t n = read(master, buf + len, sizeof buf - 1 - len);
    if (n <= 0) break;
    len += (size_t)n;
  }
  buf[len] = '\0';
  return buf;
}

static size_t count(const char *s, char c) {
  size_t n = 0;
  for (; *s; s++) n += *s == c;
  return n;
}

static void test_bar_on_terminal(void **state) {
  (void)state;
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  assert_true(master >= 0);
  assert_int_equal(grantpt(master), 0);
  assert_int_equal(unlockpt(master), 0);
  FILE *tty = fopen(ptsname(master), "w");
  assert_non_null(tty);
  core_error *err = NULL;
  core_progress *p = NULL;
  assert_int_equal(core_progress_new(&p, "https://example.org/big.tar", 0, 0, tty, &err), 0);
  /* Thousands of updates in a few milliseconds: the first draws, the rest wait 100 ms. */
  for (uint64_t b = 1; b <= 5000; b++) core_progress_update(p, b * 1000, 10000000);
  struct timespec ts = {.tv_nsec = 150 * 1000 * 1000};
  nanosleep(&ts, NULL);
  core_progress_update(p, 6000000, 10000000);
  nanosleep(&ts, NULL);
  core_progress_update(p, 10000000, 10000000);
  core_progress_done(p);
  core_progress_free(p);
  char *out = drain(master); /* before closing: with no slave open, the master reads EIO */
  fclose(tty);
  close(master);
  assert_non_null(strstr(out, "https://example.org/big.tar"));
  assert_non_null(strstr(out, "9.5 MiB"));   /* the total */
  assert_non_null(strstr(out, "5.7 MiB /")); /* the 150 ms later update */
  assert_non_null(strstr(out, "ETA"));
  assert_non_null(strstr(out, "/s"));
  assert_non_null(strstr(out, "##########]")); /* the full bar, 10 cells at 80 columns */
  /* first, 150 ms later, full, done: four redraws, and the pty makes the last \n \r\n */
  assert_int_equal(count(out, '\r'), 5);
  assert_int_equal(out[strlen(out) - 1], '\n');
}

static void test_failed_bar_is_wiped(void **state) {
  (void)state;
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  assert_true(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
  FILE *tty = fopen(ptsname(master), "w");
  assert_non_null(tty);
  core_error *err = NULL;
  core_progress *p = NULL;
  assert_int_equal(core_progress_new(&p, "src", 0, 0, tty, &err), 0);
  core_progress_update(p, 10, 0); /* total unknown: no bar, just bytes and rate */
  core_progress_free(p);          /* without done: a failure */
  char *out = drain(master); /* before closing: with no slave open, the master reads EIO */
  fclose(tty);
  close(master);
  assert_non_null(strstr(out, "src 10 B"));
  assert_null(strstr(out, "[-")); /* no bar without a total */
  assert_non_null(strstr(out, "\r\033[K"));
  assert_null(strchr(out, '\n'));
}

static char *run_to_file(int quiet, int json, const char *source) {
  FILE *f = tmpfile();
  assert_non_null(f);
  core_error *err = NULL;
  core_progress *p = NULL;
  assert_int_equal(core_progress_new(&p, source, quiet, json, f, &err), 0);
  for (uint64_t b = 0; b <= 100; b++) core_progress_update(p, b, 100);
  core_progress_done(p);
  core_progress_free(p);
  long len = ftell(f);
  char *text = calloc(1, (size_t)len + 1);
  rewind(f);
  assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
  fclose(f);
  return text;
}

static void test_json_lines(void **state) {
  (void)state;
  char *text = run_to_file(0, 1, "a \"quoted\" source");
  /* The first update and the final state; the 99 in between fall inside one second. */
  assert_string_equal(text,
                      "{\"event\":\"progress\",\"source\":\"a \\\"quoted\\\" source\",\"bytes\":0,\"total\":100}\n"
                      "{\"event\":\"progress\",\"source\":\"a \\\"quoted\\\" source\",\"bytes\":100,\"total\":100}\n");
  free(text);
}

static void test_silent(void **state) {
  (void)state;
  char *text = run_to_file(0, 0, "not a terminal");
  assert_string_equal(text, "");
  free(text);
  text = run_to_file(1, 1, "quiet wins");
  assert_string_equal(text, "");
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bar_on_terminal),
      cmocka_unit_test(test_failed_bar_is_wiped),
      cmocka_unit_test(test_json_lines),
      cmocka_unit_test(test_silent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
