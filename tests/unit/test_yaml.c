/* Unit tests for the YAML front end (compiler/yaml_ast) and the diagnostics it reports
 * through (compiler/diag). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "yaml_ast.h"

/* --- helpers --- */

typedef struct parsed {
  int rc;
  core_yaml_doc *doc;
  char *out; /* rendered diagnostics, "" when there were none */
  size_t errors;
} parsed;

static parsed parse(const char *text) {
  parsed p = {0};
  core_diag *d = core_diag_new("t.yml");
  assert_non_null(d);
  core_diag_set_source(d, "t.yml", text, strlen(text));
  p.rc = core_yaml_parse("t.yml", text, strlen(text), d, &p.doc);
  p.errors = core_diag_error_count(d);
  p.out = core_diag_render(d);
  assert_non_null(p.out);
  core_diag_free(d);
  return p;
}

static void parsed_free(parsed *p) {
  core_yaml_doc_free(p->doc);
  free(p->out);
}

static void assert_contains(const char *hay, const char *needle) {
  if (strstr(hay, needle) == NULL) fail_msg("expected to find\n%s\nin\n%s", needle, hay);
}

/* Writes text to a file in a fresh temporary directory; returns the file's path. */
static char *write_temp(const char *name, const char *text) {
  char tmpl[] = "/tmp/core-test-yaml-XXXXXX";
  char *dir = mkdtemp(tmpl);
  assert_non_null(dir);
  char *path = NULL;
  assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

static void remove_temp(char *path) {
  unlink(path);
  char *slash = strrchr(path, '/');
  *slash = 0;
  rmdir(path);
  free(path);
}

/* --- the tree --- */

static void test_tree_positions_and_styles(void **state) {
  (void)state;
  parsed p = parse("name: hello\n"
                   "kernel:\n"
                   "  source: 'a b'\n"
                   "  modules: [x, \"y\"]\n"
                   "main: |\n"
                   "  echo hi\n");
  assert_int_equal(p.rc, 0);
  assert_string_equal(p.out, "");
  core_yaml_node *root = p.doc->root;
  assert_int_equal(root->kind, CORE_YAML_MAPPING);
  assert_int_equal(root->n_pairs, 3);
  /* keys in the order written, each with its position and length */
  assert_string_equal(root->pairs[0].key->value, "name");
  assert_string_equal(root->pairs[1].key->value, "kernel");
  assert_string_equal(root->pairs[2].key->value, "main");
  assert_int_equal(root->pairs[1].key->pos.line, 2);
  assert_int_equal(root->pairs[1].key->pos.col, 1);
  assert_int_equal(root->pairs[1].key->len, 6);
  assert_string_equal(root->pairs[1].key->pos.file, "t.yml");

  core_yaml_node *name = core_yaml_get(root, "name");
  assert_int_equal(name->pos.line, 1);
  assert_int_equal(name->pos.col, 7);
  assert_int_equal(name->len, 5);
  assert_int_equal(name->style, CORE_YAML_PLAIN);

  core_yaml_node *kernel = core_yaml_get(root, "kernel");
  assert_int_equal(kernel->kind, CORE_YAML_MAPPING);
  assert_int_equal(kernel->pos.line, 3); /* a block mapping starts at its first key */
  assert_int_equal(kernel->pos.col, 3);
  core_yaml_node *source = core_yaml_get(kernel, "source");
  assert_string_equal(source->value, "a b");
  assert_int_equal(source->style, CORE_YAML_SINGLE_QUOTED);
  assert_int_equal(source->pos.col, 11);
  assert_int_equal(source->len, 5); /* with its quotes */

  core_yaml_node *mods = core_yaml_get(kernel, "modules");
  assert_int_equal(mods->kind, CORE_YAML_SEQUENCE);
  assert_int_equal(mods->n_items, 2);
  assert_int_equal(mods->len, 8); /* a flow sequence's extent is known */
  assert_int_equal(mods->items[1]->style, CORE_YAML_DOUBLE_QUOTED);
  assert_int_equal(mods->items[1]->pos.line, 4);
  assert_int_equal(mods->items[1]->pos.col, 16);

  core_yaml_node *main_ = core_yaml_get(root, "main");
  assert_int_equal(main_->style, CORE_YAML_LITERAL);
  assert_string_equal(main_->value, "echo hi\n");
  assert_null(core_yaml_get(root, "nope"));
  parsed_free(&p);
}

static void test_scalar_types(void **state) {
  (void)state;
  parsed p = parse("[yes, No, on, 'true', ~, null, '', 12, -3, 0x1F, 1.5, .inf, 1e3, abc, !!str yes, \"12\", 1.2.3]");
  assert_int_equal(p.rc, 0);
  core_yaml_node *s = p.doc->root;
  static const core_yaml_type want[] = {
      CORE_YAML_BOOL,  CORE_YAML_BOOL, CORE_YAML_BOOL, CORE_YAML_STR,   CORE_YAML_NULL,  CORE_YAML_NULL,
      CORE_YAML_STR,   CORE_YAML_INT,  CORE_YAML_INT,  CORE_YAML_INT,   CORE_YAML_FLOAT, CORE_YAML_FLOAT,
      CORE_YAML_FLOAT, CORE_YAML_STR,  CORE_YAML_STR,  CORE_YAML_STR,   CORE_YAML_STR,
  };
  assert_int_equal(s->n_items, sizeof want / sizeof want[0]);
  for (size_t i = 0; i < s->n_items; i++) {
    if (core_yaml_scalar_type(s->items[i]) != want[i])
      fail_msg("item %zu '%s': type %d, want %d", i, s->items[i]->value, core_yaml_scalar_type(s->items[i]), want[i]);
  }
  char buf[96];
  assert_string_equal(core_yaml_describe(s->items[0], buf, sizeof buf), "the boolean 'yes'");
  assert_string_equal(core_yaml_describe(s->items[4], buf, sizeof buf), "null");
  assert_string_equal(core_yaml_describe(s->items[7], buf, sizeof buf), "the integer 12");
  assert_string_equal(core_yaml_describe(s->items[10], buf, sizeof buf), "the number 1.5");
  assert_string_equal(core_yaml_describe(s->items[13], buf, sizeof buf), "a string");
  assert_string_equal(core_yaml_describe(s, buf, sizeof buf), "a sequence");
  parsed_free(&p);

  p = parse("a:\n");
  assert_string_equal(core_yaml_describe(core_yaml_get(p.doc->root, "a"), buf, sizeof buf), "an empty value");
  parsed_free(&p);
}

static void test_empty_and_comment_only(void **state) {
  (void)state;
  const char *texts[] = {"", "\n\n", "# just a comment\n"};
  for (size_t i = 0; i < 3; i++) {
    parsed p = parse(texts[i]);
    assert_int_equal(p.rc, 0);
    assert_null(p.doc->root);
    assert_string_equal(p.out, "");
    parsed_free(&p);
  }
}

/* --- libyaml's errors, through the adapter --- */

static void test_libyaml_error_golden(void **state) {
  (void)state;
  parsed p = parse("name: hello\nkernel: a: b\n");
  assert_int_equal(p.rc, -1);
  assert_null(p.doc);
  assert_string_equal(p.out, "t.yml:2:10: error: mapping values are not allowed in this context\n"
                             "    2 | kernel: a: b\n"
                             "      |          ^\n"
                             "t.yml: 1 error\n");
  parsed_free(&p);
}

static void test_crlf_line_ends(void **state) {
  (void)state;
  parsed p = parse("a: 1\r\nb: c: d\r\n");
  assert_int_equal(p.rc, -1);
  assert_string_equal(p.out, "t.yml:2:5: error: mapping values are not allowed in this context\n"
                             "    2 | b: c: d\n"
                             "      |     ^\n"
                             "t.yml: 1 error\n");
  parsed_free(&p);
}

static void test_libyaml_error_with_context_note(void **state) {
  (void)state;
  parsed p = parse("a:\n  b: 1\n c: 2\n");
  assert_int_equal(p.rc, -1);
  assert_string_equal(p.out, "t.yml:3:2: error: did not find expected key\n"
                             "    3 |  c: 2\n"
                             "      |  ^\n"
                             "t.yml:1:1: note: while parsing a block mapping\n"
                             "    1 | a:\n"
                             "      | ^\n"
                             "t.yml: 1 error\n");
  parsed_free(&p);
}

static void test_invalid_utf8(void **state) {
  (void)state;
  parsed p = parse("a: b\nc: \"d\xff\"\n");
  assert_int_equal(p.rc, -1);
  assert_contains(p.out, "t.yml:2:6: error: invalid leading UTF-8 octet (byte 0xff)\n");
  assert_contains(p.out, "      = hint: the file must be UTF-8 text\n");
  parsed_free(&p);
}

static void test_tabs(void **state) {
  (void)state;
  parsed p = parse("kernel:\n\tsource: x\n");
  assert_int_equal(p.rc, -1);
  assert_string_equal(p.out, "t.yml:2:1: error: tabs are not allowed for indentation; use spaces\n"
                             "    2 | \tsource: x\n"
                             "      | ^\n"
                             "t.yml: 1 error\n");
  parsed_free(&p);

  /* after spaces, and in a sequence: the caret is on the tab, which the padding keeps */
  p = parse("a:\n  b: 1\n  \tc: 2\n");
  assert_int_equal(p.rc, -1);
  assert_string_equal(p.out, "t.yml:3:3: error: tabs are not allowed for indentation; use spaces\n"
                             "    3 |   \tc: 2\n"
                             "      |   ^\n"
                             "t.yml: 1 error\n");
  parsed_free(&p);

  p = parse("a:\n  - 1\n\t- 2\n");
  assert_int_equal(p.rc, -1);
  assert_contains(p.out, "t.yml:3:1: error: tabs are not allowed for indentation; use spaces\n");
  parsed_free(&p);

  /* a tab that separates a value is fine YAML */
  p = parse("a:\tb\n");
  assert_int_equal(p.rc, 0);
  assert_string_equal(core_yaml_get(p.doc->root, "a")->value, "b");
  parsed_free(&p);
}

static void test_multiple_documents(void **state) {
  (void)state;
  parsed p = parse("name: a\n---\nname: b\n");
  assert_int_equal(p.rc, -1);
  assert_string_equal(p.out, "t.yml:2:1: error: a second YAML document starts here; the file must hold exactly one\n"
                             "    2 | ---\n"
                             "      | ^~~\n"
                             "      = hint: keep one document: remove this '---' and what follows, or merge it into "
                             "the first\n"
                             "t.yml: 1 error\n");
  parsed_free(&p);

  /* one explicit document is fine */
  p = parse("---\nname: a\n...\n");
  assert_int_equal(p.rc, 0);
  assert_string_equal(core_yaml_get(p.doc->root, "name")->value, "a");
  parsed_free(&p);
}

/* --- duplicate keys --- */

static void test_duplicate_key(void **state) {
  (void)state;
  parsed p = parse("name: a\nkernel:\n  source: x\nname: b\n");
  assert_int_equal(p.rc, 0); /* still a usable tree */
  assert_int_equal(p.errors, 1);
  assert_string_equal(p.out, "t.yml:4:1: error: duplicate key 'name'\n"
                             "    4 | name: b\n"
                             "      | ^~~~\n"
                             "t.yml:1:1: note: 'name' first given here\n"
                             "    1 | name: a\n"
                             "      | ^~~~\n"
                             "t.yml: 1 error\n");
  assert_int_equal(p.doc->root->n_pairs, 2);
  assert_string_equal(core_yaml_get(p.doc->root, "name")->value, "a"); /* the first is kept */
  parsed_free(&p);
}

static void test_duplicate_keys_nested_and_many(void **state) {
  (void)state;
  parsed p = parse("k: {a: 1, b: 2, a: 3, a: 4, \"b\": 5}\n");
  assert_int_equal(p.rc, 0);
  assert_int_equal(p.errors, 3);
  assert_contains(p.out, "t.yml:1:17: error: duplicate key 'a'\n");
  assert_contains(p.out, "t.yml:1:23: error: duplicate key 'a'\n");
  assert_contains(p.out, "t.yml:1:29: error: duplicate key 'b'\n");
  assert_contains(p.out, "t.yml:1:5: note: 'a' first given here\n");
  assert_contains(p.out, "t.yml:1:11: note: 'b' first given here\n");
  core_yaml_node *k = core_yaml_get(p.doc->root, "k");
  assert_int_equal(k->n_pairs, 2);
  assert_string_equal(k->pairs[0].value->value, "1");
  assert_string_equal(k->pairs[1].value->value, "2");
  parsed_free(&p);
}

static void test_non_scalar_key(void **state) {
  (void)state;
  parsed p = parse("? [a]\n: 1\nb: 2\n");
  assert_int_equal(p.rc, 0);
  assert_contains(p.out, "t.yml:1:3: error: mapping keys must be strings, not sequences\n");
  assert_int_equal(p.doc->root->n_pairs, 1);
  assert_string_equal(p.doc->root->pairs[0].key->value, "b");
  parsed_free(&p);
}

/* --- anchors and aliases --- */

static void test_alias_shares_the_anchored_node(void **state) {
  (void)state;
  parsed p = parse("base: &b {source: k, n: [1, 2]}\n"
                   "name: &nm hello\n"
                   "copy: *b\n"
                   "list: [*nm, *nm]\n");
  assert_int_equal(p.rc, 0);
  assert_string_equal(p.out, "");
  core_yaml_node *base = core_yaml_get(p.doc->root, "base");
  core_yaml_node *copy = core_yaml_get(p.doc->root, "copy");
  assert_true(copy->alias);
  assert_false(base->alias);
  assert_int_equal(copy->kind, CORE_YAML_MAPPING);
  assert_ptr_equal(copy->pairs, base->pairs); /* shared, not copied */
  assert_string_equal(core_yaml_get(copy, "source")->value, "k");
  /* the alias has its own position: where it is used */
  assert_int_equal(copy->pos.line, 3);
  assert_int_equal(copy->pos.col, 7);
  assert_int_equal(copy->len, 2);
  core_yaml_node *list = core_yaml_get(p.doc->root, "list");
  assert_string_equal(list->items[1]->value, "hello");
  assert_int_equal(list->items[1]->pos.col, 13);
  /* weights count what aliases expand to: base 1 + 2 keys + source + seq + 2 items */
  assert_int_equal(base->weight, 7);
  assert_int_equal(copy->weight, 7);
  parsed_free(&p);
}

static void test_alias_errors(void **state) {
  (void)state;
  parsed p = parse("a: *nope\n");
  assert_int_equal(p.rc, -1);
  assert_string_equal(p.out, "t.yml:1:4: error: unknown anchor 'nope'\n"
                             "    1 | a: *nope\n"
                             "      |    ^~~~~\n"
                             "      = hint: define it first with '&' on an earlier node\n"
                             "t.yml: 1 error\n");
  parsed_free(&p);

  p = parse("a: &x [1, *x]\n");
  assert_int_equal(p.rc, -1);
  assert_contains(p.out, "t.yml:1:11: error: alias '*x' refers to a node that contains it\n");
  assert_contains(p.out, "t.yml:1:4: note: anchor '&x' is defined here\n");
  parsed_free(&p);

  /* an anchor defined again applies to the aliases after it */
  p = parse("a: &x 1\nb: *x\nc: &x 2\nd: *x\n");
  assert_int_equal(p.rc, 0);
  assert_string_equal(core_yaml_get(p.doc->root, "b")->value, "1");
  assert_string_equal(core_yaml_get(p.doc->root, "d")->value, "2");
  parsed_free(&p);
}

static void test_alias_expansion_bound(void **state) {
  (void)state;
  /* "billion laughs": each level holds nine aliases of the one before */
  char text[4096] = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; i++) {
    size_t n = strlen(text);
    snprintf(text + n, sizeof text - n, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i,
             i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
  }
  parsed p = parse(text);
  assert_int_equal(p.rc, -1);
  assert_null(p.doc);
  /* level 5 is 9^5 = 59049 nodes on top of the 7380 before it; the first alias of level 6
   * holds more than the rest of the budget */
  assert_contains(p.out, "t.yml:6:10: error: alias '*a4' makes the document larger than 100000 nodes\n");
  parsed_free(&p);

  /* just under the bound is fine: 9^4 expanded nodes */
  char small[1024] = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 4; i++) {
    size_t n = strlen(small);
    snprintf(small + n, sizeof small - n, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i,
             i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
  }
  p = parse(small);
  assert_int_equal(p.rc, 0);
  assert_true(p.doc->root->weight > 9 * 9 * 9 * 9);
  assert_true(p.doc->root->weight < CORE_YAML_MAX_NODES);
  parsed_free(&p);
}

static void test_depth_limit(void **state) {
  (void)state;
  size_t n = CORE_YAML_MAX_DEPTH + 10;
  char *text = malloc(2 * n + 8);
  memcpy(text, "a: ", 3);
  memset(text + 3, '[', n);
  memset(text + 3 + n, ']', n);
  strcpy(text + 3 + 2 * n, "\n");
  parsed p = parse(text);
  assert_int_equal(p.rc, -1);
  assert_contains(p.out, "t.yml:1:259: error: collections are nested more than 256 deep\n");
  /* a long line is shown as a window around the caret */
  assert_contains(p.out, "    1 | ...[[[[");
  parsed_free(&p);
  free(text);
}

static void test_tags(void **state) {
  (void)state;
  parsed p = parse("a: !!str 12\nb: ! yes\nc: !!int 5\n");
  assert_int_equal(p.rc, 0);
  assert_int_equal(core_yaml_scalar_type(core_yaml_get(p.doc->root, "a")), CORE_YAML_STR);
  assert_int_equal(core_yaml_scalar_type(core_yaml_get(p.doc->root, "b")), CORE_YAML_STR);
  assert_int_equal(p.errors, 1);
  assert_string_equal(p.out, "t.yml:3:4: error: YAML tag '!!int' is not supported here\n"
                             "    3 | c: !!int 5\n"
                             "      |    ^~~~~~~\n"
                             "      = hint: remove the tag; a value's type comes from the key it is given to\n"
                             "t.yml: 1 error\n");
  parsed_free(&p);
}

static void test_load_file(void **state) {
  (void)state;
  char *path = write_temp("app.yml", "a: 1\nb: [2, 3]\n");
  core_yaml_doc *doc = NULL;
  core_error *err = NULL;
  assert_int_equal(core_yaml_load_file(path, &doc, &err), 0);
  assert_null(err);
  assert_string_equal(doc->file, path);
  assert_int_equal(core_yaml_get(doc->root, "b")->n_items, 2);
  core_yaml_doc_free(doc);
  remove_temp(path);

  path = write_temp("app.yml", "a: 1\na: 2\n");
  doc = NULL;
  assert_int_equal(core_yaml_load_file(path, &doc, &err), -1);
  assert_null(doc);
  assert_non_null(err);
  char *want = NULL;
  assert_true(asprintf(&want,
                       "%s:2:1: error: duplicate key 'a'\n"
                       "    2 | a: 2\n"
                       "      | ^\n"
                       "%s:1:1: note: 'a' first given here\n"
                       "    1 | a: 1\n"
                       "      | ^\n"
                       "%s: 1 error\n",
                       path, path, path) > 0);
  assert_string_equal(err->msg, want);
  free(want);
  core_error_free(err);
  err = NULL;
  remove_temp(path);

  assert_int_equal(core_yaml_load_file("/nonexistent/app.yml", &doc, &err), -1);
  assert_string_equal(err->msg, "opening '/nonexistent/app.yml': No such file or directory");
  core_error_free(err);
}

/* --- diagnostics on their own --- */

static void test_diag_render_format(void **state) {
  (void)state;
  const char *src = "name: hello\n"
                    "services:\n"
                    "  servics:\n"
                    "\tx: é12\n";
  core_diag *d = core_diag_new("examples/hello/app.yml");
  core_diag_set_source(d, "examples/hello/app.yml", src, strlen(src));
  core_pos p3 = {"examples/hello/app.yml", 3, 3};
  core_pos p4 = {"examples/hello/app.yml", 4, 6};
  core_pos p1 = {"examples/hello/app.yml", 1, 1};
  core_diag_add(d, CORE_DIAG_WARNING, &p4, 2, NULL, "after a tab and a two-byte character");
  core_diag_error(d, &p3, 7, "did you mean 'services'?", "unknown key '%s'", "servics");
  core_diag_error(d, &p1, 0, NULL, "first by position");
  core_diag_note(d, &p3, 100, "a note keeps to its error; its squiggle stops at the line's end");
  core_diag_error(d, NULL, 0, NULL, "no position at all");
  core_pos whole = {"examples/hello/app.yml", 0, 0};
  core_diag_error(d, &whole, 0, NULL, "about the whole file");
  assert_int_equal(core_diag_error_count(d), 4);
  assert_int_equal(core_diag_warning_count(d), 1);
  char *out = core_diag_render(d);
  assert_string_equal(out, "error: no position at all\n"
                           "examples/hello/app.yml: error: about the whole file\n"
                           "examples/hello/app.yml:1:1: error: first by position\n"
                           "    1 | name: hello\n"
                           "      | ^\n"
                           "examples/hello/app.yml:3:3: note: a note keeps to its error; its squiggle stops at the "
                           "line's end\n"
                           "    3 |   servics:\n"
                           "      |   ^~~~~~~~\n"
                           "examples/hello/app.yml:3:3: error: unknown key 'servics'\n"
                           "    3 |   servics:\n"
                           "      |   ^~~~~~~\n"
                           "      = hint: did you mean 'services'?\n"
                           "examples/hello/app.yml:4:6: warning: after a tab and a two-byte character\n"
                           "    4 | \tx: é12\n"
                           "      | \t    ^~\n"
                           "examples/hello/app.yml: 4 errors, 1 warning\n");
  free(out);
  core_error *err = NULL;
  assert_int_equal(core_diag_to_error(d, &err), -1);
  assert_contains(err->msg, "examples/hello/app.yml: 4 errors, 1 warning\n");
  core_error_free(err);
  core_diag_free(d);
}

static void test_diag_cap(void **state) {
  (void)state;
  core_diag *d = core_diag_new("a.yml");
  for (int i = 1; i <= 60; i++) {
    core_pos p = {"a.yml", i, 1};
    core_diag_error(d, &p, 0, NULL, "error %d", i);
    core_diag_note(d, &p, 0, "note %d", i);
  }
  assert_int_equal(core_diag_error_count(d), 60);
  char *out = core_diag_render(d);
  assert_contains(out, "a.yml:50:1: error: error 50\n");
  assert_contains(out, "a.yml:50:1: note: note 50\n");
  assert_null(strstr(out, "error 51"));
  assert_null(strstr(out, "note 51"));
  assert_contains(out, "a.yml: note: too many errors; 10 more not shown\na.yml: 60 errors\n");
  free(out);
  core_diag_free(d);

  /* no errors: nothing to report */
  d = core_diag_new("a.yml");
  core_error *err = NULL;
  assert_int_equal(core_diag_to_error(d, &err), 0);
  assert_null(err);
  out = core_diag_render(d);
  assert_string_equal(out, "");
  free(out);
  core_diag_free(d);
}

static void test_diag_excerpt(void **state) {
  (void)state;
  char buf[12];
  assert_string_equal(core_diag_excerpt("short", buf, sizeof buf), "short");
  assert_string_equal(core_diag_excerpt("a\nb\tc", buf, sizeof buf), "a?b?c");
  assert_string_equal(core_diag_excerpt("0123456789abcdef", buf, sizeof buf), "01234567...");
  /* never cut inside a character: "é" is two bytes */
  assert_string_equal(core_diag_excerpt("0123456\xc3\xa9xyz", buf, sizeof buf), "0123456...");
}

static void test_error_at_reads_the_file(void **state) {
  (void)state;
  char *path = write_temp("app.yml", "name: x\nkernel:\n  source: ./missing/vmlinuz\n");
  char *kept = strdup(path);
  core_pos pos = {kept, 3, 11};
  core_error *err = NULL;
  assert_int_equal(core_error_at(&err, &pos, "check the path; it is relative to app.yml",
                                 "kernel source '%s' does not exist", "./missing/vmlinuz"),
                   -1);
  char *want = NULL;
  assert_true(asprintf(&want,
                       "%s:3:11: error: kernel source './missing/vmlinuz' does not exist\n"
                       "    3 |   source: ./missing/vmlinuz\n"
                       "      |           ^\n"
                       "      = hint: check the path; it is relative to app.yml\n",
                       path) > 0);
  assert_string_equal(err->msg, want);
  free(want);
  core_error_free(err);
  err = NULL;
  remove_temp(path);

  /* the file is gone: the message stays, without the source line */
  assert_int_equal(core_error_at(&err, &pos, NULL, "gone"), -1);
  assert_null(strchr(err->msg, '|'));
  assert_true(strstr(err->msg, ":3:11: error: gone\n") != NULL);
  core_error_free(err);
  err = NULL;

  assert_int_equal(core_error_at(&err, NULL, NULL, "nowhere %d", 1), -1);
  assert_string_equal(err->msg, "error: nowhere 1\n");
  core_error_free(err);
  free(kept);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tree_positions_and_styles),
      cmocka_unit_test(test_scalar_types),
      cmocka_unit_test(test_empty_and_comment_only),
      cmocka_unit_test(test_libyaml_error_golden),
      cmocka_unit_test(test_crlf_line_ends),
      cmocka_unit_test(test_libyaml_error_with_context_note),
      cmocka_unit_test(test_invalid_utf8),
      cmocka_unit_test(test_tabs),
      cmocka_unit_test(test_multiple_documents),
      cmocka_unit_test(test_duplicate_key),
      cmocka_unit_test(test_duplicate_keys_nested_and_many),
      cmocka_unit_test(test_non_scalar_key),
      cmocka_unit_test(test_alias_shares_the_anchored_node),
      cmocka_unit_test(test_alias_errors),
      cmocka_unit_test(test_alias_expansion_bound),
      cmocka_unit_test(test_depth_limit),
      cmocka_unit_test(test_tags),
      cmocka_unit_test(test_load_file),
      cmocka_unit_test(test_diag_render_format),
      cmocka_unit_test(test_diag_cap),
      cmocka_unit_test(test_diag_excerpt),
      cmocka_unit_test(test_error_at_reads_the_file),
  };
  return cmocka_run_group_tests_name("yaml", tests, NULL, NULL);
}
