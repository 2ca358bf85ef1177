/* Unit tests for corec diff's config comparison (cmd/corec_json_diff.c): dotted paths, keys on
 * one side only, arrays as single values, output in key order whatever the input order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include <string.h>

/* corec's own code is not in the library the tests link; this test compiles it in. */
#include "../../cmd/corec_json_diff.c"

/* The differences of two JSON texts, as compact JSON text. */
static char *diff(const char *a, const char *b) {
  json_t *ja = json_loads(a, 0, NULL), *jb = json_loads(b, 0, NULL), *out = json_array();
  assert_non_null(ja);
  assert_non_null(jb);
  core_error *err = NULL;
  assert_int_equal(corec_json_diff(ja, jb, "", out, &err), 0);
  assert_null(err);
  char *s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(ja);
  json_decref(jb);
  json_decref(out);
  return s;
}

static void check(const char *a, const char *b, const char *want) {
  char *got = diff(a, b);
  assert_string_equal(got, want);
  free(got);
}

static void test_equal(void **state) {
  (void)state;
  check("{\"a\":1,\"b\":{\"c\":[1,2]}}", "{\"b\":{\"c\":[1,2]},\"a\":1}", "[]");
}

static void test_nested_paths(void **state) {
  (void)state;
  check("{\"kernel\":{\"cmdline\":\"quiet\",\"modules\":[\"a\"]},\"name\":\"x\"}",
        "{\"kernel\":{\"cmdline\":\"quiet loglevel=3\",\"modules\":[\"a\"]},\"name\":\"x\"}",
        "[{\"a\":\"quiet\",\"b\":\"quiet loglevel=3\",\"path\":\"kernel.cmdline\"}]");
}

static void test_one_side_only(void **state) {
  (void)state;
  check("{\"z\":1,\"resources\":{\"cpus\":1}}", "{\"resources\":{\"cpus\":1,\"memory_mib\":256},\"a\":true}",
        "[{\"b\":true,\"path\":\"a\"},{\"b\":256,\"path\":\"resources.memory_mib\"},{\"a\":1,\"path\":\"z\"}]");
}

static void test_arrays_and_types(void **state) {
  (void)state;
  /* Order in an array matters (module load order), and an object against a scalar is one value. */
  check("{\"m\":[\"a\",\"b\"],\"n\":{\"x\":1}}", "{\"m\":[\"b\",\"a\"],\"n\":null}",
        "[{\"a\":[\"a\",\"b\"],\"b\":[\"b\",\"a\"],\"path\":\"m\"},{\"a\":{\"x\":1},\"b\":null,\"path\":\"n\"}]");
}

static void test_prefix(void **state) {
  (void)state;
  json_t *a = json_integer(1), *b = json_integer(2), *out = json_array();
  core_error *err = NULL;
  assert_int_equal(corec_json_diff(a, b, "resources.cpus", out, &err), 0);
  assert_string_equal(json_string_value(json_object_get(json_array_get(out, 0), "path")), "resources.cpus");
  json_decref(a);
  json_decref(b);
  json_decref(out);
}

/* Maps as sets: a key on one side only is added or removed, equal values are not listed. */
static void test_maps(void **state) {
  (void)state;
  json_t *a = json_loads("{\"busybox\":\"1.35\",\"libc6\":\"2.36\",\"zlib\":\"1.2\"}", 0, NULL);
  json_t *b = json_loads("{\"zlib\":\"1.2\",\"libc6\":\"2.37\",\"curl\":\"8.0\"}", 0, NULL);
  json_t *out = json_object();
  core_error *err = NULL;
  assert_int_equal(corec_json_diff_maps(a, b, "name", "version", out, &err), 0);
  char *s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
  assert_string_equal(s, "{\"added\":[{\"name\":\"curl\",\"version\":\"8.0\"}],"
                         "\"changed\":[{\"a\":\"2.36\",\"b\":\"2.37\",\"name\":\"libc6\"}],"
                         "\"removed\":[{\"name\":\"busybox\",\"version\":\"1.35\"}]}");
  free(s);
  json_decref(out);
  /* Object values keep their fields; an identical pair of maps gives three empty lists. */
  json_t *c = json_loads("{\"kernel\":{\"uri\":\"u\",\"digest\":{\"sha256\":\"aa\"}}}", 0, NULL);
  json_t *empty = json_object();
  out = json_object();
  assert_int_equal(corec_json_diff_maps(empty, c, "name", "value", out, &err), 0);
  json_decref(empty);
  s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
  assert_string_equal(s, "{\"added\":[{\"digest\":{\"sha256\":\"aa\"},\"name\":\"kernel\",\"uri\":\"u\"}],"
                         "\"changed\":[],\"removed\":[]}");
  free(s);
  json_decref(out);
  out = json_object();
  assert_int_equal(corec_json_diff_maps(c, c, "name", "value", out, &err), 0);
  s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
  assert_string_equal(s, "{\"added\":[],\"changed\":[],\"removed\":[]}");
  free(s);
  json_decref(out);
  json_decref(a);
  json_decref(b);
  json_decref(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_equal),         cmocka_unit_test(test_nested_paths), cmocka_unit_test(test_one_side_only),
      cmocka_unit_test(test_arrays_and_types), cmocka_unit_test(test_prefix), cmocka_unit_test(test_maps),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
