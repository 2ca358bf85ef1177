/* Unit tests for linker/uki.c: the sections objdump (binutils, an independent PE reader) finds
 * in the UKI, their bytes, and the stubs it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cleanup.h"
#include "fsutil.h"
#include "tmpdir.h"
#include "uki.h"

#define STUB "/usr/lib/systemd/boot/efi/linuxx64.efi.stub"

static const uint8_t kernel[] = "KERNEL-BYTES-0123456789";
static uint8_t initrd[3000];

static int build(const core_buf *stub, const char *path, uint64_t *k, uint64_t *i, core_error **err) {
  core_uki_input in = {.stub = stub->data, .stub_size = stub->len, .stub_name = "stub", .cmdline = "console=ttyS0 quiet",
                       .osrel = "ID=core\n", .kernel = kernel, .kernel_size = sizeof kernel, .initrd = initrd,
                       .initrd_size = sizeof initrd};
  cleanup_image core_image img = CORE_IMAGE_INIT;
  if (core_uki_build(&in, &img, k, i, err) < 0) return -1;
  cleanup_close int fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
  return core_image_write_raw(&img, fd, err);
}

static void test_sections_read_by_objdump(void **state) {
  core_error *err = NULL;
  cleanup_buf core_buf stub = CORE_BUF_INIT;
  assert_int_equal(core_read_file(STUB, &stub, &err), 0); /* Debian's systemd-boot-efi: make deps installs it */
  for (size_t i = 0; i < sizeof initrd; i++) initrd[i] = (uint8_t)(i * 7 + 1);
  char path[256], cmd[1200], out[300];
  snprintf(path, sizeof path, "%s/uki.efi", (char *)*state);
  uint64_t k, i;
  assert_int_equal(build(&stub, path, &k, &i, &err), 0);
  assert_null(err);
  /* objdump -h: name, size, VMA, LMA, file offset of every section. */
  snprintf(cmd, sizeof cmd, "objdump -h '%s' | awk '$2 ~ /^\\./ {print $2, $3, $6}' > '%s.sections'", path, path);
  assert_int_equal(system(cmd), 0);
  snprintf(out, sizeof out, "%s.sections", path);
  cleanup_buf core_buf sections = CORE_BUF_INIT;
  assert_int_equal(core_read_file(out, &sections, &err), 0);
  assert_int_equal(core_buf_append(&sections, "", 1, &err), 0);
  char want[256];
  snprintf(want, sizeof want, ".linux %08zx %08llx\n.initrd %08zx %08llx", sizeof kernel, (unsigned long long)k,
           sizeof initrd, (unsigned long long)i);
  assert_non_null(strstr((char *)sections.data, want));
  assert_non_null(strstr((char *)sections.data, ".cmdline 00000013"));
  assert_non_null(strstr((char *)sections.data, ".osrel 00000008"));
  assert_non_null(strstr((char *)sections.data, ".text")); /* the stub's own sections stay */
  /* The bytes at the reported offsets are the kernel's and the initramfs's. */
  cleanup_buf core_buf file = CORE_BUF_INIT;
  assert_int_equal(core_read_file(path, &file, &err), 0);
  assert_memory_equal(file.data + k, kernel, sizeof kernel);
  assert_memory_equal(file.data + i, initrd, sizeof initrd);
  assert_int_equal(file.len % 512, 0);
  /* objcopy extracts the command line as written. */
  snprintf(cmd, sizeof cmd, "objcopy -O binary --only-section=.cmdline '%s' '%s.cmdline' && grep -qx 'console=ttyS0 quiet' '%s.cmdline'",
           path, path, path);
  assert_int_equal(system(cmd), 0);
}

static void test_refuses_bad_stubs(void **state) {
  core_error *err = NULL;
  cleanup_buf core_buf stub = CORE_BUF_INIT;
  assert_int_equal(core_read_file(STUB, &stub, &err), 0);
  char path[256];
  snprintf(path, sizeof path, "%s/bad.efi", (char *)*state);
  uint64_t k, i;
  struct {
    size_t at;
    uint8_t value;
    const char *message;
  } cases[] = {
      {0, 'X', "no MZ header"},
      {0x3c, 0xff, "no PE signature"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    core_buf bad = CORE_BUF_INIT;
    assert_int_equal(core_buf_append(&bad, stub.data, stub.len, &err), 0);
    bad.data[cases[c].at] = cases[c].value;
    assert_int_equal(build(&bad, path, &k, &i, &err), -1);
    assert_non_null(strstr(err->msg, cases[c].message));
    core_error_freep(&err);
    core_buf_release(&bad);
  }
  /* Truncated anywhere: refused, never read past the end. */
  for (size_t n = 0; n < stub.len; n += stub.len / 64 + 1) {
    core_buf cut = {stub.data, n, n};
    int r = build(&cut, path, &k, &i, &err);
    if (r < 0) core_error_freep(&err);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_sections_read_by_objdump, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_refuses_bad_stubs, make_tmpdir, remove_tmpdir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
