/* The index of a kernel package's files, as a kernel cache keeps it (JSON):
 *   {"format": 1, "source": PACKAGE DIGEST, "pack": DIGEST, "pack_size": N,
 *    "version": "6.1.0-.." | null, "modules_version": "6.1.0-.." | null, "image": [OFFSET, SIZE],
 *    "modules": [[NAME, PATH, OFFSET, SIZE, [DEPENDENCY...] | null], ...], "builtin": [NAME...]}
 * where the pack is the image and every module, one after another. */
#ifndef CORE_KERNEL_INDEX_H
#define CORE_KERNEL_INDEX_H

#include "buf.h"
#include "digest.h"
#include "error.h"
#include "kernel.h"

#define CORE_KERNEL_INDEX_FORMAT 1
/* Bounds on what an index may claim, checked before anything is allocated for it. */
#define CORE_KERNEL_INDEX_MAX_BYTES (64u << 20)
#define CORE_KERNEL_INDEX_MAX_MODULES 100000
#define CORE_KERNEL_INDEX_MAX_DEPENDS 4096
#define CORE_KERNEL_INDEX_MAX_NAME 255
#define CORE_KERNEL_INDEX_MAX_PATH 4096

/* The index's text, and its reader: every field is checked (hostile input: sizes and counts
 * are bounded, every offset lies inside PACK_SIZE bytes, names and paths are well formed)
 * and SOURCE must be the package the index says it describes. K is filled without a pack. */
int core_kernel_index_dump(const core_kernel *k, const core_digest *source, const core_digest *pack,
                           uint64_t pack_size, core_buf *out, core_error **err);
int core_kernel_index_parse(const void *text, size_t len, const core_digest *source, core_kernel *k,
                            core_digest *pack, uint64_t *pack_size, core_error **err);

#endif
