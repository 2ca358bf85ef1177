/* Unit tests for linker/pkgdb.c: dpkg status, .deb control and apk installed databases to
 * package records, with hostile inputs (huge fields, missing fields, duplicates, binary
 * garbage, no trailing newline, more packages or bytes than the limits). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "pkgdb.h"

/* Parses TEXT and returns the packages as "name version arch source" lines, sorted. */
static char *parse(core_pkgdb_kind kind, const char *text, size_t len) {
  cleanup_pkg_list core_pkg_list l = {0};
  core_error *err = NULL;
  assert_int_equal(core_pkgdb_parse(kind, text, len, 3, &l, &err), 0);
  assert_null(err);
  core_pkg_list_sort(&l);
  char *out = calloc(1, 1);
  size_t n = 0;
  for (size_t i = 0; i < l.n; i++) {
    char line[1024];
    int k = snprintf(line, sizeof line, "%s %s %s %s %d\n", l.v[i].name, l.v[i].version, l.v[i].arch ? l.v[i].arch : "-",
                     l.v[i].type, l.v[i].source);
    out = realloc(out, n + (size_t)k + 1);
    memcpy(out + n, line, (size_t)k + 1);
    n += (size_t)k;
  }
  return out;
}

static void expect(core_pkgdb_kind kind, const char *text, const char *want) {
  char *got = parse(kind, text, strlen(text));
  assert_string_equal(got, want);
  free(got);
}

static void test_dpkg_status(void **state) {
  (void)state;
  expect(CORE_PKGDB_DPKG_STATUS,
         "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\nArchitecture: amd64\n"
         "Description: compression library\n a continuation line: with a colon\n .\n\n"
         "Package: oldpkg\nStatus: deinstall ok config-files\nVersion: 1.0\nArchitecture: all\n\n"
         "package: base-files\nstatus: install ok installed\nversion: 12.4\narchitecture: amd64\n\n"
         "Package: half\nStatus: install reinstreq half-installed\nVersion: 2\n\n",
         "base-files 12.4 amd64 deb 3\nzlib1g 1:1.2.13.dfsg-1 amd64 deb 3\n");
}

static void test_missing_fields(void **state) {
  (void)state;
  /* No version, no name, no status: none of these is an installed package. */
  expect(CORE_PKGDB_DPKG_STATUS,
         "Package: noversion\nStatus: install ok installed\n\nVersion: 1\nStatus: install ok installed\n\n"
         "Package: nostatus\nVersion: 1\n\n\n\n",
         "");
  /* A control file has no Status; an empty one lists nothing. */
  expect(CORE_PKGDB_DEB_CONTROL, "Package: busybox\nVersion: 1:1.35\nArchitecture: amd64\n", "busybox 1:1.35 amd64 deb 3\n");
  expect(CORE_PKGDB_DEB_CONTROL, "", "");
}

static void test_no_trailing_newline_and_crlf(void **state) {
  (void)state;
  expect(CORE_PKGDB_DPKG_STATUS, "Package: a\r\nStatus: install ok installed\r\nVersion: 1\r\n\r\nPackage: b\nVersion: 2\nStatus: install ok installed",
         "a 1 - deb 3\nb 2 - deb 3\n");
}

static void test_huge_and_odd_values(void **state) {
  (void)state;
  char *text = malloc(4096);
  /* A 300-byte name is no package name; a value with a space or a control byte neither. */
  int n = snprintf(text, 4096, "Package: %0300d\nVersion: 1\nStatus: install ok installed\n\n"
                   "Package: two words\nVersion: 1\nStatus: install ok installed\n\n"
                   "Package: ctl\x01\nVersion: 1\nStatus: install ok installed\n\n"
                   "Package: ok\nVersion: %0255d\nStatus: install ok installed\n", 0, 0);
  assert_true(n > 0 && n < 4096);
  char *got = parse(CORE_PKGDB_DPKG_STATUS, text, (size_t)n);
  assert_int_equal(strncmp(got, "ok 000", 6), 0); /* the 255-byte version is still a version */
  assert_null(strstr(got, "ctl"));
  assert_null(strstr(got, "two"));
  assert_int_equal(strlen(got), strlen("ok  - deb 3\n") + 255);
  free(got);
  free(text);
}

static void test_duplicates(void **state) {
  (void)state;
  const char *one = "Package: dup\nVersion: 1\nStatus: install ok installed\nArchitecture: amd64\n\n";
  char text[512];
  snprintf(text, sizeof text, "%s%s%sPackage: dup\nVersion: 2\nStatus: install ok installed\nArchitecture: amd64\n", one,
           one, one);
  /* Exact repeats collapse into one; another version of the same name is kept. */
  expect(CORE_PKGDB_DPKG_STATUS, text, "dup 1 amd64 deb 3\ndup 2 amd64 deb 3\n");
}

static void test_binary_garbage(void **state) {
  (void)state;
  unsigned char junk[8192];
  uint32_t x = 0x12345678;
  for (size_t i = 0; i < sizeof junk; i++) {
    x = x * 1103515245 + 12345;
    junk[i] = (unsigned char)(x >> 16);
  }
  for (int kind = CORE_PKGDB_DPKG_STATUS; kind <= CORE_PKGDB_APK; kind++) {
    cleanup_pkg_list core_pkg_list l = {0};
    core_error *err = NULL;
    assert_int_equal(core_pkgdb_parse((core_pkgdb_kind)kind, (const char *)junk, sizeof junk, 0, &l, &err), 0);
    for (size_t i = 0; i < l.n; i++) assert_true(strlen(l.v[i].name) <= CORE_PKGDB_MAX_VALUE);
  }
  /* NUL bytes inside a value make it no value. */
  static const char nul[] = "Package: a\0b\nVersion: 1\nStatus: install ok installed\n";
  char *got = parse(CORE_PKGDB_DPKG_STATUS, nul, sizeof nul - 1);
  assert_string_equal(got, "");
  free(got);
}

static void test_limits(void **state) {
  (void)state;
  /* Too many bytes: refused before a byte is read (the text here is far shorter than claimed). */
  cleanup_pkg_list core_pkg_list l = {0};
  core_error *err = NULL;
  assert_int_equal(core_pkgdb_parse(CORE_PKGDB_DPKG_STATUS, "", (size_t)CORE_PKGDB_MAX_BYTES + 1, 0, &l, &err), -1);
  assert_int_equal(err->errnum, EFBIG);
  core_error_freep(&err);
  /* Too many packages: refused at the first one past the limit. */
  size_t per = 48, n = CORE_PKGDB_MAX_PACKAGES + 1;
  char *text = malloc(per * n + 1), *p = text;
  for (size_t i = 0; i < n; i++) p += sprintf(p, "P:p%zu\nV:1\n\n", i);
  assert_int_equal(core_pkgdb_parse(CORE_PKGDB_APK, text, (size_t)(p - text), 0, &l, &err), -1);
  assert_non_null(strstr(err->msg, "more than"));
  assert_int_equal(l.n, CORE_PKGDB_MAX_PACKAGES);
  core_error_freep(&err);
  free(text);
}

static void test_apk(void **state) {
  (void)state;
  expect(CORE_PKGDB_APK,
         "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nS:383152\nF:lib\nR:libc.musl-x86_64.so.1\n\n"
         "P:busybox\nV:1.36.1-r5\n\nP:\nV:1\n\nPP:long-key\nV:1\n",
         "busybox 1.36.1-r5 - apk 3\nmusl 1.2.4-r2 x86_64 apk 3\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dpkg_status),     cmocka_unit_test(test_missing_fields),
      cmocka_unit_test(test_no_trailing_newline_and_crlf), cmocka_unit_test(test_huge_and_odd_values),
      cmocka_unit_test(test_duplicates),      cmocka_unit_test(test_binary_garbage),
      cmocka_unit_test(test_limits),          cmocka_unit_test(test_apk),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
