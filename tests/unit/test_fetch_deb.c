/* Unit tests for compiler/sources/fetch_deb.c against the host's real apt: a package by
 * name and by exact version, a version apt does not have, a pin that does not match, and
 * an offline fetch served from the store. Needs busybox-static in the apt lists. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "tmpdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fsutil.h"
#include "sources/fetch.h"

#define PKG "busybox-static"

/* apt's own answer, to compare with: "Version" and "SHA256" of the candidate. */
static void apt_truth(char **version, char **sha256) {
  FILE *f = popen("apt-cache show " PKG "=$(apt-cache policy " PKG " | sed -n 's/ *Candidate: //p') | "
                  "sed -n 's/^Version: //p; s/^SHA256: /sha256:/p' | head -2",
                  "r");
  char v[128] = "", s[128] = "";
  assert_int_equal(fscanf(f, "%127s %127s", v, s), 2);
  pclose(f);
  *version = strdup(v);
  *sha256 = strdup(s);
}

static core_store *open_store(const char *dir) {
  core_error *err = NULL;
  core_store *s = NULL;
  cleanup_free char *p = core_path_join(dir, "store");
  assert_int_equal(core_store_open(p, &s, &err), 0);
  return s;
}

static void test_by_name_then_offline(void **state) {
  cleanup_free char *want_v = NULL, *want_s = NULL;
  apt_truth(&want_v, &want_s);
  cleanup_store core_store *s = open_store(*state);
  core_fetch_ctx ctx = {.store = s};
  core_error *err = NULL;
  cleanup_free char *v = NULL;
  core_digest d;
  if (core_fetch_deb(&ctx, PKG, NULL, NULL, &v, &d, &err) < 0) fail_msg("%s", err->msg);
  assert_string_equal(v, want_v);
  assert_string_equal(d.str, want_s);
  cleanup_free char *path = NULL;
  assert_int_equal(core_store_get_verified(s, &d, &path, &err), 0);
  /* Offline with the pin and the blob in the store: no apt at all (PATH without apt proves it). */
  ctx.offline = 1;
  cleanup_free char *saved_path = strdup(getenv("PATH"));
  setenv("PATH", "/nonexistent", 1);
  cleanup_free char *v2 = NULL;
  core_digest d2;
  int rc = core_fetch_deb(&ctx, PKG, v, d.str, &v2, &d2, &err);
  setenv("PATH", saved_path, 1);
  if (rc < 0) fail_msg("%s", err->msg);
  assert_string_equal(d2.str, d.str);
  assert_string_equal(v2, v);
  /* Offline without the pin: an error that says what to do. */
  cleanup_free char *v3 = NULL;
  assert_int_equal(core_fetch_deb(&ctx, "hello", NULL, NULL, &v3, &d2, &err), -1);
  assert_non_null(strstr(err->msg, "--offline"));
  core_error_freep(&err);
}

static void test_exact_version_and_pin(void **state) {
  cleanup_free char *want_v = NULL, *want_s = NULL;
  apt_truth(&want_v, &want_s);
  cleanup_store core_store *s = open_store(*state);
  core_fetch_ctx ctx = {.store = s};
  core_error *err = NULL;
  cleanup_free char *v = NULL;
  core_digest d;
  if (core_fetch_deb(&ctx, PKG, want_v, want_s, &v, &d, &err) < 0) fail_msg("%s", err->msg);
  assert_string_equal(d.str, want_s);
  /* A pin that is not what apt offers: refused, naming both, before any download. */
  const char *wrong = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
  cleanup_store core_store *fresh = NULL;
  cleanup_free char *p = core_path_join(*state, "store2");
  assert_int_equal(core_store_open(p, &fresh, &err), 0);
  ctx.store = fresh;
  cleanup_free char *v2 = NULL;
  assert_int_equal(core_fetch_deb(&ctx, PKG, want_v, wrong, &v2, &d, &err), -1);
  assert_non_null(strstr(err->msg, wrong));
  assert_non_null(strstr(err->msg, want_s));
  core_error_freep(&err);
}

static void test_unknown(void **state) {
  cleanup_store core_store *s = open_store(*state);
  core_fetch_ctx ctx = {.store = s};
  core_error *err = NULL;
  cleanup_free char *v = NULL;
  core_digest d;
  assert_int_equal(core_fetch_deb(&ctx, PKG, "0.0.1-nosuch", NULL, &v, &d, &err), -1);
  assert_non_null(strstr(err->msg, "no version '0.0.1-nosuch'"));
  assert_non_null(strstr(err->msg, "available: "));
  cleanup_free char *want_v = NULL, *want_s = NULL;
  apt_truth(&want_v, &want_s);
  assert_non_null(strstr(err->msg, want_v));
  core_error_freep(&err);
  assert_int_equal(core_fetch_deb(&ctx, "no-such-package-core", NULL, NULL, &v, &d, &err), -1);
  assert_non_null(strstr(err->msg, "does not know the package 'no-such-package-core'"));
  core_error_freep(&err);
  assert_int_equal(core_fetch_deb(&ctx, "no-such-package-core", "1.0", NULL, &v, &d, &err), -1);
  assert_non_null(strstr(err->msg, "does not know the package"));
  core_error_freep(&err);
  assert_int_equal(core_fetch_deb(&ctx, "-o=evil", NULL, NULL, &v, &d, &err), -1);
  assert_non_null(strstr(err->msg, "not a Debian package name"));
  core_error_freep(&err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_by_name_then_offline, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_exact_version_and_pin, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_unknown, make_tmpdir, remove_tmpdir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
