/* OCI layer changesets: entries through the rootfs, whiteout markers turned into whiteouts. */
#include "oci_layer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "layer_reader.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

/* Turns the marker at path (already normalised) into a whiteout of what it names. */
static int add_whiteout(core_rootfs *fs, const char *path, const char *dest, uint64_t before, const char *blob,
                        core_error **err) {
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  int dir_len = slash ? (int)(slash - path) : 0;
  int opaque = strcmp(base, WH_OPAQUE) == 0;
  /* Other ".wh..wh." names are AUFS bookkeeping (hard-link directories), not content. */
  if (!opaque && strncmp(base, WH_PREFIX WH_PREFIX, 2 * strlen(WH_PREFIX)) == 0) return 0;
  const char *name = opaque ? "" : base + strlen(WH_PREFIX);
  if (!opaque && (name[0] == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0))
    return core_error_set(err, 0, "whiteout '%s' in '%s' names no file; the layer is malformed", path, blob);
  /* dest, the marker's directory and the hidden name, each of which may be empty. */
  cleanup_free char *target = NULL;
  const char *sep1 = dest[0] && (dir_len || name[0]) ? "/" : "";
  const char *sep2 = dir_len && name[0] ? "/" : "";
  if (asprintf(&target, "%s%s%.*s%s%s", dest, sep1, dir_len, path, sep2, name) < 0)
    return core_error_set(err, ENOMEM, "allocating");
  return core_rootfs_whiteout(fs, target, opaque, before, err);
}

int core_rootfs_add_oci_layer(core_rootfs *fs, const char *blob_path, const char *dest, core_error **err) {
  cleanup_layer_reader core_layer_reader *r = NULL;
  if (core_layer_reader_open(blob_path, &r, err) < 0) return core_error_wrap(err, "applying image layer");
  if (fs->on_bytes) core_layer_reader_on_bytes(r, fs->on_bytes, fs->on_bytes_ctx);
  if (core_layer_reader_kind(r) != CORE_LAYER_TAR)
    return core_error_set(err, 0, "image layer '%s' is a %s, not a tar archive", blob_path,
                          core_layer_kind_name(core_layer_reader_kind(r)));
  /* Whiteouts hide only what came before this layer, wherever in the tar they appear. */
  uint64_t before = fs->next_seq;
  for (;;) {
    struct archive_entry *e;
    const char *path;
    int rc = core_layer_reader_next(r, &e, &path, err);
    if (rc < 0) return -1;
    if (rc == 0) return 0;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0) {
      if (add_whiteout(fs, path, dest, before, blob_path, err) < 0) return -1;
      continue;
    }
    if (core_rootfs_add_entry(fs, r, e, path, dest, 0, err) < 0) return -1;
  }
}
