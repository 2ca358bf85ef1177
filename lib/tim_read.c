/* The TIM reader: the OCI image layout inside the strict tar of tim_tar.c, in the order and
 * with the content spec/tim.md gives, every blob hashed into a sealed memfd as it is read. */
#include "tim_read.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "oci.h"
#include "tim_format.h"
#include "tim_tar.h"

void core_tim_free(core_tim *tim) {
  if (tim == NULL) return;
  for (size_t i = 0; i < tim->n_blobs; i++)
    if (tim->blobs[i].fd >= 0) close(tim->blobs[i].fd);
  free(tim->blobs);
  core_buf_release(&tim->index_json);
  free(tim);
}

void core_tim_freep(core_tim **tim) {
  core_tim_free(*tim);
  *tim = NULL;
}

core_tim_blob *core_tim_find(core_tim *tim, const core_digest *digest) {
  for (size_t i = 0; i < tim->n_blobs; i++)
    if (strcmp(tim->blobs[i].digest.str, digest->str) == 0) return &tim->blobs[i];
  return NULL;
}

typedef struct entry_source {
  core_tim_tar *t;
  uint64_t data_at;
} entry_source;

static int read_entry(void *ctx, uint64_t at, void *buf, size_t len, core_error **err) {
  entry_source *s = ctx;
  return core_tim_tar_pread(s->t, s->data_at + at, buf, len, err);
}

/* Copies the entry's data into a new memfd while hashing it: the bytes checked are the bytes
 * kept, read once from the one open file (core_digest_copy hashes and writes each chunk from
 * the same private buffer; e->size was checked against fstat by the tar reader). */
static int read_blob(core_tim_tar *t, const core_tim_tar_entry *e, const char *hex, core_tim_blob *blob,
                     core_error **err) {
  cleanup_close int fd = memfd_create("core-blob", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return core_error_set(err, errno, "creating a memfd");
  entry_source src = {.t = t, .data_at = e->data_at};
  core_digest got;
  if (core_digest_copy(read_entry, &src, e->size, fd, &got, err) < 0) return -1;
  if (strcmp(got.str + 7, hex) != 0)
    return core_error_set(err, 0,
                          "'%s': blob sha256:%s does not match its content (it hashes to %s): the artifact is "
                          "corrupted or was modified; rebuild it or fetch it again",
                          t->path, hex, got.str);
  if (core_memfd_seal(fd, err) < 0) return -1;
  blob->digest = got;
  blob->size = e->size;
  blob->fd = TAKE_FD(fd);
  return 0;
}

static int is_hex64(const char *s) {
  if (strlen(s) != 64) return 0;
  for (; *s; s++)
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return 0;
  return 1;
}

/* The entries before the blobs, in the order corec writes them. */
static const struct {
  const char *name;
  core_tar_type type;
} fixed[] = {
    {CORE_TIM_LAYOUT_NAME, CORE_TAR_FILE},
    {CORE_TIM_INDEX_NAME, CORE_TAR_FILE},
    {CORE_TIM_BLOBS_DIR, CORE_TAR_DIR},
    {CORE_TIM_SHA256_DIR, CORE_TAR_DIR},
};
#define N_FIXED (sizeof fixed / sizeof *fixed)
#define ORDER "oci-layout, index.json, blobs/, blobs/sha256/, then the blobs sorted by name"

static int read_small(core_tim_tar *t, const core_tim_tar_entry *e, uint64_t cap, core_buf *out, core_error **err) {
  if (e->size > cap)
    return core_error_set(err, 0, "'%s': %s at offset %llu has %llu bytes, more than the %llu a TIM allows", t->path,
                          e->shown, (unsigned long long)e->header_at, (unsigned long long)e->size,
                          (unsigned long long)cap);
  if (core_buf_reserve(out, e->size + 1, err) < 0) return -1;
  if (core_tim_tar_pread(t, e->data_at, out->data, e->size, err) < 0) return -1;
  out->len = e->size;
  out->data[out->len] = 0;
  return 0;
}

/* One blob entry: a name after the previous one (so none appears twice), within the cap. */
static int check_blob_entry(core_tim *tim, const core_tim_tar *t, const core_tim_tar_entry *e, const char *prev,
                            core_error **err) {
  unsigned long long at = e->header_at;
  if (e->type != CORE_TAR_FILE || strncmp(e->name, CORE_TIM_SHA256_DIR, 13) != 0 || !is_hex64(e->name + 13))
    return core_error_set(err, 0, "'%s': unexpected entry '%s' at offset %llu: after blobs/sha256/ come only files named "
                          "blobs/sha256/<64 lowercase hex>, then the end-of-archive marker", t->path, e->shown, at);
  int cmp = prev ? strcmp(e->name, prev) : 1;
  if (cmp == 0) return core_error_set(err, 0, "'%s': blob %s appears twice (again at offset %llu)", t->path, e->shown, at);
  if (cmp < 0)
    return core_error_set(err, 0, "'%s': blob %s at offset %llu is out of order: blobs are sorted by name", t->path,
                          e->shown, at);
  if (tim->n_blobs == CORE_TIM_MAX_BLOBS)
    return core_error_set(err, 0, "'%s': more than %d blobs at offset %llu", t->path, CORE_TIM_MAX_BLOBS, at);
  return 0;
}

static int read_layout(core_tim_tar *t, core_tim **out, core_error **err);

int core_tim_read(const char *path, core_tim **out, core_error **err) {
  cleanup_tim_tar core_tim_tar t;
  if (core_tim_tar_open(&t, path, err) < 0) return -1;
  return read_layout(&t, out, err);
}

int core_tim_read_region(const char *path, int fd, uint64_t base, uint64_t limit, core_tim **out, uint64_t *tar_len,
                         core_error **err) {
  cleanup_tim_tar core_tim_tar t;
  if (core_tim_tar_open_region(&t, path, fd, base, limit, err) < 0) return -1;
  if (read_layout(&t, out, err) < 0) return -1;
  *tar_len = t.tar_end;
  return 0;
}

static int read_layout(core_tim_tar *t, core_tim **out, core_error **err) {
  const char *path = t->path;
  cleanup_tim core_tim *tim = calloc(1, sizeof *tim);
  if (tim == NULL) return core_error_set(err, ENOMEM, "allocating");
  char prev[sizeof ((core_tim_tar_entry *)0)->name] = "";
  for (size_t i = 0;; i++) {
    core_tim_tar_entry e;
    int r = core_tim_tar_next(t, &e, err);
    if (r < 0) return -1;
    if (r == 0) {
      if (i < N_FIXED)
        return core_error_set(err, 0, "'%s' ends before its '%s' entry: a TIM holds " ORDER, path, fixed[i].name);
      break;
    }
    unsigned long long at = e.header_at;
    if (i < N_FIXED) {
      if (strcmp(e.name, fixed[i].name) != 0 || e.type != fixed[i].type)
        return core_error_set(err, 0, "'%s': entry %zu at offset %llu is '%s', expected %s '%s' (a TIM holds " ORDER ")",
                              path, i + 1, at, e.shown, fixed[i].type == CORE_TAR_DIR ? "the directory" : "the file",
                              fixed[i].name);
    } else if (check_blob_entry(tim, t, &e, i > N_FIXED ? prev : NULL, err) < 0) {
      return -1;
    }
    if (i == 0) {
      cleanup_buf core_buf layout = CORE_BUF_INIT;
      if (read_small(t, &e, 4096, &layout, err) < 0) return -1;
      if (layout.len != strlen(OCI_LAYOUT_FILE) || memcmp(layout.data, OCI_LAYOUT_FILE, layout.len) != 0)
        return core_error_set(err, 0, "'%s': oci-layout is not %s, the only content a TIM has there", path,
                              OCI_LAYOUT_FILE);
    } else if (i == 1) {
      if (read_small(t, &e, CORE_TIM_MAX_JSON, &tim->index_json, err) < 0) return -1;
    } else if (i >= N_FIXED) {
      core_tim_blob *grown = realloc(tim->blobs, (tim->n_blobs + 1) * sizeof *grown);
      if (grown == NULL) return core_error_set(err, ENOMEM, "allocating");
      tim->blobs = grown;
      tim->blobs[tim->n_blobs].fd = -1;
      if (read_blob(t, &e, e.name + 13, &tim->blobs[tim->n_blobs], err) < 0) return -1;
      tim->n_blobs++;
      memcpy(prev, e.name, sizeof prev);
    }
  }
  *out = TAKE_PTR(tim);
  return 0;
}

int core_tim_blob_load(core_tim *tim, const core_digest *digest, uint64_t want_size, core_buf *out, core_error **err) {
  if (want_size > CORE_TIM_MAX_JSON)
    return core_error_set(err, 0, "the descriptor of %s gives %llu bytes, more than the %u a manifest, index or config may have",
                          digest->str, (unsigned long long)want_size, CORE_TIM_MAX_JSON);
  core_tim_blob *b = core_tim_find(tim, digest);
  if (b == NULL) return core_error_set(err, 0, "blob %s is missing from the artifact", digest->str);
  if (b->size != want_size)
    return core_error_set(err, 0, "blob %s has %llu bytes but its descriptor says %llu", digest->str,
                          (unsigned long long)b->size, (unsigned long long)want_size);
  core_buf buf = CORE_BUF_INIT;
  if (core_buf_reserve(&buf, b->size + 1, err) < 0) return -1;
  ssize_t n = pread(b->fd, buf.data, b->size, 0);
  if (n < 0 || (uint64_t)n != b->size) {
    core_buf_release(&buf);
    return core_error_set(err, n < 0 ? errno : EIO, "reading blob %s", digest->str);
  }
  buf.len = b->size;
  buf.data[buf.len] = 0;
  *out = buf;
  return 0;
}

int core_tim_add_blob(core_tim *tim, const core_digest *digest, uint64_t size, int fd, core_error **err) {
  core_tim_blob *grown = realloc(tim->blobs, (tim->n_blobs + 1) * sizeof *grown);
  if (grown == NULL) {
    close(fd);
    return core_error_set(err, ENOMEM, "allocating");
  }
  tim->blobs = grown;
  tim->blobs[tim->n_blobs++] = (core_tim_blob){.digest = *digest, .size = size, .fd = fd};
  return 0;
}
