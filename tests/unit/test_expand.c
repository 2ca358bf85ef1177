/* Unit tests for variables (compiler/expand): the string rules, where values come from, the
 * `variables:` declarations, and the position and text of every diagnostic. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "expand.h"
#include "include.h"
#include "yaml_edit.h"

static void assert_contains(const char *hay, const char *needle) {
  if (hay == NULL || strstr(hay, needle) == NULL) fail_msg("expected to find\n%s\nin\n%s", needle, hay ? hay : "(null)");
}

/* --- strings --- */

static const char *lookup(void *ctx, const char *name, size_t len) {
  (void)ctx;
  if (len == 4 && memcmp(name, "PORT", 4) == 0) return "8080";
  if (len == 5 && memcmp(name, "EMPTY", 5) == 0) return "";
  if (len == 4 && memcmp(name, "NEST", 4) == 0) return "${PORT}";
  return NULL;
}

static char *expand(const char *in, core_expand_problem *p) {
  core_expand_hooks h = {.lookup = lookup};
  char *out = NULL;
  size_t n = 0;
  int rc = core_expand_string(in, strlen(in), &h, &out, &n, p);
  assert_true(rc >= 0);
  if (rc == 1) assert_int_equal(n, strlen(out));
  return rc == 1 ? out : NULL;
}

static void expect(const char *in, const char *want) {
  core_expand_problem p;
  char *out = expand(in, &p);
  if (out == NULL) fail_msg("'%s' did not expand (problem %d at %zu)", in, p.kind, p.offset);
  assert_string_equal(out, want);
  free(out);
}

static void expect_problem(const char *in, core_expand_problem_kind kind, size_t offset, size_t ref_len, const char *name) {
  core_expand_problem p;
  char *out = expand(in, &p);
  if (out) fail_msg("'%s' expanded to '%s'", in, out);
  assert_int_equal(p.kind, kind);
  assert_int_equal(p.offset, offset);
  assert_int_equal(p.ref_len, ref_len);
  assert_string_equal(p.name, name);
}

static void test_string_rules(void **state) {
  (void)state;
  expect("plain", "plain");
  expect("${PORT}", "8080");
  expect("port=${PORT}/x", "port=8080/x");
  expect("${MISSING:-80}", "80");
  expect("${MISSING:-}", "");
  expect("${PORT:-80}", "8080");
  expect("${EMPTY:-fallback}", "fallback"); /* empty counts as missing for :- */
  expect("[${EMPTY}]", "[]");
  expect("$${PORT}", "${PORT}");
  expect("$$", "$");
  expect("a$$$$b", "a$$b");
  expect("$HOME and $1 and $", "$HOME and $1 and $");
  expect("${NEST}", "${PORT}"); /* values are never expanded again */
  expect("${MISSING:-a b:c-d}", "a b:c-d");
  expect("${A_1:-x}${_b:-y}", "xy");
}

static void test_string_problems(void **state) {
  (void)state;
  expect_problem("x ${MISSING} y", CORE_EXPAND_UNDEFINED, 2, 10, "MISSING");
  expect_problem("${PORT", CORE_EXPAND_UNTERMINATED, 0, 6, "PORT");
  expect_problem("ab${}", CORE_EXPAND_BAD_NAME, 2, 3, "");
  expect_problem("${a-b}", CORE_EXPAND_BAD_NAME, 0, 6, "a-b");
  expect_problem("${1X}", CORE_EXPAND_BAD_NAME, 0, 5, "1X");
  expect_problem("${X:=d}", CORE_EXPAND_BAD_OPERATOR, 0, 7, "X");
  expect_problem("${X:}", CORE_EXPAND_BAD_OPERATOR, 0, 5, "X");
  /* index counts the references before, $$ excluded */
  core_expand_problem p;
  assert_null(expand("$$ ${PORT} ${NO}", &p));
  assert_int_equal(p.index, 1);
  assert_int_equal(p.offset, 11);
}

static int n_seen;
static void count_problem(void *ctx, const core_expand_problem *p) {
  (void)ctx, (void)p;
  n_seen++;
}

static void test_string_every_problem(void **state) {
  (void)state;
  core_expand_hooks h = {.lookup = lookup, .on_problem = count_problem};
  char *out = NULL;
  size_t n;
  n_seen = 0;
  const char *in = "${A} ${B} ${} ${PORT} ${C";
  assert_int_equal(core_expand_string(in, strlen(in), &h, &out, &n, NULL), 0);
  assert_null(out);
  assert_int_equal(n_seen, 4);
}

static void test_string_embedded_nul(void **state) {
  (void)state;
  core_expand_hooks h = {.lookup = lookup};
  char *out = NULL;
  size_t n = 0;
  assert_int_equal(core_expand_string("a\0${PORT}", 9, &h, &out, &n, NULL), 1);
  assert_int_equal(n, 6);
  assert_memory_equal(out, "a\0" "8080", 6);
  free(out);
}

/* --- documents --- */

typedef struct result {
  core_diag *diag;
  core_yaml_doc *doc;
  char *text; /* rendered diagnostics, NULL when none */
} result;

static result run(const char *yaml, const char *const *vars, size_t n_vars, const char *const *env, size_t n_env) {
  result r = {.diag = core_diag_new("app.yml")};
  assert_non_null(r.diag);
  assert_int_equal(core_include_load("app.yml", yaml, strlen(yaml), "/nonexistent", r.diag, &r.doc), 0);
  core_expand_opts o = {vars, n_vars, env, n_env};
  assert_int_equal(core_expand_doc(r.doc, &o, r.diag), 0);
  if (core_diag_error_count(r.diag) + core_diag_warning_count(r.diag)) r.text = core_diag_render(r.diag);
  return r;
}

static void result_free(result *r) {
  core_diag_free(r->diag);
  core_yaml_doc_free(r->doc);
  free(r->text);
}

static const char *value_of(const result *r, const char *key) {
  const core_yaml_node *n = core_yaml_get(r->doc->root, key);
  assert_non_null(n);
  return n->value;
}

static void test_doc_sources_of_values(void **state) {
  (void)state;
  setenv("CORE_TEST_HOST", "from-env", 1);
  setenv("CORE_TEST_DECL", "env-decl", 1);
  setenv("CORE_TEST_SECRET", "leak", 1);
  const char *yaml =
      "variables:\n"
      "  PLAIN: plain-default\n"
      "  DECL: {env: false, default: d}\n"
      "  CORE_TEST_DECL: {env: true, default: unused}\n"
      "  NODEF: {env: true, default: nodef-default}\n"
      "  OVER: over-default\n"
      "a: ${PLAIN}\n"
      "b: ${DECL}\n"
      "c: ${CORE_TEST_DECL}\n"
      "d: ${CORE_TEST_HOST}\n"
      "e: ${CORE_TEST_SECRET:-safe}\n"
      "f: ${NODEF}\n"
      "g: ${OVER}\n"
      "h: ${GIVEN}\n"
      "${KEY}: keys are not expanded\n";
  const char *vars[] = {"OVER=first", "GIVEN=g", "OVER=second"};
  const char *env[] = {"CORE_TEST_HOST"};
  result r = run(yaml, vars, 3, env, 1);
  assert_null(r.text);
  assert_string_equal(value_of(&r, "a"), "plain-default");
  assert_string_equal(value_of(&r, "b"), "d");
  assert_string_equal(value_of(&r, "c"), "env-decl");
  assert_string_equal(value_of(&r, "d"), "from-env");   /* allowed by --env-var */
  assert_string_equal(value_of(&r, "e"), "safe");       /* set in the environment, but not allowed */
  assert_string_equal(value_of(&r, "f"), "nodef-default");
  assert_string_equal(value_of(&r, "g"), "second");     /* the last --var wins */
  assert_string_equal(value_of(&r, "h"), "g");
  assert_non_null(core_yaml_get(r.doc->root, "${KEY}"));
  assert_null(core_yaml_get(r.doc->root, "variables")); /* removed before the check */
  result_free(&r);
}

static void test_doc_types_after_expansion(void **state) {
  (void)state;
  const char *vars[] = {"P=8080"};
  result r = run("plain: ${P}\nquoted: \"${P}\"\nname: t\n", vars, 1, NULL, 0);
  const core_yaml_node *plain = core_yaml_get(r.doc->root, "plain"), *quoted = core_yaml_get(r.doc->root, "quoted");
  assert_int_equal(core_yaml_scalar_type(plain), CORE_YAML_INT);
  assert_int_equal(core_yaml_scalar_type(quoted), CORE_YAML_STR);
  result_free(&r);
}

static void test_doc_undefined_position(void **state) {
  (void)state;
  result r = run("name: hello\nkernel:\n  source: \"v-${VERSION}\"\n", NULL, 0, NULL, 0);
  assert_contains(r.text, "app.yml:3:14: error: undefined variable 'VERSION'\n"
                          "    3 |   source: \"v-${VERSION}\"\n"
                          "      |              ^~~~~~~~~~\n"
                          "      = hint: pass --var VERSION=VALUE, declare it with a default under 'variables:' "
                          "(VERSION: VALUE), or write ${VERSION:-DEFAULT}\n");
  assert_contains(r.text, "app.yml: 1 error\n");
  result_free(&r);
}

static void test_doc_positions_in_other_styles(void **state) {
  (void)state;
  const char *yaml =
      "a: $$ ${ONE}\n"                 /* after a $$ */
      "b: '${OK:-x} and ${TWO}'\n"     /* single-quoted, second reference */
      "c: |\n"
      "  line one\n"
      "  and ${THREE}\n"               /* block scalar: the line below the indicator */
      "d: [x, \"é ${FOUR}\"]\n"        /* columns count characters */
      "e: plain text that\n"
      "  folds ${FIVE}\n"
      "name: t\n"; /* an app.yml key: a file without one is not quoted */
  result r = run(yaml, NULL, 0, NULL, 0);
  assert_contains(r.text, "app.yml:1:7: error: undefined variable 'ONE'");
  assert_contains(r.text, "app.yml:2:18: error: undefined variable 'TWO'");
  assert_contains(r.text, "app.yml:5:7: error: undefined variable 'THREE'");
  assert_contains(r.text, "app.yml:6:11: error: undefined variable 'FOUR'");
  assert_contains(r.text, "app.yml:8:9: error: undefined variable 'FIVE'");
  assert_contains(r.text, "app.yml: 5 errors\n");
  result_free(&r);
}

static void test_doc_syntax_errors(void **state) {
  (void)state;
  result r = run("a: x ${bad-name}\nb: \"${OPEN\"\nc: ${}\nd: ${X:=1}\nname: t\n", NULL, 0, NULL, 0);
  assert_contains(r.text, "app.yml:1:6: error: invalid variable name 'bad-name'\n"
                          "    1 | a: x ${bad-name}\n"
                          "      |      ^~~~~~~~~~~\n");
  assert_contains(r.text, "app.yml:2:5: error: '${' is not closed by '}'\n");
  assert_contains(r.text, "hint: close it with '}', or write '$$' for a literal '$'");
  assert_contains(r.text, "app.yml:3:4: error: empty variable name\n");
  assert_contains(r.text, "app.yml:4:4: error: '${X' must be followed by '}' or ':-DEFAULT'\n");
  result_free(&r);
}

static void test_doc_required_and_env_hints(void **state) {
  (void)state;
  unsetenv("CORE_TEST_UNSET");
  result r = run("variables:\n  REQ:\n  CORE_TEST_UNSET: {env: true}\na: ${REQ}\nb: ${CORE_TEST_UNSET}\n", NULL, 0, NULL, 0);
  assert_contains(r.text, "app.yml:4:4: error: undefined variable 'REQ'");
  assert_contains(r.text, "hint: 'REQ' is declared in 'variables:' without a default: pass --var REQ=VALUE");
  assert_contains(r.text, "app.yml:5:4: error: undefined variable 'CORE_TEST_UNSET'");
  assert_contains(r.text, "hint: 'CORE_TEST_UNSET' is read from the environment, which does not set it");
  result_free(&r);
}

static void test_doc_bad_declarations(void **state) {
  (void)state;
  result r = run("variables:\n  bad-name: x\n  L: [1]\n  M: {env: maybe, default: [x], extra: 1}\n", NULL, 0, NULL, 0);
  assert_contains(r.text, "app.yml:2:3: error: invalid variable name 'bad-name'");
  assert_contains(r.text, "app.yml:3:6: error: variable 'L' must be a default value or a mapping, found a sequence");
  assert_contains(r.text, "app.yml:4:12: error: 'env' of variable 'M' must be true or false, found a string");
  assert_contains(r.text, "app.yml:4:28: error: 'default' of variable 'M' must be a string, found a sequence");
  assert_contains(r.text, "app.yml:4:33: error: unknown key 'extra' in variable 'M'");
  result_free(&r);
  r = run("variables: [A]\n", NULL, 0, NULL, 0);
  assert_contains(r.text, "app.yml:1:12: error: 'variables' must be a mapping of names to defaults, found a sequence");
  result_free(&r);
}

static void test_doc_unused_var_warns(void **state) {
  (void)state;
  const char *vars[] = {"USED=1", "UNUSED=2", "DECLARED=3", "UNUSED=4"};
  result r = run("variables: {DECLARED: x}\na: ${USED}\n", vars, 4, NULL, 0);
  assert_int_equal(core_diag_error_count(r.diag), 0);
  assert_int_equal(core_diag_warning_count(r.diag), 1);
  assert_contains(r.text, "warning: --var 'UNUSED' is not used: no ${UNUSED} in the app or its includes");
  result_free(&r);
  const char *bad[] = {"NOEQUALS"};
  r = run("a: 1\n", bad, 1, NULL, 0);
  assert_contains(r.text, "error: invalid --var 'NOEQUALS'");
  result_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_string_rules),
      cmocka_unit_test(test_string_problems),
      cmocka_unit_test(test_string_every_problem),
      cmocka_unit_test(test_string_embedded_nul),
      cmocka_unit_test(test_doc_sources_of_values),
      cmocka_unit_test(test_doc_types_after_expansion),
      cmocka_unit_test(test_doc_undefined_position),
      cmocka_unit_test(test_doc_positions_in_other_styles),
      cmocka_unit_test(test_doc_syntax_errors),
      cmocka_unit_test(test_doc_required_and_env_hints),
      cmocka_unit_test(test_doc_bad_declarations),
      cmocka_unit_test(test_doc_unused_var_warns),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
