/* OCI image layouts, as a directory or as an oci-archive tar: index.json, then blobs by digest. */
#include "oci_layout.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive_util.h"
#include "cleanup.h"
#include "fsutil.h"
#include "json.h"
#include "store.h"

int core_oci_store_fd(core_store *store, int fd, const core_digest *want, const char *what, core_error **err) {
  cleanup_store_writer core_store_writer *w = NULL;
  if (core_store_writer_begin(store, &w, err) < 0) return -1;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core_error_set(err, errno, "reading %s from '%s'", want->str, what);
    if (n == 0) break;
    if (core_store_writer_write(w, buf, (size_t)n, err) < 0) return -1;
  }
  if (core_store_writer_commit(w, want, NULL, err) < 0)
    return core_error_wrap(err, "'%s': blob %s is corrupt or was tampered with", what, want->str);
  return 0;
}

static const char *member_name(const char *name) {
  while (name[0] == '.' && name[1] == '/') name += 2;
  return name;
}

/* Opens tar and advances to the member called name; 0 when there is none. */
static int tar_find(const char *tar, const char *name, struct archive **out, core_error **err) {
  struct archive *a = archive_read_new();
  if (a == NULL) return core_error_set(err, ENOMEM, "allocating an archive reader");
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, tar, 1 << 16) != ARCHIVE_OK) {
    core_error_archive(err, a, "opening archive '%s'", tar);
    archive_read_free(a);
    return -1;
  }
  for (;;) {
    struct archive_entry *e;
    int rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) {
      archive_read_free(a);
      return 0;
    }
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      core_error_archive(err, a, "reading archive '%s'", tar);
      archive_read_free(a);
      return -1;
    }
    if (strcmp(member_name(archive_entry_pathname(e)), name) == 0) {
      *out = a;
      return 1;
    }
  }
}

int core_oci_tar_read_member(const char *tar, const char *name, core_buf *out, int *found, core_error **err) {
  cleanup_archive_read struct archive *a = NULL;
  int rc = tar_find(tar, name, &a, err);
  if (rc <= 0) {
    *found = 0;
    return rc;
  }
  core_buf b = CORE_BUF_INIT;
  for (;;) {
    if (core_buf_reserve(&b, 1 << 16, err) < 0) break;
    la_ssize_t n = archive_read_data(a, b.data + b.len, b.cap - b.len);
    if (n < 0) {
      core_error_archive(err, a, "reading '%s' from '%s'", name, tar);
      break;
    }
    if (n == 0) {
      *out = b;
      *found = 1;
      return 0;
    }
    b.len += (size_t)n;
  }
  core_buf_release(&b);
  return -1;
}

static int tar_store_member(core_oci_local *l, const char *name, const core_digest *want, core_error **err) {
  cleanup_archive_read struct archive *a = NULL;
  int rc = tar_find(l->path, name, &a, err);
  if (rc < 0) return -1;
  if (rc == 0) return core_error_set(err, 0, "'%s' lacks blob %s ('%s')", l->src.what, want->str, name);
  cleanup_store_writer core_store_writer *w = NULL;
  if (core_store_writer_begin(l->store, &w, err) < 0) return -1;
  char buf[1 << 16];
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf, sizeof buf);
    if (n < 0) return core_error_archive(err, a, "reading '%s' from '%s'", name, l->path);
    if (n == 0) break;
    if (core_store_writer_write(w, buf, (size_t)n, err) < 0) return -1;
  }
  if (core_store_writer_commit(w, want, NULL, err) < 0)
    return core_error_wrap(err, "'%s': blob %s is corrupt or was tampered with", l->src.what, want->str);
  return 0;
}

static char *blob_name(const core_digest *d) {
  char *name = NULL;
  return asprintf(&name, "blobs/sha256/%s", core_digest_hex(d)) < 0 ? NULL : name;
}

static int local_read(core_oci_source *src, const core_digest *d, core_buf *out, core_error **err) {
  core_oci_local *l = (core_oci_local *)src;
  cleanup_free char *name = blob_name(d);
  if (name == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (l->is_archive) {
    int found;
    if (core_oci_tar_read_member(l->path, name, out, &found, err) < 0) return -1;
    if (!found) return core_error_set(err, 0, "'%s' lacks manifest %s", src->what, d->str);
    return 0;
  }
  cleanup_free char *path = core_path_join(l->path, name);
  if (path == NULL) return core_error_set(err, ENOMEM, "allocating");
  return core_read_file(path, out, err);
}

static int local_store(core_oci_source *src, const core_digest *d, uint64_t size, core_error **err) {
  (void)size;
  core_oci_local *l = (core_oci_local *)src;
  cleanup_free char *name = blob_name(d);
  if (name == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (l->is_archive) return tar_store_member(l, name, d, err);
  cleanup_free char *path = core_path_join(l->path, name);
  if (path == NULL) return core_error_set(err, ENOMEM, "allocating");
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return core_error_set(err, errno, "'%s' lacks blob %s: opening '%s'", src->what, d->str, path);
  return core_oci_store_fd(l->store, fd, d, src->what, err);
}

/* A layout file from the directory or the archive; found 0 when absent. */
static int read_top_file(core_oci_local *l, const char *name, core_buf *out, int *found, core_error **err) {
  if (l->is_archive) return core_oci_tar_read_member(l->path, name, out, found, err);
  cleanup_free char *path = core_path_join(l->path, name);
  if (path == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (access(path, F_OK) < 0) {
    *found = 0;
    return 0;
  }
  *found = 1;
  return core_read_file(path, out, err);
}

int core_oci_local_open(core_oci_local *l, core_store *store, const char *path, int is_archive, const char *what,
                        core_buf *index_json, core_error **err) {
  memset(l, 0, sizeof *l);
  l->src.what = what;
  l->src.read_manifest = local_read;
  l->src.store_blob = local_store;
  l->store = store;
  l->is_archive = is_archive;
  if ((l->path = strdup(path)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  cleanup_buf core_buf marker = CORE_BUF_INIT;
  int found = 0;
  if (read_top_file(l, "oci-layout", &marker, &found, err) < 0) return -1;
  if (!found)
    return core_error_set(err, 0, "'%s' is not an OCI image layout: it has no 'oci-layout' file%s", path,
                          is_archive ? "" : " (for a tarball use oci-archive: or docker-archive:)");
  cleanup_json json_t *m = NULL;
  if (core_json_parse(marker.data, marker.len, &m, err) < 0) return core_error_wrap(err, "'%s': oci-layout", path);
  const char *version = json_string_value(json_object_get(m, "imageLayoutVersion"));
  if (version == NULL || strncmp(version, "1.", 2) != 0)
    return core_error_set(err, 0, "'%s': image layout version '%s' is not supported (1.x is)", path,
                          version ? version : "(none)");
  if (read_top_file(l, "index.json", index_json, &found, err) < 0) return -1;
  if (!found) return core_error_set(err, 0, "'%s' is not an OCI image layout: it has no index.json", path);
  return 0;
}

void core_oci_local_release(core_oci_local *l) {
  free(l->path);
  l->path = NULL;
}
