/* FAT type and geometry (see fat_geom.h). The FAT type is never declared in the boot sector
 * as far as readers are concerned: the FAT specification defines it by the count of data
 * clusters alone, so every choice here is made by computing that count. */
#include "fat_geom.h"

#include <stdbool.h>
#include <stddef.h>

/* FAT12 and FAT16 use 2048-byte clusters so that, in an image embedded in an ISO 9660 image,
 * clusters line up with the 2048-byte ISO sectors. */
#define SPC_1216 4u

typedef struct fat_range {
  uint64_t min, max;
} fat_range;

/* Cluster counts of each type, from the FAT specification's type determination. */
static fat_range type_range(int bits) {
  switch (bits) {
  case 12: return (fat_range){1, 4084};
  case 16: return (fat_range){4085, 65524};
  default: return (fat_range){65525, 0x0FFFFFF5};
  }
}

/* The FAT specification's table for FAT32 volumes with 512-byte sectors (DskTableFAT32): up to
 * MAX sectors, SPC sectors per cluster; 0 means too small for FAT32. */
static const struct {
  uint64_t max;
  uint32_t spc;
} fat32_table[] = {
    {66600, 0}, {532480, 1}, {16777216, 8}, {33554432, 16}, {67108864, 32}, {0xFFFFFFFF, 64},
};

static uint32_t fat32_spc(uint64_t total) {
  for (size_t i = 0; i < sizeof fat32_table / sizeof *fat32_table; i++)
    if (total <= fat32_table[i].max) return fat32_table[i].spc;
  return 0;
}

static uint64_t div_up(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

static uint64_t fat_table_bytes(int bits, uint64_t entries) { return div_up(entries * (uint64_t)bits, 8); }

static uint64_t dir_clusters(uint32_t entries, uint32_t spc) {
  uint64_t c = div_up((uint64_t)entries * 32, (uint64_t)spc * FAT_SECTOR);
  return c ? c : 1;
}

uint64_t fat_clusters_needed(const fat_tree *t, int bits, uint32_t spc) {
  uint64_t need = 0;
  for (size_t i = 0; i < t->n; i++) {
    const fat_node *nd = &t->v[i];
    if (nd->is_dir && i == 0 && bits != 32) continue; /* the fixed root region */
    if (nd->is_dir)
      need += dir_clusters(nd->n_slots + (i == 0 ? 1u : 2u), spc); /* label, or "." and ".." */
    else
      need += div_up(nd->size, (uint64_t)spc * FAT_SECTOR);
  }
  return need;
}

/* Places two FATs of FAT_SECTORS each: true when they cover every data cluster that remains. */
static bool try_layout(fat_geom *g, uint64_t fat_sectors) {
  uint64_t base = g->bits == 32 ? 32 : 1; /* FAT32: boot, FSInfo, backups at 6 and 7, room to spare */
  uint64_t meta = base + 2 * fat_sectors + g->root_sectors;
  uint64_t pad = (g->spc - meta % g->spc) % g->spc;
  if (meta + pad >= g->total) return false;
  uint64_t clusters = (g->total - meta - pad) / g->spc;
  if (clusters == 0 || clusters > 0xFFFFFFF0u || fat_table_bytes(g->bits, clusters + 2) > fat_sectors * FAT_SECTOR) return false;
  g->reserved = (uint32_t)(base + pad);
  g->fat_sectors = (uint32_t)fat_sectors;
  g->clusters = (uint32_t)clusters;
  return true;
}

/* The layout of a volume of TOTAL sectors with the smallest FATs that cover it. */
static bool layout_for(int bits, uint64_t total, uint32_t spc, fat_geom *g) {
  *g = (fat_geom){.bits = bits, .spc = spc, .total = total, .root_sectors = bits == 32 ? 0 : FAT_ROOT_ENTRIES_1216 * 32 / FAT_SECTOR};
  uint64_t base = bits == 32 ? 32 : 1;
  if (total <= base + g->root_sectors) return false;
  /* FATs sized as if they took no room are big enough; then shrink them while they still cover. */
  uint64_t upper = div_up(fat_table_bytes(bits, (total - base - g->root_sectors) / spc + 2), FAT_SECTOR);
  if (!try_layout(g, upper)) return false;
  for (;;) {
    fat_geom t = *g;
    if (t.fat_sectors <= 1 || !try_layout(&t, t.fat_sectors - 1)) break;
    *g = t;
  }
  return true;
}

/* The smallest volume (in sectors, at least AT_LEAST) with at least WANT clusters of SPC. */
static bool grow_to(int bits, uint32_t spc, uint64_t want, uint64_t at_least, fat_geom *g) {
  uint64_t base = bits == 32 ? 32 : 1, root = bits == 32 ? 0 : FAT_ROOT_ENTRIES_1216 * 32 / FAT_SECTOR;
  uint64_t total = base + root + 2 * div_up(fat_table_bytes(bits, want + 2), FAT_SECTOR) + want * spc;
  if (total < at_least) total = at_least;
  for (int guard = 0; guard < 1000; guard++) {
    if (total > 0xFFFFFFFFu) return false;
    if (!layout_for(bits, total, spc, g))
      total += spc;
    else if (g->clusters < want)
      total += (want - g->clusters) * spc;
    else
      return true;
  }
  return false;
}

static int type_error(uint64_t size, const fat_geom *g, int bits, core_error **err) {
  fat_range r = type_range(bits);
  return core_error_set(err, 0,
                        "a %llu-byte FAT%d file system would have %llu clusters of %u bytes, but FAT%d needs %llu to %llu "
                        "(the FAT specification defines the type by cluster count); choose another size or type",
                        (unsigned long long)size, bits, (unsigned long long)g->clusters, g->spc * FAT_SECTOR, bits,
                        (unsigned long long)r.min, (unsigned long long)r.max);
}

static bool in_range(const fat_geom *g) {
  fat_range r = type_range(g->bits);
  return g->clusters >= r.min && g->clusters <= r.max;
}

/* An explicit size and type. */
static int fixed(uint64_t size, int bits, fat_geom *g, core_error **err) {
  uint64_t total = size / FAT_SECTOR;
  uint32_t spc = bits == 32 ? fat32_spc(total) : SPC_1216;
  if (spc == 0)
    return core_error_set(err, 0, "a %llu-byte file system is too small for FAT32: the FAT specification's table starts above %llu sectors",
                          (unsigned long long)size, (unsigned long long)fat32_table[0].max);
  if (!layout_for(bits, total, spc, g)) return core_error_set(err, 0, "a %llu-byte file system is too small for FAT%d", (unsigned long long)size, bits);
  return in_range(g) ? 0 : type_error(size, g, bits, err);
}

/* An explicit size, the type by cluster count. */
static int by_count(uint64_t size, fat_geom *g, core_error **err) {
  uint64_t total = size / FAT_SECTOR;
  if (!layout_for(12, total, SPC_1216, g)) return core_error_set(err, 0, "a %llu-byte file system is too small for FAT", (unsigned long long)size);
  if (in_range(g)) return 0;
  if (layout_for(16, total, SPC_1216, g) && in_range(g)) return 0;
  if (g->bits == 16 && g->clusters > type_range(16).max) return fixed(size, 32, g, err);
  return core_error_set(err, 0, "a %llu-byte file system falls between FAT12 and FAT16 cluster counts; choose another size",
                        (unsigned long long)size);
}

/* When the writer picks the size, it keeps this many clusters away from the type boundaries:
 * readers have disagreed by a few clusters about where they lie, and mtools' own check of a
 * volume's parameters fails just above them. An explicit size is taken as the spec defines it. */
#define BOUNDARY_MARGIN 16

/* The smallest FAT32 that holds the tree: the table's cluster size depends on the volume's
 * size, which depends on the cluster size, so each row of the table is tried in turn. */
static int smallest32(const fat_tree *t, fat_geom *g, core_error **err) {
  for (size_t i = 1; i < sizeof fat32_table / sizeof *fat32_table; i++) {
    uint32_t spc = fat32_table[i].spc;
    uint64_t want = fat_clusters_needed(t, 32, spc);
    if (want < type_range(32).min + BOUNDARY_MARGIN) want = type_range(32).min + BOUNDARY_MARGIN;
    if (grow_to(32, spc, want, fat32_table[i - 1].max + 1, g) && g->total <= fat32_table[i].max && in_range(g)) return 0;
  }
  return core_error_set(err, 0, "the files do not fit in the largest FAT32 file system this writer makes (2 TiB)");
}

static int smallest1216(const fat_tree *t, int bits, fat_geom *g) {
  fat_range r = type_range(bits);
  uint64_t want = fat_clusters_needed(t, bits, SPC_1216);
  if (bits == 16 && want < r.min + BOUNDARY_MARGIN) want = r.min + BOUNDARY_MARGIN;
  if (want > r.max - BOUNDARY_MARGIN) return -1;
  return grow_to(bits, SPC_1216, want, 0, g) && g->clusters >= r.min && g->clusters <= r.max - BOUNDARY_MARGIN ? 0 : -1;
}

int fat_geom_choose(const fat_tree *t, uint64_t size, int bits, fat_geom *g, core_error **err) {
  if (bits != 0 && bits != 12 && bits != 16 && bits != 32)
    return core_error_set(err, 0, "FAT type %d is not 12, 16, 32 or 0 (by cluster count)", bits);
  if (size % FAT_SECTOR != 0) return core_error_set(err, 0, "FAT file-system size %llu is not a multiple of 512", (unsigned long long)size);
  if (size / FAT_SECTOR > 0xFFFFFFFFu) return core_error_set(err, 0, "FAT file-system size %llu is beyond FAT's 2 TiB", (unsigned long long)size);
  if (size != 0) return bits ? fixed(size, bits, g, err) : by_count(size, g, err);
  if (bits == 32) return smallest32(t, g, err);
  if (bits != 0) {
    if (smallest1216(t, bits, g) == 0) return 0;
    return core_error_set(err, 0, "the files need %llu clusters of 2048 bytes, more than FAT%d's %llu; use FAT32 or type 0",
                          (unsigned long long)fat_clusters_needed(t, bits, SPC_1216), bits,
                          (unsigned long long)type_range(bits).max);
  }
  if (smallest1216(t, 12, g) == 0 || smallest1216(t, 16, g) == 0) return 0;
  return smallest32(t, g, err);
}
