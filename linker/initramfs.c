/* cpio newc through libarchive, zstd through libzstd (one frame, fixed level, with checksum). */
#include "initramfs.h"

#include <errno.h>
#include <string.h>
#include <zstd.h>

#include "archive_util.h"
#include "cleanup.h"
#include "error_zstd.h"

int core_cpio_write(const core_rootfs *fs, int64_t mtime, core_buf *out, core_error **err) {
  core_buf buf = CORE_BUF_INIT;
  cleanup_archive_write struct archive *a = archive_write_new();
  cleanup_archive_entry struct archive_entry *e = archive_entry_new();
  if (a == NULL || e == NULL) return core_error_set(err, ENOMEM, "allocating an archive writer");
  if (archive_write_set_format_cpio_newc(a) != ARCHIVE_OK) return core_error_archive(err, a, "starting the initramfs");
  if (core_archive_write_open_buf(a, &buf, err) < 0) {
    core_buf_release(&buf);
    return -1;
  }
  for (size_t i = 0; i < fs->n; i++) {
    const core_node *n = &fs->nodes[i];
    archive_entry_clear(e);
    archive_entry_set_pathname(e, n->path);
    archive_entry_set_uid(e, n->uid);
    archive_entry_set_gid(e, n->gid);
    archive_entry_set_mtime(e, mtime, 0);
    /* Inode numbers are assigned in path order so they do not depend on the build host. */
    archive_entry_set_ino64(e, (int64_t)i + 1);
    archive_entry_set_nlink(e, n->type == CORE_NODE_DIR ? 2 : 1);
    archive_entry_set_size(e, 0);
    switch (n->type) {
      case CORE_NODE_DIR: archive_entry_set_filetype(e, AE_IFDIR); break;
      case CORE_NODE_FILE:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, (la_int64_t)n->data.len);
        break;
      case CORE_NODE_SYMLINK:
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, n->target);
        break;
      case CORE_NODE_CHAR:
        archive_entry_set_filetype(e, AE_IFCHR);
        archive_entry_set_rdevmajor(e, n->rdev_major);
        archive_entry_set_rdevminor(e, n->rdev_minor);
        break;
    }
    archive_entry_set_perm(e, n->perm);
    if (archive_write_header(a, e) != ARCHIVE_OK) goto fail;
    if (n->type == CORE_NODE_FILE && n->data.len &&
        archive_write_data(a, n->data.data, n->data.len) != (la_ssize_t)n->data.len)
      goto fail;
  }
  if (archive_write_close(a) != ARCHIVE_OK) goto fail;
  *out = buf;
  return 0;
fail:
  core_error_archive(err, a, "writing the initramfs");
  core_buf_release(&buf);
  return -1;
}

static void cctx_freep(ZSTD_CCtx **c) { ZSTD_freeCCtx(*c); }

int core_zstd_compress(const core_buf *in, int level, core_buf *out, core_error **err) {
  __attribute__((cleanup(cctx_freep))) ZSTD_CCtx *cctx = ZSTD_createCCtx();
  if (cctx == NULL) return core_error_set(err, ENOMEM, "allocating a zstd context");
  size_t rc;
  if (ZSTD_isError(rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)) ||
      ZSTD_isError(rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)) ||
      ZSTD_isError(rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1)))
    return core_error_zstd(err, rc, "configuring zstd");
  core_buf b = CORE_BUF_INIT;
  if (core_buf_reserve(&b, ZSTD_compressBound(in->len), err) < 0) return -1;
  rc = ZSTD_compress2(cctx, b.data, b.cap, in->data, in->len);
  if (ZSTD_isError(rc)) {
    core_buf_release(&b);
    return core_error_zstd(err, rc, "compressing the initramfs");
  }
  b.len = rc;
  *out = b;
  return 0;
}

int core_initramfs_write(const core_rootfs *fs, int64_t mtime, core_buf *out, core_error **err) {
  cleanup_buf core_buf cpio = CORE_BUF_INIT;
  if (core_cpio_write(fs, mtime, &cpio, err) < 0) return -1;
  return core_zstd_compress(&cpio, CORE_ZSTD_LEVEL, out, err);
}
