/* Unit tests for the TIM writer (linker/tim_write.c) and reader (lib/tim_read.c): a round
 * trip, byte-for-byte determinism, and the reader refusing corrupted, truncated and foreign
 * archives. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "tmpdir.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "oci.h"
#include "tim_read.h"
#include "tim_write.h"

#define INDEX_JSON "{\"schemaVersion\":2,\"manifests\":[]}"

static const char *const blob_texts[] = {
    "first blob: a manifest, say",
    "second blob, a little longer than the first one so sizes differ",
    "", /* an empty blob is a blob too */
};
#define N_BLOBS (sizeof blob_texts / sizeof *blob_texts)

static void set_text(core_buf *b, const char *text) {
  core_error *err = NULL;
  *b = (core_buf)CORE_BUF_INIT;
  assert_int_equal(core_buf_append(b, text, strlen(text), &err), 0);
}

/* Builds the set in the given order, returning each text's digest in digests[]. */
static void make_blobs(core_blob_set *set, const size_t *order, core_digest digests[N_BLOBS]) {
  core_error *err = NULL;
  *set = (core_blob_set){NULL, 0};
  for (size_t k = 0; k < N_BLOBS; k++) {
    size_t i = order[k];
    core_buf b;
    set_text(&b, blob_texts[i]);
    assert_int_equal(core_blob_set_add(set, &b, &digests[i], &err), 0);
    assert_null(b.data); /* ownership moved into the set */
  }
  assert_int_equal(set->n, N_BLOBS);
}

static void write_tim(const char *path, const size_t *order) {
  core_blob_set set;
  core_digest digests[N_BLOBS];
  make_blobs(&set, order, digests);
  core_buf index;
  set_text(&index, INDEX_JSON);
  core_error *err = NULL;
  int rc = core_tim_write(path, &index, &set, &err);
  if (rc != 0) fail_msg("writing '%s': %s", path, err->msg);
  core_buf_release(&index);
  core_blob_set_release(&set);
}

static void read_file(const char *path, core_buf *out) {
  core_error *err = NULL;
  if (core_read_file(path, out, &err) != 0) fail_msg("%s", err->msg);
}

static void write_bytes(const char *path, const void *data, size_t len) {
  core_error *err = NULL;
  if (core_write_file_atomic(path, data, len, 0644, &err) != 0) fail_msg("%s", err->msg);
}

/* Expects core_tim_read to fail with a message containing want. */
static void expect_read_error(const char *path, const char *want) {
  core_error *err = NULL;
  core_tim *tim = NULL;
  assert_int_equal(core_tim_read(path, &tim, &err), -1);
  assert_null(tim);
  assert_non_null(err);
  if (want && strstr(err->msg, want) == NULL) fail_msg("message '%s' does not mention '%s'", err->msg, want);
  core_error_free(err);
}

static const size_t forward[N_BLOBS] = {0, 1, 2};
static const size_t backward[N_BLOBS] = {2, 1, 0};

static void test_round_trip(void **state) {
  const char *dir = *state;
  char path[256];
  snprintf(path, sizeof path, "%s/app.tim", dir);
  write_tim(path, forward);

  core_digest digests[N_BLOBS];
  core_error *err = NULL;
  for (size_t i = 0; i < N_BLOBS; i++)
    assert_int_equal(core_digest_bytes(blob_texts[i], strlen(blob_texts[i]), &digests[i], &err), 0);

  core_tim *tim = NULL;
  int rc = core_tim_read(path, &tim, &err);
  if (rc != 0) fail_msg("%s", err->msg);
  assert_int_equal(tim->n_blobs, N_BLOBS);
  assert_int_equal(tim->index_json.len, strlen(INDEX_JSON));
  assert_memory_equal(tim->index_json.data, INDEX_JSON, tim->index_json.len);
  for (size_t i = 0; i < N_BLOBS; i++) {
    core_tim_blob *b = core_tim_find(tim, &digests[i]);
    assert_non_null(b);
    assert_string_equal(b->digest.str, digests[i].str);
    assert_int_equal(b->size, strlen(blob_texts[i]));
    char data[256] = {0};
    assert_int_equal(pread(b->fd, data, sizeof data, 0), (ssize_t)b->size);
    assert_memory_equal(data, blob_texts[i], b->size);
    /* The memfd is sealed: what was checked cannot change. */
    assert_int_equal(pwrite(b->fd, "x", 1, 0), -1);

    core_buf loaded = CORE_BUF_INIT;
    assert_int_equal(core_tim_blob_load(tim, &digests[i], b->size, &loaded, &err), 0);
    assert_int_equal(loaded.len, b->size);
    if (loaded.len) assert_memory_equal(loaded.data, blob_texts[i], loaded.len);
    core_buf_release(&loaded);
  }
  /* A size that disagrees with the descriptor is refused. */
  assert_int_equal(core_tim_blob_load(tim, &digests[0], strlen(blob_texts[0]) + 1, &(core_buf)CORE_BUF_INIT, &err), -1);
  assert_non_null(strstr(err->msg, "descriptor"));
  core_error_free(err);
  err = NULL;

  core_digest absent;
  assert_int_equal(core_digest_bytes("absent", 6, &absent, &err), 0);
  assert_null(core_tim_find(tim, &absent));
  assert_int_equal(core_tim_blob_load(tim, &absent, 6, &(core_buf)CORE_BUF_INIT, &err), -1);
  assert_non_null(strstr(err->msg, "missing"));
  core_error_free(err);
  core_tim_free(tim);
}

static void test_tar_layout(void **state) {
  const char *dir = *state;
  char path[256];
  snprintf(path, sizeof path, "%s/app.tim", dir);
  write_tim(path, backward);

  /* Fixed order: layout, index, directories, then blobs sorted by digest; fixed owners and times. */
  struct archive *a = archive_read_new();
  archive_read_support_format_tar(a);
  assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
  struct archive_entry *e;
  const char *names[16];
  size_t n = 0;
  char *saved[16];
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    assert_true(n < 16);
    saved[n] = strdup(archive_entry_pathname(e));
    names[n] = saved[n];
    assert_int_equal(archive_entry_uid(e), 0);
    assert_int_equal(archive_entry_gid(e), 0);
    assert_int_equal(archive_entry_mtime(e), 0);
    assert_int_equal(archive_entry_perm(e), archive_entry_filetype(e) == AE_IFDIR ? 0755 : 0644);
    n++;
  }
  archive_read_free(a);
  assert_int_equal(n, 4 + N_BLOBS);
  assert_string_equal(names[0], "oci-layout");
  assert_string_equal(names[1], "index.json");
  assert_string_equal(names[2], "blobs/");
  assert_string_equal(names[3], "blobs/sha256/");
  for (size_t i = 4; i < n; i++) {
    assert_int_equal(strncmp(names[i], "blobs/sha256/", 13), 0);
    assert_int_equal(strlen(names[i]), 13 + 64);
    if (i > 4) assert_true(strcmp(names[i - 1], names[i]) < 0);
  }
  for (size_t i = 0; i < n; i++) free(saved[i]);
}

static void test_deterministic(void **state) {
  const char *dir = *state;
  char a_path[256], b_path[256];
  snprintf(a_path, sizeof a_path, "%s/a.tim", dir);
  snprintf(b_path, sizeof b_path, "%s/b.tim", dir);
  /* The order blobs were added in must not matter either. */
  write_tim(a_path, forward);
  write_tim(b_path, backward);
  core_buf a = CORE_BUF_INIT, b = CORE_BUF_INIT;
  read_file(a_path, &a);
  read_file(b_path, &b);
  assert_true(a.len > 0);
  assert_int_equal(a.len % 512, 0);
  assert_int_equal(a.len, b.len);
  assert_memory_equal(a.data, b.data, a.len);
  core_buf_release(&b);

  /* Writing over an existing file gives the same bytes again. */
  write_tim(a_path, backward);
  read_file(a_path, &b);
  assert_int_equal(a.len, b.len);
  assert_memory_equal(a.data, b.data, a.len);
  core_buf_release(&a);
  core_buf_release(&b);
}

static void test_no_temp_files_left(void **state) {
  const char *dir = *state;
  char path[256];
  snprintf(path, sizeof path, "%s/app.tim", dir);
  write_tim(path, forward);
  write_tim(path, forward);
  DIR *d = opendir(dir);
  assert_non_null(d);
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    if (strcmp(de->d_name, "app.tim") != 0) fail_msg("unexpected file '%s' next to the output", de->d_name);
    n++;
  }
  closedir(d);
  assert_int_equal(n, 1);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0644);
}

static void test_write_failure_leaves_nothing(void **state) {
  const char *dir = *state;
  char path[256];
  snprintf(path, sizeof path, "%s/missing-dir/app.tim", dir);
  core_blob_set set = {NULL, 0};
  core_buf index;
  set_text(&index, INDEX_JSON);
  core_error *err = NULL;
  assert_int_equal(core_tim_write(path, &index, &set, &err), -1);
  assert_non_null(err);
  assert_non_null(strstr(err->msg, path));
  core_error_free(err);
  core_buf_release(&index);
  assert_int_equal(access(path, F_OK), -1);
}

static void test_blob_set_dedupes(void **state) {
  (void)state;
  core_error *err = NULL;
  core_blob_set set = {NULL, 0};
  core_digest d1, d2, d3;
  core_buf b;
  set_text(&b, "same");
  assert_int_equal(core_blob_set_add(&set, &b, &d1, &err), 0);
  set_text(&b, "same");
  assert_int_equal(core_blob_set_add(&set, &b, &d2, &err), 0);
  assert_null(b.data); /* the duplicate was freed, not leaked or kept */
  set_text(&b, "different");
  assert_int_equal(core_blob_set_add(&set, &b, &d3, &err), 0);
  assert_int_equal(set.n, 2);
  assert_string_equal(d1.str, d2.str);
  assert_string_not_equal(d1.str, d3.str);
  assert_string_equal(set.blobs[0].digest.str, d1.str);
  assert_string_equal(set.blobs[1].digest.str, d3.str);
  assert_memory_equal(set.blobs[0].data.data, "same", 4);
  core_blob_set_release(&set);
  assert_int_equal(set.n, 0);
  assert_null(set.blobs);
}

static void test_corrupted_blob(void **state) {
  const char *dir = *state;
  char path[256];
  snprintf(path, sizeof path, "%s/app.tim", dir);
  write_tim(path, forward);
  core_buf file = CORE_BUF_INIT;
  read_file(path, &file);
  const char *needle = blob_texts[1];
  uint8_t *at = memmem(file.data, file.len, needle, strlen(needle));
  assert_non_null(at);
  at[10] ^= 0x20;
  write_bytes(path, file.data, file.len);
  core_buf_release(&file);
  expect_read_error(path, "does not match");
}

static void test_truncated(void **state) {
  const char *dir = *state;
  char path[256];
  snprintf(path, sizeof path, "%s/app.tim", dir);
  write_tim(path, forward);
  core_buf file = CORE_BUF_INIT;
  read_file(path, &file);
  size_t full = file.len;
  assert_int_equal(full % 512, 0);
  /* Every cut fails: inside a header, inside data, and at each 512-byte block boundary,
   * which is where a clean entry boundary or the end-of-archive marker is lost. */
  for (size_t cut = 0; cut < full; cut += cut % 512 ? 512 - cut % 512 : 100) {
    write_bytes(path, file.data, cut);
    core_error *err = NULL;
    core_tim *tim = NULL;
    if (core_tim_read(path, &tim, &err) == 0) fail_msg("a copy cut at %zu of %zu bytes was accepted", cut, full);
    assert_null(tim);
    assert_non_null(err);
    core_error_free(err);
  }
  /* Without the end-of-archive marker, the message says what is wrong. */
  write_bytes(path, file.data, full - 1024);
  expect_read_error(path, "truncated");
  core_buf_release(&file);
}

typedef struct entry {
  const char *name;
  int type;
  const char *data;
} entry;

/* Writes a ustar archive of the given entries with libarchive, independently of the writer. */
static void write_tar(const char *path, const entry *entries, size_t n) {
  struct archive *a = archive_write_new();
  struct archive_entry *e = archive_entry_new();
  assert_int_equal(archive_write_set_format_ustar(a), ARCHIVE_OK);
  assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
  for (size_t i = 0; i < n; i++) {
    archive_entry_clear(e);
    archive_entry_set_pathname(e, entries[i].name);
    archive_entry_set_filetype(e, (unsigned)entries[i].type);
    archive_entry_set_perm(e, 0644);
    size_t len = entries[i].type == AE_IFREG && entries[i].data ? strlen(entries[i].data) : 0;
    if (entries[i].type == AE_IFLNK) archive_entry_set_symlink(e, entries[i].data);
    archive_entry_set_size(e, (la_int64_t)len);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    if (len) assert_int_equal(archive_write_data(a, entries[i].data, len), (la_ssize_t)len);
  }
  assert_int_equal(archive_write_close(a), ARCHIVE_OK);
  archive_entry_free(e);
  archive_write_free(a);
}

static void test_foreign_tars(void **state) {
  const char *dir = *state;
  char path[256];
  snprintf(path, sizeof path, "%s/foreign.tim", dir);

  /* First, a hand-made archive the reader does accept, so the refusals below are for
   * the one thing each changes. */
  const entry good[] = {{"oci-layout", AE_IFREG, OCI_LAYOUT_FILE}, {"index.json", AE_IFREG, INDEX_JSON}};
  write_tar(path, good, 2);
  core_error *err = NULL;
  core_tim *tim = NULL;
  int rc = core_tim_read(path, &tim, &err);
  if (rc != 0) fail_msg("%s", err->msg);
  assert_int_equal(tim->n_blobs, 0);
  core_tim_free(tim);

  const entry extra[] = {{"oci-layout", AE_IFREG, OCI_LAYOUT_FILE},
                         {"index.json", AE_IFREG, INDEX_JSON},
                         {"notes.txt", AE_IFREG, "hello"}};
  write_tar(path, extra, 3);
  expect_read_error(path, "unexpected entry 'notes.txt'");

  const entry link[] = {{"oci-layout", AE_IFREG, OCI_LAYOUT_FILE},
                        {"index.json", AE_IFREG, INDEX_JSON},
                        {"blobs/sha256/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", AE_IFLNK,
                         "/etc/passwd"}};
  write_tar(path, link, 3);
  expect_read_error(path, "not a regular file");

  const entry bad_name[] = {{"oci-layout", AE_IFREG, OCI_LAYOUT_FILE},
                            {"index.json", AE_IFREG, INDEX_JSON},
                            {"blobs/sha256/E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", AE_IFREG, ""}};
  write_tar(path, bad_name, 3);
  expect_read_error(path, "unexpected entry");

  const entry twice[] = {{"oci-layout", AE_IFREG, OCI_LAYOUT_FILE},
                         {"index.json", AE_IFREG, INDEX_JSON},
                         {"blobs/sha256/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", AE_IFREG, ""},
                         {"blobs/sha256/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", AE_IFREG, ""}};
  write_tar(path, twice, 4);
  expect_read_error(path, "appears twice");

  const entry no_layout[] = {{"index.json", AE_IFREG, INDEX_JSON}};
  write_tar(path, no_layout, 1);
  expect_read_error(path, "oci-layout");

  const entry no_index[] = {{"oci-layout", AE_IFREG, OCI_LAYOUT_FILE}};
  write_tar(path, no_index, 1);
  expect_read_error(path, "index.json");

  const entry bad_layout[] = {{"oci-layout", AE_IFREG, "{}"}, {"index.json", AE_IFREG, INDEX_JSON}};
  write_tar(path, bad_layout, 2);
  expect_read_error(path, "imageLayoutVersion");

  write_bytes(path, "this is not a tar archive at all\n", 33);
  expect_read_error(path, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_round_trip, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_tar_layout, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_deterministic, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_no_temp_files_left, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_write_failure_leaves_nothing, make_tmpdir, remove_tmpdir),
      cmocka_unit_test(test_blob_set_dedupes),
      cmocka_unit_test_setup_teardown(test_corrupted_blob, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_truncated, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_foreign_tars, make_tmpdir, remove_tmpdir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
