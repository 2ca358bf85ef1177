/* Verifying a disk form (spec/formats.md, "How corerun checks a disk form"). */
#include "disk_verify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "digest.h"
#include "fsutil.h"
#include "oci.h"
#include "qcow2_read.h"

/* Where the tar starts in the file: fixed for raw and ISO; for qcow2, where the disk's
 * byte 1 MiB is stored, which only the qcow2 tables say. */
static int meta_offset(const char *path, int fd, core_form form, uint64_t *out, core_error **err) {
  switch (form) {
    case CORE_FORM_RAW: *out = CORE_DISK_META_OFFSET; return 0;
    case CORE_FORM_ISO: *out = CORE_ISO_META_OFFSET; return 0;
    case CORE_FORM_QCOW2: break;
    case CORE_FORM_TIM: return core_error_set(err, 0, "'%s' is a TIM, not a disk form", path);
  }
  core_qcow2 *q = NULL;
  if (core_qcow2_open(fd, path, &q, err) < 0) return -1;
  int r = core_qcow2_map(q, CORE_DISK_META_OFFSET, out, err);
  core_qcow2_close(q);
  if (r < 0) return -1;
  if (*out == 0)
    return core_error_set(err, 0, "'%s' is a qcow2 disk without core's signed metadata (its first partition at 1 MiB is "
                          "empty): it was not written by corec build, so corerun cannot check it", path);
  return 0;
}

int core_disk_read_meta(const char *path, int fd, core_form form, core_tim **tim, core_disk_meta *meta, core_error **err) {
  struct stat st;
  if (fstat(fd, &st) < 0) return core_error_set(err, errno, "reading '%s'", path);
  *meta = (core_disk_meta){.form = form, .file_size = (uint64_t)st.st_size};
  if (meta_offset(path, fd, form, &meta->meta_offset, err) < 0) return -1;
  if (core_tim_read_region(path, fd, meta->meta_offset, CORE_DISK_META_MAX, tim, &meta->tar_len, err) < 0)
    return core_error_wrap(err, "the signed metadata of %s disk '%s' (at byte %llu)", core_form_name(form), path,
                           (unsigned long long)meta->meta_offset);
  return 0;
}

/* A decimal annotation as corec writes it: digits only, no leading zero, no overflow. */
static int get_number(const json_t *annotations, const char *key, uint64_t *out, core_error **err) {
  const char *s = json_string_value(json_object_get(annotations, key));
  if (s == NULL) return core_error_set(err, 0, "the signed manifest has no '%s' annotation", key);
  uint64_t v = 0;
  size_t n = strlen(s);
  if (n == 0 || n > 20 || (n > 1 && s[0] == '0')) return core_error_set(err, 0, "annotation '%s' is not a number: '%s'", key, s);
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
      return core_error_set(err, 0, "annotation '%s' is not a number: '%s'", key, s);
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  *out = v;
  return 0;
}

enum { CHUNK = 1 << 20 };

/* Hashes the whole file, the region [meta_at, meta_end) as zeros, and checks that the region
 * holds nothing after the tar. Holes are hashed as the zeros they read as, without reading. */
static int hash_file(const char *path, int fd, const core_disk_meta *m, uint64_t meta_end, core_digest *out,
                     core_error **err) {
  cleanup_hasher core_hasher *h = NULL;
  cleanup_free uint8_t *buf = malloc(CHUNK);
  cleanup_free uint8_t *zeros = calloc(1, CHUNK);
  if (buf == NULL || zeros == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (core_hasher_new(&h, err) < 0) return -1;
  uint64_t at = 0, tar_end = m->meta_offset + m->tar_len;
  while (at < m->file_size) {
    uint64_t n = m->file_size - at < CHUNK ? m->file_size - at : CHUNK;
    off_t data = lseek(fd, (off_t)at, SEEK_DATA);
    int hole = (data < 0 && errno == ENXIO) || (data >= 0 && (uint64_t)data > at);
    if (hole) {
      uint64_t hole_end = data < 0 ? m->file_size : (uint64_t)data;
      if (hole_end - at < n) n = hole_end - at;
      if (core_hasher_update(h, zeros, (size_t)n, err) < 0) return -1;
      at += n;
      continue;
    }
    /* Never straddle the region's edges: each chunk is wholly inside or outside it. */
    if (at < m->meta_offset && at + n > m->meta_offset) n = m->meta_offset - at;
    if (at < tar_end && at + n > tar_end) n = tar_end - at;
    if (at < meta_end && at + n > meta_end) n = meta_end - at;
    int in_region = at >= m->meta_offset && at < meta_end;
    if (in_region && at < tar_end) {
      /* The tar was read and checked entry by entry; in the digest it is zeros. */
      if (core_hasher_update(h, zeros, (size_t)n, err) < 0) return -1;
      at += n;
      continue;
    }
    if (core_pread_exact(fd, buf, (size_t)n, at, path, err) < 0) return -1;
    if (in_region) {
      if (memcmp(buf, zeros, (size_t)n) != 0)
        return core_error_set(err, 0,
                              "'%s' holds bytes after its signed metadata (between byte %llu and %llu), where only zeros "
                              "belong: the disk was modified; do not run it, and get the artifact again from its publisher",
                              path, (unsigned long long)at, (unsigned long long)(at + n));
      if (core_hasher_update(h, zeros, (size_t)n, err) < 0) return -1;
    } else if (core_hasher_update(h, buf, (size_t)n, err) < 0) {
      return -1;
    }
    at += n;
  }
  return core_hasher_final(h, out, err);
}

/* Reads the disk's bytes as a guest sees them: the file itself, or through the qcow2 tables. */
typedef struct disk_reader {
  const char *path;
  int fd;
  core_qcow2 *qcow2; /* NULL for raw and ISO */
} disk_reader;

static int disk_pread(disk_reader *r, void *buf, size_t len, uint64_t at, core_error **err) {
  if (r->qcow2) return core_qcow2_pread(r->qcow2, buf, len, at, err);
  return core_pread_exact(r->fd, buf, len, at, r->path, err);
}

typedef struct disk_source {
  disk_reader *r;
  uint64_t at;
} disk_source;

static int read_disk(void *ctx, uint64_t at, void *buf, size_t len, core_error **err) {
  disk_source *s = ctx;
  return disk_pread(s->r, buf, len, s->at + at, err);
}

/* Copies [at, at+size) of the disk into a sealed memfd while hashing it: core_digest_copy
 * hashes and writes each chunk from the same private buffer, so the bytes checked are the
 * bytes kept. */
static int read_blob(disk_reader *r, uint64_t at, uint64_t size, const core_digest *want, int *out, core_error **err) {
  cleanup_close int mfd = memfd_create("core-blob", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) return core_error_set(err, errno, "creating a memfd");
  disk_source src = {.r = r, .at = at};
  core_digest got;
  if (core_digest_copy(read_disk, &src, size, mfd, &got, err) < 0) return -1;
  if (strcmp(got.str, want->str) != 0)
    return core_error_set(err, 0,
                          "'%s': the bytes at %llu hash to %s, not to the signed %s: the disk was modified while it was "
                          "read; run it again, and if this repeats, get the artifact again", r->path, (unsigned long long)at,
                          got.str, want->str);
  if (core_memfd_seal(mfd, err) < 0) return -1;
  *out = TAKE_FD(mfd);
  return 0;
}

static int load_layers(disk_reader *r, const json_t *manifest, uint64_t disk_size, uint64_t meta_at, uint64_t meta_end,
                       core_tim *tim, core_error **err) {
  size_t i;
  json_t *desc;
  json_array_foreach(json_object_get(manifest, "layers"), i, desc) {
    json_t *ann = json_object_get(desc, "annotations");
    if (json_object_get(ann, CORE_ANN_BLOB_OFFSET) == NULL) continue;
    const char *mt;
    core_digest d;
    uint64_t size, at;
    if (core_oci_descriptor_parse(desc, &mt, &d, &size, err) < 0 || get_number(ann, CORE_ANN_BLOB_OFFSET, &at, err) < 0)
      return -1;
    /* Only these two are on the disk; every other layer (the SBOM, the provenance) is in the
     * metadata, where the TIM reader already hashed it. */
    if (strcmp(mt, TIM_MT_KERNEL) != 0 && strcmp(mt, TIM_MT_INITRAMFS) != 0 && strcmp(mt, TIM_MT_INITRAMFS_AGE) != 0)
      return core_error_set(err, 0, "the signed manifest places its %s layer on the disk, where corec puts only the "
                            "kernel and initramfs", mt);
    if (at > disk_size || size > disk_size - at)
      return core_error_set(err, 0, "the signed manifest places %s at bytes %llu+%llu, beyond the disk's end", d.str,
                            (unsigned long long)at, (unsigned long long)size);
    if (at < meta_end && at + size > meta_at)
      return core_error_set(err, 0, "the signed manifest places %s inside the metadata region", d.str);
    if (core_tim_find(tim, &d) != NULL) return core_error_set(err, 0, "%s is both in the metadata and on the disk", d.str);
    int blob_fd = -1;
    if (read_blob(r, at, size, &d, &blob_fd, err) < 0) return -1;
    if (core_tim_add_blob(tim, &d, size, blob_fd, err) < 0) return -1;
  }
  return 0;
}

int core_disk_check(const char *path, int fd, const json_t *manifest, const core_disk_meta *m, core_tim *tim,
                    core_error **err) {
  const json_t *ann = json_object_get(manifest, "annotations");
  const char *format = json_string_value(json_object_get(ann, CORE_ANN_IMAGE_FORMAT));
  const char *want_format = m->form == CORE_FORM_ISO ? CORE_FORMAT_ISO : CORE_FORMAT_DISK;
  if (format == NULL || strcmp(format, want_format) != 0)
    return core_error_set(err, 0, "'%s' is a %s file, but its signed manifest describes %s: the metadata was moved "
                          "from another artifact; do not run it", path, core_form_name(m->form),
                          format == NULL ? "a TIM" : strcmp(format, CORE_FORMAT_ISO) == 0 ? "an ISO" : "a raw or qcow2 disk");
  char key_digest[64], key_size[64];
  snprintf(key_digest, sizeof key_digest, CORE_ANN_IMAGE_PREFIX "%s.digest", core_form_name(m->form));
  snprintf(key_size, sizeof key_size, CORE_ANN_IMAGE_PREFIX "%s.size", core_form_name(m->form));
  uint64_t size, meta_at, meta_size;
  if (get_number(ann, key_size, &size, err) < 0 || get_number(ann, CORE_ANN_META_OFFSET, &meta_at, err) < 0 ||
      get_number(ann, CORE_ANN_META_SIZE, &meta_size, err) < 0)
    return core_error_wrap(err, "'%s'", path);
  if (size != m->file_size)
    return core_error_set(err, 0, "'%s' has %llu bytes, but its signed manifest says %llu: it was truncated or extended; "
                          "get the artifact again", path, (unsigned long long)m->file_size, (unsigned long long)size);
  /* The region where the tar was found: fixed for raw and ISO, the disk's byte 1 MiB for qcow2. */
  uint64_t expected_at = m->form == CORE_FORM_QCOW2 ? CORE_DISK_META_OFFSET : m->meta_offset;
  if (meta_at != expected_at || meta_size < m->tar_len || meta_size > size - m->meta_offset)
    return core_error_set(err, 0, "'%s': its signed metadata is not where its manifest says (byte %llu, %llu bytes)", path,
                          (unsigned long long)meta_at, (unsigned long long)meta_size);
  const char *want = json_string_value(json_object_get(ann, key_digest));
  if (want == NULL || !core_digest_is_valid(want))
    return core_error_set(err, 0, "'%s': the signed manifest has no valid '%s'", path, key_digest);
  core_digest got;
  if (hash_file(path, fd, m, m->meta_offset + meta_size, &got, err) < 0) return -1;
  if (strcmp(got.str, want) != 0)
    return core_error_set(err, 0,
                          "'%s' was modified after it was signed: its bytes hash to %s, not to the signed %s; do not run "
                          "it, and get the artifact again from its publisher", path, got.str, want);
  /* Every byte checked: now the kernel and initramfs, from where the guest would read them. */
  disk_reader r = {.path = path, .fd = fd};
  uint64_t disk_size = size;
  if (m->form == CORE_FORM_QCOW2) {
    if (core_qcow2_open(fd, path, &r.qcow2, err) < 0) return -1;
    disk_size = core_qcow2_virtual_size(r.qcow2);
  }
  int rc = load_layers(&r, manifest, disk_size, meta_at, meta_at + meta_size, tim, err);
  core_qcow2_close(r.qcow2);
  return rc;
}
