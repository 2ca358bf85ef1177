/* Unit tests for linker/initramfs.c: zstd's multithreaded output is the same bytes whatever
 * the number of workers (reproducibility across build machines rests on it), and the streamed
 * initramfs is the cpio of the tree, compressed, with the digest and size of what was written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tmpdir.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "initramfs.h"
#include "rootfs.h"

/* Compressible but not trivially: words from a small vocabulary in a pseudo-random order,
 * with stretches of noise, so the matcher works across job boundaries. */
static uint8_t *sample(size_t len) {
  static const char *const words[] = {"kernel ", "initramfs ", "core ", "layer ", "zstd ", "worker ", "job ", "\n"};
  uint8_t *p = malloc(len);
  assert_non_null(p);
  uint64_t x = 0x9e3779b97f4a7c15u;
  for (size_t i = 0; i < len;) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    if ((x & 0xff) < 8) { /* noise */
      for (int k = 0; k < 64 && i < len; k++) p[i++] = (uint8_t)(x >> (k % 56));
      continue;
    }
    const char *w = words[x % 8];
    for (size_t k = 0; w[k] && i < len; k++) p[i++] = (uint8_t)w[k];
  }
  return p;
}

/* Compresses data with the writer and returns the frame (in a temporary file read back). */
static void compress(const uint8_t *data, size_t len, int level, int workers, size_t job, core_buf *out, core_digest *digest) {
  core_error *err = NULL;
  cleanup_close int fd = -1;
  assert_int_equal(core_tmpfile_open(&fd, "a test frame", &err), 0);
  cleanup_zstd_writer core_zstd_writer *z = NULL;
  assert_int_equal(core_zstd_writer_new(&z, level, workers, job, fd, &err), 0);
  /* In uneven pieces, as the cpio writer hands them over. */
  for (size_t at = 0; at < len;) {
    size_t n = len - at < 10240 ? len - at : 10240;
    assert_int_equal(core_zstd_writer_write(z, data + at, n, &err), 0);
    at += n;
  }
  uint64_t size;
  assert_int_equal(core_zstd_writer_end(z, digest, &size, &err), 0);
  assert_int_equal(lseek(fd, 0, SEEK_CUR), (off_t)size);
  assert_int_equal(core_buf_reserve(out, size, &err), 0);
  assert_int_equal(core_pread_exact(fd, out->data, size, 0, "the frame", &err), 0);
  out->len = size;
  core_digest again;
  assert_int_equal(core_digest_bytes(out->data, out->len, &again, &err), 0);
  assert_string_equal(again.str, digest->str); /* the digest is of exactly what was written */
}

static void test_workers_do_not_change_the_bytes(void **state) {
  (void)state;
  /* Three jobs and a bit: boundaries, overlap and the last short job. The jobs are zstd's
   * smallest (512 KiB) so that level 19 stays quick; the corec size is the same mechanism. */
  size_t job = 512u << 10, len = 3 * job + (100u << 10);
  cleanup_free uint8_t *data = sample(len);
  core_buf one = CORE_BUF_INIT, two = CORE_BUF_INIT, four = CORE_BUF_INIT;
  core_digest d1, d2, d4;
  compress(data, len, CORE_ZSTD_LEVEL, 1, job, &one, &d1);
  compress(data, len, CORE_ZSTD_LEVEL, 2, job, &two, &d2);
  compress(data, len, CORE_ZSTD_LEVEL, 4, job, &four, &d4);
  assert_string_equal(d1.str, d2.str);
  assert_string_equal(d1.str, d4.str);
  assert_int_equal(one.len, two.len);
  assert_memory_equal(one.data, two.data, one.len);
  assert_memory_equal(one.data, four.data, one.len);
  /* And it is zstd of the input. */
  cleanup_free uint8_t *back = malloc(len);
  size_t n = ZSTD_decompress(back, len, one.data, one.len);
  assert_false(ZSTD_isError(n));
  assert_int_equal(n, len);
  assert_memory_equal(back, data, len);
  core_buf_release(&one);
  core_buf_release(&two);
  core_buf_release(&four);
}

static void test_workers_from_the_environment(void **state) {
  (void)state;
  core_error *err = NULL;
  setenv(CORE_ZSTD_WORKERS_ENV, "3", 1);
  assert_int_equal(core_zstd_workers(&err), 3);
  const char *bad[] = {"0", "-1", "x", "2x", "99"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    setenv(CORE_ZSTD_WORKERS_ENV, bad[i], 1);
    assert_int_equal(core_zstd_workers(&err), -1);
    assert_non_null(strstr(err->msg, CORE_ZSTD_WORKERS_ENV));
    core_error_freep(&err);
  }
  unsetenv(CORE_ZSTD_WORKERS_ENV);
  int n = core_zstd_workers(&err);
  assert_true(n >= 1 && n <= CORE_ZSTD_MAX_WORKERS);
}

static void add_text(core_rootfs *fs, const char *path, const char *text) {
  core_error *err = NULL;
  core_buf b = CORE_BUF_INIT;
  assert_int_equal(core_buf_append(&b, text, strlen(text), &err), 0);
  assert_int_equal(core_rootfs_add(fs, path, CORE_NODE_FILE, 0644, 0, 0, NULL, &b, &err), 0);
}

/* A tree (spooled or not): the streamed initramfs decompresses to the in-memory cpio. */
static void check_stream(int spooled) {
  core_error *err = NULL;
  cleanup_rootfs core_rootfs fs = CORE_ROOTFS_INIT;
  if (spooled) assert_int_equal(core_rootfs_use_spool(&fs, &err), 0);
  add_text(&fs, "etc/motd", "hello\n");
  add_text(&fs, "etc/motd", "replaced\n"); /* dead bytes in the spool, not in the archive */
  add_text(&fs, "empty", "");
  cleanup_free uint8_t *big = sample(300000);
  core_buf b = CORE_BUF_INIT;
  assert_int_equal(core_buf_append(&b, big, 300000, &err), 0);
  assert_int_equal(core_rootfs_add(&fs, "usr/big", CORE_NODE_FILE, 0755, 0, 0, NULL, &b, &err), 0);
  assert_int_equal(core_rootfs_finish(&fs, &err), 0);
  core_buf cpio = CORE_BUF_INIT;
  assert_int_equal(core_cpio_write(&fs, 42, &cpio, &err), 0);
  assert_non_null(memmem(cpio.data, cpio.len, "replaced\n", 9));
  assert_null(memmem(cpio.data, cpio.len, "hello\n", 6));

  setenv(CORE_ZSTD_WORKERS_ENV, "2", 1);
  cleanup_close int fd = -1;
  assert_int_equal(core_tmpfile_open(&fd, "the test initramfs", &err), 0);
  assert_int_equal(write(fd, "xyz", 3), 3); /* written from the current position */
  core_digest d;
  uint64_t size;
  assert_int_equal(core_initramfs_write(&fs, 42, fd, &d, &size, &err), 0);
  unsetenv(CORE_ZSTD_WORKERS_ENV);
  assert_int_equal(lseek(fd, 0, SEEK_CUR), (off_t)(size + 3));
  core_buf frame = CORE_BUF_INIT;
  assert_int_equal(core_buf_reserve(&frame, size, &err), 0);
  assert_int_equal(core_pread_exact(fd, frame.data, size, 3, "frame", &err), 0);
  frame.len = size;
  core_digest want;
  assert_int_equal(core_digest_bytes(frame.data, frame.len, &want, &err), 0);
  assert_string_equal(d.str, want.str);
  cleanup_free uint8_t *back = malloc(cpio.len + 1);
  size_t n = ZSTD_decompress(back, cpio.len + 1, frame.data, frame.len);
  assert_false(ZSTD_isError(n));
  assert_int_equal(n, cpio.len);
  assert_memory_equal(back, cpio.data, cpio.len);
  core_buf_release(&cpio);
  core_buf_release(&frame);
}

static void test_stream_spooled(void **state) {
  (void)state;
  check_stream(1);
}

static void test_stream_in_memory(void **state) {
  (void)state;
  check_stream(0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_workers_do_not_change_the_bytes, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test(test_workers_from_the_environment),
      cmocka_unit_test_setup_teardown(test_stream_spooled, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_stream_in_memory, enter_tmpdir, leave_tmpdir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
