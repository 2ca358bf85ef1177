/* File-system helpers. */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

int core_write_all(int fd, const void *data, size_t len, core_error **err) {
  const uint8_t *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core_error_set(err, errno, "writing");
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int core_pwrite_all(int fd, const void *data, size_t len, uint64_t offset, core_error **err) {
  const uint8_t *p = data;
  while (len > 0) {
    ssize_t n = pwrite(fd, p, len, (off_t)offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core_error_set(err, errno, "writing at byte %llu", (unsigned long long)offset);
    p += n;
    offset += (uint64_t)n;
    len -= (size_t)n;
  }
  return 0;
}

int core_pread_exact(int fd, void *buf, size_t len, uint64_t offset, const char *what, core_error **err) {
  uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = pread(fd, p, len, (off_t)offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core_error_set(err, errno, "reading %s at byte %llu", what, (unsigned long long)offset);
    if (n == 0) return core_error_set(err, 0, "%s ends at byte %llu, before the %zu bytes it should hold there", what, (unsigned long long)offset, len);
    p += n;
    offset += (uint64_t)n;
    len -= (size_t)n;
  }
  return 0;
}

int core_read_file(const char *path, core_buf *out, core_error **err) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return core_error_set(err, errno, "opening '%s'", path);
  core_buf b = CORE_BUF_INIT;
  for (;;) {
    if (core_buf_reserve(&b, 1 << 16, err) < 0) goto fail;
    ssize_t n = read(fd, b.data + b.len, b.cap - b.len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      core_error_set(err, errno, "reading '%s'", path);
      goto fail;
    }
    if (n == 0) break;
    b.len += (size_t)n;
  }
  /* Keep a NUL after the bytes so text files can be used as strings. */
  if (core_buf_reserve(&b, 1, err) < 0) goto fail;
  b.data[b.len] = 0;
  *out = b;
  return 0;
fail:
  core_buf_release(&b);
  return -1;
}

char *core_path_dirname(const char *path) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL) return strdup(".");
  if (slash == path) return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

char *core_path_join(const char *dir, const char *rel) {
  if (rel[0] == '/' || dir == NULL || dir[0] == 0) return strdup(rel);
  char *out = NULL;
  size_t dl = strlen(dir);
  if (asprintf(&out, "%s%s%s", dir, dir[dl - 1] == '/' ? "" : "/", rel) < 0) return NULL;
  return out;
}

static int fsync_dir_of(const char *path, core_error **err) {
  cleanup_free char *dir = core_path_dirname(path);
  if (dir == NULL) return core_error_set(err, ENOMEM, "allocating a path");
  cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return core_error_set(err, errno, "opening directory '%s'", dir);
  if (fsync(dfd) < 0 && errno != EINVAL) return core_error_set(err, errno, "syncing directory '%s'", dir);
  return 0;
}

int core_atomic_open(core_atomic_file *f, const char *path, mode_t mode, core_error **err) {
  f->fd = -1;
  f->path = strdup(path);
  f->tmp_path = NULL;
  cleanup_free char *dir = core_path_dirname(path);
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  if (f->path == NULL || dir == NULL || asprintf(&f->tmp_path, "%s/.%s.tmp-XXXXXX", dir, base) < 0) {
    f->tmp_path = NULL;
    core_atomic_abort(f);
    return core_error_set(err, ENOMEM, "allocating a path");
  }
  f->fd = mkostemp(f->tmp_path, O_CLOEXEC);
  if (f->fd < 0) {
    int e = errno;
    free(f->tmp_path);
    f->tmp_path = NULL;
    core_atomic_abort(f);
    return core_error_set(err, e, "creating a temporary file next to '%s'", path);
  }
  if (fchmod(f->fd, mode) < 0) {
    int e = errno;
    core_atomic_abort(f);
    return core_error_set(err, e, "setting the mode of '%s'", path);
  }
  return 0;
}

int core_atomic_commit(core_atomic_file *f, core_error **err) {
  if (fsync(f->fd) < 0) return core_error_set(err, errno, "syncing '%s'", f->path);
  if (close(f->fd) < 0) {
    f->fd = -1;
    return core_error_set(err, errno, "closing '%s'", f->path);
  }
  f->fd = -1;
  if (rename(f->tmp_path, f->path) < 0) return core_error_set(err, errno, "renaming into '%s'", f->path);
  free(f->tmp_path);
  f->tmp_path = NULL; /* committed: nothing left to remove */
  return fsync_dir_of(f->path, err);
}

void core_atomic_abort(core_atomic_file *f) {
  if (f->fd >= 0) close(f->fd);
  f->fd = -1;
  if (f->tmp_path) unlink(f->tmp_path);
  free(f->tmp_path);
  free(f->path);
  f->tmp_path = f->path = NULL;
}

int core_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, core_error **err) {
  cleanup_atomic_file core_atomic_file f = {.fd = -1};
  if (core_atomic_open(&f, path, mode, err) < 0) return -1;
  if (core_write_all(f.fd, data, len, err) < 0) return core_error_wrap(err, "'%s'", path);
  return core_atomic_commit(&f, err);
}

int core_mkdir_p(const char *path, mode_t mode, core_error **err) {
  cleanup_free char *p = strdup(path);
  if (p == NULL) return core_error_set(err, ENOMEM, "allocating a path");
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    if (mkdir(p, mode) < 0 && errno != EEXIST) return core_error_set(err, errno, "creating directory '%s'", p);
    *s = '/';
  }
  if (mkdir(p, mode) < 0 && errno != EEXIST) return core_error_set(err, errno, "creating directory '%s'", p);
  return 0;
}

int core_home_dir(char **out, core_error **err) {
  const char *home = getenv("CORE_HOME");
  char *dir = NULL;
  if (home && *home) {
    dir = strdup(home);
  } else {
    const char *user_home = getenv("HOME");
    if (user_home == NULL || *user_home == 0)
      return core_error_set(err, 0, "neither CORE_HOME nor HOME is set; set CORE_HOME to a directory for keys and trust");
    dir = core_path_join(user_home, ".core");
  }
  if (dir == NULL) return core_error_set(err, ENOMEM, "allocating a path");
  *out = dir;
  return 0;
}

int core_config_dir(char **out, core_error **err) {
  const char *dir = getenv("CORE_CONFIG_DIR");
  if (dir == NULL || *dir == 0) return core_home_dir(out, err);
  if ((*out = strdup(dir)) == NULL) return core_error_set(err, ENOMEM, "allocating a path");
  return 0;
}

int core_memfd_seal(int fd, core_error **err) {
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    return core_error_set(err, errno, "sealing a memfd");
  return 0;
}
