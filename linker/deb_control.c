/* The control member of a .deb: ar archive -> control.tar(.gz|.xz|.zst) -> ./control. */
#include "deb_control.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "archive_util.h"
#include "cleanup.h"

typedef struct chained {
  struct archive *outer;
  char chunk[1 << 16];
} chained;

static la_ssize_t read_outer(struct archive *inner, void *ctx, const void **buf) {
  (void)inner;
  chained *c = ctx;
  *buf = c->chunk;
  return archive_read_data(c->outer, c->chunk, sizeof c->chunk);
}

/* Reads the current entry of A, refusing one larger than the bound whatever its header says. */
static int read_bounded(struct archive *a, const char *path, core_buf *out, core_error **err) {
  char chunk[1 << 14];
  for (;;) {
    la_ssize_t n = archive_read_data(a, chunk, sizeof chunk);
    if (n < 0) return core_error_archive(err, a, "reading the control file of '%s'", path);
    if (n == 0) return 0;
    if (out->len + (size_t)n > CORE_DEB_CONTROL_MAX)
      return core_error_set(err, EFBIG, "'%s': its control file is larger than %u KiB", path, CORE_DEB_CONTROL_MAX >> 10);
    if (core_buf_append(out, chunk, (size_t)n, err) < 0) return -1;
  }
}

int core_deb_control_read(const char *path, core_buf *out, core_error **err) {
  cleanup_archive_read struct archive *outer = archive_read_new();
  cleanup_archive_read struct archive *inner = NULL;
  cleanup_free chained *c = malloc(sizeof *c); /* 64 KiB: not on the stack */
  if (outer == NULL || c == NULL) return core_error_set(err, ENOMEM, "allocating an archive reader");
  archive_read_support_format_ar(outer);
  if (archive_read_open_filename(outer, path, 1 << 16) != ARCHIVE_OK)
    return core_error_archive(err, outer, "opening Debian package '%s'", path);
  for (;;) {
    struct archive_entry *e;
    int rc = archive_read_next_header(outer, &e);
    if (rc == ARCHIVE_EOF) return core_error_set(err, 0, "'%s' is not a Debian package: it has no control.tar member", path);
    if (rc != ARCHIVE_OK) return core_error_archive(err, outer, "reading Debian package '%s'", path);
    if (strncmp(archive_entry_pathname(e), "control.tar", 11) == 0) break;
  }
  c->outer = outer;
  if ((inner = archive_read_new()) == NULL) return core_error_set(err, ENOMEM, "allocating an archive reader");
  archive_read_support_filter_all(inner);
  archive_read_support_format_tar(inner);
  if (archive_read_open(inner, c, NULL, read_outer, NULL) != ARCHIVE_OK)
    return core_error_archive(err, inner, "opening the control archive of '%s'", path);
  for (;;) {
    struct archive_entry *e;
    int rc = archive_read_next_header(inner, &e);
    if (rc == ARCHIVE_EOF) return core_error_set(err, 0, "'%s' has no control file in its control.tar", path);
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return core_error_archive(err, inner, "reading the control archive of '%s'", path);
    const char *name = archive_entry_pathname(e);
    if (name && (strcmp(name, "./control") == 0 || strcmp(name, "control") == 0) &&
        archive_entry_filetype(e) == AE_IFREG)
      return read_bounded(inner, path, out, err);
  }
}
