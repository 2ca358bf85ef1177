/* A Debian package's data.tar.xz through liblzma's threaded decoder into libarchive's tar
 * reader (deb_xz.h). */
#include "deb_xz.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "layer_reader.h"

#define CHUNK (1u << 20)

struct core_deb_xz {
  char *source;
  struct archive *outer; /* the ar archive: its data.tar.xz member is the compressed input */
  struct archive *tar;   /* the tar reader over the decoded bytes */
  lzma_stream xz;
  int xz_ready, in_end, out_end;
  uint8_t *in, *out;
  char *path; /* the current entry's, normalised */
};

/* libarchive's read callback: decoded bytes, as many as one call of the decoder gives. */
static la_ssize_t read_decoded(struct archive *a, void *ctx, const void **buf) {
  core_deb_xz *d = ctx;
  *buf = d->out;
  while (!d->out_end) {
    if (d->xz.avail_in == 0 && !d->in_end) {
      la_ssize_t n = archive_read_data(d->outer, d->in, CHUNK);
      if (n < 0) {
        archive_set_error(a, EIO, "reading data.tar.xz: %s", archive_error_string(d->outer));
        return -1;
      }
      d->in_end = n == 0;
      d->xz.next_in = d->in;
      d->xz.avail_in = (size_t)n;
    }
    d->xz.next_out = d->out;
    d->xz.avail_out = CHUNK;
    lzma_ret rc = lzma_code(&d->xz, d->in_end ? LZMA_FINISH : LZMA_RUN);
    size_t produced = CHUNK - d->xz.avail_out;
    if (rc == LZMA_STREAM_END) d->out_end = 1;
    else if (rc != LZMA_OK) {
      archive_set_error(a, EINVAL, "data.tar.xz is not valid xz (liblzma error %d)", (int)rc);
      return -1;
    }
    if (produced) return (la_ssize_t)produced;
  }
  return 0;
}

int core_deb_xz_open(const char *path, core_deb_xz **out, core_error **err) {
  *out = NULL;
  core_deb_xz *d = calloc(1, sizeof *d);
  cleanup_deb_xz core_deb_xz *owned = d;
  if (d == NULL || (d->source = strdup(path)) == NULL || (d->in = malloc(CHUNK)) == NULL ||
      (d->out = malloc(CHUNK)) == NULL || (d->outer = archive_read_new()) == NULL)
    return core_error_set(err, ENOMEM, "allocating");
  archive_read_support_format_ar(d->outer);
  if (archive_read_open_filename(d->outer, path, 1 << 16) != ARCHIVE_OK)
    return core_error_archive(err, d->outer, "opening Debian package '%s'", path);
  for (;;) {
    struct archive_entry *e;
    int rc = archive_read_next_header(d->outer, &e);
    if (rc == ARCHIVE_EOF) return core_error_set(err, 0, "'%s' is not a Debian package: it has no data.tar member", path);
    if (rc != ARCHIVE_OK) return core_error_archive(err, d->outer, "reading Debian package '%s'", path);
    const char *name = archive_entry_pathname(e);
    if (name && strncmp(name, "data.tar", 8) == 0) {
      if (strcmp(name, "data.tar.xz") != 0) return 0;
      break;
    }
  }
  /* As many threads as processors (xz -T0), within a quarter of the memory, as xz itself
   * limits them; a stream without block sizes is decoded on one thread, as before. */
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  uint64_t mem = lzma_physmem();
  lzma_mt mt = {.threads = cpus > 1 ? (uint32_t)(cpus < 16 ? cpus : 16) : 1,
                .flags = LZMA_CONCATENATED,
                .memlimit_threading = mem ? mem / 4 : (uint64_t)256 << 20,
                .memlimit_stop = UINT64_MAX};
  d->xz = (lzma_stream)LZMA_STREAM_INIT;
  if (lzma_stream_decoder_mt(&d->xz, &mt) != LZMA_OK) return core_error_set(err, ENOMEM, "starting the xz decoder");
  d->xz_ready = 1;
  if ((d->tar = archive_read_new()) == NULL) return core_error_set(err, ENOMEM, "allocating an archive reader");
  archive_read_support_format_tar(d->tar);
  if (archive_read_open(d->tar, d, NULL, read_decoded, NULL) != ARCHIVE_OK)
    return core_error_archive(err, d->tar, "opening the data archive of '%s'", path);
  *out = TAKE_PTR(owned);
  return 1;
}

int core_deb_xz_next(core_deb_xz *d, struct archive_entry **entry, const char **path, core_error **err) {
  for (;;) {
    struct archive_entry *e;
    int rc = archive_read_next_header(d->tar, &e);
    if (rc == ARCHIVE_EOF) return 0;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return core_error_archive(err, d->tar, "reading '%s'", d->source);
    const char *name = archive_entry_pathname(e);
    if (name == NULL) return core_error_set(err, 0, "'%s': an entry has no name", d->source);
    free(d->path);
    if ((d->path = strdup(name)) == NULL) return core_error_set(err, ENOMEM, "allocating");
    if (core_normalize_path(d->path) < 0)
      return core_error_set(err, 0, "'%s': entry '%s' escapes the root with '..'", d->source, name);
    if (d->path[0] == 0) continue;
    *entry = e;
    *path = d->path;
    return 1;
  }
}

int core_deb_xz_copy(core_deb_xz *d, core_write_fn *write, void *ctx, uint64_t max, uint64_t *len, core_error **err) {
  *len = 0;
  /* The data is read in pieces straight from the tar reader's own buffers. */
  for (;;) {
    const void *buf;
    size_t size;
    la_int64_t offset;
    int rc = archive_read_data_block(d->tar, &buf, &size, &offset);
    if (rc == ARCHIVE_EOF) return 0;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
      return core_error_archive(err, d->tar, "reading '%s' from '%s'", d->path, d->source);
    if ((uint64_t)offset != *len)
      return core_error_set(err, 0, "'%s' in '%s' is a sparse file, which a kernel package does not hold", d->path,
                            d->source);
    if (*len + size > max)
      return core_error_set(err, EFBIG, "'%s' in '%s' holds more than %llu bytes", d->path, d->source,
                            (unsigned long long)max);
    if (write(ctx, buf, size, err) < 0) return -1;
    *len += size;
  }
}

int core_deb_xz_data(core_deb_xz *d, uint64_t max, core_buf *out, core_error **err) {
  cleanup_buf core_buf b = CORE_BUF_INIT;
  for (;;) {
    const void *buf;
    size_t size;
    la_int64_t offset;
    int rc = archive_read_data_block(d->tar, &buf, &size, &offset);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
      return core_error_archive(err, d->tar, "reading '%s' from '%s'", d->path, d->source);
    if ((uint64_t)offset != b.len || b.len + size > max)
      return core_error_set(err, EFBIG, "'%s' in '%s' holds more than %llu bytes", d->path, d->source,
                            (unsigned long long)max);
    if (core_buf_append(&b, buf, size, err) < 0) return -1;
  }
  *out = b;
  b = (core_buf)CORE_BUF_INIT;
  return 0;
}

void core_deb_xz_free(core_deb_xz *d) {
  if (d == NULL) return;
  if (d->tar) archive_read_free(d->tar);
  if (d->outer) archive_read_free(d->outer);
  if (d->xz_ready) lzma_end(&d->xz);
  free(d->in);
  free(d->out);
  free(d->path);
  free(d->source);
  free(d);
}

void core_deb_xz_freep(core_deb_xz **d) {
  core_deb_xz_free(*d);
  *d = NULL;
}
