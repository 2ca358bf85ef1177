/* Unit tests for compiler/sources/fetch_url.c: real downloads from tests/http_server.py on
 * 127.0.0.1 (errors, truncation, stalls, redirects), checked through the server's request log. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "tmpdir.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sources/fetch.h"

/* Relative to the repository root, where tests/run-all.sh runs every test. */
#define SERVER_SCRIPT "tests/http_server.py"

static pid_t server_pid = -1;
static int server_port;

static int start_server(void **state) {
  (void)state;
  if (access(SERVER_SCRIPT, R_OK) != 0) {
    fprintf(stderr, "cannot read %s: run this test from the repository root\n", SERVER_SCRIPT);
    return -1;
  }
  int fds[2];
  if (pipe(fds) < 0) return -1;
  server_pid = fork();
  if (server_pid < 0) return -1;
  if (server_pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execlp("python3", "python3", SERVER_SCRIPT, "--lifetime", "120", (char *)NULL);
    fprintf(stderr, "cannot run python3 for the test HTTP server: %s\n", strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  /* The first line is the port; python3 can take a moment to start. */
  char line[32] = "";
  size_t len = 0;
  struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
  while (len + 1 < sizeof line && !memchr(line, '\n', len)) {
    if (poll(&pfd, 1, 15000) <= 0) break;
    ssize_t n = read(fds[0], line + len, sizeof line - 1 - len);
    if (n <= 0) break;
    len += (size_t)n;
    line[len] = '\0';
  }
  close(fds[0]);
  server_port = atoi(line);
  if (server_port <= 0) {
    fprintf(stderr, "the test HTTP server did not print its port (got '%s')\n", line);
    return -1;
  }
  /* A proxy in the environment must not intercept loopback requests. */
  setenv("no_proxy", "127.0.0.1", 1);
  setenv("NO_PROXY", "127.0.0.1", 1);
  return 0;
}

static int stop_server(void **state) {
  (void)state;
  if (server_pid > 0) {
    kill(server_pid, SIGTERM);
    waitpid(server_pid, NULL, 0);
  }
  curl_global_cleanup();
  return 0;
}

typedef struct fixture {
  char *dir;
  core_store *store;
  core_fetch_ctx ctx;
} fixture;

/* One store for the whole run: compiler/store.c keeps a lock on every store it opened until the
 * process ends, and allows 16. Each test fetches bytes no other test fetches. */
static fixture shared;

static int open_store(void **state) {
  if (start_server(state) < 0) return -1;
  void *dir = NULL;
  if (make_tmpdir(&dir) < 0) return -1;
  shared.dir = dir;
  char path[512];
  snprintf(path, sizeof path, "%s/store", shared.dir);
  core_error *err = NULL;
  if (core_store_open(path, &shared.store, &err) < 0) {
    fprintf(stderr, "%s\n", err->msg);
    core_error_free(err);
    return -1;
  }
  return 0;
}

static int close_store(void **state) {
  core_store_close(shared.store);
  void *dir = shared.dir;
  int rc = remove_tmpdir(&dir);
  return stop_server(state) < 0 ? -1 : rc;
}

static int setup(void **state) {
  shared.ctx = (core_fetch_ctx){.store = shared.store};
  unsetenv("CORE_FETCH_CONNECT_TIMEOUT");
  unsetenv("CORE_FETCH_STALL_TIMEOUT");
  unsetenv("CORE_FETCH_RETRIES");
  *state = &shared;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  return 0;
}

static char *url(const char *path) {
  char *u = NULL;
  assert_true(asprintf(&u, "http://127.0.0.1:%d%s", server_port, path) > 0);
  return u;
}

/* The server's body: byte i is (i*31 + 7 + seed) % 256. */
static unsigned char *pattern(size_t size, int seed) {
  unsigned char *b = malloc(size ? size : 1);
  assert_non_null(b);
  for (size_t i = 0; i < size; i++) b[i] = (unsigned char)(i * 31 + 7 + (size_t)seed);
  return b;
}

static core_digest pattern_digest(size_t size, int seed) {
  unsigned char *b = pattern(size, seed);
  core_digest d;
  core_error *err = NULL;
  assert_int_equal(core_digest_bytes(b, size, &d, &err), 0);
  free(b);
  return d;
}

static size_t collect(char *data, size_t size, size_t n, void *userdata) {
  FILE *f = userdata;
  return fwrite(data, size, n, f) * size;
}

/* Requests the server saw whose path starts with prefix; with_range counts only those that
 * carried a Range header, and *last_range gets the last such header (caller frees). */
static int requests(const char *prefix, int with_range, char **last_range) {
  char *buf = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len);
  assert_non_null(mem);
  char *u = url("/log");
  CURL *h = curl_easy_init();
  assert_non_null(h);
  curl_easy_setopt(h, CURLOPT_URL, u);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, mem);
  assert_int_equal(curl_easy_perform(h), CURLE_OK);
  curl_easy_cleanup(h);
  free(u);
  fclose(mem);
  json_t *log = json_loadb(buf, len, 0, NULL);
  free(buf);
  assert_non_null(log);
  int n = 0;
  size_t i;
  json_t *entry;
  json_array_foreach(log, i, entry) {
    const char *path = json_string_value(json_object_get(entry, "path"));
    const char *range = json_string_value(json_object_get(entry, "range"));
    if (path == NULL || strncmp(path, prefix, strlen(prefix)) != 0) continue;
    if (with_range && range == NULL) continue;
    n++;
    if (last_range && range) {
      free(*last_range);
      *last_range = strdup(range);
    }
  }
  json_decref(log);
  return n;
}

/* Fetches and expects failure; returns the message (caller frees). */
static char *fetch_fails(fixture *f, const char *path, const char *want) {
  char *u = url(path);
  core_error *err = NULL;
  core_digest out = {.str = "untouched"};
  assert_int_equal(core_fetch_url(&f->ctx, u, want, &out, &err), -1);
  assert_non_null(err);
  assert_string_equal(out.str, "untouched"); /* outputs stay as they were on failure */
  assert_non_null(strstr(err->msg, u));      /* every message names the URL */
  char *msg = strdup(err->msg);
  core_error_free(err);
  free(u);
  return msg;
}

static void fetch_ok(fixture *f, const char *path, const char *want, core_digest *expect) {
  char *u = url(path);
  core_error *err = NULL;
  core_digest out;
  int rc = core_fetch_url(&f->ctx, u, want, &out, &err);
  if (rc != 0) fail_msg("fetching %s: %s", u, err ? err->msg : "(no error)");
  assert_null(err);
  assert_string_equal(out.str, expect->str);
  assert_true(core_store_has(f->store, &out));
  free(u);
}

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_ok_unpinned(void **state) {
  fixture *f = *state;
  core_digest d = pattern_digest(300000, 0);
  fetch_ok(f, "/ok/unpinned?size=300000", NULL, &d);
  assert_int_equal(requests("/ok/unpinned", 0, NULL), 1);
}

static void test_ok_pinned(void **state) {
  fixture *f = *state;
  core_digest d = pattern_digest(5000, 3);
  fetch_ok(f, "/ok/pinned?size=5000&seed=3", d.str, &d);
}

static void test_empty_body(void **state) {
  fixture *f = *state;
  core_digest d = pattern_digest(0, 0);
  fetch_ok(f, "/ok/empty?size=0", d.str, &d);
}

static void test_in_store_no_request(void **state) {
  fixture *f = *state;
  unsigned char *b = pattern(4000, 9);
  core_error *err = NULL;
  core_digest d;
  assert_int_equal(core_store_put(f->store, b, 4000, &d, &err), 0);
  free(b);
  fetch_ok(f, "/ok/cached?size=4000&seed=9", d.str, &d);
  assert_int_equal(requests("/ok/cached", 0, NULL), 0);
}

static void test_retry_after_500(void **state) {
  fixture *f = *state;
  core_digest d = pattern_digest(2000, 0);
  fetch_ok(f, "/fail-then-ok/retry500?n=2&size=2000", d.str, &d);
  assert_int_equal(requests("/fail-then-ok/retry500", 0, NULL), 3);
}

static void test_retry_after_503_429(void **state) {
  fixture *f = *state;
  core_digest d = pattern_digest(2000, 0);
  fetch_ok(f, "/fail-then-ok/retry503?n=1&code=503&size=2000", NULL, &d);
  fetch_ok(f, "/fail-then-ok/retry429?n=1&code=429&size=2000", NULL, &d);
  assert_int_equal(requests("/fail-then-ok/retry503", 0, NULL), 2);
  assert_int_equal(requests("/fail-then-ok/retry429", 0, NULL), 2);
}

static void test_retries_exhausted(void **state) {
  fixture *f = *state;
  setenv("CORE_FETCH_RETRIES", "1", 1);
  char *msg = fetch_fails(f, "/fail-then-ok/always?n=100", NULL);
  assert_non_null(strstr(msg, "HTTP 500"));
  assert_non_null(strstr(msg, "gave up after 2 attempts"));
  free(msg);
  assert_int_equal(requests("/fail-then-ok/always", 0, NULL), 2);
}

static void test_404_not_retried(void **state) {
  fixture *f = *state;
  char *u = url("/404");
  char *msg = fetch_fails(f, "/404", NULL);
  char want[256];
  snprintf(want, sizeof want, "fetching '%s': HTTP 404", u);
  assert_string_equal(msg, want);
  free(msg);
  free(u);
  /* Other permanent statuses are not retried either. */
  msg = fetch_fails(f, "/status/403?k=forbidden", NULL);
  assert_non_null(strstr(msg, "HTTP 403"));
  free(msg);
  assert_int_equal(requests("/status/403?k=forbidden", 0, NULL), 1);
}

static void test_truncated_resumed(void **state) {
  fixture *f = *state;
  core_digest d = pattern_digest(200000, 5);
  fetch_ok(f, "/truncate/resume?size=200000&seed=5", d.str, &d);
  char *range = NULL;
  assert_int_equal(requests("/truncate/resume", 0, NULL), 2);
  assert_int_equal(requests("/truncate/resume", 1, &range), 1);
  assert_string_equal(range, "bytes=100000-"); /* exactly where the first body broke off */
  free(range);
}

static void test_truncated_no_ranges_restarts(void **state) {
  fixture *f = *state;
  core_digest d = pattern_digest(200000, 6);
  /* The server answers the Range with the whole body; it must replace the half kept. */
  fetch_ok(f, "/truncate/norange?size=200000&seed=6&noranges=1", d.str, &d);
  assert_int_equal(requests("/truncate/norange", 0, NULL), 2);
}

static void test_truncated_is_not_success(void **state) {
  fixture *f = *state;
  setenv("CORE_FETCH_RETRIES", "0", 1);
  char *msg = fetch_fails(f, "/truncate/once?size=10000", NULL);
  assert_non_null(strstr(msg, "bytes remaining"));
  free(msg);
}

static void test_stall_times_out(void **state) {
  fixture *f = *state;
  setenv("CORE_FETCH_STALL_TIMEOUT", "2", 1);
  setenv("CORE_FETCH_RETRIES", "1", 1);
  double t0 = seconds();
  char *msg = fetch_fails(f, "/slow/stall?size=100000&stall=30", NULL);
  double took = seconds() - t0;
  assert_non_null(strstr(msg, "stalled"));
  assert_non_null(strstr(msg, "CORE_FETCH_STALL_TIMEOUT"));
  assert_non_null(strstr(msg, "gave up after 2 attempts"));
  free(msg);
  /* Two stalls of 2 s and one 0.5 s pause; far from the default 60 s. */
  assert_true(took >= 4.0);
  assert_true(took < 15.0);
  assert_int_equal(requests("/slow/stall", 0, NULL), 2);
}

static void test_digest_mismatch(void **state) {
  fixture *f = *state;
  core_digest want = pattern_digest(3000, 1);
  core_digest actual = pattern_digest(3000, 0);
  char *msg = fetch_fails(f, "/ok/wrong?size=3000", want.str);
  assert_non_null(strstr(msg, want.str));
  assert_non_null(strstr(msg, actual.str));
  free(msg);
  assert_false(core_store_has(f->store, &actual));
  assert_false(core_store_has(f->store, &want));
}

static void test_redirect_followed(void **state) {
  fixture *f = *state;
  core_digest d = pattern_digest(1000, 0);
  fetch_ok(f, "/redirect?to=/ok/redirected", d.str, &d);
  assert_int_equal(requests("/ok/redirected", 0, NULL), 1);
}

static void test_redirect_to_file_refused(void **state) {
  fixture *f = *state;
  char *msg = fetch_fails(f, "/redirect?to=file:///etc/passwd", NULL);
  assert_non_null(strstr(msg, "file"));
  free(msg);
}

static void test_redirect_loop(void **state) {
  fixture *f = *state;
  char *msg = fetch_fails(f, "/redirect-loop/0", NULL);
  assert_non_null(strstr(msg, "redirects"));
  free(msg);
  assert_int_equal(requests("/redirect-loop/", 0, NULL), 11); /* the first and ten more */
}

static void test_offline_with_blob(void **state) {
  fixture *f = *state;
  unsigned char *b = pattern(700, 2);
  core_error *err = NULL;
  core_digest d;
  assert_int_equal(core_store_put(f->store, b, 700, &d, &err), 0);
  free(b);
  f->ctx.offline = 1;
  fetch_ok(f, "/ok/offline-have?size=700&seed=2", d.str, &d);
  assert_int_equal(requests("/ok/offline-have", 0, NULL), 0);
}

static void test_offline_without_blob(void **state) {
  fixture *f = *state;
  f->ctx.offline = 1;
  core_digest d = pattern_digest(700, 4);
  char *msg = fetch_fails(f, "/ok/offline-lack?size=700&seed=4", d.str);
  assert_non_null(strstr(msg, "store lacks"));
  assert_non_null(strstr(msg, d.str));
  assert_non_null(strstr(msg, "without --offline"));
  free(msg);
  msg = fetch_fails(f, "/ok/offline-lack?size=700&seed=4", NULL);
  assert_non_null(strstr(msg, "without --offline"));
  free(msg);
  assert_int_equal(requests("/ok/offline-lack", 0, NULL), 0);
}

static void test_other_schemes_refused(void **state) {
  fixture *f = *state;
  const char *urls[] = {"file:///etc/passwd", "ftp://127.0.0.1/x", "FILE:///etc/hostname"};
  for (size_t i = 0; i < sizeof urls / sizeof *urls; i++) {
    core_error *err = NULL;
    core_digest out;
    assert_int_equal(core_fetch_url(&f->ctx, urls[i], NULL, &out, &err), -1);
    assert_non_null(strstr(err->msg, urls[i]));
    assert_non_null(strstr(err->msg, "only http:// and https://"));
    core_error_free(err);
  }
}

static void test_connection_refused(void **state) {
  fixture *f = *state;
  /* A port that was just free: bound, then closed, so nothing listens there. */
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof a;
  assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen), 0);
  close(s);
  char u[64];
  snprintf(u, sizeof u, "http://127.0.0.1:%d/x", ntohs(a.sin_port));
  setenv("CORE_FETCH_RETRIES", "1", 1);
  core_error *err = NULL;
  core_digest out;
  assert_int_equal(core_fetch_url(&f->ctx, u, NULL, &out, &err), -1);
  assert_non_null(strstr(err->msg, u));
  assert_non_null(strstr(err->msg, "gave up after 2 attempts"));
  core_error_free(err);
}

static void test_bad_settings(void **state) {
  fixture *f = *state;
  setenv("CORE_FETCH_STALL_TIMEOUT", "soon", 1);
  char *msg = fetch_fails(f, "/ok/settings", NULL);
  assert_non_null(strstr(msg, "CORE_FETCH_STALL_TIMEOUT='soon'"));
  free(msg);
  msg = fetch_fails(f, "/ok/settings", "sha256:abc");
  assert_non_null(strstr(msg, "'sha256:abc' is not a digest"));
  free(msg);
  assert_int_equal(requests("/ok/settings", 0, NULL), 0);
}

/* A reporter that records what the fetcher told it. */
typedef struct recorder {
  core_reporter base;
  char label[256];
  int begins, updates, ends, last_ok;
  uint64_t last_bytes, last_total;
} recorder;

static void rec_begin(core_reporter *r, const char *label) {
  recorder *c = (recorder *)r;
  c->begins++;
  snprintf(c->label, sizeof c->label, "%s", label);
}

static void rec_update(core_reporter *r, uint64_t bytes, uint64_t total) {
  recorder *c = (recorder *)r;
  c->updates++;
  c->last_bytes = bytes;
  c->last_total = total;
}

static void rec_end(core_reporter *r, int ok) {
  recorder *c = (recorder *)r;
  c->ends++;
  c->last_ok = ok;
}

static const core_reporter_ops rec_ops = {rec_begin, rec_update, rec_end, NULL};

/* Runs a fetch with stderr sent to a file and returns what was written there. */
static char *fetch_capturing_stderr(fixture *f, const char *path, int want_rc) {
  char tmpl[512];
  snprintf(tmpl, sizeof tmpl, "%s/stderr", f->dir);
  int fd = open(tmpl, O_RDWR | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  fflush(stderr);
  int saved = dup(STDERR_FILENO);
  dup2(fd, STDERR_FILENO);
  char *u = url(path);
  core_error *err = NULL;
  core_digest out;
  int rc = core_fetch_url(&f->ctx, u, NULL, &out, &err);
  fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  free(u);
  core_error_free(err);
  assert_int_equal(rc, want_rc);
  off_t len = lseek(fd, 0, SEEK_END);
  char *text = calloc(1, (size_t)len + 1);
  assert_int_equal(pread(fd, text, (size_t)len, 0), len);
  close(fd);
  return text;
}

static void test_progress_reported(void **state) {
  fixture *f = *state;
  recorder rec = {.base.ops = &rec_ops};
  f->ctx.reporter = &rec.base;
  char *text = fetch_capturing_stderr(f, "/ok/events?size=50000", 0);
  assert_string_equal(text, ""); /* library code never prints: the reporter does */
  char *u = url("/ok/events?size=50000");
  assert_string_equal(rec.label, u);
  assert_int_equal(rec.begins, 1);
  assert_true(rec.updates >= 1);
  /* The last update is the final state, then the task ends as done. */
  assert_int_equal(rec.last_bytes, 50000);
  assert_int_equal(rec.last_total, 50000);
  assert_int_equal(rec.ends, 1);
  assert_int_equal(rec.last_ok, 1);
  free(u);
  free(text);
}

static void test_progress_ended_on_failure(void **state) {
  fixture *f = *state;
  recorder rec = {.base.ops = &rec_ops};
  f->ctx.reporter = &rec.base;
  char *text = fetch_capturing_stderr(f, "/status/404?k=progress", -1);
  assert_string_equal(text, "");
  assert_int_equal(rec.begins, 1);
  assert_int_equal(rec.ends, 1);
  assert_int_equal(rec.last_ok, 0); /* so the reporter clears its bar before the error */
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_ok_unpinned, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ok_pinned, setup, teardown),
      cmocka_unit_test_setup_teardown(test_empty_body, setup, teardown),
      cmocka_unit_test_setup_teardown(test_in_store_no_request, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retry_after_500, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retry_after_503_429, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retries_exhausted, setup, teardown),
      cmocka_unit_test_setup_teardown(test_404_not_retried, setup, teardown),
      cmocka_unit_test_setup_teardown(test_truncated_resumed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_truncated_no_ranges_restarts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_truncated_is_not_success, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stall_times_out, setup, teardown),
      cmocka_unit_test_setup_teardown(test_digest_mismatch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_redirect_followed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_redirect_to_file_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_redirect_loop, setup, teardown),
      cmocka_unit_test_setup_teardown(test_offline_with_blob, setup, teardown),
      cmocka_unit_test_setup_teardown(test_offline_without_blob, setup, teardown),
      cmocka_unit_test_setup_teardown(test_other_schemes_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_connection_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_settings, setup, teardown),
      cmocka_unit_test_setup_teardown(test_progress_reported, setup, teardown),
      cmocka_unit_test_setup_teardown(test_progress_ended_on_failure, setup, teardown),
  };
  return cmocka_run_group_tests(tests, open_store, close_store);
}
