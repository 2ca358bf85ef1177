/* Reads a TIM file: every blob is hashed as it is read and kept in a memfd, so what was
 * checked is exactly what is used later. Nothing in it is trusted yet. */
#ifndef CORE_TIM_READ_H
#define CORE_TIM_READ_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "digest.h"
#include "error.h"

typedef struct core_tim_blob {
  core_digest digest; /* the name it had and the digest of its content: equal by construction */
  uint64_t size;
  int fd; /* memfd holding the bytes */
} core_tim_blob;

typedef struct core_tim {
  core_buf index_json;
  core_tim_blob *blobs;
  size_t n_blobs;
} core_tim;

int core_tim_read(const char *path, core_tim **out, core_error **err);
/* The same layout as a tar at BASE in FD, within LIMIT bytes (a disk form's signed metadata);
 * blobs the layout stores elsewhere are simply absent. *tar_len gets the tar's length. */
int core_tim_read_region(const char *path, int fd, uint64_t base, uint64_t limit, core_tim **out, uint64_t *tar_len,
                         core_error **err);
/* Adds a blob read from elsewhere (a memfd, sealed, hashed by the caller); takes FD. */
int core_tim_add_blob(core_tim *tim, const core_digest *digest, uint64_t size, int fd, core_error **err);
void core_tim_free(core_tim *tim);
void core_tim_freep(core_tim **tim);
#define cleanup_tim __attribute__((cleanup(core_tim_freep)))

/* NULL when the artifact has no blob with this digest. */
core_tim_blob *core_tim_find(core_tim *tim, const core_digest *digest);
/* Reads a small blob (a manifest, an index, a config) into memory, checking its size against
 * the descriptor that referred to it. */
int core_tim_blob_load(core_tim *tim, const core_digest *digest, uint64_t want_size, core_buf *out, core_error **err);

#endif
