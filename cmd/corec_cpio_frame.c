/* Follows the newc framing header by header: 110-byte header, name padded to 4, data padded
 * to 4. The linker writes nothing else, and zeros after the trailer. */
#include "corec_cpio_frame.h"

#include <stdio.h>
#include <string.h>

static uint32_t hex8(const unsigned char *p, int *ok) {
  uint32_t v = 0;
  for (int i = 0; i < 8; i++) {
    unsigned c = p[i];
    unsigned d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 16;
    if (d == 16) *ok = 0;
    v = v << 4 | (d & 15);
  }
  return v;
}

/* A whole header: what follows it is the name and the data, each padded to 4 bytes. */
static int header(corec_cpio_frame *f, char *why, size_t why_size) {
  if (memcmp(f->hdr, "070701", 6) != 0 && memcmp(f->hdr, "070702", 6) != 0) {
    f->after_end = 1; /* the padding after the trailer, or garbage: judged by what follows */
    for (size_t i = 0; i < COREC_CPIO_HEADER; i++)
      if (f->hdr[i] != 0) {
        snprintf(why, why_size, "the initramfs is not a plain cpio newc archive (no header where one belongs)");
        return -1;
      }
    return 0;
  }
  int ok = 1;
  uint32_t mode = hex8(f->hdr + 14, &ok), size = hex8(f->hdr + 54, &ok), name = hex8(f->hdr + 94, &ok);
  if (!ok) {
    snprintf(why, why_size, "the initramfs has a cpio header with a field that is not hexadecimal");
    return -1;
  }
  /* The name size counts its NUL. */
  if (name == 0 || name - 1 > f->max_name || ((mode & 0170000) == 0120000 && size > f->max_name)) {
    snprintf(why, why_size, "the initramfs has an entry whose %s is over %u bytes",
             name == 0 || name - 1 > f->max_name ? "name" : "link target", f->max_name);
    return -1;
  }
  f->skip = (((uint64_t)COREC_CPIO_HEADER + name + 3) & ~(uint64_t)3) - COREC_CPIO_HEADER + (((uint64_t)size + 3) & ~(uint64_t)3);
  return 0;
}

int corec_cpio_frame_feed(corec_cpio_frame *f, const unsigned char *p, size_t n, char *why, size_t why_size) {
  size_t i = 0;
  while (i < n) {
    if (f->after_end) {
      for (; i < n; i++)
        if (p[i] != 0) {
          snprintf(why, why_size, "the initramfs has data after the end of its cpio archive");
          return -1;
        }
      return 0;
    }
    if (f->skip > 0) {
      size_t take = f->skip < n - i ? (size_t)f->skip : n - i;
      f->skip -= take;
      i += take;
      continue;
    }
    size_t take = COREC_CPIO_HEADER - f->hdr_len < n - i ? COREC_CPIO_HEADER - f->hdr_len : n - i;
    memcpy(f->hdr + f->hdr_len, p + i, take);
    f->hdr_len += take;
    i += take;
    if (f->hdr_len == COREC_CPIO_HEADER) {
      f->hdr_len = 0;
      if (header(f, why, why_size) < 0) return -1;
    }
  }
  return 0;
}
