/* Unit tests for includes (compiler/include, yaml_edit, templates): the merge rules item by
 * item, order, positions in included files, cycles, depth, missing files and stdlib:NAME. */
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

#include "diag.h"
#include "input_file.h"
#include "json.h"
#include "include.h"
#include "templates.h"
#include "tmpdir.h"

static void write_file(const char *path, const char *text) {
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
}

static void assert_contains(const char *hay, const char *needle) {
  if (hay == NULL || strstr(hay, needle) == NULL) fail_msg("expected to find\n%s\nin\n%s", needle, hay ? hay : "(null)");
}

typedef struct result {
  core_diag *diag;
  core_yaml_doc *doc;
  char *text; /* rendered diagnostics, NULL when none */
} result;

static result load(const char *path, const char *stdlib_dir) {
  result r = {.diag = core_diag_new(path)};
  assert_non_null(r.diag);
  if (core_include_load(path, NULL, 0, stdlib_dir, r.diag, &r.doc) < 0) r.doc = NULL;
  if (core_diag_error_count(r.diag)) r.text = core_diag_render(r.diag);
  return r;
}

static void result_free(result *r) {
  core_diag_free(r->diag);
  core_yaml_doc_free(r->doc);
  free(r->text);
}

/* The node at a path of keys and indexes: "services.1.name". */
static const core_yaml_node *at(const result *r, const char *path) {
  const core_yaml_node *n = r->doc->root;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *save = NULL, *part = strtok_r(buf, ".", &save); part; part = strtok_r(NULL, ".", &save)) {
    if (n == NULL) break;
    if (n->kind == CORE_YAML_SEQUENCE) {
      size_t i = strtoul(part, NULL, 10);
      n = i < n->n_items ? n->items[i] : NULL;
    } else {
      n = core_yaml_get(n, part);
    }
  }
  if (n == NULL) fail_msg("no node at %s", path);
  return n;
}

static void assert_value(const result *r, const char *path, const char *want) {
  const core_yaml_node *n = at(r, path);
  assert_int_equal(n->kind, CORE_YAML_SCALAR);
  assert_string_equal(n->value, want);
}

static size_t count(const result *r, const char *path) {
  const core_yaml_node *n = at(r, path);
  return n->kind == CORE_YAML_SEQUENCE ? n->n_items : n->n_pairs;
}

static void test_merge_rules(void **state) {
  (void)state;
  assert_int_equal(mkdir("lib", 0755), 0);
  write_file("lib/base.yml",
             "name: base\n"
             "kernel: {source: k.deb, cmdline: quiet, modules: [m1]}\n"
             "rootfs: [{source: l1}]\n"
             "files: [{path: /x, contents: x1}, {path: /y, contents: y1}]\n"
             "onboot: [{name: s1, run: a}, {name: s2, run: b}]\n"
             "onshutdown: [{name: d1, run: a}]\n"
             "services: [{name: a, run: a1}, {name: b, run: b1}]\n"
             "mounts: [{path: /m, type: tmpfs}]\n"
             "users: [{name: u, uid: 1}]\n"
             "groups: [{name: g, gid: 1}]\n"
             "network: {ports: [\"1:1\"], mode: user}\n"
             "main: [base, main]\n"
             "env: {A: a, B: b}\n");
  write_file("app.yml",
             "include: [lib/base.yml]\n"
             "name: app\n"
             "kernel: {cmdline: verbose, modules: [m2]}\n"
             "rootfs: [{source: l2}]\n"
             "files: [{path: /y, contents: y2}, {path: /z, contents: z2}]\n"
             "onboot: [{name: s1, run: replaced}, {name: s3, run: c}]\n"
             "onshutdown: [{name: d2, run: b}]\n"
             "services: [{name: b, run: b2}, {name: c, run: c2}]\n"
             "mounts: [{path: /m, type: volume}, {path: /n, type: tmpfs}]\n"
             "users: [{name: u, uid: 2}, {name: v, uid: 3}]\n"
             "groups: [{name: h, gid: 2}]\n"
             "network: {ports: [\"2:2\"]}\n"
             "main: [app]\n"
             "env: {B: bb}\n");
  result r = load("app.yml", "/nonexistent");
  assert_null(r.text);
  assert_null(core_yaml_get(r.doc->root, "include"));
  assert_value(&r, "name", "app");
  assert_value(&r, "kernel.source", "k.deb");   /* kept from the include */
  assert_value(&r, "kernel.cmdline", "verbose"); /* scalar replaced */
  assert_int_equal(count(&r, "kernel.modules"), 2);
  assert_value(&r, "kernel.modules.0", "m1");
  assert_value(&r, "kernel.modules.1", "m2");
  assert_int_equal(count(&r, "rootfs"), 2);
  assert_value(&r, "rootfs.1.source", "l2");
  /* files by path: /y replaced where it stood, /z appended */
  assert_int_equal(count(&r, "files"), 3);
  assert_value(&r, "files.0.contents", "x1");
  assert_value(&r, "files.1.contents", "y2");
  assert_value(&r, "files.2.path", "/z");
  /* steps by name keep their place */
  assert_int_equal(count(&r, "onboot"), 3);
  assert_value(&r, "onboot.0.run", "replaced");
  assert_value(&r, "onboot.1.name", "s2");
  assert_value(&r, "onboot.2.name", "s3");
  assert_int_equal(count(&r, "onshutdown"), 2);
  assert_int_equal(count(&r, "services"), 3);
  assert_value(&r, "services.0.run", "a1");
  assert_value(&r, "services.1.run", "b2");
  assert_value(&r, "services.2.name", "c");
  assert_int_equal(count(&r, "mounts"), 2);
  assert_value(&r, "mounts.0.type", "volume");
  assert_int_equal(count(&r, "users"), 2);
  assert_value(&r, "users.0.uid", "2");
  assert_int_equal(count(&r, "groups"), 2);
  assert_int_equal(count(&r, "network.ports"), 2);
  assert_value(&r, "network.ports.0", "1:1");
  assert_value(&r, "network.mode", "user");
  /* other sequences are replaced */
  assert_int_equal(count(&r, "main"), 1);
  assert_value(&r, "main.0", "app");
  /* mappings merge key by key */
  assert_value(&r, "env.A", "a");
  assert_value(&r, "env.B", "bb");
  /* positions keep their own file */
  const core_yaml_node *kept = at(&r, "services.0");
  assert_string_equal(kept->pos.file, "lib/base.yml");
  assert_int_equal(kept->pos.line, 7);
  assert_int_equal(kept->pos.col, 12);
  const core_yaml_node *replaced = at(&r, "services.1");
  assert_string_equal(replaced->pos.file, "app.yml");
  assert_int_equal(replaced->pos.line, 8);
  /* the merged top level is the app's own */
  assert_string_equal(r.doc->root->pos.file, "app.yml");
  result_free(&r);
}

static void test_same_identity_twice_in_one_file_is_kept(void **state) {
  (void)state;
  write_file("base.yml", "services: [{name: a, run: x}]\n");
  write_file("app.yml", "include: [base.yml]\nservices: [{name: a, run: y}, {name: a, run: z}]\n");
  result r = load("app.yml", NULL);
  assert_int_equal(count(&r, "services"), 2); /* the second is the checker's to report */
  assert_value(&r, "services.0.run", "y");
  assert_value(&r, "services.1.run", "z");
  result_free(&r);
}

static void test_order_and_once(void **state) {
  (void)state;
  write_file("common.yml", "name: common\nrootfs: [{source: common}]\n");
  write_file("a.yml", "include: [common.yml]\nname: a\nrootfs: [{source: a}]\n");
  write_file("b.yml", "include: [./common.yml]\nname: b\nrootfs: [{source: b}]\n");
  write_file("app.yml", "include: [a.yml, b.yml]\nmain: x\n");
  result r = load("app.yml", NULL);
  assert_null(r.text);
  assert_value(&r, "name", "b"); /* later includes win over earlier ones */
  /* common.yml is merged once, where it is first included */
  assert_int_equal(count(&r, "rootfs"), 3);
  assert_value(&r, "rootfs.0.source", "common");
  assert_value(&r, "rootfs.1.source", "a");
  assert_value(&r, "rootfs.2.source", "b");
  result_free(&r);
}

static void test_cycle(void **state) {
  (void)state;
  write_file("app.yml", "name: x\ninclude: [b.yml]\n");
  write_file("b.yml", "# b\ninclude:\n  - c.yml\n");
  write_file("c.yml", "include: [b.yml]\n");
  result r = load("app.yml", NULL);
  assert_contains(r.text, "c.yml:1:11: error: include cycle: b.yml -> c.yml -> b.yml\n"
                          "    1 | include: [b.yml]\n"
                          "      |           ^~~~~\n");
  assert_contains(r.text, "app.yml: 1 error\n");
  result_free(&r);
  write_file("self.yml", "include: [self.yml]\n");
  r = load("self.yml", NULL);
  assert_contains(r.text, "self.yml:1:11: error: include cycle: self.yml -> self.yml\n");
  result_free(&r);
}

static void test_missing_and_malformed(void **state) {
  (void)state;
  write_file("app.yml", "name: x\ninclude:\n  - nothere.yml\n  - {a: 1}\n  - stdlib:Bad_Name\n  - notmap.yml\n");
  write_file("notmap.yml", "- a\n");
  result r = load("app.yml", "/nonexistent");
  assert_contains(r.text, "app.yml:3:5: error: cannot read include 'nothere.yml': No such file or directory\n");
  assert_contains(r.text, "hint: an include path is relative to the directory of the file that names it (.)");
  assert_contains(r.text, "app.yml:4:5: error: an include must be a path or stdlib:NAME, found a mapping\n");
  assert_contains(r.text, "app.yml:5:5: error: invalid template name 'Bad_Name'\n");
  assert_contains(r.text, "notmap.yml:1:1: error: an included file must be a mapping of app.yml keys, found a sequence\n");
  result_free(&r);
  write_file("app.yml", "include: base.yml\n");
  r = load("app.yml", NULL);
  assert_contains(r.text, "app.yml:1:10: error: 'include' must be a sequence of paths and stdlib:NAME references, "
                          "found a string\n");
  result_free(&r);
  /* the app itself missing: no tree at all */
  core_diag *d = core_diag_new("none.yml");
  core_yaml_doc *doc = NULL;
  assert_int_equal(core_include_load("none.yml", NULL, 0, NULL, d, &doc), -1);
  assert_int_equal(core_diag_error_count(d), 1);
  core_diag_free(d);
}

static void test_errors_in_included_file_point_there(void **state) {
  (void)state;
  assert_int_equal(mkdir("sub", 0755), 0);
  write_file("sub/bad.yml", "name: x\nname: y\n");
  write_file("app.yml", "include: [sub/bad.yml]\n");
  result r = load("app.yml", NULL);
  assert_contains(r.text, "sub/bad.yml:2:1: error: duplicate key 'name'\n    2 | name: y\n");
  result_free(&r);
}

/* Writes a file of size bytes that holds no data (sparse): cheap to make at any size. */
static void sparse_file(const char *path, off_t size) {
  write_file(path, "");
  assert_int_equal(truncate(path, size), 0);
}

/* Include entries that are not regular files, or too large, are refused at the entry before
 * anything is read: a device is not read until memory runs out, a FIFO is not waited on. The
 * alarm turns a hang into a failure. */
static void test_hostile_include_entries(void **state) {
  (void)state;
  alarm(30);
  assert_int_equal(mkdir("adir", 0755), 0);
  assert_int_equal(mkfifo("fifo.yml", 0644), 0);
  sparse_file("big.yml", (off_t)CORE_INPUT_MAX_BYTES + 1);
  write_file("real.yml", "hostname: linked\n");
  assert_int_equal(symlink("real.yml", "link.yml"), 0);
  write_file("app.yml", "name: x\ninclude:\n  - /dev/zero\n  - fifo.yml\n  - adir\n  - big.yml\n  - link.yml\n");
  result r = load("app.yml", NULL);
  assert_contains(r.text, "app.yml:3:5: error: cannot read include '/dev/zero': '/dev/zero' is a character device, "
                          "not a regular file\n");
  assert_contains(r.text, "app.yml:4:5: error: cannot read include 'fifo.yml': 'fifo.yml' is a FIFO, not a regular file\n");
  assert_contains(r.text, "app.yml:5:5: error: cannot read include 'adir': 'adir' is a directory, not a regular file\n");
  assert_contains(r.text, "hint: name a YAML file (a symbolic link to one is fine)");
  char want[160];
  snprintf(want, sizeof want, "app.yml:6:5: error: cannot read include 'big.yml': 'big.yml' is %u bytes, over the limit of %u bytes\n",
           CORE_INPUT_MAX_BYTES + 1, CORE_INPUT_MAX_BYTES);
  assert_contains(r.text, want);
  assert_contains(r.text, "app.yml: 4 errors\n"); /* the symbolic link to a regular file is read */
  assert_value(&r, "hostname", "linked");
  result_free(&r);
  alarm(0);
}

/* Files within the cap each, but over the total together: refused at the entry that passes
 * it, and never more read than the total allows. */
static void test_include_total_cap(void **state) {
  (void)state;
  size_t each = CORE_INPUT_MAX_BYTES - 1, n = CORE_INCLUDE_MAX_TOTAL_BYTES / each + 1;
  char list[512] = "include:\n";
  for (size_t i = 0; i < n; i++) {
    char name[32];
    snprintf(name, sizeof name, "part%zu.yml", i);
    sparse_file(name, (off_t)each); /* NUL bytes: read in full, then refused as not YAML */
    snprintf(list + strlen(list), sizeof list - strlen(list), "  - %s\n", name);
  }
  write_file("app.yml", list);
  result r = load("app.yml", NULL);
  char want[160];
  snprintf(want, sizeof want, "cannot read include 'part%zu.yml': the app and its includes are over %u bytes together",
           n - 1, CORE_INCLUDE_MAX_TOTAL_BYTES);
  assert_contains(r.text, want);
  result_free(&r);
}

/* `include: [/etc/shadow]` must not print the file into a CI log: a file that is not YAML, or
 * not a mapping, is reported by position without its lines; one that is an app-like mapping
 * is quoted as usual. */
static void test_unparsed_includes_are_not_quoted(void **state) {
  (void)state;
  /* a NUL byte on the secret's own line: a parse error at line 1 */
  FILE *fp = fopen("binary.yml", "w");
  fputs("root:$y$j9T$NULSECRET:19000:0:99999:7:::", fp);
  fputc(0, fp);
  fputs("\n", fp);
  fclose(fp);
  write_file("bad.yml", "token: [FLOWSECRET\n");
  write_file("tabbed.yml", "a:\n\tTABSECRET: 1\n");
  /* /etc/shadow as it is: each line ends in ':', so each is a key: a mapping, but no app */
  write_file("shadow", "root:$y$j9T$SHADOWSECRET:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n");
  /* a PEM key: lines without ': ' are one long plain scalar, valid YAML, not a mapping */
  write_file("key.pem", "-----BEGIN PRIVATE KEY-----\nPEMSECRETMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n");
  /* messages that would name a key or an anchor of such a file name neither */
  write_file("dups", "root:DUPSECRET:::\nroot:DUPSECRET:::\n");
  write_file("alias", "*ALIASSECRET\n");
  write_file("app.yml", "name: x\ninclude: [binary.yml, bad.yml, tabbed.yml, shadow, key.pem, dups, alias]\n");
  result r = load("app.yml", NULL);
  assert_contains(r.text, "binary.yml:1:41: error: control characters are not allowed (byte 0x00)\n      = hint");
  assert_contains(r.text, "bad.yml:2:1: error: did not find expected ',' or ']'\nbad.yml:1:8: note: ");
  assert_contains(r.text, "tabbed.yml:2:1: error: tabs are not allowed for indentation; use spaces\napp.yml:");
  assert_contains(r.text, "app.yml:2:44: error: 'shadow' is not an app.yml file: none of its 2 top-level keys is an "
                          "app.yml key\n");
  assert_contains(r.text, "key.pem:1:1: error: an included file must be a mapping of app.yml keys, found a string\n"
                          "tabbed.yml:");
  assert_contains(r.text, "dups:2:1: error: duplicate key\ndups:1:1: note: first given here\n");
  assert_contains(r.text, "alias:1:1: error: an alias names an unknown anchor\n");
  const char *secrets[] = {"NULSECRET", "FLOWSECRET", "TABSECRET", "SHADOWSECRET", "root:",
                           "daemon",    "PEMSECRET",  "BEGIN",     "DUPSECRET",    "ALIASSECRET"};
  for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++)
    if (strstr(r.text, secrets[i])) fail_msg("'%s' was quoted in\n%s", secrets[i], r.text);
  /* The same holds for the diagnostics as JSON (corec check --json). */
  json_t *j = NULL;
  core_error *err = NULL;
  assert_int_equal(core_diag_to_json(r.diag, &j, &err), 0);
  char *text = json_dumps(j, 0);
  for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++)
    if (strstr(text, secrets[i])) fail_msg("'%s' was quoted in\n%s", secrets[i], text);
  free(text);
  json_decref(j);
  result_free(&r);
}

static void test_depth_limit(void **state) {
  (void)state;
  /* app.yml -> f1 -> ... -> f16 is allowed; one more is not */
  char name[32], text[64];
  for (int i = 1; i <= 17; i++) {
    snprintf(name, sizeof name, "f%d.yml", i);
    snprintf(text, sizeof text, i < 17 ? "include: [f%d.yml]\nv%d: 1\n" : "v%d: 1\n", i + 1, i);
    if (i == 17) snprintf(text, sizeof text, "v17: 1\nhostname: h\n"); /* an app.yml key: see app_like */
    write_file(name, text);
  }
  write_file("app.yml", "include: [f2.yml]\n");
  result r = load("app.yml", NULL);
  assert_null(r.text);
  assert_value(&r, "v16", "1");
  result_free(&r);
  write_file("app.yml", "include: [f1.yml]\n");
  r = load("app.yml", NULL);
  assert_contains(r.text, "f16.yml:1:11: error: includes are nested more than 16 deep\n");
  result_free(&r);
}

static void test_stdlib(void **state) {
  (void)state;
  assert_int_equal(mkdir("lib", 0755), 0);
  write_file("lib/base.yml", "# A test template.\nname: from-stdlib\n");
  write_file("app.yml", "include: [stdlib:base]\n");
  result r = load("app.yml", "lib");
  assert_null(r.text);
  assert_value(&r, "name", "from-stdlib");
  assert_string_equal(at(&r, "name")->pos.file, "lib/base.yml");
  result_free(&r);
  /* from the environment when no directory is given */
  setenv(CORE_STDLIB_ENV, "lib", 1);
  assert_string_equal(core_stdlib_dir(NULL), "lib");
  r = load("app.yml", NULL);
  assert_null(r.text);
  result_free(&r);
  write_file("app.yml", "include: [stdlib:nothere]\n");
  r = load("app.yml", NULL);
  assert_contains(r.text, "app.yml:1:11: error: unknown template 'stdlib:nothere'\n");
  assert_contains(r.text, "hint: run 'corec templates' to list the templates in lib (set CORE_STDLIB_DIR");
  result_free(&r);
  unsetenv(CORE_STDLIB_ENV);
  assert_string_equal(core_stdlib_dir(NULL), core_stdlib_builtin_dir());
  assert_string_equal(core_stdlib_dir("x"), "x");
}

static void test_stdlib_list(void **state) {
  (void)state;
  assert_int_equal(mkdir("lib", 0755), 0);
  write_file("lib/zeta.yml", "# Last one.\n");
  write_file("lib/alpha.yml", "# First one.\n# more\n");
  write_file("lib/nodesc.yml", "name: x\n");
  write_file("lib/Bad.yml", "# not reachable\n");
  write_file("lib/notes.txt", "# not a template\n");
  core_stdlib_entry *v = NULL;
  size_t n = 0;
  core_error *err = NULL;
  assert_int_equal(core_stdlib_list("lib", &v, &n, &err), 0);
  assert_int_equal(n, 3);
  assert_string_equal(v[0].name, "alpha");
  assert_string_equal(v[0].description, "First one.");
  assert_string_equal(v[1].name, "nodesc");
  assert_string_equal(v[1].description, "");
  assert_string_equal(v[2].name, "zeta");
  core_stdlib_list_free(v, n);
  assert_int_equal(core_stdlib_list("nothere", &v, &n, &err), -1);
  assert_non_null(strstr(err->msg, "cannot read the template library 'nothere'; set CORE_STDLIB_DIR"));
  core_error_free(err);
}

/* The library shipped in the tree: every template is listed with a description, parses and
 * merges without errors. */
static void test_shipped_templates(void **state) {
  (void)state;
  core_stdlib_entry *v = NULL;
  size_t n = 0;
  core_error *err = NULL;
  assert_int_equal(core_stdlib_list(core_stdlib_builtin_dir(), &v, &n, &err), 0);
  const char *want[] = {"busybox", "console-shell", "httpd", "kernel-cloud", "sshd"};
  assert_true(n >= 5);
  for (size_t k = 0; k < 5; k++) {
    size_t i = 0;
    while (i < n && strcmp(v[i].name, want[k]) != 0) i++;
    if (i == n) fail_msg("template %s is missing", want[k]);
    assert_true(strlen(v[i].description) > 10);
    char text[128];
    snprintf(text, sizeof text, "include: [stdlib:%s]\n", want[k]);
    write_file("app.yml", text);
    result r = load("app.yml", core_stdlib_builtin_dir());
    if (r.text) fail_msg("%s: %s", want[k], r.text);
    result_free(&r);
  }
  core_stdlib_list_free(v, n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_merge_rules, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_same_identity_twice_in_one_file_is_kept, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_order_and_once, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_cycle, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_missing_and_malformed, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_errors_in_included_file_point_there, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_depth_limit, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_hostile_include_entries, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_include_total_cap, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_unparsed_includes_are_not_quoted, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_stdlib, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_stdlib_list, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_shipped_templates, enter_tmpdir, leave_tmpdir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
