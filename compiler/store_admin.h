/* Maintenance of the content store for `corec cache`: listing, removing and the exclusive
 * lock that keeps gc from deleting under a build. Not for the build path (compiler/store.h). */
#ifndef CORE_STORE_ADMIN_H
#define CORE_STORE_ADMIN_H

#include <stdint.h>
#include <time.h>

#include "store.h"

/* The path a blob has (or would have) in the store; the caller frees it. NULL on ENOMEM. */
char *core_store_blob_path(const core_store *s, const core_digest *d);

/* Every process that opened a store holds a shared lock on it until it exits. This turns the
 * calling process's lock exclusive: 1 when held, 0 when another process uses the store and
 * wait is 0. core_store_lock_shared turns it back. */
int core_store_lock_exclusive(core_store *s, int wait, core_error **err);
int core_store_lock_shared(core_store *s, core_error **err);

typedef struct core_store_blob {
  core_digest digest;
  uint64_t size;
  time_t last_used; /* the blob's modification time: set when stored and on every verified read */
} core_store_blob;

/* The blobs, sorted by digest. Files that are not named like blobs are skipped. */
int core_store_list(core_store *s, core_store_blob **out, size_t *n, core_error **err);
/* Removes one blob (missing is not an error). Hold the exclusive lock. */
int core_store_remove(core_store *s, const core_digest *d, core_error **err);
/* Removes temporary files older than max_age seconds (what killed writers left behind). */
int core_store_clean_tmp(core_store *s, time_t max_age, size_t *n_removed, uint64_t *bytes, core_error **err);

#endif
