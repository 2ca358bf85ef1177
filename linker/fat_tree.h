/* The directory tree of a FAT file system being built: names checked and encoded (8.3 where
 * they fit, else a VFAT long name with a generated 8.3 alias), parent directories implied from
 * paths. Internal to linker/fat*.c. */
#ifndef CORE_FAT_TREE_H
#define CORE_FAT_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "fat.h"

#define FAT_NONE SIZE_MAX
#define FAT_CASE_LOWER_BASE 0x08 /* NT reserved byte: the base name is shown in lower case */
#define FAT_CASE_LOWER_EXT 0x10  /* ... and the extension */
#define FAT_MAX_DIR_ENTRIES 65536 /* a directory may not exceed 2 MiB (FAT specification) */
#define FAT_LFN_CHARS 13          /* UTF-16 characters in one long-name entry */
#define FAT_LFN_MAX 255

typedef struct fat_node {
  uint8_t name[11]; /* space-padded, upper case: the 8.3 name, or the alias of a long name */
  uint8_t case_flags;
  const char *comp; /* the path component as given (into the caller's path) */
  size_t comp_len;
  const char *lname; /* a long name (into the caller's path), or NULL when the 8.3 name says it all */
  size_t lname_len;
  bool is_dir;
  size_t parent;             /* FAT_NONE for the root */
  size_t first, last, next;  /* children in the order they first appear; next sibling */
  uint32_t n_slots; /* directory entries the children take (a long name takes several) */
  size_t file;     /* index into the caller's files, for a file */
  uint64_t size;   /* bytes, for a file */
  uint32_t cluster, n_clusters;
} fat_node;

typedef struct fat_tree {
  fat_node *v; /* v[0] is the root; directories and files in order of first appearance */
  size_t n, cap;
} fat_tree;

/* Adds every file of FILES, creating the directories their paths imply, then gives each long
 * name its alias. Refuses invalid names, duplicates (case-insensitive), a path that is both a
 * file and a directory, and overfull subdirectories. */
int fat_tree_build(fat_tree *t, const core_fat_file *files, size_t n, core_error **err);
/* Directory entries node I takes in its parent. */
static inline uint32_t fat_node_slots(const fat_node *nd) {
  return 1 + (nd->lname ? (uint32_t)((nd->lname_len + FAT_LFN_CHARS - 1) / FAT_LFN_CHARS) : 0);
}

void fat_tree_release(fat_tree *t);
#define cleanup_fat_tree __attribute__((cleanup(fat_tree_release)))

/* Encodes a volume label: up to 11 characters valid in a short name, or spaces; upper-cased. */
int fat_label(const char *label, uint8_t out[11], core_error **err);

#endif
