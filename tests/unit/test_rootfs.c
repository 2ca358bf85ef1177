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
#include <errno.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "layer_reader.h"
#include "rootfs.h"
#include "rootfs_fixture.h"


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
  assert_int_equal(n->size, strlen(text));
  cleanup_free char *got = node_text(fs, n);
  assert_string_equal(got, text);
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
  core_rootfs fs = fresh_fs();
  add_file(&fs, "usr/bin/b", "b1", 0755);
  add_file(&fs, "etc/hostname", "old", 0644);
  add_file(&fs, "usr/bin/a", "a", 04755); /* setuid survives: only permission bits are kept */
  char *target = strdup("busybox");
  assert_int_equal(core_rootfs_add(&fs, "bin/sh", CORE_NODE_SYMLINK, 0777, 0, 0, target, NULL, &err), 0);
  assert_int_equal(core_rootfs_add(&fs, "dev/console", CORE_NODE_CHAR, 0600, 0, 5, NULL, NULL, &err), 0);
  add_file(&fs, "etc/hostname", "new", 0600);
  /* Before finishing, find sees the latest addition. */
  cleanup_free char *latest = node_text(&fs, find(&fs, "etc/hostname"));
  assert_string_equal(latest, "new");

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

/* Before finishing, find answers from an index that grows with the tree: the latest node
 * of a path, whatever came between. */
static void test_find_while_adding(void **state) {
  (void)state;
  core_rootfs fs = fresh_fs();
  char path[32];
  for (int i = 0; i < 5000; i++) {
    snprintf(path, sizeof path, "d/f%d", i);
    add_file(&fs, path, i == 17 ? "old" : "", 0644);
    if (i == 3000) add_file(&fs, "d/f17", "new", 0600);
  }
  cleanup_free char *latest = node_text(&fs, find(&fs, "d/f17"));
  assert_string_equal(latest, "new");
  assert_non_null(find(&fs, "d/f4999"));
  assert_null(core_rootfs_find(&fs, "d/f5000"));
  core_error *err = NULL;
  assert_int_equal(core_rootfs_finish(&fs, &err), 0);
  assert_file(&fs, "d/f17", "new", 0600, 0, 0);
  assert_int_equal(fs.n, 5001);
  core_rootfs_release(&fs);
}

static void test_parent_not_a_directory(void **state) {
  (void)state;
  core_error *err = NULL;
  core_rootfs fs = fresh_fs();
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
  core_rootfs fs = fresh_fs();
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
  assert_int_equal(link->size, 0);
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
  core_rootfs fs = fresh_fs();
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
  core_rootfs fs = fresh_fs();
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
  core_rootfs fs = fresh_fs();
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

static void add_node(core_rootfs *fs, const char *path, core_node_type type, const char *target, int origin) {
  core_error *err = NULL;
  fs->origin = origin;
  char *t = target ? strdup(target) : NULL;
  assert_int_equal(core_rootfs_add(fs, path, type, type == CORE_NODE_DIR ? 0755 : 0644, 0, 0, t, NULL, &err), 0);
}

/* No path in the tree may leave it: relative, and without '.' or '..' components. */
static void assert_inside(const core_rootfs *fs) {
  for (size_t i = 0; i < fs->n; i++) {
    const char *p = fs->nodes[i].path;
    if (p[0] == '/' || p[0] == 0 || strstr(p, "//")) fail_msg("'%s' is not a relative path", p);
    cleanup_free char *copy = strdup(p);
    char *save = NULL;
    for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
      if (strcmp(c, ".") == 0 || strcmp(c, "..") == 0) fail_msg("'%s' has a '%s' component", p, c);
  }
}

static void expect_finish_error(core_rootfs *fs, const char *want, int origin) {
  core_error *err = NULL;
  assert_int_equal(core_rootfs_finish(fs, &err), -1);
  assert_non_null(err);
  if (strstr(err->msg, want) == NULL) fail_msg("message '%s' does not mention '%s'", err->msg, want);
  if (fs->error_origin != origin) fail_msg("blamed origin %d, expected %d (%s)", fs->error_origin, origin, err->msg);
  core_error_free(err);
}

/* Every current Debian and Ubuntu image: lib, bin and sbin are links into usr. A package
 * (or the linker's modules) writing lib/... lands in usr/lib/..., as dpkg would put it. */
static void test_usr_merge(void **state) {
  const char *tmp = *state;
  char base[256], pkg[256];
  snprintf(base, sizeof base, "%s/base.tar", tmp);
  snprintf(pkg, sizeof pkg, "%s/pkg.tar", tmp);
  const tar_entry image[] = {
      {"./", AE_IFDIR, 0755, 0, 0, NULL},          {"./usr/", AE_IFDIR, 0755, 0, 0, NULL},
      {"./usr/lib/", AE_IFDIR, 0755, 0, 0, NULL},  {"./usr/bin/", AE_IFDIR, 0755, 0, 0, NULL},
      {"./lib", AE_IFLNK, 0777, 0, 0, "usr/lib"},  {"./bin", AE_IFLNK, 0777, 0, 0, "usr/bin"},
      {"./lib64", AE_IFLNK, 0777, 0, 0, "/usr/lib64"},
  };
  const tar_entry package[] = {
      {"./", AE_IFDIR, 0755, 0, 0, NULL},
      {"./lib/", AE_IFDIR, 0700, 0, 0, NULL}, /* a directory does not replace the link */
      {"./lib/libc.so.6", AE_IFREG, 0644, 0, 0, "libc"},
      {"./bin/", AE_IFDIR, 0755, 0, 0, NULL},
      {"./bin/sh", AE_IFREG, 0755, 0, 0, "sh"},
      {"./lib64/ld.so", AE_IFREG, 0755, 0, 0, "ld"},
  };
  write_tar(base, image, sizeof image / sizeof *image);
  write_tar(pkg, package, sizeof package / sizeof *package);
  core_error *err = NULL;
  core_rootfs fs = fresh_fs();
  fs.origin = 0;
  assert_int_equal(core_rootfs_add_layer(&fs, base, "", &err), 0);
  fs.origin = 1;
  assert_int_equal(core_rootfs_add_layer(&fs, pkg, "", &err), 0);
  fs.origin = CORE_ORIGIN_LINKER;
  add_file(&fs, "lib/modules/6.1.0/kernel/drivers/acpi/button.ko", "ko", 0644);
  if (core_rootfs_finish(&fs, &err) < 0) fail_msg("%s", err->msg);
  assert_sorted_unique(&fs);
  assert_inside(&fs);
  assert_int_equal(find(&fs, "lib")->type, CORE_NODE_SYMLINK);
  assert_int_equal(find(&fs, "bin")->type, CORE_NODE_SYMLINK);
  assert_file(&fs, "usr/lib/libc.so.6", "libc", 0644, 0, 0);
  assert_file(&fs, "usr/bin/sh", "sh", 0755, 0, 0);
  assert_file(&fs, "usr/lib64/ld.so", "ld", 0755, 0, 0); /* absolute target: from the tree's root */
  assert_file(&fs, "usr/lib/modules/6.1.0/kernel/drivers/acpi/button.ko", "ko", 0644, 0, 0);
  assert_int_equal(find(&fs, "usr/lib64")->type, CORE_NODE_DIR);
  assert_null(core_rootfs_find(&fs, "lib/libc.so.6"));
  assert_null(core_rootfs_find(&fs, "lib/modules"));
  core_rootfs_release(&fs);

  /* An image layer replaces the link with its directory, as overlayfs shows it. */
  fs = fresh_fs();
  add_node(&fs, "lib", CORE_NODE_SYMLINK, "usr/lib", 0);
  add_node(&fs, "lib", CORE_NODE_DIR, NULL, 1);
  add_file(&fs, "lib/x", "x", 0644);
  assert_int_equal(core_rootfs_finish(&fs, &err), 0);
  assert_int_equal(find(&fs, "lib")->type, CORE_NODE_DIR);
  assert_file(&fs, "lib/x", "x", 0644, 0, 0);
  core_rootfs_release(&fs);
}

/* Hostile links: whatever they say, what is below them stays in the tree. */
static void test_link_escapes(void **state) {
  (void)state;
  static const struct {
    const char *target, *want;
  } cases[] = {
      {"../../../host", "host/modules/m.ko"},
      {"/etc/../..", "modules/m.ko"},
      {"/", "modules/m.ko"},
      {"..", "modules/m.ko"},
      {"./../usr/./lib/", "usr/lib/modules/m.ko"},
      {"/proc/self/root/../../x", "proc/x/modules/m.ko"}, /* nothing the host has is consulted */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    core_error *err = NULL;
    core_rootfs fs = fresh_fs();
    add_node(&fs, "lib", CORE_NODE_SYMLINK, cases[i].target, 0);
    fs.origin = CORE_ORIGIN_LINKER;
    add_file(&fs, "lib/modules/m.ko", "ko", 0644);
    if (core_rootfs_finish(&fs, &err) < 0) fail_msg("'%s': %s", cases[i].target, err->msg);
    assert_inside(&fs);
    assert_file(&fs, cases[i].want, "ko", 0644, 0, 0);
    core_rootfs_release(&fs);
  }

  /* Loops, direct and through other links, end in an error naming the layer at fault. */
  static const char *const loops[][2] = {{"a", "a"}, {"a", "b/../a"}, {"a", "/b"}, {"a", "./a/x"}};
  for (size_t i = 0; i < sizeof loops / sizeof *loops; i++) {
    core_rootfs fs = fresh_fs();
    add_node(&fs, loops[i][0], CORE_NODE_SYMLINK, loops[i][1], 0);
    add_node(&fs, "b", CORE_NODE_SYMLINK, "a", 0);
    fs.origin = 3;
    add_file(&fs, "a/file", "x", 0644);
    expect_finish_error(&fs, "symlinks", 3);
    core_rootfs_release(&fs);
  }

  /* A link to a file cannot hold anything. */
  core_rootfs fs = fresh_fs();
  add_node(&fs, "lib", CORE_NODE_SYMLINK, "etc/passwd", 2);
  add_node(&fs, "etc/passwd", CORE_NODE_FILE, NULL, 2);
  fs.origin = CORE_ORIGIN_LINKER;
  add_file(&fs, "lib/modules/m.ko", "ko", 0644);
  expect_finish_error(&fs, "needs 'etc/passwd' to be a directory, but it is a file", 2);
  core_rootfs_release(&fs);
}

/* Hard links: to a file a copy, to a symlink the same symlink, to a directory or to nothing
 * earlier an error naming the entry. */
static void test_hard_links(void **state) {
  const char *tmp = *state;
  char tar[256];
  snprintf(tar, sizeof tar, "%s/links.tar", tmp);
  const tar_entry ok[] = {
      {"bin/busybox", AE_IFREG, 0755, 0, 0, "bb"},
      {"bin/sh", AE_IFLNK, 0777, 0, 0, "busybox"},
      {"bin/ash", 0, 0755, 0, 0, "bin/sh"},
      {"bin/bb2", 0, 0755, 0, 0, "/bin/busybox"},
  };
  write_tar(tar, ok, sizeof ok / sizeof *ok);
  core_error *err = NULL;
  core_rootfs fs = fresh_fs();
  if (core_rootfs_add_layer(&fs, tar, "", &err) < 0) fail_msg("%s", err->msg);
  assert_int_equal(core_rootfs_finish(&fs, &err), 0);
  const core_node *ash = find(&fs, "bin/ash");
  assert_int_equal(ash->type, CORE_NODE_SYMLINK);
  assert_string_equal(ash->target, "busybox");
  assert_file(&fs, "bin/bb2", "bb", 0755, 0, 0);
  core_rootfs_release(&fs);

  const tar_entry dir[] = {{"etc/", AE_IFDIR, 0755, 0, 0, NULL}, {"etc2", 0, 0644, 0, 0, "etc"}};
  write_tar(tar, dir, 2);
  expect_layer_error(tar, "entry 'etc2' is a hard link to the directory 'etc'");
  const tar_entry missing[] = {{"a", AE_IFREG, 0644, 0, 0, "a"}, {"b", 0, 0644, 0, 0, "nowhere"}};
  write_tar(tar, missing, 2);
  expect_layer_error(tar, "entry 'b' is a hard link to 'nowhere', which is not in the layer before it");
  const tar_entry self[] = {{"c", 0, 0644, 0, 0, "c"}};
  write_tar(tar, self, 1);
  expect_layer_error(tar, "entry 'c' is a hard link to 'c'");
  const tar_entry root[] = {{"d", 0, 0644, 0, 0, "/"}};
  write_tar(tar, root, 1);
  expect_layer_error(tar, "escapes the root");
}

/* A 512-byte tar header that claims size bytes of data, and no data: what a tiny hostile
 * layer says before it is read. */
static void write_claim(const char *path, const char *name, uint64_t size) {
  unsigned char h[1536] = {0};
  snprintf((char *)h, 100, "%s", name);
  memcpy(h + 100, "0000644", 8);
  memcpy(h + 108, "0000000", 8);
  memcpy(h + 116, "0000000", 8);
  snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
  memcpy(h + 136, "00000000000", 12);
  h[156] = '0';
  memcpy(h + 257, "ustar", 6);
  memcpy(h + 263, "00", 2);
  memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; i++) sum += h[i];
  snprintf((char *)h + 148, 8, "%06o", sum);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, h, sizeof h), (ssize_t)sizeof h);
  close(fd);
}

static long max_rss_kib(void) {
  struct rusage ru;
  assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
  return ru.ru_maxrss;
}

static void test_size_limits(void **state) {
  const char *tmp = *state;
  char tar[256];
  snprintf(tar, sizeof tar, "%s/big.tar", tmp);
  core_error *err = NULL;

  /* The claim is refused before anything is allocated for it. */
  write_claim(tar, "big.bin", UINT64_C(2) << 30);
  long before = max_rss_kib();
  core_rootfs fs = fresh_fs();
  assert_int_equal(core_rootfs_add_layer(&fs, tar, "", &err), -1);
  assert_non_null(err);
  assert_int_equal(err->errnum, EFBIG);
  if (strstr(err->msg, "entry 'big.bin' is 2.0 GiB, over the 1.0 GiB limit for one file (raise it with CORE_MAX_FILE_SIZE=") == NULL)
    fail_msg("%s", err->msg);
  core_error_free(err);
  err = NULL;
  assert_true(max_rss_kib() - before < 64 * 1024);
  assert_int_equal(fs.total, strlen("big.bin") + 1 + sizeof(core_node)); /* its name, not its data */
  core_rootfs_release(&fs);

  /* Over 4 GiB in one header: the whole-tree limit would say the same, the file one first. */
  write_claim(tar, "huge.bin", UINT64_C(5) << 30);
  fs = fresh_fs();
  fs.max_entry = UINT64_C(8) << 30;
  assert_int_equal(core_rootfs_add_layer(&fs, tar, "", &err), -1);
  if (strstr(err->msg, "entry 'huge.bin' (5.0 GiB) takes the root file system past 4.0 GiB") == NULL) fail_msg("%s", err->msg);
  core_error_free(err);
  err = NULL;
  core_rootfs_release(&fs);

  /* Limits the caller sets: per file, and over every file read, hard-link copies included. */
  const tar_entry files[] = {
      {"a", AE_IFREG, 0644, 0, 0, "0123456789"},
      {"b", 0, 0644, 0, 0, "a"},
      {"c", AE_IFREG, 0644, 0, 0, "0123456789"},
  };
  write_tar(tar, files, 3);
  fs = fresh_fs();
  fs.max_entry = 9;
  assert_int_equal(core_rootfs_add_layer(&fs, tar, "", &err), -1);
  if (strstr(err->msg, "entry 'a' is 10 bytes, over the 9 bytes limit for one file") == NULL) fail_msg("%s", err->msg);
  core_error_free(err);
  err = NULL;
  core_rootfs_release(&fs);
  fs = fresh_fs();
  fs.max_total = 3 * sizeof(core_node) + 30; /* names and nodes count: a, b -> a and c take 27 bytes */
  assert_int_equal(core_rootfs_add_layer(&fs, tar, "", &err), -1);
  if (strstr(err->msg, "entry 'c' (10 bytes) takes the root file system past ") == NULL) fail_msg("%s", err->msg);
  assert_int_equal(fs.total, 3 * sizeof(core_node) + 27);
  core_error_free(err);
  err = NULL;
  core_rootfs_release(&fs);

  /* The reader stops one byte past its cap, whatever the header said. */
  cleanup_layer_reader core_layer_reader *r = NULL;
  assert_int_equal(core_layer_reader_open(tar, &r, &err), 0);
  struct archive_entry *e;
  const char *path;
  assert_int_equal(core_layer_reader_next(r, &e, &path, &err), 1);
  core_buf data = CORE_BUF_INIT;
  assert_int_equal(core_layer_reader_data(r, 4, &data, &err), -1);
  assert_int_equal(err->errnum, EFBIG);
  assert_null(data.data);
  core_error_free(err);
}

/* Names and link targets compress as well as zeros: each is held to what a Linux path may
 * be, and so is where links lead. */
static void test_long_names(void **state) {
  const char *tmp = *state;
  char tar[256];
  snprintf(tar, sizeof tar, "%s/names.tar", tmp);
  char *long_name = malloc(5001), *long_target = malloc(3001);
  assert_non_null(long_name);
  assert_non_null(long_target);
  memset(long_name, 'n', 5000);
  long_name[5000] = 0;
  memset(long_target, 't', 3000);
  long_target[3000] = 0;
  const tar_entry name[] = {{long_name, AE_IFREG, 0644, 0, 0, "x"}};
  write_tar(tar, name, 1);
  expect_layer_error(tar, "has a name or link target of more than 4095 bytes");
  memset(long_name, 'n', 4500);
  long_name[4500] = 0;
  const tar_entry target[] = {{"l", AE_IFLNK, 0777, 0, 0, long_name}};
  write_tar(tar, target, 1);
  expect_layer_error(tar, "entry 'l...' has a name or link target of more than 4095 bytes");

  core_rootfs fs = fresh_fs();
  add_node(&fs, "a", CORE_NODE_SYMLINK, long_target, 1);
  add_node(&fs, long_target, CORE_NODE_DIR, NULL, 1);
  char b[3010];
  snprintf(b, sizeof b, "%s/b", long_target);
  add_node(&fs, b, CORE_NODE_SYMLINK, long_target + 1000, 1); /* 3000 + 1 + 2000 bytes */
  add_node(&fs, "a/b/x", CORE_NODE_FILE, NULL, 1);
  expect_finish_error(&fs, "leads through symlinks to a path of more than 4095 bytes", 1);
  core_rootfs_release(&fs);
  free(long_name);
  free(long_target);
}

/* What the linker owns is refused, not replaced in silence; the error names who put it there. */
static void test_linker_owned(void **state) {
  (void)state;
  core_rootfs fs = fresh_fs();
  add_node(&fs, "init", CORE_NODE_FILE, NULL, 0);
  add_node(&fs, "init", CORE_NODE_FILE, NULL, CORE_ORIGIN_OWNED);
  expect_finish_error(&fs, "'init' is a path the linker owns", 0);
  core_rootfs_release(&fs);

  fs = fresh_fs();
  add_node(&fs, "etc", CORE_NODE_SYMLINK, "usr/etc", 1);
  add_node(&fs, "etc", CORE_NODE_DIR, NULL, CORE_ORIGIN_OWNED);
  expect_finish_error(&fs, "'etc' is a symlink (to 'usr/etc'), but the linker needs it to be a directory", 1);
  core_rootfs_release(&fs);

  /* Through a link, a files: entry (origin 5) lands on coreinit's configuration. */
  fs = fresh_fs();
  add_node(&fs, "cfg", CORE_NODE_SYMLINK, "/etc/core", 0);
  add_node(&fs, "cfg/init.conf", CORE_NODE_FILE, NULL, 5);
  add_node(&fs, "etc", CORE_NODE_DIR, NULL, CORE_ORIGIN_OWNED);
  add_node(&fs, "etc/core", CORE_NODE_DIR, NULL, CORE_ORIGIN_OWNED);
  add_node(&fs, "etc/core/init.conf", CORE_NODE_FILE, NULL, CORE_ORIGIN_OWNED);
  expect_finish_error(&fs, "'etc/core/init.conf' is a path the linker owns", 5);
  core_rootfs_release(&fs);

  /* coreinit replaces a layer's /init (LinuxKit init images have one), and says whose. */
  core_error *err0 = NULL;
  fs = fresh_fs();
  add_node(&fs, "init", CORE_NODE_FILE, NULL, 2);
  add_node(&fs, "init", CORE_NODE_FILE, NULL, CORE_ORIGIN_OWNED_REPLACES);
  assert_int_equal(core_rootfs_finish(&fs, &err0), 0);
  assert_int_equal(fs.n_replaced, 1);
  assert_int_equal(fs.replaced[0].origin, 2);
  assert_string_equal(fs.replaced[0].path, "init");
  assert_int_equal(find(&fs, "init")->origin, CORE_ORIGIN_OWNED_REPLACES);
  core_rootfs_release(&fs);

  /* A layer's directory where the linker keeps one is fine: the linker's mode wins. */
  core_error *err = NULL;
  fs = fresh_fs();
  add_node(&fs, "tmp", CORE_NODE_DIR, NULL, 0);
  add_node(&fs, "tmp/x", CORE_NODE_FILE, NULL, 0);
  add_node(&fs, "tmp", CORE_NODE_DIR, NULL, CORE_ORIGIN_OWNED);
  assert_int_equal(core_rootfs_finish(&fs, &err), 0);
  assert_non_null(find(&fs, "tmp/x"));
  core_rootfs_release(&fs);
}

/* The same path twice in one layer: the later entry wins, whatever the types. */
static void test_duplicates(void **state) {
  const char *tmp = *state;
  char tar[256];
  snprintf(tar, sizeof tar, "%s/dup.tar", tmp);
  const tar_entry file_then_dir[] = {
      {"x", AE_IFREG, 0644, 0, 0, "file"}, {"x/", AE_IFDIR, 0700, 0, 0, NULL}, {"x/y", AE_IFREG, 0644, 0, 0, "y"},
      {"z", AE_IFREG, 0644, 0, 0, "one"},  {"./z", AE_IFREG, 0600, 0, 0, "two"}, {"/abs", AE_IFREG, 0644, 0, 0, "a"},
  };
  write_tar(tar, file_then_dir, sizeof file_then_dir / sizeof *file_then_dir);
  core_error *err = NULL;
  core_rootfs fs = fresh_fs();
  assert_int_equal(core_rootfs_add_layer(&fs, tar, "", &err), 0);
  assert_int_equal(core_rootfs_finish(&fs, &err), 0);
  assert_sorted_unique(&fs);
  assert_inside(&fs);
  assert_int_equal(find(&fs, "x")->type, CORE_NODE_DIR);
  assert_file(&fs, "x/y", "y", 0644, 0, 0);
  assert_file(&fs, "z", "two", 0600, 0, 0);
  assert_file(&fs, "abs", "a", 0644, 0, 0); /* absolute names are relative to the layer's root */
  core_rootfs_release(&fs);

  const tar_entry dir_then_file[] = {
      {"x/", AE_IFDIR, 0755, 0, 0, NULL}, {"x/y", AE_IFREG, 0644, 0, 0, "y"}, {"x", AE_IFREG, 0644, 0, 0, "file"}};
  write_tar(tar, dir_then_file, 3);
  fs = fresh_fs();
  fs.origin = 4;
  assert_int_equal(core_rootfs_add_layer(&fs, tar, "", &err), 0);
  expect_finish_error(&fs, "'x/y' needs 'x' to be a directory, but it is a file", 4);
  core_rootfs_release(&fs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nodes),
      cmocka_unit_test(test_find_while_adding),
      cmocka_unit_test(test_parent_not_a_directory),
      cmocka_unit_test_setup_teardown(test_directory_layer, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_layers_override_and_dest, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_tar_layer, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_escapes_refused, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_usr_merge, make_tmpdir, remove_tmpdir),
      cmocka_unit_test(test_link_escapes),
      cmocka_unit_test_setup_teardown(test_hard_links, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_size_limits, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_long_names, make_tmpdir, remove_tmpdir),
      cmocka_unit_test(test_linker_owned),
      cmocka_unit_test_setup_teardown(test_duplicates, make_tmpdir, remove_tmpdir),
  };
  int failed = cmocka_run_group_tests_name("in memory", tests, NULL, NULL);
  spool_mode = 1;
  return failed + cmocka_run_group_tests_name("spooled", tests, NULL, NULL);
}
