/* The content store: blobs named by their SHA-256, written through a temporary file and a
 * rename, guarded by one flock so builds share it and gc excludes them (spec/store.md). */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "input_file.h"
#include "store_admin.h"

struct core_store {
  char *dir;
  int lock_fd; /* borrowed from the process-wide table below */
};

struct core_store_writer {
  core_store *store;
  int fd;
  char *tmp_path;
  core_hasher *hasher;
  uint64_t size;
};

/* The linker reads blobs by path after the resolver (and its store handle) is gone, so the
 * shared lock must last as long as the process: one lock descriptor per store directory,
 * kept open until exit. Closing a handle therefore never lets gc in under a running build. */
typedef struct held_lock {
  dev_t dev;
  ino_t ino;
  int fd;
} held_lock;
static held_lock held_locks[16];
static size_t n_held_locks;

static int take_shared_lock(const char *dir, int *out, core_error **err) {
  struct stat st;
  if (stat(dir, &st) < 0) return core_error_set(err, errno, "store '%s'", dir);
  for (size_t i = 0; i < n_held_locks; i++)
    if (held_locks[i].dev == st.st_dev && held_locks[i].ino == st.st_ino) {
      *out = held_locks[i].fd;
      return 0;
    }
  if (n_held_locks == sizeof held_locks / sizeof held_locks[0])
    return core_error_set(err, 0, "too many content stores opened by one process");
  cleanup_free char *lock_path = core_path_join(dir, "lock");
  if (lock_path == NULL) return core_error_set(err, ENOMEM, "allocating a path");
  cleanup_close int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return core_error_set(err, errno, "opening the store lock '%s'", lock_path);
  while (flock(fd, LOCK_SH) < 0)
    if (errno != EINTR) return core_error_set(err, errno, "locking the store '%s'", lock_path);
  held_locks[n_held_locks++] = (held_lock){st.st_dev, st.st_ino, fd};
  *out = TAKE_FD(fd);
  return 0;
}

int core_store_lock_exclusive(core_store *s, int wait, core_error **err) {
  /* Converting a flock is not atomic (the shared lock is dropped first); gc re-reads the
   * store after it holds the exclusive lock, so nothing it decided before counts. */
  while (flock(s->lock_fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return 0;
    return core_error_set(err, errno, "locking the store '%s' for gc", s->dir);
  }
  return 1;
}

int core_store_lock_shared(core_store *s, core_error **err) {
  while (flock(s->lock_fd, LOCK_SH) < 0)
    if (errno != EINTR) return core_error_set(err, errno, "locking the store '%s'", s->dir);
  return 0;
}

static int default_dir(char **out, core_error **err) {
  const char *env = getenv("CORE_STORE_DIR");
  if (env && *env) {
    if ((*out = strdup(env)) == NULL) return core_error_set(err, ENOMEM, "allocating a path");
    return 0;
  }
  cleanup_free char *home = NULL;
  if (core_home_dir(&home, err) < 0) return -1;
  if ((*out = core_path_join(home, "store")) == NULL) return core_error_set(err, ENOMEM, "allocating a path");
  return 0;
}

int core_store_open(const char *dir, core_store **out, core_error **err) {
  cleanup_free char *path = NULL;
  if (dir) {
    if ((path = strdup(dir)) == NULL) return core_error_set(err, ENOMEM, "allocating a path");
  } else if (default_dir(&path, err) < 0) {
    return -1;
  }
  static const char *const subdirs[] = {"blobs/sha256", "tmp", "cache"};
  for (size_t i = 0; i < 3; i++) {
    cleanup_free char *sub = core_path_join(path, subdirs[i]);
    if (sub == NULL) return core_error_set(err, ENOMEM, "allocating a path");
    if (core_mkdir_p(sub, 0755, err) < 0)
      return core_error_wrap(err, "creating the content store (set CORE_STORE_DIR to a writable directory)");
  }
  core_store *s = calloc(1, sizeof *s);
  if (s == NULL) return core_error_set(err, ENOMEM, "allocating");
  s->dir = TAKE_PTR(path);
  if (take_shared_lock(s->dir, &s->lock_fd, err) < 0) {
    core_store_close(s);
    return -1;
  }
  *out = s;
  return 0;
}

int core_store_open_existing(const char *dir, core_store **out, core_error **err) {
  cleanup_free char *path = NULL;
  struct stat st;
  *out = NULL;
  if (dir) {
    if ((path = strdup(dir)) == NULL) return core_error_set(err, ENOMEM, "allocating a path");
  } else if (default_dir(&path, err) < 0) {
    return -1;
  }
  cleanup_free char *blobs = core_path_join(path, "blobs/sha256");
  if (blobs == NULL) return core_error_set(err, ENOMEM, "allocating a path");
  if (stat(blobs, &st) < 0 || !S_ISDIR(st.st_mode)) return 0;
  return core_store_open(path, out, err);
}

void core_store_close(core_store *s) {
  if (s == NULL) return;
  free(s->dir);
  free(s);
}

void core_store_closep(core_store **s) {
  core_store_close(*s);
  *s = NULL;
}

const char *core_store_dir(const core_store *s) { return s->dir; }

char *core_store_blob_path(const core_store *s, const core_digest *d) {
  char *p = NULL;
  if (asprintf(&p, "%s/blobs/sha256/%s", s->dir, core_digest_hex(d)) < 0) return NULL;
  return p;
}

/* --- writing --- */

int core_store_writer_begin(core_store *s, core_store_writer **out, core_error **err) {
  core_store_writer *w = calloc(1, sizeof *w);
  if (w == NULL) return core_error_set(err, ENOMEM, "allocating");
  w->store = s;
  w->fd = -1;
  if (asprintf(&w->tmp_path, "%s/tmp/blob-XXXXXX", s->dir) < 0) {
    w->tmp_path = NULL;
    core_store_writer_abort(w);
    return core_error_set(err, ENOMEM, "allocating a path");
  }
  w->fd = mkostemp(w->tmp_path, O_CLOEXEC);
  if (w->fd < 0) {
    int e = errno;
    free(w->tmp_path);
    w->tmp_path = NULL;
    core_store_writer_abort(w);
    return core_error_set(err, e, "creating a temporary file in the store '%s/tmp'", s->dir);
  }
  if (core_hasher_new(&w->hasher, err) < 0) {
    core_store_writer_abort(w);
    return -1;
  }
  *out = w;
  return 0;
}

int core_store_writer_write(core_store_writer *w, const void *data, size_t len, core_error **err) {
  if (core_write_all(w->fd, data, len, err) < 0) return core_error_wrap(err, "storing a blob in '%s'", w->tmp_path);
  if (core_hasher_update(w->hasher, data, len, err) < 0) return -1;
  w->size += len;
  return 0;
}

int core_store_writer_fd(core_store_writer *w) { return w->fd; }

uint64_t core_store_writer_size(const core_store_writer *w) { return w->size; }

int core_store_writer_rehash(core_store_writer *w, core_error **err) {
  core_hasher_free(w->hasher);
  w->hasher = NULL;
  w->size = 0;
  if (core_hasher_new(&w->hasher, err) < 0) return -1;
  if (lseek(w->fd, 0, SEEK_SET) < 0) return core_error_set(err, errno, "rewinding '%s'", w->tmp_path);
  static uint8_t buf[1 << 16];
  for (;;) {
    ssize_t n = read(w->fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core_error_set(err, errno, "reading '%s'", w->tmp_path);
    if (n == 0) break;
    if (core_hasher_update(w->hasher, buf, (size_t)n, err) < 0) return -1;
    w->size += (uint64_t)n;
  }
  /* Later writes append after what is there, as they would have without the rehash. */
  if (lseek(w->fd, 0, SEEK_END) < 0) return core_error_set(err, errno, "seeking '%s'", w->tmp_path);
  return 0;
}

static int fsync_dir(const char *dir, core_error **err) {
  cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return core_error_set(err, errno, "opening '%s'", dir);
  if (fsync(fd) < 0 && errno != EINVAL) return core_error_set(err, errno, "syncing '%s'", dir);
  return 0;
}

int core_store_writer_commit(core_store_writer *w, const core_digest *want, core_digest *out, core_error **err) {
  core_digest got;
  if (core_hasher_final(w->hasher, &got, err) < 0) return -1;
  core_hasher_free(w->hasher);
  w->hasher = NULL;
  if (want && strcmp(want->str, got.str) != 0)
    return core_error_set(err, 0, "content does not match its pin: expected %s, got %s (%llu bytes); nothing was stored",
                          want->str, got.str, (unsigned long long)w->size);
  /* The blob is durable before its name appears, so a crash leaves either nothing under the
   * final name or the whole blob; a reader never sees a short one. */
  if (fchmod(w->fd, 0444) < 0) return core_error_set(err, errno, "setting the mode of '%s'", w->tmp_path);
  if (fsync(w->fd) < 0) return core_error_set(err, errno, "syncing '%s'", w->tmp_path);
  cleanup_free char *final = core_store_blob_path(w->store, &got);
  if (final == NULL) return core_error_set(err, ENOMEM, "allocating a path");
  /* Another process may have stored the same bytes meanwhile: rename replaces it with an
   * identical file, which readers holding the old one do not notice. */
  if (rename(w->tmp_path, final) < 0) return core_error_set(err, errno, "storing '%s'", final);
  free(w->tmp_path);
  w->tmp_path = NULL;
  cleanup_free char *dir = core_path_dirname(final);
  if (dir == NULL) return core_error_set(err, ENOMEM, "allocating a path");
  if (fsync_dir(dir, err) < 0) return -1;
  if (out) *out = got;
  return 0;
}

void core_store_writer_abort(core_store_writer *w) {
  if (w == NULL) return;
  if (w->fd >= 0) close(w->fd);
  if (w->tmp_path) unlink(w->tmp_path);
  free(w->tmp_path);
  core_hasher_free(w->hasher);
  free(w);
}

void core_store_writer_abortp(core_store_writer **w) {
  core_store_writer_abort(*w);
  *w = NULL;
}

int core_store_put(core_store *s, const void *data, size_t len, core_digest *out, core_error **err) {
  cleanup_store_writer core_store_writer *w = NULL;
  if (core_store_writer_begin(s, &w, err) < 0 || core_store_writer_write(w, data, len, err) < 0 ||
      core_store_writer_commit(w, NULL, out, err) < 0)
    return -1;
  return 0;
}

int core_store_put_file(core_store *s, const char *path, core_digest *out, core_error **err) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return core_error_set(err, errno, "opening '%s'", path);
  cleanup_store_writer core_store_writer *w = NULL;
  if (core_store_writer_begin(s, &w, err) < 0) return -1;
  static uint8_t buf[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core_error_set(err, errno, "reading '%s'", path);
    if (n == 0) break;
    if (core_store_writer_write(w, buf, (size_t)n, err) < 0) return -1;
  }
  return core_store_writer_commit(w, NULL, out, err);
}

/* --- reading --- */

int core_store_has(core_store *s, const core_digest *d) {
  cleanup_free char *p = core_store_blob_path(s, d);
  struct stat st;
  return p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Opens a blob for reading. A blob is a regular file the store wrote: anything else under its
 * name (a link to /dev/zero, a FIFO) is refused without being followed, read or waited on,
 * and removed. */
static int open_blob(core_store *s, const core_digest *d, char **path, int *fd_out, core_error **err) {
  if (!core_digest_is_valid(d->str)) return core_error_set(err, 0, "'%s' is not a sha256 digest", d->str);
  cleanup_free char *p = core_store_blob_path(s, d);
  if (p == NULL) return core_error_set(err, ENOMEM, "allocating a path");
  cleanup_close int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  struct stat st;
  if (fd < 0 && errno == ENOENT)
    return core_error_set(err, ENOENT, "%s is not in the store '%s'; fetch it again", d->str, s->dir);
  if (fd < 0 && errno != ELOOP) return core_error_set(err, errno, "reading blob '%s'", p);
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    if (fd < 0 || !S_ISDIR(st.st_mode)) unlink(p);
    core_error_set(err, 0,
                   "blob %s in the content store '%s' is not a regular file (%s): the store was damaged or edited; "
                   "it has been removed",
                   d->str, s->dir, fd < 0 ? "a symbolic link" : core_file_type_name(st.st_mode));
    if (err && *err) (*err)->errnum = CORE_STORE_ECORRUPT;
    return -1;
  }
  *path = TAKE_PTR(p);
  *fd_out = TAKE_FD(fd);
  return 0;
}

int core_store_corrupt(core_store *s, const core_digest *d, const core_digest *now, core_error **err) {
  /* A damaged blob must never be used again; removing it lets the next fetch replace it. */
  cleanup_free char *p = core_store_blob_path(s, d);
  if (p) unlink(p);
  core_error_set(err, 0,
                 "blob %s in the content store '%s' no longer matches its digest (its content hashes to %s): the "
                 "store was damaged or edited; the blob has been removed",
                 d->str, s->dir, now->str);
  /* Set after: the kind is for the resolver, strerror's "Bad message" is not for the user. */
  if (err && *err) (*err)->errnum = CORE_STORE_ECORRUPT;
  return -1;
}

int core_store_get_verified(core_store *s, const core_digest *d, char **path, core_error **err) {
  cleanup_free char *p = NULL;
  cleanup_close int fd = -1;
  if (open_blob(s, d, &p, &fd, err) < 0) return -1;
  core_digest now;
  if (core_digest_fd(fd, p, &now, NULL, err) < 0) return -1;
  if (strcmp(now.str, d->str) != 0) return core_store_corrupt(s, d, &now, err);
  /* The modification time records the last use, for 'corec cache gc --older-than'. A store
   * shared with other users may refuse this; the blob is still good, so it is not an error. */
  (void)futimens(fd, NULL);
  *path = TAKE_PTR(p);
  return 0;
}

/* Asks for transparent huge pages under a big buffer about to be filled: on a virtual
 * machine every 4 KiB page fault is costly (filling 14 MiB took 60 ms in faults alone on the
 * build machine, 10 ms with huge pages). Only advice: nothing depends on it being taken. */
static void advise_huge_pages(void *p, size_t len) {
  const uintptr_t huge = (uintptr_t)2 << 20;
  uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1), end = ((uintptr_t)p + len) & ~(huge - 1);
  if (end > start) (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
}

int core_store_read_blob(core_store *s, const core_digest *d, uint64_t max, core_buf *out, core_error **err) {
  cleanup_free char *p = NULL;
  cleanup_close int fd = -1;
  struct stat st;
  if (open_blob(s, d, &p, &fd, err) < 0) return -1;
  if (fstat(fd, &st) < 0) return core_error_set(err, errno, "'%s'", p);
  if ((uint64_t)st.st_size > max)
    return core_error_set(err, EFBIG, "blob %s holds %llu bytes, more than the %llu expected", d->str,
                          (unsigned long long)st.st_size, (unsigned long long)max);
  cleanup_buf core_buf b = CORE_BUF_INIT;
  if (core_buf_reserve(&b, (size_t)st.st_size + 1, err) < 0) return -1;
  advise_huge_pages(b.data, (size_t)st.st_size);
  if (core_pread_exact(fd, b.data, (size_t)st.st_size, 0, p, err) < 0) return -1;
  b.len = (size_t)st.st_size;
  /* One byte more would mean the file grew since fstat: the reader hashes what it got. */
  (void)futimens(fd, NULL);
  *out = b;
  b = (core_buf)CORE_BUF_INIT;
  return 0;
}

int core_store_cache_dir(core_store *s, const char *name, char **path, core_error **err) {
  if (name[0] == 0 || name[0] == '/' || strstr(name, "..") != NULL)
    return core_error_set(err, EINVAL, "'%s' is not a valid store cache name", name);
  cleanup_free char *p = NULL;
  if (asprintf(&p, "%s/cache/%s", s->dir, name) < 0) return core_error_set(err, ENOMEM, "allocating a path");
  if (core_mkdir_p(p, 0755, err) < 0) return -1;
  *path = TAKE_PTR(p);
  return 0;
}

/* --- the stat cache of local files --- */

/* An entry: every stat field that changes when a file is written or replaced, and the digest. */
#define STAT_CACHE_FORMAT "core-stat-v1"

static int stat_line(const struct stat *st, const core_digest *d, char *out, size_t size) {
  return snprintf(out, size, STAT_CACHE_FORMAT " %llu %llu %llu %lld.%09ld %lld.%09ld %o %s\n",
                  (unsigned long long)st->st_dev, (unsigned long long)st->st_ino, (unsigned long long)st->st_size,
                  (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec,
                  (unsigned)st->st_mode, d->str);
}

/* The digest an entry records when its fields are exactly those of ST; 0 otherwise. */
static int stat_cache_lookup(const char *entry, const struct stat *st, core_digest *out) {
  cleanup_close int fd = open(entry, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  char text[256], want[256];
  struct stat est;
  if (fd < 0 || fstat(fd, &est) < 0 || !S_ISREG(est.st_mode) || est.st_size >= (off_t)sizeof text) return 0;
  ssize_t n = pread(fd, text, sizeof text - 1, 0);
  if (n <= CORE_DIGEST_STRLEN + 1) return 0;
  text[n] = 0;
  /* The digest is the line's last field: compare everything before it, then check it. */
  const char *d = text + n - 1 - CORE_DIGEST_STRLEN;
  core_digest got;
  memcpy(got.str, d, CORE_DIGEST_STRLEN);
  got.str[CORE_DIGEST_STRLEN] = 0;
  if (text[n - 1] != '\n' || !core_digest_is_valid(got.str)) return 0;
  int l = stat_line(st, &got, want, sizeof want);
  if (l != n || memcmp(text, want, (size_t)n) != 0) return 0;
  *out = got;
  return 1;
}

int core_store_file_digest(core_store *s, const char *path, core_digest *out, uint64_t *size, core_error **err) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return core_error_set(err, errno, "opening '%s'", path);
  struct stat before, after;
  if (fstat(fd, &before) < 0) return core_error_set(err, errno, "'%s'", path);
  cleanup_free char *real = realpath(path, NULL);
  cleanup_free char *dir = NULL, *entry = NULL;
  core_digest key;
  /* Only regular files are remembered; anything the cache cannot place is simply hashed. */
  if (s && real && S_ISREG(before.st_mode) && core_digest_bytes(real, strlen(real), &key, NULL) == 0 &&
      core_store_cache_dir(s, "stat", &dir, NULL) == 0 && asprintf(&entry, "%s/%s", dir, core_digest_hex(&key)) < 0)
    entry = NULL;
  if (entry && stat_cache_lookup(entry, &before, out)) {
    if (size) *size = (uint64_t)before.st_size;
    return 0;
  }
  if (core_digest_fd(fd, path, out, size, err) < 0) return -1;
  /* Remembered only when the file did not change while it was hashed and has not changed for
   * a while: a write in the same clock tick as the hashing could leave every field as it was
   * (git's "racily clean" files), so a file younger than two seconds is hashed every time. */
  struct timespec now;
  if (entry && fstat(fd, &after) == 0 && clock_gettime(CLOCK_REALTIME, &now) == 0 &&
      after.st_mtim.tv_sec == before.st_mtim.tv_sec && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec &&
      after.st_ctim.tv_sec == before.st_ctim.tv_sec && after.st_ctim.tv_nsec == before.st_ctim.tv_nsec &&
      after.st_size == before.st_size && before.st_ctim.tv_sec + 2 < now.tv_sec && before.st_mtim.tv_sec + 2 < now.tv_sec) {
    char line[256];
    int l = stat_line(&before, out, line, sizeof line);
    /* A cache that cannot be written only costs time. */
    if (l > 0 && (size_t)l < sizeof line) (void)core_write_file_atomic(entry, line, (size_t)l, 0644, NULL);
  }
  return 0;
}
