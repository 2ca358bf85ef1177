/* The merged root file system: layers applied in order, later entries replacing earlier
 * ones, emitted in sorted order so the result never depends on the order a directory
 * happened to be read in. Names and metadata are in memory; file data is in memory only
 * until core_rootfs_use_spool is called: from then on every file's bytes are appended to the
 * spool (spool.h) as they are read, and a node records where they are. A file a later layer
 * replaces (or a whiteout hides) leaves its bytes in the spool, dead: the spool holds at
 * most what the limits below let the tree read. */
#ifndef CORE_ROOTFS_H
#define CORE_ROOTFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "error.h"
#include "spool.h"

typedef enum core_node_type { CORE_NODE_FILE, CORE_NODE_DIR, CORE_NODE_SYMLINK, CORE_NODE_CHAR } core_node_type;

typedef struct core_node {
  char *path; /* relative, normalised */
  core_node_type type;
  mode_t perm; /* permission bits only */
  uint32_t uid, gid;
  char *target;    /* symlinks */
  core_buf data;   /* files of a tree without a spool: their bytes (read them with core_rootfs_node_read) */
  uint64_t data_at; /* files of a tree with a spool: where their bytes start in it */
  uint64_t size;    /* files: how many bytes, wherever they are */
  uint32_t rdev_major, rdev_minor; /* character devices */
  uint64_t seq;    /* insertion order: the later of two equal paths wins */
  int origin;      /* who added it: a caller's index (a layer, a files: entry) or CORE_ORIGIN_* */
  int yields;      /* a directory that leaves an earlier symlink at its path in place (dpkg) */
  char *written;   /* the path as added, when a symlinked parent moved it (for messages) */
} core_node;

/* Origins of the linker's own nodes. OWNED paths are the linker's alone (init, dev/console,
 * etc/core/init.conf, and the directories it writes into): whatever else lands there is
 * refused rather than silently replaced. LINKER nodes (modules, passwd) may replace. */
#define CORE_ORIGIN_LINKER (-1)
#define CORE_ORIGIN_OWNED (-2)
/* Owned too, but what a layer put there is replaced and recorded in `replaced` (LinuxKit's
 * init images bring their own /init; coreinit takes its place). */
#define CORE_ORIGIN_OWNED_REPLACES (-3)

/* An entry the linker replaced: who added it, and where. */
typedef struct core_replaced {
  int origin;
  char *path;
} core_replaced;

/* What the tree may hold in memory unless the caller says otherwise: one file, and every
 * file read (files a later layer replaces included, since they were read all the same; each
 * entry's name and node count too). */
#define CORE_ROOTFS_MAX_ENTRY_DEFAULT (UINT64_C(1) << 30)
#define CORE_ROOTFS_MAX_TOTAL_DEFAULT (UINT64_C(4) << 30)
/* The environment variables corec reads the limits from (spec/tim.md, "The initramfs"). */
#define CORE_ROOTFS_MAX_ENTRY_ENV "CORE_MAX_FILE_SIZE"
#define CORE_ROOTFS_MAX_TOTAL_ENV "CORE_MAX_ROOTFS_SIZE"

/* An OCI whiteout: hides path and everything below it (opaque: only what is below it) from
 * the entries whose seq is smaller than before, i.e. those of earlier layers. */
typedef struct core_whiteout {
  char *path; /* with room for one more byte: apply_whiteouts appends '/' to look below it */
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
  int origin;         /* given to the nodes added from now on */
  uint64_t max_entry; /* bytes of one file; 0 = CORE_ROOTFS_MAX_ENTRY_DEFAULT */
  uint64_t max_total; /* bytes of every file read; 0 = CORE_ROOTFS_MAX_TOTAL_DEFAULT */
  uint64_t total;     /* bytes of file data read so far */
  int error_origin;   /* after core_rootfs_finish fails: the origin of the node at fault */
  int dirs_yield;     /* directories added now yield to symlinks (see core_rootfs_add_layer) */
  size_t *slots;      /* path -> index + 1 of its latest node, while unsorted (open addressing) */
  size_t n_slots;     /* a power of two, or 0 when the index must be rebuilt */
  core_replaced *replaced; /* filled by core_rootfs_finish, for warnings */
  size_t n_replaced;
  int spooled;        /* file data goes to spool (core_rootfs_use_spool) */
  core_spool spool;
} core_rootfs;

#define CORE_ROOTFS_INIT {0}

/* From now on, file data goes to a spool (an unlinked file in $TMPDIR) rather than memory;
 * call it before adding anything. */
int core_rootfs_use_spool(core_rootfs *fs, core_error **err);

/* The one way to read a file node's bytes, wherever they are: all of them, appended to *out
 * (for the few small files a caller needs whole: etc/passwd, var/lib/dpkg/status), or len
 * bytes from offset at (a writer streaming them). */
int core_rootfs_node_read(const core_rootfs *fs, const core_node *n, core_buf *out, core_error **err);
int core_rootfs_node_pread(const core_rootfs *fs, const core_node *n, uint64_t at, void *buf, size_t len, core_error **err);

/* Adds a node; target and data are taken, on success and on failure alike (with a spool,
 * data's bytes are appended to it and the buffer freed). */
int core_rootfs_add(core_rootfs *fs, const char *path, core_node_type type, mode_t perm, uint32_t uid, uint32_t gid,
                    char *target, core_buf *data, core_error **err);

/* Applies a layer source under dest ("" for the root). Owners and modes of directory
 * layers are normalised (root, 0644/0755) because a checkout carries the builder's.
 * As dpkg and `tar --keep-directory-symlink` do, a directory entry leaves a symlink an
 * earlier layer put at its path (lib -> usr/lib) in place, and what is below it goes
 * where the link leads. (OCI image layers replace it instead, as overlayfs does.) */
int core_rootfs_add_layer(core_rootfs *fs, const char *source, const char *dest, core_error **err);

/* Adds one entry read from r (regular file data is read from it); path is relative to dest.
 * normalise: owners root, modes 0644/0755 (directory sources). Messages name the entry, not
 * the layer: the caller knows how app.yml wrote it. */
struct archive_entry;
struct core_layer_reader;
int core_rootfs_add_entry(core_rootfs *fs, struct core_layer_reader *r, struct archive_entry *e, const char *path,
                          const char *dest, int normalise, core_error **err);

/* Counts size bytes about to be added against the limits (max_entry, max_total) before
 * they are read, or fails naming name ("it" when NULL: the caller names it). */
int core_rootfs_reserve(core_rootfs *fs, const char *name, uint64_t size, core_error **err);

/* Records a whiteout (see core_whiteout) for core_rootfs_finish to apply. */
int core_rootfs_whiteout(core_rootfs *fs, const char *path, int opaque, uint64_t before, core_error **err);

/* Applies whiteouts, resolves overrides, adds missing parent directories, sorts by path.
 * An entry below a symlink in the tree moves to where the link leads, as if written through
 * it (usr-merged images: lib -> usr/lib): absolute targets start at the tree's root, '..'
 * stops there, and more than CORE_ROOTFS_MAX_LINKS links on one path is an error, so nothing
 * ever lands outside the tree. On failure, error_origin names the node at fault. */
#define CORE_ROOTFS_MAX_LINKS 40
/* PATH_MAX: the longest entry name, link target or resolved path, with its NUL. */
#define CORE_ROOTFS_MAX_PATH 4096
int core_rootfs_finish(core_rootfs *fs, core_error **err);
const core_node *core_rootfs_find(const core_rootfs *fs, const char *path);

void core_rootfs_release(core_rootfs *fs);
#define cleanup_rootfs __attribute__((cleanup(core_rootfs_release)))

#endif
