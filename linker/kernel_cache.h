/* The kernel cache: a kernel package's image and modules, unpacked once and kept in the
 * content store by the package's digest, so later builds read them without decompressing
 * the package. Layout and rules: spec/store.md, "The kernel cache".
 *
 *   <store>/cache/kernel/<package hex>   a reference: "sha256:<index digest>\n"
 *   blob <index digest>                  the index (JSON, below)
 *   blob <pack digest>                   the image and every module, one after another
 *
 * The index: {"format": 1, "source": PACKAGE DIGEST, "pack": DIGEST, "pack_size": N,
 *   "version": "6.1.0-..", "modules_version": "6.1.0-.." | null, "image": [OFFSET, SIZE],
 *   "modules": [[NAME, PATH, OFFSET, SIZE, [DEPENDENCY...] | null], ...], "builtin": [NAME...]} */
#ifndef CORE_KERNEL_CACHE_H
#define CORE_KERNEL_CACHE_H

#include "buf.h"
#include "digest.h"
#include "error.h"
#include "kernel.h"
#include "store.h"

#define CORE_KERNEL_CACHE_FORMAT 1
/* Bounds on what an index may claim, checked before anything is allocated for it. */
#define CORE_KERNEL_INDEX_MAX_BYTES (64u << 20)
#define CORE_KERNEL_INDEX_MAX_MODULES 100000
#define CORE_KERNEL_INDEX_MAX_DEPENDS 4096
#define CORE_KERNEL_INDEX_MAX_NAME 255
#define CORE_KERNEL_INDEX_MAX_PATH 4096

/* 1 when the cache holds package SOURCE: K gets its index and its pack mapped (the pack
 * re-hashed against its digest first; the image is left in the pack). 0 when it does not, or
 * when its entry is damaged in any way (the reference is then removed, so the caller reads
 * the package and writes a good entry). -1 only when out of memory. */
int core_kernel_cache_load(core_store *s, const core_digest *source, core_kernel *k, core_error **err);

/* Stores K's index for SOURCE, whose image and modules are in the stored blob PACK
 * (PACK_SIZE bytes), and then the reference naming it (written atomically). */
int core_kernel_cache_save(core_store *s, const core_digest *source, const core_digest *pack, uint64_t pack_size,
                           const core_kernel *k, core_error **err);

/* The index's text, and its reader: every field is checked (hostile input: sizes and counts
 * are bounded, every offset lies inside PACK_SIZE bytes, names and paths are well formed)
 * and SOURCE must be the package the index says it describes. K is filled without a pack. */
int core_kernel_index_dump(const core_kernel *k, const core_digest *source, const core_digest *pack,
                           uint64_t pack_size, core_buf *out, core_error **err);
int core_kernel_index_parse(const void *text, size_t len, const core_digest *source, core_kernel *k,
                            core_digest *pack, uint64_t *pack_size, core_error **err);

/* For 'corec cache': the references, and removing those whose index or pack is gone. */
int core_kernel_cache_count(core_store *s, size_t *n, core_error **err);
int core_kernel_cache_prune(core_store *s, size_t *removed, core_error **err);

#endif
