/* libarchive helpers. */
#include "archive_util.h"

#include <errno.h>

static la_ssize_t append_to_buf(struct archive *a, void *ctx, const void *data, size_t len) {
  core_error *err = NULL;
  if (core_buf_append(ctx, data, len, &err) < 0) {
    archive_set_error(a, ENOMEM, "%s", err->msg);
    core_error_free(err);
    return -1;
  }
  return (la_ssize_t)len;
}

int core_archive_write_open_buf(struct archive *a, core_buf *out, core_error **err) {
  if (archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
      archive_write_open(a, out, NULL, append_to_buf, NULL) != ARCHIVE_OK)
    return core_error_archive(err, a, "opening an archive writer");
  return 0;
}
