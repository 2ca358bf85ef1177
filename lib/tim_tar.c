/* The strict TIM tar reader. Tar readers disagree on everything corec never writes (links
 * with data, pax and GNU extensions, trailing data), and a disagreement between corerun and
 * another tool is how unsigned content rides along with a valid signature; so every header is
 * compared with the one corec would write, and every claimed size with the real file. */
#include "tim_tar.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CANONICAL_ONLY "; only the exact tar corec writes is accepted (spec/tim.md): rebuild the artifact with 'corec build' or fetch it again"

int core_tim_tar_open(core_tim_tar *t, const char *path, core_error **err) {
  *t = (core_tim_tar){.path = path, .fd = -1};
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return core_error_set(err, errno, "opening artifact '%s'", path);
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int e = errno;
    close(fd);
    return core_error_set(err, e, "opening artifact '%s'", path);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return core_error_set(err, 0, "'%s' is %s, not an artifact: give the path of a .tim file (corec build APP.yml -o APP.tim writes one)",
                          path, S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
  }
  t->fd = fd;
  t->size = (uint64_t)st.st_size;
  return 0;
}

int core_tim_tar_open_region(core_tim_tar *t, const char *path, int fd, uint64_t base, uint64_t limit, core_error **err) {
  *t = (core_tim_tar){.path = path, .fd = -1, .base = base, .in_region = 1};
  struct stat st;
  if (fstat(fd, &st) < 0) return core_error_set(err, errno, "reading '%s'", path);
  uint64_t file_size = (uint64_t)st.st_size;
  if (base >= file_size)
    return core_error_set(err, 0, "'%s' ends at byte %llu, before its signed metadata at byte %llu: it is truncated or not "
                          "an artifact corec wrote", path, (unsigned long long)file_size, (unsigned long long)base);
  t->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (t->fd < 0) return core_error_set(err, errno, "reading '%s'", path);
  t->size = file_size - base < limit ? file_size - base : limit;
  return 0;
}

void core_tim_tar_close(core_tim_tar *t) {
  if (t->fd >= 0) close(t->fd);
  t->fd = -1;
}

int core_tim_tar_pread(core_tim_tar *t, uint64_t at, void *buf, size_t len, core_error **err) {
  uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = pread(t->fd, p, len, (off_t)(t->base + at));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core_error_set(err, errno, "reading '%s' at offset %llu", t->path, (unsigned long long)(t->base + at));
    /* Sizes were checked against fstat: a short read means the file shrank meanwhile. */
    if (n == 0)
      return core_error_set(err, 0, "'%s' is truncated: it ended at offset %llu while it was read; fetch or build it again",
                            t->path, (unsigned long long)at);
    p += n;
    at += (uint64_t)n;
    len -= (size_t)n;
  }
  return 0;
}

static int all_zero(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i]) return 0;
  return 1;
}

static const char *type_name(uint8_t t) {
  switch (t) {
    case '0': return "regular file";
    case 0: return "old-style (v7) regular file";
    case '1': return "hard link";
    case '2': return "symbolic link";
    case '3': return "character device";
    case '4': return "block device";
    case '5': return "directory";
    case '6': return "FIFO";
    case '7': return "contiguous file";
    case 'x': return "pax extended header";
    case 'g': return "pax global header";
    case 'L': return "GNU long name";
    case 'K': return "GNU long link name";
    case 'S': return "GNU sparse file";
    case 'D': return "GNU dump directory";
    case 'M': return "GNU multi-volume continuation";
    case 'N': return "old GNU long name";
    case 'V': return "volume label";
    default: return "unknown entry type";
  }
}

static void printable(char *out, const uint8_t *in, size_t n) {
  size_t i = 0;
  for (; i < n && in[i]; i++) out[i] = (in[i] < 0x20 || in[i] >= 0x7f) ? '?' : (char)in[i];
  out[i] = 0;
}

/* The size field as corec writes it: 11 octal digits and a space. Base-256 and other forms
 * that readers accept variously are refused here, before any size is believed. */
static int parse_size(const core_tim_tar *t, const core_tim_tar_entry *e, const uint8_t *f, uint64_t *out,
                      core_error **err) {
  if (f[0] & 0x80) {
    uint64_t v = 0;
    for (size_t i = 4; i < 12; i++) v = v << 8 | f[i];
    return core_error_set(err, 0, "'%s': entry '%s' at offset %llu gives its size in base-256 (%llu bytes claimed)" CANONICAL_ONLY,
                          t->path, e->shown, (unsigned long long)e->header_at, (unsigned long long)v);
  }
  uint64_t v = 0;
  for (size_t i = 0; i < 11; i++) {
    if (f[i] < '0' || f[i] > '7')
      return core_error_set(err, 0, "'%s': entry '%s' at offset %llu has a size field that is not 11 octal digits" CANONICAL_ONLY,
                            t->path, e->shown, (unsigned long long)e->header_at);
    v = v << 3 | (uint64_t)(f[i] - '0');
  }
  if (f[11] != ' ')
    return core_error_set(err, 0, "'%s': entry '%s' at offset %llu has a size field that is not 11 octal digits and a space" CANONICAL_ONLY,
                          t->path, e->shown, (unsigned long long)e->header_at);
  *out = v;
  return 0;
}

/* The checksum as any tar reader computes it: its own field counted as spaces. */
static int checksum_ok(const uint8_t *h) {
  unsigned sum = 0, stored = 0;
  for (size_t i = 0; i < CORE_TAR_BLOCK; i++) sum += (i >= 148 && i < 156) ? ' ' : h[i];
  size_t i = 148;
  while (i < 156 && h[i] == ' ') i++;
  size_t digits = 0;
  for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++, digits++) stored = stored << 3 | (unsigned)(h[i] - '0');
  return digits > 0 && stored == sum;
}

static int check_end(core_tim_tar *t, uint64_t at, core_error **err) {
  unsigned long long a = at;
  if (t->size - at < 2 * CORE_TAR_BLOCK)
    return core_error_set(err, 0, "'%s' is truncated: it ends at offset %llu, inside its end-of-archive marker (two zero blocks at offset %llu); fetch or build it again",
                          t->path, (unsigned long long)t->size, a);
  uint8_t block[CORE_TAR_BLOCK];
  if (core_tim_tar_pread(t, at + CORE_TAR_BLOCK, block, sizeof block, err) < 0) return -1;
  if (!all_zero(block, sizeof block))
    return core_error_set(err, 0, "'%s': a single zero block at offset %llu is followed by more data; a TIM ends with exactly two zero blocks" CANONICAL_ONLY,
                          t->path, a);
  t->tar_end = at + 2 * CORE_TAR_BLOCK;
  if (t->in_region) return 0;
  if (t->size != at + 2 * CORE_TAR_BLOCK)
    return core_error_set(err, 0, "'%s' has %llu bytes after its end-of-archive marker (at offset %llu); a TIM ends right after it" CANONICAL_ONLY,
                          t->path, (unsigned long long)(t->size - at - 2 * CORE_TAR_BLOCK), a);
  return 0;
}

int core_tim_tar_next(core_tim_tar *t, core_tim_tar_entry *e, core_error **err) {
  uint8_t h[CORE_TAR_BLOCK], want[CORE_TAR_BLOCK];
  if (t->pad_len) {
    if (core_tim_tar_pread(t, t->pad_at, h, t->pad_len, err) < 0) return -1;
    if (!all_zero(h, t->pad_len))
      return core_error_set(err, 0, "'%s': the padding at offset %llu after an entry's data is not zeros" CANONICAL_ONLY, t->path,
                            (unsigned long long)t->pad_at);
    t->pad_len = 0;
  }
  uint64_t at = t->next;
  if (at == 0 && t->size < CORE_TAR_BLOCK)
    return core_error_set(err, 0, "'%s' is not a TIM artifact (a ustar tar of an OCI image layout): it has only %llu bytes",
                          t->path, (unsigned long long)t->size);
  if (t->size - at < CORE_TAR_BLOCK)
    return core_error_set(err, 0, "'%s' is truncated: it ends at offset %llu, where a tar header or the end-of-archive marker should be; fetch or build it again",
                          t->path, (unsigned long long)t->size);
  if (core_tim_tar_pread(t, at, h, sizeof h, err) < 0) return -1;
  if (all_zero(h, sizeof h)) {
    if (check_end(t, at, err) < 0) return -1;
    t->next = t->size;
    return 0;
  }
  memset(e, 0, sizeof *e);
  e->header_at = at;
  memcpy(e->name, h, 100);
  printable(e->shown, h, 100);
  unsigned long long a = at;
  if (memcmp(h + 257, "ustar\0" "00", 8) != 0) {
    const char *what = memcmp(h + 257, "ustar  \0", 8) == 0 ? "an old GNU tar header (magic 'ustar  ')"
                       : all_zero(h + 257, 8)                ? "a v7 tar header (no ustar magic)"
                                                              : "not a ustar header";
    if (at == 0)
      return core_error_set(err, 0, "'%s' is not a TIM artifact (a ustar tar of an OCI image layout): its first block is %s",
                            t->path, what);
    return core_error_set(err, 0, "'%s': the block at offset %llu ('%s') is %s" CANONICAL_ONLY, t->path, a, e->shown, what);
  }
  if (!checksum_ok(h))
    return core_error_set(err, 0, "'%s': the header of entry '%s' at offset %llu has a wrong checksum (it is corrupted)" CANONICAL_ONLY,
                          t->path, e->shown, a);
  if (h[156] != CORE_TAR_FILE && h[156] != CORE_TAR_DIR)
    return core_error_set(err, 0, "'%s': entry '%s' at offset %llu is a %s (type '%c'); a TIM holds only regular files and the directories blobs/ and blobs/sha256/" CANONICAL_ONLY,
                          t->path, e->shown, a, type_name(h[156]), h[156] >= 0x20 && h[156] < 0x7f ? h[156] : '?');
  e->type = (core_tar_type)h[156];
  if (parse_size(t, e, h + 124, &e->size, err) < 0) return -1;
  if (e->type == CORE_TAR_DIR && e->size != 0)
    return core_error_set(err, 0, "'%s': directory '%s' at offset %llu claims %llu bytes of data" CANONICAL_ONLY, t->path, e->shown, a,
                          (unsigned long long)e->size);
  /* Before anything is read or allocated: the data and its padding must be in the file. */
  e->data_at = at + CORE_TAR_BLOCK;
  uint64_t room = t->size - e->data_at;
  if (e->size > room || core_tar_padding(e->size) > room - e->size)
    return core_error_set(err, 0, "'%s' is truncated or corrupted: entry '%s' at offset %llu claims %llu bytes, but only %llu bytes follow its header (the file has %llu bytes)",
                          t->path, e->shown, a, (unsigned long long)e->size, (unsigned long long)room,
                          (unsigned long long)t->size);
  if (strlen(e->name) == 0)
    return core_error_set(err, 0, "'%s': the entry at offset %llu has an empty name" CANONICAL_ONLY, t->path, a);
  if (core_tar_header(want, e->name, e->type, e->size, err) < 0) return core_error_wrap(err, "'%s'", t->path);
  /* The checksum last: it differs whenever another field does, and that field is the news. */
  for (size_t k = 0; k < CORE_TAR_BLOCK; k++) {
    size_t i = k < CORE_TAR_BLOCK - 8 ? (k < 148 ? k : k + 8) : k - (CORE_TAR_BLOCK - 8) + 148;
    if (h[i] != want[i])
      return core_error_set(err, 0, "'%s': the header of entry '%s' at offset %llu differs from the canonical one in its %s field (byte %zu)" CANONICAL_ONLY,
                            t->path, e->shown, a, core_tar_field_name(i), i);
  }
  t->next = e->data_at + e->size + core_tar_padding(e->size);
  t->pad_at = e->data_at + e->size;
  t->pad_len = core_tar_padding(e->size);
  return 1;
}
