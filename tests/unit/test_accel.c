/* Unit tests for the KVM verdict (runtime/accel.c): its key, its file format (only an exact,
 * well-formed verdict for this host boot and QEMU counts) and the probe bound. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "accel.h"
#include "tmpdir.h"

static const core_kvm_key key = {.boot_id = "d861a4d3-842c-44e2-8c20-de33f5905612",
                                 .qemu_version = "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)"};

static char *format(const core_kvm_key *k, const char *reason) {
  core_buf b = CORE_BUF_INIT;
  core_error *err = NULL;
  assert_int_equal(core_kvm_verdict_format(k, reason, &b, &err), 0);
  assert_null(err);
  assert_int_equal(core_buf_append(&b, "", 1, &err), 0);
  return (char *)b.data;
}

/* Parses text against key; returns the reason (to be freed) or NULL when it does not count. */
static char *parse(const char *text, const core_kvm_key *k) {
  char *reason = NULL;
  int rc = core_kvm_verdict_parse(text, strlen(text), k, &reason);
  if (rc == 0) assert_null(reason);
  else assert_int_equal(rc, 1);
  return reason;
}

static void test_round_trip(void **state) {
  (void)state;
  char *text = format(&key, "qemu was killed by signal 6 (Aborted) under KVM");
  assert_non_null(strstr(text, key.boot_id));
  assert_non_null(strstr(text, key.qemu_version));
  char *reason = parse(text, &key);
  assert_non_null(reason);
  assert_string_equal(reason, "qemu was killed by signal 6 (Aborted) under KVM");
  free(reason);
  free(text);
}

static void test_reason_stays_one_line(void **state) {
  (void)state;
  char *text = format(&key, "first\nsecond\tthird");
  char *reason = parse(text, &key);
  assert_non_null(reason);
  assert_string_equal(reason, "first second third");
  free(reason);
  free(text);
}

static void test_other_key_is_ignored(void **state) {
  (void)state;
  char *text = format(&key, "no sign of life in 5 s under KVM");
  core_kvm_key other_boot = {.boot_id = "00000000-0000-0000-0000-000000000000", .qemu_version = key.qemu_version};
  core_kvm_key other_qemu = {.boot_id = key.boot_id, .qemu_version = "QEMU emulator version 8.2.0"};
  /* A prefix of the real value must not match either. */
  core_kvm_key prefix = {.boot_id = "d861a4d3", .qemu_version = key.qemu_version};
  assert_null(parse(text, &other_boot));
  assert_null(parse(text, &other_qemu));
  assert_null(parse(text, &prefix));
  free(text);
}

static void test_damaged_or_foreign_is_ignored(void **state) {
  (void)state;
  char *good = format(&key, "why");
  size_t len = strlen(good);
  /* Every truncation of a good file is ignored, as is the empty file. */
  for (size_t cut = 0; cut < len; cut++) {
    char *reason = NULL;
    assert_int_equal(core_kvm_verdict_parse(good, cut, &key, &reason), 0);
    assert_null(reason);
  }
  char buf[1024];
  snprintf(buf, sizeof buf, "%sextra line\n", good);
  assert_null(parse(buf, &key));
  snprintf(buf, sizeof buf, "core kvm-verdict 2\nboot-id %s\nqemu %s\nunusable why\n", key.boot_id, key.qemu_version);
  assert_null(parse(buf, &key));
  snprintf(buf, sizeof buf, "core kvm-verdict 1\nqemu %s\nboot-id %s\nunusable why\n", key.qemu_version, key.boot_id);
  assert_null(parse(buf, &key));
  snprintf(buf, sizeof buf, "core kvm-verdict 1\nboot-id %s\nqemu %s\nunusable \n", key.boot_id, key.qemu_version);
  assert_null(parse(buf, &key));
  assert_null(parse("{\"kvm\": false}\n", &key));
  /* A NUL inside is damage, even when the text around it would parse. */
  char *reason = NULL;
  memcpy(buf, good, len + 1);
  buf[len - 2] = 0;
  assert_int_equal(core_kvm_verdict_parse(buf, len, &key, &reason), 0);
  free(good);
}

static void test_load_and_save(void **state) {
  const char *dir = *state;
  char path[256], missing[256];
  snprintf(path, sizeof path, "%s/home/kvm-verdict", dir);
  snprintf(missing, sizeof missing, "%s/none", dir);
  char *reason = NULL;
  assert_int_equal(core_kvm_verdict_load(missing, &key, &reason), 0);
  core_error *err = NULL;
  /* The directory ($CORE_HOME) is made when missing. */
  assert_int_equal(core_kvm_verdict_save(path, &key, "no sign of life in 5 s under KVM", &err), 0);
  assert_null(err);
  assert_int_equal(core_kvm_verdict_load(path, &key, &reason), 1);
  assert_string_equal(reason, "no sign of life in 5 s under KVM");
  free(reason);
  reason = NULL;
  /* A file far bigger than any verdict is not one. */
  FILE *f = fopen(path, "a");
  assert_non_null(f);
  for (int i = 0; i < 1000; i++) fputs("padding padding\n", f);
  fclose(f);
  assert_int_equal(core_kvm_verdict_load(path, &key, &reason), 0);
  assert_null(reason);
  /* A directory where the file should be is ignored too. */
  assert_int_equal(unlink(path), 0);
  assert_int_equal(mkdir(path, 0700), 0);
  assert_int_equal(core_kvm_verdict_load(path, &key, &reason), 0);
  assert_null(reason);
}

static void test_first_line(void **state) {
  (void)state;
  const char *v = "QEMU emulator version 7.2.22\nCopyright (c) 2003-2022\n";
  char *line = core_kvm_first_line(v, strlen(v));
  assert_string_equal(line, "QEMU emulator version 7.2.22");
  free(line);
  line = core_kvm_first_line("\n  \r\n  abc-1 \r\nx", 17);
  assert_string_equal(line, "abc-1");
  free(line);
  line = core_kvm_first_line("no newline", 10);
  assert_string_equal(line, "no newline");
  free(line);
  assert_null(core_kvm_first_line("", 0));
  assert_null(core_kvm_first_line(" \n\t\n", 4));
}

static void test_probe_seconds(void **state) {
  (void)state;
  unsigned s = 0;
  core_error *err = NULL;
  assert_int_equal(core_kvm_probe_seconds_parse("3", &s, &err), 0);
  assert_int_equal(s, 3);
  assert_int_equal(core_kvm_probe_seconds_parse("600", &s, &err), 0);
  assert_int_equal(s, 600);
  static const char *bad[] = {"0", "-1", "601", "2.5", "", "5s", "99999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    s = 77;
    assert_int_equal(core_kvm_probe_seconds_parse(bad[i], &s, &err), -1);
    assert_non_null(err);
    assert_non_null(strstr(err->msg, "CORE_KVM_PROBE_SECONDS"));
    assert_int_equal(s, 77);
    core_error_free(err);
    err = NULL;
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),         cmocka_unit_test(test_reason_stays_one_line),
      cmocka_unit_test(test_other_key_is_ignored), cmocka_unit_test(test_damaged_or_foreign_is_ignored),
      cmocka_unit_test_setup_teardown(test_load_and_save, make_tmpdir, remove_tmpdir),     cmocka_unit_test(test_first_line),
      cmocka_unit_test(test_probe_seconds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
