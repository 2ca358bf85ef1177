/* The kernel cache: a kernel package's image and modules, unpacked once and kept in the
 * content store by the package's digest, so later builds read them without decompressing
 * the package. Layout and rules: spec/store.md, "The kernel cache".
 *
 *   <store>/cache/kernel/<package hex>   a reference: "sha256:<index digest>\n"
 *   blob <index digest>                  the index (JSON, below)
 *   blob <pack digest>                   the image and every module, one after another
 *
 * The index's format: linker/kernel_index.h. The linker reads packages; this file, in cmd/
 * because it uses the content store (the linker may not), gives it the cache through
 * core_kernel_cache_set (kernel.h). */
#ifndef COREC_KERNEL_CACHE_H
#define COREC_KERNEL_CACHE_H

#include "digest.h"
#include "error.h"
#include "kernel.h"
#include "kernel_index.h"
#include "store.h"

/* 1 when the cache holds package SOURCE: K gets its index and its pack mapped (the pack
 * re-hashed against its digest first; the image is left in the pack). 0 when it does not, or
 * when its entry is damaged in any way (the reference is then removed, so the caller reads
 * the package and writes a good entry). -1 only when out of memory. */
int core_kernel_cache_load(core_store *s, const core_digest *source, core_kernel *k, core_error **err);

/* Stores K's index for SOURCE, whose image and modules are in the stored blob PACK
 * (PACK_SIZE bytes), and then the reference naming it (written atomically). */
int core_kernel_cache_save(core_store *s, const core_digest *source, const core_digest *pack, uint64_t pack_size,
                           const core_kernel *k, core_error **err);

/* Gives core_kernel_load this cache, in the store at STORE_DIR (NULL = the default one;
 * borrowed: it must outlive the builds). */
void corec_kernel_cache_install(const char *store_dir);

/* For 'corec cache': the references, and removing those whose index or pack is gone. */
int core_kernel_cache_count(core_store *s, size_t *n, core_error **err);
int core_kernel_cache_prune(core_store *s, size_t *removed, core_error **err);

#endif
