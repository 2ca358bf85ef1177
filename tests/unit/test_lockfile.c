/* Unit tests for compiler/lockfile.c: the canonical source of each kind, a round trip
 * through the file, matching, dropped entries, the change list and refusing bad files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "tmpdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "input_file.h"
#include "lockfile.h"

static json_t *source_of(core_source *src, const char **kind) {
  core_error *err = NULL;
  json_t *j = NULL;
  assert_int_equal(core_lock_source_of(src, kind, &j, &err), 0);
  return j;
}

static void test_source_forms(void **state) {
  (void)state;
  const char *kind;
  core_source file = {.kind = CORE_SOURCE_FILE, .path = "x"};
  assert_null(source_of(&file, &kind));
  assert_null(kind);
  core_source url = {.kind = CORE_SOURCE_URL, .url = "https://e.org/a.tar", .sha256 = "sha256:00"};
  cleanup_json json_t *u = source_of(&url, &kind);
  assert_string_equal(kind, "url");
  cleanup_free char *us = json_dumps(u, JSON_COMPACT | JSON_SORT_KEYS);
  assert_string_equal(us, "{\"url\":\"https://e.org/a.tar\"}");
  core_source git = {.kind = CORE_SOURCE_GIT, .url = "file:///r", .ref = "main", .path = "sub"};
  cleanup_json json_t *g = source_of(&git, &kind);
  cleanup_free char *gs = json_dumps(g, JSON_COMPACT | JSON_SORT_KEYS);
  assert_string_equal(gs, "{\"git\":\"file:///r\",\"path\":\"sub\",\"ref\":\"main\"}");
  core_source deb = {.kind = CORE_SOURCE_DEB, .package = "busybox-static"};
  cleanup_json json_t *d = source_of(&deb, &kind);
  cleanup_free char *ds = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
  assert_string_equal(ds, "{\"deb\":\"busybox-static\"}");
  core_source oci = {.kind = CORE_SOURCE_OCI, .image = "alpine:3"};
  cleanup_json json_t *o = source_of(&oci, &kind);
  assert_string_equal(kind, "oci");
}

static void test_round_trip(void **state) {
  core_error *err = NULL;
  cleanup_free char *path = core_path_join(*state, "app.lock");
  core_source deb = {.kind = CORE_SOURCE_DEB, .package = "zz"};
  core_source url = {.kind = CORE_SOURCE_URL, .url = "https://e.org/a"};
  const char *dk, *uk;
  cleanup_json json_t *ds = source_of(&deb, &dk), *us = source_of(&url, &uk);
  cleanup_json json_t *dpin = json_pack("{s:s,s:s}", "version", "1.0", "sha256", "sha256:aa");
  cleanup_json json_t *upin = json_pack("{s:s}", "sha256", "sha256:bb");
  {
    cleanup_lockfile core_lockfile *l = NULL;
    assert_int_equal(core_lockfile_load(path, &l, &err), 0);
    assert_null(core_lockfile_find(l, dk, ds, false));
    bool written = true;
    /* Nothing to lock and no file: none is created. */
    assert_int_equal(core_lockfile_write(l, &written, &err), 0);
    assert_false(written);
    assert_int_equal(core_lockfile_put(l, dk, ds, dpin, &err), 0);
    assert_int_equal(core_lockfile_put(l, uk, us, upin, &err), 0);
    cleanup_free char *changes = NULL;
    assert_int_equal(core_lockfile_changes(l, &changes, &err), 0);
    assert_string_equal(changes,
                        "add deb {\"deb\":\"zz\"}: {\"sha256\":\"sha256:aa\",\"version\":\"1.0\"}\n"
                        "add url {\"url\":\"https://e.org/a\"}: {\"sha256\":\"sha256:bb\"}");
    assert_int_equal(core_lockfile_write(l, &written, &err), 0);
    assert_true(written);
  }
  core_buf text = CORE_BUF_INIT;
  assert_int_equal(core_read_file(path, &text, &err), 0);
  /* Sorted by kind, keys sorted, indented: the same pins always give the same bytes. */
  assert_string_equal((char *)text.data,
                      "{\n  \"sources\": [\n    {\n      \"kind\": \"deb\",\n      \"pin\": {\n        \"sha256\": "
                      "\"sha256:aa\",\n        \"version\": \"1.0\"\n      },\n      \"source\": {\n        \"deb\": "
                      "\"zz\"\n      }\n    },\n    {\n      \"kind\": \"url\",\n      \"pin\": {\n        \"sha256\": "
                      "\"sha256:bb\"\n      },\n      \"source\": {\n        \"url\": \"https://e.org/a\"\n      }\n    "
                      "}\n  ],\n  \"version\": 1\n}\n");
  core_buf_release(&text);
  {
    cleanup_lockfile core_lockfile *l = NULL;
    assert_int_equal(core_lockfile_load(path, &l, &err), 0);
    const json_t *p = core_lockfile_find(l, dk, ds, false);
    assert_non_null(p);
    assert_true(json_equal((json_t *)p, dpin));
    assert_null(core_lockfile_find(l, dk, ds, true));
    /* Same pins again: unchanged, not rewritten. */
    assert_int_equal(core_lockfile_put(l, dk, ds, dpin, &err), 0);
    assert_int_equal(core_lockfile_put(l, uk, us, upin, &err), 0);
    cleanup_free char *changes = NULL;
    assert_int_equal(core_lockfile_changes(l, &changes, &err), 0);
    assert_string_equal(changes, "");
    bool written = true;
    assert_int_equal(core_lockfile_write(l, &written, &err), 0);
    assert_false(written);
  }
  {
    /* A changed version of the deb is a new entry; the old one and the unused URL go. */
    cleanup_lockfile core_lockfile *l = NULL;
    assert_int_equal(core_lockfile_load(path, &l, &err), 0);
    core_source deb2 = {.kind = CORE_SOURCE_DEB, .package = "zz", .version = "2.0"};
    cleanup_json json_t *ds2 = source_of(&deb2, &dk);
    assert_null(core_lockfile_find(l, dk, ds2, false));
    cleanup_json json_t *pin2 = json_pack("{s:s,s:s}", "version", "2.0", "sha256", "sha256:cc");
    assert_int_equal(core_lockfile_put(l, dk, ds2, pin2, &err), 0);
    cleanup_free char *changes = NULL;
    assert_int_equal(core_lockfile_changes(l, &changes, &err), 0);
    assert_non_null(strstr(changes, "add deb {\"deb\":\"zz\",\"version\":\"2.0\"}"));
    assert_non_null(strstr(changes, "remove deb {\"deb\":\"zz\"} (no longer used)"));
    assert_non_null(strstr(changes, "remove url {\"url\":\"https://e.org/a\"}"));
    bool written;
    assert_int_equal(core_lockfile_write(l, &written, &err), 0);
    assert_true(written);
  }
  cleanup_lockfile core_lockfile *l = NULL;
  assert_int_equal(core_lockfile_load(path, &l, &err), 0);
  assert_null(core_lockfile_find(l, "url", us, false));
  core_source deb2 = {.kind = CORE_SOURCE_DEB, .package = "zz", .version = "2.0"};
  cleanup_json json_t *ds2 = source_of(&deb2, &dk);
  assert_non_null(core_lockfile_find(l, "deb", ds2, false));
}

static void test_changed_pin(void **state) {
  core_error *err = NULL;
  cleanup_free char *path = core_path_join(*state, "app.lock");
  const char *text = "{\"version\":1,\"sources\":[{\"kind\":\"git\",\"source\":{\"git\":\"file:///r\",\"ref\":\"main\"},"
                     "\"pin\":{\"commit\":\"aaaa\"}}]}";
  assert_int_equal(core_write_file_atomic(path, text, strlen(text), 0644, &err), 0);
  cleanup_lockfile core_lockfile *l = NULL;
  assert_int_equal(core_lockfile_load(path, &l, &err), 0);
  cleanup_json json_t *src = json_pack("{s:s,s:s}", "ref", "main", "git", "file:///r");
  cleanup_json json_t *pin = json_pack("{s:s}", "commit", "bbbb");
  assert_int_equal(core_lockfile_put(l, "git", src, pin, &err), 0);
  cleanup_free char *changes = NULL;
  assert_int_equal(core_lockfile_changes(l, &changes, &err), 0);
  assert_string_equal(changes,
                      "change git {\"git\":\"file:///r\",\"ref\":\"main\"}: {\"commit\":\"aaaa\"} -> {\"commit\":\"bbbb\"}");
}

static void expect_bad(const char *dir, const char *text, const char *needle) {
  core_error *err = NULL;
  cleanup_free char *path = core_path_join(dir, "bad.lock");
  assert_int_equal(core_write_file_atomic(path, text, strlen(text), 0644, &err), 0);
  cleanup_lockfile core_lockfile *l = NULL;
  assert_int_equal(core_lockfile_load(path, &l, &err), -1);
  if (strstr(err->msg, needle) == NULL) fail_msg("'%s' not in '%s'", needle, err->msg);
  core_error_free(err);
}

static void test_bad_files(void **state) {
  expect_bad(*state, "{", "not a valid lock file");
  expect_bad(*state, "[]", "needs \"version\"");
  expect_bad(*state, "{\"version\":2,\"sources\":[]}", "has version 2");
  expect_bad(*state, "{\"version\":1,\"sources\":[{\"kind\":\"deb\"}]}", "sources[0] needs");
  expect_bad(*state, "{\"version\":1,\"sources\":[{\"kind\":\"ftp\",\"source\":{},\"pin\":{}}]}", "kind other");
  expect_bad(*state,
             "{\"version\":1,\"sources\":[{\"kind\":\"deb\",\"source\":{\"deb\":\"a\"},\"pin\":{}},"
             "{\"kind\":\"deb\",\"source\":{\"deb\":\"a\"},\"pin\":{}}]}",
             "sources[1] repeats");
}

/* Hostile locks: a duplicate key (which a lenient reader lets win), entry types that are not
 * a file, a file over the cap, and more entries than allowed, each refused before the work
 * it would cause; the alarm turns a hang on a FIFO into a failure. */
static void test_hostile_files(void **state) {
  alarm(30);
  expect_bad(*state, "{\"version\":1,\"version\":1,\"sources\":[]}", "duplicate object key");
  expect_bad(*state,
             "{\"version\":1,\"sources\":[{\"kind\":\"url\",\"source\":{\"url\":\"u\"},"
             "\"pin\":{\"sha256\":\"sha256:aa\",\"sha256\":\"sha256:bb\"}}]}",
             "duplicate object key");
  char *dir = *state;
  cleanup_free char *fifo = core_path_join(dir, "fifo.lock");
  cleanup_free char *big = core_path_join(dir, "big.lock");
  cleanup_free char *many = core_path_join(dir, "many.lock");
  assert_int_equal(mkfifo(fifo, 0644), 0);
  FILE *f = fopen(big, "w");
  fclose(f);
  assert_int_equal(truncate(big, (off_t)CORE_INPUT_MAX_BYTES + 1), 0);
  const struct {
    const char *path, *want;
  } cases[] = {
      {fifo, "is a FIFO, not a regular file"},
      {dir, "is a directory, not a regular file"},
      {"/dev/zero", "is a character device, not a regular file"},
      {big, "over the limit of 8388608 bytes"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    core_error *err = NULL;
    cleanup_lockfile core_lockfile *l = NULL;
    assert_int_equal(core_lockfile_load(cases[i].path, &l, &err), -1);
    if (strstr(err->msg, cases[i].want) == NULL || strstr(err->msg, cases[i].path) == NULL)
      fail_msg("'%s' not in '%s'", cases[i].want, err->msg);
    core_error_free(err);
  }
  /* The count is checked before any entry is matched against the others. */
  f = fopen(many, "w");
  fputs("{\"version\":1,\"sources\":[", f);
  for (int i = 0; i <= CORE_LOCKFILE_MAX_ENTRIES; i++) fprintf(f, "%s{}", i ? "," : "");
  fputs("]}", f);
  fclose(f);
  core_error *err = NULL;
  cleanup_lockfile core_lockfile *l = NULL;
  assert_int_equal(core_lockfile_load(many, &l, &err), -1);
  assert_non_null(strstr(err->msg, "has 10001 sources, over the limit of 10000"));
  core_error_free(err);
  alarm(0);
}

/* The entries as the one reader hands them to 'corec lock' and 'corec cache gc'. */
static void test_entries(void **state) {
  cleanup_free char *path = core_path_join(*state, "app.lock");
  const char *text = "{\"version\":1,\"sources\":[{\"kind\":\"url\",\"source\":{\"url\":\"u\"},"
                     "\"pin\":{\"sha256\":\"sha256:aa\"}}]}";
  core_error *err = NULL;
  assert_int_equal(core_write_file_atomic(path, text, strlen(text), 0644, &err), 0);
  cleanup_lockfile core_lockfile *l = NULL;
  if (core_lockfile_load(path, &l, &err) < 0) fail_msg("%s", err->msg);
  assert_int_equal(core_lockfile_count(l), 1);
  const char *kind;
  const json_t *source, *pin;
  core_lockfile_entry(l, 0, &kind, &source, &pin);
  assert_string_equal(kind, "url");
  assert_string_equal(json_string_value(json_object_get(source, "url")), "u");
  assert_string_equal(json_string_value(json_object_get(pin, "sha256")), "sha256:aa");
}

static int collect(void *ctx, const char *digest, core_error **err) {
  (void)err;
  char *seen = ctx;
  if (strlen(seen) < 8) strcat(seen, digest[7] == 'a' ? "a" : "b");
  return 0;
}

/* What corec lock prints and the digests cache gc keeps, at any depth of a pin. */
static void test_entry_text_and_digests(void **state) {
  cleanup_free char *path = core_path_join(*state, "app.lock");
  char a[72] = "sha256:", b[72] = "sha256:";
  memset(a + 7, 'a', 64);
  memset(b + 7, 'b', 64);
  cleanup_free char *text = NULL;
  assert_true(asprintf(&text,
                       "{\"version\":1,\"sources\":[{\"kind\":\"oci\",\"source\":{\"oci\":\"x:1\"},"
                       "\"pin\":{\"manifest\":\"%s\",\"layers\":[{\"digest\":\"%s\"}],\"size\":3,"
                       "\"note\":\"sha256:short\"}}]}",
                       a, b) > 0);
  core_error *err = NULL;
  assert_int_equal(core_write_file_atomic(path, text, strlen(text), 0644, &err), 0);
  cleanup_lockfile core_lockfile *l = NULL;
  if (core_lockfile_load(path, &l, &err) < 0) fail_msg("%s", err->msg);
  cleanup_free char *line = NULL;
  assert_int_equal(core_lockfile_entry_text(l, 0, &line, &err), 0);
  cleanup_free char *want = NULL;
  assert_true(asprintf(&want, "oci {\"oci\":\"x:1\"}: {\"layers\":[{\"digest\":\"%s\"}],\"manifest\":\"%s\","
                              "\"note\":\"sha256:short\",\"size\":3}",
                       b, a) > 0);
  assert_string_equal(line, want);
  char seen[16] = "";
  assert_int_equal(core_lockfile_digests(l, collect, seen, &err), 0);
  assert_int_equal(strlen(seen), 2); /* both digests, not the malformed one */
  assert_non_null(strchr(seen, 'a'));
  assert_non_null(strchr(seen, 'b'));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_source_forms),
      cmocka_unit_test_setup_teardown(test_round_trip, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_changed_pin, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_bad_files, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_hostile_files, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_entries, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_entry_text_and_digests, make_tmpdir, remove_tmpdir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
