/* Unit tests for linker/oci_layer.c: image layers (plain, gzip, zstd) applied in order, with
 * ".wh." and opaque whiteouts hiding only what earlier layers put there. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "tmpdir.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "oci_layer.h"
#include "rootfs.h"
#include "rootfs_fixture.h"

typedef struct entry {
  const char *path;
  const char *text; /* NULL: a directory */
} entry;

/* Writes a tar layer with libarchive; filter is ARCHIVE_FILTER_NONE, _GZIP or _ZSTD. */

static char *write_layer(const char *dir, const char *name, int filter, const entry *entries) {
  char *path = NULL;
  assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
  struct archive *a = archive_write_new();
  assert_non_null(a);
  assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
  if (filter == ARCHIVE_FILTER_GZIP) assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
  if (filter == ARCHIVE_FILTER_ZSTD) assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
  assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
  for (const entry *en = entries; en->path; en++) {
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, en->path);
    archive_entry_set_filetype(e, en->text ? AE_IFREG : AE_IFDIR);
    archive_entry_set_perm(e, en->text ? 0640 : 0750);
    archive_entry_set_uid(e, 1000);
    archive_entry_set_gid(e, 1000);
    archive_entry_set_size(e, en->text ? (la_int64_t)strlen(en->text) : 0);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    if (en->text) assert_int_equal(archive_write_data(a, en->text, strlen(en->text)), (la_ssize_t)strlen(en->text));
    archive_entry_free(e);
  }
  assert_int_equal(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
  return path;
}

static void add(core_rootfs *fs, const char *blob, const char *dest) {
  core_error *err = NULL;
  if (core_rootfs_add_oci_layer(fs, blob, dest, &err) < 0) fail_msg("%s", err->msg);
}

static void assert_text(const core_rootfs *fs, const char *path, const char *text) {
  const core_node *n = core_rootfs_find(fs, path);
  if (n == NULL) fail_msg("'%s' is not in the tree", path);
  assert_int_equal(n->type, CORE_NODE_FILE);
  assert_int_equal(n->size, strlen(text));
  cleanup_free char *got = node_text(fs, n);
  assert_string_equal(got, text);
}

static void assert_absent(const core_rootfs *fs, const char *path) {
  if (core_rootfs_find(fs, path)) fail_msg("'%s' should have been hidden", path);
}

static void assert_no_markers(const core_rootfs *fs) {
  for (size_t i = 0; i < fs->n; i++)
    if (strstr(fs->nodes[i].path, ".wh.")) fail_msg("whiteout marker '%s' is in the tree", fs->nodes[i].path);
}

static const entry base[] = {
    {"a", NULL},         {"a/keep", "keep"},   {"a/gone", "gone"}, {"a/sub", NULL}, {"a/sub/deep", "deep"},
    {"b", NULL},         {"b/old", "old"},     {"b/dir", NULL},    {"b/dir/x", "x"}, {"c", "c"},
    {"cc", "similar"},   {"c.d", "similar"},   {NULL, NULL},
};

static void test_whiteouts(void **state) {
  const char *dir = *state;
  static const entry upper[] = {
      {"a/.wh.gone", ""}, {"a/.wh.sub", ""}, {"b", NULL}, {"b/new", "new"}, {"b/.wh..wh..opq", ""},
      {".wh.c", ""},      {"d", NULL},       {NULL, NULL},
  };
  cleanup_free char *l1 = write_layer(dir, "l1.tar.gz", ARCHIVE_FILTER_GZIP, base);
  cleanup_free char *l2 = write_layer(dir, "l2.tar.zst", ARCHIVE_FILTER_ZSTD, upper);
  core_rootfs fs = fresh_fs();
  add(&fs, l1, "");
  add(&fs, l2, "");
  core_error *err = NULL;
  if (core_rootfs_finish(&fs, &err) < 0) fail_msg("%s", err->msg);
  assert_text(&fs, "a/keep", "keep");
  assert_absent(&fs, "a/gone");
  assert_absent(&fs, "a/sub");
  assert_absent(&fs, "a/sub/deep");
  assert_non_null(core_rootfs_find(&fs, "b"));
  assert_text(&fs, "b/new", "new");
  assert_absent(&fs, "b/old");
  assert_absent(&fs, "b/dir");
  assert_absent(&fs, "b/dir/x");
  assert_absent(&fs, "c");
  /* Names that only start like the hidden one stay. */
  assert_text(&fs, "cc", "similar");
  assert_text(&fs, "c.d", "similar");
  const core_node *a = core_rootfs_find(&fs, "a");
  assert_non_null(a);
  assert_int_equal(a->perm, 0750);
  assert_int_equal(a->uid, 1000);
  assert_no_markers(&fs);
  core_rootfs_release(&fs);
}

/* Whiteouts never touch their own layer, wherever the marker sits in the tar. */
static void test_same_layer_untouched(void **state) {
  const char *dir = *state;
  static const entry one[] = {
      {"d", NULL}, {"d/x", "x"}, {"d/.wh..wh..opq", ""}, {"e", "e"}, {".wh.e", ""}, {NULL, NULL},
  };
  cleanup_free char *l1 = write_layer(dir, "one.tar", ARCHIVE_FILTER_NONE, one);
  core_rootfs fs = fresh_fs();
  add(&fs, l1, "");
  core_error *err = NULL;
  if (core_rootfs_finish(&fs, &err) < 0) fail_msg("%s", err->msg);
  assert_text(&fs, "d/x", "x");
  assert_text(&fs, "e", "e");
  assert_no_markers(&fs);
  core_rootfs_release(&fs);
}

/* A later layer brings back what an earlier whiteout hid. */
static void test_hidden_then_recreated(void **state) {
  const char *dir = *state;
  static const entry hide[] = {{"a/.wh.gone", ""}, {"a/.wh.sub", ""}, {NULL, NULL}};
  static const entry back[] = {{"a/gone", "again"}, {"a/sub/new", "new"}, {NULL, NULL}};
  cleanup_free char *l1 = write_layer(dir, "l1.tar", ARCHIVE_FILTER_NONE, base);
  cleanup_free char *l2 = write_layer(dir, "l2.tar", ARCHIVE_FILTER_GZIP, hide);
  cleanup_free char *l3 = write_layer(dir, "l3.tar", ARCHIVE_FILTER_ZSTD, back);
  core_rootfs fs = fresh_fs();
  add(&fs, l1, "");
  add(&fs, l2, "");
  add(&fs, l3, "");
  core_error *err = NULL;
  if (core_rootfs_finish(&fs, &err) < 0) fail_msg("%s", err->msg);
  assert_text(&fs, "a/gone", "again");
  assert_text(&fs, "a/sub/new", "new");
  assert_absent(&fs, "a/sub/deep");
  const core_node *sub = core_rootfs_find(&fs, "a/sub");
  assert_non_null(sub);
  assert_int_equal(sub->type, CORE_NODE_DIR);
  core_rootfs_release(&fs);
}

/* Under a destination, whiteouts stay inside it: a root opaque marker hides only dest. */
static void test_dest_prefix(void **state) {
  const char *dir = *state;
  static const entry opq[] = {{".wh..wh..opq", ""}, {"fresh", "fresh"}, {NULL, NULL}};
  cleanup_free char *l1 = write_layer(dir, "l1.tar", ARCHIVE_FILTER_NONE, base);
  cleanup_free char *l2 = write_layer(dir, "l2.tar", ARCHIVE_FILTER_NONE, opq);
  core_rootfs fs = fresh_fs();
  add(&fs, l1, "");
  add(&fs, l1, "opt/app");
  add(&fs, l2, "opt/app");
  core_error *err = NULL;
  if (core_rootfs_finish(&fs, &err) < 0) fail_msg("%s", err->msg);
  assert_text(&fs, "a/keep", "keep");
  assert_text(&fs, "opt/app/fresh", "fresh");
  assert_absent(&fs, "opt/app/a/keep");
  assert_absent(&fs, "opt/app/c");
  assert_no_markers(&fs);
  core_rootfs_release(&fs);
}

/* Whiteouts of what the linker owns hide only what layers put there: the linker's own
 * entries come after every layer, and a marker naming no file is refused. */
static void test_whiteouts_of_linker_paths(void **state) {
  const char *dir = *state;
  static const entry lower[] = {{"etc", NULL}, {"etc/passwd", "root"}, {"dev", NULL}, {NULL, NULL}};
  static const entry upper[] = {
      {".wh.init", ""}, {".wh.etc", ""}, {"dev/.wh..wh..opq", ""}, {"dev/.wh.console", ""}, {NULL, NULL}};
  cleanup_free char *l1 = write_layer(dir, "l1.tar", ARCHIVE_FILTER_NONE, lower);
  cleanup_free char *l2 = write_layer(dir, "l2.tar.gz", ARCHIVE_FILTER_GZIP, upper);
  core_rootfs fs = fresh_fs();
  add(&fs, l1, "");
  add(&fs, l2, "");
  core_error *err = NULL;
  fs.origin = CORE_ORIGIN_OWNED;
  core_buf init = CORE_BUF_INIT;
  assert_int_equal(core_buf_append(&init, "coreinit", 8, &err), 0);
  assert_int_equal(core_rootfs_add(&fs, "init", CORE_NODE_FILE, 0755, 0, 0, NULL, &init, &err), 0);
  assert_int_equal(core_rootfs_add(&fs, "etc", CORE_NODE_DIR, 0755, 0, 0, NULL, NULL, &err), 0);
  assert_int_equal(core_rootfs_add(&fs, "dev/console", CORE_NODE_CHAR, 0600, 0, 0, NULL, NULL, &err), 0);
  if (core_rootfs_finish(&fs, &err) < 0) fail_msg("%s", err->msg);
  assert_text(&fs, "init", "coreinit");
  assert_absent(&fs, "etc/passwd");
  assert_non_null(core_rootfs_find(&fs, "dev/console"));
  assert_no_markers(&fs);
  core_rootfs_release(&fs);

  static const entry bad[] = {{"etc/.wh.", ""}, {NULL, NULL}};
  cleanup_free char *l3 = write_layer(dir, "l3.tar", ARCHIVE_FILTER_NONE, bad);
  fs = fresh_fs();
  assert_int_equal(core_rootfs_add_oci_layer(&fs, l3, "", &err), -1);
  assert_non_null(strstr(err->msg, "names no file"));
  core_error_free(err);
  core_rootfs_release(&fs);
}

static void test_not_a_tar(void **state) {
  const char *dir = *state;
  cleanup_free char *path = NULL;
  assert_true(asprintf(&path, "%s/junk", dir) > 0);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("this is not an archive at all, not even close, but long enough to be looked at", f);
  fclose(f);
  core_rootfs fs = fresh_fs();
  core_error *err = NULL;
  assert_int_equal(core_rootfs_add_oci_layer(&fs, path, "", &err), -1);
  assert_non_null(err);
  assert_non_null(strstr(err->msg, path));
  core_error_free(err);
  core_rootfs_release(&fs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_whiteouts, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_same_layer_untouched, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_hidden_then_recreated, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_dest_prefix, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_whiteouts_of_linker_paths, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_not_a_tar, make_tmpdir, remove_tmpdir),
  };
  int failed = cmocka_run_group_tests_name("in memory", tests, NULL, NULL);
  spool_mode = 1;
  return failed + cmocka_run_group_tests_name("spooled", tests, NULL, NULL);
}
