/* Unit tests for the TIM format (lib/tim_format.c), writer (linker/tim_write.c) and reader
 * (lib/tim_read.c, lib/tim_tar.c): the canonical header's bytes, a round trip, byte-for-byte
 * determinism, and the reader refusing corrupted, truncated, oversized and foreign archives. */
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
#include <sys/mman.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "oci.h"
#include "tim_format.h"
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

/* A file-backed blob is written as the same bytes as the one in memory, and its fd is owned
 * by the set: a duplicate's is closed at once. */
static void test_fd_blob(void **state) {
  const char *dir = *state;
  core_error *err = NULL;
  static const char text[] = "a blob in a file, as the initramfs is";
  char a[256], b[256];
  snprintf(a, sizeof a, "%s/mem.tim", dir);
  snprintf(b, sizeof b, "%s/fd.tim", dir);
  core_buf index, mem;
  set_text(&index, INDEX_JSON);
  core_blob_set s1 = {NULL, 0}, s2 = {NULL, 0};
  core_digest d;
  set_text(&mem, text);
  assert_int_equal(core_blob_set_add(&s1, &mem, &d, &err), 0);
  int fd = memfd_create("blob", MFD_CLOEXEC);
  assert_true(fd >= 0);
  assert_int_equal(core_write_all(fd, text, strlen(text), &err), 0);
  assert_int_equal(core_blob_set_add_fd(&s2, fd, strlen(text), &d, &err), 0);
  int dup_fd = memfd_create("dup", MFD_CLOEXEC);
  assert_int_equal(core_blob_set_add_fd(&s2, dup_fd, 0, &d, &err), 0);
  assert_int_equal(s2.n, 1);
  assert_int_equal(fcntl(dup_fd, F_GETFD), -1); /* closed: the set took it */
  assert_int_equal(core_tim_write(a, &index, &s1, &err), 0);
  assert_int_equal(core_tim_write(b, &index, &s2, &err), 0);
  core_buf x = CORE_BUF_INIT, y = CORE_BUF_INIT;
  assert_int_equal(core_read_file(a, &x, &err), 0);
  assert_int_equal(core_read_file(b, &y, &err), 0);
  assert_int_equal(x.len, y.len);
  assert_memory_equal(x.data, y.data, x.len);
  core_buf whole = CORE_BUF_INIT;
  assert_int_equal(core_blob_read(&s2.blobs[0], &whole, &err), 0);
  assert_int_equal(whole.len, strlen(text));
  assert_memory_equal(whole.data, text, whole.len);
  /* A file shorter than the size it was added with is an error, not a short entry. */
  core_blob_set s3 = {NULL, 0};
  int short_fd = memfd_create("short", MFD_CLOEXEC);
  assert_int_equal(core_write_all(short_fd, text, 3, &err), 0);
  assert_int_equal(core_blob_set_add_fd(&s3, short_fd, strlen(text), &d, &err), 0);
  assert_int_equal(core_tim_write(b, &index, &s3, &err), -1);
  core_error_freep(&err);
  core_blob_set_release(&s1);
  core_blob_set_release(&s2);
  core_blob_set_release(&s3);
  core_buf_release(&x);
  core_buf_release(&y);
  core_buf_release(&whole);
  core_buf_release(&index);
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

/* The known bytes of two headers from a TIM written before lib/tim_format.c existed (by
 * libarchive's ustar writer): the format must not change under the files already out there. */
static void test_header_bytes(void **state) {
  (void)state;
  core_error *err = NULL;
  uint8_t h[CORE_TAR_BLOCK], want[CORE_TAR_BLOCK] = {0};
  assert_int_equal(core_tar_header(h, "oci-layout", CORE_TAR_FILE, 30, &err), 0);
  memcpy(want, "oci-layout", 10);
  memcpy(want + 100, "000644 \0" "000000 \0" "000000 \0" "00000000036 " "00000000000 " "011174\0 " "0", 57);
  memcpy(want + 257, "ustar\0" "00", 8);
  memcpy(want + 329, "000000 \0" "000000 \0", 16);
  assert_memory_equal(h, want, sizeof want);

  assert_int_equal(core_tar_header(h, "blobs/", CORE_TAR_DIR, 0, &err), 0);
  memset(want, 0, sizeof want);
  memcpy(want, "blobs/", 6);
  memcpy(want + 100, "000755 \0" "000000 \0" "000000 \0" "00000000000 " "00000000000 " "010266\0 " "5", 57);
  memcpy(want + 257, "ustar\0" "00", 8);
  memcpy(want + 329, "000000 \0" "000000 \0", 16);
  assert_memory_equal(h, want, sizeof want);

  /* The largest size ustar holds, and nothing past it or that the format cannot say. */
  assert_int_equal(core_tar_header(h, "index.json", CORE_TAR_FILE, CORE_TAR_MAX_SIZE, &err), 0);
  assert_memory_equal(h + 124, "77777777777 ", 12);
  const struct {
    const char *name;
    core_tar_type type;
    uint64_t size;
    const char *msg;
  } bad[] = {
      {"index.json", CORE_TAR_FILE, CORE_TAR_MAX_SIZE + 1, "more than ustar can hold"},
      {"blobs/", CORE_TAR_DIR, 1, "cannot have data"},
      {"", CORE_TAR_FILE, 0, "does not fit"},
      {"x", (core_tar_type)'1', 0, "only regular files and directories"},
      {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", CORE_TAR_FILE,
       0, "does not fit"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_int_equal(core_tar_header(h, bad[i].name, bad[i].type, bad[i].size, &err), -1);
    if (strstr(err->msg, bad[i].msg) == NULL) fail_msg("'%s' does not say '%s'", err->msg, bad[i].msg);
    core_error_freep(&err);
  }
  assert_string_equal(core_tar_field_name(0), "name");
  assert_string_equal(core_tar_field_name(130), "size");
  assert_string_equal(core_tar_field_name(154), "checksum");
  assert_string_equal(core_tar_field_name(300), "gname");
}

/* Another tar reader (libarchive) reads the header as the entry it describes. */
static void test_header_read_by_libarchive(void **state) {
  (void)state;
  core_error *err = NULL;
  uint8_t tar[4 * CORE_TAR_BLOCK] = {0};
  assert_int_equal(core_tar_header(tar, "blobs/sha256/x", CORE_TAR_FILE, 5, &err), 0);
  memcpy(tar + CORE_TAR_BLOCK, "hello", 5);
  struct archive *a = archive_read_new();
  archive_read_support_format_tar(a);
  assert_int_equal(archive_read_open_memory(a, tar, sizeof tar), ARCHIVE_OK);
  struct archive_entry *e;
  assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_OK);
  assert_string_equal(archive_entry_pathname(e), "blobs/sha256/x");
  assert_int_equal(archive_entry_size(e), 5);
  assert_int_equal(archive_entry_filetype(e), AE_IFREG);
  assert_int_equal(archive_entry_perm(e), 0644);
  assert_int_equal(archive_entry_uid(e), 0);
  assert_int_equal(archive_entry_mtime(e), 0);
  const char *uname = archive_entry_uname(e);
  assert_true(uname == NULL || uname[0] == 0);
  char data[8];
  assert_int_equal(archive_read_data(a, data, sizeof data), 5);
  assert_memory_equal(data, "hello", 5);
  assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_EOF);
  archive_read_free(a);
}

typedef struct entry {
  const char *name;
  int type;
  const char *data;
} entry;

/* Appends one entry to a tar in memory: a canonical header, or a raw one with another type. */
static void add_entry(core_buf *tar, const entry *en) {
  core_error *err = NULL;
  uint8_t h[CORE_TAR_BLOCK];
  size_t len = en->data ? strlen(en->data) : 0;
  int canonical = en->type == CORE_TAR_FILE || en->type == CORE_TAR_DIR;
  assert_int_equal(core_tar_header(h, en->name, canonical ? (core_tar_type)en->type : CORE_TAR_FILE, len, &err), 0);
  if (!canonical) { /* a foreign entry, with a valid checksum: refused for its type */
    h[156] = (uint8_t)en->type;
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < sizeof h; i++) sum += h[i];
    char chk[8];
    snprintf(chk, sizeof chk, "%06o", sum);
    memcpy(h + 148, chk, 7);
  }
  static const uint8_t zeros[CORE_TAR_BLOCK];
  assert_int_equal(core_buf_append(tar, h, sizeof h, &err), 0);
  if (len) assert_int_equal(core_buf_append(tar, en->data, len, &err), 0);
  assert_int_equal(core_buf_append(tar, zeros, core_tar_padding(len), &err), 0);
}

/* Writes the entries and, unless end is NULL, the given bytes after them (the end marker). */
static void write_tar(const char *path, const entry *entries, size_t n, const void *end, size_t end_len) {
  core_buf tar = CORE_BUF_INIT;
  core_error *err = NULL;
  for (size_t i = 0; i < n; i++) add_entry(&tar, &entries[i]);
  if (end_len) assert_int_equal(core_buf_append(&tar, end, end_len, &err), 0);
  write_bytes(path, tar.data, tar.len);
  core_buf_release(&tar);
}

static const uint8_t end_marker[2 * CORE_TAR_BLOCK];
#define LAYOUT {"oci-layout", CORE_TAR_FILE, OCI_LAYOUT_FILE}
#define INDEX {"index.json", CORE_TAR_FILE, INDEX_JSON}
#define DIRS {"blobs/", CORE_TAR_DIR, NULL}, {"blobs/sha256/", CORE_TAR_DIR, NULL}
#define EMPTY_BLOB "blobs/sha256/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define TAR(path, ...)                                                   \
  do {                                                                   \
    const entry es_[] = {__VA_ARGS__};                                   \
    write_tar(path, es_, sizeof es_ / sizeof *es_, end_marker, sizeof end_marker); \
  } while (0)

static void test_foreign_tars(void **state) {
  const char *dir = *state;
  char path[256];
  snprintf(path, sizeof path, "%s/foreign.tim", dir);

  /* First, a hand-made archive the reader does accept, so the refusals below are for
   * the one thing each changes. */
  TAR(path, LAYOUT, INDEX, DIRS, {EMPTY_BLOB, CORE_TAR_FILE, NULL});
  core_error *err = NULL;
  core_tim *tim = NULL;
  int rc = core_tim_read(path, &tim, &err);
  if (rc != 0) fail_msg("%s", err->msg);
  assert_int_equal(tim->n_blobs, 1);
  core_tim_free(tim);

  TAR(path, LAYOUT, INDEX, DIRS, {"notes.txt", CORE_TAR_FILE, "hello"});
  expect_read_error(path, "unexpected entry 'notes.txt'");
  TAR(path, LAYOUT, INDEX, DIRS, {EMPTY_BLOB, '2', NULL});
  expect_read_error(path, "is a symbolic link (type '2')");
  TAR(path, LAYOUT, INDEX, DIRS, {EMPTY_BLOB, '1', "data on a hard link"});
  expect_read_error(path, "is a hard link (type '1')");
  TAR(path, LAYOUT, INDEX, DIRS, {"blobs/sha256/E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", CORE_TAR_FILE, ""});
  expect_read_error(path, "unexpected entry");
  TAR(path, LAYOUT, INDEX, DIRS, {EMPTY_BLOB, CORE_TAR_FILE, NULL}, {EMPTY_BLOB, CORE_TAR_FILE, NULL});
  expect_read_error(path, "appears twice");
  TAR(path, INDEX, DIRS);
  expect_read_error(path, "is 'index.json', expected the file 'oci-layout'");
  TAR(path, LAYOUT);
  expect_read_error(path, "ends before its 'index.json' entry");
  TAR(path, LAYOUT, INDEX, DIRS, LAYOUT);
  expect_read_error(path, "unexpected entry 'oci-layout'");
  TAR(path, {"oci-layout", CORE_TAR_FILE, "{\"imageLayoutVersion\": \"1.0.0\"}"}, INDEX, DIRS);
  expect_read_error(path, "oci-layout is not");
  TAR(path, {"oci-layout", CORE_TAR_FILE, "{}"}, INDEX, DIRS);
  expect_read_error(path, "oci-layout is not");

  write_bytes(path, "this is not a tar archive at all\n", 33);
  expect_read_error(path, "not a TIM artifact");
  expect_read_error(dir, "is a directory");
  snprintf(path, sizeof path, "%s/absent.tim", dir);
  expect_read_error(path, "No such file or directory");
}

/* Sizes are believed only up to what the file holds; the end is two zero blocks, then EOF. */
static void test_sizes_and_end(void **state) {
  const char *dir = *state;
  char path[256];
  snprintf(path, sizeof path, "%s/sizes.tim", dir);
  const entry es[] = {LAYOUT, INDEX, DIRS};
  core_buf tar = CORE_BUF_INIT;
  core_error *err = NULL;
  for (size_t i = 0; i < 4; i++) add_entry(&tar, &es[i]);
  assert_int_equal(core_buf_append(&tar, end_marker, sizeof end_marker, &err), 0);
  size_t full = tar.len;

  /* index.json's header claiming 4 GiB in a file of a few KiB. */
  uint8_t h[CORE_TAR_BLOCK];
  assert_int_equal(core_tar_header(h, "index.json", CORE_TAR_FILE, 4ull << 30, &err), 0);
  uint8_t saved[CORE_TAR_BLOCK];
  memcpy(saved, tar.data + 1024, sizeof saved);
  memcpy(tar.data + 1024, h, sizeof h);
  write_bytes(path, tar.data, full);
  expect_read_error(path, "claims 4294967296 bytes, but only");
  memcpy(tar.data + 1024, saved, sizeof saved);

  write_bytes(path, tar.data, full);
  core_tim *tim = NULL;
  if (core_tim_read(path, &tim, &err) != 0) fail_msg("%s", err->msg);
  core_tim_free(tim);

  assert_int_equal(core_buf_append(&tar, "x", 1, &err), 0);
  write_bytes(path, tar.data, tar.len);
  expect_read_error(path, "1 bytes after its end-of-archive marker");
  write_bytes(path, tar.data, full - CORE_TAR_BLOCK);
  expect_read_error(path, "inside its end-of-archive marker");
  core_buf_release(&tar);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_round_trip, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_tar_layout, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_deterministic, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_no_temp_files_left, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_write_failure_leaves_nothing, make_tmpdir, remove_tmpdir),
      cmocka_unit_test(test_blob_set_dedupes),
      cmocka_unit_test_setup_teardown(test_fd_blob, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_corrupted_blob, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_truncated, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_foreign_tars, make_tmpdir, remove_tmpdir),
      cmocka_unit_test(test_header_bytes),
      cmocka_unit_test(test_header_read_by_libarchive),
      cmocka_unit_test_setup_teardown(test_sizes_and_end, make_tmpdir, remove_tmpdir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
