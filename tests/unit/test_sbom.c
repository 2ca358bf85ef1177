/* Unit tests for linker/sbom.c and linker/deb_control.c: the package databases found in a
 * finished tree (and which source wrote them), package URLs, a .deb's control data made by
 * dpkg-deb, and .debs whose control member is missing or hostile. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "tmpdir.h"
#include "tool_run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "deb_control.h"
#include "sbom.h"

static void add_text(core_rootfs *fs, const char *path, const char *text) {
  core_buf b = CORE_BUF_INIT;
  core_error *err = NULL;
  assert_int_equal(core_buf_append(&b, text, strlen(text), &err), 0);
  assert_int_equal(core_rootfs_add(fs, path, CORE_NODE_FILE, 0644, 0, 0, NULL, &b, &err), 0);
}

static void test_scan_rootfs(void **state) {
  (void)state;
  cleanup_rootfs core_rootfs fs = CORE_ROOTFS_INIT;
  cleanup_pkg_list core_pkg_list l = {0};
  core_error *err = NULL;
  /* Layer 0 writes a status file, layer 1 replaces it: the tree's (layer 1's) counts. */
  fs.origin = 0;
  add_text(&fs, "var/lib/dpkg/status", "Package: old\nVersion: 1\nStatus: install ok installed\n");
  fs.origin = 1;
  add_text(&fs, "var/lib/dpkg/status",
           "Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\nStatus: install ok installed\n\n"
           "Package: gone\nVersion: 1\nStatus: deinstall ok config-files\n");
  fs.origin = CORE_ORIGIN_LINKER;
  add_text(&fs, "lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nA:x86_64\n");
  assert_int_equal(core_rootfs_finish(&fs, &err), 0);
  assert_int_equal(core_sbom_scan_rootfs(&fs, &l, &err), 0);
  core_pkg_list_sort(&l);
  assert_int_equal(l.n, 2);
  assert_string_equal(l.v[0].name, "libc6");
  assert_string_equal(l.v[0].type, "deb");
  assert_int_equal(l.v[0].source, 2); /* layer 1 is source 2: the kernel is source 0 */
  assert_string_equal(l.v[1].name, "musl");
  assert_string_equal(l.v[1].type, "apk");
  assert_int_equal(l.v[1].source, -1);
}

static void test_scan_not_a_file(void **state) {
  (void)state;
  /* A status "file" that is a directory or a symlink lists nothing; an empty tree neither. */
  cleanup_rootfs core_rootfs fs = CORE_ROOTFS_INIT;
  cleanup_pkg_list core_pkg_list l = {0};
  core_error *err = NULL;
  assert_int_equal(core_rootfs_add(&fs, "var/lib/dpkg/status", CORE_NODE_DIR, 0755, 0, 0, NULL, NULL, &err), 0);
  assert_int_equal(core_rootfs_add(&fs, "lib/apk/db/installed", CORE_NODE_SYMLINK, 0777, 0, 0, strdup("/etc/passwd"), NULL,
                                   &err), 0);
  assert_int_equal(core_rootfs_finish(&fs, &err), 0);
  assert_int_equal(core_sbom_scan_rootfs(&fs, &l, &err), 0);
  assert_int_equal(l.n, 0);
}

static void test_purl(void **state) {
  (void)state;
  core_pkg p = {.name = "libstdc++6", .version = "1:12.2.0-14+deb12u1", .arch = "amd64", .type = "deb"};
  char *s = core_pkg_purl(&p);
  assert_string_equal(s, "pkg:deb/debian/libstdc%2B%2B6@1%3A12.2.0-14%2Bdeb12u1?arch=amd64");
  free(s);
  core_pkg a = {.name = "musl", .version = "1.2.4-r2", .type = "apk"};
  s = core_pkg_purl(&a);
  assert_string_equal(s, "pkg:apk/alpine/musl@1.2.4-r2");
  free(s);
}

/* A .deb made by dpkg-deb, the reference tool: its control file comes back whole. */
static void test_deb_control(void **state) {
  (void)state;
  char *out = NULL;
  int rc = tool_run("mkdir -p pkg/DEBIAN pkg/usr/bin && echo hi >pkg/usr/bin/hi && "
                    "printf 'Package: hello-core\\nVersion: 2:1.0-1\\nArchitecture: amd64\\nMaintainer: t <t@example.org>\\n"
                    "Description: test\\n' >pkg/DEBIAN/control && dpkg-deb --root-owner-group -Zxz --build pkg hello.deb",
                    &out);
  if (rc != 0) fail_msg("dpkg-deb failed (install dpkg): %s", out ? out : "");
  free(out);
  cleanup_buf core_buf control = CORE_BUF_INIT;
  core_error *err = NULL;
  assert_int_equal(core_deb_control_read("hello.deb", &control, &err), 0);
  cleanup_pkg_list core_pkg_list l = {0};
  assert_int_equal(core_pkgdb_parse(CORE_PKGDB_DEB_CONTROL, (const char *)control.data, control.len, 0, &l, &err), 0);
  assert_int_equal(l.n, 1);
  assert_string_equal(l.v[0].name, "hello-core");
  assert_string_equal(l.v[0].version, "2:1.0-1");
  assert_string_equal(l.v[0].arch, "amd64");
}

static void expect_refused(const char *setup, const char *want) {
  char *out = NULL;
  if (tool_run(setup, &out) != 0) fail_msg("setting up failed: %s", out ? out : "");
  free(out);
  cleanup_buf core_buf control = CORE_BUF_INIT;
  core_error *err = NULL;
  assert_int_equal(core_deb_control_read("bad.deb", &control, &err), -1);
  if (strstr(err->msg, want) == NULL) fail_msg("'%s' does not say '%s'", err->msg, want);
  core_error_freep(&err);
}

static void test_deb_control_hostile(void **state) {
  (void)state;
  /* No control member at all; a control.tar without ./control; a control file past the bound
   * (its header claims less than the data holds is not needed: the data is counted as read). */
  expect_refused("printf '2.0\\n' >debian-binary && tar cf data.tar --files-from /dev/null && "
                 "rm -f bad.deb && ar rc bad.deb debian-binary data.tar",
                 "no control.tar member");
  expect_refused("mkdir -p c && echo x >c/postinst && tar -C c -czf control.tar.gz ./postinst && "
                 "rm -f bad.deb && ar rc bad.deb debian-binary control.tar.gz data.tar",
                 "no control file");
  expect_refused("mkdir -p big && head -c 2000000 /dev/zero | tr '\\0' 'a' >big/control && "
                 "tar -C big -czf control.tar.gz ./control && rm -f bad.deb && ar rc bad.deb debian-binary control.tar.gz data.tar",
                 "larger than");
  expect_refused("head -c 4096 /dev/urandom >bad.deb", "Debian package");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scan_rootfs),
      cmocka_unit_test(test_scan_not_a_file),
      cmocka_unit_test(test_purl),
      cmocka_unit_test_setup_teardown(test_deb_control, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_deb_control_hostile, enter_tmpdir, leave_tmpdir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
