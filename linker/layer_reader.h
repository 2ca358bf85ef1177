/* Reads the entries of a layer source the same way whatever it is: a directory, a tar
 * archive (any compression libarchive knows) or a Debian package (its data archive). */
#ifndef CORE_LAYER_READER_H
#define CORE_LAYER_READER_H

#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "layer_kind.h" /* compiler/: the plan says what kind each source is */

struct archive_entry;

typedef struct core_layer_reader core_layer_reader;

int core_layer_reader_open(const char *path, core_layer_reader **out, core_error **err);
/* Returns 1 with the next entry, 0 at the end. *path is normalised: relative, no "./",
 * no trailing '/', never "" (the root itself is skipped), never with ".." components. */
int core_layer_reader_next(core_layer_reader *r, struct archive_entry **entry, const char **path, core_error **err);
/* Reads the current entry's data; fails with errnum EFBIG, having read at most max + 1 bytes
 * whatever the header claims, when it holds more than max bytes. */
int core_layer_reader_data(core_layer_reader *r, uint64_t max, core_buf *out, core_error **err);
/* The same, streamed: the data goes to sink in chunks of at most 64 KiB as it is read, so a
 * file of any size costs one chunk of memory; *copied gets how many bytes went. Fails as
 * core_layer_reader_data does past max (some bytes may have gone to the sink by then). */
typedef int core_layer_sink(void *ctx, const void *data, size_t len, core_error **err);
int core_layer_reader_copy(core_layer_reader *r, uint64_t max, core_layer_sink *sink, void *ctx, uint64_t *copied,
                           core_error **err);
core_layer_kind core_layer_reader_kind(const core_layer_reader *r);

/* Called as entries are read with the bytes of the source file consumed so far and its size
 * (for progress); not called for directories. */
typedef void (*core_bytes_fn)(void *ctx, uint64_t done, uint64_t total);
void core_layer_reader_on_bytes(core_layer_reader *r, core_bytes_fn fn, void *ctx);
void core_layer_reader_free(core_layer_reader *r);
void core_layer_reader_freep(core_layer_reader **r);
#define cleanup_layer_reader __attribute__((cleanup(core_layer_reader_freep)))

/* Normalises an archive path in place as described above; returns -1 for "..". */
int core_normalize_path(char *path);

#endif
