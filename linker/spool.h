/* The spool: an unlinked temporary file that file data is appended to while layers are read,
 * so the merged tree holds only (offset, length) per file and never the bytes themselves. The
 * file lives in $TMPDIR (else /tmp), opened with O_TMPFILE (never visible under a name), or,
 * where the file system lacks it, created with mkstemp and unlinked at once. */
#ifndef CORE_SPOOL_H
#define CORE_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct core_spool {
  int fd;        /* -1 until opened */
  uint64_t size; /* bytes appended so far: the next offset */
} core_spool;

#define CORE_SPOOL_INIT {-1, 0}

/* An unlinked temporary file for our own bytes, opened read-write (see above); what names it
 * in messages ("the spool"). */
int core_tmpfile_open(int *fd, const char *what, core_error **err);

int core_spool_open(core_spool *s, core_error **err);
/* Appends len bytes; *at gets where they start. */
int core_spool_append(core_spool *s, const void *data, size_t len, uint64_t *at, core_error **err);
/* Reads exactly len bytes from offset at (pread: appends may go on meanwhile). */
int core_spool_read(const core_spool *s, uint64_t at, void *buf, size_t len, core_error **err);
void core_spool_release(core_spool *s);

#endif
