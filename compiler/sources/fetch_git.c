/* The git fetcher: one bare mirror per URL in the store's cache, a commit resolved in it,
 * and that commit's tree (or one directory of it) stored as a deterministic tar. */
#include "sources/fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "cleanup.h"
#include "error_git.h"
#include "sources/git_cleanup.h"
#include "sources/git_tree_tar.h"

/* Mirror branches and tags under their own names, so a ref is looked up as the remote has
 * it; '+' because a remote may move or delete them (force pushes, re-tags). */
static char *mirror_refspecs[] = {"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"};

static int is_hex(const char *s) {
  for (; *s; s++)
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F'))) return 0;
  return 1;
}

static int check_commit(const char *url, const char *commit, core_error **err) {
  size_t len = strlen(commit);
  if (len < 7 || len > GIT_OID_HEXSZ || !is_hex(commit))
    return core_error_set(err, 0,
                          "commit '%s' of '%s' is not a commit id; write 7 to 40 hexadecimal digits "
                          "(the full 40 is best), or use ref for a branch or tag",
                          commit, url);
  return 0;
}

/* subpath names a directory below the tree's root: relative, without '.', '..' or empty
 * components, and never into a .git directory. A trailing '/' is dropped. *out is "" for
 * the whole tree. */
static int clean_subpath(const char *url, const char *subpath, char **out, core_error **err) {
  cleanup_free char *p = strdup(subpath ? subpath : "");
  if (p == NULL) return core_error_set(err, ENOMEM, "reading subpath");
  size_t len = strlen(p);
  while (len > 0 && p[len - 1] == '/') p[--len] = '\0';
  if (p[0] == '/')
    return core_error_set(err, 0, "subpath '%s' of '%s' is absolute; write it relative to the repository's root",
                          subpath, url);
  for (char *c = p; len > 0;) {
    size_t n = strcspn(c, "/");
    if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.') ||
        (n == 4 && strncmp(c, ".git", 4) == 0))
      return core_error_set(err, 0,
                            "subpath '%s' of '%s' has an empty, '.', '..' or '.git' component; "
                            "name a directory of the repository as 'dir/subdir'",
                            subpath, url);
    if (c[n] == '\0') break;
    c += n + 1;
  }
  *out = TAKE_PTR(p);
  return 0;
}

/* The mirror's directory: the URL's hash, so any URL gives a safe, fixed-length name. */
static int mirror_dir(core_store *store, const char *url, char **out, core_error **err) {
  core_digest d;
  if (core_digest_bytes(url, strlen(url), &d, err) < 0) return -1;
  char name[4 + 16 + 1];
  snprintf(name, sizeof name, "git/%.16s", core_digest_hex(&d));
  if (core_store_cache_dir(store, name, out, err) < 0)
    return core_error_wrap(err, "preparing the mirror of '%s'", url);
  return 0;
}

/* Two corec processes may fetch the same repository at once; libgit2 locks single refs,
 * not a whole fetch, so the mirror directory itself is locked. */
static int lock_mirror(const char *dir, int *out, core_error **err) {
  cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return core_error_set(err, errno, "opening the git mirror '%s'", dir);
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) return core_error_set(err, errno, "locking the git mirror '%s'", dir);
  *out = TAKE_FD(fd);
  return 0;
}

/* *out stays NULL when dir holds no repository yet (first use, or an interrupted first
 * clone, which init below simply starts over). */
static int open_mirror(const char *dir, git_repository **out, core_error **err) {
  int rc = git_repository_open_bare(out, dir);
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
    *out = NULL;
    return 0;
  }
  if (rc < 0) return core_error_git(err, "opening the git mirror '%s'", dir);
  return 0;
}

typedef struct fetch_state {
  core_progress *progress;
  int ssh_tries;
} fetch_state;

static int on_progress(const git_indexer_progress *stats, void *payload) {
  fetch_state *fs = payload;
  core_progress_update(fs->progress, stats->received_bytes, 0);
  return 0;
}

/* ssh URLs authenticate through the user's agent, once: libgit2 asks again after every
 * refusal, and a second identical answer would only loop. https needs no answer for
 * public repositories; a private one fails with libgit2's own authentication message. */
static int on_credentials(git_credential **out, const char *url, const char *user, unsigned int allowed,
                          void *payload) {
  (void)url;
  fetch_state *fs = payload;
  if ((allowed & GIT_CREDENTIAL_USERNAME) && user == NULL) return git_credential_username_new(out, "git");
  if ((allowed & GIT_CREDENTIAL_SSH_KEY) && fs->ssh_tries++ == 0)
    return git_credential_ssh_key_from_agent(out, user ? user : "git");
  return GIT_PASSTHROUGH;
}

/* Brings every branch and tag of url into the mirror, creating the mirror on first use:
 * init + fetch is a bare clone that can resume in a directory a failed run left behind. */
static int update_mirror(git_repository **repo, const char *dir, const char *url, const core_fetch_ctx *ctx,
                         core_error **err) {
  if (*repo == NULL && git_repository_init(repo, dir, 1) < 0)
    return core_error_git(err, "creating the git mirror '%s'", dir);
  /* url.<base>.insteadOf from the user's git configuration is not applied: the URL in
   * app.yml fetches the same thing on every machine. (It also avoids a leak in libgit2 1.5,
   * which loses pcre2 match data for every configuration entry that rule does not match,
   * fixed upstream by libgit2 PR #6382.) */
  git_remote_create_options ropts;
  git_remote_create_options_init(&ropts, GIT_REMOTE_CREATE_OPTIONS_VERSION);
  ropts.repository = *repo;
  ropts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
  cleanup_git_remote git_remote *remote = NULL;
  if (git_remote_create_with_opts(&remote, url, &ropts) < 0)
    return core_error_git(err, "'%s' is not a git URL libgit2 accepts; check the url", url);
  cleanup_progress core_progress progress = core_progress_begin(ctx->reporter, url);
  fetch_state fs = {.progress = &progress};
  git_fetch_options opts;
  git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
  opts.callbacks.transfer_progress = on_progress;
  opts.callbacks.credentials = on_credentials;
  opts.callbacks.payload = &fs;
  opts.prune = GIT_FETCH_PRUNE; /* a deleted branch must not keep resolving */
  opts.update_fetchhead = 0;
  opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE; /* the refspecs already take every tag */
  git_strarray specs = {mirror_refspecs, sizeof mirror_refspecs / sizeof *mirror_refspecs};
  if (git_remote_fetch(remote, &specs, &opts, "corec fetch") < 0)
    return core_error_git(err, "cannot fetch '%s' (check the url, the network and your access to it)", url);
  core_progress_done(&progress);
  return 0;
}

/* 0 and *out set, or libgit2's code: GIT_ENOTFOUND, GIT_EAMBIGUOUS, or another failure. */
static int lookup_commit(git_repository *repo, const char *hex, git_commit **out) {
  git_oid oid;
  size_t len = strlen(hex);
  int rc = git_oid_fromstrn(&oid, hex, len);
  if (rc < 0) return rc;
  cleanup_git_object git_object *obj = NULL;
  rc = git_object_lookup_prefix(&obj, repo, &oid, len, GIT_OBJECT_ANY);
  if (rc < 0) return rc;
  /* An annotated tag's id names its commit as well as the tag does. */
  return git_object_peel((git_object **)out, obj, GIT_OBJECT_COMMIT);
}

static int commit_error(int rc, const char *commit, const char *url, int offline, core_error **err) {
  if (rc == GIT_EAMBIGUOUS)
    return core_error_set(err, 0,
                          "commit '%s' is ambiguous in '%s': more than one object starts with it; write "
                          "more digits (the full 40 is best)",
                          commit, url);
  if (rc == GIT_ENOTFOUND && offline)
    return core_error_set(err, 0,
                          "commit '%s' of '%s' is not in the local mirror and --offline forbids fetching it; "
                          "build once without --offline",
                          commit, url);
  if (rc == GIT_ENOTFOUND)
    return core_error_set(err, 0,
                          "commit '%s' not found in '%s'; check the commit id, and that a branch or tag of "
                          "that repository contains it (only those are fetched)",
                          commit, url);
  return core_error_git(err, "looking up commit '%s' of '%s'", commit, url);
}

/* A branch or tag, as git names them: "main", "v1.2", or spelled out as "refs/...". */
static int lookup_ref(git_repository *repo, const char *url, const char *ref, int offline, git_commit **out,
                      core_error **err) {
  char *candidates[2] = {NULL, NULL};
  size_t n = 0;
  int rc = 0;
  if (strncmp(ref, "refs/", 5) == 0) {
    candidates[n++] = strdup(ref);
  } else {
    if (asprintf(&candidates[n], "refs/tags/%s", ref) >= 0) n++;
    if (asprintf(&candidates[n], "refs/heads/%s", ref) >= 0) n++;
  }
  cleanup_git_reference git_reference *found = NULL;
  for (size_t i = 0; i < n && rc == 0; i++) {
    int valid = 0;
    if (candidates[i] == NULL || git_reference_name_is_valid(&valid, candidates[i]) < 0 || !valid) {
      rc = core_error_set(err, 0, "ref '%s' of '%s' is not a valid branch or tag name; check it", ref, url);
      break;
    }
    cleanup_git_reference git_reference *r = NULL;
    int lr = git_reference_lookup(&r, repo, candidates[i]);
    if (lr == GIT_ENOTFOUND) {
      git_error_clear();
    } else if (lr < 0) {
      rc = core_error_git(err, "looking up ref '%s' of '%s'", ref, url);
    } else if (found) {
      /* git would silently prefer the tag; a build pinned to the wrong one is worse. */
      rc = core_error_set(err, 0, "ref '%s' of '%s' is both a tag and a branch; write refs/tags/%s or refs/heads/%s",
                          ref, url, ref, ref);
    } else {
      found = TAKE_PTR(r);
    }
  }
  for (size_t i = 0; i < n; i++) free(candidates[i]);
  if (rc < 0) return rc;
  if (found == NULL && offline)
    return core_error_set(err, 0,
                          "ref '%s' of '%s' is not in the local mirror and --offline forbids fetching it; "
                          "build once without --offline",
                          ref, url);
  if (found == NULL)
    return core_error_set(err, 0,
                          "no branch or tag '%s' in '%s'; check the name (e.g. 'main' or 'v1.2'), or pin "
                          "a commit instead",
                          ref, url);
  cleanup_git_object git_object *obj = NULL;
  if (git_reference_peel(&obj, found, GIT_OBJECT_COMMIT) < 0)
    return core_error_git(err, "ref '%s' of '%s' does not lead to a commit", ref, url);
  *out = (git_commit *)TAKE_PTR(obj);
  return 0;
}

/* The directory to export: the commit's tree, or the subtree at subpath. */
static int export_root(git_commit *c, const char *subpath, const char *where, git_tree **out, core_error **err) {
  cleanup_git_tree git_tree *root = NULL;
  if (git_commit_tree(&root, c) < 0) return core_error_git(err, "reading the tree of %s", where);
  if (subpath[0] == '\0') {
    *out = TAKE_PTR(root);
    return 0;
  }
  cleanup_git_tree_entry git_tree_entry *e = NULL;
  int rc = git_tree_entry_bypath(&e, root, subpath);
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
    return core_error_set(err, 0, "subpath '%s' does not exist in %s; check the path and the commit", subpath,
                          where);
  }
  if (rc < 0) return core_error_git(err, "looking up subpath '%s' in %s", subpath, where);
  if (git_tree_entry_filemode(e) == GIT_FILEMODE_COMMIT)
    return core_error_set(err, 0, "subpath '%s' in %s is a submodule, and submodules are not supported yet",
                          subpath, where);
  if (git_tree_entry_type(e) != GIT_OBJECT_TREE)
    return core_error_set(err, 0, "subpath '%s' in %s is not a directory; subpath must name a directory",
                          subpath, where);
  if (git_tree_lookup(out, git_commit_owner(c), git_tree_entry_id(e)) < 0)
    return core_error_git(err, "reading subpath '%s' in %s", subpath, where);
  return 0;
}

static int store_tree(core_store *store, git_commit *c, const char *subpath, const char *where, core_digest *out,
                      core_error **err) {
  cleanup_git_tree git_tree *tree = NULL;
  if (export_root(c, subpath, where, &tree, err) < 0) return -1;
  cleanup_free char *prefix = NULL;
  if (asprintf(&prefix, "%s%s", subpath, subpath[0] ? "/" : "") < 0)
    return core_error_set(err, ENOMEM, "exporting %s", where);
  cleanup_store_writer core_store_writer *w = NULL;
  if (core_store_writer_begin(store, &w, err) < 0) return -1;
  if (core_git_tree_tar(git_commit_owner(c), tree, prefix, where, w, err) < 0) return -1;
  if (core_store_writer_commit(w, NULL, out, err) < 0) return core_error_wrap(err, "storing %s", where);
  return 0;
}

int core_fetch_git(core_fetch_ctx *ctx, const char *url, const char *commit, const char *ref, const char *subpath,
                   char resolved_commit[41], core_digest *tree_tar, core_error **err) {
  if (url == NULL || url[0] == '\0') return core_error_set(err, 0, "git source without a url; add one");
  if ((commit == NULL || commit[0] == '\0') && (ref == NULL || ref[0] == '\0'))
    return core_error_set(err, 0, "git source '%s' has neither commit nor ref; pin a commit or name a branch or tag",
                          url);
  /* With both, the commit (from the lock file) wins: the ref only chose it once. */
  int by_commit = commit != NULL && commit[0] != '\0';
  if (by_commit && check_commit(url, commit, err) < 0) return -1;
  cleanup_free char *sub = NULL;
  if (clean_subpath(url, subpath, &sub, err) < 0) return -1;

  cleanup_git_lib int lib = git_libgit2_init();
  if (lib < 0) return core_error_git(err, "starting libgit2");

  cleanup_free char *dir = NULL;
  if (mirror_dir(ctx->store, url, &dir, err) < 0) return -1;
  cleanup_close int lock = -1;
  if (lock_mirror(dir, &lock, err) < 0) return -1;
  cleanup_git_repository git_repository *repo = NULL;
  if (open_mirror(dir, &repo, err) < 0) return -1;

  cleanup_git_commit git_commit *c = NULL;
  if (by_commit) {
    int rc = repo ? lookup_commit(repo, commit, &c) : GIT_ENOTFOUND;
    if (rc == GIT_ENOTFOUND && !ctx->offline) {
      git_error_clear();
      if (update_mirror(&repo, dir, url, ctx, err) < 0) return -1;
      rc = lookup_commit(repo, commit, &c);
    }
    if (rc < 0) return commit_error(rc, commit, url, ctx->offline, err);
  } else {
    /* A branch moves: ask the remote, unless offline, where the mirror's view is all there is. */
    if (!ctx->offline && update_mirror(&repo, dir, url, ctx, err) < 0) return -1;
    if (repo == NULL)
      return core_error_set(err, 0,
                            "'%s' has never been fetched and --offline forbids fetching it; "
                            "build once without --offline",
                            url);
    if (lookup_ref(repo, url, ref, ctx->offline, &c, err) < 0) return -1;
  }

  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, git_commit_id(c));
  cleanup_free char *where = NULL;
  if (asprintf(&where, "commit %s of '%s'", hex, url) < 0) return core_error_set(err, ENOMEM, "exporting '%s'", url);
  core_digest d;
  if (store_tree(ctx->store, c, sub, where, &d, err) < 0) return -1;
  memcpy(resolved_commit, hex, sizeof hex);
  *tree_tar = d;
  return 0;
}
