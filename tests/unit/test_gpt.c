/* Unit tests for linker/gpt.c and linker/guid.c: disks checked by gdisk's sgdisk and read back by
 * util-linux's sfdisk (two independent readers), GUIDs that depend on the seed alone, a FAT
 * file system readable by mtools inside its partition, and refusals. */
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
#include "gpt.h"
#include "guid.h"
#include "tmpdir.h"
#include "tool_run.h"



static void require_tools(void) {
  static const char *const tools[] = {"sgdisk", "sfdisk", "mdir", "mtype", NULL};
  tool_require(tools, "gdisk fdisk mtools");
}

static void has(const char *out, const char *needle) {
  if (strstr(out, needle) == NULL) fail_msg("output lacks '%s': %.400s", needle, out);
}

#define ESP_TYPE "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
#define LINUX_TYPE "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
#define DISK_SIZE (64ull << 20)

static const char *const names[] = {"EFI System", "root", "a name of exactly thirty-six chars!!"};

static void seed_of(const char *text, core_digest *d) {
  core_error *err = NULL;
  assert_int_equal(core_digest_bytes(text, strlen(text), d, &err), 0);
}

/* N partitions of 8 MiB from LBA 2048, 1 MiB apart; the first is an ESP. */
static void parts_of(core_gpt_partition *p, size_t n) {
  core_error *err = NULL;
  for (size_t i = 0; i < n; i++) {
    p[i] = (core_gpt_partition){.name = names[i], .first_lba = 2048 + i * 18432, .n_lba = 16384, .attributes = i == 0 ? 1 : 0};
    assert_int_equal(core_guid_parse(i == 0 ? ESP_TYPE : LINUX_TYPE, p[i].type_guid, &err), 0);
  }
}

static void write_disk(const core_gpt_partition *p, size_t n, const char *seed, const char *path) {
  core_digest d;
  seed_of(seed, &d);
  core_error *err = NULL;
  cleanup_image core_image out = CORE_IMAGE_INIT;
  if (core_gpt_build(DISK_SIZE, p, n, &d, &out, &err) < 0) fail_msg("core_gpt_build: %s", err->msg);
  cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(core_image_write_raw(&out, fd, &err), 0);
}

static void unique_guid(const char *seed, size_t i, char text[CORE_GUID_STRLEN + 1]) {
  core_digest d;
  seed_of(seed, &d);
  char label[32];
  snprintf(label, sizeof label, "partition %zu", i + 1);
  uint8_t g[16];
  core_error *err = NULL;
  assert_int_equal(core_guid_derive(&d, label, g, &err), 0);
  core_guid_format(g, text);
}

static void disk_guid_of(const char *seed, char text[CORE_GUID_STRLEN + 1]) {
  core_digest d;
  seed_of(seed, &d);
  uint8_t g[16];
  core_error *err = NULL;
  assert_int_equal(core_guid_derive(&d, "disk", g, &err), 0);
  core_guid_format(g, text);
}

static void test_partitions_read_back(void **state) {
  (void)state;
  require_tools();
  for (size_t n = 1; n <= 3; n++) {
    core_gpt_partition p[3];
    parts_of(p, n);
    write_disk(p, n, "seed", "disk.img");
    char *v = tool_run_ok("sgdisk -v disk.img");
    has(v, "No problems found");
    free(v);
    char *json = tool_run_ok("sfdisk --json disk.img");
    has(json, "\"label\": \"gpt\"");
    has(json, "\"firstlba\": 34");
    has(json, "\"lastlba\": 131038");
    char disk_guid[CORE_GUID_STRLEN + 1], id[64];
    disk_guid_of("seed", disk_guid);
    snprintf(id, sizeof id, "\"id\": \"%s\"", disk_guid);
    has(json, id);
    for (size_t i = 0; i < n; i++) {
      char *info = tool_run_ok("sgdisk -i %zu disk.img", i + 1), want[256], guid[CORE_GUID_STRLEN + 1];
      unique_guid("seed", i, guid);
      snprintf(want, sizeof want, "Partition GUID code: %s", i == 0 ? ESP_TYPE : LINUX_TYPE);
      has(info, want);
      snprintf(want, sizeof want, "Partition unique GUID: %s", guid);
      has(info, want);
      snprintf(want, sizeof want, "First sector: %zu ", 2048 + i * 18432);
      has(info, want);
      snprintf(want, sizeof want, "Last sector: %zu ", 2048 + i * 18432 + 16383);
      has(info, want);
      snprintf(want, sizeof want, "Partition name: '%s'", names[i]);
      has(info, want);
      has(info, i == 0 ? "Attribute flags: 0000000000000001" : "Attribute flags: 0000000000000000");
      free(info);
      /* The same facts from util-linux. */
      snprintf(want, sizeof want,
               "\"node\": \"disk.img%zu\",\n%12s\"start\": %zu,\n%12s\"size\": 16384,\n%12s\"type\": \"%s\",\n"
               "%12s\"uuid\": \"%s\",\n%12s\"name\": \"%s\"",
               i + 1, "", 2048 + i * 18432, "", "", i == 0 ? ESP_TYPE : LINUX_TYPE, "", guid, "", names[i]);
      has(json, want);
    }
    free(json);
    char *table = tool_run_ok("sgdisk -p disk.img");
    has(table, "Disk disk.img: 131072 sectors");
    has(table, "Partitions will be aligned"); /* the table parsed; names follow */
    for (size_t i = 0; i < n; i++) {
      char row[128]; /* the table view cuts long names short */
      snprintf(row, sizeof row, "%4zu %15zu %15zu   8.0 MiB     %s  %.16s", i + 1, 2048 + i * 18432, 2048 + i * 18432 + 16383,
               i == 0 ? "EF00" : "8300", names[i]);
      has(table, row);
    }
    free(table);
  }
}

static void file_bytes(const char *path, uint8_t **data, size_t *len) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  *len = (size_t)st.st_size;
  *data = malloc(*len);
  cleanup_close int fd = open(path, O_RDONLY);
  assert_int_equal(pread(fd, *data, *len, 0), (ssize_t)*len);
}

static void test_seed_decides_guids(void **state) {
  (void)state;
  require_tools();
  core_gpt_partition p[2];
  parts_of(p, 2);
  write_disk(p, 2, "seed", "a.img");
  write_disk(p, 2, "seed", "b.img");
  write_disk(p, 2, "other seed", "c.img");
  cleanup_free uint8_t *a = NULL, *b = NULL, *c = NULL;
  size_t la, lb, lc;
  file_bytes("a.img", &a, &la);
  file_bytes("b.img", &b, &lb);
  file_bytes("c.img", &c, &lc);
  assert_int_equal(la, lb);
  assert_memory_equal(a, b, la);
  char *ja = tool_run_ok("sfdisk --json a.img"), *jc = tool_run_ok("sfdisk --json c.img");
  char ga[CORE_GUID_STRLEN + 1], gc[CORE_GUID_STRLEN + 1];
  unique_guid("seed", 0, ga);
  unique_guid("other seed", 0, gc);
  assert_string_not_equal(ga, gc);
  has(ja, ga);
  has(jc, gc);
  assert_null(strstr(jc, ga));
  /* Version 4, variant 1: the 13th digit is 4, the 17th one of 8, 9, A, B. */
  assert_int_equal(ga[14], '4');
  assert_non_null(strchr("89AB", ga[19]));
  free(ja);
  free(jc);
  assert_int_equal(la, lc);
  assert_true(memcmp(a, c, la) != 0);
}

/* The ESP as the integration uses it: a FAT file system moved into partition 1. */
static void test_fat_inside(void **state) {
  (void)state;
  require_tools();
  static const char conf[] = "title core\n";
  core_error *err = NULL;
  core_image file = CORE_IMAGE_INIT, fs = CORE_IMAGE_INIT;
  file.size = sizeof conf - 1;
  assert_int_equal(core_image_add_copy(&file, 0, conf, file.size, &err), 0);
  core_fat_file f[] = {{"loader/entries/core.conf", &file}};
  core_fat_opts o = {.size = 8 << 20, .serial = 42};
  assert_int_equal(core_fat_build(f, 1, &o, &fs, NULL, &err), 0);
  core_gpt_partition p[1];
  parts_of(p, 1);
  p[0].content = &fs;
  write_disk(p, 1, "seed", "esp.img");
  core_image_release(&file);
  core_image_release(&fs);
  char *dir = tool_run_ok("mdir -/ -i esp.img@@%d ::", 2048 * 512);
  has(dir, "core.conf");
  free(dir);
  char *text = tool_run_ok("mtype -i esp.img@@%d ::loader/entries/core.conf", 2048 * 512);
  assert_string_equal(text, conf);
  free(text);
  char *v = tool_run_ok("sgdisk -v esp.img");
  has(v, "No problems found");
  free(v);
}

static void refused(uint64_t size, const core_gpt_partition *p, size_t n, const char *needle) {
  core_digest d;
  seed_of("seed", &d);
  core_error *err = NULL;
  cleanup_image core_image out = CORE_IMAGE_INIT;
  assert_int_equal(core_gpt_build(size, p, n, &d, &out, &err), -1);
  if (strstr(err->msg, needle) == NULL) fail_msg("error '%s' does not say '%s'", err->msg, needle);
  assert_int_equal(out.n, 0);
  core_error_free(err);
}

static void test_refusals(void **state) {
  (void)state;
  core_gpt_partition p[3];
  parts_of(p, 3);
  refused(DISK_SIZE + 1, p, 1, "not a multiple of 512");
  refused(67 * 512, p, 0, "too small for GPT");
  p[1].first_lba = p[0].first_lba + 100;
  refused(DISK_SIZE, p, 2, "GPT partitions 1 ('EFI System') and 2 ('root') overlap");
  parts_of(p, 3);
  p[0].n_lba = 0;
  refused(DISK_SIZE, p, 1, "has no sectors");
  parts_of(p, 3);
  p[0].first_lba = 33;
  refused(DISK_SIZE, p, 1, "outside the usable LBAs 34..131038");
  p[0].first_lba = 131038 - 16382;
  refused(DISK_SIZE, p, 1, "outside the usable LBAs");
  p[0].first_lba = 131038 - 16383; /* ends exactly on the last usable LBA */
  core_digest d;
  seed_of("seed", &d);
  core_error *err = NULL;
  cleanup_image core_image out = CORE_IMAGE_INIT;
  assert_int_equal(core_gpt_build(DISK_SIZE, p, 1, &d, &out, &err), 0);
  parts_of(p, 3);
  p[0].name = "a name of thirty-seven characters!!!!";
  refused(DISK_SIZE, p, 1, "longer than 36");
  parts_of(p, 3);
  memset(p[0].type_guid, 0, 16);
  refused(DISK_SIZE, p, 1, "all-zero type");
  parts_of(p, 3);
  core_image big = CORE_IMAGE_INIT;
  big.size = 16385 * 512;
  p[0].content = &big;
  refused(DISK_SIZE, p, 1, "larger than its 16384 sectors");
  static core_gpt_partition many[129];
  for (size_t i = 0; i < 129; i++) many[i] = p[1];
  refused(DISK_SIZE, many, 129, "at most 128");
}

static void test_guid_text(void **state) {
  (void)state;
  core_error *err = NULL;
  uint8_t g[16];
  char text[CORE_GUID_STRLEN + 1];
  assert_int_equal(core_guid_parse("c12a7328-f81f-11d2-ba4b-00a0c93ec93b", g, &err), 0);
  static const uint8_t want[16] = {0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B};
  assert_memory_equal(g, want, 16);
  core_guid_format(g, text);
  assert_string_equal(text, ESP_TYPE);
  assert_int_equal(core_guid_parse("C12A7328F81F-11D2-BA4B-00A0C93EC93B0", g, &err), -1);
  assert_non_null(strstr(err->msg, "is not a GUID"));
  core_error_freep(&err);
  assert_int_equal(core_guid_parse("X12A7328-F81F-11D2-BA4B-00A0C93EC93B", g, &err), -1);
  core_error_freep(&err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_partitions_read_back, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_seed_decides_guids, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_fat_inside, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_guid_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
