/* cpio newc through libarchive, into a core_buf or a sink. */
#include "cpio_write.h"

#include <errno.h>
#include <stdlib.h>

#include <archive.h>

#include "archive_util.h"

struct core_cpio {
  struct archive *a;
  struct archive_entry *e;
  core_buf buf; /* what libarchive has written so far */
  int64_t mtime;
  int64_t next_ino;
  const char *what;
  core_cpio_sink *sink; /* streaming: where the bytes go */
  void *sink_ctx;
  core_error *sink_err; /* the sink's own error, kept across libarchive's callback */
  uint8_t *chunk;       /* a file's bytes on their way from its reader to the archive */
};

enum { CHUNK = 1 << 16 };

void core_cpio_free(core_cpio *c) {
  if (c == NULL) return;
  if (c->a) archive_write_free(c->a);
  if (c->e) archive_entry_free(c->e);
  core_buf_release(&c->buf);
  core_error_free(c->sink_err);
  free(c->chunk);
  free(c);
}

static la_ssize_t to_sink(struct archive *a, void *ctx, const void *data, size_t len) {
  core_cpio *c = ctx;
  if (c->sink_err) return -1;
  if (c->sink(c->sink_ctx, data, len, &c->sink_err) < 0) {
    archive_set_error(a, c->sink_err ? c->sink_err->errnum : 0, "%s", c->sink_err ? c->sink_err->msg : "writing");
    return -1;
  }
  return (la_ssize_t)len;
}

/* libarchive's message, or the sink's own error when the sink failed (it names the cause). */
static int fail(core_cpio *c, core_error **err, const char *fmt, const char *a, const char *b) {
  if (c->sink_err) {
    *err = c->sink_err;
    c->sink_err = NULL;
    return core_error_wrap(err, fmt, a, b);
  }
  return core_error_archive(err, c->a, fmt, a, b);
}

static int cpio_start(core_cpio **out, int64_t mtime, const char *what, core_cpio_sink *sink, void *ctx, core_error **err) {
  core_cpio *c = calloc(1, sizeof *c);
  if (c == NULL || (c->a = archive_write_new()) == NULL || (c->e = archive_entry_new()) == NULL) {
    core_cpio_free(c);
    return core_error_set(err, ENOMEM, "allocating an archive writer");
  }
  c->buf = (core_buf)CORE_BUF_INIT;
  c->mtime = mtime;
  c->next_ino = 1;
  c->what = what;
  if (archive_write_set_format_cpio_newc(c->a) != ARCHIVE_OK) {
    core_error_archive(err, c->a, "starting %s", what);
    core_cpio_free(c);
    return -1;
  }
  c->sink = sink;
  c->sink_ctx = ctx;
  /* The same blocking as the buffer writer (10 KiB, no padding of the last one): the bytes
   * of an archive do not depend on where they go. */
  int rc = sink ? (archive_write_set_bytes_in_last_block(c->a, 1) != ARCHIVE_OK ||
                   archive_write_open2(c->a, c, NULL, to_sink, NULL, NULL) != ARCHIVE_OK
                       ? core_error_archive(err, c->a, "opening %s", what)
                       : 0)
               : core_archive_write_open_buf(c->a, &c->buf, err);
  if (rc < 0) {
    core_cpio_free(c);
    return -1;
  }
  *out = c;
  return 0;
}

int core_cpio_new(core_cpio **out, int64_t mtime, const char *what, core_error **err) {
  return cpio_start(out, mtime, what, NULL, NULL, err);
}

int core_cpio_new_sink(core_cpio **out, int64_t mtime, const char *what, core_cpio_sink *sink, void *ctx, core_error **err) {
  return cpio_start(out, mtime, what, sink, ctx, err);
}

/* A file's bytes from its reader, a chunk at a time. */
static int write_read_data(core_cpio *c, const core_cpio_entry *n, core_error **err) {
  if (c->chunk == NULL && (c->chunk = malloc(CHUNK)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  for (uint64_t at = 0; at < n->size;) {
    size_t len = n->size - at < CHUNK ? (size_t)(n->size - at) : CHUNK;
    if (n->read(n->read_ctx, at, c->chunk, len, err) < 0) return core_error_wrap(err, "reading '%s'", n->path);
    if (archive_write_data(c->a, c->chunk, len) != (la_ssize_t)len)
      return fail(c, err, "writing '%s' into %s", n->path, c->what);
    at += len;
  }
  return 0;
}

int core_cpio_add(core_cpio *c, const core_cpio_entry *n, core_error **err) {
  struct archive_entry *e = c->e;
  archive_entry_clear(e);
  archive_entry_set_pathname(e, n->path);
  archive_entry_set_uid(e, n->uid);
  archive_entry_set_gid(e, n->gid);
  archive_entry_set_mtime(e, c->mtime, 0);
  archive_entry_set_ino64(e, c->next_ino++);
  archive_entry_set_nlink(e, n->type == CORE_CPIO_DIR ? 2 : 1);
  archive_entry_set_size(e, 0);
  switch (n->type) {
    case CORE_CPIO_DIR: archive_entry_set_filetype(e, AE_IFDIR); break;
    case CORE_CPIO_FILE:
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_size(e, (la_int64_t)n->size);
      break;
    case CORE_CPIO_SYMLINK:
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_symlink(e, n->target);
      break;
    case CORE_CPIO_CHAR:
      archive_entry_set_filetype(e, AE_IFCHR);
      archive_entry_set_rdevmajor(e, n->rdev_major);
      archive_entry_set_rdevminor(e, n->rdev_minor);
      break;
  }
  archive_entry_set_perm(e, n->perm);
  if (archive_write_header(c->a, e) != ARCHIVE_OK) return fail(c, err, "writing '%s' into %s", n->path, c->what);
  if (n->type != CORE_CPIO_FILE || n->size == 0) return 0;
  if (n->data == NULL && n->read == NULL) return core_error_set(err, 0, "internal: '%s' has no data to write", n->path);
  if (n->data == NULL) return write_read_data(c, n, err);
  if (archive_write_data(c->a, n->data, (size_t)n->size) != (la_ssize_t)n->size)
    return fail(c, err, "writing '%s' into %s", n->path, c->what);
  return 0;
}

int core_cpio_finish(core_cpio *c, core_buf *out, core_error **err) {
  if (archive_write_close(c->a) != ARCHIVE_OK) return fail(c, err, "writing %s%s", c->what, "");
  if (out == NULL) return 0;
  *out = c->buf;
  c->buf = (core_buf)CORE_BUF_INIT;
  return 0;
}
