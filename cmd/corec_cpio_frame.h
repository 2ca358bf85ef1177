/* A check of a cpio newc stream's framing, fed the decompressed bytes before libarchive sees
 * them. libarchive reads an entry's whole name into memory before handing it out, so a signed
 * but hostile initramfs whose header claims a 4 GiB name would cost 4 GiB of memory (a few KB of
 * zstd); this refuses such a header first. It checks only what bounds cost: the magic, the name
 * size and a symlink's size; libarchive parses everything else. */
#ifndef CORE_COREC_CPIO_FRAME_H
#define CORE_COREC_CPIO_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define COREC_CPIO_HEADER 110

typedef struct corec_cpio_frame {
  unsigned char hdr[COREC_CPIO_HEADER];
  size_t hdr_len;
  uint64_t skip;  /* bytes of the current entry's name, data and padding still to pass */
  int after_end;  /* a position where a header belongs held no magic: only zeros may follow */
  uint32_t max_name; /* the longest name or symlink target accepted, in bytes */
} corec_cpio_frame;

/* Feeds the next N bytes of the stream; -1 with a reason in WHY when the framing is refused. */
int corec_cpio_frame_feed(corec_cpio_frame *f, const unsigned char *p, size_t n, char *why, size_t why_size);

#endif
