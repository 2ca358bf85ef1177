/* Reads init.conf and run.conf from the guest's root and hands them to the parser. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"

/* Both files are a few lines; a bigger one is a mistake, not something to load. */
#define INIT_CONF_MAX (1 << 20)

static void init_freep(char **p) { free(*p); }
static void init_conf_freep(init_conf *c) { init_conf_free(c); }

/* Returns 0 with the contents in *out, 1 if the file is absent and optional, -1 on error. */
static int init_read_all(const char *path, int optional, char **out, size_t *len, init_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (optional && errno == ENOENT) return 1;
    return init_error_set(err, errno, "reading '%s'", path);
  }
  char *buf = malloc(INIT_CONF_MAX);
  size_t n = 0;
  if (!buf) {
    close(fd);
    return init_error_set(err, ENOMEM, "reading '%s'", path);
  }
  for (;;) {
    ssize_t r = read(fd, buf + n, INIT_CONF_MAX - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      close(fd);
      return init_error_set(err, e, "reading '%s'", path);
    }
    if (r == 0) break;
    n += (size_t)r;
    if (n == INIT_CONF_MAX) {
      free(buf);
      close(fd);
      return init_error_set(err, 0, "reading '%s': larger than %d bytes", path, INIT_CONF_MAX);
    }
  }
  close(fd);
  *out = buf;
  *len = n;
  return 0;
}

static int init_parse_file(init_conf *out, const char *path, init_conf_kind kind, init_error *err) {
  __attribute__((cleanup(init_freep))) char *buf = NULL;
  size_t len = 0;
  int r = init_read_all(path, kind == INIT_CONF_RUN, &buf, &len, err);
  if (r != 0) return r;
  return init_conf_parse(out, path, kind, buf, len, err);
}

int init_conf_load(init_conf *out, init_error *err) {
  __attribute__((cleanup(init_conf_freep))) init_conf base = INIT_CONF_INIT;
  __attribute__((cleanup(init_conf_freep))) init_conf run = INIT_CONF_INIT;

  if (init_parse_file(&base, INIT_CONF_PATH, INIT_CONF_BUILD, err) < 0) return -1;
  int r = init_parse_file(&run, INIT_RUN_CONF_PATH, INIT_CONF_RUN, err);
  if (r < 0) return -1;
  if (r == 0 && init_conf_merge(&base, &run, err) < 0) return -1;
  if (init_conf_finish(&base, INIT_CONF_PATH, err) < 0) return -1;

  *out = base;
  base = (init_conf)INIT_CONF_INIT; /* handed to the caller */
  return 0;
}
