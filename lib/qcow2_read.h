/* A strict, bounded qcow2 (version 3) reader for corerun, which must find a small region in a
 * file it does not trust yet. It maps guest offsets and reads guest bytes; it never writes and
 * never allocates or reads more than the file itself holds. What it accepts: spec/qcow2.md. */
#ifndef CORE_QCOW2_READ_H
#define CORE_QCOW2_READ_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Limits the reader enforces and the writer respects. */
#define CORE_QCOW2_MIN_CLUSTER_BITS 9  /* 512-byte clusters, the format's minimum */
#define CORE_QCOW2_MAX_CLUSTER_BITS 21 /* 2 MiB, QEMU's limit */
#define CORE_QCOW2_MAX_VIRTUAL_SIZE (UINT64_C(4) << 40) /* 4 TiB */
#define CORE_QCOW2_MAX_L1_BYTES (UINT64_C(1) << 20)     /* 128 Ki entries: 4 TiB at 64 KiB clusters */

/* An open file; it caches one L2 table, so one thread at a time. */
typedef struct core_qcow2 core_qcow2;

/* Checks the header, header extensions and L1 table of the qcow2 file FD (borrowed: it must stay
 * open until core_qcow2_close, which does not close it). NAME is the file's name for messages. */
int core_qcow2_open(int fd, const char *name, core_qcow2 **out, core_error **err);
uint64_t core_qcow2_virtual_size(const core_qcow2 *q);
/* Maps a guest offset: *file_offset = 0 when unallocated (reads as zeros). */
int core_qcow2_map(core_qcow2 *q, uint64_t guest_offset, uint64_t *file_offset, core_error **err);
/* Reads guest bytes across clusters; unallocated ranges read as zeros. */
int core_qcow2_pread(core_qcow2 *q, void *buf, size_t len, uint64_t guest_offset, core_error **err);
void core_qcow2_close(core_qcow2 *q);
void core_qcow2_closep(core_qcow2 **q);
#define cleanup_qcow2 __attribute__((cleanup(core_qcow2_closep)))

#endif
