/* The strict qcow2 reader (see qcow2_read.h and spec/qcow2.md). Everything the header claims is
 * checked against the file's real size before it is used to allocate or read, so a hostile
 * file costs at most what it weighs. */
#include "qcow2_read.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "byteorder.h"
#include "cleanup.h"
#include "fsutil.h"

#define HINT "this is not a qcow2 file written by corec; build the disk again with corec, or convert it with 'qemu-img convert -O qcow2'"
#define V3_HEADER_LENGTH 104
#define OFFSET_MASK UINT64_C(0x00fffffffffffe00)  /* bits 9-55: a host offset */
#define L1_RESERVED UINT64_C(0x7f000000000001ff)  /* bits 0-8 and 56-62 */
#define L2_COPIED (UINT64_C(1) << 63)
#define L2_COMPRESSED (UINT64_C(1) << 62)
#define L2_RESERVED UINT64_C(0x3f000000000001fe)  /* bits 1-8 and 56-61 of a standard descriptor */
#define L2_ZERO UINT64_C(1)
#define MAX_RT_BYTES (UINT64_C(8) << 20) /* QEMU's own limit on the refcount table */

/* Header extension types the reader must know to refuse. */
#define EXT_BACKING_FORMAT 0xe2792acau
#define EXT_ENCRYPTION 0x0537be77u
#define EXT_DATA_FILE 0x44415441u

struct core_qcow2 {
  int fd; /* borrowed */
  char *name;
  uint64_t file_size, size, cs;
  unsigned bits;
  uint64_t l1_off, l1_bytes, rt_off, rt_bytes;
  uint64_t *l1;   /* L2 table offsets by L1 index, 0 for none; all checked at open */
  uint64_t *meta; /* every one-cluster table (L2 tables, refcount blocks), sorted: tells data from metadata */
  size_t n_meta;
  uint8_t *l2; /* the one cached L2 table, one cluster */
  uint64_t l2_at; /* its file offset; 0 when nothing is cached */
};


static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) {
  return alen && blen && a < b + blen && b < a + alen;
}

/* Every refusal names the file, says what is wrong, and ends with what to do. */
__attribute__((format(printf, 4, 5))) static int refuse(const char *name, const char *hint, core_error **err, const char *fmt, ...) {
  char *what = NULL;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&what, fmt, ap);
  va_end(ap);
  int rc = core_error_set(err, 0, "%s: %s; %s", name, n < 0 ? "malformed qcow2 file" : what, hint);
  free(what);
  return rc;
}

/* The fixed fields of a version 3 header, as read from its first 104 bytes. */
typedef struct header {
  uint32_t version, cluster_bits, crypt_method, l1_size, rt_clusters, nb_snapshots, refcount_order, header_length;
  uint64_t backing_offset, size, l1_off, rt_off, incompatible;
} header;

static header parse_header(const uint8_t *h) {
  return (header){
      .version = core_get_be32(h + 4), .backing_offset = core_get_be64(h + 8), .cluster_bits = core_get_be32(h + 20), .size = core_get_be64(h + 24),
      .crypt_method = core_get_be32(h + 32), .l1_size = core_get_be32(h + 36), .l1_off = core_get_be64(h + 40), .rt_off = core_get_be64(h + 48),
      .rt_clusters = core_get_be32(h + 56), .nb_snapshots = core_get_be32(h + 60), .incompatible = core_get_be64(h + 72),
      .refcount_order = core_get_be32(h + 96), .header_length = core_get_be32(h + 100),
  };
}

static int check_incompatible(const char *name, uint64_t bits, core_error **err) {
  if (bits == 0) return 0;
  if (bits & 1)
    return refuse(name, "run 'qemu-img check -r all' on it, or build it again with corec", err,
                  "qcow2 header field incompatible_features has the dirty bit (0) set: the file was not closed cleanly and its refcounts may be wrong");
  if (bits & 2)
    return refuse(name, "build it again with corec", err, "qcow2 header field incompatible_features has the corrupt bit (1) set");
  if (bits & 4)
    return refuse(name, HINT, err, "qcow2 header field incompatible_features has the external data file bit (2) set; corerun reads only self-contained files");
  if (bits & 8) return refuse(name, HINT, err, "qcow2 header field incompatible_features asks for a non-zlib compression type (bit 3); compressed clusters are not accepted");
  if (bits & 16) return refuse(name, HINT, err, "qcow2 header field incompatible_features asks for extended L2 entries (bit 4), which corerun does not read");
  return refuse(name, HINT, err, "qcow2 header field incompatible_features has unknown bits set (0x%llx)", (unsigned long long)bits);
}

/* The fields that do not depend on the file's size beyond its first cluster. */
static int check_fields(core_qcow2 *q, const header *h, core_error **err) {
  const char *name = q->name;
  if (h->backing_offset != 0)
    return refuse(name, "flatten it with 'qemu-img convert -O qcow2' first", err,
                  "qcow2 header field backing_file_offset is %llu: the file has a backing file, and corerun reads only self-contained disks",
                  (unsigned long long)h->backing_offset);
  if (h->crypt_method != 0)
    return refuse(name, HINT, err, "qcow2 header field crypt_method is %u: encrypted files are not accepted", h->crypt_method);
  if (check_incompatible(name, h->incompatible, err) < 0) return -1;
  if (h->nb_snapshots != 0)
    return refuse(name, "remove them with 'qemu-img snapshot -d', or build the disk again with corec", err,
                  "qcow2 header field nb_snapshots is %u: files with internal snapshots are not accepted", h->nb_snapshots);
  if (h->refcount_order > 6) return refuse(name, HINT, err, "qcow2 header field refcount_order is %u, more than the format's 6", h->refcount_order);
  if (h->header_length < V3_HEADER_LENGTH || h->header_length % 8 != 0 || h->header_length > q->cs - 8)
    return refuse(name, HINT, err, "qcow2 header field header_length is %u; it must be a multiple of 8, at least %d, and leave room for the end of the header extensions in the first cluster",
                  h->header_length, V3_HEADER_LENGTH);
  if (h->size > CORE_QCOW2_MAX_VIRTUAL_SIZE)
    return refuse(name, HINT, err, "qcow2 header field size is %llu bytes, more than the %llu bytes corerun accepts",
                  (unsigned long long)h->size, (unsigned long long)CORE_QCOW2_MAX_VIRTUAL_SIZE);
  if (h->size % 512 != 0)
    return refuse(name, HINT, err, "qcow2 header field size is %llu bytes, not a whole number of 512-byte sectors", (unsigned long long)h->size);
  uint64_t per_table = q->cs * (q->cs / 8), need = h->size / per_table + (h->size % per_table != 0);
  if (h->l1_size != need)
    return refuse(name, HINT, err, "qcow2 header field l1_size is %u, but a %llu-byte disk with %llu-byte clusters needs exactly %llu L1 entries",
                  h->l1_size, (unsigned long long)h->size, (unsigned long long)q->cs, (unsigned long long)need);
  return 0;
}

/* Header extensions live between header_length and the end of the first cluster, each padded
 * to 8 bytes; unknown ones may be skipped (the spec says so), the ones that change how data is
 * found are refused. */
static int check_extensions(const core_qcow2 *q, const uint8_t *cl, uint32_t start, core_error **err) {
  for (uint64_t pos = start;;) {
    if (pos + 8 > q->cs)
      return refuse(q->name, HINT, err, "qcow2 header extensions run to the end of the first cluster without an end marker");
    uint32_t type = core_get_be32(cl + pos), len = core_get_be32(cl + pos + 4);
    if (type == 0) return 0;
    uint64_t end = pos + 8 + ((uint64_t)len + 7) / 8 * 8;
    if (end > q->cs)
      return refuse(q->name, HINT, err, "qcow2 header extension 0x%08x at byte %llu claims %u bytes, past the end of the first cluster",
                    type, (unsigned long long)pos, len);
    if (type == EXT_BACKING_FORMAT)
      return refuse(q->name, HINT, err, "qcow2 header has a backing file format extension, but corerun reads only self-contained disks");
    if (type == EXT_ENCRYPTION) return refuse(q->name, HINT, err, "qcow2 header has an encryption header extension");
    if (type == EXT_DATA_FILE) return refuse(q->name, HINT, err, "qcow2 header names an external data file");
    pos = end;
  }
}

/* The L1 and refcount tables: aligned, after the header, inside the file, apart. */
static int check_tables(core_qcow2 *q, const header *h, core_error **err) {
  q->l1_off = h->l1_off, q->l1_bytes = (uint64_t)h->l1_size * 8;
  q->rt_off = h->rt_off, q->rt_bytes = (uint64_t)h->rt_clusters * q->cs;
  if (q->l1_bytes > CORE_QCOW2_MAX_L1_BYTES)
    return refuse(q->name, HINT, err, "qcow2 L1 table of %u entries is larger than corerun accepts", h->l1_size);
  /* A disk of size 0 has no L1 table; QEMU then writes offset 0. */
  if ((q->l1_off == 0 && h->l1_size != 0) || q->l1_off % q->cs != 0)
    return refuse(q->name, HINT, err, "qcow2 header field l1_table_offset is %llu: it must be a cluster boundary after the header",
                  (unsigned long long)q->l1_off);
  if (q->l1_off > q->file_size || q->l1_bytes > q->file_size - q->l1_off)
    return refuse(q->name, HINT, err, "qcow2 L1 table at byte %llu (%llu bytes) reaches past the end of the file (%llu bytes); the file may be truncated",
                  (unsigned long long)q->l1_off, (unsigned long long)q->l1_bytes, (unsigned long long)q->file_size);
  if (q->rt_bytes > MAX_RT_BYTES)
    return refuse(q->name, HINT, err, "qcow2 header field refcount_table_clusters is %u, a table larger than the %llu bytes accepted",
                  h->rt_clusters, (unsigned long long)MAX_RT_BYTES);
  if (q->rt_off == 0 || q->rt_off % q->cs != 0 || h->rt_clusters == 0)
    return refuse(q->name, HINT, err, "qcow2 header fields refcount_table_offset %llu and refcount_table_clusters %u do not describe a table after the header",
                  (unsigned long long)q->rt_off, h->rt_clusters);
  if (q->rt_off > q->file_size || q->rt_bytes > q->file_size - q->rt_off)
    return refuse(q->name, HINT, err, "qcow2 refcount table at byte %llu reaches past the end of the file; the file may be truncated",
                  (unsigned long long)q->rt_off);
  if (overlaps(q->l1_off, q->l1_bytes, q->rt_off, q->rt_bytes))
    return refuse(q->name, HINT, err, "qcow2 L1 table and refcount table overlap");
  return 0;
}

static int by_value(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* A cluster that holds a table or data must be whole inside the file and clear of the header,
 * the L1 table and the refcount table. */
static int check_cluster(const core_qcow2 *q, uint64_t off, const char *what, uint64_t index, core_error **err) {
  if (off % q->cs != 0)
    return refuse(q->name, HINT, err, "qcow2 %s %llu points at byte %llu, not a cluster boundary", what, (unsigned long long)index, (unsigned long long)off);
  if (off > q->file_size - q->cs)
    return refuse(q->name, HINT, err, "qcow2 %s %llu points at byte %llu, past the end of the file (%llu bytes); the file may be truncated",
                  what, (unsigned long long)index, (unsigned long long)off, (unsigned long long)q->file_size);
  const char *hit = off < q->cs                                     ? "the header"
                    : overlaps(off, q->cs, q->l1_off, q->l1_bytes) ? "the L1 table"
                    : overlaps(off, q->cs, q->rt_off, q->rt_bytes) ? "the refcount table"
                                                                    : NULL;
  if (hit) return refuse(q->name, HINT, err, "qcow2 %s %llu points into %s", what, (unsigned long long)index, hit);
  return 0;
}

/* Reads a table of 8-byte entries that point at one-cluster tables (the L1 table at L2 tables,
 * the refcount table at refcount blocks), checks each pointer and adds it to q->meta. OUT, when
 * given, receives the offsets by index. LEN was checked against the file's size. */
static int load_pointers(core_qcow2 *q, uint64_t at, uint64_t len, const char *what, uint64_t *out, core_error **err) {
  cleanup_free uint8_t *raw = malloc(len ? len : 1);
  if (raw == NULL) return core_error_set(err, ENOMEM, "%s: allocating the %s", q->name, what);
  if (core_pread_exact(q->fd, raw, len, at, q->name, err) < 0) return -1;
  for (uint64_t i = 0; i < len / 8; i++) {
    uint64_t e = core_get_be64(raw + 8 * i), off = e & OFFSET_MASK;
    if (e == 0) continue;
    /* L1 entries may carry the COPIED flag (bit 63); refcount table entries have no flags, and
     * an offset past 2^56 could not lie inside any file this reader accepts. */
    uint64_t reserved = out ? L1_RESERVED : ~OFFSET_MASK;
    if (e & reserved) return refuse(q->name, HINT, err, "qcow2 %s entry %llu has reserved bits set (0x%016llx)", what, (unsigned long long)i, (unsigned long long)e);
    if (off == 0)
      return refuse(q->name, HINT, err, "qcow2 %s entry %llu (0x%016llx) is not a valid table offset", what, (unsigned long long)i, (unsigned long long)e);
    if (check_cluster(q, off, out ? "L1 table entry" : "refcount table entry", i, err) < 0) return -1;
    if (out) out[i] = off;
    q->meta[q->n_meta++] = off;
  }
  return 0;
}

static int load_tables(core_qcow2 *q, core_error **err) {
  /* Bounded: both tables were checked against the file's size and their caps. */
  size_t n = (size_t)(q->l1_bytes / 8) + (size_t)(q->rt_bytes / 8);
  q->l1 = calloc(q->l1_bytes ? q->l1_bytes / 8 : 1, sizeof *q->l1);
  q->meta = calloc(n ? n : 1, sizeof *q->meta);
  if (q->l1 == NULL || q->meta == NULL) return core_error_set(err, ENOMEM, "%s: allocating the L1 table", q->name);
  if (load_pointers(q, q->l1_off, q->l1_bytes, "L1 table", q->l1, err) < 0 ||
      load_pointers(q, q->rt_off, q->rt_bytes, "refcount table", NULL, err) < 0)
    return -1;
  qsort(q->meta, q->n_meta, sizeof *q->meta, by_value);
  for (size_t i = 1; i < q->n_meta; i++)
    if (q->meta[i] == q->meta[i - 1])
      return refuse(q->name, HINT, err, "qcow2 tables overlap: two L2 tables or refcount blocks are both at byte %llu", (unsigned long long)q->meta[i]);
  return 0;
}

static int read_header(core_qcow2 *q, core_error **err) {
  struct stat st;
  if (fstat(q->fd, &st) < 0) return core_error_set(err, errno, "%s: examining the file", q->name);
  if (!S_ISREG(st.st_mode)) return refuse(q->name, "give corerun the disk image file itself", err, "not a regular file");
  q->file_size = (uint64_t)st.st_size;
  uint8_t fixed[V3_HEADER_LENGTH];
  if (q->file_size < sizeof fixed) return refuse(q->name, HINT, err, "the file is %llu bytes, too short for a qcow2 header", (unsigned long long)q->file_size);
  if (core_pread_exact(q->fd, fixed, sizeof fixed, 0, q->name, err) < 0) return -1;
  if (memcmp(fixed, "QFI\xfb", 4) != 0) return refuse(q->name, HINT, err, "no qcow2 magic (QFI\\xfb) at byte 0");
  header h = parse_header(fixed);
  if (h.version == 2)
    return refuse(q->name, "upgrade it with 'qemu-img amend -o compat=1.1', or build it again with corec", err,
                  "qcow2 header field version is 2; corerun reads only version 3, whose header says which features the file needs");
  if (h.version != 3) return refuse(q->name, HINT, err, "qcow2 header field version is %u; corerun reads only version 3", h.version);
  if (h.cluster_bits < CORE_QCOW2_MIN_CLUSTER_BITS || h.cluster_bits > CORE_QCOW2_MAX_CLUSTER_BITS)
    return refuse(q->name, HINT, err, "qcow2 header field cluster_bits is %u, outside %d..%d", h.cluster_bits,
                  CORE_QCOW2_MIN_CLUSTER_BITS, CORE_QCOW2_MAX_CLUSTER_BITS);
  q->bits = h.cluster_bits;
  q->cs = UINT64_C(1) << h.cluster_bits;
  if (q->file_size < q->cs)
    return refuse(q->name, HINT, err, "the file is %llu bytes, shorter than its own first cluster (%llu bytes); it may be truncated",
                  (unsigned long long)q->file_size, (unsigned long long)q->cs);
  if (check_fields(q, &h, err) < 0) return -1;
  q->size = h.size;
  /* The whole first cluster, for the extensions: bounded by the file's size, checked above. */
  cleanup_free uint8_t *cl = malloc(q->cs);
  if (cl == NULL) return core_error_set(err, ENOMEM, "%s: allocating the header cluster", q->name);
  if (core_pread_exact(q->fd, cl, q->cs, 0, q->name, err) < 0) return -1;
  if (h.header_length > V3_HEADER_LENGTH && cl[104] != 0)
    return refuse(q->name, HINT, err, "qcow2 header field compression_type is %u; compressed clusters are not accepted", cl[104]);
  if (check_extensions(q, cl, h.header_length, err) < 0) return -1;
  return check_tables(q, &h, err);
}

int core_qcow2_open(int fd, const char *name, core_qcow2 **out, core_error **err) {
  cleanup_qcow2 core_qcow2 *q = calloc(1, sizeof *q);
  if (q == NULL || (q->name = strdup(name)) == NULL) return core_error_set(err, ENOMEM, "%s: opening a qcow2 file", name);
  q->fd = fd;
  if (read_header(q, err) < 0 || load_tables(q, err) < 0) return -1;
  q->l2 = malloc(q->cs); /* cs <= file size, checked */
  if (q->l2 == NULL) return core_error_set(err, ENOMEM, "%s: allocating an L2 table", name);
  *out = TAKE_PTR(q);
  return 0;
}

uint64_t core_qcow2_virtual_size(const core_qcow2 *q) { return q->size; }

static bool is_metadata(const core_qcow2 *q, uint64_t off) {
  return bsearch(&off, q->meta, q->n_meta, sizeof *q->meta, by_value) != NULL;
}

int core_qcow2_map(core_qcow2 *q, uint64_t guest_offset, uint64_t *file_offset, core_error **err) {
  if (guest_offset >= q->size)
    return core_error_set(err, 0, "%s: guest offset %llu lies beyond the disk's %llu bytes", q->name,
                          (unsigned long long)guest_offset, (unsigned long long)q->size);
  uint64_t cluster = guest_offset >> q->bits, per_table = q->cs / 8;
  uint64_t table = q->l1[cluster / per_table];
  if (table == 0) {
    *file_offset = 0;
    return 0;
  }
  if (q->l2_at != table) {
    q->l2_at = 0; /* a failed read leaves nothing half-cached */
    if (core_pread_exact(q->fd, q->l2, q->cs, table, q->name, err) < 0) return -1;
    q->l2_at = table;
  }
  uint64_t e = core_get_be64(q->l2 + 8 * (cluster % per_table)), off = e & OFFSET_MASK;
  if (e & L2_COMPRESSED)
    return refuse(q->name, "convert it with 'qemu-img convert -O qcow2' (without -c)", err,
                  "qcow2 guest cluster %llu is compressed; corerun reads only uncompressed clusters", (unsigned long long)cluster);
  if (e & L2_RESERVED)
    return refuse(q->name, HINT, err, "qcow2 L2 entry for guest cluster %llu has reserved bits set (0x%016llx)", (unsigned long long)cluster,
                  (unsigned long long)e);
  if (e & L2_ZERO || off == 0) {
    if (off == 0 && (e & L2_COPIED))
      return refuse(q->name, HINT, err, "qcow2 L2 entry for guest cluster %llu is host offset 0, which only external data files use", (unsigned long long)cluster);
    *file_offset = 0; /* unallocated, or allocated but reading as zeros */
    return 0;
  }
  if (check_cluster(q, off, "L2 entry for guest cluster", cluster, err) < 0) return -1;
  if (is_metadata(q, off))
    return refuse(q->name, HINT, err, "qcow2 guest cluster %llu points at an L2 table or refcount block", (unsigned long long)cluster);
  *file_offset = off + (guest_offset & (q->cs - 1));
  return 0;
}

int core_qcow2_pread(core_qcow2 *q, void *buf, size_t len, uint64_t guest_offset, core_error **err) {
  if (guest_offset > q->size || len > q->size - guest_offset)
    return core_error_set(err, 0, "%s: reading %zu bytes at guest offset %llu goes past the disk's %llu bytes", q->name, len,
                          (unsigned long long)guest_offset, (unsigned long long)q->size);
  uint8_t *p = buf;
  while (len > 0) {
    uint64_t in_cluster = q->cs - (guest_offset & (q->cs - 1));
    size_t n = len < in_cluster ? len : (size_t)in_cluster;
    uint64_t at;
    if (core_qcow2_map(q, guest_offset, &at, err) < 0) return -1;
    if (at == 0)
      memset(p, 0, n);
    else if (core_pread_exact(q->fd, p, n, at, q->name, err) < 0)
      return -1;
    p += n;
    guest_offset += n;
    len -= n;
  }
  return 0;
}

void core_qcow2_close(core_qcow2 *q) {
  if (q == NULL) return;
  free(q->l2);
  free(q->meta);
  free(q->l1);
  free(q->name);
  free(q);
}

void core_qcow2_closep(core_qcow2 **q) {
  core_qcow2_close(*q);
  *q = NULL;
}
