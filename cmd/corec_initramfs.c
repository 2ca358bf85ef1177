/* The initramfs, one entry at a time, from the verified (or decrypted and checked) memfd. */
#include "corec_initramfs.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "archive_util.h"
#include "cleanup.h"
#include "corec_cpio_frame.h"

#define BLOCK (64u << 10)

/* pread, not read: the memfd's file position is shared with whoever else holds it. */
typedef struct source {
  int fd;
  uint64_t off, size;
  char buf[BLOCK];
} source;

static la_ssize_t read_block(struct archive *a, void *ctx, const void **out) {
  source *s = ctx;
  size_t want = s->size - s->off < BLOCK ? (size_t)(s->size - s->off) : BLOCK;
  if (want == 0) return 0;
  ssize_t n = pread(s->fd, s->buf, want, (off_t)s->off);
  if (n < 0) {
    archive_set_error(a, errno, "reading the initramfs");
    return -1;
  }
  s->off += (uint64_t)n;
  *out = s->buf;
  return n;
}

/* Two readers: OUTER decompresses (zstd, as the raw stream), and its bytes pass the framing
 * check on their way to the cpio reader, so no header libarchive parses can make it buffer
 * more than a bounded name. */
typedef struct plain {
  struct archive *outer;
  corec_cpio_frame frame;
  unsigned char buf[BLOCK];
} plain;

static la_ssize_t read_plain(struct archive *a, void *ctx, const void **out) {
  plain *p = ctx;
  la_ssize_t n = archive_read_data(p->outer, p->buf, sizeof p->buf);
  if (n < 0) {
    archive_set_error(a, archive_errno(p->outer), "decompressing the initramfs: %s", archive_error_string(p->outer));
    return -1;
  }
  char why[160];
  if (corec_cpio_frame_feed(&p->frame, p->buf, (size_t)n, why, sizeof why) < 0) {
    archive_set_error(a, 0, "%s", why);
    return -1;
  }
  *out = p->buf;
  return n;
}

static const char *strip_root(const char *p) {
  for (;;) {
    if (p[0] == '/') p++;
    else if (p[0] == '.' && p[1] == '/') p += 2;
    else return p;
  }
}

static int open_plain(const core_tim_blob *blob, source *s, plain *p, struct archive **inner, core_error **err) {
  struct archive_entry *raw;
  *s = (source){.fd = blob->fd, .size = blob->size};
  p->frame = (corec_cpio_frame){.max_name = COREC_INITRAMFS_MAX_PATH};
  /* Exactly what the linker writes: one zstd frame of a cpio newc archive. */
  if ((p->outer = archive_read_new()) == NULL || (*inner = archive_read_new()) == NULL)
    return core_error_set(err, ENOMEM, "allocating an archive reader");
  if (archive_read_support_filter_zstd(p->outer) != ARCHIVE_OK || archive_read_support_format_raw(p->outer) != ARCHIVE_OK ||
      archive_read_open(p->outer, s, NULL, read_block, NULL) != ARCHIVE_OK ||
      archive_read_next_header(p->outer, &raw) != ARCHIVE_OK)
    return core_error_archive(err, p->outer, "opening the initramfs %s", blob->digest.str);
  if (archive_filter_code(p->outer, 0) != ARCHIVE_FILTER_ZSTD)
    return core_error_set(err, 0, "the initramfs %s is not zstd-compressed", blob->digest.str);
  if (archive_read_support_format_cpio(*inner) != ARCHIVE_OK || archive_read_open(*inner, p, NULL, read_plain, NULL) != ARCHIVE_OK)
    return core_error_archive(err, *inner, "opening the initramfs %s", blob->digest.str);
  return 0;
}

int corec_initramfs_walk(const core_tim_blob *blob, corec_initramfs_fn fn, void *ctx, core_error **err) {
  source *s = malloc(sizeof *s);
  plain *p = calloc(1, sizeof *p);
  cleanup_free source *owned_s = s;
  cleanup_free plain *owned_p = p;
  if (s == NULL || p == NULL) return core_error_set(err, ENOMEM, "allocating");
  /* Declared after P so they are freed before it: the inner reader calls into P. */
  cleanup_archive_read struct archive *inner = NULL;
  int rc = open_plain(blob, s, p, &inner, err);
  cleanup_archive_read struct archive *outer = p->outer;
  if (rc < 0) return -1;
  struct archive_entry *e;
  unsigned long n = 0;
  int r;
  while ((r = archive_read_next_header(inner, &e)) == ARCHIVE_OK) {
    if (++n > COREC_INITRAMFS_MAX_ENTRIES)
      return core_error_set(err, 0, "the initramfs holds more than %u entries, the most corec reads",
                            COREC_INITRAMFS_MAX_ENTRIES);
    const char *name = archive_entry_pathname(e), *target = archive_entry_symlink(e);
    if (name == NULL) return core_error_set(err, 0, "initramfs entry %lu has no name", n);
    if (strlen(name) > COREC_INITRAMFS_MAX_PATH || (target && strlen(target) > COREC_INITRAMFS_MAX_PATH))
      return core_error_set(err, 0, "initramfs entry %lu has a path or link target over %u bytes", n,
                            COREC_INITRAMFS_MAX_PATH);
    int rc2 = fn(ctx, inner, e, strip_root(name), err);
    if (rc2 != 0) return rc2;
  }
  if (r != ARCHIVE_EOF) return core_error_archive(err, inner, "reading the initramfs %s", blob->digest.str);
  return 0;
}

int corec_initramfs_hash(struct archive *a, const char *path, core_digest *out, core_error **err) {
  cleanup_hasher core_hasher *h = NULL;
  if (core_hasher_new(&h, err) < 0) return -1;
  const void *data;
  size_t len;
  la_int64_t offset;
  int r;
  while ((r = archive_read_data_block(a, &data, &len, &offset)) == ARCHIVE_OK)
    if (core_hasher_update(h, data, len, err) < 0) return -1;
  if (r != ARCHIVE_EOF) return core_error_archive(err, a, "reading initramfs file '%s'", path);
  return core_hasher_final(h, out, err);
}

void corec_initramfs_mode(struct archive_entry *e, char out[11]) {
  memcpy(out, archive_entry_strmode(e), 10);
  out[10] = '\0';
}
