/* Unit tests for the LinuxKit front end (compiler/linuxkit*.c, compiler/yaml_build.c): the
 * corpus in tests/fixtures/linuxkit, detection, and the positions lowered nodes keep. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h" /* internal to compiler/: the lowered tree is checked directly here */
#include "cleanup.h"
#include "fsutil.h"
#include "linuxkit.h"
#include "yaml_build.h"
#include "yaml_edit.h"

#define CORPUS "tests/fixtures/linuxkit"

/* A lowering run on text, named file in messages. */
typedef struct run {
  core_diag *d;
  core_yaml_doc *in, *out;
  int rc;
  int detected;
  char *diags; /* rendered, NULL when there were none */
} run;

static void run_free(run *r) {
  core_diag_free(r->d);
  core_yaml_doc_free(r->in);
  core_yaml_doc_free(r->out);
  free(r->diags);
}

static void lower_text(run *r, const char *file, const char *text) {
  *r = (run){.rc = -2};
  r->d = core_diag_new(file);
  assert_non_null(r->d);
  core_diag_set_source(r->d, file, text, strlen(text));
  assert_int_equal(core_yaml_parse(file, text, strlen(text), r->d, &r->in), 0);
  assert_int_equal(core_diag_error_count(r->d), 0);
  r->detected = core_linuxkit_detect(r->in->root);
  r->rc = core_linuxkit_lower(r->in, file, r->d, &r->out);
  if (r->rc == 0) assert_non_null(r->out);
  else assert_null(r->out);
  if (core_diag_error_count(r->d) + core_diag_warning_count(r->d) > 0) {
    r->diags = core_diag_render(r->d);
    assert_non_null(r->diags);
  }
}

static void assert_contains(const char *hay, const char *needle) {
  if (hay == NULL || strstr(hay, needle) == NULL) fail_msg("expected to find\n%s\nin\n%s", needle, hay ? hay : "(nothing)");
}

/* --- the corpus --- */

static char *read_text(const char *path) {
  cleanup_buf core_buf b = CORE_BUF_INIT;
  core_error *err = NULL;
  if (core_read_file(path, &b, &err) < 0) {
    core_error_free(err);
    return NULL;
  }
  if (core_buf_append(&b, "", 1, &err) < 0) {
    core_error_free(err);
    return NULL;
  }
  size_t len;
  return (char *)core_buf_take(&b, &len);
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* Compares got with the expectation file; CORE_BLESS=1 rewrites it instead (then read the
 * diff before committing it). NULL got means the file must not exist. */
static int expect(const char *path, const char *got) {
  if (getenv("CORE_BLESS")) {
    if (got) write_text(path, got);
    else remove(path);
    return 0;
  }
  cleanup_free char *want = read_text(path);
  if (got == NULL && want == NULL) return 0;
  if (got == NULL) {
    print_error("%s: expected this, got nothing:\n%s", path, want);
    return 1;
  }
  if (want == NULL) {
    print_error("%s: missing; got:\n%s", path, got);
    return 1;
  }
  if (strcmp(want, got) != 0) {
    print_error("%s: differs; expected:\n%s\ngot:\n%s", path, want, got);
    return 1;
  }
  return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }
static int is_yml(const struct dirent *e) {
  size_t n = strlen(e->d_name);
  return n > 4 && strcmp(e->d_name + n - 4, ".yml") == 0;
}

/* Every X.yml lowers to X.out (the tree with positions) and/or reports X.diag exactly; one
 * whose text says "# not detected" must not be taken for LinuxKit without being forced. */
static void test_corpus(void **state) {
  (void)state;
  struct dirent **names;
  int n = scandir(CORPUS, &names, is_yml, by_name);
  if (n < 0) fail_msg("cannot read %s: run the tests from the top of the repository", CORPUS);
  assert_true(n >= 20);
  int failures = 0;
  for (int i = 0; i < n; i++) {
    const char *file = names[i]->d_name;
    char path[512], out_path[512], diag_path[512];
    snprintf(path, sizeof path, "%s/%s", CORPUS, file);
    snprintf(out_path, sizeof out_path, "%s/%.*s.out", CORPUS, (int)strlen(file) - 4, file);
    snprintf(diag_path, sizeof diag_path, "%s/%.*s.diag", CORPUS, (int)strlen(file) - 4, file);
    cleanup_free char *text = read_text(path);
    assert_non_null(text);
    run r;
    lower_text(&r, file, text);
    int want_detect = strstr(text, "# not detected") == NULL;
    if (r.detected != want_detect) {
      print_error("%s: detected %d, expected %d\n", file, r.detected, want_detect);
      failures++;
    }
    cleanup_free char *printed = r.rc == 0 ? core_yb_print(r.out->root, true) : NULL;
    if (r.rc == 0) assert_non_null(printed);
    failures += expect(out_path, printed);
    failures += expect(diag_path, r.diags);
    if (r.rc == 0 && r.diags && strstr(r.diags, "error")) {
      print_error("%s: lowered although errors were reported\n", file);
      failures++;
    }
    run_free(&r);
    free(names[i]);
  }
  free(names);
  if (failures) fail_msg("%d corpus expectations failed", failures);
}

/* What the lowering writes is app.yml the checker accepts as it is, and what the checker
 * finds wrong in it is shown in the LinuxKit file. Needs the checker of the full schema. */
static void test_lowered_trees_pass_the_checker(void **state) {
  (void)state;
  struct dirent **names;
  int n = scandir(CORPUS, &names, is_yml, by_name);
  assert_true(n > 0);
  int failures = 0;
  for (int i = 0; i < n; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", CORPUS, names[i]->d_name);
    cleanup_free char *text = read_text(path);
    assert_non_null(text);
    run r;
    lower_text(&r, names[i]->d_name, text);
    if (r.rc == 0) {
      size_t before = core_diag_error_count(r.d);
      core_app_config_free(core_app_check_doc(r.out, names[i]->d_name, r.d));
      if (core_diag_error_count(r.d) != before) {
        cleanup_free char *msg = core_diag_render(r.d);
        print_error("%s: the checker rejects the lowered tree:\n%s", names[i]->d_name, msg);
        failures++;
      }
    }
    run_free(&r);
    free(names[i]);
  }
  free(names);
  assert_int_equal(failures, 0);

  static const char text[] =
      "kernel: {image: linuxkit/kernel:6.6.71}\n"
      "services:\n"
      "  - name: web_server\n" /* LinuxKit allows '_', app.yml does not */
      "    image: alpine:3.20\n"
      "    command: [httpd]\n";
  run r;
  lower_text(&r, "web.yml", text);
  assert_int_equal(r.rc, 0);
  core_app_config_free(core_app_check_doc(r.out, "web.yml", r.d));
  cleanup_free char *msg = core_diag_render(r.d);
  assert_contains(msg, "web.yml:3:14: error: ");
  assert_contains(msg, "    3 |   - name: web_server\n");
  run_free(&r);
}

/* --- detection --- */

static int detect(const char *text) {
  cleanup_diag core_diag *d = core_diag_new("t.yml");
  core_yaml_doc *doc = NULL;
  assert_int_equal(core_yaml_parse("t.yml", text, strlen(text), d, &doc), 0);
  int rc = core_linuxkit_detect(doc->root);
  core_yaml_doc_free(doc);
  return rc;
}

static void test_detect(void **state) {
  (void)state;
  assert_int_equal(detect("init: [linuxkit/init:v1]\n"), 1);
  assert_int_equal(detect("kernel: {image: linuxkit/kernel:6.6}\n"), 1);
  assert_int_equal(detect("kernel: {image: k}\nservices: []\ntrust: {org: [linuxkit]}\n"), 1);
  assert_int_equal(detect("kernel: linuxkit/kernel\ninit: [a]\n"), 1); /* bad, but LinuxKit's */
  /* app.yml */
  assert_int_equal(detect("name: hello\nkernel: {source: vmlinuz}\nmain: [/bin/true]\n"), 0);
  assert_int_equal(detect("kernel: {source: vmlinuz}\n"), 0);
  /* one app.yml key rules LinuxKit out, whatever else is there */
  assert_int_equal(detect("name: x\ninit: [a]\n"), 0);
  assert_int_equal(detect("main: [x]\nkernel: {image: k}\n"), 0);
  assert_int_equal(detect("rootfs: []\ninit: [a]\n"), 0);
  assert_int_equal(detect("kernel: {image: k, source: s}\n"), 0);
  assert_int_equal(detect("kernel: {image: k, source: s}\ninit: [a]\n"), 0);
  /* neither says LinuxKit: app.yml's checker explains what is missing */
  assert_int_equal(detect("services: [{name: a, image: b}]\n"), 0);
  assert_int_equal(detect("kernel: {cmdline: quiet}\n"), 0);
  assert_int_equal(detect("{}\n"), 0);
  assert_int_equal(detect("- init\n"), 0);
  assert_int_equal(detect("init\n"), 0);
  assert_int_equal(core_linuxkit_detect(NULL), 0);
}

/* --- positions --- */

static const char sshd[] =
    "kernel:\n"
    "  image: linuxkit/kernel:6.6.71\n"
    "services:\n"
    "  - name: sshd\n"
    "    image: linuxkit/sshd:v1\n"
    "    command: [\"/usr/sbin/sshd\", \"-D\"]\n"
    "    capabilities:\n"
    "      - all\n";

static void test_error_points_at_linuxkit_key(void **state) {
  (void)state;
  run r;
  lower_text(&r, "dir/sshd.yml", sshd);
  assert_int_equal(r.rc, -1);
  assert_contains(r.diags, "dir/sshd.yml:7:5: error: LinuxKit's 'capabilities' in 'services[0]' is not supported by core yet\n"
                           "    7 |     capabilities:\n"
                           "      |     ^~~~~~~~~~~~\n");
  assert_contains(r.diags, "dir/sshd.yml: 1 error\n");
  run_free(&r);
}

static const core_yaml_node *get(const core_yaml_node *n, const char *key) {
  const core_yaml_node *v = core_yaml_get(n, key);
  if (v == NULL) fail_msg("no '%s'", key);
  return v;
}

static void assert_at(const core_yaml_node *n, const char *file, int line, int col) {
  assert_string_equal(n->pos.file, file);
  assert_int_equal(n->pos.line, line);
  assert_int_equal(n->pos.col, col);
}

static void test_lowered_nodes_keep_positions(void **state) {
  (void)state;
  static const char text[] =
      "kernel:\n"
      "  image: linuxkit/kernel:6.6.71\n"
      "  cmdline: console=ttyS0\n"
      "init:\n"
      "  - linuxkit/init:v1\n"
      "services:\n"
      "  - name: getty\n"
      "    image: linuxkit/getty:v2\n"
      "    command: [/usr/bin/getty]\n"
      "    env: [\"INSECURE=true\"]\n"
      "files:\n"
      "  - path: etc/motd\n"
      "    contents: hi\n";
  run r;
  lower_text(&r, "getty.yml", text);
  assert_int_equal(r.rc, 0);
  assert_null(r.diags);
  const core_yaml_node *root = r.out->root;
  assert_string_equal(r.out->file, "getty.yml");
  assert_ptr_equal(root->pos.file, r.out->file); /* nodes point into the new document */
  assert_string_equal(get(root, "name")->value, "getty");
  const core_yaml_node *kernel = get(root, "kernel");
  assert_at(get(get(kernel, "source"), "oci"), "getty.yml", 2, 10);
  assert_at(get(kernel, "cmdline"), "getty.yml", 3, 12);
  const core_yaml_node *rootfs = get(root, "rootfs");
  assert_int_equal(rootfs->n_items, 2);
  assert_at(get(get(rootfs->items[0], "source"), "oci"), "getty.yml", 5, 5);
  assert_at(get(rootfs->items[1], "dest"), "getty.yml", 7, 11);
  assert_string_equal(get(rootfs->items[1], "dest")->value, "/containers/services/getty/rootfs");
  const core_yaml_node *svc = get(root, "services")->items[0];
  assert_at(get(svc, "run"), "getty.yml", 9, 14);
  assert_at(get(svc, "root"), "getty.yml", 7, 11);
  const core_yaml_node *env = get(svc, "env");
  assert_int_equal(env->n_pairs, 1);
  assert_at(env->pairs[0].key, "getty.yml", 10, 12); /* INSECURE, inside the quotes */
  assert_at(env->pairs[0].value, "getty.yml", 10, 21); /* true */
  assert_int_equal(env->pairs[0].value->style, CORE_YAML_DOUBLE_QUOTED);
  const core_yaml_node *file = get(root, "files")->items[0];
  assert_string_equal(get(file, "path")->value, "/etc/motd");
  assert_at(get(file, "path"), "getty.yml", 12, 11);
  run_free(&r);
}

/* --- yaml_build --- */

static void test_copy_prints_like_original(void **state) {
  (void)state;
  static const char text[] = "a: &x [1, 'two', \"th\\nree\"]\nb: *x\nc: {d: ~, e: []}\nf: |\n  block\n";
  cleanup_diag core_diag *d = core_diag_new("t.yml");
  core_yaml_doc *in = NULL;
  assert_int_equal(core_yaml_parse("t.yml", text, strlen(text), d, &in), 0);
  core_yaml_doc *out = core_yaml_doc_new("u.yml");
  assert_non_null(out);
  out->root = core_yb_copy(out, in->root);
  assert_non_null(out->root);
  char *a = core_yb_print(in->root, true), *b = core_yb_print(out->root, true);
  assert_string_equal(a, b);
  assert_string_equal(a,
                      "a:  # 1:1 1:4\n"
                      "  - 1  # 1:8\n"
                      "  - \"two\"  # 1:11\n"
                      "  - \"th\\nree\"  # 1:18\n"
                      "b:  # 2:1 2:4\n"
                      "  - 1  # 1:8\n"
                      "  - \"two\"  # 1:11\n"
                      "  - \"th\\nree\"  # 1:18\n"
                      "c:  # 3:1 3:4\n"
                      "  d: ~  # 3:5 3:8\n"
                      "  e: []  # 3:11 3:14\n"
                      "f: \"block\\n\"  # 4:1 4:4\n");
  assert_string_equal(out->root->pos.file, "u.yml");
  free(a);
  free(b);
  core_yaml_doc_free(in);
  core_yaml_doc_free(out);
}

static void test_builders_refuse_null(void **state) {
  (void)state;
  core_yaml_doc *doc = core_yaml_doc_new("t.yml");
  core_yaml_node *m = core_yb_mapping(doc, NULL);
  assert_int_equal(core_yb_put(doc, m, "k", NULL, 0, NULL), -1);
  assert_int_equal(core_yb_append(m, core_yb_scalar(doc, NULL, 0, CORE_YAML_PLAIN, "x")), -1); /* not a sequence */
  assert_int_equal(m->n_pairs, 0);
  assert_int_equal(m->pos.line, 0);
  core_yaml_doc_free(doc);
}

int main(void) {
  /* files.source "~/..." expands to the builder's home; the corpus expects this one. */
  setenv("HOME", "/home/builder", 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_corpus),
      cmocka_unit_test(test_lowered_trees_pass_the_checker),
      cmocka_unit_test(test_detect),
      cmocka_unit_test(test_error_points_at_linuxkit_key),
      cmocka_unit_test(test_lowered_nodes_keep_positions),
      cmocka_unit_test(test_copy_prints_like_original),
      cmocka_unit_test(test_builders_refuse_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
