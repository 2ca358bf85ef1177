/* Bounded reads of user-named input files: fstat the descriptor that is read, not the name. */
#include "input_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

const char *core_file_type_name(unsigned mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFSOCK: return "a socket";
    case S_IFLNK: return "a symbolic link";
    default: return "not a regular file";
  }
}

/* A refusal: the message says it all, and errnum still tells the caller which kind it was
 * (core_error_set would add strerror's text, "Invalid argument", to the message). */
static int refuse(core_error **err, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(core_error **err, int errnum, const char *fmt, ...) {
  char msg[PATH_MAX + 160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  core_error_set(err, 0, "%s", msg);
  if (err && *err) (*err)->errnum = errnum;
  return -1;
}

int core_read_input_file(const char *path, size_t max, core_buf *out, core_error **err) {
  /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer for ever. */
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return core_error_set(err, errno, "opening '%s'", path);
  struct stat st;
  if (fstat(fd, &st) < 0) return core_error_set(err, errno, "reading '%s'", path);
  if (!S_ISREG(st.st_mode))
    return refuse(err, S_ISDIR(st.st_mode) ? EISDIR : EINVAL, "'%s' is %s, not a regular file", path,
                  core_file_type_name(st.st_mode));
  /* Refused on what the file claims before anything is allocated; the read below is bounded
   * anyway, for files whose size is not what stat says (/proc, a file still growing). */
  if ((unsigned long long)st.st_size > max)
    return refuse(err, EFBIG, "'%s' is %lld bytes, over the limit of %zu bytes", path, (long long)st.st_size, max);
  cleanup_buf core_buf b = CORE_BUF_INIT;
  if (core_buf_reserve(&b, (size_t)st.st_size + 1, err) < 0) return -1;
  for (;;) {
    if (b.len > max)
      return refuse(err, EFBIG, "'%s' grew over the limit of %zu bytes while it was read", path, max);
    if (b.cap - b.len < 2 && core_buf_reserve(&b, b.len < (1u << 16) ? (1u << 16) : b.len, err) < 0) return -1;
    size_t room = b.cap - b.len - 1; /* one byte stays for the NUL */
    if (room > max + 1 - b.len) room = max + 1 - b.len;
    ssize_t n = read(fd, b.data + b.len, room);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core_error_set(err, errno, "reading '%s'", path);
    if (n == 0) break;
    b.len += (size_t)n;
  }
  b.data[b.len] = 0; /* text files can be used as strings */
  *out = b;
  b = (core_buf)CORE_BUF_INIT;
  return 0;
}
