/* Mounts the kernel filesystems that programs expect, then puts stdio on the console. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

static const struct {
  const char *fstype;
  const char *target;
  unsigned long flags;
  const char *options;
} init_mounts[] = {
    {"proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
    {"sysfs", "/sys", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
    {"devtmpfs", "/dev", MS_NOSUID, "mode=0755"},
    /* After /dev: the mount points below it must be made on the devtmpfs, not under it. */
    {"devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666"},
    /* 1777 like /tmp: POSIX shared memory is created by unprivileged users too. */
    {"tmpfs", "/dev/shm", MS_NOSUID | MS_NODEV, "mode=1777"},
    {"tmpfs", "/run", MS_NOSUID | MS_NODEV, "mode=0755"},
    {"tmpfs", "/tmp", MS_NOSUID | MS_NODEV, "mode=1777"},
};

int init_mounts_setup(init_error *err) {
  for (size_t i = 0; i < sizeof init_mounts / sizeof init_mounts[0]; i++) {
    const char *target = init_mounts[i].target;
    if (mkdir(target, 0755) < 0 && errno != EEXIST)
      return init_error_set(err, errno, "creating mount point '%s'", target);
    /* EBUSY: the kernel or an earlier stage mounted it already, which is just as good. */
    if (mount(init_mounts[i].fstype, target, init_mounts[i].fstype, init_mounts[i].flags,
              init_mounts[i].options) < 0 &&
        errno != EBUSY)
      return init_error_set(err, errno, "mounting %s on '%s'", init_mounts[i].fstype, target);
  }
  return 0;
}

int init_console_open(init_error *err) {
  /* O_NOCTTY: init must not own the console, or the main command could not make it its
   * controlling terminal. Opening it through /dev/console (not ttyS0) also keeps these
   * descriptors alive when the main command's session ends and its terminal is hung up. */
  int fd = open("/dev/console", O_RDWR | O_NOCTTY);
  if (fd < 0) return init_error_set(err, errno, "opening '/dev/console'");
  for (int i = 0; i < 3; i++)
    if (fd != i && dup2(fd, i) < 0)
      return init_error_set(err, errno, "redirecting fd %d to '/dev/console'", i);
  if (fd > 2) close(fd);
  return 0;
}

int init_mkdir_p(const char *path, init_error *err) {
  char buf[4096];
  size_t n = strlen(path);
  if (n >= sizeof buf) return init_error_set(err, ENAMETOOLONG, "creating '%s'", path);
  memcpy(buf, path, n + 1);
  /* Each prefix in turn; the last round (i == n) makes the directory itself. */
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    buf[i] = '\0';
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
      return init_error_set(err, errno, "creating '%s'", buf);
    buf[i] = i == n ? '\0' : '/';
  }
  return 0;
}
