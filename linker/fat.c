/* The FAT writer (see fat.h): names to a tree, a geometry for it, clusters allocated in order,
 * then only the metadata that is not zero emitted as extents, and each file's own extents
 * moved to its clusters. */
#include "fat.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "byteorder.h"
#include "cleanup.h"
#include "fat_geom.h"
#include "fat_tree.h"

#define ATTR_VOLUME_ID 0x08
#define ATTR_DIRECTORY 0x10
#define ATTR_ARCHIVE 0x20 /* what a freshly written file carries in every FAT implementation */
#define MEDIA_FIXED 0xF8

typedef struct fat_stamp {
  uint16_t date, time;
  uint8_t tenth; /* units of 10 ms: carries the odd second the 2-second time field drops */
} fat_stamp;

/* FAT stores local time with no zone; UTC is the only choice that does not depend on the host. */
static fat_stamp stamp_of(int64_t mtime) {
  const int64_t min = 315532800;            /* 1980-01-01 00:00:00 UTC */
  const int64_t max = INT64_C(4354819198);  /* 2107-12-31 23:59:58 UTC */
  if (mtime < min) mtime = min;
  if (mtime > max) mtime = max;
  time_t t = (time_t)mtime;
  struct tm tm;
  gmtime_r(&t, &tm);
  return (fat_stamp){
      .date = (uint16_t)(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday),
      .time = (uint16_t)((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2)),
      .tenth = (uint8_t)((tm.tm_sec % 2) * 100),
  };
}

static void dir_entry(uint8_t *e, const uint8_t name[11], uint8_t attr, uint8_t case_flags, uint32_t cluster, uint32_t size,
                      fat_stamp st) {
  memcpy(e, name, 11);
  e[11] = attr;
  e[12] = case_flags;
  e[13] = st.tenth;
  core_put_le16(e + 14, st.time);
  core_put_le16(e + 16, st.date);
  core_put_le16(e + 18, st.date); /* last access */
  core_put_le16(e + 20, cluster >> 16);
  core_put_le16(e + 22, st.time);
  core_put_le16(e + 24, st.date);
  core_put_le16(e + 26, cluster & 0xFFFF);
  core_put_le32(e + 28, size);
}

static uint64_t cluster_bytes(const fat_geom *g) { return (uint64_t)g->spc * FAT_SECTOR; }

static uint32_t dir_entries(const fat_tree *t, size_t i, bool label) {
  return t->v[i].n_slots + (i == 0 ? (label ? 1u : 0u) : 2u);
}

/* Clusters in order: the FAT32 root, the other directories, then the files as given. *NEXT
 * is the first cluster left free. */
static int allocate(fat_tree *t, const core_fat_file *files, const fat_geom *g, uint64_t size, bool label, uint32_t *next,
                    core_error **err) {
  uint64_t at = 2, end = (uint64_t)g->clusters + 2, cb = cluster_bytes(g);
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < t->n; i++) {
      fat_node *nd = &t->v[i];
      if (nd->is_dir != (pass == 0) || (i == 0 && g->bits != 32)) continue;
      uint64_t n = nd->is_dir ? ((uint64_t)dir_entries(t, i, label) * 32 + cb - 1) / cb : (nd->size + cb - 1) / cb;
      if (nd->is_dir && n == 0) n = 1; /* an empty FAT32 root still has its cluster */
      if (n == 0) continue;            /* an empty file has none */
      if (at + n > end) {
        const char *what = nd->is_dir ? "its directories" : files[nd->file].path;
        return core_error_set(err, 0,
                              "FAT path '%s' does not fit: the %llu-byte FAT%d file system has %u clusters of %llu bytes, "
                              "and the directories and files up to this one need %llu; give a larger size or 0",
                              what, (unsigned long long)size, g->bits, g->clusters, (unsigned long long)cb,
                              (unsigned long long)(at + n - 2));
      }
      nd->cluster = (uint32_t)at;
      nd->n_clusters = (uint32_t)n;
      at += n;
    }
  }
  *next = (uint32_t)at;
  return 0;
}

static void fat_set(uint8_t *fat, int bits, uint32_t n, uint32_t v) {
  if (bits == 16) return core_put_le16(fat + 2 * (size_t)n, v);
  if (bits == 32) return core_put_le32(fat + 4 * (size_t)n, v & 0x0FFFFFFF);
  uint8_t *p = fat + n + n / 2; /* 12 bits: two entries in three bytes */
  if (n % 2 == 0) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)((p[1] & 0xF0) | ((v >> 8) & 0x0F));
  } else {
    p[0] = (uint8_t)((p[0] & 0x0F) | ((v << 4) & 0xF0));
    p[1] = (uint8_t)(v >> 4);
  }
}

/* Both FATs: only their used start (entries 0 .. NEXT-1) is not zero, so only that is emitted,
 * and the rest of a large FAT stays a hole. */
static int write_fats(core_image *img, const fat_tree *t, const fat_geom *g, uint32_t next, core_error **err) {
  uint32_t eoc = g->bits == 12 ? 0xFFF : g->bits == 16 ? 0xFFFF : 0x0FFFFFFF;
  size_t bytes = (size_t)(((uint64_t)next * (uint64_t)g->bits + 7) / 8);
  bytes = (bytes + FAT_SECTOR - 1) / FAT_SECTOR * FAT_SECTOR;
  cleanup_free uint8_t *fat = calloc(1, bytes);
  if (fat == NULL) return core_error_set(err, ENOMEM, "allocating the FAT");
  fat_set(fat, g->bits, 0, (eoc & ~0xFFu) | MEDIA_FIXED);
  fat_set(fat, g->bits, 1, eoc); /* FAT16/32: the "clean shutdown, no errors" bits set */
  for (size_t i = 0; i < t->n; i++) {
    const fat_node *nd = &t->v[i];
    for (uint32_t k = 0; k < nd->n_clusters; k++)
      fat_set(fat, g->bits, nd->cluster + k, k + 1 == nd->n_clusters ? eoc : nd->cluster + k + 1);
  }
  uint64_t first = (uint64_t)g->reserved * FAT_SECTOR;
  if (core_image_add_copy(img, first, fat, bytes, err) < 0) return -1;
  return core_image_add_owned(img, first + (uint64_t)g->fat_sectors * FAT_SECTOR, TAKE_PTR(fat), bytes, err);
}

#define ATTR_LONG_NAME 0x0F

static uint8_t lfn_checksum(const uint8_t name[11]) {
  uint8_t sum = 0;
  for (int i = 0; i < 11; i++) sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + name[i]);
  return sum;
}

/* A long name's entries, written before its 8.3 entry, last part first, as the FAT
 * specification lays them out; each ties itself to the alias by the alias's checksum. */
static uint8_t *lfn_entries(uint8_t *e, const fat_node *nd) {
  static const uint8_t at[FAT_LFN_CHARS] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};
  size_t parts = (nd->lname_len + FAT_LFN_CHARS - 1) / FAT_LFN_CHARS;
  uint8_t sum = lfn_checksum(nd->name);
  for (size_t ord = parts; ord >= 1; ord--, e += 32) {
    e[0] = (uint8_t)(ord | (ord == parts ? 0x40 : 0));
    e[11] = ATTR_LONG_NAME;
    e[13] = sum;
    for (size_t k = 0; k < FAT_LFN_CHARS; k++) {
      size_t i = (ord - 1) * FAT_LFN_CHARS + k;
      /* the name's characters, one NUL after them if it fits, then 0xFFFF padding */
      uint32_t ch = i < nd->lname_len ? (uint8_t)nd->lname[i] : i == nd->lname_len ? 0 : 0xFFFF;
      core_put_le16(e + at[k], ch);
    }
  }
  return e;
}

static uint32_t node_cluster(const fat_tree *t, size_t i) { return i == FAT_NONE || i == 0 ? 0 : t->v[i].cluster; }

/* One directory's entries: "." and ".." (a subdirectory) or the label (the root), then the
 * children in the order they first appeared, each long name's entries before its alias. */
static int write_dir(core_image *img, const fat_tree *t, size_t d, const fat_geom *g, const uint8_t label[11], bool has_label,
                     fat_stamp st, core_error **err) {
  const fat_node *dir = &t->v[d];
  uint32_t entries = dir_entries(t, d, has_label);
  uint64_t bytes, offset;
  if (d == 0 && g->bits != 32) {
    bytes = ((uint64_t)entries * 32 + FAT_SECTOR - 1) / FAT_SECTOR * FAT_SECTOR;
    offset = ((uint64_t)g->reserved + 2ull * g->fat_sectors) * FAT_SECTOR;
  } else {
    bytes = (uint64_t)dir->n_clusters * cluster_bytes(g);
    offset = fat_cluster_offset(g, dir->cluster);
  }
  if (bytes == 0) return 0;
  cleanup_free uint8_t *buf = calloc(1, bytes);
  if (buf == NULL) return core_error_set(err, ENOMEM, "allocating a FAT directory");
  uint8_t *e = buf;
  if (d == 0 && has_label) {
    dir_entry(e, label, ATTR_VOLUME_ID, 0, 0, 0, st);
    e += 32;
  }
  if (d != 0) {
    dir_entry(e, (const uint8_t *)".          ", ATTR_DIRECTORY, 0, dir->cluster, 0, st);
    dir_entry(e + 32, (const uint8_t *)"..         ", ATTR_DIRECTORY, 0, node_cluster(t, dir->parent), 0, st);
    e += 64;
  }
  for (size_t c = dir->first; c != FAT_NONE; c = t->v[c].next, e += 32) {
    const fat_node *nd = &t->v[c];
    if (nd->lname) e = lfn_entries(e, nd);
    dir_entry(e, nd->name, nd->is_dir ? ATTR_DIRECTORY : ATTR_ARCHIVE, nd->case_flags, nd->cluster,
              nd->is_dir ? 0 : (uint32_t)nd->size, st);
  }
  return core_image_add_owned(img, offset, TAKE_PTR(buf), bytes, err);
}

/* The boot sector: a jump over the BPB to code that asks the firmware to try the next boot
 * device (INT 18h), since this volume boots through UEFI, not its boot sector. */
static void boot_sector(uint8_t *b, const fat_geom *g, const core_fat_opts *o, const uint8_t label[11]) {
  size_t ext = g->bits == 32 ? 64 : 36; /* where the extended BPB starts */
  size_t code = ext + 26;
  b[0] = 0xEB;
  b[1] = (uint8_t)(code - 2);
  b[2] = 0x90;
  memcpy(b + 3, "CORE    ", 8);
  core_put_le16(b + 11, FAT_SECTOR);
  b[13] = (uint8_t)g->spc;
  core_put_le16(b + 14, g->reserved);
  b[16] = 2;
  core_put_le16(b + 17, g->bits == 32 ? 0 : FAT_ROOT_ENTRIES_1216);
  core_put_le16(b + 19, g->bits != 32 && g->total < 0x10000 ? (uint32_t)g->total : 0);
  b[21] = MEDIA_FIXED;
  core_put_le16(b + 22, g->bits == 32 ? 0 : g->fat_sectors);
  core_put_le16(b + 24, 63); /* sectors per track and heads: a geometry nothing reads, the usual one */
  core_put_le16(b + 26, 255);
  core_put_le32(b + 28, o->hidden_sectors);
  core_put_le32(b + 32, g->bits != 32 && g->total < 0x10000 ? 0 : (uint32_t)g->total);
  if (g->bits == 32) {
    core_put_le32(b + 36, g->fat_sectors);
    core_put_le16(b + 40, 0); /* both FATs mirrored */
    core_put_le16(b + 42, 0); /* version 0.0 */
    core_put_le32(b + 44, 2); /* the root directory's first cluster */
    core_put_le16(b + 48, 1); /* FSInfo */
    core_put_le16(b + 50, 6); /* backup boot sector */
  }
  b[ext] = 0x80; /* drive number: a hard disk */
  b[ext + 2] = 0x29; /* the serial, label and type fields follow */
  core_put_le32(b + ext + 3, o->serial);
  memcpy(b + ext + 7, label, 11);
  memcpy(b + ext + 18, g->bits == 12 ? "FAT12   " : g->bits == 16 ? "FAT16   " : "FAT32   ", 8);
  b[code] = 0xCD; /* int 18h */
  b[code + 1] = 0x18;
  b[code + 2] = 0xEB; /* and, should it return, spin */
  b[code + 3] = 0xFE;
  b[510] = 0x55;
  b[511] = 0xAA;
}

static void fsinfo_sector(uint8_t *b, const fat_geom *g, uint32_t next) {
  uint32_t used = next - 2;
  core_put_le32(b, 0x41615252);
  core_put_le32(b + 484, 0x61417272);
  core_put_le32(b + 488, g->clusters - used);
  core_put_le32(b + 492, used < g->clusters ? next : 0xFFFFFFFF);
  core_put_le32(b + 508, 0xAA550000);
}

static int write_boot(core_image *img, const fat_geom *g, const core_fat_opts *o, const uint8_t label[11], uint32_t next,
                      core_error **err) {
  uint8_t boot[FAT_SECTOR] = {0}, info[FAT_SECTOR] = {0};
  boot_sector(boot, g, o, label);
  if (core_image_add_copy(img, 0, boot, sizeof boot, err) < 0) return -1;
  if (g->bits != 32) return 0;
  fsinfo_sector(info, g, next);
  if (core_image_add_copy(img, 1 * FAT_SECTOR, info, sizeof info, err) < 0) return -1;
  if (core_image_add_copy(img, 6 * FAT_SECTOR, boot, sizeof boot, err) < 0) return -1;
  return core_image_add_copy(img, 7 * FAT_SECTOR, info, sizeof info, err);
}

static int check_root(const fat_tree *t, const fat_geom *g, bool label, core_error **err) {
  uint32_t max = g->bits == 32 ? FAT_MAX_DIR_ENTRIES : FAT_ROOT_ENTRIES_1216;
  if (dir_entries(t, 0, label) > max)
    return core_error_set(err, 0, "the FAT%d root directory holds at most %u entries, and %u are needed%s", g->bits, max,
                          dir_entries(t, 0, label), g->bits == 32 ? "" : "; move files into a subdirectory");
  return 0;
}

int core_fat_build(const core_fat_file *files, size_t n, const core_fat_opts *o, core_image *out, uint64_t *data_offsets,
                   core_error **err) {
  static const core_fat_opts defaults = {0};
  if (o == NULL) o = &defaults;
  uint8_t label[11];
  if (fat_label(o->label, label, err) < 0) return -1;
  bool has_label = o->label != NULL && o->label[0] != '\0';
  cleanup_fat_tree fat_tree t = {0};
  if (fat_tree_build(&t, files, n, err) < 0) return -1;
  fat_geom g;
  uint32_t next = 2;
  if (fat_geom_choose(&t, o->size, o->fat_bits, &g, err) < 0 || check_root(&t, &g, has_label, err) < 0 ||
      allocate(&t, files, &g, g.total * FAT_SECTOR, has_label, &next, err) < 0)
    return -1;

  cleanup_image core_image img = CORE_IMAGE_INIT;
  img.size = g.total * FAT_SECTOR;
  fat_stamp st = stamp_of(o->mtime);
  if (write_boot(&img, &g, o, label, next, err) < 0 || write_fats(&img, &t, &g, next, err) < 0) return -1;
  for (size_t i = 0; i < t.n; i++)
    if (t.v[i].is_dir && write_dir(&img, &t, i, &g, label, has_label, st, err) < 0) return -1;
  /* Last, once nothing but memory can fail: the contents move only when the rest is built. */
  for (size_t i = 0; i < t.n; i++) {
    const fat_node *nd = &t.v[i];
    if (nd->is_dir || nd->n_clusters == 0) continue;
    if (core_image_embed(&img, fat_cluster_offset(&g, nd->cluster), files[nd->file].content, err) < 0) return -1;
  }
  if (core_image_finish(&img, err) < 0) return core_error_wrap(err, "building the FAT file system");
  if (data_offsets != NULL)
    for (size_t i = 0; i < t.n; i++)
      if (!t.v[i].is_dir) data_offsets[t.v[i].file] = t.v[i].n_clusters ? fat_cluster_offset(&g, t.v[i].cluster) : 0;
  core_image_release(out);
  *out = img;
  img = (core_image)CORE_IMAGE_INIT;
  return 0;
}
