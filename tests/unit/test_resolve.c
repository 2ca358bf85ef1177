/* Unit tests for compiler/resolve.c: local files, and remote sources through the real deb
 * fetcher and a git repository made here: the lock written, followed, enforced by --locked,
 * and used offline; URL pins checked against the lock before anything is fetched. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "tmpdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "resolve.h"
#include "store.h"
#include "store_admin.h"

typedef struct fixture {
  char *dir;
  char *yml;
  char *store;
  char *lock;
  core_app_config cfg;
} fixture;

static int setup(void **state) {
  void *dir;
  if (make_tmpdir(&dir) < 0) return -1;
  fixture *f = calloc(1, sizeof *f);
  f->dir = dir;
  f->yml = core_path_join(dir, "app.yml");
  f->store = core_path_join(dir, "store");
  f->lock = core_path_join(dir, "app.lock");
  f->cfg.dir = f->dir;
  f->cfg.file = f->yml;
  FILE *y = fopen(f->yml, "w");
  fputs("name: t\nkernel:\n  source: {deb: busybox-static}\n", y);
  fclose(y);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  void *dir = f->dir;
  free(f->yml), free(f->store), free(f->lock), free(f);
  return remove_tmpdir(&dir);
}

static core_source source(fixture *f, core_source_kind kind) {
  core_source s = {.kind = kind, .pos = {f->yml, 3, 11}};
  return s;
}

static int resolve_one(fixture *f, const core_resolve_opts *o, const core_source *src, core_resolved *out,
                       core_error **err) {
  cleanup_resolver core_resolver *r = NULL;
  if (core_resolver_new(&f->cfg, o, &r, err) < 0) return -1;
  if (core_resolve(r, src, "rootfs source", out, err) < 0) return -1;
  return core_resolver_finish(r, err);
}

static void test_local(void **state) {
  fixture *f = *state;
  cleanup_free char *file = core_path_join(f->dir, "layer.tar");
  FILE *t = fopen(file, "w");
  fputs("not really a tar", t);
  fclose(t);
  core_source s = source(f, CORE_SOURCE_FILE);
  s.path = "layer.tar";
  s.resolved = file;
  core_resolve_opts o = {.store_dir = f->store};
  core_error *err = NULL;
  core_resolved res;
  if (resolve_one(f, &o, &s, &res, &err) < 0) fail_msg("%s", err->msg);
  assert_int_equal(res.n_parts, 1);
  assert_true(res.parts[0].has_digest);
  assert_string_equal(res.pin, res.parts[0].digest.str);
  core_resolved_release(&res);
  /* Local files are hashed on each build, not locked; no store is made for them either. */
  assert_int_equal(access(f->lock, F_OK), -1);
  assert_int_equal(access(f->store, F_OK), -1);
  s.resolved = "/nonexistent/x";
  assert_int_equal(resolve_one(f, &o, &s, &res, &err), -1);
  assert_non_null(strstr(err->msg, "app.yml:3:11"));
  core_error_freep(&err);
  core_resolved_release(&res);
}

/* A pinned blob damaged in the store: the error is placed at the source in app.yml, says
 * what happened and how to recover, and the damaged blob is gone. */
static void test_corrupt_blob_named_at_source(void **state) {
  fixture *f = *state;
  core_error *err = NULL;
  core_digest d;
  {
    cleanup_store core_store *st = NULL;
    if (core_store_open(f->store, &st, &err) < 0) fail_msg("%s", err->msg);
    assert_int_equal(core_store_put(st, "layer bytes", 11, &d, &err), 0);
    cleanup_free char *blob = core_store_blob_path(st, &d);
    chmod(blob, 0644);
    FILE *b = fopen(blob, "w");
    fputs("LAYER BYTES", b);
    fclose(b);
  }
  core_source s = source(f, CORE_SOURCE_URL);
  s.url = "http://127.0.0.1:9/layer.tar"; /* never asked: offline, and the store has the pin */
  s.sha256 = d.str;
  core_resolve_opts o = {.store_dir = f->store, .offline = 1};
  core_resolved res;
  assert_int_equal(resolve_one(f, &o, &s, &res, &err), -1);
  assert_non_null(strstr(err->msg, "app.yml:3:11: error: "));
  assert_non_null(strstr(err->msg, "'http://127.0.0.1:9/layer.tar'"));
  assert_non_null(strstr(err->msg, "no longer matches its digest"));
  assert_non_null(strstr(err->msg, d.str));
  assert_non_null(strstr(err->msg, "build again"));
  assert_non_null(strstr(err->msg, "corec cache verify"));
  core_error_freep(&err);
  core_resolved_release(&res);
  cleanup_store core_store *st = NULL;
  if (core_store_open(f->store, &st, &err) < 0) fail_msg("%s", err->msg);
  assert_int_equal(core_store_has(st, &d), 0);
}

static void test_deb_lock_cycle(void **state) {
  fixture *f = *state;
  core_source s = source(f, CORE_SOURCE_DEB);
  s.package = "busybox-static";
  core_error *err = NULL;
  core_resolved res;
  core_resolve_opts o = {.store_dir = f->store};
  /* --locked without a lock entry: refused at the source's position, nothing fetched. */
  o.locked = 1;
  assert_int_equal(resolve_one(f, &o, &s, &res, &err), -1);
  assert_non_null(strstr(err->msg, "app.yml:3:11"));
  assert_non_null(strstr(err->msg, "corec lock"));
  core_error_freep(&err);
  core_resolved_release(&res);
  o.locked = 0;
  if (resolve_one(f, &o, &s, &res, &err) < 0) fail_msg("%s", err->msg);
  assert_int_equal(res.kind, CORE_SOURCE_DEB);
  assert_int_equal(res.n_parts, 1);
  assert_int_equal(res.parts[0].format, CORE_LAYER_DEB);
  assert_non_null(strstr(res.parts[0].path, "/blobs/sha256/"));
  cleanup_free char *version = strdup(res.pin);
  core_digest digest = res.parts[0].digest;
  core_resolved_release(&res);
  core_buf text = CORE_BUF_INIT;
  assert_int_equal(core_read_file(f->lock, &text, &err), 0);
  assert_non_null(strstr((char *)text.data, "\"deb\": \"busybox-static\""));
  assert_non_null(strstr((char *)text.data, digest.str));
  assert_non_null(strstr((char *)text.data, version));
  core_buf_release(&text);

  /* Locked and offline with a warm store: the same bytes, and apt is never run. */
  o.locked = 1;
  o.offline = 1;
  cleanup_free char *saved_path = strdup(getenv("PATH"));
  setenv("PATH", "/nonexistent", 1);
  int rc = resolve_one(f, &o, &s, &res, &err);
  setenv("PATH", saved_path, 1);
  if (rc < 0) fail_msg("%s", err->msg);
  assert_string_equal(res.parts[0].digest.str, digest.str);
  assert_int_equal(core_resolved_recheck(&res, &err), 0);
  core_resolved_release(&res);

  /* --locked when app.yml no longer names the package: the change is named, nothing written. */
  struct stat before, after;
  stat(f->lock, &before);
  {
    cleanup_resolver core_resolver *r = NULL;
    assert_int_equal(core_resolver_new(&f->cfg, &o, &r, &err), 0);
    assert_int_equal(core_resolver_finish(r, &err), -1);
    assert_non_null(strstr(err->msg, "remove deb {\"deb\":\"busybox-static\"}"));
    core_error_freep(&err);
  }
  stat(f->lock, &after);
  assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
  /* Without --locked the unused entry is dropped. */
  o.locked = 0;
  {
    cleanup_resolver core_resolver *r = NULL;
    assert_int_equal(core_resolver_new(&f->cfg, &o, &r, &err), 0);
    assert_int_equal(core_resolver_finish(r, &err), 0);
  }
  assert_int_equal(core_read_file(f->lock, &text, &err), 0);
  assert_null(strstr((char *)text.data, "busybox"));
  core_buf_release(&text);
}

static void write_lock(fixture *f, const char *text) {
  core_error *err = NULL;
  assert_int_equal(core_write_file_atomic(f->lock, text, strlen(text), 0644, &err), 0);
}

static void test_url_pins(void **state) {
  fixture *f = *state;
  core_source s = source(f, CORE_SOURCE_URL);
  s.url = "http://127.0.0.1:9/x.tar";
  core_resolve_opts o = {.store_dir = f->store, .offline = 1};
  core_error *err = NULL;
  core_resolved res;
  assert_int_equal(resolve_one(f, &o, &s, &res, &err), -1);
  assert_non_null(strstr(err->msg, "is not pinned"));
  assert_non_null(strstr(err->msg, "sha256"));
  core_error_freep(&err);
  core_resolved_release(&res);
  const char *a = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  const char *b = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
  write_lock(f, "{\"version\":1,\"sources\":[{\"kind\":\"url\",\"source\":{\"url\":\"http://127.0.0.1:9/x.tar\"},"
                "\"pin\":{\"sha256\":\"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}}]}");
  s.sha256 = (char *)a;
  assert_int_equal(resolve_one(f, &o, &s, &res, &err), -1);
  assert_non_null(strstr(err->msg, a));
  assert_non_null(strstr(err->msg, b));
  core_error_freep(&err);
  core_resolved_release(&res);
  /* Pinned by the lock only, blob in the store: no network needed (the URL is a closed port). */
  core_store *st = NULL;
  assert_int_equal(core_store_open(f->store, &st, &err), 0);
  core_digest d;
  assert_int_equal(core_store_put(st, "payload", 7, &d, &err), 0);
  core_store_close(st);
  cleanup_free char *lock = NULL;
  assert_true(asprintf(&lock,
                       "{\"version\":1,\"sources\":[{\"kind\":\"url\",\"source\":{\"url\":\"http://127.0.0.1:9/x.tar\"},"
                       "\"pin\":{\"sha256\":\"%s\"}}]}",
                       d.str) > 0);
  write_lock(f, lock);
  s.sha256 = NULL;
  o.locked = 1;
  if (resolve_one(f, &o, &s, &res, &err) < 0) fail_msg("%s", err->msg);
  assert_string_equal(res.pin, d.str);
  assert_int_equal(res.parts[0].format, CORE_LAYER_TAR);
  assert_int_equal(res.parts[0].size, 7);
  core_resolved_release(&res);
}

static void test_git_ref(void **state) {
  fixture *f = *state;
  if (system("command -v git >/dev/null") != 0) fail_msg("git is not installed: apt-get install git");
  cleanup_free char *cmd = NULL;
  assert_true(asprintf(&cmd,
                       "set -e; cd '%s'; git init -q -b main repo; cd repo; echo hi > a; git add a; "
                       "git -c user.name=t -c user.email=t@t commit -q -m one",
                       f->dir) > 0);
  assert_int_equal(system(cmd), 0);
  cleanup_free char *url = NULL;
  assert_true(asprintf(&url, "file://%s/repo", f->dir) > 0);
  core_source s = source(f, CORE_SOURCE_GIT);
  s.url = url;
  s.ref = "main";
  s.path = "";
  core_resolve_opts o = {.store_dir = f->store};
  core_error *err = NULL;
  core_resolved res;
  if (resolve_one(f, &o, &s, &res, &err) < 0) fail_msg("%s", err->msg);
  assert_int_equal(strlen(res.pin), 40);
  cleanup_free char *first = strdup(res.pin);
  core_resolved_release(&res);
  /* A new commit on the branch: the lock keeps the build on the pinned one until updated. */
  free(cmd);
  assert_true(asprintf(&cmd, "set -e; cd '%s/repo'; echo two > a; git -c user.name=t -c user.email=t@t commit -qam two",
                       f->dir) > 0);
  assert_int_equal(system(cmd), 0);
  if (resolve_one(f, &o, &s, &res, &err) < 0) fail_msg("%s", err->msg);
  assert_string_equal(res.pin, first);
  core_resolved_release(&res);
  o.locked = 1;
  o.update_lock = 1;
  assert_int_equal(resolve_one(f, &o, &s, &res, &err), -1);
  assert_non_null(strstr(err->msg, "change git"));
  core_error_freep(&err);
  core_resolved_release(&res);
  o.locked = 0;
  if (resolve_one(f, &o, &s, &res, &err) < 0) fail_msg("%s", err->msg);
  assert_string_not_equal(res.pin, first);
  core_resolved_release(&res);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_local, setup, teardown),
      cmocka_unit_test_setup_teardown(test_url_pins, setup, teardown),
      cmocka_unit_test_setup_teardown(test_git_ref, setup, teardown),
      cmocka_unit_test_setup_teardown(test_deb_lock_cycle, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_blob_named_at_source, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
