/* The kernel cache in the content store: a reference by package digest, an index blob and a
 * pack blob (kernel_cache.h). Every read is checked; anything wrong is a miss, never used. */
#include "kernel_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "json.h"

/* --- the index --- */

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
                                     CORE_KERNEL_CACHE_FORMAT, "source", source->str, "pack", pack->str, "pack_size",
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
  if (!json_is_object(j) || !json_is_integer(format) || json_integer_value(format) != CORE_KERNEL_CACHE_FORMAT)
    return core_error_set(err, 0, "not a kernel index of format %d", CORE_KERNEL_CACHE_FORMAT);
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
  for (size_t i = 0; i < n; i++, k->n_mods++) {
    json_t *m = json_array_get(mods, i);
    core_kmod *km = &k->mods[i];
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

/* --- the store --- */

static int ref_path(core_store *s, const char *hex, char **out, core_error **err) {
  cleanup_free char *dir = NULL;
  if (core_store_cache_dir(s, "kernel", &dir, err) < 0) return -1;
  if (asprintf(out, "%s/%s", dir, hex) < 0) return core_error_set(err, ENOMEM, "allocating a path");
  return 0;
}

/* The index digest a reference names: exactly "sha256:<64 hex>\n" in a regular file. */
static int read_ref(const char *path, core_digest *out, core_error **err) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return core_error_set(err, errno, "opening '%s'", path);
  struct stat st;
  char text[CORE_DIGEST_STRLEN + 2];
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != CORE_DIGEST_STRLEN + 1)
    return core_error_set(err, 0, "'%s' is not a kernel cache reference", path);
  if (core_pread_exact(fd, text, CORE_DIGEST_STRLEN + 1, 0, path, err) < 0) return -1;
  text[CORE_DIGEST_STRLEN + 1] = 0;
  if (text[CORE_DIGEST_STRLEN] != '\n') return core_error_set(err, 0, "'%s' is not a kernel cache reference", path);
  text[CORE_DIGEST_STRLEN] = 0;
  if (!core_digest_is_valid(text)) return core_error_set(err, 0, "'%s' is not a kernel cache reference", path);
  memcpy(out->str, text, sizeof out->str);
  return 0;
}

/* The index blob, read and hashed once. */
static int read_index(core_store *s, const core_digest *d, core_buf *out, core_error **err) {
  core_digest got;
  if (core_store_read_blob(s, d, CORE_KERNEL_INDEX_MAX_BYTES, out, err) < 0 ||
      core_digest_bytes(out->data, out->len, &got, err) < 0)
    return -1;
  return strcmp(got.str, d->str) == 0 ? 0 : core_store_corrupt(s, d, &got, err);
}

static int map_pack(core_store *s, const core_digest *d, uint64_t size, core_kernel *k, core_error **err) {
  cleanup_free char *path = NULL;
  if (core_store_get_verified(s, d, &path, err) < 0) return -1;
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) return core_error_set(err, errno, "opening '%s'", path);
  if ((uint64_t)st.st_size != size || size > SIZE_MAX)
    return core_error_set(err, 0, "the pack holds %lld bytes, the index says %llu", (long long)st.st_size,
                          (unsigned long long)size);
  if (size == 0) return 0;
  void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) return core_error_set(err, errno, "mapping '%s'", path);
  k->pack = p;
  k->pack_len = (size_t)size;
  return 0;
}

int core_kernel_cache_load(core_store *s, const core_digest *source, core_kernel *out, core_error **err) {
  cleanup_free char *path = NULL;
  if (ref_path(s, core_digest_hex(source), &path, err) < 0) return -1;
  struct stat st;
  if (lstat(path, &st) < 0 && errno == ENOENT) return 0;
  cleanup_error core_error *cause = NULL;
  cleanup_buf core_buf text = CORE_BUF_INIT;
  core_digest index, pack;
  uint64_t pack_size = 0;
  core_kernel k = {0};
  if (read_ref(path, &index, &cause) == 0 && read_index(s, &index, &text, &cause) == 0 &&
      core_kernel_index_parse(text.data, text.len, source, &k, &pack, &pack_size, &cause) == 0 &&
      map_pack(s, &pack, pack_size, &k, &cause) == 0) {
    *out = k;
    return 1;
  }
  core_kernel_release(&k);
  if (cause && cause->errnum == ENOMEM) return *err = TAKE_PTR(cause), -1;
  /* Damaged or stale: the package is read again and a good entry replaces this one. */
  unlink(path);
  return 0;
}

int core_kernel_cache_save(core_store *s, const core_digest *source, const core_digest *pack, uint64_t pack_size,
                           const core_kernel *k, core_error **err) {
  cleanup_buf core_buf text = CORE_BUF_INIT;
  cleanup_free char *path = NULL;
  core_digest index;
  char ref[CORE_DIGEST_STRLEN + 2];
  if (core_kernel_index_dump(k, source, pack, pack_size, &text, err) < 0 ||
      core_store_put(s, text.data, text.len, &index, err) < 0 || ref_path(s, core_digest_hex(source), &path, err) < 0)
    return -1;
  snprintf(ref, sizeof ref, "%s\n", index.str);
  /* The blobs are durable before the reference that names them appears. */
  return core_write_file_atomic(path, ref, strlen(ref), 0644, err);
}

/* --- maintenance --- */

static int each_ref(core_store *s, int (*fn)(core_store *s, const char *path, const char *hex, void *ctx), void *ctx,
                    core_error **err) {
  cleanup_free char *dir = NULL;
  if (core_store_cache_dir(s, "kernel", &dir, err) < 0) return -1;
  cleanup_closedir DIR *d = opendir(dir);
  if (d == NULL) return core_error_set(err, errno, "reading '%s'", dir);
  for (struct dirent *e; (e = readdir(d));) {
    if (strlen(e->d_name) != 64 || strspn(e->d_name, "0123456789abcdef") != 64) continue;
    cleanup_free char *path = core_path_join(dir, e->d_name);
    if (path == NULL) return core_error_set(err, ENOMEM, "allocating a path");
    if (fn(s, path, e->d_name, ctx) < 0) return core_error_set(err, errno, "removing '%s'", path);
  }
  return 0;
}

static int count_ref(core_store *s, const char *path, const char *hex, void *ctx) {
  (void)s, (void)path, (void)hex;
  ++*(size_t *)ctx;
  return 0;
}

int core_kernel_cache_count(core_store *s, size_t *n, core_error **err) {
  *n = 0;
  return each_ref(s, count_ref, n, err);
}

static int prune_ref(core_store *s, const char *path, const char *hex, void *ctx) {
  core_digest index, source, pack;
  cleanup_buf core_buf text = CORE_BUF_INIT;
  core_kernel k = {0};
  uint64_t pack_size;
  snprintf(source.str, sizeof source.str, "sha256:%s", hex);
  int keep = read_ref(path, &index, NULL) == 0 && core_store_read_blob(s, &index, CORE_KERNEL_INDEX_MAX_BYTES, &text, NULL) == 0 &&
             core_kernel_index_parse(text.data, text.len, &source, &k, &pack, &pack_size, NULL) == 0 &&
             core_store_has(s, &pack);
  core_kernel_release(&k);
  if (keep) return 0;
  if (unlink(path) < 0 && errno != ENOENT) return -1;
  ++*(size_t *)ctx;
  return 0;
}

int core_kernel_cache_prune(core_store *s, size_t *removed, core_error **err) {
  *removed = 0;
  return each_ref(s, prune_ref, removed, err);
}
