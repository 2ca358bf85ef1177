/* Unit tests for coreinit's configuration parser (runtime/init/conf.c): directives,
 * escapes, the run.conf merge and every error with its line number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

/* Included, not linked: coreinit is built only for the guest, with musl. */
#include "../../runtime/init/conf.c"

#define INIT_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int parse(init_conf *c, const char *file, const char *text, init_error *err) {
  return init_conf_parse(c, file, text, strlen(text), err);
}

static void assert_strv(const init_strv *s, const char *const *want, size_t n) {
  assert_int_equal(s->n, n);
  for (size_t i = 0; i < n; i++) assert_string_equal(s->v[i], want[i]);
  if (n) assert_null(s->v[n]);
}

static void test_directives(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  const char *text =
      "# written by corec\n"
      "\n"
      "version 1\n"
      "hostname first\n"
      "hostname web\n"
      "module /lib/modules/failover.ko\n"
      "module /lib/modules/virtio_net.ko\n"
      "env GREETING=hello world\n"
      "env EMPTY=\n"
      "  \t \n"
      "arg /bin/sh\n"
      "arg -c\n"
      "arg  two  spaces \n"
      "arg \n"
      "status-device /dev/ttyS1"; /* no final newline */
  assert_int_equal(parse(&c, "init.conf", text, &err), 0);
  assert_string_equal(c.hostname, "web");
  assert_string_equal(c.status_device, "/dev/ttyS1");
  assert_strv(&c.modules,
              (const char *const[]){"/lib/modules/failover.ko", "/lib/modules/virtio_net.ko"}, 2);
  assert_strv(&c.env, (const char *const[]){"GREETING=hello world", "EMPTY="}, 2);
  /* The value is the rest of the line, spaces included; an empty value is an empty arg. */
  assert_strv(&c.argv, (const char *const[]){"/bin/sh", "-c", " two  spaces ", ""}, 4);
  init_conf_free(&c);
}

static void test_escapes(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  assert_int_equal(parse(&c, "f", "version 1\narg a\\\\b\\nc\\td\\\\n\nenv X=\\t\n", &err), 0);
  assert_strv(&c.argv, (const char *const[]){"a\\b\nc\td\\n"}, 1);
  assert_strv(&c.env, (const char *const[]){"X=\t"}, 1);
  init_conf_free(&c);

  /* CR has no escape and the writer passes it through, so it is an ordinary byte. */
  assert_int_equal(parse(&c, "f", "version 1\narg a\rb\n", &err), 0);
  assert_strv(&c.argv, (const char *const[]){"a\rb"}, 1);
  init_conf_free(&c);
}

static void test_not_nul_terminated(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  const char text[] = "version 1\narg abcGARBAGE";
  assert_int_equal(init_conf_parse(&c, "f", text, strlen("version 1\narg abc"), &err), 0);
  assert_strv(&c.argv, (const char *const[]){"abc"}, 1);
  init_conf_free(&c);
}

static void test_finish_environment(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  assert_int_equal(
      parse(&c, "f", "version 1\narg app\nenv TERM=vt100\nenv A=1\nenv A=2\nenv B=x=y\n", &err), 0);
  assert_int_equal(init_conf_finish(&c, "f", &err), 0);
  /* Defaults first, overridden in place; later env lines win. */
  assert_strv(&c.env,
              (const char *const[]){INIT_DEFAULT_PATH, "HOME=/root", "TERM=vt100", "A=2", "B=x=y"},
              5);
  init_conf_free(&c);

  /* A name that is a prefix of another must not replace it. */
  assert_int_equal(parse(&c, "f", "version 1\narg app\nenv PATHX=1\nenv HOM=2\n", &err), 0);
  assert_int_equal(init_conf_finish(&c, "f", &err), 0);
  assert_strv(
      &c.env,
      (const char *const[]){INIT_DEFAULT_PATH, "HOME=/root", "TERM=linux", "PATHX=1", "HOM=2"}, 5);
  init_conf_free(&c);
}

static void test_merge_run_conf_replaces_argv(void **state) {
  (void)state;
  init_conf base = INIT_CONF_INIT, run = INIT_CONF_INIT;
  init_error err;
  assert_int_equal(parse(&base, "init.conf",
                         "version 1\nhostname app\nmodule /a.ko\nenv A=init\nenv B=init\n"
                         "arg /app\narg --serve\n",
                         &err),
                   0);
  assert_int_equal(parse(&run, "run.conf",
                         "version 1\nstatus-device /dev/ttyS1\nmodule /b.ko\nenv B=run\n"
                         "env C=run\narg sh\narg -c\narg echo hi\n",
                         &err),
                   0);
  assert_int_equal(init_conf_merge(&base, &run, &err), 0);
  assert_int_equal(init_conf_finish(&base, "init.conf", &err), 0);
  assert_string_equal(base.hostname, "app");
  assert_string_equal(base.status_device, "/dev/ttyS1");
  assert_strv(&base.modules, (const char *const[]){"/a.ko", "/b.ko"}, 2);
  assert_strv(&base.argv, (const char *const[]){"sh", "-c", "echo hi"}, 3);
  assert_strv(&base.env,
              (const char *const[]){INIT_DEFAULT_PATH, "HOME=/root", "TERM=linux", "A=init",
                                    "B=run", "C=run"},
              6);
  /* over is left empty */
  assert_null(run.argv.v);
  assert_null(run.env.v);
  assert_null(run.status_device);
  init_conf_free(&base);
}

static void test_merge_run_conf_without_args_keeps_argv(void **state) {
  (void)state;
  init_conf base = INIT_CONF_INIT, run = INIT_CONF_INIT;
  init_error err;
  assert_int_equal(parse(&base, "init.conf", "version 1\narg /app\narg x\n", &err), 0);
  assert_int_equal(parse(&run, "run.conf", "version 1\nhostname other\nenv X=1\n", &err), 0);
  assert_int_equal(init_conf_merge(&base, &run, &err), 0);
  assert_string_equal(base.hostname, "other");
  assert_null(base.status_device);
  assert_strv(&base.argv, (const char *const[]){"/app", "x"}, 2);
  assert_strv(&base.env, (const char *const[]){"X=1"}, 1);
  init_conf_free(&base);
}

/* run.conf may be the one file with args, e.g. when the build wrote none (not our case,
 * but the merge must not care). */
static void test_merge_into_empty_argv(void **state) {
  (void)state;
  init_conf base = INIT_CONF_INIT, run = INIT_CONF_INIT;
  init_error err;
  assert_int_equal(parse(&base, "init.conf", "version 1\n", &err), 0);
  assert_int_equal(parse(&run, "run.conf", "version 1\narg /bin/true\n", &err), 0);
  assert_int_equal(init_conf_merge(&base, &run, &err), 0);
  assert_int_equal(init_conf_finish(&base, "init.conf", &err), 0);
  assert_strv(&base.argv, (const char *const[]){"/bin/true"}, 1);
  init_conf_free(&base);
}

static const struct {
  const char *text;
  const char *msg;
} parse_errors[] = {
    {"", "init.conf:1: no 'version 1' line (the file has no directives)"},
    {"# only\n\n# comments\n", "init.conf:4: no 'version 1' line (the file has no directives)"},
    {"# c\nhostname x\nversion 1\n", "init.conf:2: the first directive must be 'version 1'"},
    {"version 2\n", "init.conf:1: unsupported version '2' (this coreinit reads version 1)"},
    {"version 1 \n", "init.conf:1: unsupported version '1 ' (this coreinit reads version 1)"},
    {"version\n", "init.conf:1: unsupported version '' (this coreinit reads version 1)"},
    {"version 1\nversion 1\n",
     "init.conf:2: 'version' may appear only once, as the first directive"},
    {"version 1\narg x\nservice web\n",
     "init.conf:3: unknown directive 'service' (known: hostname, module, env, arg, "
     "status-device)"},
    {"version 1\nArg x\n",
     "init.conf:2: unknown directive 'Arg' (known: hostname, module, env, arg, status-device)"},
    {"version 1\narg\n", "init.conf:2: 'arg' needs a value after one space"},
    {"version 1\nhostname\n", "init.conf:2: 'hostname' needs a value after one space"},
    {"version 1\n arg x\n", "init.conf:2: line starts with a space"},
    {"version 1\n\narg a\\qb\n",
     "init.conf:3: unknown escape '\\q' (only '\\\\', '\\n' and '\\t' exist)"},
    {"version 1\narg a\\r\n",
     "init.conf:2: unknown escape '\\r' (only '\\\\', '\\n' and '\\t' exist)"},
    {"version 1\narg ab\\\n",
     "init.conf:2: backslash at end of line (write '\\\\' for a backslash)"},
    {"# saved on Windows\r\nversion 1\r\narg x\r\n",
     "init.conf:2: 'version 1' followed by a carriage return (lines must end with LF alone)"},
    {"version 1\nhostname \n", "init.conf:2: hostname must be 1 to 64 bytes long, not 0"},
    {"version 1\nhostname "
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
     "init.conf:2: hostname must be 1 to 64 bytes long, not 65"},
    {"version 1\nmodule virtio_net.ko\n",
     "init.conf:2: module path 'virtio_net.ko' is not absolute"},
    {"version 1\nmodule \n", "init.conf:2: module path '' is not absolute"},
    {"version 1\nenv NOEQUALS\n", "init.conf:2: env value 'NOEQUALS' is not NAME=VALUE"},
    {"version 1\nenv =x\n", "init.conf:2: env value '=x' is not NAME=VALUE"},
    {"version 1\nstatus-device ttyS1\n",
     "init.conf:2: status device 'ttyS1' is not an absolute path"},
};

static void test_parse_errors(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof parse_errors / sizeof parse_errors[0]; i++) {
    init_conf c = INIT_CONF_INIT;
    init_error err;
    /* Directives before the bad line must not leak into the output. */
    int r = parse(&c, "init.conf", parse_errors[i].text, &err);
    if (r != -1 || strcmp(err.msg, parse_errors[i].msg) != 0)
      fail_msg("case %zu: got %d '%s', want '%s'", i, r, r ? err.msg : "", parse_errors[i].msg);
    assert_null(c.argv.v);
    assert_null(c.env.v);
    assert_null(c.modules.v);
    assert_null(c.hostname);
  }
}

static void test_nul_byte(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  const char text[] = "version 1\narg a\0b\n";
  assert_int_equal(init_conf_parse(&c, "run.conf", text, sizeof text - 1, &err), -1);
  assert_string_equal(err.msg, "run.conf:2: NUL byte in line");
}

static void test_line_numbers_count_comments_and_blanks(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  assert_int_equal(parse(&c, "/etc/core/run.conf", "# a\n\nversion 1\n# b\n\n\nbogus\n", &err), -1);
  assert_string_equal(err.msg,
                      "/etc/core/run.conf:7: unknown directive 'bogus' (known: hostname, module, "
                      "env, arg, status-device)");
}

static void test_finish_errors(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  assert_int_equal(parse(&c, "f", "version 1\nenv A=1\n", &err), 0);
  assert_int_equal(init_conf_finish(&c, "/etc/core/init.conf", &err), -1);
  assert_string_equal(err.msg,
                      "/etc/core/init.conf: no 'arg' line, so there is no main command to run");
  init_conf_free(&c);

  assert_int_equal(parse(&c, "f", "version 1\narg \narg x\n", &err), 0);
  assert_int_equal(init_conf_finish(&c, "/etc/core/init.conf", &err), -1);
  assert_string_equal(err.msg,
                      "/etc/core/init.conf: the first 'arg' (the program to run) is empty");
  init_conf_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_directives),
      cmocka_unit_test(test_escapes),
      cmocka_unit_test(test_not_nul_terminated),
      cmocka_unit_test(test_finish_environment),
      cmocka_unit_test(test_merge_run_conf_replaces_argv),
      cmocka_unit_test(test_merge_run_conf_without_args_keeps_argv),
      cmocka_unit_test(test_merge_into_empty_argv),
      cmocka_unit_test(test_parse_errors),
      cmocka_unit_test(test_nul_byte),
      cmocka_unit_test(test_line_numbers_count_comments_and_blanks),
      cmocka_unit_test(test_finish_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
