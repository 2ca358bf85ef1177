/* Unit tests for lib/cpio_write.c, the one cpio writer: every entry type read back with
 * libarchive, with the inode numbers, link counts and timestamp that make the bytes depend
 * on the entries alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <string.h>

#include "archive_util.h"
#include "cpio_write.h"

static void write_all(int64_t mtime, core_buf *out) {
  static const char data[] = "hello\n";
  const core_cpio_entry entries[] = {
      {.path = "etc", .type = CORE_CPIO_DIR, .perm = 0755},
      {.path = "etc/motd", .type = CORE_CPIO_FILE, .perm = 0644, .uid = 7, .gid = 8, .data = data,
       .size = sizeof data - 1},
      {.path = "etc/empty", .type = CORE_CPIO_FILE, .perm = 0600},
      {.path = "etc/link", .type = CORE_CPIO_SYMLINK, .perm = 0777, .target = "motd"},
      {.path = "console", .type = CORE_CPIO_CHAR, .perm = 0600, .rdev_major = 5, .rdev_minor = 1},
  };
  cleanup_cpio core_cpio *c = NULL;
  core_error *err = NULL;
  assert_int_equal(core_cpio_new(&c, mtime, "the test archive", &err), 0);
  for (size_t i = 0; i < sizeof entries / sizeof *entries; i++) assert_int_equal(core_cpio_add(c, &entries[i], &err), 0);
  assert_int_equal(core_cpio_finish(c, out, &err), 0);
  assert_null(err);
}

static void test_entries_read_back(void **state) {
  (void)state;
  core_buf out = CORE_BUF_INIT;
  write_all(1234567890, &out);
  cleanup_archive_read struct archive *a = archive_read_new();
  archive_read_support_format_cpio(a);
  assert_int_equal(archive_read_open_memory(a, out.data, out.len), ARCHIVE_OK);
  static const struct {
    const char *path;
    unsigned type;
    unsigned perm;
    unsigned nlink;
  } want[] = {
      {"etc", AE_IFDIR, 0755, 2},      {"etc/motd", AE_IFREG, 0644, 1}, {"etc/empty", AE_IFREG, 0600, 1},
      {"etc/link", AE_IFLNK, 0777, 1}, {"console", AE_IFCHR, 0600, 1},
  };
  struct archive_entry *e;
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_OK);
    assert_string_equal(archive_entry_pathname(e), want[i].path);
    assert_int_equal(archive_entry_filetype(e), want[i].type);
    assert_int_equal(archive_entry_perm(e), want[i].perm);
    assert_int_equal(archive_entry_nlink(e), want[i].nlink);
    /* Counted from 1 in the order added, whatever the host's inodes. */
    assert_int_equal(archive_entry_ino64(e), (int64_t)i + 1);
    assert_int_equal(archive_entry_mtime(e), 1234567890);
    if (i == 1) {
      char buf[16] = "";
      assert_int_equal(archive_entry_uid(e), 7);
      assert_int_equal(archive_entry_gid(e), 8);
      assert_int_equal(archive_read_data(a, buf, sizeof buf), 6);
      assert_string_equal(buf, "hello\n");
    }
    if (i == 3) assert_string_equal(archive_entry_symlink(e), "motd");
    if (i == 4) {
      assert_int_equal(archive_entry_rdevmajor(e), 5);
      assert_int_equal(archive_entry_rdevminor(e), 1);
    }
  }
  assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_EOF);
  /* newc pads every header and body to 4 bytes, so archives can be concatenated. */
  assert_int_equal(out.len % 4, 0);
  core_buf_release(&out);
}

static void test_same_entries_same_bytes(void **state) {
  (void)state;
  core_buf a = CORE_BUF_INIT, b = CORE_BUF_INIT, c = CORE_BUF_INIT;
  write_all(0, &a);
  write_all(0, &b);
  write_all(1, &c);
  assert_int_equal(a.len, b.len);
  assert_memory_equal(a.data, b.data, a.len);
  assert_true(a.len != c.len || memcmp(a.data, c.data, a.len) != 0);
  core_buf_release(&a);
  core_buf_release(&b);
  core_buf_release(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_entries_read_back),
      cmocka_unit_test(test_same_entries_same_bytes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
