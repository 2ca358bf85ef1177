/* Writing run.conf into a cpio with libarchive, and joining it with the initramfs. */
#include "run_overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "archive_util.h"
#include "cleanup.h"
#include "fsutil.h"
#include "initconf.h"

int core_run_overlay(const core_run_settings *s, core_buf *cpio, core_error **err) {
  cleanup_buf core_buf conf = CORE_BUF_INIT;
  if (core_initconf_begin(&conf, err) < 0) return -1;
  if (s->status_device && core_initconf_add(&conf, INITCONF_STATUS_DEVICE, s->status_device, err) < 0) return -1;
  for (size_t i = 0; i < s->argc; i++)
    if (core_initconf_add(&conf, INITCONF_ARG, s->argv[i], err) < 0) return -1;
  if (s->extra && core_buf_append(&conf, s->extra->data, s->extra->len, err) < 0) return -1;

  core_buf out = CORE_BUF_INIT;
  cleanup_archive_write struct archive *a = archive_write_new();
  cleanup_archive_entry struct archive_entry *e = archive_entry_new();
  if (a == NULL || e == NULL) return core_error_set(err, ENOMEM, "allocating an archive writer");
  if (archive_write_set_format_cpio_newc(a) != ARCHIVE_OK) goto fail;
  if (core_archive_write_open_buf(a, &out, err) < 0) goto fail_quiet;
  /* The directories come first: the kernel unpacks entries in order and creates no parents. */
  static const char *const dirs[] = {"etc", "etc/core"};
  for (size_t i = 0; i < 2; i++) {
    archive_entry_clear(e);
    archive_entry_set_pathname(e, dirs[i]);
    archive_entry_set_filetype(e, AE_IFDIR);
    archive_entry_set_perm(e, 0755);
    archive_entry_set_nlink(e, 2);
    archive_entry_set_size(e, 0);
    archive_entry_set_ino64(e, (int64_t)i + 1);
    if (archive_write_header(a, e) != ARCHIVE_OK) goto fail;
  }
  archive_entry_clear(e);
  archive_entry_set_pathname(e, "etc/core/run.conf");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_nlink(e, 1);
  archive_entry_set_ino64(e, 3);
  archive_entry_set_size(e, (la_int64_t)conf.len);
  if (archive_write_header(a, e) != ARCHIVE_OK || archive_write_data(a, conf.data, conf.len) != (la_ssize_t)conf.len ||
      archive_write_close(a) != ARCHIVE_OK)
    goto fail;
  /* The next archive must start on a 4-byte boundary. */
  while (out.len % 4)
    if (core_buf_append(&out, "", 1, err) < 0) goto fail_quiet;
  *cpio = out;
  return 0;
fail:
  core_error_archive(err, a, "writing the run overlay");
fail_quiet:
  core_buf_release(&out);
  return -1;
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
