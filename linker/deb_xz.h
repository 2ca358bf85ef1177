/* The data.tar.xz of a Debian package, decoded on several threads. A kernel package's data is
 * about 100 MiB of xz, most of a cold build's time; dpkg-deb writes it in blocks (with sizes
 * in their headers), which liblzma's threaded decoder decodes side by side, as `xz -T0 -d`.
 * Entries are streamed to a file descriptor, never held whole in memory. */
#ifndef CORE_DEB_XZ_H
#define CORE_DEB_XZ_H

#include <stdint.h>

#include "buf.h"
#include "error.h"

struct archive_entry;
typedef struct core_deb_xz core_deb_xz;

/* Where an entry's bytes go, piece by piece. */
typedef int core_write_fn(void *ctx, const void *data, size_t len, core_error **err);

/* 1 with *out reading the data archive of the package at PATH; 0 when its data member is not
 * xz-compressed (*out NULL: read it with the layer reader). */
int core_deb_xz_open(const char *path, core_deb_xz **out, core_error **err);
/* 1 with the next entry (its path normalised as core_normalize_path does; the root itself
 * skipped), 0 at the end. */
int core_deb_xz_next(core_deb_xz *d, struct archive_entry **entry, const char **path, core_error **err);
/* Hands the current entry's data to WRITE; *len gets its size. More than MAX bytes (whatever
 * the header claims) fails with errnum EFBIG. */
int core_deb_xz_copy(core_deb_xz *d, core_write_fn *write, void *ctx, uint64_t max, uint64_t *len, core_error **err);
/* The current entry's data in memory (small files: modules.builtin, modules.dep). */
int core_deb_xz_data(core_deb_xz *d, uint64_t max, core_buf *out, core_error **err);
void core_deb_xz_free(core_deb_xz *d);
void core_deb_xz_freep(core_deb_xz **d);
#define cleanup_deb_xz __attribute__((cleanup(core_deb_xz_freep)))

#endif
