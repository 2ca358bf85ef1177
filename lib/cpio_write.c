/* cpio newc through libarchive, into a core_buf. */
#include "cpio_write.h"

#include <errno.h>
#include <stdlib.h>

#include "archive_util.h"

struct core_cpio {
  struct archive *a;
  struct archive_entry *e;
  core_buf buf; /* what libarchive has written so far */
  int64_t mtime;
  int64_t next_ino;
  const char *what;
};

void core_cpio_free(core_cpio *c) {
  if (c == NULL) return;
  if (c->a) archive_write_free(c->a);
  if (c->e) archive_entry_free(c->e);
  core_buf_release(&c->buf);
  free(c);
}

int core_cpio_new(core_cpio **out, int64_t mtime, const char *what, core_error **err) {
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
  if (core_archive_write_open_buf(c->a, &c->buf, err) < 0) {
    core_cpio_free(c);
    return -1;
  }
  *out = c;
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
  if (archive_write_header(c->a, e) != ARCHIVE_OK ||
      (n->type == CORE_CPIO_FILE && n->size && archive_write_data(c->a, n->data, n->size) != (la_ssize_t)n->size))
    return core_error_archive(err, c->a, "writing '%s' into %s", n->path, c->what);
  return 0;
}

int core_cpio_finish(core_cpio *c, core_buf *out, core_error **err) {
  if (archive_write_close(c->a) != ARCHIVE_OK) return core_error_archive(err, c->a, "writing %s", c->what);
  *out = c->buf;
  c->buf = (core_buf)CORE_BUF_INIT;
  return 0;
}
