/* A git tree written as a deterministic tar: the same tree gives the same bytes on every
 * machine, so its digest can be pinned in app.lock. */
#ifndef CORE_GIT_TREE_TAR_H
#define CORE_GIT_TREE_TAR_H

#include <git2.h>

#include "error.h"
#include "store.h"

/* Writes tree into w as an uncompressed pax-restricted tar: entries in byte order of their
 * names (a directory "d/" sorts before "d/x"), files 0644 or 0755 as git records them,
 * directories 0755, symlinks as symlinks, mtime 0, owner 0:0 without names, every entry
 * or directory named .git left out. A submodule (gitlink) is an error. prefix is the
 * tree's path in its commit ("" or ending in '/') and where names the source ("commit
 * <sha> of <url>"); both only make messages precise. */
int core_git_tree_tar(git_repository *repo, const git_tree *tree, const char *prefix, const char *where,
                      core_store_writer *w, core_error **err);

#endif
