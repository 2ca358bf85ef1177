/* The directory tree of an ISO being written: level-1 names checked, directories numbered
 * in path-table order, entries in ECMA-119 order. Private to linker/iso9660*.c. */
#ifndef CORE_ISO9660_TREE_H
#define CORE_ISO9660_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "iso9660.h"

/* ECMA-119 6.8.2.1: at most 8 levels of directories, the root being level 1. */
#define ISO_MAX_DEPTH 8

/* A name's sort key: the name part padded to 8 with spaces, then the extension padded to 3,
 * so memcmp gives ECMA-119 9.3 order; equal keys are the same name (a file "FOO" and a
 * directory "FOO" clash). */
typedef struct iso_key {
  char k[11];
} iso_key;

typedef struct iso_dir {
  size_t parent;   /* index into tree.dirs; the root is its own parent */
  unsigned depth;  /* the root is 1 */
  iso_key key;
  char id[9];      /* as recorded; "" for the root */
  uint32_t number; /* 1-based place in the path tables */
  uint32_t lba;
  uint32_t size;   /* bytes, whole sectors */
} iso_dir;

typedef struct iso_entry {
  size_t parent; /* directory holding it */
  iso_key key;
  char id[15];   /* as recorded: "NAME.EXT;1" or a directory's name */
  int is_dir;
  size_t target; /* index into tree.dirs, or into the caller's files */
} iso_entry;

typedef struct iso_tree {
  iso_dir *dirs;      /* in the order first named; dirs[0] is the root */
  size_t n_dirs;
  size_t *order;      /* indices into dirs in path-table order, after iso_tree_order */
  iso_entry *entries; /* every file and directory but the root, sorted by (parent, key) after iso_tree_order */
  size_t n_entries;
} iso_tree;

int iso_tree_add(iso_tree *t, const char *path, size_t file_index, core_error **err);
/* Numbers the directories breadth first, by parent number then name (path-table order,
 * ECMA-119 6.9.1), and sorts the entries. */
int iso_tree_order(iso_tree *t, core_error **err);
void iso_tree_release(iso_tree *t);
/* Whether S is 1-MAX d-characters (A-Z 0-9 _). */
int iso_is_dchars(const char *s, size_t len, size_t max);

#endif
