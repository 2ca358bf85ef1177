/* Dotted-path differences between two JSON values. */
#include "corec_json_diff.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

/* Recursion is bounded by the documents' depth, which jansson's parser already limits. */
static int add(json_t *out, const char *path, const json_t *a, const json_t *b, core_error **err) {
  json_t *o = json_pack("{s:s}", "path", path);
  if (o == NULL || (a && json_object_set(o, "a", (json_t *)a) < 0) || (b && json_object_set(o, "b", (json_t *)b) < 0) ||
      json_array_append_new(out, o) < 0) {
    json_decref(o);
    return core_error_set(err, ENOMEM, "allocating");
  }
  return 0;
}

static int cmp_keys(const void *x, const void *y) { return strcmp(*(const char *const *)x, *(const char *const *)y); }

/* The union of both objects' keys, sorted, so the output does not depend on either order. */
static int union_keys(const json_t *a, const json_t *b, const char ***out, size_t *n, core_error **err) {
  size_t max = json_object_size(a) + json_object_size(b), k = 0;
  const char **keys = calloc(max ? max : 1, sizeof *keys);
  if (keys == NULL) return core_error_set(err, ENOMEM, "allocating");
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)a, key, v) keys[k++] = key;
  json_object_foreach((json_t *)b, key, v) if (json_object_get(a, key) == NULL) keys[k++] = key;
  qsort(keys, k, sizeof *keys, cmp_keys);
  *out = keys;
  *n = k;
  return 0;
}

int corec_json_diff(const json_t *a, const json_t *b, const char *prefix, json_t *out, core_error **err) {
  if (!json_is_object(a) || !json_is_object(b)) {
    if (json_equal((json_t *)a, (json_t *)b)) return 0;
    return add(out, prefix, a, b, err);
  }
  cleanup_free const char **keys = NULL;
  size_t n = 0;
  if (union_keys(a, b, &keys, &n, err) < 0) return -1;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(prefix) + strlen(keys[i]) + 2;
    cleanup_free char *path = malloc(len);
    if (path == NULL) return core_error_set(err, ENOMEM, "allocating");
    snprintf(path, len, "%s%s%s", prefix, prefix[0] ? "." : "", keys[i]);
    const json_t *va = json_object_get(a, keys[i]), *vb = json_object_get(b, keys[i]);
    int rc = va && vb ? corec_json_diff(va, vb, path, out, err) : add(out, path, va, vb, err);
    if (rc < 0) return -1;
  }
  return 0;
}

/* One side's entry: the value's own fields, or the value under VALUE_NAME, with its key. */
static json_t *entry(const char *key_name, const char *key, const char *value_name, const json_t *v) {
  json_t *o = json_is_object(v) ? json_deep_copy(v) : json_pack("{s:O}", value_name, (json_t *)v);
  if (o && json_object_set_new(o, key_name, json_string(key)) < 0) {
    json_decref(o);
    return NULL;
  }
  return o;
}

int corec_json_diff_maps(const json_t *a, const json_t *b, const char *key_name, const char *value_name, json_t *out,
                         core_error **err) {
  json_t *added = json_array(), *removed = json_array(), *changed = json_array();
  if (json_object_set_new(out, "added", added) < 0 || json_object_set_new(out, "removed", removed) < 0 ||
      json_object_set_new(out, "changed", changed) < 0)
    return core_error_set(err, ENOMEM, "allocating");
  cleanup_free const char **keys = NULL;
  size_t n = 0;
  if (union_keys(a, b, &keys, &n, err) < 0) return -1;
  for (size_t i = 0; i < n; i++) {
    const json_t *va = json_object_get(a, keys[i]), *vb = json_object_get(b, keys[i]);
    int rc = 0;
    if (va && vb && !json_equal((json_t *)va, (json_t *)vb))
      rc = json_array_append_new(changed, json_pack("{s:s, s:O, s:O}", key_name, keys[i], "a", (json_t *)va, "b", (json_t *)vb));
    else if (!vb)
      rc = json_array_append_new(removed, entry(key_name, keys[i], value_name, va));
    else if (!va)
      rc = json_array_append_new(added, entry(key_name, keys[i], value_name, vb));
    if (rc < 0) return core_error_set(err, ENOMEM, "allocating");
  }
  return 0;
}
