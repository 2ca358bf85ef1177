/* The qcow2 writer (see qcow2_write.h and spec/qcow2.md): metadata first, then the allocated
 * guest clusters in guest order, each table built one cluster at a time so memory stays
 * bounded whatever the image's size. */
#include "qcow2_write.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "byteorder.h"
#include "cleanup.h"
#include "fsutil.h"
#include "qcow2_read.h"

#define COPIED (UINT64_C(1) << 63) /* L1/L2 entry: refcount exactly 1, so QEMU may write in place */
#define HEADER_LENGTH 104
#define REFCOUNT_ORDER 4 /* 16-bit refcounts */
#define DATA_CHUNK (1u << 20)

static uint64_t div_up(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

/* The guest clusters the extents touch, as maximal runs [first, last] in guest order. Extents
 * that share a cluster or touch neighbouring clusters join one run. */
typedef struct cursor {
  const core_extent *v;
  size_t n, i;
  unsigned bits;
  bool have;
  uint64_t first, last;
} cursor;

static void cursor_next(cursor *c) {
  c->have = c->i < c->n;
  if (!c->have) return;
  const core_extent *e = &c->v[c->i++];
  c->first = e->offset >> c->bits;
  c->last = (e->offset + e->length - 1) >> c->bits;
  while (c->i < c->n && (c->v[c->i].offset >> c->bits) <= c->last + 1) {
    uint64_t last = (c->v[c->i].offset + c->v[c->i].length - 1) >> c->bits;
    if (last > c->last) c->last = last;
    c->i++;
  }
}

static cursor cursor_start(const core_image *img, unsigned bits) {
  cursor c = {.v = img->v, .n = img->n, .bits = bits};
  cursor_next(&c);
  return c;
}

/* Where everything goes; all offsets in bytes, counts in clusters unless named otherwise. */
typedef struct layout {
  unsigned bits;
  uint64_t cs;         /* cluster size */
  uint64_t l2_entries; /* entries per L2 table, also per refcount-table cluster */
  uint64_t n_data, n_l2, l1_size /* entries */, l1_clusters, rt_clusters, n_refblocks, total;
  uint64_t rt_off, rb_off, l1_off, l2_off, data_off;
} layout;

/* The writer relies on what core_image_finish guarantees; checking it costs one pass and turns a
 * caller's mistake into a message instead of a corrupt file. */
static int check_finished(const core_image *img, core_error **err) {
  for (size_t i = 0; i < img->n; i++) {
    const core_extent *e = &img->v[i];
    bool bad = e->length == 0 || e->offset + e->length < e->offset || e->offset + e->length > img->size ||
               (i > 0 && img->v[i - 1].offset + img->v[i - 1].length > e->offset);
    if (bad)
      return core_error_set(err, 0, "qcow2: image extent %zu at byte %llu is out of order, overlaps or lies outside the image; call core_image_finish first",
                            i, (unsigned long long)e->offset);
  }
  return 0;
}

static int plan(const core_image *img, unsigned bits, layout *L, core_error **err) {
  if (bits < CORE_QCOW2_MIN_CLUSTER_BITS || bits > CORE_QCOW2_MAX_CLUSTER_BITS)
    return core_error_set(err, 0, "qcow2: cluster_bits %u is outside %d..%d", bits, CORE_QCOW2_MIN_CLUSTER_BITS,
                          CORE_QCOW2_MAX_CLUSTER_BITS);
  if (img->size % 512 != 0)
    return core_error_set(err, 0, "qcow2: the image's size, %llu bytes, is not a multiple of 512; a virtual disk is made of 512-byte sectors, so round the image up",
                          (unsigned long long)img->size);
  if (img->size > CORE_QCOW2_MAX_VIRTUAL_SIZE)
    return core_error_set(err, 0, "qcow2: the image's size, %llu bytes, exceeds the %llu bytes corerun accepts",
                          (unsigned long long)img->size, (unsigned long long)CORE_QCOW2_MAX_VIRTUAL_SIZE);
  if (check_finished(img, err) < 0) return -1;
  *L = (layout){.bits = bits, .cs = UINT64_C(1) << bits, .l2_entries = (UINT64_C(1) << bits) / 8};
  uint64_t E = L->l2_entries;
  bool any = false;
  uint64_t prev_table = 0;
  for (cursor c = cursor_start(img, bits); c.have; cursor_next(&c)) {
    L->n_data += c.last - c.first + 1;
    uint64_t t0 = c.first / E, t1 = c.last / E;
    if (any && t0 == prev_table) t0++; /* that table is counted already */
    if (t1 >= t0) L->n_l2 += t1 - t0 + 1;
    prev_table = t1;
    any = true;
  }
  L->l1_size = div_up(img->size, L->cs * E);
  if (L->l1_size * 8 > CORE_QCOW2_MAX_L1_BYTES)
    return core_error_set(err, 0, "qcow2: %llu bytes need an L1 table of %llu entries with %llu-byte clusters, more than corerun accepts",
                          (unsigned long long)img->size, (unsigned long long)L->l1_size, (unsigned long long)L->cs);
  /* An image of size 0 has no L1 table and l1_table_offset 0, as QEMU makes it: a cluster
   * for an empty table would be one nothing references, a leak to qemu-img check. */
  L->l1_clusters = div_up(L->l1_size * 8, L->cs);
  /* The refcount blocks count themselves: grow them until they cover the whole file. */
  uint64_t per_block = L->cs * 8 / (1u << REFCOUNT_ORDER);
  L->n_refblocks = 1, L->rt_clusters = 1;
  for (;;) {
    L->total = 1 + L->rt_clusters + L->n_refblocks + L->l1_clusters + L->n_l2 + L->n_data;
    uint64_t rb = div_up(L->total, per_block), rt = div_up(rb * 8, L->cs);
    if (rb == L->n_refblocks && rt == L->rt_clusters) break;
    L->n_refblocks = rb, L->rt_clusters = rt;
  }
  L->rt_off = L->cs;
  L->rb_off = L->rt_off + L->rt_clusters * L->cs;
  L->l1_off = L->rb_off + L->n_refblocks * L->cs;
  L->l2_off = L->l1_off + L->l1_clusters * L->cs;
  L->data_off = L->l2_off + L->n_l2 * L->cs;
  return 0;
}

static int write_header(int fd, const core_image *img, const layout *L, uint8_t *buf, core_error **err) {
  memset(buf, 0, L->cs);
  memcpy(buf, "QFI\xfb", 4);
  core_put_be32(buf + 4, 3);
  /* 8..19 backing file: none */
  core_put_be32(buf + 20, L->bits);
  core_put_be64(buf + 24, img->size);
  /* 32 crypt_method: none */
  core_put_be32(buf + 36, (uint32_t)L->l1_size);
  core_put_be64(buf + 40, L->l1_size ? L->l1_off : 0);
  core_put_be64(buf + 48, L->rt_off);
  core_put_be32(buf + 56, (uint32_t)L->rt_clusters);
  /* 60..71 snapshots: none; 72..95 feature bitmaps: all clear */
  core_put_be32(buf + 96, REFCOUNT_ORDER);
  core_put_be32(buf + 100, HEADER_LENGTH);
  /* At HEADER_LENGTH the header-extension end marker: type 0, length 0, already zero. */
  return core_pwrite_all(fd, buf, L->cs, 0, err);
}

static int write_refcounts(int fd, const layout *L, uint8_t *buf, core_error **err) {
  uint64_t E = L->l2_entries;
  for (uint64_t c = 0; c < L->rt_clusters; c++) {
    memset(buf, 0, L->cs);
    for (uint64_t j = 0; j < E && c * E + j < L->n_refblocks; j++) core_put_be64(buf + 8 * j, L->rb_off + (c * E + j) * L->cs);
    if (core_pwrite_all(fd, buf, L->cs, L->rt_off + c * L->cs, err) < 0) return -1;
  }
  uint64_t per_block = L->cs / 2;
  for (uint64_t b = 0; b < L->n_refblocks; b++) {
    memset(buf, 0, L->cs);
    /* Every cluster of the file is used exactly once: no leaks, nothing shared. */
    for (uint64_t j = 0; j < per_block && b * per_block + j < L->total; j++) core_put_be16(buf + 2 * j, 1);
    if (core_pwrite_all(fd, buf, L->cs, L->rb_off + b * L->cs, err) < 0) return -1;
  }
  return 0;
}

static int write_l1(int fd, const core_image *img, const layout *L, uint8_t *buf, core_error **err) {
  uint64_t E = L->l2_entries, table = 0;
  cursor c = cursor_start(img, L->bits);
  for (uint64_t cl = 0; cl < L->l1_clusters; cl++) {
    memset(buf, 0, L->cs);
    for (uint64_t j = 0; j < E && cl * E + j < L->l1_size; j++) {
      uint64_t k = cl * E + j;
      while (c.have && c.last < k * E) cursor_next(&c);
      if (!c.have || c.first >= (k + 1) * E) continue; /* no allocated cluster: no L2 table */
      core_put_be64(buf + 8 * j, (L->l2_off + table++ * L->cs) | COPIED);
    }
    if (core_pwrite_all(fd, buf, L->cs, L->l1_off + cl * L->cs, err) < 0) return -1;
  }
  return 0;
}

static int write_l2(int fd, const core_image *img, const layout *L, uint8_t *buf, core_error **err) {
  uint64_t E = L->l2_entries, rank = 0, table = 0;
  cursor c = cursor_start(img, L->bits);
  while (c.have) {
    uint64_t base = c.first / E * E, end = base + E;
    memset(buf, 0, L->cs);
    while (c.have && c.first < end) {
      uint64_t stop = c.last < end - 1 ? c.last : end - 1;
      for (uint64_t g = c.first; g <= stop; g++) core_put_be64(buf + 8 * (g - base), (L->data_off + rank++ * L->cs) | COPIED);
      if (stop < c.last) {
        c.first = end; /* the run goes on in the next table */
        break;
      }
      cursor_next(&c);
    }
    if (core_pwrite_all(fd, buf, L->cs, L->l2_off + table++ * L->cs, err) < 0) return -1;
  }
  return 0;
}

static bool all_zero(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i]) return false;
  return true;
}

/* Copies the guest bytes of each run, in chunks; chunks of zeros stay holes of the file, which
 * was sized first, so a ZERO extent costs a cluster in the format but no disk blocks. */
static int write_data(int fd, const core_image *img, const layout *L, core_error **err) {
  cleanup_free uint8_t *buf = malloc(DATA_CHUNK);
  if (buf == NULL) return core_error_set(err, ENOMEM, "qcow2: allocating a copy buffer");
  uint64_t rank = 0;
  for (cursor c = cursor_start(img, L->bits); c.have; cursor_next(&c)) {
    uint64_t from = c.first << L->bits, to = (c.last + 1) << L->bits;
    if (to > img->size) to = img->size; /* the last cluster may reach past the disk's end */
    uint64_t at = L->data_off + rank * L->cs;
    for (uint64_t g = from; g < to;) {
      size_t n = to - g < DATA_CHUNK ? (size_t)(to - g) : DATA_CHUNK;
      if (core_image_read(img, g, buf, n, err) < 0) return core_error_wrap(err, "qcow2: reading guest bytes at %llu", (unsigned long long)g);
      if (!all_zero(buf, n) && core_pwrite_all(fd, buf, n, at + (g - from), err) < 0) return -1;
      g += n;
    }
    rank += c.last - c.first + 1;
  }
  return 0;
}

int core_qcow2_write_bits(const core_image *img, int fd, unsigned cluster_bits, core_error **err) {
  layout L;
  if (plan(img, cluster_bits, &L, err) < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) < 0) return core_error_set(err, errno, "qcow2: examining the output file");
  if (!S_ISREG(st.st_mode) || st.st_size != 0)
    return core_error_set(err, 0, "qcow2: the output must be an empty regular file (unwritten clusters are left as holes)");
  if (ftruncate(fd, (off_t)(L.total * L.cs)) < 0)
    return core_error_set(err, errno, "qcow2: sizing the output to %llu bytes", (unsigned long long)(L.total * L.cs));
  cleanup_free uint8_t *buf = malloc(L.cs);
  if (buf == NULL) return core_error_set(err, ENOMEM, "qcow2: allocating a cluster buffer");
  if (write_header(fd, img, &L, buf, err) < 0 || write_refcounts(fd, &L, buf, err) < 0 ||
      write_l1(fd, img, &L, buf, err) < 0 || write_l2(fd, img, &L, buf, err) < 0 || write_data(fd, img, &L, err) < 0)
    return -1;
  return 0;
}

int core_qcow2_write(const core_image *img, int fd, core_error **err) {
  return core_qcow2_write_bits(img, fd, CORE_QCOW2_CLUSTER_BITS, err);
}

int core_qcow2_file_offset_bits(const core_image *img, unsigned cluster_bits, uint64_t guest_offset,
                                uint64_t *file_offset, int *allocated, core_error **err) {
  layout L;
  if (plan(img, cluster_bits, &L, err) < 0) return -1;
  if (guest_offset >= img->size)
    return core_error_set(err, 0, "qcow2: guest offset %llu lies beyond the image's %llu bytes",
                          (unsigned long long)guest_offset, (unsigned long long)img->size);
  uint64_t g = guest_offset >> L.bits, rank = 0;
  for (cursor c = cursor_start(img, L.bits); c.have && c.first <= g; cursor_next(&c)) {
    if (g <= c.last) {
      *file_offset = L.data_off + (rank + g - c.first) * L.cs + (guest_offset & (L.cs - 1));
      *allocated = 1;
      return 0;
    }
    rank += c.last - c.first + 1;
  }
  *file_offset = 0;
  *allocated = 0;
  return 0;
}

int core_qcow2_file_offset(const core_image *img, uint64_t guest_offset, uint64_t *file_offset, int *allocated,
                           core_error **err) {
  return core_qcow2_file_offset_bits(img, CORE_QCOW2_CLUSTER_BITS, guest_offset, file_offset, allocated, err);
}
