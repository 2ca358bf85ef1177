/* The TIM writer: entries in a fixed order with fixed metadata, so equal content gives an
 * equal file, byte for byte. */
#include "tim_write.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "archive_util.h"
#include "cleanup.h"
#include "fsutil.h"
#include "oci.h"

int core_blob_set_add(core_blob_set *set, core_buf *data, core_digest *digest, core_error **err) {
  core_digest d;
  if (core_digest_bytes(data->data, data->len, &d, err) < 0) return -1;
  if (digest) *digest = d;
  for (size_t i = 0; i < set->n; i++)
    if (strcmp(set->blobs[i].digest.str, d.str) == 0) {
      core_buf_release(data);
      return 0;
    }
  core_blob *grown = realloc(set->blobs, (set->n + 1) * sizeof *grown);
  if (grown == NULL) return core_error_set(err, ENOMEM, "allocating");
  set->blobs = grown;
  set->blobs[set->n].digest = d;
  set->blobs[set->n].data = *data;
  *data = (core_buf)CORE_BUF_INIT;
  set->n++;
  return 0;
}

void core_blob_set_release(core_blob_set *set) {
  for (size_t i = 0; i < set->n; i++) core_buf_release(&set->blobs[i].data);
  free(set->blobs);
  set->blobs = NULL;
  set->n = 0;
}

static int put(struct archive *a, struct archive_entry *e, const char *name, int is_dir, const void *data, size_t len,
               core_error **err) {
  archive_entry_clear(e);
  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, is_dir ? AE_IFDIR : AE_IFREG);
  archive_entry_set_perm(e, is_dir ? 0755 : 0644);
  archive_entry_set_size(e, is_dir ? 0 : (la_int64_t)len);
  /* Fixed owner and time: the tar must not record who built it, or when. */
  archive_entry_set_uid(e, 0);
  archive_entry_set_gid(e, 0);
  archive_entry_set_mtime(e, 0, 0);
  if (archive_write_header(a, e) != ARCHIVE_OK) return core_error_archive(err, a, "writing '%s'", name);
  if (!is_dir && len && archive_write_data(a, data, len) != (la_ssize_t)len)
    return core_error_archive(err, a, "writing '%s'", name);
  return 0;
}

static int by_digest(const void *a, const void *b) {
  return strcmp((*(const core_blob *const *)a)->digest.str, (*(const core_blob *const *)b)->digest.str);
}

int core_tim_write(const char *path, const core_buf *index_json, const core_blob_set *blobs, core_error **err) {
  cleanup_atomic_file core_atomic_file f = {.fd = -1};
  if (core_atomic_open(&f, path, 0644, err) < 0) return -1;
  cleanup_archive_write struct archive *a = archive_write_new();
  cleanup_archive_entry struct archive_entry *e = archive_entry_new();
  if (a == NULL || e == NULL) return core_error_set(err, ENOMEM, "allocating an archive writer");
  /* No padding to a 10 KiB record: whatever the output is, the tar ends right after its end marker. */
  if (archive_write_set_format_ustar(a) != ARCHIVE_OK || archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
      archive_write_open_fd(a, f.fd) != ARCHIVE_OK)
    return core_error_archive(err, a, "writing '%s'", path);
  cleanup_free const core_blob **sorted = calloc(blobs->n + 1, sizeof *sorted);
  if (sorted == NULL) return core_error_set(err, ENOMEM, "allocating");
  for (size_t i = 0; i < blobs->n; i++) sorted[i] = &blobs->blobs[i];
  qsort(sorted, blobs->n, sizeof *sorted, by_digest);
  if (put(a, e, "oci-layout", 0, OCI_LAYOUT_FILE, strlen(OCI_LAYOUT_FILE), err) < 0 ||
      put(a, e, "index.json", 0, index_json->data, index_json->len, err) < 0 || put(a, e, "blobs/", 1, NULL, 0, err) < 0 ||
      put(a, e, "blobs/sha256/", 1, NULL, 0, err) < 0)
    return core_error_wrap(err, "'%s'", path);
  for (size_t i = 0; i < blobs->n; i++) {
    char name[13 + 64 + 1];
    snprintf(name, sizeof name, "blobs/sha256/%s", core_digest_hex(&sorted[i]->digest));
    if (put(a, e, name, 0, sorted[i]->data.data, sorted[i]->data.len, err) < 0) return core_error_wrap(err, "'%s'", path);
  }
  if (archive_write_close(a) != ARCHIVE_OK) return core_error_archive(err, a, "finishing '%s'", path);
  return core_atomic_commit(&f, err);
}
