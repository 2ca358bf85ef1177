/* Unit tests for lib/digest.c: SHA-256 against the FIPS 180-2 examples, file hashing, the
 * threaded copy-and-hash (core_digest_copy) and
 * the strict digest syntax. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "tmpdir.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "digest.h"

#define SHA256_EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA256_ABC "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void test_known_values(void **state) {
  (void)state;
  core_error *err = NULL;
  core_digest d;
  assert_int_equal(core_digest_bytes("", 0, &d, &err), 0);
  assert_null(err);
  assert_string_equal(d.str, SHA256_EMPTY);
  assert_int_equal(core_digest_bytes("abc", 3, &d, &err), 0);
  assert_string_equal(d.str, SHA256_ABC);
  assert_string_equal(core_digest_hex(&d), SHA256_ABC + 7);
  assert_true(core_digest_is_valid(d.str));
}

static void test_incremental(void **state) {
  (void)state;
  core_error *err = NULL;
  core_hasher *h = NULL;
  core_digest d;
  assert_int_equal(core_hasher_new(&h, &err), 0);
  assert_int_equal(core_hasher_update(h, "a", 1, &err), 0);
  assert_int_equal(core_hasher_update(h, "bc", 2, &err), 0);
  assert_int_equal(core_hasher_final(h, &d, &err), 0);
  core_hasher_free(h);
  assert_string_equal(d.str, SHA256_ABC);
}

static void test_file(void **state) {
  const char *dir = *state;
  char path[256];
  snprintf(path, sizeof path, "%s/data", dir);
  /* Larger than the reader's 64 KiB buffer, so more than one read is hashed. */
  size_t len = 200000;
  unsigned char *data = malloc(len);
  assert_non_null(data);
  for (size_t i = 0; i < len; i++) data[i] = (unsigned char)(i * 31 + 7);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, data, len), (ssize_t)len);
  close(fd);

  core_error *err = NULL;
  core_digest from_file, from_bytes;
  uint64_t size = 0;
  assert_int_equal(core_digest_file(path, &from_file, &size, &err), 0);
  assert_null(err);
  assert_int_equal(core_digest_bytes(data, len, &from_bytes, &err), 0);
  assert_int_equal(size, len);
  assert_string_equal(from_file.str, from_bytes.str);
  assert_string_not_equal(from_file.str, SHA256_EMPTY);
  free(data);

  /* A missing file is an error naming the file. */
  assert_int_equal(unlink(path), 0);
  assert_int_equal(core_digest_file(path, &from_file, NULL, &err), -1);
  assert_non_null(err);
  assert_non_null(strstr(err->msg, path));
  core_error_free(err);
}

static void test_is_valid(void **state) {
  (void)state;
  assert_true(core_digest_is_valid(SHA256_EMPTY));
  assert_false(core_digest_is_valid(NULL));
  assert_false(core_digest_is_valid(""));
  assert_false(core_digest_is_valid("sha256:"));
  /* Uppercase hex */
  assert_false(core_digest_is_valid("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
  assert_false(core_digest_is_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85A"));
  /* One digit short, one too many */
  assert_false(core_digest_is_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"));
  assert_false(core_digest_is_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8550"));
  /* Wrong or missing algorithm prefix */
  assert_false(core_digest_is_valid("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  assert_false(core_digest_is_valid("SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  assert_false(core_digest_is_valid("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  /* Not hex at all */
  assert_false(core_digest_is_valid("sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  assert_false(core_digest_is_valid("sha256: 3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
}

/* core_digest_copy's source for the tests: bytes from memory, failing at fail_at if set. */
typedef struct mem_source {
  const unsigned char *data;
  uint64_t len;
  uint64_t fail_at; /* the read covering this offset fails; UINT64_MAX: never */
  uint64_t reads;
} mem_source;

static int read_mem(void *ctx, uint64_t at, void *buf, size_t len, core_error **err) {
  mem_source *m = ctx;
  m->reads++;
  if (at > m->len || len > m->len - at) return core_error_set(err, 0, "read past the end (%llu+%zu)", (unsigned long long)at, len);
  if (m->fail_at >= at && m->fail_at < at + len) return core_error_set(err, EIO, "the source failed at %llu", (unsigned long long)at);
  memcpy(buf, m->data + at, len);
  return 0;
}

/* Every length around the chunk and ring sizes: the digest is that of the bytes, and what was
 * written is exactly the bytes, in order. */
static void test_copy(void **state) {
  (void)state;
  size_t max = (size_t)CORE_COPY_CHUNK * (CORE_COPY_SLOTS * 2 + 1) + 3;
  unsigned char *data = malloc(max);
  unsigned char *back = malloc(max);
  assert_non_null(data);
  assert_non_null(back);
  for (size_t i = 0; i < max; i++) data[i] = (unsigned char)(i * 131 + (i >> 13));
  const size_t lens[] = {0, 1, CORE_COPY_CHUNK - 1, CORE_COPY_CHUNK, CORE_COPY_CHUNK + 1, 2 * CORE_COPY_CHUNK + 5,
                         (size_t)CORE_COPY_CHUNK * CORE_COPY_SLOTS, (size_t)CORE_COPY_CHUNK * CORE_COPY_SLOTS + 1, max};
  for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
    size_t len = lens[i];
    core_error *err = NULL;
    int fd = memfd_create("test", MFD_CLOEXEC);
    assert_true(fd >= 0);
    mem_source m = {.data = data, .len = len, .fail_at = UINT64_MAX};
    core_digest got, want;
    if (core_digest_copy(read_mem, &m, len, fd, &got, &err) != 0) fail_msg("length %zu: %s", len, err->msg);
    assert_int_equal(core_digest_bytes(data, len, &want, &err), 0);
    assert_string_equal(got.str, want.str);
    assert_int_equal(m.reads, (len + CORE_COPY_CHUNK - 1) / CORE_COPY_CHUNK);
    assert_int_equal(lseek(fd, 0, SEEK_END), (off_t)len);
    assert_int_equal(pread(fd, back, max, 0), (ssize_t)len);
    assert_memory_equal(back, data, len);
    close(fd);
    /* Without an output: only the digest. */
    m.reads = 0;
    assert_int_equal(core_digest_copy(read_mem, &m, len, -1, &got, &err), 0);
    assert_string_equal(got.str, want.str);
  }
  free(back);
  free(data);
}

/* A failing read anywhere (first chunk, one in the middle, the last) is the error returned,
 * and a failing write too; nothing hangs. */
static void test_copy_errors(void **state) {
  (void)state;
  size_t len = (size_t)CORE_COPY_CHUNK * (CORE_COPY_SLOTS + 3) + 17;
  unsigned char *data = calloc(1, len);
  assert_non_null(data);
  const uint64_t fails[] = {0, CORE_COPY_CHUNK * 2 + 9, (uint64_t)CORE_COPY_CHUNK * (CORE_COPY_SLOTS + 1), len - 1};
  for (size_t i = 0; i < sizeof fails / sizeof *fails; i++) {
    core_error *err = NULL;
    mem_source m = {.data = data, .len = len, .fail_at = fails[i]};
    core_digest got;
    assert_int_equal(core_digest_copy(read_mem, &m, len, -1, &got, &err), -1);
    assert_non_null(err);
    assert_non_null(strstr(err->msg, "the source failed"));
    core_error_free(err);
  }
  /* A write that fails: a read-only descriptor. */
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  core_error *err = NULL;
  mem_source m = {.data = data, .len = len, .fail_at = UINT64_MAX};
  core_digest got;
  assert_int_equal(core_digest_copy(read_mem, &m, len, fds[0], &got, &err), -1);
  assert_non_null(err);
  assert_int_equal(err->errnum, EBADF);
  core_error_free(err);
  close(fds[0]);
  close(fds[1]);
  free(data);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_values),
      cmocka_unit_test(test_incremental),
      cmocka_unit_test_setup_teardown(test_file, make_tmpdir, remove_tmpdir),
      cmocka_unit_test(test_is_valid),
      cmocka_unit_test(test_copy),
      cmocka_unit_test(test_copy_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
