/* Fixed-width integers at a byte pointer, in a stated byte order: the on-disk formats core
 * writes and reads (FAT, GPT and PE are little-endian, qcow2 big-endian, ISO 9660 both). */
#ifndef CORE_BYTEORDER_H
#define CORE_BYTEORDER_H

#include <stdint.h>

static inline void core_put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static inline void core_put_le32(uint8_t *p, uint32_t v) { core_put_le16(p, (uint16_t)v), core_put_le16(p + 2, (uint16_t)(v >> 16)); }
static inline void core_put_le64(uint8_t *p, uint64_t v) { core_put_le32(p, (uint32_t)v), core_put_le32(p + 4, (uint32_t)(v >> 32)); }
static inline void core_put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static inline void core_put_be32(uint8_t *p, uint32_t v) { core_put_be16(p, (uint16_t)(v >> 16)), core_put_be16(p + 2, (uint16_t)v); }
static inline void core_put_be64(uint8_t *p, uint64_t v) { core_put_be32(p, (uint32_t)(v >> 32)), core_put_be32(p + 4, (uint32_t)v); }

static inline uint16_t core_get_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t core_get_le32(const uint8_t *p) { return core_get_le16(p) | (uint32_t)core_get_le16(p + 2) << 16; }
static inline uint32_t core_get_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t core_get_be64(const uint8_t *p) { return (uint64_t)core_get_be32(p) << 32 | core_get_be32(p + 4); }

#endif
