/* The root file system as cpio newc (lib/cpio_write.c) streamed through libzstd (one frame,
 * fixed level and job size, with checksum) into a file descriptor. */
#include "initramfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "cleanup.h"
#include "cpio_write.h"
#include "error_zstd.h"
#include "fsutil.h"

static const core_cpio_type cpio_types[] = {
    [CORE_NODE_DIR] = CORE_CPIO_DIR,
    [CORE_NODE_FILE] = CORE_CPIO_FILE,
    [CORE_NODE_SYMLINK] = CORE_CPIO_SYMLINK,
    [CORE_NODE_CHAR] = CORE_CPIO_CHAR,
};

typedef struct node_reader {
  const core_rootfs *fs;
  const core_node *node;
} node_reader;

static int read_node(void *ctx, uint64_t at, void *buf, size_t len, core_error **err) {
  const node_reader *r = ctx;
  return core_rootfs_node_pread(r->fs, r->node, at, buf, len, err);
}

/* Entries are added in path order, so inode numbers do not depend on the build host. */
static int add_nodes(const core_rootfs *fs, core_cpio *c, core_error **err) {
  for (size_t i = 0; i < fs->n; i++) {
    const core_node *n = &fs->nodes[i];
    node_reader r = {fs, n};
    core_cpio_entry e = {.path = n->path, .type = cpio_types[n->type], .perm = n->perm, .uid = n->uid, .gid = n->gid,
                         .size = n->size, .read = read_node, .read_ctx = &r, .target = n->target,
                         .rdev_major = n->rdev_major, .rdev_minor = n->rdev_minor};
    if (core_cpio_add(c, &e, err) < 0) return -1;
  }
  return 0;
}

int core_cpio_write(const core_rootfs *fs, int64_t mtime, core_buf *out, core_error **err) {
  cleanup_cpio core_cpio *c = NULL;
  if (core_cpio_new(&c, mtime, "the initramfs", err) < 0 || add_nodes(fs, c, err) < 0) return -1;
  return core_cpio_finish(c, out, err);
}

struct core_zstd_writer {
  ZSTD_CCtx *cctx;
  int fd;
  core_hasher *hash;
  uint64_t written;
  uint8_t *out;
  size_t out_cap;
};

void core_zstd_writer_free(core_zstd_writer *z) {
  if (z == NULL) return;
  ZSTD_freeCCtx(z->cctx);
  core_hasher_free(z->hash);
  free(z->out);
  free(z);
}

void core_zstd_writer_freep(core_zstd_writer **z) {
  core_zstd_writer_free(*z);
  *z = NULL;
}

int core_zstd_writer_new(core_zstd_writer **out, int level, int workers, size_t job_size, int out_fd, core_error **err) {
  cleanup_zstd_writer core_zstd_writer *z = calloc(1, sizeof *z);
  if (z == NULL) return core_error_set(err, ENOMEM, "allocating");
  z->fd = out_fd;
  z->out_cap = ZSTD_CStreamOutSize();
  if ((z->cctx = ZSTD_createCCtx()) == NULL || (z->out = malloc(z->out_cap)) == NULL)
    return core_error_set(err, ENOMEM, "allocating a zstd context");
  if (core_hasher_new(&z->hash, err) < 0) return -1;
  size_t rc;
  if (ZSTD_isError(rc = ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, level)) ||
      ZSTD_isError(rc = ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1)))
    return core_error_zstd(err, rc, "configuring zstd");
  if (workers > 0 &&
      (ZSTD_isError(rc = ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_nbWorkers, workers)) ||
       ZSTD_isError(rc = ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_jobSize, (int)(job_size ? job_size : CORE_ZSTD_JOB_SIZE))) ||
       ZSTD_isError(rc = ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_overlapLog, CORE_ZSTD_OVERLAP_LOG))))
    return core_error_zstd(err, rc, "configuring zstd's workers (is libzstd built with multithreading?)");
  *out = TAKE_PTR(z);
  return 0;
}

static int drain(core_zstd_writer *z, ZSTD_outBuffer *o, core_error **err) {
  if (o->pos == 0) return 0;
  if (core_write_all(z->fd, o->dst, o->pos, err) < 0 || core_hasher_update(z->hash, o->dst, o->pos, err) < 0)
    return core_error_wrap(err, "writing the initramfs (is $TMPDIR full?)");
  z->written += o->pos;
  o->pos = 0;
  return 0;
}

int core_zstd_writer_write(core_zstd_writer *z, const void *data, size_t len, core_error **err) {
  ZSTD_inBuffer in = {data, len, 0};
  while (in.pos < in.size) {
    ZSTD_outBuffer o = {z->out, z->out_cap, 0};
    size_t rc = ZSTD_compressStream2(z->cctx, &o, &in, ZSTD_e_continue);
    if (ZSTD_isError(rc)) return core_error_zstd(err, rc, "compressing the initramfs");
    if (drain(z, &o, err) < 0) return -1;
  }
  return 0;
}

int core_zstd_writer_end(core_zstd_writer *z, core_digest *digest, uint64_t *size, core_error **err) {
  ZSTD_inBuffer in = {NULL, 0, 0};
  for (;;) {
    ZSTD_outBuffer o = {z->out, z->out_cap, 0};
    size_t rc = ZSTD_compressStream2(z->cctx, &o, &in, ZSTD_e_end);
    if (ZSTD_isError(rc)) return core_error_zstd(err, rc, "compressing the initramfs");
    if (drain(z, &o, err) < 0) return -1;
    if (rc == 0) break;
  }
  core_digest d;
  if (core_hasher_final(z->hash, &d, err) < 0) return -1;
  if (digest) *digest = d;
  if (size) *size = z->written;
  return 0;
}

int core_zstd_workers(core_error **err) {
  const char *v = getenv(CORE_ZSTD_WORKERS_ENV);
  if (v && *v) {
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 1 || n > CORE_ZSTD_MAX_WORKERS)
      return core_error_set(err, 0, "%s='%s' is not a worker count; write a number from 1 to %d", CORE_ZSTD_WORKERS_ENV, v,
                            CORE_ZSTD_MAX_WORKERS);
    return (int)n;
  }
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  return cpus < 1 ? 1 : cpus > CORE_ZSTD_MAX_WORKERS ? CORE_ZSTD_MAX_WORKERS : (int)cpus;
}

static int to_zstd(void *ctx, const void *data, size_t len, core_error **err) {
  return core_zstd_writer_write(ctx, data, len, err);
}

int core_cpio_stream(const core_rootfs *fs, int64_t mtime, core_cpio_sink *sink, void *ctx, core_error **err) {
  cleanup_cpio core_cpio *c = NULL;
  if (core_cpio_new_sink(&c, mtime, "the initramfs", sink, ctx, err) < 0 || add_nodes(fs, c, err) < 0) return -1;
  return core_cpio_finish(c, NULL, err);
}

int core_initramfs_write(const core_rootfs *fs, int64_t mtime, int out_fd, core_digest *digest, uint64_t *size,
                         core_error **err) {
  int workers = core_zstd_workers(err);
  if (workers < 0) return -1;
  cleanup_zstd_writer core_zstd_writer *z = NULL;
  if (core_zstd_writer_new(&z, CORE_ZSTD_LEVEL, workers, 0, out_fd, err) < 0 ||
      core_cpio_stream(fs, mtime, to_zstd, z, err) < 0)
    return -1;
  return core_zstd_writer_end(z, digest, size, err);
}
