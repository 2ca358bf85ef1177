/* The kernel index's text: what a kernel cache keeps about a package (kernel_index.h). */
#include "kernel_index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json.h"

static json_t *strv_json(char *const *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; i++)
    if (json_array_append_new(a, json_string(v[i])) < 0) return json_decref(a), NULL;
  return a;
}

int core_kernel_index_dump(const core_kernel *k, const core_digest *source, const core_digest *pack,
                           uint64_t pack_size, core_buf *out, core_error **err) {
  cleanup_json json_t *mods = json_array();
  if (mods == NULL) return core_error_set(err, ENOMEM, "allocating");
  for (size_t i = 0; i < k->n_mods; i++) {
    const core_kmod *m = &k->mods[i];
    json_t *deps = m->depends_known ? strv_json(m->depends, m->n_depends) : json_null();
    if (json_array_append_new(mods, json_pack("[s, s, I, I, o]", m->name, m->path, (json_int_t)m->offset,
                                              (json_int_t)m->size, deps)) < 0)
      return core_error_set(err, ENOMEM, "allocating");
  }
  cleanup_json json_t *j = json_pack("{s:i, s:s, s:s, s:I, s:s?, s:s?, s:[I, I], s:O, s:o}", "format",
                                     CORE_KERNEL_INDEX_FORMAT, "source", source->str, "pack", pack->str, "pack_size",
                                     (json_int_t)pack_size, "version", k->version, "modules_version",
                                     k->modules_version, "image", (json_int_t)k->image_offset,
                                     (json_int_t)k->image_size, "modules", mods, "builtin",
                                     strv_json(k->builtin, k->n_builtin));
  if (j == NULL) return core_error_set(err, ENOMEM, "building the kernel index");
  return core_json_dump(j, out, err);
}

/* A module name as the index may hold it: what a file name gives after normalising. */
static int valid_name(const char *s) {
  size_t l = strlen(s);
  if (l == 0 || l > CORE_KERNEL_INDEX_MAX_NAME) return 0;
  for (; *s; s++)
    if (*s == '/' || *s == '-' || (unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e) return 0;
  return 1;
}

static int valid_module_path(const char *p) {
  size_t l = strlen(p);
  if (l > CORE_KERNEL_INDEX_MAX_PATH || strncmp(p, "lib/modules/", 12) != 0 || l < 16 || strcmp(p + l - 3, ".ko") != 0)
    return 0;
  /* No empty, "." or ".." component: the path becomes one in the guest's tree. */
  for (const char *c = p; *c;) {
    size_t n = strcspn(c, "/");
    if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) return 0;
    c += n;
    if (*c == '/') c++;
  }
  return 1;
}

/* An [offset, size] that lies inside the pack. */
static int span(json_t *off, json_t *size, uint64_t pack_size, uint64_t *o, uint64_t *n) {
  if (!json_is_integer(off) || !json_is_integer(size) || json_integer_value(off) < 0 || json_integer_value(size) < 0)
    return 0;
  *o = (uint64_t)json_integer_value(off);
  *n = (uint64_t)json_integer_value(size);
  return *o <= pack_size && *n <= pack_size - *o;
}

static int names(json_t *a, size_t max, char ***out, size_t *n_out, core_error **err) {
  size_t n = json_array_size(a);
  if (!json_is_array(a) || n > max) return core_error_set(err, 0, "a list of names is not a list of at most %zu", max);
  char **v = calloc(n + 1, sizeof *v);
  if (v == NULL) return core_error_set(err, ENOMEM, "allocating");
  for (size_t i = 0; i < n; i++) {
    const char *s = json_string_value(json_array_get(a, i));
    if (s == NULL || !valid_name(s) || (v[i] = strdup(s)) == NULL) {
      for (size_t j = 0; j < i; j++) free(v[j]);
      free(v);
      if (s && valid_name(s)) return core_error_set(err, ENOMEM, "allocating");
      return core_error_set(err, 0, "'%s' is not a module name", s ? s : "(not a string)");
    }
  }
  *out = v;
  *n_out = n;
  return 0;
}

static int optional_str(json_t *j, const char *key, char **out, core_error **err) {
  json_t *v = json_object_get(j, key);
  *out = NULL;
  if (v == NULL || json_is_null(v)) return 0;
  const char *s = json_string_value(v);
  if (s == NULL || s[0] == 0 || strlen(s) > CORE_KERNEL_INDEX_MAX_NAME || strchr(s, '/'))
    return core_error_set(err, 0, "\"%s\" is not a kernel release", key);
  if ((*out = strdup(s)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  return 0;
}

static int parse_into(json_t *j, const core_digest *source, core_kernel *k, core_digest *pack, uint64_t *pack_size,
                      core_error **err) {
  json_t *format = json_object_get(j, "format"), *src = json_object_get(j, "source");
  json_t *pk = json_object_get(j, "pack"), *psize = json_object_get(j, "pack_size");
  json_t *image = json_object_get(j, "image"), *mods = json_object_get(j, "modules");
  if (!json_is_object(j) || !json_is_integer(format) || json_integer_value(format) != CORE_KERNEL_INDEX_FORMAT)
    return core_error_set(err, 0, "not a kernel index of format %d", CORE_KERNEL_INDEX_FORMAT);
  if (!json_is_string(src) || strcmp(json_string_value(src), source->str) != 0)
    return core_error_set(err, 0, "the index describes another package");
  if (!json_is_string(pk) || !core_digest_is_valid(json_string_value(pk)) || !json_is_integer(psize) ||
      json_integer_value(psize) < 0)
    return core_error_set(err, 0, "the index's \"pack\" or \"pack_size\" is invalid");
  *pack_size = (uint64_t)json_integer_value(psize);
  snprintf(pack->str, sizeof pack->str, "%s", json_string_value(pk));
  if (optional_str(j, "version", &k->version, err) < 0 || optional_str(j, "modules_version", &k->modules_version, err) < 0)
    return -1;
  if (!json_is_array(image) || json_array_size(image) != 2 ||
      !span(json_array_get(image, 0), json_array_get(image, 1), *pack_size, &k->image_offset, &k->image_size))
    return core_error_set(err, 0, "the index's \"image\" is not an [offset, size] inside the pack");
  size_t n = json_array_size(mods);
  if (!json_is_array(mods) || n > CORE_KERNEL_INDEX_MAX_MODULES)
    return core_error_set(err, 0, "the index's \"modules\" is not a list of at most %d", CORE_KERNEL_INDEX_MAX_MODULES);
  if ((k->mods = calloc(n + 1, sizeof *k->mods)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  for (size_t i = 0; i < n; i++) {
    json_t *m = json_array_get(mods, i);
    core_kmod *km = &k->mods[i];
    k->n_mods = i + 1; /* counted before it is filled: a failure half-way releases what it holds */
    const char *name = json_string_value(json_array_get(m, 0)), *path = json_string_value(json_array_get(m, 1));
    json_t *deps = json_array_get(m, 4);
    if (!json_is_array(m) || json_array_size(m) != 5 || name == NULL || !valid_name(name) || path == NULL ||
        !valid_module_path(path) || !span(json_array_get(m, 2), json_array_get(m, 3), *pack_size, &km->offset, &km->size))
      return core_error_set(err, 0, "module %zu of the index is not [name, path, offset, size, depends]", i);
    if ((km->name = strdup(name)) == NULL || (km->path = strdup(path)) == NULL)
      return core_error_set(err, ENOMEM, "allocating");
    if (!json_is_null(deps)) {
      if (names(deps, CORE_KERNEL_INDEX_MAX_DEPENDS, &km->depends, &km->n_depends, err) < 0)
        return core_error_wrap(err, "module '%s' of the index", name);
      km->depends_known = 1;
    }
  }
  return names(json_object_get(j, "builtin"), CORE_KERNEL_INDEX_MAX_MODULES, &k->builtin, &k->n_builtin, err);
}

int core_kernel_index_parse(const void *text, size_t len, const core_digest *source, core_kernel *k,
                            core_digest *pack, uint64_t *pack_size, core_error **err) {
  memset(k, 0, sizeof *k);
  if (len > CORE_KERNEL_INDEX_MAX_BYTES)
    return core_error_set(err, 0, "a kernel index of %zu bytes is over the limit of %u", len, CORE_KERNEL_INDEX_MAX_BYTES);
  cleanup_json json_t *j = NULL;
  if (core_json_parse(text, len, &j, err) < 0) return -1;
  if (parse_into(j, source, k, pack, pack_size, err) < 0) {
    core_kernel_release(k);
    return -1;
  }
  return 0;
}

