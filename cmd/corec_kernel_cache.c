/* The kernel cache in the content store: a reference by package digest, an index blob and a
 * pack blob (kernel_cache.h). Every read is checked; anything wrong is a miss, never used. */
#include "corec_kernel_cache.h"

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

/* --- the hooks core_kernel_load calls --- */

typedef struct cache_state {
  const char *store_dir;
  core_store *store;        /* opened on first use; kept for the process, as the store lock is */
  core_store_writer *writer; /* the pack being written */
  core_digest source;        /* the package being read */
} cache_state;
static cache_state state;

static core_store *store_of(cache_state *c) {
  if (c->store == NULL && core_store_open(c->store_dir, &c->store, NULL) < 0) c->store = NULL;
  return c->store;
}

static int hook_load(void *ctx, const char *path, core_kernel *k) {
  cache_state *c = ctx;
  core_store *s = store_of(c);
  if (s == NULL || core_store_file_digest(s, path, &c->source, NULL, NULL) < 0) return 0;
  core_kernel got = {0};
  core_error *err = NULL;
  int hit = core_kernel_cache_load(s, &c->source, &got, &err);
  core_error_free(err);
  if (hit != 1) return 0;
  *k = got;
  return 1;
}

static int hook_pack_begin(void *ctx, const char *path) {
  cache_state *c = ctx;
  core_store *s = store_of(c);
  /* The digest again: a cache-less load did not compute it (the stat cache makes it cheap). */
  if (s == NULL || core_store_file_digest(s, path, &c->source, NULL, NULL) < 0 ||
      core_store_writer_begin(s, &c->writer, NULL) < 0)
    return -1;
  return core_store_writer_fd(c->writer);
}

static int hook_pack_write(void *ctx, const void *data, size_t len, core_error **err) {
  return core_store_writer_write(((cache_state *)ctx)->writer, data, len, err);
}

static void hook_pack_end(void *ctx, const core_kernel *k, uint64_t len, int ok) {
  cache_state *c = ctx;
  core_digest pack;
  /* The writer hashed every byte as it wrote it. */
  if (ok && core_store_writer_size(c->writer) == len && core_store_writer_commit(c->writer, NULL, &pack, NULL) == 0)
    (void)core_kernel_cache_save(c->store, &c->source, &pack, len, k, NULL);
  core_store_writer_abortp(&c->writer);
}

void corec_kernel_cache_install(const char *store_dir) {
  static core_kernel_cache_hooks hooks = {hook_load, hook_pack_begin, hook_pack_write, hook_pack_end, &state};
  state.store_dir = store_dir;
  core_kernel_cache_set(&hooks);
}
