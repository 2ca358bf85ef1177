/* Unit tests for corec's reporter (cmd/corec_reporter.c): the bar, JSON lines, notices and
 * silence, driven by an injected clock so the throttle is tested without sleeping. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* corec's own code is not in the library the tests link; this test compiles it in. */
#include "../../cmd/corec_reporter.c"

/* The clock the reporter reads: the test moves it. */
static double fake_now;
static double fake_clock(void *ctx) {
  (void)ctx;
  return fake_now;
}

/* A reporter writing into a temporary file, as on an 80-column terminal when terminal. */
static core_reporter *make(FILE *f, int quiet, int json, int terminal) {
  corec_reporter_opts o = {.quiet = quiet, .json_events = json, .terminal = terminal, .stream = f,
                           .columns = 80, .clock = fake_clock};
  core_reporter *r = NULL;
  core_error *err = NULL;
  assert_int_equal(corec_reporter_new(&o, &r, &err), 0);
  assert_null(err);
  fake_now = 1000;
  return r;
}

static char *contents(FILE *f) {
  long len = ftell(f);
  char *text = calloc(1, (size_t)len + 1);
  rewind(f);
  assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
  fclose(f);
  return text;
}

static void test_bar_throttled(void **state) {
  (void)state;
  FILE *f = tmpfile();
  core_reporter *r = make(f, 0, 0, 1);
  core_progress p = core_progress_begin(r, "https://example.org/big.tar");
  /* Thousands of updates within 50 ms: the first draws, the rest fall inside 100 ms. */
  for (uint64_t b = 1; b <= 5000; b++) {
    fake_now = 1000 + (double)b / 100000;
    core_progress_update(&p, b * 200, 10485760);
  }
  fake_now = 1001; /* a second in: 1 MiB/s */
  core_progress_update(&p, 1048576, 10485760);
  fake_now = 1001.05; /* 50 ms later: not drawn */
  core_progress_update(&p, 2097152, 10485760);
  fake_now = 1002;
  core_progress_update(&p, 10485760, 10485760);
  core_progress_done(&p);
  corec_reporter_free(r);
  char *out = contents(f);
  /* Four draws (first, a second in, the end, done), then the line ends. The rate is bytes
   * over the whole task, the ETA what is left at that rate. Each line fills 79 of the 80
   * columns, never 80 (a full line wraps on some terminals): the bar takes 10 to 20 cells,
   * and the source gives up its head when the numbers need the room. */
  assert_string_equal(out,
                      "\rhttps://example.org/big.tar [----------] 200 B / 10.0 MiB  19.1 MiB/s  ETA 0:00\033[K"
                      "\r...s://example.org/big.tar [#---------] 1.0 MiB / 10.0 MiB  1.0 MiB/s  ETA 0:09\033[K"
                      "\rhttps://example.org/big.tar [##################] 10.0 MiB / 10.0 MiB  5.0 MiB/s\033[K"
                      "\rhttps://example.org/big.tar [##################] 10.0 MiB / 10.0 MiB  5.0 MiB/s\033[K\n");
  free(out);
}

static void test_long_source_keeps_its_tail(void **state) {
  (void)state;
  FILE *f = tmpfile();
  core_reporter *r = make(f, 0, 0, 1);
  core_progress p = core_progress_begin(r, "https://mirror.example.org/a/very/long/path/to/the/release/linux-image.deb");
  fake_now = 1002;
  core_progress_update(&p, 1024, 2048);
  core_progress_abandon(&p); /* a failure: the bar is wiped, the line left for the error */
  corec_reporter_free(r);
  char *out = contents(f);
  assert_string_equal(out, "\r...he/release/linux-image.deb [#####-----] 1.0 KiB / 2.0 KiB  512 B/s  ETA 0:02\033[K"
                           "\r\033[K");
  free(out);
}

static void test_unknown_total_no_bar(void **state) {
  (void)state;
  FILE *f = tmpfile();
  core_reporter *r = make(f, 0, 0, 1);
  core_progress p = core_progress_begin(r, "src");
  fake_now = 1001;
  core_progress_update(&p, 10, 0);
  corec_reporter_free(r); /* the task still open: cleared like a failure */
  char *out = contents(f);
  assert_string_equal(out, "\rsrc 10 B  10 B/s\033[K\r\033[K");
  free(out);
}

static void test_json_lines_once_a_second(void **state) {
  (void)state;
  FILE *f = tmpfile();
  core_reporter *r = make(f, 0, 1, 0);
  core_progress p = core_progress_begin(r, "a \"quoted\" source");
  for (uint64_t b = 0; b <= 100; b++) {
    fake_now = 1000 + (double)b * 0.015; /* 1.5 s in all: the first, then one a second in */
    core_progress_update(&p, b, 100);
  }
  core_progress_done(&p);
  corec_reporter_free(r);
  char *out = contents(f);
  assert_string_equal(out,
                      "{\"event\":\"progress\",\"source\":\"a \\\"quoted\\\" source\",\"bytes\":0,\"total\":100}\n"
                      "{\"event\":\"progress\",\"source\":\"a \\\"quoted\\\" source\",\"bytes\":67,\"total\":100}\n"
                      "{\"event\":\"progress\",\"source\":\"a \\\"quoted\\\" source\",\"bytes\":100,\"total\":100}\n");
  free(out);
}

static void test_notice_over_bar(void **state) {
  (void)state;
  FILE *f = tmpfile();
  core_reporter *r = make(f, 0, 0, 1);
  core_progress p = core_progress_begin(r, "src");
  fake_now = 1001;
  core_progress_update(&p, 10, 0);
  core_report_notice(r, "app.yml:3:1: warning: w\n");
  core_progress_done(&p);
  corec_reporter_free(r);
  char *out = contents(f);
  /* The bar gives way to the notice and comes back below it. */
  assert_string_equal(out, "\rsrc 10 B  10 B/s\033[K\r\033[Kapp.yml:3:1: warning: w\n\rsrc 10 B  10 B/s\033[K"
                           "\rsrc 10 B  10 B/s\033[K\n");
  free(out);
}

static char *run(int quiet, int json, int terminal) {
  FILE *f = tmpfile();
  core_reporter *r = make(f, quiet, json, terminal);
  core_progress p = core_progress_begin(r, "src");
  for (uint64_t b = 0; b <= 100; b++) {
    fake_now += 1;
    core_progress_update(&p, b, 100);
  }
  core_progress_done(&p);
  core_report_notice(r, "a notice");
  corec_reporter_free(r);
  return contents(f);
}

static void test_silent_progress(void **state) {
  (void)state;
  /* Not a terminal, or quiet (which wins over JSON): no progress, but notices print. */
  char *text = run(0, 0, 0);
  assert_string_equal(text, "a notice\n");
  free(text);
  text = run(1, 1, 1);
  assert_string_equal(text, "a notice\n");
  free(text);
}

static void test_no_reporter(void **state) {
  (void)state;
  /* Library code calls these with a NULL reporter when nobody asked for reports. */
  core_progress p = core_progress_begin(NULL, "x");
  core_progress_update(&p, 1, 2);
  core_progress_done(&p);
  core_progress_abandon(&p);
  core_report_notice(NULL, "x");
  assert_null(p.reporter);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bar_throttled),
      cmocka_unit_test(test_long_source_keeps_its_tail),
      cmocka_unit_test(test_unknown_total_no_bar),
      cmocka_unit_test(test_json_lines_once_a_second),
      cmocka_unit_test(test_notice_over_bar),
      cmocka_unit_test(test_silent_progress),
      cmocka_unit_test(test_no_reporter),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
