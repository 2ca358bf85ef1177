/* The root file system as cpio newc (lib/cpio_write.c), zstd through libzstd (one frame, fixed
 * level, with checksum). */
#include "initramfs.h"

#include <errno.h>
#include <string.h>
#include <zstd.h>

#include "cleanup.h"
#include "cpio_write.h"
#include "error_zstd.h"

int core_cpio_write(const core_rootfs *fs, int64_t mtime, core_buf *out, core_error **err) {
  /* Entries are added in path order, so inode numbers do not depend on the build host. */
  static const core_cpio_type types[] = {
      [CORE_NODE_DIR] = CORE_CPIO_DIR,
      [CORE_NODE_FILE] = CORE_CPIO_FILE,
      [CORE_NODE_SYMLINK] = CORE_CPIO_SYMLINK,
      [CORE_NODE_CHAR] = CORE_CPIO_CHAR,
  };
  cleanup_cpio core_cpio *c = NULL;
  if (core_cpio_new(&c, mtime, "the initramfs", err) < 0) return -1;
  for (size_t i = 0; i < fs->n; i++) {
    const core_node *n = &fs->nodes[i];
    core_cpio_entry e = {.path = n->path, .type = types[n->type], .perm = n->perm, .uid = n->uid, .gid = n->gid,
                         .data = n->data.data, .size = n->data.len, .target = n->target,
                         .rdev_major = n->rdev_major, .rdev_minor = n->rdev_minor};
    if (core_cpio_add(c, &e, err) < 0) return -1;
  }
  return core_cpio_finish(c, out, err);
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
