/* Writes a root file system as the initramfs: a cpio "newc" archive compressed with zstd. */
#ifndef CORE_INITRAMFS_H
#define CORE_INITRAMFS_H

#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "rootfs.h"

#define CORE_ZSTD_LEVEL 19 /* fixed: the same input must always give the same bytes */

/* mtime is the one timestamp every entry gets (reproducible builds). */
int core_initramfs_write(const core_rootfs *fs, int64_t mtime, core_buf *out, core_error **err);

/* The plain cpio without compression (what the launcher prepends per run). */
int core_cpio_write(const core_rootfs *fs, int64_t mtime, core_buf *out, core_error **err);

int core_zstd_compress(const core_buf *in, int level, core_buf *out, core_error **err);

#endif
