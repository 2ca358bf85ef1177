/* Loads kernel modules with finit_module, in the order the build wrote them. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.h"

/* From <linux/module.h>, which musl does not ship: the kernel decompresses the file. */
#define INIT_MODULE_INIT_COMPRESSED_FILE 4

static int init_ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int init_module_load(const char *path, init_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return init_error_set(err, errno, "loading module '%s'", path);
  /* Newer Debian kernels ship .ko.xz / .ko.zst; the kernel can unpack those itself. */
  int flags =
      init_ends_with(path, ".xz") || init_ends_with(path, ".zst") || init_ends_with(path, ".gz")
          ? INIT_MODULE_INIT_COMPRESSED_FILE
          : 0;
  long r = syscall(SYS_finit_module, fd, "", flags);
  int e = errno;
  close(fd);
  /* EEXIST: built into the kernel or loaded already, which is what we wanted. */
  if (r == 0 || e == EEXIST) return 0;
  /* The kernel says ENOENT for an unresolved symbol, which reads as a missing file. */
  if (e == ENOENT)
    return init_error_set(err, 0,
                          "loading module '%s': %s (unknown symbol: a module it needs is "
                          "not loaded before it; see the kernel log)",
                          path, strerror(e));
  return init_error_set(err, e, "loading module '%s'", path);
}

int init_modules_load(const init_strv *modules, init_error *err) {
  for (size_t i = 0; i < modules->n; i++)
    if (init_module_load(modules->v[i], err) < 0) return -1;
  return 0;
}
