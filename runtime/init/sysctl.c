/* Writes the sysctl settings to /proc/sys, before and (for keys a module adds) after the
 * kernel modules are loaded. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

/* Which keys the first pass found missing; the second pass writes only those, so that no
 * setting is written twice (not all of them are idempotent, vm.drop_caches is not). */
static bool *init_sysctl_missing;

static int init_sysctl_write(const char *entry, bool *missing, init_error *err) {
  const char *eq = strchr(entry, '=');
  const char *value = eq + 1;
  char path[256];
  /* The parser checked the key, so this cannot fail. */
  if (init_sysctl_path(entry, (size_t)(eq - entry), path, sizeof path) < 0)
    return init_error_set(err, 0, "sysctl '%s': bad key", entry);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && missing) {
    *missing = true;
    return 0;
  }
  if (fd < 0 && errno == ENOENT)
    return init_error_set(err, 0,
                          "sysctl '%s': the kernel has no such setting (no %s; a module that "
                          "adds it must be listed in the app's modules)",
                          entry, path);
  if (fd < 0) return init_error_set(err, errno, "sysctl '%s': opening %s", entry, path);
  size_t n = strlen(value);
  ssize_t w = write(fd, value, n);
  int e = w < 0 ? errno : EIO;
  close(fd);
  if (w != (ssize_t)n) return init_error_set(err, e, "sysctl '%s': writing %s", entry, path);
  return 0;
}

int init_sysctls_apply(const init_strv *sysctls, bool second_pass, init_error *err) {
  if (sysctls->n == 0) return 0;
  if (!second_pass) {
    init_sysctl_missing = calloc(sysctls->n, sizeof *init_sysctl_missing);
    if (!init_sysctl_missing) return init_error_set(err, ENOMEM, "applying sysctls");
  }
  for (size_t i = 0; i < sysctls->n; i++) {
    if (second_pass && !init_sysctl_missing[i]) continue;
    if (init_sysctl_write(sysctls->v[i], second_pass ? NULL : &init_sysctl_missing[i], err) < 0)
      return -1;
  }
  if (second_pass) {
    free(init_sysctl_missing);
    init_sysctl_missing = NULL;
  }
  return 0;
}
