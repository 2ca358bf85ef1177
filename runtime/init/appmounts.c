/* The app's own mounts (tmpfs and ext4 volumes) and the roots its processes chroot
 * into; and, at shutdown, unmounting them so a volume is clean when the VM stops. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

/* ext2/3/4 all carry this magic at byte 1080 (superblock at 1024, s_magic at 56). */
#define INIT_EXT_MAGIC_OFFSET 1080
#define INIT_EXT_MAGIC 0xEF53
/* A virtio disk appears while its module loads, but devtmpfs may lag a moment. */
#define INIT_DEVICE_WAIT_MS 5000

/* Everything mounted here, in order, so shutdown can undo it in reverse. */
typedef struct init_mounted {
  char *path;
  bool volume; /* holds data: an unmount failure is worth a warning */
  bool bind;   /* a recursive bind: detached, not unmounted */
} init_mounted;

static init_mounted *init_mounted_v;
static size_t init_mounted_n, init_mounted_cap;

static int init_mounted_add(const char *path, bool volume, bool bind, init_error *err) {
  init_mounted *v = init_vec_grow(init_mounted_v, &init_mounted_cap, init_mounted_n, sizeof *v);
  char *copy = strdup(path);
  if (!v || !copy) {
    free(copy);
    return init_error_set(err, ENOMEM, "remembering mount '%s'", path);
  }
  init_mounted_v = v;
  v[init_mounted_n++] = (init_mounted){copy, volume, bind};
  return 0;
}

static int init_mount_tmpfs(const init_mount *m, init_error *err) {
  char opts[64];
  int n = snprintf(opts, sizeof opts, "mode=%04o", m->mode >= 0 ? m->mode : 0755);
  if (m->size) snprintf(opts + n, sizeof opts - (size_t)n, ",size=%llu", m->size);
  if (mount("tmpfs", m->path, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
    return init_error_set(err, errno, "mounting a tmpfs on '%s' (%s)", m->path, opts);
  return 0;
}

/* Looks at the disk before mounting, so that the common mistake (a blank image) gets a
 * message that says what to do rather than the kernel's EINVAL. */
static int init_volume_check(const init_mount *m, init_error *err) {
  long long deadline = init_now_ms() + INIT_DEVICE_WAIT_MS;
  int fd;
  while ((fd = open(m->device, O_RDONLY | O_CLOEXEC)) < 0) {
    if (errno != ENOENT || init_now_ms() >= deadline)
      return init_error_set(err, errno,
                            "volume '%s' for '%s': opening disk '%s' (the launcher must attach "
                            "a disk for it, and the build must load its driver, e.g. virtio_blk)",
                            m->volume, m->path, m->device);
    init_sleep_ms(20);
  }
  unsigned char magic[2];
  ssize_t r = pread(fd, magic, sizeof magic, INIT_EXT_MAGIC_OFFSET);
  int e = errno;
  close(fd);
  if (r < 0) return init_error_set(err, e, "volume '%s': reading disk '%s'", m->volume, m->device);
  if (r != 2 || (magic[0] | magic[1] << 8) != INIT_EXT_MAGIC)
    return init_error_set(err, 0,
                          "volume '%s': disk '%s' has no ext4 file system (the launcher must "
                          "provide a formatted disk, e.g. made with mkfs.ext4)",
                          m->volume, m->device);
  return 0;
}

static int init_mount_volume(const init_mount *m, init_error *err) {
  if (init_volume_check(m, err) < 0) return -1;
  if (mount(m->device, m->path, "ext4", MS_NOSUID | MS_NODEV, NULL) < 0)
    return init_error_set(err, errno, "volume '%s': mounting disk '%s' (ext4) on '%s'", m->volume,
                          m->device, m->path);
  /* Only when asked: a volume keeps its own permissions from run to run. */
  if (m->mode >= 0 && chmod(m->path, (mode_t)m->mode) < 0)
    return init_error_set(err, errno, "volume '%s': setting mode %04o on '%s'", m->volume, m->mode,
                          m->path);
  return 0;
}

int init_app_mount(const init_conf *c, init_error *err) {
  for (size_t i = 0; i < c->mounts.n; i++) {
    const init_mount *m = &c->mounts.v[i];
    if (init_mkdir_p(m->path, err) < 0) return -1;
    bool volume = m->type == INIT_MOUNT_VOLUME;
    if ((volume ? init_mount_volume(m, err) : init_mount_tmpfs(m, err)) < 0) return -1;
    if (init_mounted_add(m->path, volume, false, err) < 0) return -1;
  }
  return 0;
}

/* What a program in its own root expects to find: /dev for /dev/null and terminals,
 * /proc and /sys for nearly everything else. */
static const char *const init_root_binds[] = {"/dev", "/proc", "/sys"};

static int init_root_prepare(const init_conf *c, const char *root, const char *owner,
                             init_error *err) {
  struct stat st;
  if (stat(root, &st) < 0) return init_error_set(err, errno, "the root '%s' of %s", root, owner);
  if (!S_ISDIR(st.st_mode)) return init_error_set(err, ENOTDIR, "the root '%s' of %s", root, owner);
  char path[4096];
  for (size_t i = 0; i < sizeof init_root_binds / sizeof init_root_binds[0]; i++) {
    snprintf(path, sizeof path, "%s%s", root, init_root_binds[i]);
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
      return init_error_set(err, errno, "creating '%s' for %s", path, owner);
    if (mount(init_root_binds[i], path, NULL, MS_BIND | MS_REC, NULL) < 0)
      return init_error_set(err, errno, "binding '%s' to '%s' for %s", init_root_binds[i], path,
                            owner);
    if (init_mounted_add(path, false, true, err) < 0) return -1;
  }
  /* The root's programs resolve names through its own /etc. */
  snprintf(path, sizeof path, "%s/etc", root);
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    snprintf(path, sizeof path, "%s/etc/resolv.conf", root);
    if (init_resolv_conf_write(c, path, err) < 0) return -1;
  }
  return 0;
}

int init_roots_prepare(const init_conf *c, init_error *err) {
  const init_procv *kinds[] = {&c->onboot, &c->services, &c->onshutdown};
  static const char *const what[] = {"onboot step", "service", "onshutdown step"};
  for (size_t k = 0; k < 3; k++) {
    for (size_t i = 0; i < kinds[k]->n; i++) {
      const char *root = kinds[k]->v[i].root;
      if (!root || strcmp(root, "/") == 0) continue;
      /* Once per root, however many processes share it. */
      bool seen = false;
      for (size_t m = 0; m < init_mounted_n && !seen; m++)
        seen = init_mounted_v[m].bind && strncmp(init_mounted_v[m].path, root, strlen(root)) == 0 &&
               strcmp(init_mounted_v[m].path + strlen(root), init_root_binds[0]) == 0;
      if (seen) continue;
      char owner[128];
      snprintf(owner, sizeof owner, "%s '%s'", what[k], kinds[k]->v[i].name);
      if (init_root_prepare(c, root, owner, err) < 0) return -1;
    }
  }
  return 0;
}

void init_app_unmount(void) {
  for (size_t i = init_mounted_n; i-- > 0;) {
    const init_mounted *m = &init_mounted_v[i];
    /* A bind of /dev or /proc holds no data; detaching it cannot lose any. */
    if (m->bind) {
      umount2(m->path, MNT_DETACH);
      continue;
    }
    if (umount(m->path) == 0 || !m->volume) continue;
    fprintf(stderr, "coreinit: unmounting volume '%s': %s; making it read-only instead\n", m->path,
            strerror(errno));
    /* Read-only still writes back everything and marks the journal clean. */
    if (mount(NULL, m->path, NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
      fprintf(stderr, "coreinit: making volume '%s' read-only: %s\n", m->path, strerror(errno));
  }
  sync();
}
