/* The content store: blobs by SHA-256 under $CORE_HOME/store (CORE_STORE_DIR overrides),
 * written to a temporary name and renamed, safe for concurrent corec processes, and
 * re-hashed whenever a build reads a blob. Layout and locking: spec/store.md. */
#ifndef CORE_STORE_H
#define CORE_STORE_H

#include <errno.h>
#include <stdint.h>

#include "buf.h"
#include "digest.h"
#include "error.h"

typedef struct core_store core_store;

/* dir NULL = the default location. Creates it when missing. */
int core_store_open(const char *dir, core_store **out, core_error **err);
/* The same for a store that already exists; *out is NULL (and no error) when there is none,
 * for what only uses a store when there is one (the stat cache of local files). */
int core_store_open_existing(const char *dir, core_store **out, core_error **err);
void core_store_close(core_store *s);
void core_store_closep(core_store **s);
#define cleanup_store __attribute__((cleanup(core_store_closep)))
const char *core_store_dir(const core_store *s);

/* A blob being written: bytes go to a temporary file in the store while they are hashed.
 * commit checks the digest (when want is given) and renames into place; abort removes. */
typedef struct core_store_writer core_store_writer;
int core_store_writer_begin(core_store *s, core_store_writer **out, core_error **err);
int core_store_writer_write(core_store_writer *w, const void *data, size_t len, core_error **err);
/* The writer's file descriptor, for tools that want to write it themselves (then call
 * core_store_writer_rehash before commit). Bytes already written stay. */
int core_store_writer_fd(core_store_writer *w);
int core_store_writer_rehash(core_store_writer *w, core_error **err);
uint64_t core_store_writer_size(const core_store_writer *w);
/* want may be NULL; on mismatch the error names both digests and nothing is stored. */
int core_store_writer_commit(core_store_writer *w, const core_digest *want, core_digest *out, core_error **err);
void core_store_writer_abort(core_store_writer *w);
void core_store_writer_abortp(core_store_writer **w);
#define cleanup_store_writer __attribute__((cleanup(core_store_writer_abortp)))

/* Stores bytes from memory or from a file (copied). */
int core_store_put(core_store *s, const void *data, size_t len, core_digest *out, core_error **err);
int core_store_put_file(core_store *s, const char *path, core_digest *out, core_error **err);

/* 1 if present, 0 if not. Does not re-hash. */
int core_store_has(core_store *s, const core_digest *d);
/* The errnum of an error about a blob whose content no longer matches its digest. */
#define CORE_STORE_ECORRUPT EBADMSG

/* The blob's path after re-hashing it; a blob whose content no longer matches is removed
 * and reported as an error with errnum CORE_STORE_ECORRUPT, which the resolver places at
 * the source in app.yml. The caller frees *path. */
int core_store_get_verified(core_store *s, const core_digest *d, char **path, core_error **err);

/* A blob's bytes (at most MAX of them) read into *out WITHOUT hashing them, for a reader that
 * hashes what it reads anyway: it must compare the digest and, when it differs, call
 * core_store_corrupt. Non-regular files are refused and removed as above. */
int core_store_read_blob(core_store *s, const core_digest *d, uint64_t max, core_buf *out, core_error **err);
/* Removes blob D, whose content was found to hash to NOW, and sets the same error
 * core_store_get_verified reports for it (errnum CORE_STORE_ECORRUPT). Returns -1. */
int core_store_corrupt(core_store *s, const core_digest *d, const core_digest *now, core_error **err);

/* The SHA-256 of a local file outside the store (an app's own sources), remembered in the
 * stat cache (<store>/cache/stat/) by every stat field a write changes -- device, inode,
 * size, mtime and ctime in nanoseconds, mode -- as git's index does: a file whose fields are
 * all as recorded is not read again. Files changed less than two seconds before they were
 * hashed are never remembered. S may be NULL (then the file is just hashed). */
int core_store_file_digest(core_store *s, const char *path, core_digest *out, uint64_t *size, core_error **err);

/* Small named references (e.g. "git/<url-hash>" -> a bare repository directory) live under
 * <store>/cache/; this returns that directory, creating it. */
int core_store_cache_dir(core_store *s, const char *name, char **path, core_error **err);

#endif
