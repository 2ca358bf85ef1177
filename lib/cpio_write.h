/* The one cpio "newc" writer (libarchive's), filling memory: the linker's initramfs and the
 * launcher's run overlay are both written with it. */
#ifndef CORE_CPIO_WRITE_H
#define CORE_CPIO_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

typedef enum core_cpio_type { CORE_CPIO_DIR = 0, CORE_CPIO_FILE, CORE_CPIO_SYMLINK, CORE_CPIO_CHAR } core_cpio_type;

typedef struct core_cpio_entry {
  const char *path; /* relative, no leading "/": the kernel unpacks into its root */
  core_cpio_type type;
  unsigned perm; /* permission bits only */
  uint32_t uid, gid;
  const void *data; /* CORE_CPIO_FILE: size bytes */
  size_t size;
  const char *target;              /* CORE_CPIO_SYMLINK */
  uint32_t rdev_major, rdev_minor; /* CORE_CPIO_CHAR */
} core_cpio_entry;

typedef struct core_cpio core_cpio;

/* Starts an archive in which every entry gets the timestamp mtime, inode numbers count up
 * from 1 in the order entries are added and nlink is 2 for directories, 1 otherwise: the
 * bytes depend on the entries alone, never on the host (reproducible builds). what names
 * the archive in error messages ("the initramfs"). */
int core_cpio_new(core_cpio **out, int64_t mtime, const char *what, core_error **err);
/* Entries are unpacked in order and the kernel creates no parent directories, so a
 * directory must come before what it holds. */
int core_cpio_add(core_cpio *c, const core_cpio_entry *e, core_error **err);
/* Writes the trailer and hands the bytes to *out; c is then spent (only free it). */
int core_cpio_finish(core_cpio *c, core_buf *out, core_error **err);
void core_cpio_free(core_cpio *c);

static inline void core_cpio_freep(core_cpio **c) {
  core_cpio_free(*c);
  *c = NULL;
}
#define cleanup_cpio __attribute__((cleanup(core_cpio_freep)))

#endif
