/* The spool of the merged tree's file data (see spool.h). */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fsutil.h"

static const char *tmp_dir(void) {
  const char *dir = getenv("TMPDIR");
  return dir && *dir ? dir : "/tmp";
}

int core_tmpfile_open(int *fd, const char *what, core_error **err) {
  const char *dir = tmp_dir();
  int f = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (f < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    /* No O_TMPFILE here (an old kernel, some network file systems): a name, gone at once. */
    char *path = NULL;
    if (asprintf(&path, "%s/core-spool-XXXXXX", dir) < 0) return core_error_set(err, ENOMEM, "allocating");
    f = mkostemp(path, O_CLOEXEC);
    if (f >= 0) unlink(path);
    free(path);
  }
  if (f < 0) return core_error_set(err, errno, "creating %s in '%s' (set TMPDIR to a writable directory with room)", what, dir);
  *fd = f;
  return 0;
}

int core_spool_open(core_spool *s, core_error **err) {
  if (s->fd >= 0) return 0;
  if (core_tmpfile_open(&s->fd, "the spool of file data", err) < 0) return -1;
  s->size = 0;
  return 0;
}

int core_spool_append(core_spool *s, const void *data, size_t len, uint64_t *at, core_error **err) {
  if (core_pwrite_all(s->fd, data, len, s->size, err) < 0) return core_error_wrap(err, "writing the spool (is $TMPDIR full?)");
  *at = s->size;
  s->size += len;
  return 0;
}

int core_spool_read(const core_spool *s, uint64_t at, void *buf, size_t len, core_error **err) {
  if (at > s->size || len > s->size - at)
    return core_error_set(err, 0, "internal: spool read [%llu, +%zu) past its %llu bytes", (unsigned long long)at, len,
                          (unsigned long long)s->size);
  return core_pread_exact(s->fd, buf, len, at, "the spool", err);
}

void core_spool_release(core_spool *s) {
  if (s->fd >= 0) close(s->fd);
  *s = (core_spool)CORE_SPOOL_INIT;
}
