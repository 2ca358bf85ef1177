/* Unit tests for linker/iso9660.c: ISOs read back by real tools (xorriso, genisoimage's isoinfo)
 * and by libarchive's reader as a second, independent reader; the El Torito catalog and boot
 * info table checked against values computed here; refusals; reproducibility; and ISOLINUX
 * booted under QEMU to prove the boot info table for real. The tools are required: a missing
 * one fails the test (tests/setup-deps.sh installs them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "archive_util.h"
#include "cleanup.h"
#include "iso9660.h"
#include "tmpdir.h"

enum { N_MANY = 80, MAX_FILES = 100, MTIME = 1700000000 };

/* The sample volume: its files' paths and bytes, in the order given to the writer. */
typedef struct sample {
  size_t n;
  char *paths[MAX_FILES];
  uint8_t *data[MAX_FILES];
  size_t size[MAX_FILES];
  int from_fd[MAX_FILES]; /* content given as a file descriptor, as corec gives an initramfs */
} sample;

static void fill(uint8_t *p, size_t n, uint32_t seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    p[i] = (uint8_t)(seed >> 16);
  }
}

static void sample_add(sample *s, const char *path, size_t size, uint32_t seed, int from_fd) {
  assert_true(s->n < MAX_FILES);
  s->paths[s->n] = strdup(path);
  s->data[s->n] = malloc(size ? size : 1);
  assert_non_null(s->data[s->n]);
  fill(s->data[s->n], size, seed);
  s->size[s->n] = size;
  s->from_fd[s->n] = from_fd;
  s->n++;
}

static void sample_release(sample *s) {
  for (size_t i = 0; i < s->n; i++) free(s->paths[i]), free(s->data[i]);
}

/* Boot file first, then names that test ECMA-119 order (directory "A" before file "A.TXT"),
 * a directory too big for one sector, the deepest allowed nesting, an empty file, a name
 * without extension, and content from file descriptors. */
static void sample_make(sample *s) {
  *s = (sample){0};
  sample_add(s, "ISOLINUX/ISOLINUX.BIN", 3001, 1, 0); /* not a multiple of 4: the checksum pads */
  sample_add(s, "ISOLINUX/ISOLINUX.CFG", 100, 2, 0);
  sample_add(s, "EFI/BOOT/EFIBOOT.IMG", (1 << 20) + 3, 3, 1);
  sample_add(s, "KERNEL", 100000, 4, 1);
  sample_add(s, "A.TXT", 10, 5, 0);
  sample_add(s, "A/B/C/D/E/F/G/DEEP.TXT", 5000, 6, 0);
  sample_add(s, "EMPTY.TXT", 0, 7, 0);
  sample_add(s, "AB.TXT", 2048, 8, 0);
  for (int i = 0; i < N_MANY; i++) {
    char p[32];
    snprintf(p, sizeof p, "MANY/F%02d.TXT", N_MANY - 1 - i); /* given in reverse order */
    sample_add(s, p, (size_t)i * 7, 100 + (uint32_t)i, 0);
  }
}

/* Content images: from memory, or from a temporary file's descriptor (kept in FDS). */
static void contents(const sample *s, const char *dir, core_image *imgs, int *fds) {
  core_error *err = NULL;
  for (size_t i = 0; i < s->n; i++) {
    imgs[i] = (core_image)CORE_IMAGE_INIT;
    imgs[i].size = s->size[i];
    fds[i] = -1;
    if (!s->from_fd[i]) {
      assert_int_equal(core_image_add_copy(&imgs[i], 0, s->data[i], s->size[i], &err), 0);
      continue;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/content-%zu", dir, i);
    fds[i] = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fds[i] >= 0);
    assert_int_equal(write(fds[i], s->data[i], s->size[i]), (ssize_t)s->size[i]);
    assert_int_equal(core_image_add_fd(&imgs[i], 0, fds[i], 0, s->size[i], &err), 0);
  }
}

static const core_iso_opts sample_opts = {
    .volume_id = "CORE_TEST",
    .mtime = MTIME,
    .bios_boot = "ISOLINUX/ISOLINUX.BIN",
    .efi_boot = "EFI/BOOT/EFIBOOT.IMG",
    .reserved_size = (1 << 20) + 5,
};

/* Builds S with OPTS and writes it to DIR/NAME. */
static void build_to(const sample *s, const core_iso_opts *opts, const char *dir, const char *name, uint64_t *offs, uint64_t *resv) {
  core_image imgs[MAX_FILES];
  int fds[MAX_FILES];
  core_iso_file files[MAX_FILES];
  contents(s, dir, imgs, fds);
  for (size_t i = 0; i < s->n; i++) files[i] = (core_iso_file){.path = s->paths[i], .content = &imgs[i]};
  cleanup_image core_image out = CORE_IMAGE_INIT;
  core_error *err = NULL;
  int rc = core_iso_build(files, s->n, opts, &out, offs, resv, &err);
  if (rc < 0) fail_msg("core_iso_build: %s", err->msg);
  /* Content from descriptors stays there: the ISO refers to it, nothing was read. */
  size_t fd_extents = 0, want_fd = 0;
  for (size_t i = 0; i < out.n; i++) fd_extents += out.v[i].kind == CORE_EXTENT_FD;
  for (size_t i = 0; i < s->n; i++) want_fd += s->from_fd[i] && i != 0;
  assert_int_equal(fd_extents, want_fd);
  for (size_t i = 0; i < s->n; i++) {
    assert_int_equal(imgs[i].n, 0); /* moved into the ISO */
    core_image_release(&imgs[i]);
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  if (core_image_write_raw(&out, fd, &err) < 0) fail_msg("writing the ISO: %s", err->msg);
  for (size_t i = 0; i < s->n; i++)
    if (fds[i] >= 0) close(fds[i]);
}

/* Runs CMD with sh; returns its exit status and its standard output in *OUT. */
static int run(const char *cmd, char **out) {
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t len = 0, cap = 4096;
  char *buf = malloc(cap);
  for (size_t n; (n = fread(buf + len, 1, cap - len - 1, p)) > 0;) {
    len += n;
    if (cap - len < 2) buf = realloc(buf, cap *= 2);
  }
  buf[len] = '\0';
  int status = pclose(p);
  if (out)
    *out = buf;
  else
    free(buf);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The tests need the real tools; their absence is a failure, never a skip. */
static void require_tool(const char *tool) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "command -v %s >/dev/null", tool);
  if (run(cmd, NULL) != 0) fail_msg("%s is not installed (tests/setup-deps.sh installs it)", tool);
}

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc(*len ? *len : 1);
  assert_int_equal(fread(buf, 1, *len, f), *len);
  fclose(f);
  return buf;
}

static uint32_t get_le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* What the BIOS boot file should read after patching, computed from the spec here. */
static void expect_boot_file(const uint8_t *got, const uint8_t *orig, size_t size, uint64_t offset) {
  assert_memory_equal(got, orig, 8);
  assert_memory_equal(got + 64, orig + 64, size - 64);
  uint32_t sum = 0;
  for (size_t i = 64; i < size; i++) sum += (uint32_t)orig[i] << (8 * ((i - 64) % 4));
  assert_int_equal(get_le32(got + 8), 16);
  assert_int_equal(get_le32(got + 12), offset / 2048);
  assert_int_equal(get_le32(got + 16), size);
  assert_int_equal(get_le32(got + 20), sum);
  for (int i = 24; i < 64; i++) assert_int_equal(got[i], 0);
}

typedef struct built {
  char *dir;
  sample s;
  uint64_t offs[MAX_FILES], resv;
  uint8_t *iso;
  size_t iso_len;
} built;

static int setup_built(void **state) {
  built *b = calloc(1, sizeof *b);
  if (b == NULL || make_tmpdir((void **)&b->dir) < 0) return -1;
  sample_make(&b->s);
  build_to(&b->s, &sample_opts, b->dir, "x.iso", b->offs, &b->resv);
  char path[4096];
  snprintf(path, sizeof path, "%s/x.iso", b->dir);
  b->iso = read_file(path, &b->iso_len);
  *state = b;
  return 0;
}

static int teardown_built(void **state) {
  built *b = *state;
  sample_release(&b->s);
  free(b->iso);
  void *dir = b->dir;
  free(b);
  return remove_tmpdir(&dir);
}

static long find_path(const sample *s, const char *path) {
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->paths[i], path) == 0) return (long)i;
  return -1;
}

static void test_xorriso_lists_files(void **state) {
  built *b = *state;
  require_tool("xorriso");
  char cmd[4200], *out;
  snprintf(cmd, sizeof cmd, "xorriso -indev %s/x.iso -find / -type f -exec lsdl 2>/dev/null", b->dir);
  assert_int_equal(run(cmd, &out), 0);
  size_t seen = 0;
  for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
    unsigned long long size;
    char name[256];
    /* -r-xr-xr-x    1 0        0            3001 Nov 14 22:13 '/ISOLINUX/ISOLINUX.BIN' */
    if (sscanf(line, "%*s %*s %*s %*s %llu %*s %*s %*s '/%255[^']'", &size, name) != 2) fail_msg("unexpected line: %s", line);
    long i = find_path(&b->s, name);
    if (i < 0) fail_msg("xorriso lists '%s', which was not written", name);
    assert_int_equal(size, b->s.size[i]);
    seen++;
  }
  assert_int_equal(seen, b->s.n);
  free(out);
}

static void test_isoinfo_volume_and_catalog(void **state) {
  built *b = *state;
  require_tool("isoinfo");
  char cmd[4200], *out;
  snprintf(cmd, sizeof cmd, "isoinfo -d -i %s/x.iso", b->dir);
  assert_int_equal(run(cmd, &out), 0);
  assert_non_null(strstr(out, "Volume id: CORE_TEST\n"));
  assert_non_null(strstr(out, "boot catalog is in sector 19\n"));
  char want[64];
  snprintf(want, sizeof want, "Volume size is: %zu\n", b->iso_len / 2048);
  assert_non_null(strstr(out, want));
  free(out);
}

/* Root entries in ECMA-119 9.3 order (directory "A" before "A.TXT", "A.TXT" before
 * "AB.TXT"); MANY's 82 records need a second sector; isovfy finds nothing wrong. */
static void test_order_and_isovfy(void **state) {
  built *b = *state;
  require_tool("isoinfo");
  require_tool("isovfy");
  char cmd[4200], *out;
  snprintf(cmd, sizeof cmd, "isoinfo -l -i %s/x.iso", b->dir);
  assert_int_equal(run(cmd, &out), 0);
  static const char *const root[] = {".", "..", "A", "A.TXT;1", "AB.TXT;1", "EFI", "EMPTY.TXT;1", "ISOLINUX", "KERNEL.;1", "MANY"};
  char *at = strstr(out, "Directory listing of /\n");
  assert_non_null(at);
  at = strchr(at, '\n') + 1;
  for (size_t i = 0; i < sizeof root / sizeof *root; i++) {
    char *end = strchr(at, '\n'), *name = strstr(at, "]  ");
    assert_true(end && name && name < end);
    name += 3;
    *end = '\0';
    char want[32];
    snprintf(want, sizeof want, "%s ", root[i]);
    if (strcmp(name, want) != 0) fail_msg("root entry %zu is '%s', want '%s'", i, name, want);
    at = end + 1;
  }
  assert_true(*at == '\n' || *at == '\0'); /* nothing more in the root */
  at = strstr(at, "Directory listing of /MANY/\n");
  assert_non_null(at);
  char *dot = strstr(at, "]  . \n");
  assert_non_null(dot);
  while (dot > at && dot[-1] != '\n') dot--;
  assert_non_null(strstr(dot, " 4096 ")); /* "." of MANY: two sectors */
  free(out);
  snprintf(cmd, sizeof cmd, "isovfy %s/x.iso 2>&1", b->dir);
  assert_int_equal(run(cmd, &out), 0);
  if (!strstr(out, "No errors found")) fail_msg("isovfy:\n%s", out);
  free(out);
}

/* Both entries as xorriso reads them: platform, emulation, load segment, size, LBA. */
static void test_el_torito_entries(void **state) {
  built *b = *state;
  require_tool("xorriso");
  char cmd[4200], *out;
  snprintf(cmd, sizeof cmd, "xorriso -indev %s/x.iso -report_el_torito plain 2>/dev/null", b->dir);
  assert_int_equal(run(cmd, &out), 0);
  char want[256];
  snprintf(want, sizeof want, "El Torito catalog  : 19  1\n");
  assert_non_null(strstr(out, want));
  snprintf(want, sizeof want, "El Torito boot img :   1  BIOS  y   none  0x0000  0x00      4  %10llu\n",
           (unsigned long long)b->offs[0] / 2048);
  if (!strstr(out, want)) fail_msg("want '%s' in:\n%s", want, out);
  /* (1 MiB + 3 bytes) in 512-byte sectors: 2049 */
  snprintf(want, sizeof want, "El Torito boot img :   2  UEFI  y   none  0x0000  0x00   2049  %10llu\n",
           (unsigned long long)b->offs[2] / 2048);
  if (!strstr(out, want)) fail_msg("want '%s' in:\n%s", want, out);
  assert_non_null(strstr(out, "El Torito img path :   1  /ISOLINUX/ISOLINUX.BIN\n"));
  assert_non_null(strstr(out, "El Torito img opts :   1  boot-info-table\n"));
  assert_non_null(strstr(out, "El Torito img path :   2  /EFI/BOOT/EFIBOOT.IMG\n"));
  free(out);
}

/* isoinfo extracts every file by its ISO 9660 name; the bytes are the ones given. */
static void test_isoinfo_extracts_bytes(void **state) {
  built *b = *state;
  require_tool("isoinfo");
  for (size_t i = 0; i < b->s.n; i++) {
    char iso_name[256], cmd[4600], path[4200];
    const char *dot = strrchr(b->s.paths[i], '.'), *slash = strrchr(b->s.paths[i], '/');
    int no_ext = dot == NULL || (slash && dot < slash);
    snprintf(iso_name, sizeof iso_name, "/%s%s;1", b->s.paths[i], no_ext ? "." : "");
    snprintf(path, sizeof path, "%s/extracted", b->dir);
    snprintf(cmd, sizeof cmd, "isoinfo -i %s/x.iso -x '%s' >%s", b->dir, iso_name, path);
    assert_int_equal(run(cmd, NULL), 0);
    size_t len;
    cleanup_free uint8_t *got = read_file(path, &len);
    if (len != b->s.size[i]) fail_msg("%s: %zu bytes, want %zu", iso_name, len, b->s.size[i]);
    if (i == 0)
      expect_boot_file(got, b->s.data[0], len, b->offs[0]);
    else
      assert_memory_equal(got, b->s.data[i], len);
  }
}

/* libarchive's reader, independent of both tools: same names, same bytes. */
static void test_libarchive_reads_back(void **state) {
  built *b = *state;
  cleanup_archive_read struct archive *a = archive_read_new();
  archive_read_support_format_iso9660(a);
  assert_int_equal(archive_read_open_memory(a, b->iso, b->iso_len), ARCHIVE_OK);
  struct archive_entry *e;
  size_t files = 0;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    long i = find_path(&b->s, archive_entry_pathname(e));
    if (i < 0) fail_msg("libarchive reads '%s', which was not written", archive_entry_pathname(e));
    assert_int_equal(archive_entry_size(e), b->s.size[i]);
    assert_int_equal(archive_entry_mtime(e), MTIME);
    cleanup_free uint8_t *got = malloc(b->s.size[i] + 1);
    assert_int_equal(archive_read_data(a, got, b->s.size[i] + 1), (la_ssize_t)b->s.size[i]);
    if (i == 0)
      expect_boot_file(got, b->s.data[0], b->s.size[0], b->offs[0]);
    else
      assert_memory_equal(got, b->s.data[i], b->s.size[i]);
    files++;
  }
  assert_int_equal(files, b->s.n);
}

/* file_offsets point at the data, in the caller's order, after the reserved region. */
static void test_offsets_and_reserved_region(void **state) {
  built *b = *state;
  assert_int_equal(b->resv, 20 * 2048);
  for (uint64_t i = 0; i < sample_opts.reserved_size; i++)
    if (b->iso[b->resv + i]) fail_msg("reserved byte %llu is not zero", (unsigned long long)i);
  uint64_t prev = b->resv + sample_opts.reserved_size;
  for (size_t i = 0; i < b->s.n; i++) {
    assert_true(b->offs[i] % 2048 == 0 && b->offs[i] >= prev);
    assert_true(b->offs[i] + b->s.size[i] <= b->iso_len);
    if (i > 0) assert_memory_equal(b->iso + b->offs[i], b->s.data[i], b->s.size[i]);
    prev = b->offs[i] + b->s.size[i];
  }
  /* Sectors 0-15 are the system area, left zero. */
  for (size_t i = 0; i < 16 * 2048; i++) assert_int_equal(b->iso[i], 0);
}

static void test_same_input_same_bytes(void **state) {
  built *b = *state;
  uint64_t offs[MAX_FILES], resv;
  build_to(&b->s, &sample_opts, b->dir, "y.iso", offs, &resv);
  char path[4200];
  snprintf(path, sizeof path, "%s/y.iso", b->dir);
  size_t len;
  cleanup_free uint8_t *again = read_file(path, &len);
  assert_int_equal(len, b->iso_len);
  assert_memory_equal(again, b->iso, len);
  assert_memory_equal(offs, b->offs, b->s.n * sizeof *offs);
}

/* The reserved region is an allocated extent of zeros, so a later writer can fill it. */
static void test_reserved_extent_is_allocated(void **state) {
  (void)state;
  core_image content = CORE_IMAGE_INIT;
  content.size = 5;
  core_error *err = NULL;
  assert_int_equal(core_image_add_copy(&content, 0, "hello", 5, &err), 0);
  core_iso_file f = {.path = "HELLO.TXT", .content = &content};
  core_iso_opts o = {.volume_id = "V", .mtime = 0, .reserved_size = 4096};
  cleanup_image core_image out = CORE_IMAGE_INIT;
  uint64_t off, resv;
  assert_int_equal(core_iso_build(&f, 1, &o, &out, &off, &resv, &err), 0);
  int found = 0;
  for (size_t i = 0; i < out.n; i++)
    if (out.v[i].kind == CORE_EXTENT_ZERO && out.v[i].offset == resv && out.v[i].length == 4096) found = 1;
  assert_true(found);
  char buf[5];
  assert_int_equal(core_image_read(&out, off, buf, 5, &err), 0);
  assert_memory_equal(buf, "hello", 5);
  core_image_release(&content);
}

/* An EFI image whose 512-byte count does not fit 16 bits gets count 0, which EDK2 reads as
 * "to the end of the volume" (spec/iso.md). */
static void test_large_efi_image(void **state) {
  require_tool("xorriso");
  const char *dir = *state;
  char path[4096];
  snprintf(path, sizeof path, "%s/big.img", dir);
  cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  uint64_t size = 40u << 20;
  assert_int_equal(ftruncate(fd, (off_t)size), 0);
  core_image content = CORE_IMAGE_INIT;
  content.size = size;
  core_error *err = NULL;
  assert_int_equal(core_image_add_fd(&content, 0, fd, 0, size, &err), 0);
  core_iso_file f = {.path = "EFI.IMG", .content = &content};
  core_iso_opts o = {.volume_id = "V", .efi_boot = "EFI.IMG"};
  cleanup_image core_image out = CORE_IMAGE_INIT;
  uint64_t off;
  assert_int_equal(core_iso_build(&f, 1, &o, &out, &off, NULL, &err), 0);
  snprintf(path, sizeof path, "%s/big.iso", dir);
  cleanup_close int iso = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  assert_int_equal(core_image_write_raw(&out, iso, &err), 0);
  char cmd[4200], *out_text, want[128];
  snprintf(cmd, sizeof cmd, "xorriso -indev %s -report_el_torito plain 2>/dev/null", path);
  assert_int_equal(run(cmd, &out_text), 0);
  snprintf(want, sizeof want, "El Torito boot img :   1  UEFI  y   none  0x0000  0x00      0  %10llu\n",
           (unsigned long long)off / 2048);
  if (!strstr(out_text, want)) fail_msg("want '%s' in:\n%s", want, out_text);
  free(out_text);
}

/* Each refusal names what is wrong. */
static void test_refusals(void **state) {
  (void)state;
  static const struct {
    const char *paths[3];
    const char *bios, *efi, *volume_id;
    size_t size;
    const char *want;
  } cases[] = {
      {{"lower.txt"}, NULL, NULL, NULL, 1, "'lower.txt' is not a level-1 name"},
      {{"TOOLONGNAME.TXT"}, NULL, NULL, NULL, 1, "'TOOLONGNAME.TXT' is not a level-1 name"},
      {{"A.TEXT"}, NULL, NULL, NULL, 1, "'A.TEXT' is not a level-1 name"},
      {{"A-B.TXT"}, NULL, NULL, NULL, 1, "not a level-1 name"},
      {{"A.B.C"}, NULL, NULL, NULL, 1, "not a level-1 name"},
      {{".TXT"}, NULL, NULL, NULL, 1, "not a level-1 name"},
      {{"DIR.X/F.TXT"}, NULL, NULL, NULL, 1, "directory 'DIR.X' is not a level-1 name"},
      {{"A//F.TXT"}, NULL, NULL, NULL, 1, "ISO path 'A//F.TXT': directory '' is not"},
      {{"/F.TXT"}, NULL, NULL, NULL, 1, "ISO path '/F.TXT'"},
      {{"A/"}, NULL, NULL, NULL, 1, "ISO path 'A/': file name ''"},
      {{""}, NULL, NULL, NULL, 1, "empty path"},
      {{"F.TXT", "F.TXT"}, NULL, NULL, NULL, 1, "'F.TXT' is given twice"},
      {{"A/F.TXT", "A"}, NULL, NULL, NULL, 1, "'A' is both a file and a directory"},
      {{"A", "A/F.TXT"}, NULL, NULL, NULL, 1, "'A' is both a file and a directory"},
      {{"A/B/C/D/E/F/G/H/F.TXT"}, NULL, NULL, NULL, 1, "deeper than ISO 9660's 8 levels"},
      {{"F.TXT"}, "G.TXT", NULL, NULL, 100, "BIOS boot file 'G.TXT' is not among"},
      {{"F.TXT"}, NULL, "G.IMG", NULL, 100, "EFI boot image 'G.IMG' is not among"},
      {{"F.TXT"}, "F.TXT", NULL, NULL, 63, "has 63 bytes"},
      {{"F.TXT"}, "F.TXT", NULL, NULL, (5u << 20), "has 5242880 bytes"},
      {{"F.TXT"}, "F.TXT", "F.TXT", NULL, 100, "both the BIOS boot file and the EFI boot image"},
      {{"F.TXT"}, NULL, NULL, "lower", 1, "volume id 'lower'"},
      {{"F.TXT"}, NULL, NULL, "", 1, "volume id ''"},
      {{"F.TXT"}, NULL, NULL, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", 1, "volume id"},
      {{"BIG.IMG"}, NULL, NULL, NULL, (size_t)1 << 32, "'BIG.IMG' has 4294967296 bytes"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    core_image imgs[3];
    core_iso_file files[3];
    size_t n = 0;
    for (; n < 3 && cases[c].paths[n]; n++) {
      imgs[n] = (core_image)CORE_IMAGE_INIT;
      imgs[n].size = cases[c].size; /* zeros: no extents needed */
      files[n] = (core_iso_file){.path = cases[c].paths[n], .content = &imgs[n]};
    }
    core_iso_opts o = {.volume_id = cases[c].volume_id ? cases[c].volume_id : "V", .bios_boot = cases[c].bios, .efi_boot = cases[c].efi};
    core_image out = CORE_IMAGE_INIT;
    core_error *err = NULL;
    assert_int_equal(core_iso_build(files, n, &o, &out, NULL, NULL, &err), -1);
    assert_non_null(err);
    if (!strstr(err->msg, cases[c].want)) fail_msg("case %zu: '%s' does not say '%s'", c, err->msg, cases[c].want);
    assert_int_equal(out.size, 0);
    assert_null(out.v);
    core_error_free(err);
  }
  /* The limits themselves are fine: 8 levels and a 4 GiB - 1 file. */
  core_image img = CORE_IMAGE_INIT;
  img.size = UINT32_MAX;
  core_iso_file f = {.path = "A/B/C/D/E/F/G/F.TXT", .content = &img};
  core_iso_opts o = {.volume_id = "V"};
  cleanup_image core_image out = CORE_IMAGE_INIT;
  core_error *err = NULL;
  assert_int_equal(core_iso_build(&f, 1, &o, &out, NULL, NULL, &err), 0);
}

/* Starts QEMU with ARGS (serial console to DIR/serial.log) and waits up to a minute for
 * MARKER on the serial console; then stops that QEMU. Returns whether MARKER appeared. */
static int boot_until(const char *dir, const char *args, const char *marker) {
  char log[4096], cmd[8192];
  snprintf(log, sizeof log, "%s/serial.log", dir);
  unlink(log);
  /* exec: the shell becomes QEMU, so the pid is QEMU's own */
  snprintf(cmd, sizeof cmd, "exec qemu-system-x86_64 -m 256 -display none -monitor none -no-reboot -serial file:%s %s </dev/null >%s/qemu.out 2>&1",
           log, args, dir);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  int found = 0;
  for (int i = 0; i < 600 && !found; i++) {
    nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
    FILE *f = fopen(log, "rb");
    if (f == NULL) continue;
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (size_t j = 0; j < n; j++)
      if (buf[j] == '\0') buf[j] = ' '; /* consoles write NULs sometimes */
    found = strstr(buf, marker) != NULL;
    if (waitpid(pid, NULL, WNOHANG) == pid) {
      pid = -1;
      break;
    }
  }
  if (pid > 0) {
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
  }
  return found;
}

static void require_file(const char *path) {
  if (access(path, R_OK) != 0) fail_msg("%s is missing (tests/setup-deps.sh installs it)", path);
}

/* A FAT image of MIB MiB holding systemd-boot as the removable-media loader. */
static void make_efi_image(const char *dir, const char *name, int mib) {
  require_tool("mkfs.fat");
  require_tool("mmd");
  require_file("/usr/lib/systemd/boot/efi/systemd-bootx64.efi");
  char cmd[8192];
  snprintf(cmd, sizeof cmd,
           "cd %s && rm -f %s && mkfs.fat -C %s %d >/dev/null && mmd -i %s ::/EFI ::/EFI/BOOT && "
           "mcopy -i %s /usr/lib/systemd/boot/efi/systemd-bootx64.efi ::/EFI/BOOT/BOOTX64.EFI",
           dir, name, name, mib * 1024, name, name);
  assert_int_equal(run(cmd, NULL), 0);
}

/* Content from a host file, through its descriptor (kept open in *FD). */
static void host_content(core_image *img, const char *path, int *fd) {
  require_file(path);
  *fd = open(path, O_RDONLY | O_CLOEXEC);
  assert_true(*fd >= 0);
  struct stat st;
  assert_int_equal(fstat(*fd, &st), 0);
  *img = (core_image)CORE_IMAGE_INIT;
  img->size = (uint64_t)st.st_size;
  core_error *err = NULL;
  assert_int_equal(core_image_add_fd(img, 0, *fd, 0, img->size, &err), 0);
}

static void write_iso(const char *dir, const char *name, core_iso_file *files, size_t n, const core_iso_opts *o) {
  cleanup_image core_image out = CORE_IMAGE_INIT;
  core_error *err = NULL;
  if (core_iso_build(files, n, o, &out, NULL, NULL, &err) < 0) fail_msg("core_iso_build: %s", err->msg);
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  if (core_image_write_raw(&out, fd, &err) < 0) fail_msg("writing the ISO: %s", err->msg);
}

/* The ISO the integrator makes: ISOLINUX for SeaBIOS, systemd-boot in a FAT image for OVMF.
 * ISOLINUX finds its own sectors only through the boot info table, then reads ldlinux.c32 and
 * its configuration from the file system; "Loading /ISOLINUX/NOPE" shows all of that worked.
 * systemd-boot's menu shows OVMF took the UEFI entry and mounted the FAT image. */
static void test_boots_under_seabios_and_ovmf(void **state) {
  const char *dir = *state;
  require_tool("qemu-system-x86_64");
  require_file("/usr/share/OVMF/OVMF_CODE_4M.fd");
  make_efi_image(dir, "efi.img", 2);
  char cfg_path[4096], efi_path[4096];
  snprintf(cfg_path, sizeof cfg_path, "%s/isolinux.cfg", dir);
  snprintf(efi_path, sizeof efi_path, "%s/efi.img", dir);
  FILE *cfg = fopen(cfg_path, "w");
  assert_non_null(cfg);
  fputs("SERIAL 0 115200\nDEFAULT x\nLABEL x\n  KERNEL /ISOLINUX/NOPE\n", cfg);
  fclose(cfg);
  core_image imgs[4];
  int fds[4];
  host_content(&imgs[0], "/usr/lib/ISOLINUX/isolinux.bin", &fds[0]);
  host_content(&imgs[1], "/usr/lib/syslinux/modules/bios/ldlinux.c32", &fds[1]);
  host_content(&imgs[2], cfg_path, &fds[2]);
  host_content(&imgs[3], efi_path, &fds[3]);
  core_iso_file files[] = {
      {"ISOLINUX/ISOLINUX.BIN", &imgs[0]},
      {"ISOLINUX/LDLINUX.C32", &imgs[1]},
      {"ISOLINUX/ISOLINUX.CFG", &imgs[2]},
      {"EFI/EFIBOOT.IMG", &imgs[3]},
  };
  core_iso_opts o = {.volume_id = "CORE_BOOT", .mtime = MTIME, .bios_boot = files[0].path, .efi_boot = files[3].path, .reserved_size = 4096};
  write_iso(dir, "boot.iso", files, 4, &o);
  for (int i = 0; i < 4; i++) close(fds[i]), core_image_release(&imgs[i]);

  char args[8192];
  snprintf(args, sizeof args, "-cdrom %s/boot.iso", dir);
  if (!boot_until(dir, args, "Loading /ISOLINUX/NOPE")) fail_msg("ISOLINUX did not reach its configured label under SeaBIOS");
  snprintf(args, sizeof args,
           "-machine q35 -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd -cdrom %s/boot.iso", dir);
  if (!boot_until(dir, args, "Reboot Into Firmware Interface")) fail_msg("systemd-boot did not start under OVMF");
}

/* A 40 MiB FAT image: its sector count does not fit, 0 is written, and OVMF still boots it. */
static void test_large_efi_image_boots_under_ovmf(void **state) {
  const char *dir = *state;
  require_tool("qemu-system-x86_64");
  require_file("/usr/share/OVMF/OVMF_CODE_4M.fd");
  make_efi_image(dir, "big.img", 40);
  char efi_path[4096];
  snprintf(efi_path, sizeof efi_path, "%s/big.img", dir);
  core_image img;
  int fd;
  host_content(&img, efi_path, &fd);
  core_iso_file f = {"EFIBOOT.IMG", &img};
  core_iso_opts o = {.volume_id = "CORE_BIG", .mtime = MTIME, .efi_boot = f.path};
  write_iso(dir, "big.iso", &f, 1, &o);
  close(fd);
  core_image_release(&img);
  char args[8192];
  snprintf(args, sizeof args,
           "-machine q35 -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd -cdrom %s/big.iso", dir);
  if (!boot_until(dir, args, "Reboot Into Firmware Interface")) fail_msg("systemd-boot did not start under OVMF from a 40 MiB image");
}

/* Content that is not a well-formed image is refused before anything is moved. */
static void test_bad_content_moves_nothing(void **state) {
  (void)state;
  core_image good = CORE_IMAGE_INIT, bad = CORE_IMAGE_INIT;
  core_error *err = NULL;
  good.size = 2, bad.size = 2;
  assert_int_equal(core_image_add_copy(&good, 0, "ok", 2, &err), 0);
  assert_int_equal(core_image_add_copy(&bad, 1, "xyz", 3, &err), 0); /* beyond its 2 bytes */
  core_iso_file files[] = {{"GOOD.TXT", &good}, {"BAD.TXT", &bad}};
  core_iso_opts o = {.volume_id = "V"};
  core_image out = CORE_IMAGE_INIT;
  assert_int_equal(core_iso_build(files, 2, &o, &out, NULL, NULL, &err), -1);
  assert_non_null(strstr(err->msg, "ISO path 'BAD.TXT': image extent"));
  core_error_free(err);
  assert_int_equal(good.n, 1);
  assert_int_equal(good.size, 2);
  assert_null(out.v);
  core_image_release(&good);
  core_image_release(&bad);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_xorriso_lists_files),
      cmocka_unit_test(test_isoinfo_volume_and_catalog),
      cmocka_unit_test(test_order_and_isovfy),
      cmocka_unit_test(test_el_torito_entries),
      cmocka_unit_test(test_isoinfo_extracts_bytes),
      cmocka_unit_test(test_libarchive_reads_back),
      cmocka_unit_test(test_offsets_and_reserved_region),
      cmocka_unit_test(test_same_input_same_bytes),
  };
  const struct CMUnitTest alone[] = {
      cmocka_unit_test(test_reserved_extent_is_allocated),
      cmocka_unit_test_setup_teardown(test_large_efi_image, make_tmpdir, remove_tmpdir),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_bad_content_moves_nothing),
      cmocka_unit_test_setup_teardown(test_boots_under_seabios_and_ovmf, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_large_efi_image_boots_under_ovmf, make_tmpdir, remove_tmpdir),
  };
  int failed = cmocka_run_group_tests_name("iso9660 sample volume", tests, setup_built, teardown_built);
  return failed + cmocka_run_group_tests_name("iso9660", alone, NULL, NULL);
}
