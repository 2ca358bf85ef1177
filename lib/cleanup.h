/* Scope-bound cleanup for every kind of resource, and explicit hand-over of ownership. */
#ifndef CORE_CLEANUP_H
#define CORE_CLEANUP_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void core_freep(void *p) { free(*(void **)p); }
static inline void core_closep(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}
static inline void core_fclosep(FILE **f) {
  if (*f) fclose(*f);
}
static inline void core_closedirp(DIR **d) {
  if (*d) closedir(*d);
}

#define cleanup_free __attribute__((cleanup(core_freep)))
#define cleanup_close __attribute__((cleanup(core_closep)))
#define cleanup_fclose __attribute__((cleanup(core_fclosep)))
#define cleanup_closedir __attribute__((cleanup(core_closedirp)))

/* Hands ownership on: returns the value and leaves the variable empty. */
#define TAKE_PTR(p)                  \
  ({                                 \
    __typeof__(p) take_ptr_tmp_ = (p); \
    (p) = NULL;                      \
    take_ptr_tmp_;                   \
  })
#define TAKE_FD(fd)           \
  ({                          \
    int take_fd_tmp_ = (fd);  \
    (fd) = -1;                \
    take_fd_tmp_;             \
  })

#endif
