/* Unit tests for what ctr_spawn does in the caller: LinuxKit's runtime section (mkdir,
 * bindNS, namespace, cgroups, interfaces), joining namespaces by path, and cgroup v2
 * (cgroupsPath, resources). Needs root: fails (never skips) without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <sys/mount.h>

#include "container_fixture.h"

/* Where the caller's cgroup2 hierarchy is mounted (e.g. /sys/fs/cgroup or, on a hybrid
 * host, /sys/fs/cgroup/unified). */
static void cgroup2_mount(char *out, size_t size) {
  FILE *f = fopen("/proc/self/mountinfo", "r");
  char line[1024];
  out[0] = '\0';
  while (f && fgets(line, sizeof line, f)) {
    char mnt[512], type[64];
    const char *sep = strstr(line, " - ");
    if (!sep || sscanf(sep, " - %63s", type) != 1 || strcmp(type, "cgroup2") != 0) continue;
    if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1) {
      snprintf(out, size, "%s", mnt);
      break;
    }
  }
  if (f) fclose(f);
  if (!out[0]) fail_msg("the container tests need cgroup2 mounted on the host");
}

/* Reads the single line of path into buf (trailing newline removed). */
static void read_line(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("reading %s: %s", path, strerror(errno));
  if (!fgets(buf, (int)size, f)) buf[0] = '\0';
  fclose(f);
  buf[strcspn(buf, "\n")] = '\0';
}

static ino_t inode_of(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) fail_msg("stat %s: %s", path, strerror(errno));
  return st.st_ino;
}

static void test_runtime_mkdir(void **state) {
  (void)state;
  char cwd[PATH_MAX], a[PATH_MAX + 16], b[PATH_MAX + 16];
  assert_non_null(getcwd(cwd, sizeof cwd));
  snprintf(a, sizeof a, "%s/made/a/b", cwd);
  snprintf(b, sizeof b, "%s/made/c", cwd);
  const char *dirs[] = {a, b, NULL};
  ctr_spec s = fx_spec(fx_image(), "true");
  s.runtime.mkdir = dirs;
  fx_result r;
  fx_expect(&s, 0, &r);
  struct stat st;
  assert_int_equal(stat("made/a/b", &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(stat("made/c", &st), 0);
  /* made before the container, so a bind can use them */
  fx_write("made/c/f", "x");
  char text[PATH_MAX + 32], buf[PATH_MAX * 3];
  snprintf(text, sizeof text, "%s:/c", b);
  ctr_mount m;
  ctr_error e;
  assert_int_equal(ctr_bind_parse(text, &m, buf, sizeof buf, &e), 0);
  s = fx_spec(s.root, "cat /c/f");
  s.mounts = &m;
  s.n_mounts = 1;
  fx_expect(&s, 0, &r);
  assert_string_equal(r.out, "x");
  /* a file in the way is an error that names the entry */
  fx_write("made/file", "");
  char bad[PATH_MAX + 16];
  snprintf(bad, sizeof bad, "%s/made/file/sub", cwd);
  const char *bads[] = {bad, NULL};
  s.runtime.mkdir = bads;
  fx_expect_error(&s, "runtime.mkdir '");
}

/* bindNS and namespace: the container's namespace files bound in the caller's root; a
 * second container joins the first's network namespace by that path. */
static void test_bind_ns_and_join_by_path(void **state) {
  (void)state;
  char cwd[PATH_MAX], netf[PATH_MAX + 16], utsf[PATH_MAX + 16], nsf[PATH_MAX + 16];
  assert_non_null(getcwd(cwd, sizeof cwd));
  snprintf(netf, sizeof netf, "%s/net.ns", cwd);
  snprintf(utsf, sizeof utsf, "%s/uts.ns", cwd);
  snprintf(nsf, sizeof nsf, "%s/namespace", cwd);
  const char *root = fx_image();
  ctr_spec s = fx_spec(root, "readlink /proc/self/ns/net; readlink /proc/self/ns/uts; ip link set lo up");
  s.mounts = &fx_proc;
  s.n_mounts = 1;
  s.ns[CTR_NS_NET].mode = CTR_NS_NEW;
  s.ns[CTR_NS_UTS].mode = CTR_NS_NEW;
  s.hostname = "first";
  s.runtime.bind_ns[CTR_NS_NET] = netf;
  s.runtime.bind_ns[CTR_NS_UTS] = utsf;
  s.runtime.namespace_path = nsf;
  fx_result r;
  fx_expect(&s, 0, &r);
  char want[128];
  snprintf(want, sizeof want, "net:[%lu]\nuts:[%lu]\n", (unsigned long)inode_of(netf),
           (unsigned long)inode_of(utsf));
  assert_string_equal(r.out, want);
  assert_int_equal(inode_of(nsf), inode_of(netf));
  /* the namespaces outlive the container, bound there: join them */
  ctr_spec j = fx_spec(root, "readlink /proc/self/ns/net; hostname; ip -o link show lo | grep -c UP");
  j.mounts = &fx_proc;
  j.n_mounts = 1;
  j.ns[CTR_NS_NET] = (ctr_ns){CTR_NS_PATH, netf};
  j.ns[CTR_NS_UTS] = (ctr_ns){CTR_NS_PATH, utsf};
  fx_expect(&j, 0, &r);
  snprintf(want, sizeof want, "net:[%lu]\nfirst\n1\n", (unsigned long)inode_of(netf));
  assert_string_equal(r.out, want);
  assert_int_equal(umount2(netf, MNT_DETACH), 0);
  assert_int_equal(umount2(utsf, MNT_DETACH), 0);
  assert_int_equal(umount2(nsf, MNT_DETACH), 0);
  /* a path that is not a namespace */
  j.ns[CTR_NS_NET] = (ctr_ns){CTR_NS_PATH, "/nonexistent/ns"};
  fx_expect_error(&j, "namespaces.net '/nonexistent/ns': No such file");
  j.ns[CTR_NS_NET] = (ctr_ns){CTR_NS_PATH, netf}; /* now a plain file */
  fx_expect_error(&j, "namespaces.net: joining '");
}

/* A pid namespace joined by path: the entry is not pid 1 there, and the caller's own next
 * children are back in its namespace. */
static void test_join_pid_namespace(void **state) {
  (void)state;
  char cwd[PATH_MAX], pidf[PATH_MAX + 16];
  assert_non_null(getcwd(cwd, sizeof cwd));
  snprintf(pidf, sizeof pidf, "%s/pid.ns", cwd);
  const char *root = fx_image();
  /* the first container stays up (pid 1 of the namespace) while the second joins it */
  fx_write("root/tmp/go", "");
  ctr_spec s = fx_spec(root, "while [ -e /tmp/go ]; do sleep 0.05; done");
  s.ns[CTR_NS_PID].mode = CTR_NS_NEW;
  s.runtime.bind_ns[CTR_NS_PID] = pidf;
  int fd = open("/dev/null", O_WRONLY);
  s.child_hook = fx_hook_stdio;
  s.child_hook_arg = &fd;
  pid_t first;
  ctr_error e;
  if (ctr_spawn(&s, &first, &e) < 0) fail_msg("%s", e.msg);
  close(fd);
  ctr_spec j = fx_spec(root, "echo $$; ls /proc | grep -c '^1$'");
  j.ns[CTR_NS_PID] = (ctr_ns){CTR_NS_PATH, pidf};
  ctr_mount m = fx_proc;
  j.mounts = &m;
  j.n_mounts = 1;
  int out = open("out.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
  j.child_hook = fx_hook_stdio;
  j.child_hook_arg = &out;
  pid_t second;
  if (ctr_spawn(&j, &second, &e) < 0) fail_msg("%s", e.msg);
  int st;
  assert_int_equal(waitpid(second, &st, 0), second);
  char buf[64] = {0};
  if (pread(out, buf, sizeof buf - 1, 0) <= 0) fail_msg("no output, status %#x", st);
  close(out);
  assert_true(atoi(buf) > 1);                     /* not pid 1: it joined */
  assert_non_null(strstr(buf, "\n1\n"));           /* and pid 1 (the first) is there */
  unlink("root/tmp/go");
  assert_int_equal(waitpid(first, &st, 0), first);
  assert_int_equal(umount2(pidf, MNT_DETACH), 0);
  /* the caller's pid namespace for children is its own again */
  char a[64], b[64];
  ssize_t na = readlink("/proc/self/ns/pid", a, sizeof a - 1);
  ssize_t nb = readlink("/proc/self/ns/pid_for_children", b, sizeof b - 1);
  assert_true(na > 0 && nb > 0);
  a[na] = b[nb] = '\0';
  assert_string_equal(a, b);
}

/* A veth pair made by the test; one end moved into the container and renamed. */
static void test_interfaces(void **state) {
  (void)state;
  char a[16], b[16], cmd[128];
  snprintf(a, sizeof a, "ctra%d", (int)getpid() % 100000);
  snprintf(b, sizeof b, "ctrb%d", (int)getpid() % 100000);
  snprintf(cmd, sizeof cmd, "ip link add %s type veth peer name %s", a, b);
  assert_int_equal(system(cmd), 0);
  ctr_iface in[] = {{.name = a, .new_name = "eth7"}};
  ctr_spec s = fx_spec(fx_image(), "ip -o link | sed 's/@.*//' | awk '{print $2}'");
  s.ns[CTR_NS_NET].mode = CTR_NS_NEW;
  s.runtime.interfaces = in;
  s.runtime.n_interfaces = 1;
  fx_result r;
  fx_expect(&s, 0, &r);
  assert_string_equal(r.out, "lo:\neth7\n");
  /* gone from the caller's namespace (and with the container's, the pair is gone) */
  snprintf(cmd, sizeof cmd, "ip link show %s >/dev/null 2>&1", a);
  assert_int_not_equal(system(cmd), 0);
  snprintf(cmd, sizeof cmd, "ip link del %s >/dev/null 2>&1", b);
  (void)!system(cmd);
  /* an interface that does not exist: the error names it */
  ctr_iface none[] = {{.name = "ctr-nope0"}};
  s.runtime.interfaces = none;
  fx_expect_error(&s, "runtime.interfaces 'ctr-nope0'");
}

/* LinuxKit's add/peer/createInRoot: a veth pair made for the container, its peer left in
 * the caller's namespace. */
static void test_interfaces_created(void **state) {
  (void)state;
  char peer[16], end[16], cmd[128];
  snprintf(peer, sizeof peer, "ctrp%d", (int)getpid() % 100000);
  snprintf(end, sizeof end, "ctre%d", (int)getpid() % 100000);
  const char *root = fx_image();
  for (int in_root = 0; in_root <= 1; in_root++) {
    /* made in the container's namespace, the name can be one the caller has (eth0); made in
     * the caller's, it needs one of its own there, renamed on the way in */
    ctr_iface in[] = {{.name = "eth0", .add = "veth", .peer = peer}};
    if (in_root) in[0] = (ctr_iface){.name = end, .new_name = "eth0", .add = "veth", .peer = peer,
                                     .create_in_root = true};
    /* the entry sees its end; its peer is in the caller's namespace meanwhile */
    ctr_spec s = fx_spec(root, "ip -o link | sed 's/@.*//' | awk '{print $2}'");
    s.ns[CTR_NS_NET].mode = CTR_NS_NEW;
    s.runtime.interfaces = in;
    s.runtime.n_interfaces = 1;
    fx_result r;
    fx_expect(&s, 0, &r);
    assert_string_equal(r.out, "lo:\neth0\n");
    /* the container's namespace is gone, and with it the pair: the kernel tears a dead
     * namespace's devices down on a work queue, after the last process has exited, so the
     * peer may linger for a moment (up to 10 s allowed on a loaded machine) */
    snprintf(cmd, sizeof cmd, "ip link show %s >/dev/null 2>&1", peer);
    int still = 1;
    for (int tries = 0; tries < 200 && (still = system(cmd) == 0); tries++) usleep(50 * 1000);
    assert_false(still);
  }
  /* a peer name taken in the caller's namespace: the error says which */
  snprintf(cmd, sizeof cmd, "ip link add %s type veth peer name %sx", peer, peer);
  assert_int_equal(system(cmd), 0);
  ctr_iface in[] = {{.name = "eth0", .add = "veth", .peer = peer}};
  ctr_spec s = fx_spec(root, "true");
  s.ns[CTR_NS_NET].mode = CTR_NS_NEW;
  s.runtime.interfaces = in;
  s.runtime.n_interfaces = 1;
  fx_expect_error(&s, "runtime.interfaces: creating 'eth0' (veth, peer ");
  snprintf(cmd, sizeof cmd, "ip link del %s >/dev/null 2>&1", peer);
  (void)!system(cmd);
  in[0].peer = NULL;
  fx_expect_error(&s, "runtime.interfaces 'eth0': a veth needs a peer");
  in[0] = (ctr_iface){.name = "eth0", .add = "no-such-kind"};
  fx_expect_error(&s, "runtime.interfaces: creating 'eth0' (no-such-kind)");
}

/* cgroupsPath in the host's real cgroup2: the entry runs in it; with a new cgroup
 * namespace it sees it as its root. runtime.cgroups are made too. */
static void test_cgroups_path(void **state) {
  (void)state;
  char root[512], rel[64], dir[700], extra[64], extradir[700];
  cgroup2_mount(root, sizeof root);
  snprintf(rel, sizeof rel, "core-test-%d/entry", (int)getpid());
  snprintf(extra, sizeof extra, "core-test-%d/extra", (int)getpid());
  snprintf(dir, sizeof dir, "%s/%s", root, rel);
  snprintf(extradir, sizeof extradir, "%s/%s", root, extra);
  const char *cgs[] = {extra, NULL};
  ctr_spec s = fx_spec(fx_image(), "cat /proc/self/cgroup | grep '^0::'");
  s.mounts = &fx_proc;
  s.n_mounts = 1;
  s.cgroup_root = root;
  s.cgroups_path = rel;
  s.runtime.cgroups = cgs;
  fx_result r;
  fx_expect(&s, 0, &r);
  char want[128];
  snprintf(want, sizeof want, "0::/%s\n", rel);
  assert_string_equal(r.out, want);
  struct stat st;
  assert_int_equal(stat(extradir, &st), 0);
  s.ns[CTR_NS_CGROUP].mode = CTR_NS_NEW;
  fx_expect(&s, 0, &r);
  assert_string_equal(r.out, "0::/\n");
  char parent[700];
  snprintf(parent, sizeof parent, "%s/core-test-%d", root, (int)getpid());
  assert_int_equal(rmdir(dir), 0);
  assert_int_equal(rmdir(extradir), 0);
  assert_int_equal(rmdir(parent), 0);
}

/* The limits, in the real hierarchy when its controllers are there; otherwise the error
 * must say which controller is missing. */
static void test_resources_real(void **state) {
  (void)state;
  char root[512], controllers[256], rel[64], path[800];
  cgroup2_mount(root, sizeof root);
  snprintf(path, sizeof path, "%s/cgroup.controllers", root);
  read_line(path, controllers, sizeof controllers);
  snprintf(rel, sizeof rel, "core-test-%d/limited", (int)getpid());
  ctr_spec s = fx_spec(fx_image(), "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max");
  ctr_mount m[] = {fx_proc, {.type = "cgroup", .destination = "/sys/fs/cgroup"}};
  s.mounts = m;
  s.n_mounts = 2;
  s.ns[CTR_NS_CGROUP].mode = CTR_NS_NEW;
  s.cgroup_root = root;
  s.cgroups_path = rel;
  s.resources.memory_max = 64 << 20;
  s.resources.pids_max = 42;
  bool have = strstr(controllers, "memory") && strstr(controllers, "pids");
  if (have) {
    fx_result r;
    fx_expect(&s, 0, &r);
    assert_string_equal(r.out, "67108864\n42\n");
  } else {
    fx_expect_error(&s, "resources.memory: enabling the cgroup controller 'memory'");
  }
  snprintf(path, sizeof path, "%s/%s", root, rel);
  rmdir(path);
  snprintf(path, sizeof path, "%s/core-test-%d", root, (int)getpid());
  assert_int_equal(rmdir(path), 0);
}

/* Every limit file and the move, against a cgroup root the test lays out with plain files
 * (this checks what is written where, whatever controllers the host has). */
static void test_resources_written(void **state) {
  (void)state;
  fx_mkdir("cg");
  fx_mkdir("cg/a");
  fx_mkdir("cg/a/b");
  fx_write("cg/cgroup.subtree_control", "");
  fx_write("cg/a/cgroup.subtree_control", "");
  static const char *const files[] = {"memory.max", "pids.max", "cpu.max", "cpu.weight",
                                      "cgroup.procs"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char p[64];
    snprintf(p, sizeof p, "cg/a/b/%s", files[i]);
    fx_write(p, "unset");
  }
  char cg[PATH_MAX];
  assert_non_null(realpath("cg", cg));
  ctr_spec s = fx_spec(fx_image(), "true");
  s.cgroup_root = cg;
  s.cgroups_path = "/a/b";
  s.resources = (ctr_resources){.memory_max = 1 << 20, .pids_max = CTR_LIMIT_MAX,
                                .cpu_quota = 50000, .cpu_weight = 200};
  int fd = open("out.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
  s.child_hook = fx_hook_stdio;
  s.child_hook_arg = &fd;
  pid_t pid;
  ctr_error e;
  if (ctr_spawn(&s, &pid, &e) < 0) fail_msg("%s", e.msg);
  close(fd);
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  char buf[64], want[32];
  read_line("cg/a/b/memory.max", buf, sizeof buf);
  assert_string_equal(buf, "1048576");
  read_line("cg/a/b/pids.max", buf, sizeof buf);
  assert_string_equal(buf, "max");
  read_line("cg/a/b/cpu.max", buf, sizeof buf);
  assert_string_equal(buf, "50000 100000");
  read_line("cg/a/b/cpu.weight", buf, sizeof buf);
  assert_string_equal(buf, "200");
  read_line("cg/a/b/cgroup.procs", buf, sizeof buf);
  snprintf(want, sizeof want, "%d", (int)pid);
  assert_string_equal(buf, want);
  /* the controllers were enabled on the way down (the last one written was cpu) */
  read_line("cg/cgroup.subtree_control", buf, sizeof buf);
  assert_string_equal(buf, "+cpu");
  read_line("cg/a/cgroup.subtree_control", buf, sizeof buf);
  assert_string_equal(buf, "+cpu");
  /* a limit file that is not there: the error names the field and the file */
  unlink("cg/a/b/pids.max");
  s.resources.pids_max = 10;
  fx_expect_error(&s, "resources.pids: opening '");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      FX_TEST(test_runtime_mkdir),   FX_TEST(test_bind_ns_and_join_by_path),
      FX_TEST(test_join_pid_namespace), FX_TEST(test_interfaces),
      FX_TEST(test_interfaces_created),
      FX_TEST(test_cgroups_path),    FX_TEST(test_resources_real),
      FX_TEST(test_resources_written),
  };
  return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
