/* Shared by the container tests: the root check (they make namespaces, mounts and cgroups,
 * so without root they fail, loudly, rather than skip), a busybox extracted once per test
 * binary from examples/debs/busybox-static.deb, a tiny image root per test made from it,
 * and running a shell script in a container with its output captured. */
#ifndef CORE_TEST_CONTAINER_FIXTURE_H
#define CORE_TEST_CONTAINER_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container.h"
#include "tmpdir.h"

static char fx_busybox_dir[64];
static char fx_busybox[128];

/* The applets the tests call, as symlinks to busybox in the image's /bin. */
static const char *const fx_applets[] = {
    "sh",    "cat",      "echo", "id",    "ip",    "hostname", "mount", "touch", "ls",
    "stat",  "readlink", "grep", "env",   "pwd",   "head",     "od",    "wc",    "umount",
    "mkdir", "sleep",    "true", "false", "sed",   "tr",       "mknod", "awk", "sort", "tail", NULL};

static int fx_group_setup(void **state) {
  (void)state;
  if (geteuid() != 0) {
    fprintf(stderr, "FAIL: the container tests need root (they create namespaces, mounts, "
                    "cgroups and network interfaces); run them as root\n");
    return -1;
  }
  snprintf(fx_busybox_dir, sizeof fx_busybox_dir, "/tmp/core-ctr-bb-XXXXXX");
  if (!mkdtemp(fx_busybox_dir)) return -1;
  const char *deb = getenv("CORE_BUSYBOX_DEB");
  if (!deb) deb = "examples/debs/busybox-static.deb";
  char cmd[512];
  snprintf(cmd, sizeof cmd, "dpkg-deb -x '%s' '%s'", deb, fx_busybox_dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "FAIL: cannot extract busybox from %s (run from the repository root)\n", deb);
    return -1;
  }
  snprintf(fx_busybox, sizeof fx_busybox, "%s/bin/busybox", fx_busybox_dir);
  return access(fx_busybox, X_OK);
}

static int fx_group_teardown(void **state) {
  (void)state;
  if (!fx_busybox[0]) return 0; /* the setup failed before extracting anything */
  char *dir = strdup(fx_busybox_dir);
  void *s = dir;
  return remove_tmpdir(&s);
}

static void fx_write(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) fail_msg("writing %s: %s", path, strerror(errno));
  fputs(text, f);
  fclose(f);
}

static void fx_mkdir(const char *path) {
  if (mkdir(path, 0755) < 0 && errno != EEXIST) fail_msg("mkdir %s: %s", path, strerror(errno));
}

/* An image root at ./root (in the test's temporary directory): busybox and its applets,
 * an /etc with users and groups, and empty /proc, /sys, /dev, /tmp. Returns its absolute
 * path. */
static const char *fx_image(void) {
  static char root[PATH_MAX];
  fx_mkdir("root");
  static const char *const dirs[] = {"root/bin", "root/etc", "root/proc", "root/sys",
                                     "root/dev", "root/tmp", "root/mnt"};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) fx_mkdir(dirs[i]);
  if (link(fx_busybox, "root/bin/busybox") < 0) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp '%s' root/bin/busybox", fx_busybox);
    assert_int_equal(system(cmd), 0);
  }
  for (size_t i = 0; fx_applets[i]; i++) {
    char p[64];
    snprintf(p, sizeof p, "root/bin/%s", fx_applets[i]);
    assert_int_equal(symlink("busybox", p), 0);
  }
  fx_write("root/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                              "alice:x:1234:1234:Alice:/home/alice:/bin/sh\n");
  fx_write("root/etc/group", "root:x:0:\nalice:x:1234:\nstaff:x:2345:alice\nwheel:x:10:\n");
  assert_non_null(realpath("root", root));
  return root;
}

static char *const fx_env[] = {"PATH=/bin", "FX=1", NULL};

/* A spec for the image: new mount namespace, root, the shell script as the command. */
static ctr_spec fx_spec(const char *root, const char *script) {
  static char *argv[4];
  argv[0] = "/bin/sh";
  argv[1] = "-c";
  argv[2] = (char *)script;
  argv[3] = NULL;
  ctr_spec s = {.argv = argv, .env = fx_env, .root = root};
  s.ns[CTR_NS_MNT].mode = CTR_NS_NEW;
  return s;
}

static int fx_hook_stdio(void *arg, ctr_error *err) {
  /* Moved up first: when the test runs with fd 0 closed, the output file may be fd 0. */
  int fd = fcntl(*(int *)arg, F_DUPFD_CLOEXEC, 10);
  int in = open("/dev/null", O_RDONLY);
  if (in < 0 || dup2(in, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
    return ctr_error_set(err, errno, "test hook: stdio");
  return 0;
}

typedef struct fx_result {
  int status; /* exit status, or 128 + signal */
  char out[16384];
} fx_result;

/* Runs spec with stdout and stderr into a file; returns ctr_spawn's result (err filled on
 * failure), and the status and output on success. */
static int fx_run(ctr_spec *spec, fx_result *res, ctr_error *err) {
  int fd = open("out.txt", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  spec->child_hook = fx_hook_stdio;
  spec->child_hook_arg = &fd;
  pid_t pid = 0;
  int r = ctr_spawn(spec, &pid, err);
  if (r == 0) {
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    res->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    ssize_t n = pread(fd, res->out, sizeof res->out - 1, 0);
    res->out[n > 0 ? n : 0] = '\0';
  }
  close(fd);
  /* Whatever happened, no child is left behind. */
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
  return r;
}

/* Runs and expects the start to succeed; prints the output when the status differs. */
static void fx_expect(ctr_spec *spec, int status, fx_result *res) {
  ctr_error err = {0};
  if (fx_run(spec, res, &err) < 0) fail_msg("ctr_spawn: %s", err.msg);
  if (res->status != status) fail_msg("status %d (expected %d), output:\n%s", res->status, status, res->out);
}

/* Expects the start to fail with a message containing want. */
static void fx_expect_error(ctr_spec *spec, const char *want) {
  ctr_error err = {0};
  fx_result res;
  if (fx_run(spec, &res, &err) == 0) fail_msg("started, expected an error with '%s'", want);
  if (!strstr(err.msg, want)) fail_msg("error '%s' does not contain '%s'", err.msg, want);
}

static const ctr_mount fx_proc = {.type = "proc", .source = "proc", .destination = "/proc",
                                  .options = "nosuid,nodev,noexec"};

/* leave_tmpdir, after detaching what a failed test left mounted in its directory (bindNS
 * files), so the directory can be removed. */
static int fx_leave(void **state) {
  const char *dir = *state;
  size_t len = strlen(dir);
  for (int pass = 0; pass < 8; pass++) {
    FILE *f = fopen("/proc/self/mountinfo", "r");
    char line[2048], mnt[1024];
    bool any = false;
    while (f && fgets(line, sizeof line, f))
      if (sscanf(line, "%*s %*s %*s %*s %1023s", mnt) == 1 && strncmp(mnt, dir, len) == 0 &&
          mnt[len] == '/')
        any |= umount2(mnt, MNT_DETACH) == 0;
    if (f) fclose(f);
    if (!any) break;
  }
  return leave_tmpdir(state);
}

#define FX_TEST(f) cmocka_unit_test_setup_teardown(f, enter_tmpdir, fx_leave)

#endif
