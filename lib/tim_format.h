/* The one copy of the TIM tar format (spec/tim.md): the canonical ustar header corec writes
 * for an entry, which the writer emits and the reader rebuilds and compares byte for byte. */
#ifndef CORE_TIM_FORMAT_H
#define CORE_TIM_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CORE_TAR_BLOCK 512
/* ustar's size field holds 11 octal digits: no entry can be larger. */
#define CORE_TAR_MAX_SIZE 077777777777ULL
/* index.json, manifests, configs and signature envelopes are small; more is an attack. */
#define CORE_TIM_MAX_JSON (4u << 20)
#define CORE_TIM_MAX_BLOBS 4096

#define CORE_TIM_LAYOUT_NAME "oci-layout"
#define CORE_TIM_INDEX_NAME "index.json"
#define CORE_TIM_BLOBS_DIR "blobs/"
#define CORE_TIM_SHA256_DIR "blobs/sha256/"

typedef enum core_tar_type {
  CORE_TAR_FILE = '0',
  CORE_TAR_DIR = '5',
} core_tar_type;

/* Fills hdr with the header corec writes for (name, type, size): mode 0644 or 0755, owner
 * 0:0, no owner names, mtime 0, magic "ustar\0" "00", the whole name in the name field.
 * Fails for a name that does not fit in 100 bytes, a directory with data, or a size ustar
 * cannot hold. */
int core_tar_header(uint8_t hdr[CORE_TAR_BLOCK], const char *name, core_tar_type type, uint64_t size,
                    core_error **err);

/* The header field holding byte offset `at` of a header ("name", "mode", "size", ...). */
const char *core_tar_field_name(size_t at);

/* Bytes of zero padding after `size` bytes of data, up to the next block. */
static inline uint64_t core_tar_padding(uint64_t size) {
  return (CORE_TAR_BLOCK - size % CORE_TAR_BLOCK) % CORE_TAR_BLOCK;
}

#endif
