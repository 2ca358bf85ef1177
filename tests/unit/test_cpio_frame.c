/* Unit tests for the cpio newc framing check (cmd/corec_cpio_frame.c) that bounds what libarchive
 * buffers for corec ls and diff: entries followed across any split of the stream, long names and
 * link targets refused from the header alone, only zeros after the archive. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

/* corec's own code is not in the library the tests link; this test compiles it in. */
#include "../../cmd/corec_cpio_frame.c"

/* Appends one newc entry (header, NUL-terminated name, data, both padded to 4) at BUF+*LEN. */
static void entry(unsigned char *buf, size_t *len, unsigned mode, const char *name, uint32_t name_size,
                  const char *data) {
  char h[COREC_CPIO_HEADER + 1];
  uint32_t size = (uint32_t)strlen(data);
  snprintf(h, sizeof h, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1u, mode, 0u, 0u, 1u, 0u, size,
           0u, 0u, 0u, 0u, name_size, 0u);
  memcpy(buf + *len, h, COREC_CPIO_HEADER);
  *len += COREC_CPIO_HEADER;
  memcpy(buf + *len, name, strlen(name) + 1);
  *len = (*len + strlen(name) + 1 + 3) & ~(size_t)3;
  memcpy(buf + *len, data, size);
  *len = (*len + size + 3) & ~(size_t)3;
}

/* Feeds BUF in pieces of STEP bytes; returns the first failure's status. */
static int feed(const unsigned char *buf, size_t len, size_t step, char *why) {
  corec_cpio_frame f = {.max_name = 16};
  for (size_t i = 0; i < len; i += step)
    if (corec_cpio_frame_feed(&f, buf + i, len - i < step ? len - i : step, why, 160) < 0) return -1;
  return 0;
}

static void test_valid_any_split(void **state) {
  (void)state;
  static unsigned char buf[4096];
  size_t len = 0;
  entry(buf, &len, 040755, "etc", 4, "");
  entry(buf, &len, 0100644, "etc/motd", 9, "hello\n");
  entry(buf, &len, 0120777, "etc/link", 9, "motd");
  entry(buf, &len, 0, "TRAILER!!!", 11, "");
  len += 300; /* zero padding after the trailer */
  char why[160];
  for (size_t step = 1; step <= len; step++) assert_int_equal(feed(buf, len, step, why), 0);
}

static void test_long_name(void **state) {
  (void)state;
  static unsigned char buf[4096];
  size_t len = 0;
  entry(buf, &len, 0100644, "a", 0x40000000u, ""); /* the header claims a 1 GiB name */
  char why[160] = "";
  assert_int_equal(feed(buf, COREC_CPIO_HEADER, 7, why), -1);
  assert_non_null(strstr(why, "name is over 16 bytes"));
}

static void test_long_link_target(void **state) {
  (void)state;
  static unsigned char buf[4096];
  size_t len = 0;
  entry(buf, &len, 0120777, "l", 2, "a-target-of-more-than-16-bytes");
  char why[160] = "";
  assert_int_equal(feed(buf, len, len, why), -1);
  assert_non_null(strstr(why, "link target is over"));
}

static void test_garbage(void **state) {
  (void)state;
  static unsigned char buf[4096];
  size_t len = 0;
  entry(buf, &len, 0100644, "a", 2, "x");
  memcpy(buf + len, "junk", 4); /* where the next header belongs */
  char why[160] = "";
  assert_int_equal(feed(buf, len + 200, 64, why), -1);
  len = 0;
  entry(buf, &len, 0, "TRAILER!!!", 11, "");
  buf[len + 150] = 1; /* not zero, after the end */
  assert_int_equal(feed(buf, len + 200, 64, why), -1);
  assert_non_null(strstr(why, "after the end"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_any_split),
      cmocka_unit_test(test_long_name),
      cmocka_unit_test(test_long_link_target),
      cmocka_unit_test(test_garbage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
