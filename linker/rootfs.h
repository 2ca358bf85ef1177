/* The merged root file system: layers applied in order, later entries replacing earlier
 * ones, kept in memory and emitted in sorted order so the result never depends on the
 * order a directory happened to be read in. */
#ifndef CORE_ROOTFS_H
#define CORE_ROOTFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "error.h"

typedef enum core_node_type { CORE_NODE_FILE, CORE_NODE_DIR, CORE_NODE_SYMLINK, CORE_NODE_CHAR } core_node_type;

typedef struct core_node {
  char *path; /* relative, normalised */
  core_node_type type;
  mode_t perm; /* permission bits only */
  uint32_t uid, gid;
  char *target;    /* symlinks */
  core_buf data;   /* files */
  uint32_t rdev_major, rdev_minor; /* character devices */
  uint64_t seq;    /* insertion order: the later of two equal paths wins */
} core_node;

/* An OCI whiteout: hides path and everything below it (opaque: only what is below it) from
 * the entries whose seq is smaller than before, i.e. those of earlier layers. */
typedef struct core_whiteout {
  char *path;
  int opaque;
  uint64_t before;
} core_whiteout;

typedef struct core_rootfs {
  core_node *nodes;
  size_t n, cap;
  uint64_t next_seq;
  int sorted;
  core_whiteout *whiteouts; /* applied by core_rootfs_finish, then dropped */
  size_t n_whiteouts, cap_whiteouts;
  /* Progress of the layer being added (optional): see core_layer_reader_on_bytes. */
  void (*on_bytes)(void *ctx, uint64_t done, uint64_t total);
  void *on_bytes_ctx;
} core_rootfs;

#define CORE_ROOTFS_INIT {NULL, 0, 0, 0, 0, NULL, 0, 0, NULL, NULL}

/* Adds a node; ownership of target and data moves into the tree. */
int core_rootfs_add(core_rootfs *fs, const char *path, core_node_type type, mode_t perm, uint32_t uid, uint32_t gid,
                    char *target, core_buf *data, core_error **err);

/* Applies a layer source under dest ("" for the root). Owners and modes of directory
 * layers are normalised (root, 0644/0755) because a checkout carries the builder's. */
int core_rootfs_add_layer(core_rootfs *fs, const char *source, const char *dest, core_error **err);

/* Adds one entry read from r (regular file data is read from it); path is relative to dest.
 * normalise: owners root, modes 0644/0755 (directory sources). source names r in messages. */
struct archive_entry;
struct core_layer_reader;
int core_rootfs_add_entry(core_rootfs *fs, struct core_layer_reader *r, struct archive_entry *e, const char *path,
                          const char *dest, int normalise, const char *source, core_error **err);

/* Records a whiteout (see core_whiteout) for core_rootfs_finish to apply. */
int core_rootfs_whiteout(core_rootfs *fs, const char *path, int opaque, uint64_t before, core_error **err);

/* Applies whiteouts, resolves overrides, adds missing parent directories, sorts by path. */
int core_rootfs_finish(core_rootfs *fs, core_error **err);
const core_node *core_rootfs_find(const core_rootfs *fs, const char *path);

void core_rootfs_release(core_rootfs *fs);
#define cleanup_rootfs __attribute__((cleanup(core_rootfs_release)))

#endif
