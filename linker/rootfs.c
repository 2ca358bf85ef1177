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
  free(n->written);
  free(n->target);
  core_buf_release(&n->data);
}

void core_rootfs_release(core_rootfs *fs) {
  for (size_t i = 0; i < fs->n; i++) node_release(&fs->nodes[i]);
  free(fs->nodes);
  for (size_t i = 0; i < fs->n_whiteouts; i++) free(fs->whiteouts[i].path);
  free(fs->whiteouts);
  free(fs->slots);
  for (size_t i = 0; i < fs->n_replaced; i++) free(fs->replaced[i].path);
  free(fs->replaced);
  if (fs->spooled) core_spool_release(&fs->spool);
  memset(fs, 0, sizeof *fs);
}

int core_rootfs_use_spool(core_rootfs *fs, core_error **err) {
  if (fs->spooled) return 0;
  core_spool s = CORE_SPOOL_INIT;
  if (core_spool_open(&s, err) < 0) return -1;
  fs->spool = s;
  fs->spooled = 1;
  return 0;
}

int core_rootfs_node_pread(const core_rootfs *fs, const core_node *n, uint64_t at, void *buf, size_t len, core_error **err) {
  if (n->type != CORE_NODE_FILE || at > n->size || len > n->size - at)
    return core_error_set(err, 0, "internal: reading [%llu, +%zu) of '%s', which holds %llu bytes", (unsigned long long)at,
                          len, n->path, (unsigned long long)n->size);
  if (len == 0) return 0;
  if (!fs->spooled) {
    memcpy(buf, n->data.data + at, len);
    return 0;
  }
  return core_spool_read(&fs->spool, n->data_at + at, buf, len, err);
}

int core_rootfs_node_read(const core_rootfs *fs, const core_node *n, core_buf *out, core_error **err) {
  if (n->type != CORE_NODE_FILE) return core_error_set(err, 0, "internal: '%s' is not a file", n->path);
  if (n->size > SIZE_MAX - 1) return core_error_set(err, EFBIG, "'%s' does not fit in memory", n->path);
  if (core_buf_reserve(out, (size_t)n->size + 1, err) < 0) return -1;
  if (core_rootfs_node_pread(fs, n, 0, out->data + out->len, (size_t)n->size, err) < 0) return -1;
  out->len += (size_t)n->size;
  return 0;
}

/* The index of paths while layers are added: hard links and core_rootfs_find look up the
 * latest node of a path in constant time, so a layer of many hard links costs no more than
 * one of many files. Anything that moves nodes drops it (n_slots = 0); it is rebuilt on use. */
static size_t path_hash(const char *s) {
  uint64_t h = 1469598103934665603u; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
  return (size_t)h;
}

static void index_drop(core_rootfs *fs) { fs->n_slots = 0; }

static void index_set(core_rootfs *fs, size_t i) {
  size_t mask = fs->n_slots - 1;
  for (size_t at = path_hash(fs->nodes[i].path) & mask;; at = (at + 1) & mask) {
    size_t *slot = &fs->slots[at];
    if (*slot == 0 || strcmp(fs->nodes[*slot - 1].path, fs->nodes[i].path) == 0) {
      *slot = i + 1; /* the later node of a path wins, as in the merged tree */
      return;
    }
  }
}

/* Makes room for node i (just appended) and indexes it; rebuilds the index when needed. */
static int index_add(core_rootfs *fs, size_t i, core_error **err) {
  if (fs->n_slots == 0 || (i + 1) * 2 > fs->n_slots) {
    size_t n_slots = 1024;
    while (n_slots < (i + 1) * 2) n_slots *= 2;
    size_t *slots = calloc(n_slots, sizeof *slots);
    if (slots == NULL) return core_error_set(err, ENOMEM, "allocating");
    free(fs->slots);
    fs->slots = slots;
    fs->n_slots = n_slots;
    for (size_t k = 0; k < i; k++) index_set(fs, k);
  }
  index_set(fs, i);
  return 0;
}

static const core_node *index_find(const core_rootfs *fs, const char *path) {
  size_t mask = fs->n_slots - 1;
  for (size_t at = path_hash(path) & mask; fs->slots[at]; at = (at + 1) & mask)
    if (strcmp(fs->nodes[fs->slots[at] - 1].path, path) == 0) return &fs->nodes[fs->slots[at] - 1];
  return NULL;
}

/* Whatever happens, target and data are ours: callers never free them after a failure. */
static void drop(char *target, core_buf *data) {
  free(target);
  if (data) core_buf_release(data);
}

int core_rootfs_add(core_rootfs *fs, const char *path, core_node_type type, mode_t perm, uint32_t uid, uint32_t gid,
                    char *target, core_buf *data, core_error **err) {
  /* With a spool, the bytes go there first: the node then only says where they are. */
  uint64_t spooled_at = 0, size = data ? data->len : 0;
  if (data && fs->spooled) {
    int rc = core_spool_append(&fs->spool, data->data, data->len, &spooled_at, err);
    core_buf_release(data);
    data = NULL;
    if (rc < 0) {
      free(target);
      return -1;
    }
  }
  if (fs->n == fs->cap) {
    size_t cap = fs->cap ? fs->cap * 2 : 256;
    core_node *grown = realloc(fs->nodes, cap * sizeof *grown);
    if (grown == NULL) {
      drop(target, data);
      return core_error_set(err, ENOMEM, "allocating");
    }
    fs->nodes = grown;
    fs->cap = cap;
  }
  core_node *n = &fs->nodes[fs->n];
  memset(n, 0, sizeof *n);
  if ((n->path = strdup(path)) == NULL) {
    drop(target, data);
    return core_error_set(err, ENOMEM, "allocating");
  }
  if (index_add(fs, fs->n, err) < 0) {
    free(n->path);
    drop(target, data);
    return -1;
  }
  n->type = type;
  n->perm = perm & 07777;
  n->uid = uid;
  n->gid = gid;
  n->target = target;
  n->size = size;
  n->data_at = spooled_at;
  if (data) {
    n->data = *data;
    *data = (core_buf)CORE_BUF_INIT;
  }
  n->seq = fs->next_seq++;
  n->origin = fs->origin;
  fs->n++;
  fs->sorted = 0;
  return 0;
}

/* "2.0 GiB", "512 KiB", "17 bytes": sizes in messages, as people read them. */
static const char *size_text(uint64_t n, char *buf, size_t size) {
  static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
  if (n < 1024) {
    snprintf(buf, size, "%llu bytes", (unsigned long long)n);
    return buf;
  }
  double v = (double)n / 1024;
  size_t u = 0;
  while (v >= 1024 && u + 1 < sizeof units / sizeof *units) v /= 1024, u++;
  snprintf(buf, size, "%.1f %s", v, units[u]);
  return buf;
}

static uint64_t max_entry(const core_rootfs *fs) { return fs->max_entry ? fs->max_entry : CORE_ROOTFS_MAX_ENTRY_DEFAULT; }
static uint64_t max_total(const core_rootfs *fs) { return fs->max_total ? fs->max_total : CORE_ROOTFS_MAX_TOTAL_DEFAULT; }

/* Refuses a file of size bytes (claimed or read) before it is held: over the limit for one
 * file, or over what the whole tree may hold. Messages call it "entry 'path'", or "it"
 * when path is NULL (the caller names it). */
static int check_total(const core_rootfs *fs, const char *path, uint64_t size, core_error **err) {
  char a[32], b[32], c[32];
  if (size > max_total(fs) - fs->total)
    return core_error_set(err, EFBIG,
                          "%s%s%s (%s) takes the root file system past %s, its limit (%s read before it; raise it with %s=SIZE)",
                          path ? "entry '" : "it", path ? path : "", path ? "'" : "", size_text(size, a, sizeof a), size_text(max_total(fs), b, sizeof b),
                          size_text(fs->total, c, sizeof c), CORE_ROOTFS_MAX_TOTAL_ENV);
  return 0;
}

static int check_size(const core_rootfs *fs, const char *path, uint64_t size, core_error **err) {
  char a[32], b[32];
  if (size > max_entry(fs))
    return core_error_set(err, EFBIG, "%s%s%s is %s, over the %s limit for one file (raise it with %s=SIZE, e.g. %s=%lluG)",
                          path ? "entry '" : "it", path ? path : "", path ? "'" : "", size_text(size, a, sizeof a), size_text(max_entry(fs), b, sizeof b),
                          CORE_ROOTFS_MAX_ENTRY_ENV, CORE_ROOTFS_MAX_ENTRY_ENV,
                          (unsigned long long)((size >> 30) + 1));
  return check_total(fs, path, size, err);
}

int core_rootfs_reserve(core_rootfs *fs, const char *name, uint64_t size, core_error **err) {
  if (check_size(fs, name, size, err) < 0) return -1;
  fs->total += size;
  return 0;
}

/* A hard link names an entry already read (tar order): it becomes a copy of it, a symlink
 * staying a symlink. A directory cannot be hard-linked on any file system we write to. */
static int add_hard_link(core_rootfs *fs, const char *full, const char *path, const char *hardlink, const char *dest,
                         mode_t mode, uint32_t uid, uint32_t gid, core_error **err) {
  cleanup_free char *target = strdup(hardlink);
  if (target == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (core_normalize_path(target) < 0 || target[0] == 0)
    return core_error_set(err, 0, "hard link '%s' names '%s', which escapes the root", path, hardlink);
  cleanup_free char *full_target = NULL;
  if (asprintf(&full_target, "%s%s%s", dest, dest[0] ? "/" : "", target) < 0) return core_error_set(err, ENOMEM, "allocating");
  const core_node *t = core_rootfs_find(fs, full_target);
  if (t) {
    switch (t->type) {
      case CORE_NODE_FILE: {
        /* Counted as a copy (what the guest's tree holds), though a spool shares the bytes. */
        if (check_size(fs, path, t->size, err) < 0) return -1;
        fs->total += t->size;
        if (fs->spooled) {
          uint64_t at = t->data_at, size = t->size; /* t moves when the node array grows */
          if (core_rootfs_add(fs, full, CORE_NODE_FILE, mode, uid, gid, NULL, NULL, err) < 0) return -1;
          fs->nodes[fs->n - 1].data_at = at;
          fs->nodes[fs->n - 1].size = size;
          return 0;
        }
        cleanup_buf core_buf copy = CORE_BUF_INIT;
        if (core_buf_append(&copy, t->data.data, t->data.len, err) < 0) return -1;
        return core_rootfs_add(fs, full, CORE_NODE_FILE, mode, uid, gid, NULL, &copy, err);
      }
      case CORE_NODE_SYMLINK: {
        char *link = strdup(t->target);
        if (link == NULL) return core_error_set(err, ENOMEM, "allocating");
        return core_rootfs_add(fs, full, CORE_NODE_SYMLINK, 0777, uid, gid, link, NULL, err);
      }
      case CORE_NODE_DIR:
        return core_error_set(err, 0, "entry '%s' is a hard link to the directory '%s'; directories cannot be hard-linked (rebuild the layer without it)",
                              path, hardlink);
      case CORE_NODE_CHAR:
        return core_error_set(err, 0, "entry '%s' is a hard link to the device '%s'; layers may hold only files, directories and links",
                              path, hardlink);
    }
  }
  return core_error_set(err, 0, "entry '%s' is a hard link to '%s', which is not in the layer before it (a hard link names an earlier entry)",
                        path, hardlink);
}

static int to_spool(void *ctx, const void *data, size_t len, core_error **err) {
  uint64_t at;
  return core_spool_append(ctx, data, len, &at, err);
}

/* A regular file's bytes, streamed from the layer to the end of the spool: at most cap of
 * them are read (one more says the file is over a limit, and which), whatever it claims. */
static int add_spooled_file(core_rootfs *fs, core_layer_reader *r, const char *full, const char *path, mode_t mode,
                            uint32_t uid, uint32_t gid, uint64_t cap, core_error **err) {
  uint64_t at = fs->spool.size, n = 0;
  if (core_layer_reader_copy(r, cap, to_spool, &fs->spool, &n, err) < 0) {
    if ((*err)->errnum != EFBIG) return -1;
    core_error_freep(err);
    return check_size(fs, path, cap + 1, err);
  }
  fs->total += n;
  if (core_rootfs_add(fs, full, CORE_NODE_FILE, mode, uid, gid, NULL, NULL, err) < 0) return -1;
  fs->nodes[fs->n - 1].data_at = at;
  fs->nodes[fs->n - 1].size = n;
  return 0;
}

int core_rootfs_add_entry(core_rootfs *fs, core_layer_reader *r, struct archive_entry *e, const char *path,
                          const char *dest, int normalise, core_error **err) {
  /* Names cost memory too, and compress as well as zeros: they are held to what a Linux
   * path may be, and counted with the data against the whole tree's limit. */
  const char *link = archive_entry_symlink(e) ? archive_entry_symlink(e) : archive_entry_hardlink(e);
  size_t name_len = strlen(dest) + 1 + strlen(path), link_len = link ? strlen(link) : 0;
  if (name_len >= CORE_ROOTFS_MAX_PATH || link_len >= CORE_ROOTFS_MAX_PATH)
    return core_error_set(err, ENAMETOOLONG, "entry '%.64s...' has a name or link target of more than %d bytes, which no Linux path may have",
                          path, CORE_ROOTFS_MAX_PATH - 1);
  if (check_total(fs, path, name_len + link_len + sizeof(core_node), err) < 0) return -1;
  fs->total += name_len + link_len + sizeof(core_node);
  cleanup_free char *full = NULL;
  if (asprintf(&full, "%s%s%s", dest, dest[0] ? "/" : "", path) < 0) return core_error_set(err, ENOMEM, "allocating");
  mode_t mode = archive_entry_perm(e);
  uint32_t uid = normalise ? 0 : (uint32_t)archive_entry_uid(e);
  uint32_t gid = normalise ? 0 : (uint32_t)archive_entry_gid(e);
  const char *hardlink = archive_entry_hardlink(e);
  if (hardlink) return add_hard_link(fs, full, path, hardlink, dest, mode, uid, gid, err);
  switch (archive_entry_filetype(e)) {
    case AE_IFDIR:
      if (core_rootfs_add(fs, full, CORE_NODE_DIR, normalise ? 0755 : mode, uid, gid, NULL, NULL, err) < 0) return -1;
      fs->nodes[fs->n - 1].yields = fs->dirs_yield;
      return 0;
    case AE_IFLNK: {
      char *target = strdup(archive_entry_symlink(e) ? archive_entry_symlink(e) : "");
      if (target == NULL) return core_error_set(err, ENOMEM, "allocating");
      return core_rootfs_add(fs, full, CORE_NODE_SYMLINK, 0777, uid, gid, target, NULL, err);
    }
    case AE_IFREG: {
      /* The claim first, so that a small archive cannot make us allocate what it says. */
      la_int64_t claimed = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
      if (claimed < 0) return core_error_set(err, 0, "entry '%s' has a negative size; the layer is malformed", path);
      if (check_size(fs, path, (uint64_t)claimed, err) < 0) return -1;
      uint64_t room = max_total(fs) - fs->total;
      uint64_t cap = max_entry(fs) < room ? max_entry(fs) : room;
      if (normalise) mode = (mode & 0111) ? 0755 : 0644;
      if (fs->spooled) return add_spooled_file(fs, r, full, path, mode, uid, gid, cap, err);
      cleanup_buf core_buf data = CORE_BUF_INIT;
      if (core_layer_reader_data(r, cap, &data, err) < 0) {
        if ((*err)->errnum != EFBIG) return -1;
        core_error_freep(err);
        return check_size(fs, path, cap + 1, err); /* says which limit, with the size read */
      }
      fs->total += data.len;
      return core_rootfs_add(fs, full, CORE_NODE_FILE, mode, uid, gid, NULL, &data, err);
    }
    default:
      return core_error_set(err, 0, "entry '%s' is a device, FIFO or socket; layers may hold only files, directories and links",
                            path);
  }
}

int core_rootfs_add_layer(core_rootfs *fs, const char *source, const char *dest, core_error **err) {
  cleanup_layer_reader core_layer_reader *r = NULL;
  if (core_layer_reader_open(source, &r, err) < 0) return -1;
  if (fs->on_bytes) core_layer_reader_on_bytes(r, fs->on_bytes, fs->on_bytes_ctx);
  int normalise = core_layer_reader_kind(r) == CORE_LAYER_DIR;
  int rc;
  fs->dirs_yield = 1;
  for (;;) {
    struct archive_entry *e;
    const char *path;
    rc = core_layer_reader_next(r, &e, &path, err);
    if (rc <= 0) break;
    if ((rc = core_rootfs_add_entry(fs, r, e, path, dest, normalise, err)) < 0) break;
  }
  fs->dirs_yield = 0;
  return rc < 0 ? -1 : 0;
}

int core_rootfs_whiteout(core_rootfs *fs, const char *path, int opaque, uint64_t before, core_error **err) {
  if (fs->n_whiteouts == fs->cap_whiteouts) {
    size_t cap = fs->cap_whiteouts ? fs->cap_whiteouts * 2 : 16;
    core_whiteout *grown = realloc(fs->whiteouts, cap * sizeof *grown);
    if (grown == NULL) return core_error_set(err, ENOMEM, "allocating");
    fs->whiteouts = grown;
    fs->cap_whiteouts = cap;
  }
  size_t len = strlen(path);
  char *copy = calloc(1, len + 2); /* room for the '/' that apply_whiteouts puts after it */
  if (copy == NULL) return core_error_set(err, ENOMEM, "allocating");
  memcpy(copy, path, len);
  fs->whiteouts[fs->n_whiteouts++] = (core_whiteout){copy, opaque, before};
  return 0;
}

static int by_path_then_seq(const void *a, const void *b);

/* The first node whose path is not below key in sort order. */
static size_t lower_bound(const core_rootfs *fs, const char *key) {
  size_t lo = 0, hi = fs->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(fs->nodes[mid].path, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* Marks what one whiteout hides: path itself (unless opaque) and what is below it, of the
 * nodes older than it. The tree is sorted, so both are ranges found by bisection. */
static void mark_hidden(const core_rootfs *fs, core_whiteout *wo, unsigned char *dead) {
  size_t len = strlen(wo->path);
  if (len == 0) { /* an opaque marker at the root: everything before it */
    for (size_t i = 0; i < fs->n; i++) dead[i] |= fs->nodes[i].seq < wo->before;
    return;
  }
  if (!wo->opaque)
    for (size_t i = lower_bound(fs, wo->path); i < fs->n && strcmp(fs->nodes[i].path, wo->path) == 0; i++)
      dead[i] |= fs->nodes[i].seq < wo->before;
  /* "path/" sorts right before everything below path (core_rootfs_whiteout left room). */
  wo->path[len] = '/';
  size_t i = lower_bound(fs, wo->path);
  wo->path[len] = 0;
  for (; i < fs->n && strncmp(fs->nodes[i].path, wo->path, len) == 0 && fs->nodes[i].path[len] == '/'; i++)
    dead[i] |= fs->nodes[i].seq < wo->before;
}

/* Whiteouts go first: what they hide must not leave implied parent directories behind, and
 * a later layer may bring a hidden path back (each hides only nodes older than itself, so
 * the order they are applied in does not matter). Bisection in the sorted tree keeps a layer
 * of many whiteouts from costing whiteouts x entries. */
static int apply_whiteouts(core_rootfs *fs, core_error **err) {
  index_drop(fs);
  if (fs->n_whiteouts == 0) return 0;
  cleanup_free unsigned char *dead = calloc(fs->n + 1, 1);
  if (dead == NULL) return core_error_set(err, ENOMEM, "allocating");
  qsort(fs->nodes, fs->n, sizeof *fs->nodes, by_path_then_seq);
  for (size_t w = 0; w < fs->n_whiteouts; w++) {
    mark_hidden(fs, &fs->whiteouts[w], dead);
    free(fs->whiteouts[w].path);
  }
  size_t out = 0;
  for (size_t i = 0; i < fs->n; i++) {
    if (dead[i]) node_release(&fs->nodes[i]);
    else fs->nodes[out++] = fs->nodes[i];
  }
  fs->n = out;
  free(fs->whiteouts);
  fs->whiteouts = NULL;
  fs->n_whiteouts = fs->cap_whiteouts = 0;
  return 0;
}

static int by_path_then_seq(const void *a, const void *b) {
  const core_node *x = a, *y = b;
  int c = strcmp(x->path, y->path);
  if (c) return c;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int by_path(const void *key, const void *elem) { return strcmp(key, ((const core_node *)elem)->path); }

const core_node *core_rootfs_find(const core_rootfs *fs, const char *path) {
  if (!fs->sorted && fs->n_slots) return index_find(fs, path);
  if (!fs->sorted) {
    for (size_t i = fs->n; i-- > 0;)
      if (strcmp(fs->nodes[i].path, path) == 0) return &fs->nodes[i];
    return NULL;
  }
  return bsearch(path, fs->nodes, fs->n, sizeof *fs->nodes, by_path);
}

static const char *type_name(core_node_type t) {
  switch (t) {
    case CORE_NODE_FILE: return "a file";
    case CORE_NODE_DIR: return "a directory";
    case CORE_NODE_SYMLINK: return "a symlink";
    case CORE_NODE_CHAR: return "a device";
  }
  return "?";
}

/* Sorts by path, the latest of equal paths last, and keeps only that one. What the linker
 * owns is never replaced in silence: anything else there (a directory where it keeps a
 * directory aside) is refused, naming who put it there. */
static int sort_unique(core_rootfs *fs, core_error **err) {
  index_drop(fs);
  qsort(fs->nodes, fs->n, sizeof *fs->nodes, by_path_then_seq);
  size_t out = 0;
  int rc = 0;
  for (size_t i = 0; i < fs->n; i++) {
    core_node *n = &fs->nodes[i];
    if (out == 0 || strcmp(fs->nodes[out - 1].path, n->path) != 0) {
      fs->nodes[out++] = *n;
      continue;
    }
    core_node *kept = &fs->nodes[out - 1]; /* the earlier node at this path */
    if (n->type == CORE_NODE_DIR && n->yields && kept->type == CORE_NODE_SYMLINK) {
      node_release(n);
      continue;
    }
    if (rc == 0 && n->origin == CORE_ORIGIN_OWNED_REPLACES && kept->origin >= 0) {
      core_replaced *grown = realloc(fs->replaced, (fs->n_replaced + 1) * sizeof *grown);
      if (grown == NULL) {
        rc = core_error_set(err, ENOMEM, "allocating");
      } else {
        fs->replaced = grown;
        fs->replaced[fs->n_replaced++] = (core_replaced){kept->origin, TAKE_PTR(kept->path)};
      }
    }
    if (rc == 0 && n->origin == CORE_ORIGIN_OWNED && kept->origin != CORE_ORIGIN_OWNED &&
        !(n->type == CORE_NODE_DIR && kept->type == CORE_NODE_DIR)) {
      fs->error_origin = kept->origin;
      int link = kept->type == CORE_NODE_SYMLINK;
      if (n->type == CORE_NODE_DIR)
        rc = core_error_set(err, 0, "'%s' is %s%s%s%s, but the linker needs it to be a directory: it writes into it",
                            kept->path, type_name(kept->type), link ? " (to '" : "", link ? kept->target : "", link ? "')" : "");
      else
        rc = core_error_set(err, 0, "'%s' is a path the linker owns (coreinit, its configuration and the console are its own): "
                            "this %s would be replaced without a word, so it is refused; leave it out",
                            kept->path, type_name(kept->type) + 2);
    }
    node_release(kept); /* replaced by a later layer */
    *kept = *n;
  }
  fs->n = out;
  fs->sorted = 1;
  return rc;
}

/* Where dir really is in the tree: each component looked up, symlinks followed inside the
 * tree (absolute targets from its root, '..' stopping there), at most CORE_ROOTFS_MAX_LINKS
 * of them. The result is a path of directories and missing names, or ends at a file. */
static int resolve_dir(const core_rootfs *fs, const char *dir, char **out, core_error **err) {
  cleanup_buf core_buf res = CORE_BUF_INIT; /* the resolved prefix, without a NUL */
  cleanup_free char *todo = strdup(dir);
  if (todo == NULL) return core_error_set(err, ENOMEM, "allocating");
  size_t pos = 0;
  int links = 0;
  for (;;) {
    while (todo[pos] == '/') pos++;
    if (todo[pos] == 0) break;
    size_t len = strcspn(todo + pos, "/");
    const char *c = todo + pos;
    pos += len;
    if (len == 1 && c[0] == '.') continue;
    if (len == 2 && c[0] == '.' && c[1] == '.') {
      while (res.len && res.data[res.len - 1] != '/') res.len--;
      if (res.len) res.len--; /* the slash; at the root '..' is the root */
      continue;
    }
    size_t before = res.len;
    if ((res.len && core_buf_append(&res, "/", 1, err) < 0) || core_buf_append(&res, c, len, err) < 0 ||
        core_buf_append(&res, "", 1, err) < 0)
      return -1;
    res.len--; /* the NUL stays behind it, for the lookup */
    if (res.len >= CORE_ROOTFS_MAX_PATH)
      return core_error_set(err, ENAMETOOLONG, "'%.64s...' leads through symlinks to a path of more than %d bytes", dir,
                            CORE_ROOTFS_MAX_PATH - 1);
    const core_node *n = core_rootfs_find(fs, (const char *)res.data);
    if (n == NULL || n->type != CORE_NODE_SYMLINK) continue;
    if (++links > CORE_ROOTFS_MAX_LINKS)
      return core_error_set(err, ELOOP, "'%s' goes through more than %d symlinks (a loop?)", dir, CORE_ROOTFS_MAX_LINKS);
    res.len = n->target[0] == '/' ? 0 : before;
    cleanup_free char *next = NULL;
    if (asprintf(&next, "%s/%s", n->target, todo + pos) < 0) return core_error_set(err, ENOMEM, "allocating");
    free(todo);
    todo = TAKE_PTR(next);
    pos = 0;
  }
  if (core_buf_append(&res, "", 1, err) < 0) return -1;
  *out = (char *)res.data;
  res = (core_buf)CORE_BUF_INIT;
  return 0;
}

/* Moves every entry whose parent goes through a symlink to where the link leads. Returns
 * how many moved. Paths are swapped in only after the pass: lookups need the sorted tree. */
static long follow_links(core_rootfs *fs, core_error **err) {
  cleanup_free char **moved = calloc(fs->n + 1, sizeof *moved);
  if (moved == NULL) return core_error_set(err, ENOMEM, "allocating");
  long n_moved = 0;
  int rc = 0;
  for (size_t i = 0; i < fs->n && rc == 0; i++) {
    const char *slash = strrchr(fs->nodes[i].path, '/');
    if (slash == NULL) continue;
    /* A copy: cut in place, the path would be found as the parent it names. */
    cleanup_free char *parent = strndup(fs->nodes[i].path, (size_t)(slash - fs->nodes[i].path));
    cleanup_free char *dir = NULL;
    if (parent == NULL) {
      rc = core_error_set(err, ENOMEM, "allocating");
      break;
    }
    rc = resolve_dir(fs, parent, &dir, err);
    if (rc < 0) {
      fs->error_origin = fs->nodes[i].origin;
      break;
    }
    if (strcmp(dir, parent) == 0) continue;
    if (asprintf(&moved[i], "%s%s%s", dir, dir[0] ? "/" : "", slash + 1) < 0) rc = core_error_set(err, ENOMEM, "allocating");
    else n_moved++;
  }
  for (size_t i = 0; i < fs->n; i++) {
    if (moved[i] == NULL) continue;
    if (rc == 0) {
      if (fs->nodes[i].written == NULL) fs->nodes[i].written = fs->nodes[i].path;
      else free(fs->nodes[i].path);
      fs->nodes[i].path = moved[i];
    } else {
      free(moved[i]);
    }
  }
  if (n_moved) {
    fs->sorted = 0;
    index_drop(fs);
  }
  return rc < 0 ? -1 : n_moved;
}

/* Every parent must be a directory: missing ones are made; a file or device in the way is
 * an error, blamed on whoever made it one (else on the entry that needs it). */
static int add_parents(core_rootfs *fs, core_error **err) {
  size_t n = fs->n;
  cleanup_free char *last = NULL; /* the parent last made: siblings are next to each other */
  for (size_t i = 0; i < n; i++) {
    cleanup_free char *parent = strdup(fs->nodes[i].path);
    if (parent == NULL) return core_error_set(err, ENOMEM, "allocating");
    for (char *slash = strrchr(parent, '/'); slash; slash = strrchr(parent, '/')) {
      *slash = 0;
      if (last && strcmp(last, parent) == 0) break;
      const core_node *p = bsearch(parent, fs->nodes, n, sizeof *fs->nodes, by_path);
      if (p && p->type == CORE_NODE_DIR) break;
      if (p) {
        fs->error_origin = p->origin >= 0 ? p->origin : fs->nodes[i].origin;
        const char *written = fs->nodes[i].written;
        return core_error_set(err, 0, "'%s'%s%s%s needs '%s' to be a directory, but it is %s", fs->nodes[i].path,
                              written ? " (written as '" : "", written ? written : "", written ? "' through a symlink)" : "",
                              parent, type_name(p->type));
      }
      int origin = fs->origin;
      fs->origin = CORE_ORIGIN_LINKER;
      int rc = core_rootfs_add(fs, parent, CORE_NODE_DIR, 0755, 0, 0, NULL, NULL, err);
      fs->origin = origin;
      if (rc < 0) return -1;
      free(last);
      if ((last = strdup(parent)) == NULL) return core_error_set(err, ENOMEM, "allocating");
    }
  }
  return 0;
}

int core_rootfs_finish(core_rootfs *fs, core_error **err) {
  fs->error_origin = CORE_ORIGIN_LINKER;
  if (apply_whiteouts(fs, err) < 0) return -1;
  if (sort_unique(fs, err) < 0) return -1;
  /* A move can land on a symlink another entry went through; a few passes settle that. */
  for (int pass = 0;; pass++) {
    long moved = follow_links(fs, err);
    if (moved < 0) return -1;
    if (moved == 0) break;
    if (pass == 8) return core_error_set(err, ELOOP, "symlinks in the tree keep moving entries (a loop through '%s'?)", fs->nodes[0].path);
    if (sort_unique(fs, err) < 0) return -1;
  }
  /* Missing parents are added unsorted, after the sorted ones: bsearch sees only those. */
  if (add_parents(fs, err) < 0) return -1;
  return sort_unique(fs, err);
}
