/* Unit tests for compiler/store.c: put and get, digest pins, corruption found on read, two
 * processes filling one store at once, and a writer killed mid-write. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "tmpdir.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "store.h"
#include "store_admin.h"

#define SHA256_ABC "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static core_store *open_store(const char *dir) {
  core_error *err = NULL;
  core_store *s = NULL;
  char *p = core_path_join(dir, "store");
  assert_int_equal(core_store_open(p, &s, &err), 0);
  assert_null(err);
  free(p);
  return s;
}

static size_t count_files(const char *dir) {
  cleanup_free char *cmd = NULL;
  assert_true(asprintf(&cmd, "find '%s' -type f | wc -l", dir) > 0);
  FILE *f = popen(cmd, "r");
  size_t n = 0;
  assert_int_equal(fscanf(f, "%zu", &n), 1);
  pclose(f);
  return n;
}

static void test_put_get(void **state) {
  cleanup_store core_store *s = open_store(*state);
  core_error *err = NULL;
  core_digest d;
  assert_int_equal(core_store_put(s, "abc", 3, &d, &err), 0);
  assert_string_equal(d.str, SHA256_ABC);
  assert_int_equal(core_store_has(s, &d), 1);
  cleanup_free char *path = NULL;
  assert_int_equal(core_store_get_verified(s, &d, &path, &err), 0);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0444);
  assert_int_equal(st.st_size, 3);
  assert_non_null(strstr(path, "/blobs/sha256/ba7816bf"));
  /* Storing the same bytes again is fine and changes nothing. */
  assert_int_equal(core_store_put(s, "abc", 3, &d, &err), 0);
  core_digest other;
  strcpy(other.str, "sha256:0000000000000000000000000000000000000000000000000000000000000000");
  assert_int_equal(core_store_has(s, &other), 0);
  cleanup_free char *none = NULL;
  assert_int_equal(core_store_get_verified(s, &other, &none, &err), -1);
  assert_non_null(strstr(err->msg, "is not in the store"));
  core_error_freep(&err);
}

static void test_put_file_and_cache_dir(void **state) {
  cleanup_store core_store *s = open_store(*state);
  core_error *err = NULL;
  cleanup_free char *src = core_path_join(*state, "input");
  FILE *f = fopen(src, "w");
  for (int i = 0; i < 100000; i++) fputs("line of text\n", f);
  fclose(f);
  core_digest d, want;
  uint64_t size;
  assert_int_equal(core_digest_file(src, &want, &size, &err), 0);
  assert_int_equal(core_store_put_file(s, src, &d, &err), 0);
  assert_string_equal(d.str, want.str);
  cleanup_free char *cache = NULL;
  assert_int_equal(core_store_cache_dir(s, "git/abc", &cache, &err), 0);
  struct stat st;
  assert_int_equal(stat(cache, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  cleanup_free char *bad = NULL;
  assert_int_equal(core_store_cache_dir(s, "../x", &bad, &err), -1);
  core_error_freep(&err);
}

static void test_writer_pin(void **state) {
  cleanup_store core_store *s = open_store(*state);
  core_error *err = NULL;
  core_digest want;
  strcpy(want.str, SHA256_ABC);
  {
    cleanup_store_writer core_store_writer *w = NULL;
    assert_int_equal(core_store_writer_begin(s, &w, &err), 0);
    assert_int_equal(core_store_writer_write(w, "abd", 3, &err), 0);
    assert_int_equal(core_store_writer_commit(w, &want, NULL, &err), -1);
    assert_non_null(strstr(err->msg, SHA256_ABC));
    assert_non_null(strstr(err->msg, "nothing was stored"));
    core_error_freep(&err);
  }
  assert_int_equal(core_store_has(s, &want), 0);
  /* Bytes written through the descriptor count after a rehash. */
  cleanup_store_writer core_store_writer *w = NULL;
  assert_int_equal(core_store_writer_begin(s, &w, &err), 0);
  assert_int_equal(write(core_store_writer_fd(w), "ab", 2), 2);
  assert_int_equal(core_store_writer_rehash(w, &err), 0);
  assert_int_equal(core_store_writer_write(w, "c", 1, &err), 0);
  assert_int_equal(core_store_writer_size(w), 3);
  core_digest got;
  assert_int_equal(core_store_writer_commit(w, &want, &got, &err), 0);
  assert_string_equal(got.str, SHA256_ABC);
  cleanup_free char *tmp = core_path_join(core_store_dir(s), "tmp");
  assert_int_equal(count_files(tmp), 0);
}

static void test_corruption(void **state) {
  cleanup_store core_store *s = open_store(*state);
  core_error *err = NULL;
  core_digest d;
  assert_int_equal(core_store_put(s, "abc", 3, &d, &err), 0);
  cleanup_free char *p = core_store_blob_path(s, &d);
  chmod(p, 0644);
  FILE *f = fopen(p, "w");
  fputs("xyz", f);
  fclose(f);
  assert_int_equal(core_store_has(s, &d), 1); /* has does not re-hash */
  cleanup_free char *path = NULL;
  assert_int_equal(core_store_get_verified(s, &d, &path, &err), -1);
  assert_int_equal(err->errnum, CORE_STORE_ECORRUPT); /* what the resolver places at the source */
  assert_non_null(strstr(err->msg, "no longer matches its digest"));
  assert_non_null(strstr(err->msg, d.str));
  assert_non_null(strstr(err->msg, "has been removed"));
  core_error_freep(&err);
  assert_int_equal(core_store_has(s, &d), 0);
}

/* Whatever stands under a blob's name that is not a regular file (a link to /dev/zero, a
 * FIFO, a link to the real bytes) is refused as corrupt without being followed, read or
 * waited on, and removed; the alarm turns a hang into a failure. */
static void test_blob_not_a_regular_file(void **state) {
  alarm(30);
  cleanup_store core_store *s = open_store(*state);
  core_error *err = NULL;
  core_digest d;
  assert_int_equal(core_store_put(s, "abc", 3, &d, &err), 0);
  cleanup_free char *p = core_store_blob_path(s, &d);
  cleanup_free char *elsewhere = core_path_join(*state, "abc");
  FILE *f = fopen(elsewhere, "w");
  fputs("abc", f);
  fclose(f);
  for (int kind = 0; kind < 3; kind++) {
    unlink(p);
    if (kind == 0) assert_int_equal(symlink("/dev/zero", p), 0);
    if (kind == 1) assert_int_equal(mkfifo(p, 0644), 0);
    if (kind == 2) assert_int_equal(symlink(elsewhere, p), 0); /* even with the right bytes */
    cleanup_free char *path = NULL;
    assert_int_equal(core_store_get_verified(s, &d, &path, &err), -1);
    assert_int_equal(err->errnum, CORE_STORE_ECORRUPT);
    assert_non_null(strstr(err->msg, kind == 1 ? "is not a regular file (a FIFO)" : "(a symbolic link)"));
    assert_non_null(strstr(err->msg, "has been removed"));
    core_error_freep(&err);
    struct stat st;
    assert_int_equal(lstat(p, &st), -1);
  }
  alarm(0);
}

/* Each child stores one shared blob and one of its own, many times over. */
static void fill(const char *dir, int id) {
  core_store *s = NULL;
  core_error *err = NULL;
  if (core_store_open(dir, &s, &err) < 0) _exit(2);
  static char big[1 << 20];
  memset(big, 'S', sizeof big);
  for (int i = 0; i < 20; i++) {
    char own[64];
    int n = snprintf(own, sizeof own, "process %d blob %d", id, i);
    core_digest d;
    if (core_store_put(s, big, sizeof big, &d, &err) < 0 || core_store_put(s, own, (size_t)n, &d, &err) < 0) _exit(3);
  }
  core_store_close(s);
  _exit(0);
}

static void test_concurrent_writers(void **state) {
  cleanup_free char *dir = core_path_join(*state, "store");
  pid_t pids[2];
  for (int i = 0; i < 2; i++)
    if ((pids[i] = fork()) == 0) fill(dir, i);
  for (int i = 0; i < 2; i++) {
    int status;
    assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
  }
  cleanup_store core_store *s = open_store(*state);
  core_error *err = NULL;
  cleanup_free core_store_blob *blobs = NULL;
  size_t n = 0;
  assert_int_equal(core_store_list(s, &blobs, &n, &err), 0);
  assert_int_equal(n, 41);
  for (size_t i = 0; i < n; i++) {
    cleanup_free char *p = NULL;
    assert_int_equal(core_store_get_verified(s, &blobs[i].digest, &p, &err), 0);
  }
  cleanup_free char *tmp = core_path_join(dir, "tmp");
  assert_int_equal(count_files(tmp), 0);
}

static void test_killed_writer(void **state) {
  cleanup_free char *dir = core_path_join(*state, "store");
  int ready[2];
  assert_int_equal(pipe(ready), 0);
  pid_t pid = fork();
  if (pid == 0) {
    core_store *s = NULL;
    core_error *err = NULL;
    core_store_writer *w = NULL;
    if (core_store_open(dir, &s, &err) < 0 || core_store_writer_begin(s, &w, &err) < 0) _exit(2);
    core_store_writer_write(w, "half a blob", 11, &err);
    if (write(ready[1], "x", 1) != 1) _exit(3);
    for (;;) pause();
  }
  close(ready[1]);
  char c;
  assert_int_equal(read(ready[0], &c, 1), 1);
  close(ready[0]);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  cleanup_store core_store *s = open_store(*state);
  core_error *err = NULL;
  cleanup_free core_store_blob *blobs = NULL;
  size_t n = 9;
  assert_int_equal(core_store_list(s, &blobs, &n, &err), 0);
  assert_int_equal(n, 0);
  cleanup_free char *tmp = core_path_join(dir, "tmp");
  assert_int_equal(count_files(tmp), 1);
  /* A fresh temporary file is kept (its writer may be alive); an old one is removed. */
  size_t removed = 0;
  uint64_t bytes = 0;
  assert_int_equal(core_store_clean_tmp(s, 3600, &removed, &bytes, &err), 0);
  assert_int_equal(removed, 0);
  assert_int_equal(core_store_clean_tmp(s, 0, &removed, &bytes, &err), 0);
  assert_int_equal(removed, 1);
  assert_int_equal(bytes, 11);
}

static void test_exclusive_lock(void **state) {
  cleanup_free char *dir = core_path_join(*state, "store");
  int ready[2], done[2];
  assert_int_equal(pipe(ready), 0);
  assert_int_equal(pipe(done), 0);
  pid_t pid = fork();
  if (pid == 0) {
    /* Another process that uses the store (a build) holds it shared until it exits. */
    core_store *s = NULL;
    core_error *err = NULL;
    if (core_store_open(dir, &s, &err) < 0) _exit(2);
    char c = 'x';
    if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) != 1) _exit(3);
    _exit(0);
  }
  char c;
  assert_int_equal(read(ready[0], &c, 1), 1);
  cleanup_store core_store *s = open_store(*state);
  core_error *err = NULL;
  assert_int_equal(core_store_lock_exclusive(s, 0, &err), 0);
  assert_int_equal(write(done[1], "x", 1), 1);
  waitpid(pid, NULL, 0);
  assert_int_equal(core_store_lock_exclusive(s, 0, &err), 1);
  assert_int_equal(core_store_lock_shared(s, &err), 0);
  close(ready[0]), close(ready[1]), close(done[0]), close(done[1]);
}

static void test_default_dir(void **state) {
  core_error *err = NULL;
  cleanup_free char *home = core_path_join(*state, "home");
  setenv("CORE_HOME", home, 1);
  unsetenv("CORE_STORE_DIR");
  {
    cleanup_store core_store *s = NULL;
    assert_int_equal(core_store_open(NULL, &s, &err), 0);
    cleanup_free char *want = core_path_join(home, "store");
    assert_string_equal(core_store_dir(s), want);
  }
  cleanup_free char *env = core_path_join(*state, "elsewhere");
  setenv("CORE_STORE_DIR", env, 1);
  cleanup_store core_store *s = NULL;
  assert_int_equal(core_store_open(NULL, &s, &err), 0);
  assert_string_equal(core_store_dir(s), env);
  unsetenv("CORE_STORE_DIR");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_put_get, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_put_file_and_cache_dir, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_writer_pin, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_corruption, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_blob_not_a_regular_file, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_concurrent_writers, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_killed_writer, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_exclusive_lock, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_default_dir, make_tmpdir, remove_tmpdir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
