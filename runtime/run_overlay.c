/* Writing run.conf into a cpio (lib/cpio_write.c), and joining it with the initramfs. */
#include "run_overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"
#include "cpio_write.h"
#include "fsutil.h"
#include "initconf.h"

int core_run_overlay(const core_run_settings *s, core_buf *cpio, core_error **err) {
  cleanup_buf core_buf conf = CORE_BUF_INIT;
  if (core_initconf_begin(&conf, err) < 0) return -1;
  if (s->status_device && core_initconf_add(&conf, INITCONF_STATUS_DEVICE, s->status_device, err) < 0) return -1;
  for (size_t i = 0; i < s->argc; i++)
    if (core_initconf_add(&conf, INITCONF_ARG, s->argv[i], err) < 0) return -1;
  if (s->extra && core_buf_append(&conf, s->extra->data, s->extra->len, err) < 0) return -1;

  cleanup_cpio core_cpio *c = NULL;
  if (core_cpio_new(&c, 0, "the run overlay", err) < 0) return -1;
  /* The directories come first: the kernel unpacks entries in order and creates no parents. */
  const core_cpio_entry entries[] = {
      {.path = "etc", .type = CORE_CPIO_DIR, .perm = 0755},
      {.path = "etc/core", .type = CORE_CPIO_DIR, .perm = 0755},
      {.path = "etc/core/run.conf", .type = CORE_CPIO_FILE, .perm = 0644, .data = conf.data, .size = conf.len},
  };
  for (size_t i = 0; i < sizeof entries / sizeof *entries; i++)
    if (core_cpio_add(c, &entries[i], err) < 0) return -1;
  core_buf out = CORE_BUF_INIT;
  if (core_cpio_finish(c, &out, err) < 0) return -1;
  /* The next archive must start on a 4-byte boundary. */
  while (out.len % 4)
    if (core_buf_append(&out, "", 1, err) < 0) {
      core_buf_release(&out);
      return -1;
    }
  *cpio = out;
  return 0;
}

int core_run_initrd(const core_buf *overlay, int initramfs_fd, int *out_fd, core_error **err) {
  cleanup_close int fd = memfd_create("core-initrd", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return core_error_set(err, errno, "creating a memfd");
  if (core_write_all(fd, overlay->data, overlay->len, err) < 0) return -1;
  off_t in_off = 0;
  for (;;) {
    char buf[1 << 16];
    ssize_t n = pread(initramfs_fd, buf, sizeof buf, in_off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core_error_set(err, errno, "reading the initramfs");
    if (n == 0) break;
    if (core_write_all(fd, buf, (size_t)n, err) < 0) return -1;
    in_off += n;
  }
  if (core_memfd_seal(fd, err) < 0) return -1;
  *out_fd = TAKE_FD(fd);
  return 0;
}
