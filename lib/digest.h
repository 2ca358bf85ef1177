/* SHA-256 digests in the OCI form "sha256:<64 lowercase hex>". */
#ifndef CORE_DIGEST_H
#define CORE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CORE_SHA256_LEN 32
#define CORE_DIGEST_STRLEN (7 + 64) /* "sha256:" + hex, without the NUL */

typedef struct core_digest {
  char str[CORE_DIGEST_STRLEN + 1];
} core_digest;

typedef struct core_hasher core_hasher;

int core_hasher_new(core_hasher **out, core_error **err);
int core_hasher_update(core_hasher *h, const void *data, size_t len, core_error **err);
int core_hasher_final(core_hasher *h, core_digest *out, core_error **err);
void core_hasher_free(core_hasher *h);
void core_hasher_freep(core_hasher **h);
#define cleanup_hasher __attribute__((cleanup(core_hasher_freep)))

int core_digest_bytes(const void *data, size_t len, core_digest *out, core_error **err);
int core_digest_file(const char *path, core_digest *out, uint64_t *size, core_error **err);
/* The digest of everything in FD from its first byte (pread: the file position is left
 * alone); NAME is for messages. SIZE may be NULL. */
int core_digest_fd(int fd, const char *name, core_digest *out, uint64_t *size, core_error **err);

/* Reads bytes [at, at+len) of a source the caller knows the bounds of, exactly. */
typedef int core_read_fn(void *ctx, uint64_t at, void *buf, size_t len, core_error **err);
/* Reads LEN bytes through READ (offsets 0 to LEN-1), hashes them and, when OUT_FD >= 0, writes
 * them to OUT_FD in order. Each chunk is read once into a private buffer and both hashed and
 * written from it unchanged (nothing is read twice), so the digest is that of exactly the
 * bytes written. The reads and writes run on a second thread while this one hashes the chunk
 * before (a verifier's cost is then the hashing alone when a core is free); memory is bounded
 * by CORE_COPY_SLOTS buffers of CORE_COPY_CHUNK bytes, whatever LEN is. */
#define CORE_COPY_CHUNK (1u << 18)
#define CORE_COPY_SLOTS 4u
int core_digest_copy(core_read_fn *read, void *ctx, uint64_t len, int out_fd, core_digest *out, core_error **err);

/* Accepts only "sha256:" followed by exactly 64 lowercase hex digits. */
int core_digest_is_valid(const char *s);
/* The 64 hex digits after "sha256:". */
static inline const char *core_digest_hex(const core_digest *d) { return d->str + 7; }

#endif
