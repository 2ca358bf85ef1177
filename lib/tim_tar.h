/* A strict reader of the tar corec writes: every header must be the canonical one for its
 * (name, type, size), every size must fit in what the file really holds, and the file must
 * end right after two zero blocks. Anything else is refused, naming the entry and offset. */
#ifndef CORE_TIM_TAR_H
#define CORE_TIM_TAR_H

#include <stdint.h>

#include "error.h"
#include "tim_format.h"

typedef struct core_tim_tar {
  const char *path;
  int fd;
  uint64_t size;     /* the file's real size (fstat), the bound of every claimed size */
  uint64_t next;     /* offset of the next header */
  uint64_t pad_at;   /* padding of the previous entry, checked before moving on */
  uint64_t pad_len;
  uint64_t base;     /* where the tar starts in the file (0 for a TIM; a disk form's region) */
  int in_region;     /* the tar sits in a zero-filled region: it may be followed by more bytes */
  uint64_t tar_end;  /* once the end marker is read: the tar's length */
} core_tim_tar;

typedef struct core_tim_tar_entry {
  char name[101];    /* NUL-terminated; the header had nothing after the NUL */
  char shown[101];   /* the name with control bytes replaced, for messages */
  core_tar_type type;
  uint64_t size;
  uint64_t header_at; /* offset of its header */
  uint64_t data_at;   /* offset of its first data byte */
} core_tim_tar_entry;

/* Opens path for reading; refuses what is not a regular file, naming what it is. */
int core_tim_tar_open(core_tim_tar *t, const char *path, core_error **err);
/* A tar at BASE in an open file (FD is duplicated), read only within LIMIT bytes: the signed
 * metadata region of a disk form. It ends at its end-of-archive marker; what follows in the
 * region is the caller's to check. */
int core_tim_tar_open_region(core_tim_tar *t, const char *path, int fd, uint64_t base, uint64_t limit, core_error **err);
void core_tim_tar_close(core_tim_tar *t);
#define cleanup_tim_tar __attribute__((cleanup(core_tim_tar_close)))

/* 1 with *e filled for the next entry, 0 at the end (two zero blocks, then end of file), -1
 * for anything else. e->size is already checked against the bytes the file really holds. */
int core_tim_tar_next(core_tim_tar *t, core_tim_tar_entry *e, core_error **err);

/* Reads exactly len bytes at offset at. */
int core_tim_tar_pread(core_tim_tar *t, uint64_t at, void *buf, size_t len, core_error **err);

#endif
