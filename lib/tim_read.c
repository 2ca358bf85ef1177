/* The TIM reader: a POSIX tar of an OCI image layout, read in one pass with libarchive. */
#include "tim_read.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "archive_util.h"
#include "cleanup.h"
#include "fsutil.h"

#define TIM_MAX_JSON (4u << 20) /* index and manifests are small; a huge one is an attack */
#define TIM_MAX_BLOBS 4096

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

/* Copies the entry's data into a new memfd while hashing it. */
static int read_blob(struct archive *a, const char *path, const char *hex, core_tim_blob *blob, core_error **err) {
  cleanup_close int fd = memfd_create("core-blob", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return core_error_set(err, errno, "creating a memfd");
  cleanup_hasher core_hasher *h = NULL;
  if (core_hasher_new(&h, err) < 0) return -1;
  uint64_t total = 0;
  char buf[1 << 16];
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf, sizeof buf);
    if (n < 0) return core_error_archive(err, a, "'%s': reading blob %s", path, hex);
    if (n == 0) break;
    if (core_hasher_update(h, buf, (size_t)n, err) < 0 || core_write_all(fd, buf, (size_t)n, err) < 0) return -1;
    total += (uint64_t)n;
  }
  core_digest got;
  if (core_hasher_final(h, &got, err) < 0) return -1;
  if (strcmp(got.str + 7, hex) != 0)
    return core_error_set(err, 0,
                          "'%s': blob sha256:%s does not match its content (it hashes to %s): the artifact is "
                          "corrupted or was modified; rebuild it or fetch it again",
                          path, hex, got.str);
  if (core_memfd_seal(fd, err) < 0) return -1;
  blob->digest = got;
  blob->size = total;
  blob->fd = TAKE_FD(fd);
  return 0;
}

static int is_hex64(const char *s) {
  if (strlen(s) != 64) return 0;
  for (; *s; s++)
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return 0;
  return 1;
}

int core_tim_read(const char *path, core_tim **out, core_error **err) {
  cleanup_tim core_tim *tim = calloc(1, sizeof *tim);
  if (tim == NULL) return core_error_set(err, ENOMEM, "allocating");
  cleanup_archive_read struct archive *a = archive_read_new();
  if (a == NULL) return core_error_set(err, ENOMEM, "allocating an archive reader");
  /* Only uncompressed tar: the format says so, and it keeps blobs readable by offset. */
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
    if (archive_errno(a) == ENOENT || archive_errno(a) == EACCES) return core_error_archive(err, a, "opening artifact '%s'", path);
    return core_error_archive(err, a, "'%s' is not a TIM artifact (a tar of an OCI image layout)", path);
  }
  int have_layout = 0;
  for (;;) {
    struct archive_entry *e = NULL;
    la_int64_t end_of_entries = archive_filter_bytes(a, 0);
    int r = archive_read_next_header(a, &e);
    /* libarchive takes a clean end at an entry boundary as the end of the archive, so a file
     * cut there would read as a shorter artifact; the two zero blocks must be there. */
    if (r == ARCHIVE_EOF && archive_filter_bytes(a, 0) - end_of_entries < 1024)
      return core_error_set(err, 0, "'%s' is truncated: it ends without the tar end-of-archive marker; fetch or build it again",
                            path);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK)
      return core_error_archive(err, a, "'%s' is not a TIM artifact (a tar of an OCI image layout), or it is truncated", path);
    const char *name = archive_entry_pathname(e);
    mode_t type = archive_entry_filetype(e);
    if (type == AE_IFDIR && (strcmp(name, "blobs/") == 0 || strcmp(name, "blobs/sha256/") == 0)) continue;
    if (type != AE_IFREG) return core_error_set(err, 0, "'%s': unexpected entry '%s' (not a regular file)", path, name);
    if (strcmp(name, "oci-layout") == 0) {
      cleanup_buf core_buf layout = CORE_BUF_INIT;
      char buf[256];
      la_ssize_t n;
      while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
        if (layout.len + (size_t)n > 4096 || core_buf_append(&layout, buf, (size_t)n, err) < 0)
          return core_error_set(err, 0, "'%s': oci-layout is too large", path);
      if (n < 0) return core_error_archive(err, a, "'%s': reading oci-layout", path);
      if (layout.len == 0 || memmem(layout.data, layout.len, "\"imageLayoutVersion\"", 20) == NULL)
        return core_error_set(err, 0, "'%s': oci-layout does not declare an imageLayoutVersion", path);
      have_layout = 1;
    } else if (strcmp(name, "index.json") == 0) {
      if (tim->index_json.len) return core_error_set(err, 0, "'%s': index.json appears twice", path);
      char buf[1 << 14];
      la_ssize_t n;
      while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
        if (tim->index_json.len + (size_t)n > TIM_MAX_JSON) return core_error_set(err, 0, "'%s': index.json is too large", path);
        if (core_buf_append(&tim->index_json, buf, (size_t)n, err) < 0) return -1;
      }
      if (n < 0) return core_error_archive(err, a, "'%s': reading index.json", path);
    } else if (strncmp(name, "blobs/sha256/", 13) == 0 && is_hex64(name + 13)) {
      core_digest want;
      snprintf(want.str, sizeof want.str, "sha256:%s", name + 13);
      if (core_tim_find(tim, &want)) return core_error_set(err, 0, "'%s': blob %s appears twice", path, want.str);
      if (tim->n_blobs == TIM_MAX_BLOBS) return core_error_set(err, 0, "'%s': too many blobs", path);
      core_tim_blob *grown = realloc(tim->blobs, (tim->n_blobs + 1) * sizeof *grown);
      if (grown == NULL) return core_error_set(err, ENOMEM, "allocating");
      tim->blobs = grown;
      tim->blobs[tim->n_blobs].fd = -1;
      if (read_blob(a, path, name + 13, &tim->blobs[tim->n_blobs], err) < 0) return -1;
      tim->n_blobs++;
    } else {
      return core_error_set(err, 0, "'%s': unexpected entry '%s' in the artifact", path, name);
    }
  }
  if (!have_layout) return core_error_set(err, 0, "'%s' has no oci-layout file: it is not an OCI image layout", path);
  if (tim->index_json.len == 0) return core_error_set(err, 0, "'%s' has no index.json: it is not an OCI image layout", path);
  *out = TAKE_PTR(tim);
  return 0;
}

int core_tim_blob_load(core_tim *tim, const core_digest *digest, uint64_t want_size, core_buf *out, core_error **err) {
  core_tim_blob *b = core_tim_find(tim, digest);
  if (b == NULL) return core_error_set(err, 0, "blob %s is missing from the artifact", digest->str);
  if (b->size != want_size)
    return core_error_set(err, 0, "blob %s has %llu bytes but its descriptor says %llu", digest->str,
                          (unsigned long long)b->size, (unsigned long long)want_size);
  if (b->size > TIM_MAX_JSON) return core_error_set(err, 0, "blob %s is too large for a manifest or config", digest->str);
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
