/* Merging layers into one tree. */
#include "rootfs.h"

#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "layer_reader.h"

static void node_release(core_node *n) {
  free(n->path);
  free(n->target);
  core_buf_release(&n->data);
}

void core_rootfs_release(core_rootfs *fs) {
  for (size_t i = 0; i < fs->n; i++) node_release(&fs->nodes[i]);
  free(fs->nodes);
  for (size_t i = 0; i < fs->n_whiteouts; i++) free(fs->whiteouts[i].path);
  free(fs->whiteouts);
  memset(fs, 0, sizeof *fs);
}

int core_rootfs_add(core_rootfs *fs, const char *path, core_node_type type, mode_t perm, uint32_t uid, uint32_t gid,
                    char *target, core_buf *data, core_error **err) {
  if (fs->n == fs->cap) {
    size_t cap = fs->cap ? fs->cap * 2 : 256;
    core_node *grown = realloc(fs->nodes, cap * sizeof *grown);
    if (grown == NULL) return core_error_set(err, ENOMEM, "allocating");
    fs->nodes = grown;
    fs->cap = cap;
  }
  core_node *n = &fs->nodes[fs->n];
  memset(n, 0, sizeof *n);
  if ((n->path = strdup(path)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  n->type = type;
  n->perm = perm & 07777;
  n->uid = uid;
  n->gid = gid;
  n->target = target;
  if (data) {
    n->data = *data;
    *data = (core_buf)CORE_BUF_INIT;
  }
  n->seq = fs->next_seq++;
  fs->n++;
  fs->sorted = 0;
  return 0;
}

int core_rootfs_add_entry(core_rootfs *fs, core_layer_reader *r, struct archive_entry *e, const char *path,
                          const char *dest, int normalise, const char *source, core_error **err) {
  cleanup_free char *full = NULL;
  if (asprintf(&full, "%s%s%s", dest, dest[0] ? "/" : "", path) < 0) return core_error_set(err, ENOMEM, "allocating");
  mode_t mode = archive_entry_perm(e);
  uint32_t uid = normalise ? 0 : (uint32_t)archive_entry_uid(e);
  uint32_t gid = normalise ? 0 : (uint32_t)archive_entry_gid(e);
  const char *hardlink = archive_entry_hardlink(e);
  if (hardlink) {
    /* A hard link becomes a copy of what it names: the initramfs has no use for sharing. */
    cleanup_free char *target = strdup(hardlink);
    if (target == NULL) return core_error_set(err, ENOMEM, "allocating");
    if (core_normalize_path(target) < 0) return core_error_set(err, 0, "'%s': hard link '%s' escapes the root", source, path);
    cleanup_free char *full_target = NULL;
    if (asprintf(&full_target, "%s%s%s", dest, dest[0] ? "/" : "", target) < 0) return core_error_set(err, ENOMEM, "allocating");
    for (size_t i = fs->n; i-- > 0;) {
      if (strcmp(fs->nodes[i].path, full_target) != 0) continue;
      cleanup_buf core_buf copy = CORE_BUF_INIT;
      if (core_buf_append(&copy, fs->nodes[i].data.data, fs->nodes[i].data.len, err) < 0) return -1;
      return core_rootfs_add(fs, full, CORE_NODE_FILE, mode, uid, gid, NULL, &copy, err);
    }
    return core_error_set(err, 0, "'%s': hard link '%s' names '%s', which comes later or not at all", source, path, hardlink);
  }
  switch (archive_entry_filetype(e)) {
    case AE_IFDIR:
      return core_rootfs_add(fs, full, CORE_NODE_DIR, normalise ? 0755 : mode, uid, gid, NULL, NULL, err);
    case AE_IFLNK: {
      char *target = strdup(archive_entry_symlink(e) ? archive_entry_symlink(e) : "");
      if (target == NULL) return core_error_set(err, ENOMEM, "allocating");
      if (core_rootfs_add(fs, full, CORE_NODE_SYMLINK, 0777, uid, gid, target, NULL, err) < 0) {
        free(target);
        return -1;
      }
      return 0;
    }
    case AE_IFREG: {
      cleanup_buf core_buf data = CORE_BUF_INIT;
      if (core_layer_reader_data(r, &data, err) < 0) return -1;
      if (normalise) mode = (mode & 0111) ? 0755 : 0644;
      return core_rootfs_add(fs, full, CORE_NODE_FILE, mode, uid, gid, NULL, &data, err);
    }
    default:
      return core_error_set(err, 0, "'%s': '%s' is a device, FIFO or socket; layers may hold only files, directories and links",
                            source, path);
  }
}

int core_rootfs_add_layer(core_rootfs *fs, const char *source, const char *dest, core_error **err) {
  cleanup_layer_reader core_layer_reader *r = NULL;
  if (core_layer_reader_open(source, &r, err) < 0) return -1;
  if (fs->on_bytes) core_layer_reader_on_bytes(r, fs->on_bytes, fs->on_bytes_ctx);
  int normalise = core_layer_reader_kind(r) == CORE_LAYER_DIR;
  for (;;) {
    struct archive_entry *e;
    const char *path;
    int rc = core_layer_reader_next(r, &e, &path, err);
    if (rc < 0) return -1;
    if (rc == 0) return 0;
    if (core_rootfs_add_entry(fs, r, e, path, dest, normalise, source, err) < 0) return -1;
  }
}

int core_rootfs_whiteout(core_rootfs *fs, const char *path, int opaque, uint64_t before, core_error **err) {
  if (fs->n_whiteouts == fs->cap_whiteouts) {
    size_t cap = fs->cap_whiteouts ? fs->cap_whiteouts * 2 : 16;
    core_whiteout *grown = realloc(fs->whiteouts, cap * sizeof *grown);
    if (grown == NULL) return core_error_set(err, ENOMEM, "allocating");
    fs->whiteouts = grown;
    fs->cap_whiteouts = cap;
  }
  char *copy = strdup(path);
  if (copy == NULL) return core_error_set(err, ENOMEM, "allocating");
  fs->whiteouts[fs->n_whiteouts++] = (core_whiteout){copy, opaque, before};
  return 0;
}

/* Whiteouts go first, in the order they were made: what they hide must not leave implied
 * parent directories behind, and a later layer may bring a hidden path back. */
static void apply_whiteouts(core_rootfs *fs) {
  for (size_t w = 0; w < fs->n_whiteouts; w++) {
    const core_whiteout *wo = &fs->whiteouts[w];
    size_t len = strlen(wo->path);
    size_t out = 0;
    for (size_t i = 0; i < fs->n; i++) {
      const char *p = fs->nodes[i].path;
      int below = len == 0 || (strncmp(p, wo->path, len) == 0 && p[len] == '/');
      int same = len > 0 && strcmp(p, wo->path) == 0;
      if (fs->nodes[i].seq < wo->before && (below || (same && !wo->opaque))) {
        node_release(&fs->nodes[i]);
        continue;
      }
      fs->nodes[out++] = fs->nodes[i];
    }
    fs->n = out;
    free(fs->whiteouts[w].path);
  }
  free(fs->whiteouts);
  fs->whiteouts = NULL;
  fs->n_whiteouts = fs->cap_whiteouts = 0;
}

static int by_path_then_seq(const void *a, const void *b) {
  const core_node *x = a, *y = b;
  int c = strcmp(x->path, y->path);
  if (c) return c;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int by_path(const void *key, const void *elem) { return strcmp(key, ((const core_node *)elem)->path); }

const core_node *core_rootfs_find(const core_rootfs *fs, const char *path) {
  if (!fs->sorted) {
    for (size_t i = fs->n; i-- > 0;)
      if (strcmp(fs->nodes[i].path, path) == 0) return &fs->nodes[i];
    return NULL;
  }
  return bsearch(path, fs->nodes, fs->n, sizeof *fs->nodes, by_path);
}

int core_rootfs_finish(core_rootfs *fs, core_error **err) {
  apply_whiteouts(fs);
  /* Every parent directory must exist; add the missing ones before sorting. */
  size_t n = fs->n;
  for (size_t i = 0; i < n; i++) {
    cleanup_free char *parent = strdup(fs->nodes[i].path);
    if (parent == NULL) return core_error_set(err, ENOMEM, "allocating");
    for (char *slash = strrchr(parent, '/'); slash; slash = strrchr(parent, '/')) {
      *slash = 0;
      const core_node *p = core_rootfs_find(fs, parent);
      if (p && p->type == CORE_NODE_DIR) break;
      if (p) return core_error_set(err, 0, "'%s' needs '%s' to be a directory, but a layer made it a file or link",
                                   fs->nodes[i].path, parent);
      if (core_rootfs_add(fs, parent, CORE_NODE_DIR, 0755, 0, 0, NULL, NULL, err) < 0) return -1;
    }
  }
  qsort(fs->nodes, fs->n, sizeof *fs->nodes, by_path_then_seq);
  size_t out = 0;
  for (size_t i = 0; i < fs->n; i++) {
    if (i + 1 < fs->n && strcmp(fs->nodes[i].path, fs->nodes[i + 1].path) == 0) {
      node_release(&fs->nodes[i]); /* replaced by a later layer */
      continue;
    }
    fs->nodes[out++] = fs->nodes[i];
  }
  fs->n = out;
  fs->sorted = 1;
  return 0;
}
