/* libarchive handles with cleanup, and a writer that fills a core_buf. */
#ifndef CORE_ARCHIVE_UTIL_H
#define CORE_ARCHIVE_UTIL_H

#include <archive.h>
#include <archive_entry.h>

#include "buf.h"
#include "error.h"

static inline void core_archive_read_freep(struct archive **a) {
  if (*a) archive_read_free(*a);
  *a = NULL;
}
static inline void core_archive_write_freep(struct archive **a) {
  if (*a) archive_write_free(*a);
  *a = NULL;
}
static inline void core_archive_entry_freep(struct archive_entry **e) {
  if (*e) archive_entry_free(*e);
  *e = NULL;
}
#define cleanup_archive_read __attribute__((cleanup(core_archive_read_freep)))
#define cleanup_archive_write __attribute__((cleanup(core_archive_write_freep)))
#define cleanup_archive_entry __attribute__((cleanup(core_archive_entry_freep)))

/* Opens a writer (format already set) whose output is appended to *out, unpadded. */
int core_archive_write_open_buf(struct archive *a, core_buf *out, core_error **err);

#endif
