/* Unit tests for the check stage (compiler/check): app.yml -> core_app_config, and the
 * diagnostics for everything the schema in spec/app.yml.md rejects. Apps are loaded through
 * the front end's one entry, core_app_load; core_parse_size is the check stage's own. */
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

#include "check.h" /* internal to compiler/, for core_parse_size */
#include "load.h"

#define MIB (UINT64_C(1) << 20)

/* Each test runs in a fresh temporary directory, so paths in messages are just "app.yml". */
typedef struct fixture {
  char old_cwd[PATH_MAX];
  char dir[64];
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (f == NULL || getcwd(f->old_cwd, sizeof f->old_cwd) == NULL) return -1;
  strcpy(f->dir, "/tmp/core-test-check-XXXXXX");
  if (mkdtemp(f->dir) == NULL || chdir(f->dir) < 0) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  unlink("app.yml");
  unlink("sub/app.yml");
  rmdir("sub");
  if (chdir(f->old_cwd) < 0) return -1;
  rmdir(f->dir);
  free(f);
  return 0;
}

static void write_file(const char *path, const char *text) {
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
}

static void assert_contains(const char *hay, const char *needle) {
  if (strstr(hay, needle) == NULL) fail_msg("expected to find\n%s\nin\n%s", needle, hay);
}

/* Checks text as app.yml; returns the config, or NULL with *msg set to the rendered errors. */
static core_app_config *check_text(const char *text, char **msg) {
  write_file("app.yml", text);
  core_app_config *cfg = NULL;
  core_error *err = NULL;
  int rc = core_app_load("app.yml", NULL, &cfg, &err);
  *msg = NULL;
  if (rc < 0) {
    assert_non_null(err);
    assert_null(cfg);
    *msg = strdup(err->msg);
    core_error_free(err);
    return NULL;
  }
  assert_null(err);
  assert_non_null(cfg);
  return cfg;
}

static core_app_config *expect_ok(const char *text) {
  char *msg = NULL;
  core_app_config *cfg = check_text(text, &msg);
  if (cfg == NULL) fail_msg("expected no errors, got\n%s", msg);
  return cfg;
}

/* Expects the check to fail with a message containing each needle. */
static void expect_errors(const char *text, ...) {
  char *msg = NULL;
  core_app_config *cfg = check_text(text, &msg);
  if (cfg) {
    core_app_config_free(cfg);
    fail_msg("expected errors for\n%s", text);
  }
  va_list ap;
  va_start(ap, text);
  for (const char *needle; (needle = va_arg(ap, const char *)) != NULL;) assert_contains(msg, needle);
  va_end(ap);
  free(msg);
}

static void expect_exact(const char *text, const char *want) {
  char *msg = NULL;
  core_app_config *cfg = check_text(text, &msg);
  if (cfg) {
    core_app_config_free(cfg);
    fail_msg("expected errors for\n%s", text);
  }
  assert_string_equal(msg, want);
  free(msg);
}

#define BASE "name: t\nkernel: {source: k}\nmain: x\n"

/* --- valid input --- */

static void test_full_config(void **state) {
  (void)state;
  core_app_config *cfg = expect_ok("name: hello-1.0_x\n"
                                   "kernel:\n"
                                   "  source: debs/linux-image.deb\n"
                                   "  cmdline: \"quiet loglevel=3\"\n"
                                   "  modules: [virtio_net, virtio-blk, 9p]\n"
                                   "rootfs:\n"
                                   "  - source: busybox.tar\n"
                                   "  - source: /abs/app\n"
                                   "    dest: /opt/app/\n"
                                   "  - source: etc\n"
                                   "    dest: /\n"
                                   "main: [\"/bin/sh\", \"-c\", \"echo hi\", 10]\n"
                                   "resources:\n"
                                   "  memory: 1G\n"
                                   "  cpus: 4\n");
  assert_string_equal(cfg->file, "app.yml");
  assert_string_equal(cfg->dir, ".");
  assert_string_equal(cfg->name, "hello-1.0_x");
  assert_int_equal(cfg->name_pos.line, 1);
  assert_int_equal(cfg->name_pos.col, 7);
  assert_ptr_equal(cfg->name_pos.file, cfg->file);

  assert_string_equal(cfg->kernel.path, "debs/linux-image.deb");
  assert_string_equal(cfg->kernel.resolved, "./debs/linux-image.deb");
  assert_int_equal(cfg->kernel.pos.line, 3);
  assert_int_equal(cfg->kernel.pos.col, 11);
  assert_string_equal(cfg->cmdline, "quiet loglevel=3");

  assert_int_equal(cfg->n_modules, 3);
  assert_string_equal(cfg->modules[0].name, "virtio_net");
  assert_string_equal(cfg->modules[1].name, "virtio_blk"); /* '-' is stored as '_' */
  assert_string_equal(cfg->modules[2].name, "9p");
  assert_int_equal(cfg->modules[1].pos.line, 5);
  assert_int_equal(cfg->modules[1].pos.col, 25);

  assert_int_equal(cfg->n_layers, 3);
  assert_string_equal(cfg->layers[0].source.path, "busybox.tar");
  assert_string_equal(cfg->layers[0].source.resolved, "./busybox.tar");
  assert_string_equal(cfg->layers[0].dest, "");
  assert_int_equal(cfg->layers[0].pos.line, 7);
  assert_int_equal(cfg->layers[0].pos.col, 5);
  assert_string_equal(cfg->layers[1].source.resolved, "/abs/app");
  assert_string_equal(cfg->layers[1].dest, "opt/app");
  assert_int_equal(cfg->layers[1].source.pos.line, 8);
  assert_int_equal(cfg->layers[1].source.pos.col, 13);
  assert_string_equal(cfg->layers[2].dest, "");

  assert_int_equal(cfg->main_argc, 4);
  assert_string_equal(cfg->main_argv[0], "/bin/sh");
  assert_string_equal(cfg->main_argv[1], "-c");
  assert_string_equal(cfg->main_argv[2], "echo hi");
  assert_string_equal(cfg->main_argv[3], "10"); /* numbers are kept as written */
  assert_null(cfg->main_argv[4]);
  assert_int_equal(cfg->main_pos.line, 12);
  assert_int_equal(cfg->main_pos.col, 7);

  assert_int_equal(cfg->memory_bytes, 1024 * MIB);
  assert_int_equal(cfg->cpus, 4);
  core_app_config_free(cfg);
}

static void test_defaults_and_main_string(void **state) {
  (void)state;
  core_app_config *cfg = expect_ok("name: web\nkernel:\n  source: vmlinuz\nmain: echo hi && sleep 1\n");
  assert_string_equal(cfg->cmdline, "");
  assert_int_equal(cfg->n_modules, 0);
  assert_null(cfg->modules);
  assert_int_equal(cfg->n_layers, 0);
  assert_int_equal(cfg->memory_bytes, 256 * MIB);
  assert_int_equal(cfg->cpus, 1);
  assert_int_equal(cfg->main_argc, 3);
  assert_string_equal(cfg->main_argv[0], "/bin/sh");
  assert_string_equal(cfg->main_argv[1], "-c");
  assert_string_equal(cfg->main_argv[2], "echo hi && sleep 1");
  assert_null(cfg->main_argv[3]);
  core_app_config_free(cfg);

  /* empty optional collections are fine */
  cfg = expect_ok(BASE "rootfs: []\nresources: {}\n");
  assert_int_equal(cfg->n_layers, 0);
  core_app_config_free(cfg);
}

static void test_paths_resolve_against_the_app_directory(void **state) {
  (void)state;
  assert_int_equal(mkdir("sub", 0755), 0);
  write_file("sub/app.yml", "name: t\nkernel: {source: ../k/vmlinuz}\nrootfs: [{source: layer.tar}]\nmain: x\n");
  core_app_config *cfg = NULL;
  core_error *err = NULL;
  assert_int_equal(core_app_load("sub/app.yml", NULL, &cfg, &err), 0);
  assert_string_equal(cfg->file, "sub/app.yml");
  assert_string_equal(cfg->dir, "sub");
  assert_string_equal(cfg->kernel.path, "../k/vmlinuz");
  assert_string_equal(cfg->kernel.resolved, "sub/../k/vmlinuz");
  assert_string_equal(cfg->layers[0].source.resolved, "sub/layer.tar");
  assert_string_equal(cfg->kernel.pos.file, "sub/app.yml");
  core_app_config_free(cfg);
}

static void test_aliases_in_config(void **state) {
  (void)state;
  core_app_config *cfg = expect_ok("name: &n web\n"
                                   "kernel: {source: k, modules: [&m virtio_net]}\n"
                                   "rootfs:\n"
                                   "  - &l {source: base.tar, dest: /srv}\n"
                                   "  - *l\n"
                                   "main: [*n, *m]\n");
  assert_int_equal(cfg->n_layers, 2);
  assert_string_equal(cfg->layers[1].dest, "srv");
  assert_int_equal(cfg->layers[1].pos.line, 5); /* where the alias is */
  assert_int_equal(cfg->layers[1].pos.col, 5);
  assert_string_equal(cfg->main_argv[0], "web");
  assert_string_equal(cfg->main_argv[1], "virtio_net");
  core_app_config_free(cfg);
}

/* --- errors --- */

static void test_empty_file(void **state) {
  (void)state;
  static const char want[] = "app.yml: error: app.yml is empty; it needs at least 'name', 'kernel' and 'main'\n"
                             "      = hint: start from examples/hello/app.yml\n"
                             "app.yml: 1 error\n";
  expect_exact("", want);
  expect_exact("# nothing yet\n", want);
  expect_exact("---\n", want);
  expect_exact("~\n", want);
}

static void test_missing_required_keys(void **state) {
  (void)state;
  expect_exact("name: x\n", "app.yml:1:1: error: missing required key 'kernel'\n"
                            "    1 | name: x\n"
                            "      | ^\n"
                            "      = hint: add it, for example 'kernel: {source: ./vmlinuz}'\n"
                            "app.yml:1:1: error: nothing to run: give 'main' or at least one service\n"
                            "    1 | name: x\n"
                            "      | ^\n"
                            "      = hint: add the program to run, for example 'main: [\"/bin/app\"]'\n"
                            "app.yml: 2 errors\n");
  /* at the mapping that lacks them */
  expect_errors("name: x\nmain: x\nkernel:\n  cmdline: quiet\n",
                "app.yml:4:3: error: missing required key 'source' in 'kernel'\n", NULL);
  expect_errors(BASE "rootfs:\n  - dest: /x\n", "app.yml:5:5: error: missing required key 'source' in 'rootfs[0]'\n",
                NULL);
}

static void test_unknown_keys_and_suggestions(void **state) {
  (void)state;
  expect_exact(BASE "servics:\n  web: {}\n",
               "app.yml:4:1: error: unknown key 'servics' (did you mean 'services'?)\n"
               "    4 | servics:\n"
               "      | ^~~~~~~\n"
               "app.yml: 1 error\n");
  expect_exact("name: t\nkernal: {source: k}\nmain: x\n",
               "app.yml:1:1: error: missing required key 'kernel'\n"
               "    1 | name: t\n"
               "      | ^\n"
               "      = hint: add it, for example 'kernel: {source: ./vmlinuz}'\n"
               "app.yml:2:1: error: unknown key 'kernal' (did you mean 'kernel'?)\n"
               "    2 | kernal: {source: k}\n"
               "      | ^~~~~~\n"
               "app.yml: 2 errors\n");
  expect_errors("name: t\nmain: x\nkernel:\n  sorce: k\n  source: k\n",
                "app.yml:4:3: error: unknown key 'sorce' in 'kernel' (did you mean 'source'?)\n", NULL);
  expect_errors(BASE "resources:\n  memroy: 1G\n  CPUs: 2\n",
                "app.yml:5:3: error: unknown key 'memroy' in 'resources' (did you mean 'memory'?)\n",
                "app.yml:6:3: error: unknown key 'CPUs' in 'resources' (did you mean 'cpus'?)\n", NULL);
  expect_errors(BASE "rootfs:\n  - source: a\n    dst: /x\n",
                "app.yml:6:5: error: unknown key 'dst' in 'rootfs[0]' (did you mean 'dest'?)\n", NULL);
  expect_exact(BASE "colour: blue\n", "app.yml:4:1: error: unknown key 'colour'\n"
                                      "    4 | colour: blue\n"
                                      "      | ^~~~~~\n"
                                      "      = hint: the keys allowed here are 'name', 'version', 'kernel', 'rootfs', "
                                      "'files', 'onboot', 'onshutdown', 'services', 'main', 'env', 'hostname', "
                                      "'sysctl', 'mounts', 'resources', 'network', 'users', 'groups'\n"
                                      "app.yml: 1 error\n");
  expect_errors(BASE "services: {}\n", "app.yml:4:11: error: 'services' must be a sequence of services, found a mapping\n",
                NULL);
}

static void test_type_errors(void **state) {
  (void)state;
  expect_exact("name: yes\nkernel: {source: k}\nmain: x\n",
               "app.yml:1:7: error: 'name' must be a string, found the boolean 'yes'\n"
               "    1 | name: yes\n"
               "      |       ^~~\n"
               "      = hint: put it in quotes if it is meant as text: \"yes\"\n"
               "app.yml: 1 error\n");
  expect_errors("name: ~\nkernel: {source: k}\nmain: x\n", "app.yml:1:7: error: 'name' must be a string, found null\n",
                "      = hint: give it a value\n", NULL);
  expect_errors("name:\nkernel: {source: k}\nmain: x\n",
                "app.yml:1:6: error: 'name' must be a string, found an empty value\n", NULL);
  expect_errors("name: [a]\nkernel: {source: k}\nmain: x\n",
                "app.yml:1:7: error: 'name' must be a string, found a sequence\n", NULL);
  expect_errors("name: t\nkernel: ./vmlinuz\nmain: x\n",
                "app.yml:2:9: error: 'kernel' must be a mapping, found a string\n",
                "      = hint: write it as:  kernel: {source: ./vmlinuz}\n", NULL);
  expect_errors("name: t\nkernel: {source: k, cmdline: false, modules: virtio_net}\nmain: x\n",
                "app.yml:2:30: error: 'kernel.cmdline' must be a string, found the boolean 'false'\n",
                "app.yml:2:46: error: 'kernel.modules' must be a sequence of module names, found a string\n", NULL);
  expect_errors(BASE "rootfs: {source: a}\n", "app.yml:4:9: error: 'rootfs' must be a sequence of layers, found a mapping\n",
                NULL);
  expect_errors(BASE "rootfs: [./a.tar]\n",
                "app.yml:4:10: error: 'rootfs[0]' must be a mapping with 'source' and optionally 'dest', found a string\n",
                "      = hint: write it as '- source: ./a.tar'\n", NULL);
  expect_errors(BASE "resources: 1G\n", "app.yml:4:12: error: 'resources' must be a mapping, found a string\n", NULL);
  expect_errors("name: t\nkernel: {source: k}\nmain: {cmd: x}\n",
                "app.yml:3:7: error: 'main' must be a command: a sequence of strings, or a string for /bin/sh -c, "
                "found a mapping\n",
                NULL);
  expect_errors("name: t\nkernel: {source: k}\nmain: true\n",
                "app.yml:3:7: error: 'main' must be a command: a sequence of strings, or a string for /bin/sh -c, "
                "found the boolean 'true'\n",
                NULL);
  expect_errors("- name: t\n", "app.yml:1:1: error: the top level must be a mapping with keys such as 'name', "
                               "'kernel' and 'main', found a sequence\n",
                NULL);
  expect_errors("name: \"a\\0b\"\nkernel: {source: k}\nmain: x\n",
                "app.yml:1:7: error: 'name' must not contain NUL characters\n", NULL);
}

static void test_multiple_errors_reported_together(void **state) {
  (void)state;
  char *msg = NULL;
  core_app_config *cfg = check_text("name: Hello\n"
                                    "kernel:\n"
                                    "  source: \"\"\n"
                                    "  modules: [a, a]\n"
                                    "rootfs:\n"
                                    "  - source: x\n"
                                    "    dest: opt\n"
                                    "main: []\n"
                                    "resources:\n"
                                    "  memory: 3.5G\n"
                                    "  cpus: \"2\"\n"
                                    "extra: 1\n",
                                    &msg);
  assert_null(cfg);
  /* every error, in the order of the file, then the summary */
  static const char *const want[] = {
      "app.yml:1:7: error: 'name' must start with a lowercase letter or a digit, found 'H'\n",
      "app.yml:3:11: error: 'kernel.source' must not be empty\n",
      "app.yml:4:16: error: module 'a' is listed twice\n",
      "app.yml:4:13: note: 'a' first listed here\n",
      "app.yml:7:11: error: 'rootfs[0].dest' must be an absolute path (starting with '/'), found 'opt'\n",
      "app.yml:8:7: error: 'main' must not be empty; it is the program to run\n",
      "app.yml:10:11: error: 'resources.memory' must be a size such as 256M or 1G, found '3.5G'\n",
      "app.yml:11:9: error: 'resources.cpus' must be an integer, found the string \"2\"\n",
      "app.yml:12:1: error: unknown key 'extra'\n",
      "app.yml: 8 errors\n",
  };
  const char *at = msg;
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const char *hit = strstr(at, want[i]);
    if (hit == NULL) fail_msg("expected, in order,\n%s\nin\n%s", want[i], msg);
    at = hit + strlen(want[i]);
  }
  assert_string_equal(at, ""); /* the summary is the last line */
  free(msg);
}

static void test_too_many_errors(void **state) {
  (void)state;
  char text[4096] = BASE;
  for (int i = 0; i < 60; i++) {
    size_t n = strlen(text);
    snprintf(text + n, sizeof text - n, "zz%d: 1\n", i);
  }
  expect_errors(text, "app.yml:53:1: error: unknown key 'zz49'\n",
                "app.yml: note: too many errors; 10 more not shown\napp.yml: 60 errors\n", NULL);
  char *msg = NULL;
  assert_null(check_text(text, &msg));
  assert_null(strstr(msg, "'zz50'"));
  free(msg);
}

static void test_name_rules(void **state) {
  (void)state;
  const char *good[] = {"a", "0", "web-1.2_x", "a23456789012345678901234567890123456789012345678901234567890123"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    char text[256];
    snprintf(text, sizeof text, "name: %s\nkernel: {source: k}\nmain: x\n", good[i]);
    core_app_config *cfg = expect_ok(text);
    assert_string_equal(cfg->name, good[i]);
    core_app_config_free(cfg);
  }
  /* a number is a name too, as written */
  core_app_config *cfg = expect_ok("name: 007\nkernel: {source: k}\nmain: x\n");
  assert_string_equal(cfg->name, "007");
  core_app_config_free(cfg);

  expect_exact("name: web_Server\nkernel: {source: k}\nmain: x\n",
               "app.yml:1:11: error: 'name' may contain only lowercase letters, digits, '.', '_' and '-', found 'S'\n"
               "    1 | name: web_Server\n"
               "      |           ^\n"
               "      = hint: names are lowercase: 'web_server'\n"
               "app.yml: 1 error\n");
  expect_errors("name: \"a b\"\nkernel: {source: k}\nmain: x\n",
                "app.yml:1:9: error: 'name' may contain only lowercase letters, digits, '.', '_' and '-', found ' '\n",
                NULL);
  expect_errors("name: -web\nkernel: {source: k}\nmain: x\n",
                "app.yml:1:7: error: 'name' must start with a lowercase letter or a digit, found '-'\n", NULL);
  expect_errors("name: ''\nkernel: {source: k}\nmain: x\n", "app.yml:1:7: error: 'name' must not be empty\n", NULL);
  expect_errors("name: a234567890123456789012345678901234567890123456789012345678901234\nkernel: {source: k}\nmain: x\n",
                "app.yml:1:7: error: 'name' is 64 characters long; at most 63 are allowed\n", NULL);
  expect_errors("name: \"ab\\x01\"\nkernel: {source: k}\nmain: x\n",
                "app.yml:1:7: error: 'name' must not contain control characters, found 0x01\n", NULL);
  expect_errors("name: caf\xc3\xa9\nkernel: {source: k}\nmain: x\n",
                "app.yml:1:10: error: 'name' may contain only lowercase letters, digits, '.', '_' and '-', found "
                "'\xc3\xa9'\n",
                NULL);
}

static void test_parse_size(void **state) {
  (void)state;
  static const struct {
    const char *s;
    int rc;
    uint64_t v;
  } cases[] = {
      {"0", 0, 0},
      {"1", 0, 1},
      {"268435456", 0, 256 * MIB},
      {"64M", 0, 64 * MIB},
      {"256M", 0, 256 * MIB},
      {"1G", 0, 1024 * MIB},
      {"1T", 0, UINT64_C(1) << 40},
      {"2048K", 0, 2 * MIB},
      {"16777215T", 0, UINT64_C(16777215) << 40},
      {"16777216T", -1, 0}, /* 2^64 */
      {"18446744073709551615", 0, UINT64_MAX},
      {"18446744073709551616", -1, 0},
      {"3.5G", -1, 0},
      {"256m", -1, 0},
      {"256MB", -1, 0},
      {"256MiB", -1, 0},
      {"M", -1, 0},
      {"", -1, 0},
      {"-1", -1, 0},
      {" 1", -1, 0},
      {"1 ", -1, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint64_t v = 12345;
    int rc = core_parse_size(cases[i].s, &v);
    if (rc != cases[i].rc) fail_msg("'%s': rc %d, want %d", cases[i].s, rc, cases[i].rc);
    if (rc == 0 && v != cases[i].v) fail_msg("'%s': %llu, want %llu", cases[i].s, (unsigned long long)v,
                                             (unsigned long long)cases[i].v);
  }
}

static void test_memory(void **state) {
  (void)state;
  static const struct {
    const char *value;
    uint64_t bytes;
  } ok[] = {{"256M", 256 * MIB}, {"1G", 1024 * MIB}, {"64M", 64 * MIB},
            {"1T", UINT64_C(1) << 40}, {"268435456", 256 * MIB}, {"65536K", 64 * MIB}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    char text[256];
    snprintf(text, sizeof text, BASE "resources:\n  memory: %s\n", ok[i].value);
    core_app_config *cfg = expect_ok(text);
    assert_int_equal(cfg->memory_bytes, ok[i].bytes);
    core_app_config_free(cfg);
  }
  static const struct {
    const char *value, *want;
  } bad[] = {
      {"3.5G", "app.yml:5:11: error: 'resources.memory' must be a size such as 256M or 1G, found '3.5G'\n"
               "    5 |   memory: 3.5G\n"
               "      |           ^~~~\n"
               "      = hint: sizes are whole numbers; write 3584M\n"},
      {"0", "app.yml:5:11: error: 'resources.memory' must be between 64M and 1T, found '0'\n"},
      {"63M", "app.yml:5:11: error: 'resources.memory' must be between 64M and 1T, found '63M'\n"},
      {"1025G", "app.yml:5:11: error: 'resources.memory' must be between 64M and 1T, found '1025G'\n"},
      {"2T", "app.yml:5:11: error: 'resources.memory' must be between 64M and 1T, found '2T'\n"},
      {"99999999999999999999", "app.yml:5:11: error: 'resources.memory' must be between 64M and 1T, found "
                               "'99999999999999999999'\n"},
      {"100000K", "app.yml:5:11: error: 'resources.memory' must be a whole number of MiB, found '100000K'\n"},
      {"268435457", "app.yml:5:11: error: 'resources.memory' must be a whole number of MiB, found '268435457'\n"},
      {"512m", "      = hint: write the unit as one capital letter: 512M\n"},
      {"1GiB", "      = hint: write the unit as one capital letter: 1G\n"},
      {"1.3G", "      = hint: sizes are whole numbers; use a smaller unit, such as M\n"},
      {"-256M", "app.yml:5:11: error: 'resources.memory' must be a size such as 256M or 1G, found '-256M'\n"},
      {"\"256M\"", "app.yml:5:11: error: 'resources.memory' must be a size such as 256M or 1G, found a quoted "
                   "string\n"
                   "    5 |   memory: \"256M\"\n"
                   "      |           ^~~~~~\n"
                   "      = hint: write it without quotes: memory: 256M\n"},
      {"yes", "app.yml:5:11: error: 'resources.memory' must be a size such as 256M or 1G, found the boolean 'yes'\n"},
      {"[1]", "app.yml:5:11: error: 'resources.memory' must be a size such as 256M or 1G, found a sequence\n"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char text[256];
    snprintf(text, sizeof text, BASE "resources:\n  memory: %s\n", bad[i].value);
    expect_errors(text, bad[i].want, "app.yml: 1 error\n", NULL);
  }
}

static void test_cpus(void **state) {
  (void)state;
  const char *ok[] = {"1", "255", "08"};
  const unsigned want_ok[] = {1, 255, 8};
  for (size_t i = 0; i < 3; i++) {
    char text[256];
    snprintf(text, sizeof text, BASE "resources: {cpus: %s}\n", ok[i]);
    core_app_config *cfg = expect_ok(text);
    assert_int_equal(cfg->cpus, want_ok[i]);
    core_app_config_free(cfg);
  }
  static const struct {
    const char *value, *want;
  } bad[] = {
      {"0", "app.yml:4:19: error: 'resources.cpus' must be between 1 and 255, found 0\n"},
      {"256", "app.yml:4:19: error: 'resources.cpus' must be between 1 and 255, found 256\n"},
      {"-1", "app.yml:4:19: error: 'resources.cpus' must be between 1 and 255, found -1\n"},
      {"99999999999999999999", "app.yml:4:19: error: 'resources.cpus' must be between 1 and 255, found "
                               "99999999999999999999\n"},
      {"1.5", "app.yml:4:19: error: 'resources.cpus' must be an integer from 1 to 255, found the number 1.5\n"},
      {"two", "app.yml:4:19: error: 'resources.cpus' must be an integer from 1 to 255, found a string\n"},
      {"0x10", "app.yml:4:19: error: 'resources.cpus' must be a decimal integer, found 0x10\n"},
      {"\"2\"", "app.yml:4:19: error: 'resources.cpus' must be an integer, found the string \"2\"\n"
                "    4 | resources: {cpus: \"2\"}\n"
                "      |                   ^~~\n"
                "      = hint: write it without quotes: cpus: 2\n"},
      {"'4'", "app.yml:4:19: error: 'resources.cpus' must be an integer, found the string \"4\"\n"},
      {"~", "app.yml:4:19: error: 'resources.cpus' must be an integer from 1 to 255, found null\n"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char text[256];
    snprintf(text, sizeof text, BASE "resources: {cpus: %s}\n", bad[i].value);
    expect_errors(text, bad[i].want, "app.yml: 1 error\n", NULL);
  }
}

static void test_modules(void **state) {
  (void)state;
  expect_exact("name: t\nmain: x\nkernel:\n  source: k\n  modules:\n    - virtio_net\n    - 9pnet\n    - virtio-net\n",
               "app.yml:8:7: error: module 'virtio-net' is listed twice\n"
               "    8 |     - virtio-net\n"
               "      |       ^~~~~~~~~~\n"
               "      = hint: '-' and '_' are the same in module names\n"
               "app.yml:6:7: note: 'virtio_net' first listed here\n"
               "    6 |     - virtio_net\n"
               "      |       ^~~~~~~~~~\n"
               "app.yml: 1 error\n");
  expect_errors("name: t\nmain: x\nkernel: {source: k, modules: [virtio_net.ko, \"a b\", \"\", [x], true]}\n",
                "app.yml:3:31: error: 'kernel.modules[0]' is not a valid module name: 'virtio_net.ko'\n",
                "      = hint: give the name without '.ko', as modprobe takes it\n",
                "app.yml:3:46: error: 'kernel.modules[1]' is not a valid module name: 'a b'\n",
                "app.yml:3:53: error: 'kernel.modules[2]' must not be empty\n",
                "app.yml:3:57: error: 'kernel.modules[3]' must be a string, found a sequence\n",
                "app.yml:3:62: error: 'kernel.modules[4]' must be a string, found the boolean 'true'\n",
                "app.yml: 5 errors\n", NULL);
}

static void test_rootfs_dest(void **state) {
  (void)state;
  static const struct {
    const char *dest, *stored;
  } ok[] = {{"/", ""}, {"/opt/app", "opt/app"}, {"/opt/app/", "opt/app"}, {"/a.b/..c/...", "a.b/..c/..."}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    char text[256];
    snprintf(text, sizeof text, BASE "rootfs:\n  - source: l.tar\n    dest: %s\n", ok[i].dest);
    core_app_config *cfg = expect_ok(text);
    assert_string_equal(cfg->layers[0].dest, ok[i].stored);
    core_app_config_free(cfg);
  }
  static const struct {
    const char *dest, *want;
  } bad[] = {
      {"\"\"", "app.yml:6:11: error: 'rootfs[0].dest' must not be empty\n"},
      {"opt/app", "app.yml:6:11: error: 'rootfs[0].dest' must be an absolute path (starting with '/'), found "
                  "'opt/app'\n"
                  "    6 |     dest: opt/app\n"
                  "      |           ^~~~~~~\n"
                  "      = hint: write '/opt/app'\n"},
      {"/opt/../etc", "app.yml:6:16: error: 'rootfs[0].dest' must not contain '..' components, found '/opt/../etc'\n"
                      "    6 |     dest: /opt/../etc\n"
                      "      |                ^~\n"},
      {"/opt/./app", "app.yml:6:16: error: 'rootfs[0].dest' must not contain '.' components, found '/opt/./app'\n"},
      {"/..", "app.yml:6:12: error: 'rootfs[0].dest' must not contain '..' components, found '/..'\n"},
      {"/opt//app", "app.yml:6:15: error: 'rootfs[0].dest' must not contain '//', found '/opt//app'\n"
                    "    6 |     dest: /opt//app\n"
                    "      |               ^~\n"},
      {"//", "app.yml:6:11: error: 'rootfs[0].dest' must not contain '//', found '//'\n"},
      {"null", "app.yml:6:11: error: 'rootfs[0].dest' must be a string, found null\n"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char text[256];
    snprintf(text, sizeof text, BASE "rootfs:\n  - source: l.tar\n    dest: %s\n", bad[i].dest);
    expect_errors(text, bad[i].want, "app.yml: 1 error\n", NULL);
  }
  expect_errors(BASE "rootfs:\n  - source: ''\n", "app.yml:5:13: error: 'rootfs[0].source' must not be empty\n", NULL);
  expect_errors(BASE "rootfs:\n  - source: a\n  - source: [b]\n",
                "app.yml:6:13: error: 'rootfs[1].source' must be a path, a URL or a source mapping, found a sequence\n", NULL);
}

/* Paths the linker writes itself are refused where files: names them, not dropped later. */
static void test_files_linker_paths(void **state) {
  (void)state;
  expect_errors(BASE "files:\n  - path: /init\n    contents: x\n",
                "app.yml:5:11: error: '/init' is written by the linker itself (coreinit, the guest's PID 1)",
                "run your program with 'main' or 'services'", NULL);
  expect_errors(BASE "files:\n  - path: /etc/app.conf\n    contents: x\n  - {path: /etc/core/init.conf, contents: x}\n",
                "app.yml:7:12: error: '/etc/core/init.conf' is written by the linker itself", NULL);
  expect_errors(BASE "files:\n  - path: /dev/console\n    symlink: /dev/ttyS0\n",
                "app.yml:5:11: error: '/dev/console' is written by the linker itself", NULL);
  expect_errors(BASE "files:\n  - path: /init/x\n    directory: true\n",
                "app.yml:5:11: error: '/init/x' is below '/init', which the linker writes itself", NULL);
  expect_errors(BASE "files:\n  - path: /etc\n    symlink: /usr/etc\n",
                "app.yml:5:11: error: '/etc' must stay a directory: the linker writes into it or mounts over it", NULL);
  expect_errors(BASE "files:\n  - path: /etc/core\n    contents: x\n", "app.yml:5:11: error: '/etc/core' must stay a directory",
                NULL);
  /* Next to them, and as directories, all is well. */
  core_app_config *cfg = expect_ok(BASE "files:\n  - {path: /etc/core/app.conf, contents: x}\n  - {path: /initrd, contents: x}\n"
                                        "  - {path: /etc, directory: true}\n  - {path: /dev/consoles, contents: x}\n");
  assert_int_equal(cfg->n_files, 4);
  core_app_config_free(cfg);
}

static void test_main_forms(void **state) {
  (void)state;
  expect_exact("name: t\nkernel: {source: k}\nmain: []\n",
               "app.yml:3:7: error: 'main' must not be empty; it is the program to run\n"
               "    3 | main: []\n"
               "      |       ^~\n"
               "      = hint: for example 'main: [\"/bin/app\", \"--flag\"]'\n"
               "app.yml: 1 error\n");
  expect_errors("name: t\nkernel: {source: k}\nmain: ''\n", "app.yml:3:7: error: 'main' must not be empty\n", NULL);
  expect_errors("name: t\nkernel: {source: k}\nmain: ['', x]\n",
                "app.yml:3:8: error: 'main[0]' must not be empty; it is the program to run\n", NULL);
  expect_errors("name: t\nkernel: {source: k}\nmain: [a, [b], ~]\n",
                "app.yml:3:11: error: 'main[1]' must be a string, found a sequence\n",
                "app.yml:3:16: error: 'main[2]' must be a string, found null\n", "app.yml: 2 errors\n", NULL);
  expect_errors("name: t\nkernel: {source: k}\nmain:\n", "app.yml:3:6: error: 'main' must be a command: a sequence of "
                                                         "strings, or a string for /bin/sh -c, found an empty value\n",
                NULL);
  /* an empty argument after the program is fine */
  core_app_config *cfg = expect_ok("name: t\nkernel: {source: k}\nmain: [/bin/sh, -c, '']\n");
  assert_string_equal(cfg->main_argv[2], "");
  core_app_config_free(cfg);
}

static void test_yaml_errors_come_through(void **state) {
  (void)state;
  /* A file that is not YAML may be anything (a secret): its position is given, no line. */
  expect_exact("name: t\nkernel:\n  source: k: v\nmain: x\n",
               "app.yml:3:12: error: mapping values are not allowed in this context\n"
               "app.yml: 1 error\n");
  expect_exact("name: t\nkernel:\n\tsource: k\nmain: x\n",
               "app.yml:3:1: error: tabs are not allowed for indentation; use spaces\n"
               "app.yml: 1 error\n");
  /* The loader stops at a file's parse errors (a duplicate key among them), before merging
   * and expanding: the check's own errors ('cpus') come once the file parses. */
  expect_exact("name: t\nkernel: {source: k}\nmain: x\nname: u\ncpus: 2\n",
               "app.yml:4:1: error: duplicate key 'name'\n"
               "    4 | name: u\n"
               "      | ^~~~\n"
               "app.yml:1:1: note: 'name' first given here\n"
               "    1 | name: t\n"
               "      | ^~~~\n"
               "app.yml: 1 error\n");
  expect_errors(BASE "---\nname: u\n", "app.yml:4:1: error: a second YAML document starts here", NULL);
}

static void test_missing_file(void **state) {
  (void)state;
  core_app_config *cfg = NULL;
  core_error *err = NULL;
  assert_int_equal(core_app_load("nope.yml", NULL, &cfg, &err), -1);
  assert_null(cfg);
  assert_contains(err->msg, "opening 'nope.yml': No such file or directory");
  core_error_free(err);
  core_app_config_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_full_config, setup, teardown),
      cmocka_unit_test_setup_teardown(test_defaults_and_main_string, setup, teardown),
      cmocka_unit_test_setup_teardown(test_paths_resolve_against_the_app_directory, setup, teardown),
      cmocka_unit_test_setup_teardown(test_aliases_in_config, setup, teardown),
      cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_required_keys, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unknown_keys_and_suggestions, setup, teardown),
      cmocka_unit_test_setup_teardown(test_type_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_multiple_errors_reported_together, setup, teardown),
      cmocka_unit_test_setup_teardown(test_too_many_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_name_rules, setup, teardown),
      cmocka_unit_test(test_parse_size),
      cmocka_unit_test_setup_teardown(test_memory, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cpus, setup, teardown),
      cmocka_unit_test_setup_teardown(test_modules, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rootfs_dest, setup, teardown),
      cmocka_unit_test_setup_teardown(test_files_linker_paths, setup, teardown),
      cmocka_unit_test_setup_teardown(test_main_forms, setup, teardown),
      cmocka_unit_test_setup_teardown(test_yaml_errors_come_through, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
  };
  return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
