/* Unit tests for compiler/sources/fetch_git.c: repositories made by the real git in a
 * temporary directory and fetched over file:// URLs; the tars read back with libarchive. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "tmpdir.h"

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "sources/fetch.h"

/* ---- running git ---- */

/* Runs a shell command built from fmt; the test fails with the command when git does. */
static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *cmd = NULL;
  assert_true(vasprintf(&cmd, fmt, ap) >= 0);
  va_end(ap);
  int rc = system(cmd);
  if (rc != 0) fail_msg("command failed (%d): %s", rc, cmd);
  free(cmd);
}

/* The first line a command prints, without its newline, into out (at most 41 bytes). */
static void sh_out(char out[41], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sh_out(char out[41], const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *cmd = NULL;
  assert_true(vasprintf(&cmd, fmt, ap) >= 0);
  va_end(ap);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  out[0] = '\0';
  if (fgets(out, 41, p) == NULL) out[0] = '\0';
  out[strcspn(out, "\n")] = '\0';
  int rc = pclose(p);
  if (rc != 0) fail_msg("command failed (%d): %s", rc, cmd);
  free(cmd);
}

/* git with a fixed identity, no user or system configuration, and a fixed branch name. */
#define GIT "git -c user.name=t -c user.email=t@example.org -c init.defaultBranch=main -c commit.gpgsign=false"

static int setup(void **state) {
  if (make_tmpdir(state) < 0) return -1;
  /* HOME is the test's own, so neither git nor libgit2 reads the user's configuration. */
  setenv("HOME", *state, 1);
  setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
  return 0;
}

/* A working repository at <dir>/repo with files of every kind; its head commit into head. */
static void make_repo(const char *dir, char head[41]) {
  sh("cd %s && " GIT " init -q repo && cd repo && mkdir -p bin sub/deep empty-not-kept && "
     "printf 'hello\\n' > README && printf '#!/bin/sh\\necho hi\\n' > bin/run.sh && chmod 755 bin/run.sh && "
     "printf 'deep\\n' > sub/deep/file && printf 'x\\n' > sub/a-b && ln -s README link && "
     "ln -s ../README sub/up && " GIT " add -A && " GIT " commit -q -m one",
     dir);
  sh_out(head, "cd %s/repo && git rev-parse HEAD", dir);
}

static char *repo_url(const char *dir) {
  char *url = NULL;
  assert_true(asprintf(&url, "file://%s/repo", dir) >= 0);
  return url;
}

/* ---- fetching ---- */

typedef struct fetched {
  core_store *store;
  char commit[41];
  core_digest tar;
} fetched;

static void fetched_release(fetched *f) { core_store_close(f->store); }

static void open_store(fetched *f, const char *dir, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  core_error *err = NULL;
  assert_int_equal(core_store_open(path, &f->store, &err), 0);
  assert_null(err);
}

/* 0 on success; else the error's message in *msg (caller frees). */
static int fetch(fetched *f, int offline, const char *url, const char *commit, const char *ref, const char *subpath,
                 char **msg) {
  core_fetch_ctx ctx = {.store = f->store, .offline = offline};
  core_error *err = NULL;
  int rc = core_fetch_git(&ctx, url, commit, ref, subpath, f->commit, &f->tar, &err);
  if (rc == 0) {
    assert_null(err);
    if (msg) *msg = NULL;
    return 0;
  }
  assert_int_equal(rc, -1);
  assert_non_null(err);
  if (msg)
    *msg = strdup(err->msg);
  else
    fail_msg("fetch failed: %s", err->msg);
  core_error_free(err);
  return -1;
}

static void fetch_ok(fetched *f, const char *url, const char *commit, const char *ref, const char *subpath) {
  assert_int_equal(fetch(f, 0, url, commit, ref, subpath, NULL), 0);
}

/* The fetch fails and its message holds every one of the NULL-terminated words. */
static void fetch_fails(fetched *f, int offline, const char *url, const char *commit, const char *ref,
                        const char *subpath, ...) {
  char *msg = NULL;
  assert_int_equal(fetch(f, offline, url, commit, ref, subpath, &msg), -1);
  va_list ap;
  va_start(ap, subpath);
  for (const char *w; (w = va_arg(ap, const char *)) != NULL;)
    if (strstr(msg, w) == NULL) fail_msg("error lacks '%s': %s", w, msg);
  va_end(ap);
  free(msg);
}

/* ---- reading the tar back ---- */

typedef struct tar_entry {
  char *name;
  unsigned type, perm;
  int64_t size, mtime, uid, gid;
  int has_uname, has_gname;
  char *link;
  char data[64];
} tar_entry;

typedef struct tar_list {
  tar_entry e[64];
  size_t n;
} tar_list;

static void tar_list_release(tar_list *t) {
  for (size_t i = 0; i < t->n; i++) free(t->e[i].name), free(t->e[i].link);
}

static void read_tar(fetched *f, tar_list *t) {
  core_error *err = NULL;
  cleanup_free char *path = NULL;
  assert_int_equal(core_store_get_verified(f->store, &f->tar, &path, &err), 0);
  /* pax names are UTF-8; read them back as the bytes git holds, whatever the test's locale. */
  locale_t utf8 = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
  assert_true(utf8 != (locale_t)0);
  locale_t saved = uselocale(utf8);
  struct archive *a = archive_read_new();
  archive_read_support_format_tar(a);
  assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
  /* Only uncompressed tar: the store keeps what the fetcher wrote, byte for byte. */
  struct archive_entry *e;
  memset(t, 0, sizeof *t);
  int rc;
  /* ARCHIVE_WARN: a name kept as raw bytes (hdrcharset=BINARY), which is expected. */
  while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
    assert_true(t->n < 64);
    tar_entry *te = &t->e[t->n++];
    te->name = strdup(archive_entry_pathname(e));
    te->type = archive_entry_filetype(e);
    te->perm = archive_entry_perm(e);
    te->size = archive_entry_size(e);
    te->mtime = archive_entry_mtime(e);
    te->uid = archive_entry_uid(e);
    te->gid = archive_entry_gid(e);
    /* An empty ustar name field reads back as "" rather than NULL. */
    te->has_uname = archive_entry_uname(e) != NULL && archive_entry_uname(e)[0] != '\0';
    te->has_gname = archive_entry_gname(e) != NULL && archive_entry_gname(e)[0] != '\0';
    te->link = archive_entry_symlink(e) ? strdup(archive_entry_symlink(e)) : NULL;
    la_ssize_t n = archive_read_data(a, te->data, sizeof te->data - 1);
    te->data[n > 0 ? n : 0] = '\0';
  }
  assert_int_equal(rc, ARCHIVE_EOF);
  assert_int_equal(archive_filter_code(a, 0), ARCHIVE_FILTER_NONE);
  archive_read_free(a);
  uselocale(saved);
  freelocale(utf8);
}

static const tar_entry *find(const tar_list *t, const char *name) {
  for (size_t i = 0; i < t->n; i++)
    if (strcmp(t->e[i].name, name) == 0) return &t->e[i];
  return NULL;
}

/* ---- tests ---- */

static void test_full_commit(void **state) {
  const char *dir = *state;
  char head[41];
  make_repo(dir, head);
  cleanup_free char *url = repo_url(dir);
  fetched f = {0};
  open_store(&f, dir, "store");
  fetch_ok(&f, url, head, NULL, "");
  assert_string_equal(f.commit, head);

  tar_list t;
  read_tar(&f, &t);
  /* Byte order of the whole name; a directory comes before what it holds. */
  const char *want[] = {"README", "bin/", "bin/run.sh", "link", "sub/", "sub/a-b", "sub/deep/", "sub/deep/file",
                        "sub/up"};
  assert_int_equal(t.n, sizeof want / sizeof *want);
  for (size_t i = 0; i < t.n; i++) assert_string_equal(t.e[i].name, want[i]);
  for (size_t i = 0; i < t.n; i++) {
    assert_int_equal(t.e[i].mtime, 0);
    assert_int_equal(t.e[i].uid, 0);
    assert_int_equal(t.e[i].gid, 0);
    assert_false(t.e[i].has_uname);
    assert_false(t.e[i].has_gname);
  }
  const tar_entry *e = find(&t, "README");
  assert_int_equal(e->type, AE_IFREG);
  assert_int_equal(e->perm, 0644);
  assert_string_equal(e->data, "hello\n");
  e = find(&t, "bin/run.sh");
  assert_int_equal(e->type, AE_IFREG);
  assert_int_equal(e->perm, 0755);
  assert_string_equal(e->data, "#!/bin/sh\necho hi\n");
  e = find(&t, "bin/");
  assert_int_equal(e->type, AE_IFDIR);
  assert_int_equal(e->perm, 0755);
  e = find(&t, "link");
  assert_int_equal(e->type, AE_IFLNK);
  assert_string_equal(e->link, "README");
  e = find(&t, "sub/up");
  assert_int_equal(e->type, AE_IFLNK);
  assert_string_equal(e->link, "../README");
  tar_list_release(&t);
  fetched_release(&f);
}

static void test_abbreviated_commit(void **state) {
  const char *dir = *state;
  char head[41], short_id[8];
  make_repo(dir, head);
  cleanup_free char *url = repo_url(dir);
  snprintf(short_id, sizeof short_id, "%.7s", head);
  fetched f = {0};
  open_store(&f, dir, "store");
  fetch_ok(&f, url, short_id, NULL, NULL);
  assert_string_equal(f.commit, head);
  fetch_fails(&f, 0, url, "abc12", NULL, NULL, "'abc12'", url, "7 to 40", NULL);
  fetch_fails(&f, 0, url, "xyz1234", NULL, NULL, "'xyz1234'", url, NULL);
  fetched_release(&f);
}

static void test_refs(void **state) {
  const char *dir = *state;
  char head[41], first[41], second[41];
  make_repo(dir, first);
  sh("cd %s/repo && " GIT " tag -a -m 'release one' v1 && " GIT " tag lw && " GIT " checkout -q -b dev && "
     "echo two > two && " GIT " add two && " GIT " commit -q -m two",
     dir);
  sh_out(second, "cd %s/repo && git rev-parse HEAD", dir);
  cleanup_free char *url = repo_url(dir);
  fetched f = {0};
  open_store(&f, dir, "store");
  fetch_ok(&f, url, NULL, "main", NULL);
  assert_string_equal(f.commit, first);
  core_digest main_tar = f.tar;
  fetch_ok(&f, url, NULL, "dev", NULL);
  assert_string_equal(f.commit, second);
  /* The annotated tag is peeled to its commit: the same tree, so the same tar. */
  fetch_ok(&f, url, NULL, "v1", NULL);
  assert_string_equal(f.commit, first);
  assert_string_equal(f.tar.str, main_tar.str);
  fetch_ok(&f, url, NULL, "lw", NULL);
  assert_string_equal(f.commit, first);
  fetch_ok(&f, url, NULL, "refs/heads/dev", NULL);
  assert_string_equal(f.commit, second);
  /* The annotated tag object's own id names the commit too. */
  sh_out(head, "cd %s/repo && git rev-parse v1", dir);
  assert_string_not_equal(head, first);
  fetch_ok(&f, url, head, NULL, NULL);
  assert_string_equal(f.commit, first);

  fetch_fails(&f, 0, url, NULL, "nope", NULL, "'nope'", url, "no branch or tag", NULL);
  sh("cd %s/repo && " GIT " tag dev main", dir);
  fetch_fails(&f, 0, url, NULL, "dev", NULL, "both a tag and a branch", "refs/heads/dev", NULL);
  fetch_fails(&f, 0, url, NULL, "bad..name", NULL, "not a valid", NULL);
  fetched_release(&f);
}

static void test_subpath(void **state) {
  const char *dir = *state;
  char head[41];
  make_repo(dir, head);
  cleanup_free char *url = repo_url(dir);
  fetched f = {0};
  open_store(&f, dir, "store");
  fetch_ok(&f, url, head, NULL, "sub");
  tar_list t;
  read_tar(&f, &t);
  const char *want[] = {"a-b", "deep/", "deep/file", "up"};
  assert_int_equal(t.n, sizeof want / sizeof *want);
  for (size_t i = 0; i < t.n; i++) assert_string_equal(t.e[i].name, want[i]);
  tar_list_release(&t);
  core_digest sub = f.tar;
  fetch_ok(&f, url, head, NULL, "sub/");
  assert_string_equal(f.tar.str, sub.str);
  fetch_ok(&f, url, head, NULL, "sub/deep");
  read_tar(&f, &t);
  assert_int_equal(t.n, 1);
  assert_string_equal(t.e[0].name, "file");
  tar_list_release(&t);

  fetch_fails(&f, 0, url, head, NULL, "nothere", "'nothere'", head, url, "does not exist", NULL);
  fetch_fails(&f, 0, url, head, NULL, "README", "'README'", head, "not a directory", NULL);
  fetch_fails(&f, 0, url, head, NULL, "../x", "'../x'", NULL);
  fetch_fails(&f, 0, url, head, NULL, "/sub", "absolute", NULL);
  fetched_release(&f);
}

/* Two stores clone their own mirrors; under another locale the tar must not change either,
 * non-ASCII names included. */
static void test_deterministic(void **state) {
  const char *dir = *state;
  char head[41];
  sh("cd %s && " GIT " init -q repo && cd repo && printf 'x' > 'caf\xc3\xa9' && printf 'z' > 'bad\xff' && "
     "mkdir -p d && printf 'y' > d/f && " GIT " add -A && " GIT " commit -q -m one",
     dir);
  sh_out(head, "cd %s/repo && git rev-parse HEAD", dir);
  cleanup_free char *url = repo_url(dir);
  fetched a = {0}, b = {0};
  open_store(&a, dir, "store-a");
  open_store(&b, dir, "store-b");
  fetch_ok(&a, url, head, NULL, NULL);
  const char *old = setlocale(LC_ALL, NULL);
  cleanup_free char *saved = strdup(old ? old : "C");
  setlocale(LC_ALL, "C.UTF-8");
  fetch_ok(&b, url, head, NULL, NULL);
  setlocale(LC_ALL, saved);
  assert_string_equal(a.tar.str, b.tar.str);
  /* Names are git's bytes, UTF-8 or not. */
  tar_list t;
  read_tar(&a, &t);
  const char *want[] = {"bad\xff", "caf\xc3\xa9", "d/", "d/f"};
  assert_int_equal(t.n, sizeof want / sizeof *want);
  for (size_t i = 0; i < t.n; i++) assert_string_equal(t.e[i].name, want[i]);
  tar_list_release(&t);
  /* Again from the existing mirror: nothing about the mirror leaks into the tar. */
  core_digest first = a.tar;
  fetch_ok(&a, url, head, NULL, NULL);
  assert_string_equal(a.tar.str, first.str);
  fetched_release(&a);
  fetched_release(&b);
}

static void test_mirror_updated(void **state) {
  const char *dir = *state;
  char first[41], second[41], third[41];
  make_repo(dir, first);
  cleanup_free char *url = repo_url(dir);
  fetched f = {0};
  open_store(&f, dir, "store");
  fetch_ok(&f, url, NULL, "main", NULL);
  assert_string_equal(f.commit, first);
  sh("cd %s/repo && echo 2 > two && " GIT " add two && " GIT " commit -q -m two", dir);
  sh_out(second, "cd %s/repo && git rev-parse HEAD", dir);
  fetch_ok(&f, url, NULL, "main", NULL);
  assert_string_equal(f.commit, second);
  /* A pinned commit the mirror lacks makes it fetch too. */
  sh("cd %s/repo && echo 3 > three && " GIT " add three && " GIT " commit -q -m three", dir);
  sh_out(third, "cd %s/repo && git rev-parse HEAD", dir);
  fetch_ok(&f, url, third, NULL, NULL);
  assert_string_equal(f.commit, third);
  /* A branch deleted upstream stops resolving; one rewritten resolves to its new commit. */
  sh("cd %s/repo && " GIT " branch gone && " GIT " branch moved", dir);
  fetch_ok(&f, url, NULL, "gone", NULL);
  sh("cd %s/repo && " GIT " branch -D -q gone && " GIT " branch -f moved %s", dir, first);
  fetch_fails(&f, 0, url, NULL, "gone", NULL, "'gone'", NULL);
  fetch_ok(&f, url, NULL, "moved", NULL);
  assert_string_equal(f.commit, first);
  fetched_release(&f);
}

static void test_offline(void **state) {
  const char *dir = *state;
  char first[41], second[41];
  make_repo(dir, first);
  cleanup_free char *url = repo_url(dir);
  fetched f = {0};
  open_store(&f, dir, "store");
  /* Nothing fetched yet: offline has nothing to work from. */
  fetch_fails(&f, 1, url, first, NULL, NULL, first, url, "without --offline", NULL);
  fetch_fails(&f, 1, url, NULL, "main", NULL, url, "without --offline", NULL);
  fetch_ok(&f, url, first, NULL, NULL);
  core_digest online = f.tar;
  sh("cd %s/repo && echo 2 > two && " GIT " add two && " GIT " commit -q -m two", dir);
  sh_out(second, "cd %s/repo && git rev-parse HEAD", dir);
  assert_int_equal(fetch(&f, 1, url, first, NULL, NULL, NULL), 0);
  assert_string_equal(f.tar.str, online.str);
  /* The ref resolves as the mirror last saw it. */
  assert_int_equal(fetch(&f, 1, url, NULL, "main", NULL, NULL), 0);
  assert_string_equal(f.commit, first);
  fetch_fails(&f, 1, url, second, NULL, NULL, second, url, "without --offline", NULL);
  /* Even a removed repository serves what the mirror holds. */
  sh("rm -rf %s/repo", dir);
  assert_int_equal(fetch(&f, 1, url, first, NULL, NULL, NULL), 0);
  fetched_release(&f);
}

static void test_submodule(void **state) {
  const char *dir = *state;
  char head[41];
  make_repo(dir, head);
  /* A gitlink entry is all a submodule is in a tree; no second repository is needed. */
  sh("cd %s/repo && " GIT " update-index --add --cacheinfo 160000,%s,libs/dep && " GIT " commit -q -m sub", dir,
     head);
  sh_out(head, "cd %s/repo && git rev-parse HEAD", dir);
  cleanup_free char *url = repo_url(dir);
  fetched f = {0};
  open_store(&f, dir, "store");
  fetch_fails(&f, 0, url, head, NULL, NULL, "'libs/dep'", "submodule", "not supported yet", NULL);
  fetch_fails(&f, 0, url, head, NULL, "libs", "'libs/dep'", "submodule", NULL);
  fetch_fails(&f, 0, url, head, NULL, "libs/dep", "'libs/dep'", "submodule", NULL);
  /* Directories without it still export. */
  fetch_ok(&f, url, head, NULL, "sub");
  fetched_release(&f);
}

/* A directory named .git inside a tree (git itself refuses to add one, but a tree can hold
 * it) is left out. */
static void test_dot_git_skipped(void **state) {
  const char *dir = *state;
  char head[41], blob[41], inner[41], tree[41];
  make_repo(dir, head);
  sh_out(blob, "cd %s/repo && echo evil | git hash-object -w --stdin", dir);
  sh_out(inner, "cd %s/repo && printf '100644 blob %s\\tconfig\\n' | git mktree", dir, blob);
  sh_out(tree, "cd %s/repo && printf '040000 tree %s\\t.git\\n100644 blob %s\\tok\\n040000 tree %s\\tsub\\n' | git mktree",
         dir, inner, blob, inner);
  sh_out(head, "cd %s/repo && " GIT " commit-tree -m dotgit %s", dir, tree);
  sh("cd %s/repo && git update-ref refs/heads/dotgit %s", dir, head);
  cleanup_free char *url = repo_url(dir);
  fetched f = {0};
  open_store(&f, dir, "store");
  fetch_ok(&f, url, head, NULL, NULL);
  tar_list t;
  read_tar(&f, &t);
  const char *want[] = {"ok", "sub/", "sub/config"};
  assert_int_equal(t.n, sizeof want / sizeof *want);
  for (size_t i = 0; i < t.n; i++) assert_string_equal(t.e[i].name, want[i]);
  tar_list_release(&t);
  fetch_fails(&f, 0, url, head, NULL, ".git", "'.git'", NULL);
  fetched_release(&f);
}

static void test_errors(void **state) {
  const char *dir = *state;
  char head[41];
  make_repo(dir, head);
  cleanup_free char *url = repo_url(dir);
  cleanup_free char *missing = NULL;
  assert_true(asprintf(&missing, "file://%s/no-such-repo", dir) >= 0);
  fetched f = {0};
  open_store(&f, dir, "store");
  fetch_fails(&f, 0, missing, head, NULL, NULL, missing, "cannot fetch", "check the url", NULL);
  fetch_fails(&f, 0, missing, NULL, "main", NULL, missing, "cannot fetch", NULL);
  fetch_fails(&f, 0, url, "0123456789012345678901234567890123456789", NULL, NULL, "not found", url,
              "0123456789012345678901234567890123456789", NULL);
  fetch_fails(&f, 0, url, NULL, NULL, NULL, url, "neither commit nor ref", NULL);
  fetch_fails(&f, 0, "", head, NULL, NULL, "without a url", NULL);

  /* Blobs "4827\n" and "11742\n" both hash to 51d2738...: a prefix shared by two objects. */
  sh("cd %s/repo && printf '4827\\n' > a && printf '11742\\n' > b && " GIT " add a b && " GIT " commit -q -m ab", dir);
  fetch_fails(&f, 0, url, "51d2738", NULL, NULL, "ambiguous", "'51d2738'", url, "more digits", NULL);
  fetched_release(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_full_commit, setup, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_abbreviated_commit, setup, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_refs, setup, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_subpath, setup, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_deterministic, setup, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_mirror_updated, setup, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_offline, setup, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_submodule, setup, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_dot_git_skipped, setup, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_errors, setup, remove_tmpdir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
