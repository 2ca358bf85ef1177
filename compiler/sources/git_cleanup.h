/* Scope-bound cleanup for the libgit2 handles the git fetcher holds. */
#ifndef CORE_GIT_CLEANUP_H
#define CORE_GIT_CLEANUP_H

#include <git2.h>

static inline void core_git_repository_freep(git_repository **p) { git_repository_free(*p); *p = NULL; }
static inline void core_git_remote_freep(git_remote **p) { git_remote_free(*p); *p = NULL; }
static inline void core_git_object_freep(git_object **p) { git_object_free(*p); *p = NULL; }
static inline void core_git_commit_freep(git_commit **p) { git_commit_free(*p); *p = NULL; }
static inline void core_git_tree_freep(git_tree **p) { git_tree_free(*p); *p = NULL; }
static inline void core_git_tree_entry_freep(git_tree_entry **p) { git_tree_entry_free(*p); *p = NULL; }
static inline void core_git_blob_freep(git_blob **p) { git_blob_free(*p); *p = NULL; }
static inline void core_git_reference_freep(git_reference **p) { git_reference_free(*p); *p = NULL; }

#define cleanup_git_repository __attribute__((cleanup(core_git_repository_freep)))
#define cleanup_git_remote __attribute__((cleanup(core_git_remote_freep)))
#define cleanup_git_object __attribute__((cleanup(core_git_object_freep)))
#define cleanup_git_commit __attribute__((cleanup(core_git_commit_freep)))
#define cleanup_git_tree __attribute__((cleanup(core_git_tree_freep)))
#define cleanup_git_tree_entry __attribute__((cleanup(core_git_tree_entry_freep)))
#define cleanup_git_blob __attribute__((cleanup(core_git_blob_freep)))
#define cleanup_git_reference __attribute__((cleanup(core_git_reference_freep)))

/* libgit2's global state is reference-counted: each scope that uses libgit2 holds one
 * reference, so the fetcher needs no process-wide setup and leaves nothing behind. */
static inline void core_git_releasep(int *held) {
  if (*held > 0) git_libgit2_shutdown();
  *held = 0;
}
#define cleanup_git_lib __attribute__((cleanup(core_git_releasep)))

#endif
