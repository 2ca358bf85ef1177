/* Unit tests for the loader (compiler/load): includes, variables and the check in one call,
 * its flags (compiler/load_flags: the getopt_long table every command splices in), and the starter app.yml of `corec init` (compiler/starter). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "input_file.h"
#include "load.h"
#include "load_flags.h"
#include "starter.h"
#include "templates.h"
#include "tmpdir.h"

/* argv parsed as a corec command parses it: its own flag (--json) and the loader's, in one
 * table. Returns the index of the first operand, -1 with *err for a bad value, -2 for a flag
 * the table does not know. */
static int parse_args(int argc, const char **argv, core_load_opts *o, int *json, core_error **err) {
  static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, CORE_LOAD_OPTIONS, {0, 0, 0, 0}};
  int c;
  optind = 0; /* glibc: start over, as for a new argv */
  opterr = 0;
  while ((c = getopt_long(argc, (char **)argv, "", opts, NULL)) != -1) {
    if (c == 'j') {
      (*json)++;
      continue;
    }
    int r = core_load_opts_set(o, c, optarg, err);
    if (r <= 0) return r == 0 ? -2 : -1;
  }
  return optind;
}

static void write_file(const char *path, const char *text) {
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
}

static void assert_contains(const char *hay, const char *needle) {
  if (hay == NULL || strstr(hay, needle) == NULL) fail_msg("expected to find\n%s\nin\n%s", needle, hay ? hay : "(null)");
}

static void test_load_whole_pipeline(void **state) {
  (void)state;
  write_file("base.yml", "variables: {VERSION: \"6.1\"}\nkernel: {source: \"vmlinuz-${VERSION}\", cmdline: quiet}\n");
  write_file("app.yml", "include: [base.yml]\nname: ${NAME:-hello}\nmain: [echo, \"${GREETING}\"]\n");
  const char *argv[] = {"check", "--var", "GREETING=hi there", "--var=NAME=web", "--env-var", "HOME", "app.yml"};
  core_load_opts o = CORE_LOAD_OPTS_INIT;
  core_error *err = NULL;
  int json = 0;
  assert_int_equal(parse_args(7, argv, &o, &json, &err), 6);
  assert_int_equal(o.n_vars, 2);
  assert_int_equal(o.n_env_vars, 1);
  char *warnings = (char *)"unset";
  o.warnings = &warnings;
  core_app_config *cfg = NULL;
  if (core_app_load("app.yml", &o, &cfg, &err) < 0) fail_msg("%s", err->msg);
  assert_null(warnings);
  assert_string_equal(cfg->name, "web");
  assert_string_equal(cfg->kernel.path, "vmlinuz-6.1");
  assert_string_equal(cfg->cmdline, "quiet");
  assert_int_equal(cfg->main_argc, 2);
  assert_string_equal(cfg->main_argv[1], "hi there");
  core_app_config_free(cfg);
  core_load_opts_release(&o);
}

static void test_load_reports_every_stage(void **state) {
  (void)state;
  write_file("base.yml", "kernel: {source: k}\nbogus: 1\n");
  write_file("app.yml", "include: [base.yml]\nname: app\nmain: \"${MISSING}\"\n");
  core_app_config *cfg = NULL;
  core_error *err = NULL;
  assert_int_equal(core_app_load("app.yml", NULL, &cfg, &err), -1);
  assert_null(cfg);
  /* variables are reported; the schema is not run on a tree with undefined variables */
  assert_contains(err->msg, "app.yml:3:8: error: undefined variable 'MISSING'\n");
  assert_contains(err->msg, "app.yml: 1 error\n");
  core_error_free(err);
  err = NULL;
  write_file("app.yml", "include: [base.yml]\nname: app\nmain: \"${MISSING:-x}\"\n");
  assert_int_equal(core_app_load("app.yml", NULL, &cfg, &err), -1);
  /* the schema's error is in the included file, at its own line */
  assert_contains(err->msg, "base.yml:2:1: error: unknown key 'bogus'");
  core_error_free(err);
}

static void test_load_variables_key_is_removed_and_warnings_returned(void **state) {
  (void)state;
  write_file("app.yml", "variables: {N: app}\nname: ${N}\nkernel: {source: k}\nmain: x\n");
  const char *vars[] = {"TYPO=1"};
  char *warnings = NULL;
  core_load_opts o = {.vars = vars, .n_vars = 1, .warnings = &warnings};
  core_app_config *cfg = NULL;
  core_error *err = NULL;
  if (core_app_load("app.yml", &o, &cfg, &err) < 0) fail_msg("%s", err->msg);
  assert_string_equal(cfg->name, "app");
  assert_contains(warnings, "warning: --var 'TYPO' is not used");
  free(warnings);
  core_app_config_free(cfg);
}

/* The app named on the command line follows the rules of includes: a regular file within the
 * cap (a symbolic link to one is fine), refused promptly otherwise. The alarm turns a hang on
 * a FIFO into a failure. */
static void test_load_hostile_app_paths(void **state) {
  (void)state;
  alarm(30);
  assert_int_equal(mkfifo("fifo.yml", 0644), 0);
  assert_int_equal(mkdir("adir.yml", 0755), 0);
  write_file("big.yml", "");
  assert_int_equal(truncate("big.yml", (off_t)CORE_INPUT_MAX_BYTES + 1), 0);
  const struct {
    const char *path, *want;
  } cases[] = {
      {"/dev/zero", "'/dev/zero' is a character device, not a regular file"},
      {"fifo.yml", "'fifo.yml' is a FIFO, not a regular file"},
      {"adir.yml", "'adir.yml' is a directory, not a regular file"},
      {"big.yml", "over the limit of 8388608 bytes"},
      {"none.yml", "opening 'none.yml': No such file or directory"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    core_app_config *cfg = NULL;
    core_error *err = NULL;
    assert_int_equal(core_app_load(cases[i].path, NULL, &cfg, &err), -1);
    assert_null(cfg);
    assert_contains(err->msg, cases[i].want);
    core_error_free(err);
  }
  write_file("real.yml", "name: t\nkernel: {source: vmlinuz}\nmain: x\n");
  assert_int_equal(symlink("real.yml", "link.yml"), 0);
  core_app_config *cfg = NULL;
  core_error *err = NULL;
  if (core_app_load("link.yml", NULL, &cfg, &err) < 0) fail_msg("%s", err->msg);
  core_app_config_free(cfg);
  alarm(0);
}

/* An app.yml that is a link to a secret (a checkout can hold one): not YAML, or YAML but no
 * app, is reported by position without a line of it; an app with a typo is quoted. */
static void test_load_does_not_quote_what_is_not_an_app(void **state) {
  (void)state;
  write_file("shadow", "root:$y$j9T$SHADOWSECRET:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n");
  write_file("token", "ghp_TOKENSECRET\"unterminated: [\n");
  write_file("typo.yml", "name: t\nkernel: {source: vmlinuz}\nmain: x\nservics: QUOTED\n");
  const struct {
    const char *path, *want, *secret;
  } cases[] = {
      {"shadow", "shadow:1:1: error: 'shadow' is not an app.yml file: none of its 2 top-level keys is an app.yml key\n",
       "SHADOWSECRET"},
      {"token", "token:2:1: error: ", "TOKENSECRET"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    core_app_config *cfg = NULL;
    core_error *err = NULL;
    assert_int_equal(core_app_load(cases[i].path, NULL, &cfg, &err), -1);
    assert_contains(err->msg, cases[i].want);
    if (strstr(err->msg, cases[i].secret) || strstr(err->msg, " | "))
      fail_msg("a line of '%s' was quoted:\n%s", cases[i].path, err->msg);
    core_error_free(err);
  }
  core_app_config *cfg = NULL;
  core_error *err = NULL;
  assert_int_equal(core_app_load("typo.yml", NULL, &cfg, &err), -1);
  assert_contains(err->msg, "typo.yml:4:1: error: unknown key 'servics' (did you mean 'services'?)\n"
                            "    4 | servics: QUOTED\n");
  core_error_free(err);
}

static void test_flags(void **state) {
  (void)state;
  core_load_opts o = CORE_LOAD_OPTS_INIT;
  core_error *err = NULL;
  int json = 0;
  const char *a1[] = {"x", "--var", "1A=b"};
  assert_int_equal(parse_args(3, a1, &o, &json, &err), -1);
  assert_contains(err->msg, "invalid --var '1A=b'; write --var NAME=VALUE");
  core_error_free(err);
  err = NULL;
  const char *a2[] = {"x", "--env-var=bad-name"};
  assert_int_equal(parse_args(2, a2, &o, &json, &err), -1);
  assert_contains(err->msg, "invalid --env-var 'bad-name'");
  core_error_free(err);
  err = NULL;
  const char *a3[] = {"x", "--var", "NOEQUALS"};
  assert_int_equal(parse_args(3, a3, &o, &json, &err), -1);
  core_error_free(err);
  err = NULL;
  /* getopt_long refuses a missing value and an unknown flag before the setter sees them */
  const char *a4[] = {"x", "--var"};
  assert_int_equal(parse_args(2, a4, &o, &json, &err), -2);
  const char *a5[] = {"x", "--variable", "A=b"};
  assert_int_equal(parse_args(3, a5, &o, &json, &err), -2);
  assert_null(err);
  assert_int_equal(o.n_vars + o.n_env_vars, 0);
  /* a value may hold '='; flags and operands mix; the command's own flag still reaches it */
  const char *a6[] = {"x", "app.yml", "--var", "A=b=c", "--json", "--linuxkit", "--env-var", "HOME"};
  assert_int_equal(parse_args(8, a6, &o, &json, &err), 7);
  assert_int_equal(o.n_vars, 1);
  assert_string_equal(o.vars[0], "A=b=c");
  assert_int_equal(o.n_env_vars, 1);
  assert_string_equal(o.env_vars[0], "HOME");
  assert_int_equal(o.linuxkit, 1);
  assert_int_equal(json, 1);
  /* an id that is not the loader's is left to the command */
  assert_int_equal(core_load_opts_set(&o, 'j', NULL, &err), 0);
  core_load_opts_release(&o);
  assert_null(o.vars);
}

static char *read_text(const char *path) {
  core_buf b = CORE_BUF_INIT;
  core_error *err = NULL;
  if (core_read_file(path, &b, &err) < 0) fail_msg("%s", err->msg);
  assert_int_equal(core_buf_append(&b, "", 1, NULL), 0);
  return (char *)core_buf_take(&b, NULL);
}

static void test_starter(void **state) {
  (void)state;
  const char *lib = core_stdlib_builtin_dir();
  char *text = NULL;
  core_error *err = NULL;
  assert_int_equal(core_starter_text("demo", NULL, lib, &text, &err), 0);
  assert_contains(text, "name: demo\ninclude:\n  - stdlib:kernel-cloud\n  - stdlib:busybox\n"
                        "main: [\"/bin/sh\", \"-c\", \"echo 'Hello from demo!'\"]\n");
  free(text);
  assert_int_equal(core_starter_text("web", "httpd", lib, &text, &err), 0);
  assert_contains(text, "  - stdlib:busybox\n  - stdlib:httpd\n");
  assert_contains(text, "exec sleep 2147483647");
  free(text);
  assert_int_equal(core_starter_text("sh", "console-shell", lib, &text, &err), 0);
  assert_null(strstr(text, "main:")); /* the template brings it */
  free(text);
  assert_int_equal(core_starter_text("x", "nothere", lib, &text, &err), -1);
  assert_contains(err->msg, "unknown template 'nothere'");
  core_error_free(err);
  err = NULL;

  /* written into a new directory, named after it, and valid */
  char *path = NULL;
  assert_int_equal(core_starter_write("My App", "httpd", lib, &path, &err), 0);
  assert_string_equal(path, "My App/app.yml");
  char *written = read_text(path);
  assert_contains(written, "name: my-app\n");
  free(written);
  core_load_opts o = {.stdlib_dir = lib};
  core_app_config *cfg = NULL;
  if (core_app_load(path, &o, &cfg, &err) < 0) fail_msg("%s", err->msg);
  assert_int_equal(cfg->n_services, 1);
  core_app_config_free(cfg);
  /* never overwritten */
  assert_int_equal(core_starter_write("My App", NULL, lib, NULL, &err), -1);
  assert_contains(err->msg, "'My App/app.yml' already exists; remove it or choose another directory");
  core_error_free(err);
  free(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_load_whole_pipeline, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_load_reports_every_stage, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_load_variables_key_is_removed_and_warnings_returned, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_load_hostile_app_paths, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_load_does_not_quote_what_is_not_an_app, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test(test_flags),
      cmocka_unit_test_setup_teardown(test_starter, enter_tmpdir, leave_tmpdir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
