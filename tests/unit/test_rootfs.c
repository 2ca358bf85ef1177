/* Unit tests for linker/rootfs.c: nodes and layers merged into one sorted tree, modes and
 * owners of directory layers normalised, tar layers kept as they are, escapes refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "tmpdir.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs.h"

static void put_file(const char *dir, const char *rel, const char *text, mode_t mode) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  assert_int_equal(fchmod(fd, mode), 0); /* exact, whatever the umask */
  close(fd);
}

static void put_dir(const char *dir, const char *rel, mode_t mode) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  assert_int_equal(mkdir(path, 0700), 0);
  assert_int_equal(chmod(path, mode), 0);
}

static void put_symlink(const char *dir, const char *rel, const char *target) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  assert_int_equal(symlink(target, path), 0);
}

static const core_node *find(const core_rootfs *fs, const char *path) {
  const core_node *n = core_rootfs_find(fs, path);
  if (n == NULL) fail_msg("'%s' is not in the tree", path);
  return n;
}

static void assert_file(const core_rootfs *fs, const char *path, const char *text, mode_t perm, uint32_t uid,
                        uint32_t gid) {
  const core_node *n = find(fs, path);
  assert_int_equal(n->type, CORE_NODE_FILE);
  if (n->perm != perm) fail_msg("'%s' has mode %04o, expected %04o", path, (unsigned)n->perm, (unsigned)perm);
  assert_int_equal(n->uid, uid);
  assert_int_equal(n->gid, gid);
  assert_int_equal(n->data.len, strlen(text));
  if (n->data.len) assert_memory_equal(n->data.data, text, n->data.len);
}

static void assert_sorted_unique(const core_rootfs *fs) {
  for (size_t i = 1; i < fs->n; i++)
    if (strcmp(fs->nodes[i - 1].path, fs->nodes[i].path) >= 0)
      fail_msg("'%s' comes before '%s'", fs->nodes[i - 1].path, fs->nodes[i].path);
}

/* Adds a node with a copy of text as its data. */
static void add_file(core_rootfs *fs, const char *path, const char *text, mode_t perm) {
  core_error *err = NULL;
  core_buf data = CORE_BUF_INIT;
  assert_int_equal(core_buf_append(&data, text, strlen(text), &err), 0);
  assert_int_equal(core_rootfs_add(fs, path, CORE_NODE_FILE, perm, 0, 0, NULL, &data, &err), 0);
  assert_null(data.data); /* moved into the tree */
}

typedef struct tar_entry {
  const char *name;
  int type;
  mode_t perm;
  int64_t uid, gid;
  const char *data; /* contents, symlink target or hard link target */
} tar_entry;

/* Writes a tar with libarchive, so owners and names are exactly what the test says. */
static void write_tar(const char *path, const tar_entry *entries, size_t n) {
  struct archive *a = archive_write_new();
  struct archive_entry *e = archive_entry_new();
  assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
  assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
  for (size_t i = 0; i < n; i++) {
    const tar_entry *t = &entries[i];
    archive_entry_clear(e);
    archive_entry_set_pathname(e, t->name);
    size_t len = 0;
    if (t->type == AE_IFLNK) {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_symlink(e, t->data);
    } else if (t->type == 0) { /* a hard link */
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_hardlink(e, t->data);
    } else {
      archive_entry_set_filetype(e, (unsigned)t->type);
      if (t->type == AE_IFREG) len = strlen(t->data);
    }
    archive_entry_set_perm(e, t->perm);
    archive_entry_set_uid(e, t->uid);
    archive_entry_set_gid(e, t->gid);
    archive_entry_set_size(e, (la_int64_t)len);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    if (len) assert_int_equal(archive_write_data(a, t->data, len), (la_ssize_t)len);
  }
  assert_int_equal(archive_write_close(a), ARCHIVE_OK);
  archive_entry_free(e);
  archive_write_free(a);
}

static void test_nodes(void **state) {
  (void)state;
  core_error *err = NULL;
  core_rootfs fs = CORE_ROOTFS_INIT;
  add_file(&fs, "usr/bin/b", "b1", 0755);
  add_file(&fs, "etc/hostname", "old", 0644);
  add_file(&fs, "usr/bin/a", "a", 04755); /* setuid survives: only permission bits are kept */
  char *target = strdup("busybox");
  assert_int_equal(core_rootfs_add(&fs, "bin/sh", CORE_NODE_SYMLINK, 0777, 0, 0, target, NULL, &err), 0);
  assert_int_equal(core_rootfs_add(&fs, "dev/console", CORE_NODE_CHAR, 0600, 0, 5, NULL, NULL, &err), 0);
  add_file(&fs, "etc/hostname", "new", 0600);
  /* Before finishing, find sees the latest addition. */
  assert_memory_equal(find(&fs, "etc/hostname")->data.data, "new", 3);

  assert_int_equal(core_rootfs_finish(&fs, &err), 0);
  assert_null(err);
  assert_sorted_unique(&fs);
  static const char *const want[] = {"bin", "bin/sh", "dev", "dev/console", "etc", "etc/hostname",
                                     "usr", "usr/bin", "usr/bin/a", "usr/bin/b"};
  assert_int_equal(fs.n, sizeof want / sizeof *want);
  for (size_t i = 0; i < fs.n; i++) assert_string_equal(fs.nodes[i].path, want[i]);
  /* Missing parents are root-owned 0755 directories. */
  for (size_t i = 0; i < fs.n; i++) {
    if (strchr(want[i], '/')) continue;
    assert_int_equal(fs.nodes[i].type, CORE_NODE_DIR);
    assert_int_equal(fs.nodes[i].perm, 0755);
    assert_int_equal(fs.nodes[i].uid, 0);
  }
  assert_file(&fs, "etc/hostname", "new", 0600, 0, 0);
  assert_file(&fs, "usr/bin/a", "a", 04755, 0, 0);
  assert_string_equal(find(&fs, "bin/sh")->target, "busybox");
  assert_int_equal(find(&fs, "dev/console")->gid, 5);
  assert_null(core_rootfs_find(&fs, "usr/bin/c"));
  assert_null(core_rootfs_find(&fs, "usr/bi"));
  core_rootfs_release(&fs);
  assert_int_equal(fs.n, 0);
  assert_null(fs.nodes);
}

static void test_parent_not_a_directory(void **state) {
  (void)state;
  core_error *err = NULL;
  core_rootfs fs = CORE_ROOTFS_INIT;
  add_file(&fs, "etc", "a file where a directory must be", 0644);
  add_file(&fs, "etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644);
  assert_int_equal(core_rootfs_finish(&fs, &err), -1);
  assert_non_null(err);
  assert_non_null(strstr(err->msg, "'etc'"));
  core_error_free(err);
  core_rootfs_release(&fs);
}

static void test_directory_layer(void **state) {
  const char *tmp = *state;
  char layer[256];
  snprintf(layer, sizeof layer, "%s/layer", tmp);
  put_dir(tmp, "layer", 0700);
  put_file(layer, "run.sh", "#!/bin/sh\necho hi\n", 0700);
  put_file(layer, "secret.conf", "key=value\n", 0600);
  put_file(layer, "group-exec", "x", 0710);
  put_file(layer, "plain", "", 0664);
  put_dir(layer, "sub", 0700);
  put_file(layer, "sub/data.txt", "data", 0640);
  put_dir(layer, "sub/empty", 0750);
  put_symlink(layer, "link", "sub/data.txt");
  put_symlink(layer, "dangling", "/nowhere/at/all");

  core_error *err = NULL;
  core_rootfs fs = CORE_ROOTFS_INIT;
  assert_int_equal(core_rootfs_add_layer(&fs, layer, "", &err), 0);
  assert_int_equal(core_rootfs_finish(&fs, &err), 0);
  assert_null(err);
  assert_sorted_unique(&fs);
  static const char *const want[] = {"dangling", "group-exec", "link", "plain", "run.sh",
                                     "secret.conf", "sub", "sub/data.txt", "sub/empty"};
  assert_int_equal(fs.n, sizeof want / sizeof *want); /* the layer's root itself is not an entry */
  for (size_t i = 0; i < fs.n; i++) assert_string_equal(fs.nodes[i].path, want[i]);

  /* A checkout carries the builder's modes and owner: executable or not is all that is kept. */
  assert_file(&fs, "run.sh", "#!/bin/sh\necho hi\n", 0755, 0, 0);
  assert_file(&fs, "secret.conf", "key=value\n", 0644, 0, 0);
  assert_file(&fs, "group-exec", "x", 0755, 0, 0);
  assert_file(&fs, "plain", "", 0644, 0, 0);
  assert_file(&fs, "sub/data.txt", "data", 0644, 0, 0);
  for (size_t i = 0; i < fs.n; i++) {
    assert_int_equal(fs.nodes[i].uid, 0);
    assert_int_equal(fs.nodes[i].gid, 0);
  }
  const core_node *sub = find(&fs, "sub");
  assert_int_equal(sub->type, CORE_NODE_DIR);
  assert_int_equal(sub->perm, 0755);
  assert_int_equal(find(&fs, "sub/empty")->perm, 0755);
  const core_node *link = find(&fs, "link");
  assert_int_equal(link->type, CORE_NODE_SYMLINK);
  assert_string_equal(link->target, "sub/data.txt"); /* kept, not followed */
  assert_int_equal(link->data.len, 0);
  assert_string_equal(find(&fs, "dangling")->target, "/nowhere/at/all");
  core_rootfs_release(&fs);
}

static void test_layers_override_and_dest(void **state) {
  const char *tmp = *state;
  char one[256], two[256];
  snprintf(one, sizeof one, "%s/one", tmp);
  snprintf(two, sizeof two, "%s/two", tmp);
  put_dir(tmp, "one", 0755);
  put_dir(tmp, "two", 0755);
  put_file(one, "config", "from one", 0644);
  put_file(one, "only-one", "1", 0644);
  put_file(two, "config", "from two", 0755);
  put_file(two, "only-two", "2", 0644);

  core_error *err = NULL;
  core_rootfs fs = CORE_ROOTFS_INIT;
  assert_int_equal(core_rootfs_add_layer(&fs, one, "", &err), 0);
  assert_int_equal(core_rootfs_add_layer(&fs, two, "", &err), 0);
  /* The same layer again under a destination, whose parents do not exist yet. */
  assert_int_equal(core_rootfs_add_layer(&fs, one, "opt/app", &err), 0);
  /* A node added after the layers replaces what they put there. */
  add_file(&fs, "only-one", "replaced", 0600);
  assert_int_equal(core_rootfs_finish(&fs, &err), 0);
  assert_null(err);
  assert_sorted_unique(&fs);

  assert_file(&fs, "config", "from two", 0755, 0, 0);
  assert_file(&fs, "only-one", "replaced", 0600, 0, 0);
  assert_file(&fs, "only-two", "2", 0644, 0, 0);
  assert_file(&fs, "opt/app/config", "from one", 0644, 0, 0);
  assert_file(&fs, "opt/app/only-one", "1", 0644, 0, 0);
  assert_int_equal(find(&fs, "opt")->type, CORE_NODE_DIR);
  assert_int_equal(find(&fs, "opt/app")->type, CORE_NODE_DIR);
  assert_int_equal(fs.n, 7);
  core_rootfs_release(&fs);
}

static void test_tar_layer(void **state) {
  const char *tmp = *state;
  char tar[256];
  snprintf(tar, sizeof tar, "%s/layer.tar", tmp);
  const tar_entry entries[] = {
      {"./", AE_IFDIR, 0755, 0, 0, NULL},
      {"./home/", AE_IFDIR, 0755, 0, 0, NULL},
      {"./home/user/", AE_IFDIR, 0700, 1000, 1000, NULL},
      {"./home/user/notes", AE_IFREG, 0600, 1000, 100, "private notes"},
      {"./usr/bin/tool", AE_IFREG, 04750, 0, 50, "#!/bin/sh\n"},
      {"./usr/bin/alias", 0, 0755, 0, 50, "./usr/bin/tool"},
      {"./usr/bin/sym", AE_IFLNK, 0777, 7, 8, "tool"},
  };
  write_tar(tar, entries, sizeof entries / sizeof *entries);

  core_error *err = NULL;
  core_rootfs fs = CORE_ROOTFS_INIT;
  int rc = core_rootfs_add_layer(&fs, tar, "", &err);
  if (rc != 0) fail_msg("%s", err->msg);
  assert_int_equal(core_rootfs_finish(&fs, &err), 0);
  assert_sorted_unique(&fs);

  /* A tar says who owns what, and that is kept, modes included. */
  const core_node *home = find(&fs, "home/user");
  assert_int_equal(home->type, CORE_NODE_DIR);
  assert_int_equal(home->perm, 0700);
  assert_int_equal(home->uid, 1000);
  assert_int_equal(home->gid, 1000);
  assert_file(&fs, "home/user/notes", "private notes", 0600, 1000, 100);
  assert_file(&fs, "usr/bin/tool", "#!/bin/sh\n", 04750, 0, 50);
  /* A hard link becomes a copy of what it names. */
  assert_file(&fs, "usr/bin/alias", "#!/bin/sh\n", 0755, 0, 50);
  const core_node *sym = find(&fs, "usr/bin/sym");
  assert_int_equal(sym->type, CORE_NODE_SYMLINK);
  assert_string_equal(sym->target, "tool");
  assert_int_equal(sym->uid, 7);
  assert_int_equal(sym->gid, 8);
  /* Parents the tar left out are made. */
  assert_int_equal(find(&fs, "usr")->type, CORE_NODE_DIR);
  assert_int_equal(find(&fs, "usr/bin")->type, CORE_NODE_DIR);
  assert_int_equal(fs.n, 8);
  core_rootfs_release(&fs);
}

static void expect_layer_error(const char *source, const char *want) {
  core_error *err = NULL;
  core_rootfs fs = CORE_ROOTFS_INIT;
  assert_int_equal(core_rootfs_add_layer(&fs, source, "", &err), -1);
  assert_non_null(err);
  if (strstr(err->msg, want) == NULL) fail_msg("message '%s' does not mention '%s'", err->msg, want);
  core_error_free(err);
  core_rootfs_release(&fs);
}

static void test_escapes_refused(void **state) {
  const char *tmp = *state;
  char tar[256];
  snprintf(tar, sizeof tar, "%s/evil.tar", tmp);

  const tar_entry up[] = {{"../evil", AE_IFREG, 0644, 0, 0, "x"}};
  write_tar(tar, up, 1);
  expect_layer_error(tar, "escapes the root with");

  const tar_entry deep[] = {{"etc/", AE_IFDIR, 0755, 0, 0, NULL}, {"etc/../../evil", AE_IFREG, 0644, 0, 0, "x"}};
  write_tar(tar, deep, 2);
  expect_layer_error(tar, "escapes the root with");

  const tar_entry hard[] = {{"etc/passwd", 0, 0644, 0, 0, "../../etc/passwd"}};
  write_tar(tar, hard, 1);
  expect_layer_error(tar, "escapes the root");

  /* A hard link to something not (yet) in the layer. */
  const tar_entry dangling[] = {{"a", 0, 0644, 0, 0, "b"}, {"b", AE_IFREG, 0644, 0, 0, "b"}};
  write_tar(tar, dangling, 2);
  expect_layer_error(tar, "hard link to 'b', which is not in the layer before it");

  /* Only files, directories and links: a FIFO is refused. */
  const tar_entry fifo[] = {{"pipe", AE_IFIFO, 0644, 0, 0, NULL}};
  write_tar(tar, fifo, 1);
  expect_layer_error(tar, "'pipe'");

  char missing[256];
  snprintf(missing, sizeof missing, "%s/does-not-exist", tmp);
  expect_layer_error(missing, missing);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nodes),
      cmocka_unit_test(test_parent_not_a_directory),
      cmocka_unit_test_setup_teardown(test_directory_layer, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_layers_override_and_dest, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_tar_layer, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_escapes_refused, make_tmpdir, remove_tmpdir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
