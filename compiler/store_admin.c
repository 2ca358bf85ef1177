/* Listing and pruning the content store, for `corec cache ls|gc|verify`. */
#include "store_admin.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"

static int blob_cmp(const void *a, const void *b) {
  return strcmp(((const core_store_blob *)a)->digest.str, ((const core_store_blob *)b)->digest.str);
}

int core_store_list(core_store *s, core_store_blob **out, size_t *n, core_error **err) {
  cleanup_free char *dir = NULL;
  if (asprintf(&dir, "%s/blobs/sha256", core_store_dir(s)) < 0) return core_error_set(err, ENOMEM, "allocating");
  cleanup_closedir DIR *d = opendir(dir);
  if (d == NULL) return core_error_set(err, errno, "listing '%s'", dir);
  cleanup_free core_store_blob *blobs = NULL;
  size_t count = 0, cap = 0;
  struct dirent *e;
  while ((errno = 0, e = readdir(d)) != NULL) {
    core_digest dg;
    if (snprintf(dg.str, sizeof dg.str, "sha256:%s", e->d_name) != CORE_DIGEST_STRLEN || !core_digest_is_valid(dg.str))
      continue;
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) continue;
    if (count == cap) {
      cap = cap ? cap * 2 : 64;
      core_store_blob *nb = realloc(blobs, cap * sizeof *nb);
      if (nb == NULL) return core_error_set(err, ENOMEM, "allocating");
      blobs = nb;
    }
    blobs[count++] = (core_store_blob){dg, (uint64_t)st.st_size, st.st_mtime};
  }
  if (errno) return core_error_set(err, errno, "listing '%s'", dir);
  if (count) qsort(blobs, count, sizeof *blobs, blob_cmp);
  *out = TAKE_PTR(blobs);
  *n = count;
  return 0;
}

int core_store_remove(core_store *s, const core_digest *d, core_error **err) {
  cleanup_free char *p = core_store_blob_path(s, d);
  if (p == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (unlink(p) < 0 && errno != ENOENT) return core_error_set(err, errno, "removing '%s'", p);
  return 0;
}

int core_store_clean_tmp(core_store *s, time_t max_age, size_t *n_removed, uint64_t *bytes, core_error **err) {
  cleanup_free char *dir = core_path_join(core_store_dir(s), "tmp");
  if (dir == NULL) return core_error_set(err, ENOMEM, "allocating");
  cleanup_closedir DIR *d = opendir(dir);
  if (d == NULL) return core_error_set(err, errno, "listing '%s'", dir);
  time_t now = time(NULL);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || now - st.st_mtime < max_age) continue;
    if (S_ISDIR(st.st_mode)) {
      /* A fetcher's scratch directory (apt downloads): one level of files. */
      int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      cleanup_closedir DIR *sd = sub >= 0 ? fdopendir(sub) : NULL;
      if (sd == NULL) {
        if (sub >= 0) close(sub);
        continue;
      }
      struct dirent *f;
      while ((f = readdir(sd)) != NULL) {
        struct stat fst;
        if (fstatat(dirfd(sd), f->d_name, &fst, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(fst.st_mode) &&
            unlinkat(dirfd(sd), f->d_name, 0) == 0)
          *bytes += (uint64_t)fst.st_size;
      }
      if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) == 0) (*n_removed)++;
      continue;
    }
    if (unlinkat(dirfd(d), e->d_name, 0) == 0) {
      (*n_removed)++;
      *bytes += (uint64_t)st.st_size;
    }
  }
  return 0;
}
