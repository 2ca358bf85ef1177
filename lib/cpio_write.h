/* The one cpio "newc" writer (libarchive's), filling memory or streaming to a sink: the
 * linker's initramfs (streamed) and the launcher's run overlay (in memory) are both written
 * with it. */
#ifndef CORE_CPIO_WRITE_H
#define CORE_CPIO_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "digest.h" /* core_read_fn */
#include "error.h"

typedef enum core_cpio_type { CORE_CPIO_DIR = 0, CORE_CPIO_FILE, CORE_CPIO_SYMLINK, CORE_CPIO_CHAR } core_cpio_type;

typedef struct core_cpio_entry {
  const char *path; /* relative, no leading "/": the kernel unpacks into its root */
  core_cpio_type type;
  unsigned perm; /* permission bits only */
  uint32_t uid, gid;
  const void *data; /* CORE_CPIO_FILE: size bytes, or NULL to read them through read */
  uint64_t size;
  core_read_fn *read; /* CORE_CPIO_FILE without data: reads bytes [at, at+len) of the file */
  void *read_ctx;
  const char *target;              /* CORE_CPIO_SYMLINK */
  uint32_t rdev_major, rdev_minor; /* CORE_CPIO_CHAR */
} core_cpio_entry;

typedef struct core_cpio core_cpio;

/* Starts an archive in which every entry gets the timestamp mtime, inode numbers count up
 * from 1 in the order entries are added and nlink is 2 for directories, 1 otherwise: the
 * bytes depend on the entries alone, never on the host (reproducible builds). what names
 * the archive in error messages ("the initramfs"). */
int core_cpio_new(core_cpio **out, int64_t mtime, const char *what, core_error **err);
/* The same archive streamed: each piece of it goes to sink as libarchive writes it (in blocks
 * of 10 KiB), and nothing of it stays here. core_cpio_finish is then called with out NULL. */
typedef int core_cpio_sink(void *ctx, const void *data, size_t len, core_error **err);
int core_cpio_new_sink(core_cpio **out, int64_t mtime, const char *what, core_cpio_sink *sink, void *ctx, core_error **err);
/* Entries are unpacked in order and the kernel creates no parent directories, so a
 * directory must come before what it holds. */
int core_cpio_add(core_cpio *c, const core_cpio_entry *e, core_error **err);
/* Writes the trailer and hands the bytes to *out (NULL for a sink); c is then spent (only free it). */
int core_cpio_finish(core_cpio *c, core_buf *out, core_error **err);
void core_cpio_free(core_cpio *c);

static inline void core_cpio_freep(core_cpio **c) {
  core_cpio_free(*c);
  *c = NULL;
}
#define cleanup_cpio __attribute__((cleanup(core_cpio_freep)))

#endif
