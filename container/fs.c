/* The container's file system, in the child and in its new mount namespace: the image
 * root bound onto itself, the mounts, devices, masked and read-only paths made under it
 * (sources still seen from the caller's root), then pivot_root into it, its propagation
 * and, last, the root made read-only. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

/* The mount flags a bind remount must keep: statvfs reports them with the same bits. */
static unsigned long ctr_mount_flags_of(const char *path) {
  struct statvfs sv;
  if (statvfs(path, &sv) < 0) return 0;
  unsigned long keep = 0;
  if (sv.f_flag & ST_NOSUID) keep |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) keep |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
  return keep;
}

/* root + path into out, and a check that what the image has there (after symlinks) is
 * still inside the root: an image's symlink must not aim a mount at the caller's files. */
static int ctr_inside(const char *root, const char *path, char *out, size_t size,
                      const char *field, ctr_error *err) {
  if (path[0] != '/') return ctr_error_set(err, 0, "%s '%s': not an absolute path", field, path);
  if (ctr_path_join(out, size, root ? root : "/", path, err) < 0)
    return ctr_error_prefix(err, "%s", field);
  if (!root) return 0;
  char real_root[PATH_MAX], real[PATH_MAX];
  if (!realpath(root, real_root)) return ctr_error_set(err, errno, "root '%s'", root);
  /* Only the existing part can be resolved: walk up to it. */
  char probe[CTR_PATH_MAX];
  snprintf(probe, sizeof probe, "%s", out);
  while (!realpath(probe, real)) {
    char *slash = strrchr(probe, '/');
    if (!slash || slash == probe) return 0;
    *slash = '\0';
  }
  size_t rl = strlen(real_root);
  if (strcmp(real_root, "/") != 0 &&
      (strncmp(real, real_root, rl) != 0 || (real[rl] != '\0' && real[rl] != '/')))
    return ctr_error_set(err, 0, "%s '%s': leads out of the image root (to '%s')", field, path,
                         real);
  return 0;
}

/* Makes what a bind needs at dst: a directory for a directory, an empty file otherwise. */
static int ctr_mountpoint(const char *dst, bool dir, ctr_error *err) {
  if (dir) return ctr_mkdir_p(dst, 0755, err);
  char parent[CTR_PATH_MAX];
  snprintf(parent, sizeof parent, "%s", dst);
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent) {
    *slash = '\0';
    if (ctr_mkdir_p(parent, 0755, err) < 0) return -1;
  }
  int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0 && errno != EISDIR) return ctr_error_set(err, errno, "creating '%s'", dst);
  if (fd >= 0) close(fd);
  return 0;
}

static int ctr_mount_one(const char *root, const ctr_mount *m, ctr_error *err) {
  char dst[CTR_PATH_MAX];
  const char *type = m->type ? m->type : "bind";
  if (!m->destination) return ctr_error_set(err, 0, "mount of type '%s': no destination", type);
  if (ctr_inside(root, m->destination, dst, sizeof dst, "mount", err) < 0) return -1;
  ctr_mount_opts o;
  if (ctr_mount_options_parse(type, m->options, &o, err) < 0)
    return ctr_error_prefix(err, "mount '%s' on '%s'", type, m->destination);
  if (o.bind) {
    struct stat st;
    if (!m->source) return ctr_error_set(err, 0, "bind to '%s': no source", m->destination);
    if (stat(m->source, &st) < 0)
      return ctr_error_set(err, errno, "bind '%s' to '%s': the source", m->source, m->destination);
    if (ctr_mountpoint(dst, S_ISDIR(st.st_mode), err) < 0 ||
        ctr_inside(root, m->destination, dst, sizeof dst, "bind", err) < 0)
      return ctr_error_prefix(err, "bind '%s' to '%s'", m->source, m->destination);
    if (mount(m->source, dst, NULL, MS_BIND | (o.flags & MS_REC), NULL) < 0)
      return ctr_error_set(err, errno, "bind '%s' to '%s'", m->source, m->destination);
    unsigned long extra = o.flags & ~(unsigned long)(MS_BIND | MS_REC);
    if (extra && mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | extra | ctr_mount_flags_of(dst),
                       NULL) < 0)
      return ctr_error_set(err, errno, "bind '%s' to '%s': applying '%s'", m->source,
                           m->destination, m->options ? m->options : "");
  } else {
    if (ctr_mkdir_p(dst, 0755, err) < 0 ||
        ctr_inside(root, m->destination, dst, sizeof dst, "mount", err) < 0)
      return ctr_error_prefix(err, "mount '%s' on '%s'", type, m->destination);
    /* The guest has cgroup v2 only; LinuxKit's `type: cgroup` means its hierarchy. */
    const char *fstype = strcmp(type, "cgroup") == 0 ? "cgroup2" : type;
    const char *source = m->source && m->source[0] ? m->source : fstype;
    if (mount(source, dst, fstype, o.flags, o.data[0] ? o.data : NULL) < 0)
      return ctr_error_set(err, errno, "mount '%s' on '%s' (options '%s')", type, m->destination,
                           m->options ? m->options : "");
  }
  if (o.propagation && mount(NULL, dst, NULL, o.propagation, NULL) < 0)
    return ctr_error_set(err, errno, "mount '%s' on '%s': propagation", type, m->destination);
  return 0;
}

static int ctr_device_make(const char *root, const ctr_device *d, ctr_error *err) {
  char dst[CTR_PATH_MAX];
  if (ctr_inside(root, d->path, dst, sizeof dst, "device", err) < 0) return -1;
  if (ctr_mountpoint(dst, false, err) < 0) return ctr_error_prefix(err, "device '%s'", d->path);
  if (d->bind_from) {
    if (mount(d->bind_from, dst, NULL, MS_BIND, NULL) < 0)
      return ctr_error_set(err, errno, "device '%s': binding '%s'", d->path, d->bind_from);
    return 0;
  }
  if (unlink(dst) < 0 && errno != ENOENT)
    return ctr_error_set(err, errno, "device '%s': replacing '%s'", d->path, dst);
  mode_t kind = d->type == 'b' ? S_IFBLK : S_IFCHR;
  mode_t mode = (mode_t)(d->mode ? d->mode & 07777 : 0666);
  if (mknod(dst, kind | mode, makedev(d->major, d->minor)) < 0)
    return ctr_error_set(err, errno, "device '%s': mknod %c %u:%u", d->path, d->type, d->major,
                         d->minor);
  /* mknod's mode passes through the umask; the spec's mode is meant exactly. */
  if (chmod(dst, mode) < 0 || chown(dst, d->uid, d->gid) < 0)
    return ctr_error_set(err, errno, "device '%s': mode and owner", d->path);
  return 0;
}

static int ctr_mask(const char *root, const char *path, ctr_error *err) {
  char dst[CTR_PATH_MAX];
  struct stat st;
  if (ctr_inside(root, path, dst, sizeof dst, "maskedPaths", err) < 0) return -1;
  if (lstat(dst, &st) < 0) {
    if (errno == ENOENT) return 0; /* nothing to hide */
    return ctr_error_set(err, errno, "maskedPaths '%s'", path);
  }
  int r = S_ISDIR(st.st_mode) ? mount("tmpfs", dst, "tmpfs", MS_RDONLY, "size=0")
                              : mount("/dev/null", dst, NULL, MS_BIND, NULL);
  if (r < 0) return ctr_error_set(err, errno, "maskedPaths '%s'", path);
  return 0;
}

static int ctr_readonly_path(const char *root, const char *path, ctr_error *err) {
  char dst[CTR_PATH_MAX];
  struct stat st;
  if (ctr_inside(root, path, dst, sizeof dst, "readonlyPaths", err) < 0) return -1;
  if (lstat(dst, &st) < 0) {
    if (errno == ENOENT) return 0;
    return ctr_error_set(err, errno, "readonlyPaths '%s'", path);
  }
  if (mount(dst, dst, NULL, MS_BIND | MS_REC, NULL) < 0 ||
      mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | ctr_mount_flags_of(dst), NULL) < 0)
    return ctr_error_set(err, errno, "readonlyPaths '%s'", path);
  return 0;
}

int ctr_fs_setup(const ctr_spec *spec, ctr_error *err) {
  const char *root = spec->root;
  unsigned long prop = spec->root_propagation ? spec->root_propagation : MS_PRIVATE | MS_REC;
  /* Nothing mounted here may reach the caller's namespace: the caller's tree becomes a
   * slave (still receiving its mounts) when shared or slave propagation was asked for,
   * private otherwise. */
  unsigned long outer = prop & (MS_SHARED | MS_SLAVE) ? MS_SLAVE | MS_REC : MS_PRIVATE | MS_REC;
  if (mount(NULL, "/", NULL, outer, NULL) < 0)
    return ctr_error_set(err, errno, "making the mounts of the caller's root private");
  if (root && mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
    return ctr_error_set(err, errno, "root '%s': binding it onto itself", root);
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (ctr_mount_one(root, &spec->mounts[i], err) < 0) return -1;
  for (size_t i = 0; i < spec->n_devices; i++)
    if (ctr_device_make(root, &spec->devices[i], err) < 0) return -1;
  for (const char *const *p = spec->masked_paths; p && *p; p++)
    if (ctr_mask(root, *p, err) < 0) return -1;
  for (const char *const *p = spec->readonly_paths; p && *p; p++)
    if (ctr_readonly_path(root, *p, err) < 0) return -1;
  if (root) {
    /* pivot_root(".", "."): the old root ends up on top of the new one, and is detached. */
    if (chdir(root) < 0) return ctr_error_set(err, errno, "root '%s'", root);
    if (syscall(SYS_pivot_root, ".", ".") < 0)
      return ctr_error_set(err, errno, "root '%s': pivot_root", root);
    if (umount2(".", MNT_DETACH) < 0)
      return ctr_error_set(err, errno, "root '%s': detaching the old root", root);
    if (chdir("/") < 0) return ctr_error_set(err, errno, "root '%s': chdir /", root);
  }
  if (spec->root_propagation && mount(NULL, "/", NULL, prop, NULL) < 0)
    return ctr_error_set(err, errno, "rootfsPropagation");
  if (spec->readonly &&
      mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | ctr_mount_flags_of("/"), NULL) < 0)
    return ctr_error_set(err, errno, "readonly: remounting the root read-only");
  return 0;
}
