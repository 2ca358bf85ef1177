/* Unit tests for linker/fat*.c, the FAT writer: images of each type checked by dosfstools'
 * fsck.fat and read back with mtools (a second, independent reader), byte-identical output for
 * the same input, data offsets that point at the files' bytes, sparse output, and refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fat.h"
#include "tmpdir.h"
#include "tool_run.h"


static void require_tools(void) {
  static const char *const tools[] = {"fsck.fat", "mdir", "mtype", "mcopy", "minfo", NULL};
  tool_require(tools, "dosfstools mtools");
}

static void mem_image(core_image *img, const void *data, size_t len) {
  core_error *err = NULL;
  *img = (core_image)CORE_IMAGE_INIT;
  img->size = len;
  assert_int_equal(core_image_add_copy(img, 0, data, len, &err), 0);
}

/* Builds the file system and writes it raw to PATH. */
static void write_fs(const core_fat_file *files, size_t n, const core_fat_opts *o, const char *path, uint64_t *offsets) {
  core_error *err = NULL;
  cleanup_image core_image out = CORE_IMAGE_INIT;
  int rc = core_fat_build(files, n, o, &out, offsets, &err);
  if (rc < 0) fail_msg("core_fat_build: %s", err->msg);
  cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(core_image_write_raw(&out, fd, &err), 0);
}


/* fsck.fat -n exits 0 even after reporting some problems (a wrong long-name checksum), so its
 * plain output must be exactly its banner and the summary line; the verbose run must pass too. */
static void fsck_clean(const char *img) {
  free(tool_run_ok("fsck.fat -n -v %s", img));
  char *out = tool_run_ok("fsck.fat -n %s", img);
  char summary[256];
  snprintf(summary, sizeof summary, "\n%s: ", img);
  char *s = strstr(out, summary);
  if (strncmp(out, "fsck.fat ", 9) != 0 || s == NULL || strchr(out, '\n') != s || strchr(s + 1, '\n') != out + strlen(out) - 1 ||
      strstr(s, " files, ") == NULL)
    fail_msg("fsck.fat reports: %s", out);
  free(out);
}

/* mcopy to stdout must give back exactly WANT. */
static void content_is(const char *img, const char *path, const void *want, size_t len) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "mcopy -n -i %s '::%s' - ", img, path);
  char full[1024];
  snprintf(full, sizeof full, "MTOOLS_SKIP_CHECK=1 MTOOLSRC=/dev/null %s", cmd);
  FILE *p = popen(full, "r");
  assert_non_null(p);
  cleanup_free uint8_t *buf = malloc(len + 1);
  size_t got = fread(buf, 1, len + 1, p);
  assert_int_equal(pclose(p), 0);
  assert_int_equal(got, len);
  assert_memory_equal(buf, want, len);
}

/* The expected line of `mdir` for a file: its (8.3) name columns and size. */
static void listed(const char *mdir_out, const char *needle) {
  if (strstr(mdir_out, needle) == NULL) fail_msg("mdir does not list '%s':\n%s", needle, mdir_out);
}

static const char boot_efi[] = "MZ pretend PE image\n";
static const char loader_conf[] = "timeout 0\ndefault core.conf\n";
static const char entry_conf[] = "title core\nlinux /vmlinuz\ninitrd /initrd.img\n";

typedef struct tree_files {
  core_image img[6];
  core_fat_file f[6];
} tree_files;

/* The tree of an ESP, with a nested directory, an empty file, lower-case and long names. */
static void esp_files(tree_files *t) {
  mem_image(&t->img[0], boot_efi, sizeof boot_efi - 1);
  mem_image(&t->img[1], loader_conf, sizeof loader_conf - 1);
  mem_image(&t->img[2], entry_conf, sizeof entry_conf - 1);
  t->img[3] = (core_image)CORE_IMAGE_INIT;
  mem_image(&t->img[4], "upper\n", 6);
  mem_image(&t->img[5], "mixed\n", 6);
  t->f[0] = (core_fat_file){"EFI/BOOT/BOOTX64.EFI", &t->img[0]};
  t->f[1] = (core_fat_file){"loader/loader.conf", &t->img[1]};
  t->f[2] = (core_fat_file){"loader/entries/core.conf", &t->img[2]};
  t->f[3] = (core_fat_file){"empty", &t->img[3]};
  t->f[4] = (core_fat_file){"vmlinuz.IMG", &t->img[4]};
  t->f[5] = (core_fat_file){"Mixed.txt", &t->img[5]};
}

static void release_files(tree_files *t) {
  for (int i = 0; i < 6; i++) core_image_release(&t->img[i]);
}

static void check_esp(int bits) {
  require_tools();
  tree_files t;
  esp_files(&t);
  core_fat_opts o = {.fat_bits = bits, .label = "CORE-ESP", .serial = 0x1234ABCD, .mtime = 1700000000};
  write_fs(t.f, 6, &o, "esp.img", NULL);
  release_files(&t);
  fsck_clean("esp.img");

  char *info = tool_run_ok("minfo -i esp.img ::");
  char type[32];
  snprintf(type, sizeof type, "disk type=\"FAT%d   \"", bits ? bits : 12);
  listed(info, type);
  listed(info, "serial number: 1234ABCD");
  listed(info, "disk label=\"CORE-ESP   \"");
  free(info);

  char *dir = tool_run_ok("mdir -/ -i esp.img ::");
  listed(dir, "BOOTX64  EFI        20 2023-11-14  22:13");
  listed(dir, "loader       <DIR>");
  listed(dir, "entries      <DIR>");
  listed(dir, "   28 2023-11-14  22:13  loader.conf");
  listed(dir, "   45 2023-11-14  22:13  core.conf");
  listed(dir, "empty                0 2023-11-14  22:13");
  listed(dir, "vmlinuz  IMG         6 2023-11-14  22:13");
  listed(dir, "  6 2023-11-14  22:13  Mixed.txt");
  listed(dir, "Volume Serial Number is 1234-ABCD");
  free(dir);

  content_is("esp.img", "EFI/BOOT/BOOTX64.EFI", boot_efi, sizeof boot_efi - 1);
  content_is("esp.img", "loader/loader.conf", loader_conf, sizeof loader_conf - 1);
  content_is("esp.img", "LOADER/ENTRIES/CORE.CONF", entry_conf, sizeof entry_conf - 1);
  content_is("esp.img", "empty", "", 0);
  content_is("esp.img", "mixed.txt", "mixed\n", 6);
}

static void test_fat12(void **state) {
  (void)state;
  check_esp(12);
}
static void test_fat16(void **state) {
  (void)state;
  check_esp(16);
}
static void test_fat32(void **state) {
  (void)state;
  check_esp(32);
}
static void test_type_by_count(void **state) {
  (void)state;
  check_esp(0);
}

/* The lower-case flags, read with mtools, which shows an 8.3 name in lower case only when
 * byte 12 says so. */
static void test_lower_case_flags(void **state) {
  (void)state;
  require_tools();
  core_image a, b, c;
  mem_image(&a, "a", 1);
  mem_image(&b, "b", 1);
  mem_image(&c, "c", 1);
  core_fat_file f[] = {{"lower.txt", &a}, {"UPPER.TXT", &b}, {"base.TXT", &c}};
  core_fat_opts o = {.mtime = 0};
  write_fs(f, 3, &o, "case.img", NULL);
  core_image_release(&a);
  core_image_release(&b);
  core_image_release(&c);
  fsck_clean("case.img");
  char *dir = tool_run_ok("mdir -i case.img ::");
  listed(dir, "lower    txt         1 1980-01-01   0:00");
  listed(dir, "UPPER    TXT         1 1980-01-01   0:00");
  listed(dir, "base     TXT         1 1980-01-01   0:00");
  free(dir);
}

/* Long names: several long-name entries for one name, an alias that skips one the caller took,
 * spaces and characters 8.3 cannot hold; and the latest timestamp FAT can store. */
static void test_long_names(void **state) {
  (void)state;
  require_tools();
  static const char *paths[] = {"loader/LOADER~1.CON", "loader/loader.conf", "loader/entries/core-0123456789abcdef-linux.conf",
                                "My File+1.txt", "a.b.c"};
  enum { N = sizeof paths / sizeof *paths };
  core_image img[N];
  core_fat_file f[N];
  for (size_t i = 0; i < N; i++) {
    mem_image(&img[i], paths[i], strlen(paths[i]));
    f[i] = (core_fat_file){paths[i], &img[i]};
  }
  core_fat_opts o = {.mtime = INT64_MAX};
  write_fs(f, N, &o, "long.img", NULL);
  for (size_t i = 0; i < N; i++) core_image_release(&img[i]);
  fsck_clean("long.img");
  char *dir = tool_run_ok("mdir -/ -i long.img ::");
  listed(dir, "LOADER~1 CON        19 2107-12-31  23:59 \n");
  listed(dir, "LOADER~2 CON        18 2107-12-31  23:59  loader.conf");
  listed(dir, " core-0123456789abcdef-linux.conf");
  listed(dir, " My File+1.txt");
  listed(dir, " a.b.c");
  free(dir);
  for (size_t i = 0; i < N; i++) content_is("long.img", paths[i], paths[i], strlen(paths[i]));
  content_is("long.img", "LOADER/ENTRIES/CORE-0123456789ABCDEF-LINUX.CONF", paths[2], strlen(paths[2]));
}

/* A file of several MB read from a descriptor, never copied into memory, read back whole; its
 * data offset points at its bytes in the raw image. */
static void test_big_file_from_fd(void **state) {
  (void)state;
  require_tools();
  enum { SIZE = 5 * 1024 * 1024 + 123 };
  cleanup_free uint8_t *data = malloc(SIZE);
  uint32_t x = 12345;
  for (size_t i = 0; i < SIZE; i++) data[i] = (uint8_t)((x = x * 1103515245 + 12345) >> 16);
  cleanup_close int fd = open("kernel", O_RDWR | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, data, SIZE), SIZE);
  core_error *err = NULL;
  core_image k = CORE_IMAGE_INIT, small;
  k.size = SIZE;
  assert_int_equal(core_image_add_fd(&k, 0, fd, 0, SIZE, &err), 0);
  mem_image(&small, "cmdline", 7);
  core_fat_file f[] = {{"conf/cmdline", &small}, {"vmlinuz", &k}};
  for (int bits = 12; bits <= 32; bits += bits == 12 ? 4 : 16) {
    uint64_t off[2];
    core_fat_opts o = {.fat_bits = bits == 12 ? 0 : bits, .serial = 7};
    k.size = SIZE; /* moved out by the previous build: put it back */
    if (k.n == 0) assert_int_equal(core_image_add_fd(&k, 0, fd, 0, SIZE, &err), 0);
    if (small.n == 0) {
      core_image_release(&small);
      mem_image(&small, "cmdline", 7);
    }
    write_fs(f, 2, &o, "big.img", off);
    fsck_clean("big.img");
    content_is("big.img", "vmlinuz", data, SIZE);
    content_is("big.img", "conf/cmdline", "cmdline", 7);
    char *info = tool_run_ok("minfo -i big.img ::");
    char type[32];
    snprintf(type, sizeof type, "disk type=\"FAT%d   \"", bits);
    listed(info, type); /* type 0: 5 MB in 2048-byte clusters is FAT12 by count */
    free(info);
    /* Files come in the order given, after the directories, each contiguous. */
    assert_true(off[0] < off[1]);
    cleanup_close int img = open("big.img", O_RDONLY);
    cleanup_free uint8_t *back = malloc(SIZE);
    assert_int_equal(pread(img, back, SIZE, (off_t)off[1]), SIZE);
    assert_memory_equal(back, data, SIZE);
    assert_int_equal(pread(img, back, 7, (off_t)off[0]), 7);
    assert_memory_equal(back, "cmdline", 7);
    if (bits == 16) assert_int_equal(off[0] % 2048, 0); /* clusters line up with ISO sectors */
  }
  core_image_release(&k);
  core_image_release(&small);
}

static void read_file(const char *path, uint8_t **data, size_t *len) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  *len = (size_t)st.st_size;
  *data = malloc(*len);
  cleanup_close int fd = open(path, O_RDONLY);
  assert_int_equal(pread(fd, *data, *len, 0), (ssize_t)*len);
}

static void test_same_input_same_bytes(void **state) {
  (void)state;
  for (int i = 0; i < 3; i++) {
    tree_files t;
    esp_files(&t);
    core_fat_opts o = {.fat_bits = 32, .label = "X", .serial = 99, .mtime = i == 2 ? 1 : 1700000000};
    write_fs(t.f, 6, &o, i == 0 ? "a.img" : i == 1 ? "b.img" : "c.img", NULL);
    release_files(&t);
  }
  cleanup_free uint8_t *a = NULL, *b = NULL, *c = NULL;
  size_t la, lb, lc;
  read_file("a.img", &a, &la);
  read_file("b.img", &b, &lb);
  read_file("c.img", &c, &lc);
  assert_int_equal(la, lb);
  assert_memory_equal(a, b, la);
  assert_true(la != lc || memcmp(a, c, la) != 0);
}

/* A 64 MiB FAT32 image: its FATs are mostly zero and are not written, so the raw file stays a
 * sparse file of a few hundred KiB. */
static void test_fat32_sparse(void **state) {
  (void)state;
  require_tools();
  tree_files t;
  esp_files(&t);
  core_fat_opts o = {.fat_bits = 32, .size = 64 << 20, .serial = 1};
  write_fs(t.f, 6, &o, "sparse.img", NULL);
  release_files(&t);
  fsck_clean("sparse.img");
  struct stat st;
  assert_int_equal(stat("sparse.img", &st), 0);
  assert_int_equal(st.st_size, 64 << 20);
  if ((uint64_t)st.st_blocks * 512 > 1 << 20)
    fail_msg("64 MiB FAT32 image allocates %llu bytes", (unsigned long long)st.st_blocks * 512);
  char *info = tool_run_ok("minfo -i sparse.img ::");
  listed(info, "disk type=\"FAT32   \"");
  listed(info, "cluster size: 1 sectors"); /* the FAT specification's table: 512 bytes up to 260 MB */
  listed(info, "free clusters=");
  free(info);
}

/* Each refusal names the path or the reason. */
static void refused(const char *path1, const char *path2, const core_fat_opts *o, const char *needle) {
  core_image a, b;
  mem_image(&a, "aaaa", 4);
  mem_image(&b, "bbbb", 4);
  core_fat_file f[] = {{path1, &a}, {path2, &b}};
  core_error *err = NULL;
  cleanup_image core_image out = CORE_IMAGE_INIT;
  assert_int_equal(core_fat_build(f, path2 ? 2 : 1, o, &out, NULL, &err), -1);
  assert_non_null(err);
  if (strstr(err->msg, needle) == NULL) fail_msg("error '%s' does not say '%s'", err->msg, needle);
  assert_int_equal(out.n, 0);
  core_error_free(err);
  core_image_release(&a);
  core_image_release(&b);
}

static void test_refusals(void **state) {
  (void)state;
  core_fat_opts none = {0};
  refused("A/B.TXT", "a/b.txt", &none, "duplicate FAT path 'a/b.txt'");
  refused("A/B", "A/B/C", &none, "'A/B' is a file, so it cannot be a directory");
  refused("A/B/C", "A/B", &none, "FAT path 'A/B' is both a file and a directory");
  refused("A//B", NULL, &none, "FAT path 'A//B' has an empty");
  refused("/A", NULL, &none, "has an empty");
  refused("A/", NULL, &none, "has an empty");
  refused("A/../B", NULL, &none, "'..'");
  refused("A/./B", NULL, &none, "'.'");
  refused("A/B*C", NULL, &none, "'B*C' has a character not allowed");
  refused("trailing.", NULL, &none, "trailing space or '.'");
  refused("caf\xc3\xa9", NULL, &none, "non-ASCII");
  core_fat_opts label = {.label = "TWELVE CHARS"};
  refused("A", NULL, &label, "longer than 11");
  core_fat_opts tiny = {.size = 64 * 512, .fat_bits = 12};
  core_image big;
  mem_image(&big, NULL, 0);
  big.size = 1 << 20;
  core_fat_file f[] = {{"BIG.BIN", &big}};
  core_error *err = NULL;
  cleanup_image core_image out = CORE_IMAGE_INIT;
  assert_int_equal(core_fat_build(f, 1, &tiny, &out, NULL, &err), -1);
  if (strstr(err->msg, "FAT path 'BIG.BIN' does not fit") == NULL) fail_msg("%s", err->msg);
  core_error_freep(&err);
  core_fat_opts small32 = {.size = 8 << 20, .fat_bits = 32};
  assert_int_equal(core_fat_build(f, 1, &small32, &out, NULL, &err), -1);
  if (strstr(err->msg, "too small for FAT32") == NULL) fail_msg("%s", err->msg);
  core_error_freep(&err);
  core_fat_opts big16 = {.size = 200 << 20, .fat_bits = 16};
  assert_int_equal(core_fat_build(f, 1, &big16, &out, NULL, &err), -1);
  if (strstr(err->msg, "FAT16 needs 4085 to 65524") == NULL) fail_msg("%s", err->msg);
  core_error_freep(&err);
  core_fat_opts odd = {.size = 1000};
  assert_int_equal(core_fat_build(f, 1, &odd, &out, NULL, &err), -1);
  if (strstr(err->msg, "not a multiple of 512") == NULL) fail_msg("%s", err->msg);
  core_error_freep(&err);
  core_image_release(&big);
}

/* The FAT12/16 root holds 512 entries; the 513th file is refused, in a subdirectory it is not. */
static void test_root_full(void **state) {
  (void)state;
  enum { N = 513 };
  static core_image imgs[N];
  static core_fat_file f[N];
  static char names[N][16];
  for (int dir = 0; dir < 2; dir++) {
    for (int i = 0; i < N; i++) {
      imgs[i] = (core_image)CORE_IMAGE_INIT;
      snprintf(names[i], sizeof names[i], "%sF%d", dir ? "D/" : "", i);
      f[i] = (core_fat_file){names[i], &imgs[i]};
    }
    core_fat_opts o = {.fat_bits = 16};
    core_error *err = NULL;
    cleanup_image core_image out = CORE_IMAGE_INIT;
    int rc = core_fat_build(f, N, &o, &out, NULL, &err);
    if (dir) {
      assert_int_equal(rc, 0);
      continue;
    }
    assert_int_equal(rc, -1);
    if (strstr(err->msg, "root directory holds at most 512 entries") == NULL) fail_msg("%s", err->msg);
    core_error_free(err);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_fat12, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_fat16, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_fat32, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_type_by_count, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_lower_case_flags, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_long_names, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_big_file_from_fd, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_same_input_same_bytes, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_fat32_sparse, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_root_full),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
