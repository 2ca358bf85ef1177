/* Unit tests for lib/base64.c: the RFC 4648 section 10 vectors both ways, and the strict
 * decoder refusing anything that is not padded standard base64. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base64.h"

static const struct {
  const char *plain, *encoded;
} rfc4648[] = {
    {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

static void test_encode(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof rfc4648 / sizeof *rfc4648; i++) {
    core_error *err = NULL;
    char *out = NULL;
    assert_int_equal(core_base64_encode(rfc4648[i].plain, strlen(rfc4648[i].plain), &out, &err), 0);
    assert_null(err);
    assert_string_equal(out, rfc4648[i].encoded);
    free(out);
  }
}

static void test_decode(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof rfc4648 / sizeof *rfc4648; i++) {
    core_error *err = NULL;
    core_buf b = CORE_BUF_INIT;
    assert_int_equal(core_base64_decode(rfc4648[i].encoded, &b, &err), 0);
    assert_null(err);
    assert_int_equal(b.len, strlen(rfc4648[i].plain));
    if (b.len) assert_memory_equal(b.data, rfc4648[i].plain, b.len);
    core_buf_release(&b);
  }
}

static void test_binary_round_trip(void **state) {
  (void)state;
  unsigned char bytes[256];
  for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (unsigned char)i;
  for (size_t len = 0; len <= sizeof bytes; len += 37) {
    core_error *err = NULL;
    char *text = NULL;
    core_buf b = CORE_BUF_INIT;
    assert_int_equal(core_base64_encode(bytes, len, &text, &err), 0);
    assert_int_equal(strlen(text), 4 * ((len + 2) / 3));
    assert_int_equal(core_base64_decode(text, &b, &err), 0);
    assert_int_equal(b.len, len);
    if (len) assert_memory_equal(b.data, bytes, len);
    free(text);
    core_buf_release(&b);
  }
}

static void expect_reject(const char *text, const char *why) {
  core_error *err = NULL;
  core_buf b = CORE_BUF_INIT;
  assert_int_equal(core_base64_decode(text, &b, &err), -1);
  assert_non_null(err);
  assert_non_null(strstr(err->msg, why));
  assert_null(b.data); /* the output is not touched on failure */
  core_error_free(err);
}

static void test_decode_rejects(void **state) {
  (void)state;
  /* Lengths that are not a multiple of 4, including unpadded forms. */
  expect_reject("Zg", "length 2");
  expect_reject("Zg=", "length 3");
  expect_reject("Zm9vY", "length 5");
  /* Characters outside the standard alphabet (URL-safe, white space, other). */
  expect_reject("Zm9-", "unexpected character");
  expect_reject("Zm9_", "unexpected character");
  expect_reject("Zm 9", "unexpected character");
  expect_reject("Zm9v\nYmFy", "length 9");
  expect_reject("Zm9v\nYmF", "unexpected character");
  expect_reject("Zm*v", "unexpected character");
  /* '=' anywhere but the last one or two places. */
  expect_reject("Zg==Zg==", "unexpected character");
  expect_reject("=Zm9", "unexpected character");
  expect_reject("Z===", "unexpected character");
  expect_reject("====", "unexpected character");
  expect_reject("Zm=v", "unexpected character");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_encode),
      cmocka_unit_test(test_decode),
      cmocka_unit_test(test_binary_round_trip),
      cmocka_unit_test(test_decode_rejects),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
