/* Unit tests for lib/initconf.c, the writer of coreinit's configuration: the version line,
 * the escaping the reader (runtime/init/conf.c) undoes, and the block helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include <string.h>

#include "initconf.h"

static void assert_buf_text(const core_buf *b, const char *want) {
  assert_int_equal(b->len, strlen(want));
  assert_memory_equal(b->data, want, b->len);
}

static void test_version_line(void **state) {
  (void)state;
  core_error *err = NULL;
  core_buf b = CORE_BUF_INIT;
  assert_int_equal(core_initconf_begin(&b, &err), 0);
  assert_null(err);
  assert_buf_text(&b, "version 1\n");
  core_buf_release(&b);
}

static void test_plain_values(void **state) {
  (void)state;
  core_error *err = NULL;
  core_buf b = CORE_BUF_INIT;
  assert_int_equal(core_initconf_begin(&b, &err), 0);
  assert_int_equal(core_initconf_add(&b, "hostname", "web", &err), 0);
  assert_int_equal(core_initconf_add(&b, "env", "GREETING=hello world", &err), 0);
  /* An empty value is kept: it is an empty argument, not a missing one. */
  assert_int_equal(core_initconf_add(&b, "arg", "", &err), 0);
  assert_null(err);
  assert_buf_text(&b, "version 1\nhostname web\nenv GREETING=hello world\narg \n");
  core_buf_release(&b);
}

static void test_escapes(void **state) {
  (void)state;
  core_error *err = NULL;
  core_buf b = CORE_BUF_INIT;
  assert_int_equal(core_initconf_add(&b, "arg", "a\\b", &err), 0);
  assert_int_equal(core_initconf_add(&b, "arg", "line1\nline2", &err), 0);
  assert_int_equal(core_initconf_add(&b, "arg", "col1\tcol2", &err), 0);
  /* A backslash before an 'n' must not read back as a newline. */
  assert_int_equal(core_initconf_add(&b, "arg", "\\n\n\t\\", &err), 0);
  assert_int_equal(core_initconf_add(&b, "arg", "\n", &err), 0);
  assert_null(err);
  assert_buf_text(&b, "arg a\\\\b\n"
                      "arg line1\\nline2\n"
                      "arg col1\\tcol2\n"
                      "arg \\\\n\\n\\t\\\\\n"
                      "arg \\n\n");
  /* Every value stays on one line. */
  size_t lines = 0;
  for (size_t i = 0; i < b.len; i++) lines += b.data[i] == '\n';
  assert_int_equal(lines, 5);
  core_buf_release(&b);
}

static void test_blocks_and_formats(void **state) {
  (void)state;
  core_error *err = NULL;
  core_buf b = CORE_BUF_INIT;
  assert_int_equal(core_initconf_add(&b, INITCONF_SERVICE, "web", &err), 0);
  assert_int_equal(core_initconf_field(&b, INITCONF_KEY_ARG, "a\tb", &err), 0);
  /* A formatted value is escaped as a whole, after formatting. */
  assert_int_equal(core_initconf_fieldf(&b, INITCONF_KEY_ENV, &err, "%s=%s", "X", "1\n2"), 0);
  assert_int_equal(core_initconf_addf(&b, INITCONF_VOLUME, &err, "%s /dev/vd%c", "data", 'a'), 0);
  assert_null(err);
  assert_buf_text(&b, "service web\n  arg a\\tb\n  env X=1\\n2\nvolume data /dev/vda\n");
  core_buf_release(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_version_line),
      cmocka_unit_test(test_plain_values),
      cmocka_unit_test(test_escapes),
      cmocka_unit_test(test_blocks_and_formats),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
