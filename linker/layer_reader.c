/* Layer sources through libarchive: archive_read_disk for directories, the ar reader plus a
 * chained tar reader for .deb files, the tar reader with every filter for archives. */
#include "layer_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

struct core_layer_reader {
  core_layer_kind kind;
  char *root;            /* for directories: the prefix to strip */
  struct archive *outer; /* the .deb's ar archive */
  struct archive *a;     /* where entries come from */
  struct archive_entry *disk_entry;
  char *path;            /* the current normalised path */
  char *source;          /* for messages */
  char chunk[1 << 16];   /* what the chained data reader last handed to the inner one */
  char copy[1 << 16];    /* what core_layer_reader_copy hands to its sink */
  core_bytes_fn on_bytes;
  void *on_bytes_ctx;
  uint64_t file_size;
};

void core_layer_reader_on_bytes(core_layer_reader *r, core_bytes_fn fn, void *ctx) {
  r->on_bytes = fn;
  r->on_bytes_ctx = ctx;
}

int core_normalize_path(char *path) {
  char *src = path, *dst = path;
  while (*src) {
    while (*src == '/') src++;
    char *end = strchrnul(src, '/');
    size_t len = (size_t)(end - src);
    if (len == 0) break;
    if (len == 1 && src[0] == '.') {
      src = end;
      continue;
    }
    if (len == 2 && src[0] == '.' && src[1] == '.') return -1;
    if (dst != path) *dst++ = '/';
    memmove(dst, src, len);
    dst += len;
    src = end;
  }
  *dst = 0;
  return 0;
}

static la_ssize_t read_from_outer(struct archive *inner, void *ctx, const void **buf) {
  (void)inner;
  core_layer_reader *r = ctx;
  *buf = r->chunk;
  return archive_read_data(r->outer, r->chunk, sizeof r->chunk);
}

static int open_deb(core_layer_reader *r, const char *path, core_error **err) {
  r->outer = archive_read_new();
  if (r->outer == NULL) return core_error_set(err, ENOMEM, "allocating an archive reader");
  archive_read_support_format_ar(r->outer);
  if (archive_read_open_filename(r->outer, path, 1 << 16) != ARCHIVE_OK)
    return core_error_archive(err, r->outer, "opening Debian package '%s'", path);
  for (;;) {
    struct archive_entry *e;
    int rc = archive_read_next_header(r->outer, &e);
    if (rc == ARCHIVE_EOF) return core_error_set(err, 0, "'%s' is not a Debian package: it has no data.tar member", path);
    if (rc != ARCHIVE_OK) return core_error_archive(err, r->outer, "reading Debian package '%s'", path);
    if (strncmp(archive_entry_pathname(e), "data.tar", 8) == 0) break;
  }
  /* The data member is read through a second reader chained onto the first: no temporary file. */
  r->a = archive_read_new();
  if (r->a == NULL) return core_error_set(err, ENOMEM, "allocating an archive reader");
  archive_read_support_filter_all(r->a);
  archive_read_support_format_tar(r->a);
  if (archive_read_open(r->a, r, NULL, read_from_outer, NULL) != ARCHIVE_OK)
    return core_error_archive(err, r->a, "opening the data archive of '%s'", path);
  return 0;
}

static int open_tar(core_layer_reader *r, const char *path, core_error **err) {
  r->a = archive_read_new();
  if (r->a == NULL) return core_error_set(err, ENOMEM, "allocating an archive reader");
  archive_read_support_filter_all(r->a);
  archive_read_support_format_tar(r->a);
  archive_read_support_format_zip(r->a);
  if (archive_read_open_filename(r->a, path, 1 << 16) != ARCHIVE_OK)
    return core_error_archive(err, r->a, "opening archive '%s'", path);
  return 0;
}

static int open_dir(core_layer_reader *r, const char *path, core_error **err) {
  r->a = archive_read_disk_new();
  if (r->a == NULL) return core_error_set(err, ENOMEM, "allocating a directory reader");
  /* Symbolic links are layer content, never followed out of the directory. */
  archive_read_disk_set_symlink_physical(r->a);
  archive_read_disk_set_behavior(r->a, ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL | ARCHIVE_READDISK_NO_FFLAGS);
  if (archive_read_disk_open(r->a, path) != ARCHIVE_OK) return core_error_archive(err, r->a, "opening directory '%s'", path);
  r->root = strdup(path);
  r->disk_entry = archive_entry_new();
  if (r->root == NULL || r->disk_entry == NULL) return core_error_set(err, ENOMEM, "allocating");
  return 0;
}

int core_layer_reader_open(const char *path, core_layer_reader **out, core_error **err) {
  core_layer_reader *r = calloc(1, sizeof *r);
  cleanup_layer_reader core_layer_reader *owned = r;
  if (r == NULL || (r->source = strdup(path)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (core_layer_kind_of(path, &r->kind, err) < 0) return -1;
  struct stat st;
  if (stat(path, &st) == 0) r->file_size = (uint64_t)st.st_size;
  int rc = r->kind == CORE_LAYER_DIR ? open_dir(r, path, err)
           : r->kind == CORE_LAYER_DEB ? open_deb(r, path, err)
                                       : open_tar(r, path, err);
  if (rc < 0) return -1;
  *out = TAKE_PTR(owned);
  return 0;
}

int core_layer_reader_next(core_layer_reader *r, struct archive_entry **entry, const char **path, core_error **err) {
  for (;;) {
    struct archive_entry *e = r->disk_entry;
    int rc;
    if (r->kind == CORE_LAYER_DIR) {
      archive_entry_clear(e);
      rc = archive_read_next_header2(r->a, e);
      if (rc == ARCHIVE_OK) archive_read_disk_descend(r->a);
    } else {
      rc = archive_read_next_header(r->a, &e);
    }
    if (rc == ARCHIVE_EOF) {
      if (r->on_bytes && r->kind != CORE_LAYER_DIR) r->on_bytes(r->on_bytes_ctx, r->file_size, r->file_size);
      return 0;
    }
    if (rc == ARCHIVE_WARN) rc = ARCHIVE_OK; /* e.g. an unknown uid: owners are normalised anyway */
    if (r->on_bytes && r->kind != CORE_LAYER_DIR) {
      /* Bytes of the file itself (before decompression): the one measure with a known total. */
      la_int64_t done = archive_filter_bytes(r->outer ? r->outer : r->a, -1);
      if (done >= 0) r->on_bytes(r->on_bytes_ctx, (uint64_t)done, r->file_size);
    }
    if (rc != ARCHIVE_OK) return core_error_archive(err, r->a, "reading '%s'", r->source);
    const char *name = archive_entry_pathname(e);
    if (name == NULL) return core_error_set(err, 0, "'%s': an entry has no name", r->source);
    if (r->kind == CORE_LAYER_DIR) {
      size_t rl = strlen(r->root);
      if (strncmp(name, r->root, rl) != 0) return core_error_set(err, 0, "'%s': unexpected path '%s'", r->source, name);
      name += rl;
    }
    free(r->path);
    r->path = strdup(name);
    if (r->path == NULL) return core_error_set(err, ENOMEM, "allocating");
    if (core_normalize_path(r->path) < 0)
      return core_error_set(err, 0, "'%s': entry '%s' escapes the root with '..'", r->source, name);
    if (r->path[0] == 0) continue; /* the root directory itself */
    *entry = e;
    *path = r->path;
    return 1;
  }
}

int core_layer_reader_data(core_layer_reader *r, uint64_t max, core_buf *out, core_error **err) {
  core_buf b = CORE_BUF_INIT;
  /* The header's size is a claim, not a promise (and a zip may make none): the cap is on
   * what is read, one byte past it is enough to know. */
  if (max == UINT64_MAX) max--;
  for (;;) {
    if (b.len > max) {
      core_buf_release(&b);
      return core_error_set(err, EFBIG, "'%s' in '%s' holds more than %llu bytes", r->path, r->source,
                            (unsigned long long)max);
    }
    uint64_t room = max + 1 - b.len;
    if (core_buf_reserve(&b, room < (1 << 16) ? (size_t)room : (1 << 16), err) < 0) goto fail;
    size_t want = b.cap - b.len;
    if ((uint64_t)want > room) want = (size_t)room;
    la_ssize_t n = archive_read_data(r->a, b.data + b.len, want);
    if (n < 0) {
      core_error_archive(err, r->a, "reading '%s' from '%s'", r->path, r->source);
      goto fail;
    }
    if (n == 0) break;
    b.len += (size_t)n;
  }
  *out = b;
  return 0;
fail:
  core_buf_release(&b);
  return -1;
}

int core_layer_reader_copy(core_layer_reader *r, uint64_t max, core_layer_sink *sink, void *ctx, uint64_t *copied,
                           core_error **err) {
  if (max == UINT64_MAX) max--;
  uint64_t done = 0;
  for (;;) {
    /* One byte past max is enough to know; it is never handed on. */
    uint64_t room = max + 1 - done;
    size_t want = room < sizeof r->copy ? (size_t)room : sizeof r->copy;
    la_ssize_t n = archive_read_data(r->a, r->copy, want);
    if (n < 0) return core_error_archive(err, r->a, "reading '%s' from '%s'", r->path, r->source);
    if (n == 0) break;
    if (done + (uint64_t)n > max)
      return core_error_set(err, EFBIG, "'%s' in '%s' holds more than %llu bytes", r->path, r->source, (unsigned long long)max);
    if (sink(ctx, r->copy, (size_t)n, err) < 0) return -1;
    done += (uint64_t)n;
  }
  *copied = done;
  return 0;
}

core_layer_kind core_layer_reader_kind(const core_layer_reader *r) { return r->kind; }

void core_layer_reader_free(core_layer_reader *r) {
  if (r == NULL) return;
  if (r->a) archive_read_free(r->a);
  if (r->outer) archive_read_free(r->outer);
  if (r->disk_entry) archive_entry_free(r->disk_entry);
  free(r->root);
  free(r->path);
  free(r->source);
  free(r);
}

void core_layer_reader_freep(core_layer_reader **r) {
  core_layer_reader_free(*r);
  *r = NULL;
}
