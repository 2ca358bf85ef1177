/* Writes a root file system as the initramfs: a cpio "newc" archive compressed with zstd,
 * streamed (spec/tim.md, "Memory"): sorted nodes -> cpio -> zstd -> a file descriptor, with
 * neither the whole archive nor the whole compressed output ever in memory. */
#ifndef CORE_INITRAMFS_H
#define CORE_INITRAMFS_H

#include <stdint.h>

#include "buf.h"
#include "cpio_write.h"
#include "digest.h"
#include "error.h"
#include "rootfs.h"

#define CORE_ZSTD_LEVEL 19 /* fixed: the same input must always give the same bytes */
/* zstd's multithreaded mode with a fixed job size: its output depends on the level, the job
 * size and the input, never on how many workers run the jobs (tests/unit/test_initramfs.c
 * checks 1, 2 and 4), so the worker count may follow the machine. */
/* Each job first re-reads the overlap (the end of the job before it, 2^(overlapLog - 9) of the
 * 8 MiB window): 16 MiB jobs with a 4 MiB overlap cost the CPU time of zstd's own choice at
 * level 19 (32 MiB jobs, 8 MiB overlap) in 15% less memory (8 MiB jobs with a full window
 * took 1.7x the CPU time). */
#define CORE_ZSTD_JOB_SIZE (16u << 20)
#define CORE_ZSTD_OVERLAP_LOG 8
#define CORE_ZSTD_MAX_WORKERS 4 /* each costs about 90 MiB at level 19, plus its jobs' buffers */
/* Overrides the worker count (1..CORE_ZSTD_MAX_WORKERS): fewer workers, less memory, same bytes. */
#define CORE_ZSTD_WORKERS_ENV "CORE_ZSTD_WORKERS"

/* mtime is the one timestamp every entry gets (reproducible builds). The compressed bytes are
 * written to out_fd from its current position; *digest and *size are theirs, computed as
 * they are written. */
int core_initramfs_write(const core_rootfs *fs, int64_t mtime, int out_fd, core_digest *digest, uint64_t *size,
                         core_error **err);

/* The cpio of the tree streamed to sink as it is written (what core_initramfs_write
 * compresses): each file's bytes are read a chunk at a time, wherever they are. */
int core_cpio_stream(const core_rootfs *fs, int64_t mtime, core_cpio_sink *sink, void *ctx, core_error **err);

/* The plain cpio without compression, in memory (tests; small trees). */
int core_cpio_write(const core_rootfs *fs, int64_t mtime, core_buf *out, core_error **err);

/* A zstd stream at level with `workers` workers (0: one thread, no multithreading) and jobs
 * of job_size bytes (0: CORE_ZSTD_JOB_SIZE) into out_fd, hashing what it writes. */
typedef struct core_zstd_writer core_zstd_writer;
int core_zstd_writer_new(core_zstd_writer **out, int level, int workers, size_t job_size, int out_fd, core_error **err);
int core_zstd_writer_write(core_zstd_writer *z, const void *data, size_t len, core_error **err);
/* Ends the frame; *digest (may be NULL) and *size get what was written. */
int core_zstd_writer_end(core_zstd_writer *z, core_digest *digest, uint64_t *size, core_error **err);
void core_zstd_writer_free(core_zstd_writer *z);
void core_zstd_writer_freep(core_zstd_writer **z);
#define cleanup_zstd_writer __attribute__((cleanup(core_zstd_writer_freep)))

/* How many workers this machine gets: online CPUs, at most CORE_ZSTD_MAX_WORKERS, or
 * CORE_ZSTD_WORKERS_ENV. */
int core_zstd_workers(core_error **err);

#endif
