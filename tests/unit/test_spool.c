/* Unit tests for linker/spool.c and the spooled tree of linker/rootfs.c: file data goes to an
 * unlinked file, never to memory, so a tree far larger than a memory budget is read and
 * written as a cpio stream within it; replaced files leave dead bytes, hard links share
 * theirs, and the limits keep counting what was read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "cpio_write.h"
#include "initramfs.h"
#include "layer_reader.h"
#include "rootfs.h"
#include "spool.h"

static void test_append_and_read(void **state) {
  (void)state;
  core_error *err = NULL;
  core_spool s = CORE_SPOOL_INIT;
  assert_int_equal(core_spool_open(&s, &err), 0);
  uint64_t a, b;
  assert_int_equal(core_spool_append(&s, "hello", 5, &a, &err), 0);
  assert_int_equal(core_spool_append(&s, "world!", 6, &b, &err), 0);
  assert_int_equal(a, 0);
  assert_int_equal(b, 5);
  assert_int_equal(s.size, 11);
  char buf[8] = {0};
  assert_int_equal(core_spool_read(&s, 5, buf, 6, &err), 0);
  assert_string_equal(buf, "world!");
  /* Past the end is refused, not read as zeros or as whatever follows. */
  assert_int_equal(core_spool_read(&s, 6, buf, 6, &err), -1);
  core_error_freep(&err);
  assert_int_equal(core_spool_read(&s, UINT64_MAX, buf, 2, &err), -1);
  core_error_freep(&err);
  /* Unlinked: no name in $TMPDIR points at it. */
  char link[64], target[512];
  snprintf(link, sizeof link, "/proc/self/fd/%d", s.fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  assert_true(n > 0);
  target[n] = 0;
  assert_non_null(strstr(target, "(deleted)"));
  core_spool_release(&s);
  assert_int_equal(s.fd, -1);
}

static void test_tmpdir_is_used(void **state) {
  const char *dir = *state;
  core_error *err = NULL;
  char *old = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
  setenv("TMPDIR", dir, 1);
  int fd = -1;
  assert_int_equal(core_tmpfile_open(&fd, "a test file", &err), 0);
  struct stat st, dst;
  assert_int_equal(fstat(fd, &st), 0);
  assert_int_equal(stat(dir, &dst), 0);
  assert_int_equal(st.st_dev, dst.st_dev); /* on $TMPDIR's file system */
  close(fd);
  setenv("TMPDIR", "/nonexistent-core-dir", 1);
  assert_int_equal(core_tmpfile_open(&fd, "a test file", &err), -1);
  assert_non_null(strstr(err->msg, "TMPDIR"));
  core_error_freep(&err);
  if (old) setenv("TMPDIR", old, 1);
  else unsetenv("TMPDIR");
  free(old);
}

static void put(const char *path, const void *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, data, len), (ssize_t)len);
  close(fd);
}

/* Replaced files leave dead bytes; the tree reads the live ones. */
static void test_dead_bytes(void **state) {
  const char *dir = *state;
  core_error *err = NULL;
  char l1[512], l2[512], path[600];
  snprintf(l1, sizeof l1, "%s/l1", dir);
  snprintf(l2, sizeof l2, "%s/l2", dir);
  assert_int_equal(mkdir(l1, 0755), 0);
  assert_int_equal(mkdir(l2, 0755), 0);
  snprintf(path, sizeof path, "%s/f", l1);
  put(path, "first version", 13);
  snprintf(path, sizeof path, "%s/f", l2);
  put(path, "second", 6);
  cleanup_rootfs core_rootfs fs = CORE_ROOTFS_INIT;
  assert_int_equal(core_rootfs_use_spool(&fs, &err), 0);
  assert_int_equal(core_rootfs_add_layer(&fs, l1, "", &err), 0);
  assert_int_equal(core_rootfs_add_layer(&fs, l2, "", &err), 0);
  assert_int_equal(core_rootfs_finish(&fs, &err), 0);
  assert_int_equal(fs.spool.size, 19); /* both versions are in the spool */
  const core_node *n = core_rootfs_find(&fs, "f");
  assert_non_null(n);
  assert_null(n->data.data); /* nothing in memory */
  core_buf b = CORE_BUF_INIT;
  assert_int_equal(core_rootfs_node_read(&fs, n, &b, &err), 0);
  assert_int_equal(b.len, 6);
  assert_memory_equal(b.data, "second", 6);
  core_buf_release(&b);
  char part[4] = {0};
  assert_int_equal(core_rootfs_node_pread(&fs, n, 2, part, 3, &err), 0);
  assert_string_equal(part, "con");
  assert_int_equal(core_rootfs_node_pread(&fs, n, 4, part, 3, &err), -1); /* past the file, though the spool has more */
  core_error_freep(&err);
}

typedef struct counter {
  uint64_t bytes;
} counter;

static int count(void *ctx, const void *data, size_t len, core_error **err) {
  (void)data, (void)err;
  ((counter *)ctx)->bytes += len;
  return 0;
}

/* The streaming reader stops one byte past its cap, whatever the entry says, and hands
 * nothing past the cap to its sink. */
static void test_copy_cap(void **state) {
  const char *dir = *state;
  core_error *err = NULL;
  char layer[512], path[600];
  snprintf(layer, sizeof layer, "%s/capped", dir);
  assert_int_equal(mkdir(layer, 0755), 0);
  snprintf(path, sizeof path, "%s/ten", layer);
  put(path, "0123456789", 10);
  for (int max = 0; max <= 11; max++) {
    cleanup_layer_reader core_layer_reader *r = NULL;
    assert_int_equal(core_layer_reader_open(layer, &r, &err), 0);
    struct archive_entry *e;
    const char *name;
    assert_int_equal(core_layer_reader_next(r, &e, &name, &err), 1);
    counter c = {0};
    uint64_t copied = 99;
    int rc = core_layer_reader_copy(r, (uint64_t)max, count, &c, &copied, &err);
    if (max < 10) {
      assert_int_equal(rc, -1);
      assert_int_equal(err->errnum, EFBIG);
      assert_true(c.bytes <= (uint64_t)max);
      core_error_freep(&err);
    } else {
      assert_int_equal(rc, 0);
      assert_int_equal(copied, 10);
      assert_int_equal(c.bytes, 10);
    }
  }
}

static long max_rss_mib(void) {
  struct rusage ru;
  assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
  return ru.ru_maxrss / 1024;
}

/* 192 MiB of files (a third in one file, the rest in files of 1 MiB) read into a spooled
 * tree and streamed out as cpio: the process's peak memory grows by far less than the tree
 * (48 MiB allowed). CORE_TEST_SPOOL_MIB moves the size. */
static void test_tree_larger_than_memory_budget(void **state) {
  const char *dir = *state;
  core_error *err = NULL;
  const char *env = getenv("CORE_TEST_SPOOL_MIB");
  size_t mib = env ? (size_t)atoi(env) : 192;
  const long budget_mib = 48;
  char layer[512], path[600];
  snprintf(layer, sizeof layer, "%s/layer", dir);
  assert_int_equal(mkdir(layer, 0755), 0);
  uint8_t *chunk = malloc(1u << 20);
  assert_non_null(chunk);
  for (size_t i = 0; i < (1u << 20); i++) chunk[i] = (uint8_t)(i * 2654435761u >> 13);
  snprintf(path, sizeof path, "%s/big", layer);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  for (size_t i = 0; i < mib / 3; i++) assert_int_equal(write(fd, chunk, 1u << 20), 1 << 20);
  close(fd);
  for (size_t i = 0; i < mib - mib / 3; i++) {
    snprintf(path, sizeof path, "%s/f%04zu", layer, i);
    put(path, chunk, 1u << 20);
  }
  free(chunk);

  long before = max_rss_mib();
  cleanup_rootfs core_rootfs fs = CORE_ROOTFS_INIT;
  fs.max_total = (uint64_t)(mib + 1) << 20;
  assert_int_equal(core_rootfs_use_spool(&fs, &err), 0);
  if (core_rootfs_add_layer(&fs, layer, "", &err) < 0) fail_msg("%s", err->msg);
  assert_int_equal(core_rootfs_finish(&fs, &err), 0);
  assert_int_equal(fs.spool.size, (uint64_t)mib << 20);
  counter c = {0};
  assert_int_equal(core_cpio_stream(&fs, 0, count, &c, &err), 0);
  assert_true(c.bytes > (uint64_t)mib << 20);
  long grown = max_rss_mib() - before;
  if (grown >= budget_mib) fail_msg("reading and writing %zu MiB grew the peak memory by %ld MiB", mib, grown);

  /* The limits keep their meaning: one byte less for the tree and the layer is refused. */
  cleanup_rootfs core_rootfs small = CORE_ROOTFS_INIT;
  small.max_total = ((uint64_t)mib << 20) - 1;
  assert_int_equal(core_rootfs_use_spool(&small, &err), 0);
  assert_int_equal(core_rootfs_add_layer(&small, layer, "", &err), -1);
  assert_int_equal(err->errnum, EFBIG);
  assert_non_null(strstr(err->msg, CORE_ROOTFS_MAX_TOTAL_ENV));
  core_error_freep(&err);
  assert_true(small.spool.size <= small.max_total); /* the spool never holds more than the limit */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_append_and_read),
      cmocka_unit_test_setup_teardown(test_tmpdir_is_used, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_dead_bytes, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_copy_cap, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_tree_larger_than_memory_budget, make_tmpdir, remove_tmpdir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
