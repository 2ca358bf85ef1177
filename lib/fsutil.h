/* File-system helpers: whole-file reads, atomic writes, directories, $CORE_HOME. */
#ifndef CORE_FSUTIL_H
#define CORE_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "error.h"

int core_read_file(const char *path, core_buf *out, core_error **err);

/* Writes to a temporary name in the same directory, fsyncs, renames over path and
 * fsyncs the directory: readers see the old file or the whole new one, never part. */
int core_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, core_error **err);

/* An atomic writer for output produced piece by piece (archives). */
typedef struct core_atomic_file {
  int fd;
  char *path;
  char *tmp_path;
} core_atomic_file;

int core_atomic_open(core_atomic_file *f, const char *path, mode_t mode, core_error **err);
int core_atomic_commit(core_atomic_file *f, core_error **err);
/* Removes the temporary file unless committed; safe to call twice. */
void core_atomic_abort(core_atomic_file *f);
#define cleanup_atomic_file __attribute__((cleanup(core_atomic_abort)))

int core_mkdir_p(const char *path, mode_t mode, core_error **err);
int core_write_all(int fd, const void *data, size_t len, core_error **err);
/* Writes all of DATA at OFFSET (pwrite until done). */
int core_pwrite_all(int fd, const void *data, size_t len, uint64_t offset, core_error **err);
/* Reads exactly LEN bytes at OFFSET; a file that ends first is an error naming WHAT. */
int core_pread_exact(int fd, void *buf, size_t len, uint64_t offset, const char *what, core_error **err);

/* Seals a memfd against every change, so what was verified is exactly what is read later. */
int core_memfd_seal(int fd, core_error **err);

/* $CORE_HOME, else $HOME/.core. The caller frees the result. */
int core_home_dir(char **out, core_error **err);

/* Where keys/ and trust.d/ live: $CORE_CONFIG_DIR, else the core home. */
int core_config_dir(char **out, core_error **err);

/* Joins a directory and a relative path ("a" + "b/c" -> "a/b/c"); absolute rel is kept. */
char *core_path_join(const char *dir, const char *rel);
/* The directory part of a path ("." when there is none). */
char *core_path_dirname(const char *path);

#endif
