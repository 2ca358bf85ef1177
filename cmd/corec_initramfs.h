/* Walks a verified initramfs (zstd-compressed cpio newc, spec/tim.md) entry by entry with
 * libarchive, streaming from its memfd: nothing holds the whole archive or a whole file. A
 * signed archive can still be hostile (its signer's mistake or malice), so what one walk may
 * cost is bounded (spec/inspect.md, "Bounds"): the decompressed bytes pass a framing check
 * (corec_cpio_frame.h) before the cpio reader sees them. */
#ifndef CORE_COREC_INITRAMFS_H
#define CORE_COREC_INITRAMFS_H

#include <archive.h>
#include <archive_entry.h>
#include <stdint.h>

#include "digest.h"
#include "error.h"
#include "tim_read.h"

/* More entries than this, or a path or link target longer than this, refuse the archive. */
#define COREC_INITRAMFS_MAX_ENTRIES 1000000u
#define COREC_INITRAMFS_MAX_PATH 4095u

/* Called per entry; PATH is the entry's path as stored, without a leading "/" or "./". The
 * entry's data may be read from A (corec_initramfs_hash) before returning. Nonzero stops. */
typedef int (*corec_initramfs_fn)(void *ctx, struct archive *a, struct archive_entry *e, const char *path,
                                  core_error **err);

int corec_initramfs_walk(const core_tim_blob *blob, corec_initramfs_fn fn, void *ctx, core_error **err);

/* The SHA-256 of the current entry's data, read in blocks. */
int corec_initramfs_hash(struct archive *a, const char *path, core_digest *out, core_error **err);

/* "-rwxr-xr-x" for the entry (ls -l's first column, without libarchive's ACL marker). */
void corec_initramfs_mode(struct archive_entry *e, char out[11]);

#endif
