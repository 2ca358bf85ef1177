/* Unit tests for lib/digest.c: SHA-256 against the FIPS 180-2 examples, file hashing and
 * the strict digest syntax. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "tmpdir.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_values),
      cmocka_unit_test(test_incremental),
      cmocka_unit_test_setup_teardown(test_file, make_tmpdir, remove_tmpdir),
      cmocka_unit_test(test_is_valid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
