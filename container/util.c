/* Small file helpers the setup steps share. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

int ctr_write_file(const char *path, const char *text, ctr_error *err) {
  int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return ctr_error_set(err, errno, "opening '%s'", path);
  size_t len = strlen(text);
  ssize_t w;
  do w = write(fd, text, len);
  while (w < 0 && errno == EINTR);
  int e = errno;
  close(fd);
  if (w < 0) return ctr_error_set(err, e, "writing '%s' to '%s'", text, path);
  if ((size_t)w != len) return ctr_error_set(err, EIO, "writing '%s' to '%s' (short write)", text, path);
  return 0;
}

int ctr_mkdir_p(const char *path, unsigned mode, ctr_error *err) {
  char buf[CTR_PATH_MAX];
  size_t len = strlen(path);
  if (len >= sizeof buf) return ctr_error_set(err, ENAMETOOLONG, "creating '%.64s...'", path);
  memcpy(buf, path, len + 1);
  for (char *p = buf + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char c = *p;
    *p = '\0';
    if (mkdir(buf, mode) < 0 && errno != EEXIST) return ctr_error_set(err, errno, "creating '%s'", buf);
    *p = c;
    if (c == '\0') break;
  }
  struct stat st;
  if (stat(path, &st) < 0) return ctr_error_set(err, errno, "creating '%s'", path);
  if (!S_ISDIR(st.st_mode)) return ctr_error_set(err, ENOTDIR, "creating '%s'", path);
  return 0;
}

int ctr_path_join(char *out, size_t size, const char *a, const char *b, ctr_error *err) {
  size_t alen = strlen(a);
  while (alen > 0 && a[alen - 1] == '/') alen--;
  while (*b == '/') b++;
  int n = snprintf(out, size, "%.*s/%s", (int)alen, a, b);
  if (n < 0 || (size_t)n >= size)
    return ctr_error_set(err, ENAMETOOLONG, "path '%.*s/%.64s'", (int)(alen > 64 ? 64 : alen), a, b);
  return 0;
}
