/* Writes a git tree as a deterministic tar through libarchive into the content store. */
#include "sources/git_tree_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive_util.h"
#include "cleanup.h"
#include "error_git.h"
#include "sources/git_cleanup.h"

/* An old git wrote 100664 for group-writable files; git reads it as 100644. */
#define BLOB_GROUP_WRITABLE 0100664

typedef struct tar_item {
  char *name; /* tar name: relative to the exported tree, directories end in '/' */
  git_filemode_t mode;
  git_oid oid;
} tar_item;

typedef struct walk_state {
  tar_item *items;
  size_t n, cap;
  const char *prefix;
  const char *where;
  core_error *err; /* set by the walk callback, which can only return a code */
} walk_state;

static void walk_state_release(walk_state *ws) {
  for (size_t i = 0; i < ws->n; i++) free(ws->items[i].name);
  free(ws->items);
  core_error_free(ws->err);
}

static int add_item(walk_state *ws, const char *root, const char *name, const git_tree_entry *e) {
  if (ws->n == ws->cap) {
    size_t cap = ws->cap ? ws->cap * 2 : 64;
    tar_item *items = realloc(ws->items, cap * sizeof *items);
    if (items == NULL) return core_error_set(&ws->err, ENOMEM, "listing %s", ws->where);
    ws->items = items;
    ws->cap = cap;
  }
  tar_item *it = &ws->items[ws->n];
  int dir = git_tree_entry_type(e) == GIT_OBJECT_TREE;
  if (asprintf(&it->name, "%s%s%s", root, name, dir ? "/" : "") < 0)
    return core_error_set(&ws->err, ENOMEM, "listing %s", ws->where);
  it->mode = git_tree_entry_filemode(e);
  git_oid_cpy(&it->oid, git_tree_entry_id(e));
  ws->n++;
  return 0;
}

/* Pre-order walk: a positive return skips the subtree, a negative one stops the walk. */
static int walk_cb(const char *root, const git_tree_entry *e, void *payload) {
  walk_state *ws = payload;
  const char *name = git_tree_entry_name(e);
  /* A tree never holds the repository itself, but a committed directory may be called .git;
   * extracted, it would be taken for one. */
  if (strcmp(name, ".git") == 0) return 1;
  switch ((int)git_tree_entry_filemode(e)) {
    case GIT_FILEMODE_TREE:
    case GIT_FILEMODE_BLOB:
    case BLOB_GROUP_WRITABLE:
    case GIT_FILEMODE_BLOB_EXECUTABLE:
    case GIT_FILEMODE_LINK:
      return add_item(ws, root, name, e) < 0 ? -1 : 0;
    case GIT_FILEMODE_COMMIT:
      /* Skipping it would build an image that silently lacks files the app expects. */
      core_error_set(&ws->err, 0,
                     "%s: '%s%s%s' is a submodule, and submodules are not supported yet; "
                     "use the submodule's own repository as a separate git source",
                     ws->where, ws->prefix, root, name);
      return -1;
    default:
      core_error_set(&ws->err, 0, "%s: '%s%s%s' has unknown git file mode %06o", ws->where, ws->prefix, root,
                     name, (unsigned)git_tree_entry_filemode(e));
      return -1;
  }
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const tar_item *)a)->name, ((const tar_item *)b)->name);
}

typedef struct sink {
  core_store_writer *w;
  core_error *err;
} sink;

static la_ssize_t sink_write(struct archive *a, void *data, const void *buf, size_t len) {
  sink *s = data;
  if (core_store_writer_write(s->w, buf, len, &s->err) < 0) {
    archive_set_error(a, EIO, "writing to the store failed");
    return -1;
  }
  return (la_ssize_t)len;
}

static int write_data(struct archive *a, const void *data, size_t len, const char *name, core_error **err) {
  const char *p = data;
  while (len > 0) {
    la_ssize_t n = archive_write_data(a, p, len);
    if (n <= 0) return core_error_archive(err, a, "writing '%s' to the tar", name);
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int write_item(struct archive *a, git_repository *repo, const tar_item *it, core_error **err) {
  cleanup_archive_entry struct archive_entry *e = archive_entry_new();
  if (e == NULL) return core_error_set(err, ENOMEM, "writing '%s' to the tar", it->name);
  cleanup_git_blob git_blob *blob = NULL;
  cleanup_free char *target = NULL;
  archive_entry_copy_pathname(e, it->name);
  archive_entry_set_mtime(e, 0, 0);
  archive_entry_set_uid(e, 0);
  archive_entry_set_gid(e, 0);
  if (it->mode == GIT_FILEMODE_TREE) {
    archive_entry_set_filetype(e, AE_IFDIR);
    archive_entry_set_perm(e, 0755);
  } else {
    if (git_blob_lookup(&blob, repo, &it->oid) < 0) return core_error_git(err, "reading '%s'", it->name);
    if (it->mode == GIT_FILEMODE_LINK) {
      /* The blob is the link's target, without a terminating NUL. */
      target = strndup(git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
      if (target == NULL) return core_error_set(err, ENOMEM, "reading '%s'", it->name);
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_perm(e, 0777);
      archive_entry_copy_symlink(e, target);
    } else {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, it->mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644);
      archive_entry_set_size(e, (la_int64_t)git_blob_rawsize(blob));
    }
  }
  /* ARCHIVE_WARN: a name that is not UTF-8 is kept as raw bytes under hdrcharset=BINARY,
   * the same bytes everywhere. */
  int rc = archive_write_header(a, e);
  if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return core_error_archive(err, a, "writing '%s' to the tar", it->name);
  if (it->mode != GIT_FILEMODE_TREE && it->mode != GIT_FILEMODE_LINK)
    return write_data(a, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), it->name, err);
  return 0;
}

/* libarchive converts names through the calling thread's locale; the tar must not depend on
 * the user's, so writing happens under C.UTF-8 and is put back afterwards. */
typedef struct fixed_locale {
  locale_t fixed, saved;
} fixed_locale;

static int fix_locale(fixed_locale *l, core_error **err) {
  l->fixed = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
  if (l->fixed == (locale_t)0)
    return core_error_set(err, errno, "the C.UTF-8 locale is missing (it comes with the C library's locale data)");
  l->saved = uselocale(l->fixed);
  return 0;
}

static void restore_localep(fixed_locale *l) {
  if (l->fixed == (locale_t)0) return;
  uselocale(l->saved);
  freelocale(l->fixed);
  l->fixed = (locale_t)0;
}
#define cleanup_locale __attribute__((cleanup(restore_localep)))

static int write_items(git_repository *repo, const walk_state *ws, core_store_writer *w, core_error **err) {
  cleanup_locale fixed_locale loc = {0};
  if (fix_locale(&loc, err) < 0) return -1;
  sink s = {.w = w};
  cleanup_archive_write struct archive *a = archive_write_new();
  if (a == NULL) return core_error_set(err, ENOMEM, "starting the tar");
  /* pax-restricted is plain ustar unless a name or size needs more (a long or non-ASCII
   * name). */
  if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK || archive_write_add_filter_none(a) != ARCHIVE_OK ||
      archive_write_open(a, &s, NULL, sink_write, NULL) != ARCHIVE_OK)
    return core_error_archive(err, a, "starting the tar");
  int rc = 0;
  for (size_t i = 0; i < ws->n && rc == 0; i++) rc = write_item(a, repo, &ws->items[i], err);
  if (rc == 0 && archive_write_close(a) != ARCHIVE_OK) rc = core_error_archive(err, a, "finishing the tar");
  if (rc < 0 && s.err) {
    /* The store's own error says more than libarchive's view of it. */
    core_error_free(*err);
    *err = TAKE_PTR(s.err);
  }
  core_error_free(s.err);
  return rc;
}

int core_git_tree_tar(git_repository *repo, const git_tree *tree, const char *prefix, const char *where,
                      core_store_writer *w, core_error **err) {
  walk_state ws = {.prefix = prefix, .where = where};
  int rc = git_tree_walk(tree, GIT_TREEWALK_PRE, walk_cb, &ws);
  if (rc < 0) {
    if (ws.err) {
      *err = TAKE_PTR(ws.err);
    } else {
      core_error_git(err, "listing %s", where);
    }
    walk_state_release(&ws);
    return -1;
  }
  /* Git orders a tree's entries as if directory names ended in '/', and only per
   * directory; one byte order over the whole path is simpler to state and to check. */
  if (ws.n > 1) qsort(ws.items, ws.n, sizeof *ws.items, by_name);
  rc = write_items(repo, &ws, w, err);
  walk_state_release(&ws);
  return rc;
}
