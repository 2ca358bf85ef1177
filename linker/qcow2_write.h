/* The qcow2 (version 3) writer: an image's extents become a qcow2 file whose layout is fixed
 * and documented in spec/qcow2.md, so a caller can compute where a guest byte lies in it. */
#ifndef CORE_QCOW2_WRITE_H
#define CORE_QCOW2_WRITE_H

#include <stdint.h>

#include "disk_image.h"
#include "error.h"

/* The cluster size corec writes: 64 KiB, QEMU's default. */
#define CORE_QCOW2_CLUSTER_BITS 16

/* Writes IMG (finished with core_image_finish) as a qcow2 v3 file into the empty regular file FD. */
int core_qcow2_write(const core_image *img, int fd, core_error **err);

/* Where guest byte GUEST_OFFSET lies in the file core_qcow2_write makes of IMG; *allocated=0 when
   that cluster is unallocated. A pure function of IMG's layout (no I/O). */
int core_qcow2_file_offset(const core_image *img, uint64_t guest_offset, uint64_t *file_offset, int *allocated,
                           core_error **err);

/* The same two with another cluster size (CLUSTER_BITS in 9..21). Only tests and fuzz seeds use
 * them, to keep files small; corec writes CORE_QCOW2_CLUSTER_BITS. */
int core_qcow2_write_bits(const core_image *img, int fd, unsigned cluster_bits, core_error **err);
int core_qcow2_file_offset_bits(const core_image *img, unsigned cluster_bits, uint64_t guest_offset,
                                uint64_t *file_offset, int *allocated, core_error **err);

#endif
