/* The geometry of a FAT file system being built: FAT type, cluster size, where the FATs, the
 * root directory and the data region lie. Internal to linker/fat*.c. */
#ifndef CORE_FAT_GEOM_H
#define CORE_FAT_GEOM_H

#include <stdint.h>

#include "error.h"
#include "fat_tree.h"

#define FAT_SECTOR 512
#define FAT_ROOT_ENTRIES_1216 512 /* the FAT specification's recommended root size for FAT16 */

typedef struct fat_geom {
  int bits;              /* 12, 16 or 32 */
  uint32_t spc;          /* sectors per cluster */
  uint32_t reserved;     /* sectors before the first FAT, padded so data clusters are aligned */
  uint32_t fat_sectors;  /* per FAT; there are two */
  uint32_t root_sectors; /* FAT12/16: the fixed root directory region; 0 for FAT32 */
  uint64_t total;        /* sectors */
  uint32_t clusters;     /* data clusters, numbered from 2 */
} fat_geom;

static inline uint64_t fat_data_start(const fat_geom *g) {
  return (uint64_t)g->reserved + 2ull * g->fat_sectors + g->root_sectors;
}
static inline uint64_t fat_cluster_offset(const fat_geom *g, uint32_t cluster) {
  return (fat_data_start(g) + (uint64_t)(cluster - 2) * g->spc) * FAT_SECTOR;
}

/* Clusters the tree's directories (those outside the FAT12/16 root region) and files take with
 * clusters of SPC sectors. */
uint64_t fat_clusters_needed(const fat_tree *t, int bits, uint32_t spc);

/* Chooses type and geometry for a file system of SIZE bytes (0 = smallest that fits the tree)
 * and BITS (0 = by cluster count). Checks that the type's cluster-count range is met; whether
 * the content fits is checked when clusters are allocated, so the error can name a file. */
int fat_geom_choose(const fat_tree *t, uint64_t size, int bits, fat_geom *g, core_error **err);

#endif
