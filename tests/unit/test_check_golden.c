/* Golden tests of the check stage's diagnostics: every tests/fixtures/check/NAME.yml is checked
 * and its rendered output (errors, warnings, source lines, carets, hints, summary) must equal
 * NAME.expected byte for byte. CORE_UPDATE_GOLDEN=1 rewrites the .expected files instead;
 * review the diff before keeping it. CORE_FIXTURES names the directory (default: the one in
 * the source tree, as seen from the top of the project, where the suite runs). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "load_into.h"
#include "cleanup.h"
#include "fsutil.h"

#define MAX_FIXTURES 256

static char *render_fixture(const char *yml) {
  cleanup_diag core_diag *d = core_diag_new(yml);
  assert_non_null(d);
  core_app_config *cfg = load_into(yml, d);
  core_app_config_free(cfg);
  char *out = core_diag_render(d);
  assert_non_null(out);
  return out;
}

/* Prints where two texts first differ, line by line, so a failure reads like a diff. */
static void report_mismatch(const char *name, const char *want, const char *got) {
  int line = 1;
  const char *w = want, *g = got;
  while (*w && *g) {
    const char *we = strchr(w, '\n'), *ge = strchr(g, '\n');
    size_t wl = we ? (size_t)(we - w) : strlen(w), gl = ge ? (size_t)(ge - g) : strlen(g);
    if (wl != gl || memcmp(w, g, wl) != 0) break;
    w += wl + (we != NULL);
    g += gl + (ge != NULL);
    line++;
  }
  fprintf(stderr, "%s: output differs from %s.expected at line %d\n--- expected\n%.*s\n+++ got\n%.*s\n", name, name,
          line, (int)strcspn(w, "\n"), w, (int)strcspn(g, "\n"), g);
  fprintf(stderr, "=== whole output (CORE_UPDATE_GOLDEN=1 rewrites the file) ===\n%s=== end ===\n", got);
}

static void test_fixture(void **state) {
  const char *name = *state; /* without .yml */
  char yml[300], expected[300];
  snprintf(yml, sizeof yml, "%s.yml", name);
  snprintf(expected, sizeof expected, "%s.expected", name);
  cleanup_free char *got = render_fixture(yml);
  const char *update = getenv("CORE_UPDATE_GOLDEN");
  if (update && strcmp(update, "1") == 0) {
    core_error *err = NULL;
    if (core_write_file_atomic(expected, got, strlen(got), 0644, &err) < 0) fail_msg("%s", err->msg);
    return;
  }
  cleanup_buf core_buf want = CORE_BUF_INIT;
  core_error *err = NULL;
  if (core_read_file(expected, &want, &err) < 0) {
    fprintf(stderr, "%s\n", err->msg);
    core_error_free(err);
    fail_msg("%s has no %s: run with CORE_UPDATE_GOLDEN=1 to create it, then review it", yml, expected);
  }
  if (want.len != strlen(got) || memcmp(want.data, got, want.len) != 0) {
    cleanup_free char *w = strndup((const char *)want.data, want.len);
    report_mismatch(name, w, got);
    fail_msg("%s: diagnostics differ from %s", yml, expected);
  }
}

/* Every fixture must have been found: an empty directory would pass silently otherwise. */
static void test_fixtures_present(void **state) {
  size_t n = (size_t)(uintptr_t)*state;
  if (n < 20) fail_msg("found only %zu fixtures in tests/fixtures/check", n);
}

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
  const char *dir = getenv("CORE_FIXTURES") ? getenv("CORE_FIXTURES") : "tests/fixtures/check";
  /* Messages name the fixture as "NAME.yml", as they name app.yml for a user. */
  if (chdir(dir) < 0) {
    fprintf(stderr, "test_check_golden: cannot enter %s (run from the top of the project, or set CORE_FIXTURES)\n", dir);
    return 1;
  }
  DIR *dp = opendir(".");
  if (dp == NULL) return 1;
  char *names[MAX_FIXTURES];
  size_t n = 0;
  for (struct dirent *e; (e = readdir(dp)) != NULL && n < MAX_FIXTURES;) {
    size_t len = strlen(e->d_name);
    if (len > 4 && strcmp(e->d_name + len - 4, ".yml") == 0) names[n++] = strndup(e->d_name, len - 4);
  }
  closedir(dp);
  qsort(names, n, sizeof *names, name_cmp);
  struct CMUnitTest tests[MAX_FIXTURES + 1];
  tests[0] = (struct CMUnitTest){"fixtures_present", test_fixtures_present, NULL, NULL, (void *)(uintptr_t)n};
  for (size_t i = 0; i < n; i++) tests[i + 1] = (struct CMUnitTest){names[i], test_fixture, NULL, NULL, names[i]};
  int rc = _cmocka_run_group_tests("check_golden", tests, n + 1, NULL, NULL);
  for (size_t i = 0; i < n; i++) free(names[i]);
  return rc;
}
