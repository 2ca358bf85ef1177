/* Unit tests for cmd/corec_link_cache.c (hostile entries; save and load through a store; a
 * damaged blob refused) and the stat cache of compiler/store.c that keeps no-op builds cheap. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "tmpdir.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "corec_link_cache.h"
#include "store.h"
#include "store_admin.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static void entry_parse(void **state) {
  (void)state;
  const char *good = "{\"format\":1,\"manifest\":\"" D2 "\",\"blobs\":[{\"digest\":\"" D1 "\",\"size\":5},{\"digest\":\"" D2
                     "\",\"size\":7}],\"warnings\":\"w\\n\"}";
  core_link_entry e;
  core_error *err = NULL;
  assert_int_equal(core_link_entry_parse(good, strlen(good), &e, &err), 0);
  assert_int_equal(e.n_blobs, 2);
  assert_string_equal(e.manifest.str, D2);
  assert_int_equal(e.sizes[1], 7);
  assert_string_equal(e.warnings, "w\n");
  core_link_entry_release(&e);

  static const char *const bad[] = {
      "",
      "null",
      "{\"format\":2,\"manifest\":\"" D1 "\",\"blobs\":[{\"digest\":\"" D1 "\",\"size\":1}]}",
      "{\"format\":1,\"manifest\":\"sha256:12\",\"blobs\":[{\"digest\":\"" D1 "\",\"size\":1}]}",
      "{\"format\":1,\"manifest\":\"" D2 "\",\"blobs\":[{\"digest\":\"" D1 "\",\"size\":1}]}", /* manifest not listed */
      "{\"format\":1,\"manifest\":\"" D1 "\",\"blobs\":[]}",
      "{\"format\":1,\"manifest\":\"" D1 "\",\"blobs\":{}}",
      "{\"format\":1,\"manifest\":\"" D1 "\",\"blobs\":[{\"digest\":\"" D1 "\",\"size\":-1}]}",
      "{\"format\":1,\"manifest\":\"" D1 "\",\"blobs\":[{\"digest\":\"" D1 "\"}]}",
      "{\"format\":1,\"manifest\":\"" D1 "\",\"blobs\":[{\"digest\":\"" D1 "\",\"size\":1},{\"digest\":\"" D1 "\",\"size\":1}]}",
      "{\"format\":1,\"manifest\":\"" D1 "\",\"blobs\":[{\"digest\":\"" D1 "\",\"size\":1}],\"warnings\":3}",
      "{\"format\":1,\"manifest\":\"" D1 "\",\"manifest\":\"" D1 "\",\"blobs\":[{\"digest\":\"" D1 "\",\"size\":1}]}",
      "{\"format\":1,\"manifest\":\"" D1 "\",\"blobs\":[{\"digest\":\"../../x\",\"size\":1}]}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (core_link_entry_parse(bad[i], strlen(bad[i]), &e, &err) != -1) fail_msg("entry %zu was accepted: %s", i, bad[i]);
    assert_non_null(err);
    core_error_freep(&err);
  }
  /* Too many blobs, and too many bytes, are refused before anything is built for them. */
  cleanup_buf core_buf many = CORE_BUF_INIT;
  assert_int_equal(core_buf_appendf(&many, &err, "{\"format\":1,\"manifest\":\"%s\",\"blobs\":[", D1), 0);
  for (int i = 0; i <= CORE_LINK_ENTRY_MAX_BLOBS; i++)
    assert_int_equal(core_buf_appendf(&many, &err, "%s{\"digest\":\"%s\",\"size\":1}", i ? "," : "", D1), 0);
  assert_int_equal(core_buf_append(&many, "]}", 2, &err), 0);
  assert_int_equal(core_link_entry_parse(many.data, many.len, &e, &err), -1);
  core_error_freep(&err);
  assert_int_equal(core_link_entry_parse("{}", (size_t)CORE_LINK_ENTRY_MAX_BYTES + 1, &e, &err), -1);
  assert_non_null(strstr(err->msg, "over the limit"));
  core_error_freep(&err);
}

static core_store *open_store(void) {
  core_store *s = NULL;
  core_error *err = NULL;
  assert_int_equal(core_store_open("store", &s, &err), 0);
  return s;
}

/* A linked app of three blobs (the last one its manifest). */
static void small_app(core_linked_app *app) {
  memset(app, 0, sizeof *app);
  static const char *const texts[] = {"kernel bytes", "initramfs bytes", "{\"manifest\":1}"};
  core_error *err = NULL;
  for (size_t i = 0; i < 3; i++) {
    core_buf b = CORE_BUF_INIT;
    assert_int_equal(core_buf_append(&b, texts[i], strlen(texts[i]), &err), 0);
    assert_int_equal(core_blob_set_add(&app->blobs, &b, &app->manifest, &err), 0);
    app->manifest_size = strlen(texts[i]);
  }
  app->name = strdup("app");
}

static void save_and_load(void **state) {
  (void)state;
  cleanup_store core_store *s = open_store();
  cleanup_linked_app core_linked_app app;
  small_app(&app);
  core_digest key;
  core_error *err = NULL;
  assert_int_equal(core_digest_bytes("key", 3, &key, &err), 0);
  cleanup_free char *w = NULL, *why = NULL;
  {
    cleanup_linked_app core_linked_app miss = {0};
    assert_int_equal(core_link_cache_load(s, &key, "app", &miss, &w, &why, &err), 0);
    assert_null(why);
  }
  assert_int_equal(core_link_cache_save(s, &key, &app, "a warning\n", &err), 0);
  {
    cleanup_linked_app core_linked_app hit = {0};
    assert_int_equal(core_link_cache_load(s, &key, "app", &hit, &w, &why, &err), 1);
    assert_int_equal(hit.blobs.n, 3);
    assert_string_equal(hit.manifest.str, app.manifest.str);
    assert_int_equal(hit.manifest_size, app.manifest_size);
    assert_string_equal(hit.name, "app");
    assert_string_equal(w, "a warning\n");
    for (size_t i = 0; i < 3; i++) {
      assert_string_equal(hit.blobs.blobs[i].digest.str, app.blobs.blobs[i].digest.str);
      assert_memory_equal(hit.blobs.blobs[i].data.data, app.blobs.blobs[i].data.data, app.blobs.blobs[i].data.len);
    }
  }
  free(w);
  w = NULL;
  /* One blob damaged (same size): refused, the entry and the blob removed. */
  cleanup_free char *blob = core_store_blob_path(s, &app.blobs.blobs[1].digest);
  chmod(blob, 0644);
  int fd = open(blob, O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, "I", 1, 0), 1);
  close(fd);
  {
    cleanup_linked_app core_linked_app refused = {0};
    assert_int_equal(core_link_cache_load(s, &key, "app", &refused, &w, &why, &err), 0);
    assert_null(err);
    assert_non_null(why);
    assert_non_null(strstr(why, "no longer matches its digest"));
    assert_int_equal(refused.blobs.n, 0);
    assert_int_equal(access(blob, F_OK), -1);
    size_t n = 1;
    assert_int_equal(core_link_cache_count(s, &n, &err), 0);
    assert_int_equal(n, 0);
  }
  free(why);
  why = NULL;
  /* A blob gone (gc): prune removes the entry that names it. */
  assert_int_equal(core_link_cache_save(s, &key, &app, NULL, &err), 0);
  size_t removed = 9;
  assert_int_equal(core_link_cache_prune(s, &removed, &err), 0);
  assert_int_equal(removed, 0);
  assert_int_equal(core_store_remove(s, &app.blobs.blobs[0].digest, &err), 0);
  assert_int_equal(core_link_cache_prune(s, &removed, &err), 0);
  assert_int_equal(removed, 1);
}

static void stat_cache(void **state) {
  (void)state;
  cleanup_store core_store *s = open_store();
  core_error *err = NULL;
  assert_int_equal(core_write_file_atomic("f", "hello", 5, 0644, &err), 0);
  core_digest d, hello;
  uint64_t size = 0;
  assert_int_equal(core_digest_bytes("hello", 5, &hello, &err), 0);
  /* A file just written is hashed, never remembered (a write in the same tick would not show). */
  assert_int_equal(core_store_file_digest(s, "f", &d, &size, &err), 0);
  assert_string_equal(d.str, hello.str);
  assert_int_equal(size, 5);
  size_t entries = 0;
  cleanup_free char *dir = NULL;
  assert_int_equal(core_store_cache_dir(s, "stat", &dir, &err), 0);
  assert_int_equal(access(dir, F_OK), 0);
  FILE *ls = NULL;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "ls '%s' | wc -l", dir);
  assert_non_null(ls = popen(cmd, "r"));
  assert_int_equal(fscanf(ls, "%zu", &entries), 1);
  pclose(ls);
  assert_int_equal(entries, 0);
  sleep(3); /* settled: now it is remembered */
  assert_int_equal(core_store_file_digest(s, "f", &d, &size, &err), 0);
  assert_non_null(ls = popen(cmd, "r"));
  assert_int_equal(fscanf(ls, "%zu", &entries), 1);
  pclose(ls);
  assert_int_equal(entries, 1);
  /* The remembered digest is used while every field matches: an entry changed by hand to
   * another digest shows it is really read (and a garbled one is ignored). */
  snprintf(cmd, sizeof cmd, "sed -i 's/%s/%s/' '%s'/*", hello.str + 7, D1 + 7, dir);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(core_store_file_digest(s, "f", &d, &size, &err), 0);
  assert_string_equal(d.str, D1);
  snprintf(cmd, sizeof cmd, "sed -i 's/core-stat-v1/core-stat-v9/' '%s'/*", dir);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(core_store_file_digest(s, "f", &d, &size, &err), 0);
  assert_string_equal(d.str, hello.str);
  /* The same size, the old modification time put back: the ctime still changed, so the file
   * is hashed again. */
  struct stat st;
  assert_int_equal(stat("f", &st), 0);
  sleep(3);
  assert_int_equal(core_store_file_digest(s, "f", &d, &size, &err), 0); /* remembered again */
  int fd = open("f", O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, "jello", 5, 0), 5);
  close(fd);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  assert_int_equal(utimensat(AT_FDCWD, "f", times, 0), 0);
  core_digest jello;
  assert_int_equal(core_digest_bytes("jello", 5, &jello, &err), 0);
  assert_int_equal(core_store_file_digest(s, "f", &d, &size, &err), 0);
  assert_string_equal(d.str, jello.str);
  /* Without a store, just the hash. */
  assert_int_equal(core_store_file_digest(NULL, "f", &d, &size, &err), 0);
  assert_string_equal(d.str, jello.str);
  assert_int_equal(core_store_file_digest(s, "missing", &d, &size, &err), -1);
  core_error_freep(&err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(entry_parse),
      cmocka_unit_test_setup_teardown(save_and_load, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(stat_cache, enter_tmpdir, leave_tmpdir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
