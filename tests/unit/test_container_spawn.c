/* Unit tests for ctr_spawn (container/spawn.c, fs.c, user.c): each field of the spec, seen
 * from inside a real container started from a busybox image root the test builds, by the
 * entry's exit status and output. Needs root: fails (never skips) without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <sys/mount.h>
#include <sys/utsname.h>

#include "container_fixture.h"

static void test_runs_entry_with_status_and_output(void **state) {
  (void)state;
  ctr_spec s = fx_spec(fx_image(), "echo hello; exit 3");
  fx_result r;
  fx_expect(&s, 3, &r);
  assert_string_equal(r.out, "hello\n");
}

/* The entry is pid 1 of its new pid namespace, and its /proc shows only its own. */
static void test_pid_namespace(void **state) {
  (void)state;
  ctr_spec s = fx_spec(fx_image(), "echo $$; ls /proc | grep '^[0-9]*$' | sort -n | tail -n 1");
  s.ns[CTR_NS_PID].mode = CTR_NS_NEW;
  s.mounts = &fx_proc;
  s.n_mounts = 1;
  fx_result r;
  fx_expect(&s, 0, &r);
  /* sh itself and its pipeline, numbered from 1: nothing of the caller's */
  assert_int_equal(strncmp(r.out, "1\n", 2), 0);
  assert_true(atoi(r.out + 2) >= 2 && atoi(r.out + 2) < 10);
  /* without it, the entry has a pid of the caller's namespace */
  s.ns[CTR_NS_PID].mode = CTR_NS_HOST;
  s = fx_spec(s.root, "echo $$");
  s.mounts = &fx_proc;
  s.n_mounts = 1;
  fx_expect(&s, 0, &r);
  assert_true(atoi(r.out) > 1);
}

static void test_net_namespace_has_only_lo(void **state) {
  (void)state;
  ctr_spec s = fx_spec(fx_image(), "ip -o link | wc -l; ip -o link | grep -c ': lo:'");
  s.ns[CTR_NS_NET].mode = CTR_NS_NEW;
  fx_result r;
  fx_expect(&s, 0, &r);
  assert_string_equal(r.out, "1\n1\n");
}

static void test_hostname_in_uts_namespace(void **state) {
  (void)state;
  struct utsname before, after;
  uname(&before);
  ctr_spec s = fx_spec(fx_image(), "hostname");
  s.ns[CTR_NS_UTS].mode = CTR_NS_NEW;
  s.hostname = "ctr-test-host";
  fx_result r;
  fx_expect(&s, 0, &r);
  assert_string_equal(r.out, "ctr-test-host\n");
  uname(&after);
  assert_string_equal(before.nodename, after.nodename);
}

/* ipc, cgroup and mnt: the entry's namespace differs from the caller's exactly when new. */
static void test_other_namespaces(void **state) {
  (void)state;
  static const struct {
    ctr_ns_kind kind;
    const char *file;
  } kinds[] = {{CTR_NS_IPC, "ipc"}, {CTR_NS_CGROUP, "cgroup"}, {CTR_NS_MNT, "mnt"}};
  const char *root = fx_image();
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    for (int mode = CTR_NS_HOST; mode <= CTR_NS_NEW; mode++) {
      if (kinds[i].kind == CTR_NS_MNT && mode == CTR_NS_HOST) continue; /* needed for the root */
      char script[128], mine[64], link[64];
      snprintf(script, sizeof script, "readlink /proc/self/ns/%s", kinds[i].file);
      snprintf(link, sizeof link, "/proc/self/ns/%s", kinds[i].file);
      ssize_t n = readlink(link, mine, sizeof mine - 1);
      assert_true(n > 0);
      mine[n] = '\0';
      ctr_spec s = fx_spec(root, script);
      s.ns[kinds[i].kind].mode = (ctr_ns_mode)mode;
      s.mounts = &fx_proc;
      s.n_mounts = 1;
      fx_result r;
      fx_expect(&s, 0, &r);
      r.out[strcspn(r.out, "\n")] = '\0';
      if (mode == CTR_NS_NEW)
        assert_string_not_equal(r.out, mine);
      else
        assert_string_equal(r.out, mine);
    }
  }
}

static void test_readonly_root(void **state) {
  (void)state;
  ctr_spec s = fx_spec(fx_image(), "touch /written 2>&1; echo rc=$?");
  s.readonly = true;
  fx_result r;
  fx_expect(&s, 0, &r);
  assert_non_null(strstr(r.out, "Read-only file system"));
  assert_non_null(strstr(r.out, "rc=1"));
  assert_int_equal(access("root/written", F_OK), -1);
  /* and without it the write lands in the image */
  s.readonly = false;
  fx_expect(&s, 0, &r);
  assert_non_null(strstr(r.out, "rc=0"));
  assert_int_equal(access("root/written", F_OK), 0);
}

static void test_binds(void **state) {
  (void)state;
  const char *root = fx_image();
  fx_mkdir("outer");
  fx_write("outer/file", "from outside\n");
  fx_mkdir("shared");
  char outer[PATH_MAX], shared[PATH_MAX], b1[600], b2[600];
  assert_non_null(realpath("outer", outer));
  assert_non_null(realpath("shared", shared));
  char text1[PATH_MAX + 32], text2[PATH_MAX + 32];
  snprintf(text1, sizeof text1, "%s:/data:ro", outer);
  snprintf(text2, sizeof text2, "%s:/deep/shared", shared);
  ctr_mount m[2];
  ctr_error e;
  assert_int_equal(ctr_bind_parse(text1, &m[0], b1, sizeof b1, &e), 0);
  assert_int_equal(ctr_bind_parse(text2, &m[1], b2, sizeof b2, &e), 0);
  ctr_spec s = fx_spec(root, "cat /data/file; touch /data/new 2>&1; echo rc=$?; "
                             "echo inside > /deep/shared/w && echo wrote");
  s.mounts = m;
  s.n_mounts = 2;
  fx_result r;
  fx_expect(&s, 0, &r);
  assert_non_null(strstr(r.out, "from outside\n"));
  assert_non_null(strstr(r.out, "Read-only file system"));
  assert_non_null(strstr(r.out, "rc=1"));
  assert_non_null(strstr(r.out, "wrote"));
  assert_int_equal(access("outer/new", F_OK), -1);
  assert_int_equal(access("shared/w", F_OK), 0);
  /* a bind whose source is missing names it */
  ctr_mount bad = {.type = "bind", .source = "/nonexistent-src", .destination = "/x"};
  s.mounts = &bad;
  s.n_mounts = 1;
  fx_expect_error(&s, "bind '/nonexistent-src' to '/x': the source: No such file or directory");
}

/* A file bind onto a file; and a symlink in the image that leads out of it is refused. */
static void test_bind_file_and_escape(void **state) {
  (void)state;
  const char *root = fx_image();
  fx_write("hostfile", "hello file\n");
  char src[PATH_MAX];
  assert_non_null(realpath("hostfile", src));
  ctr_mount m = {.type = "bind", .source = src, .destination = "/etc/injected", .options = "ro"};
  ctr_spec s = fx_spec(root, "cat /etc/injected");
  s.mounts = &m;
  s.n_mounts = 1;
  fx_result r;
  fx_expect(&s, 0, &r);
  assert_string_equal(r.out, "hello file\n");
  assert_int_equal(symlink("/tmp", "root/escape"), 0);
  m.destination = "/escape/x";
  fx_expect_error(&s, "leads out of the image root");
}

static void test_mounts(void **state) {
  (void)state;
  ctr_mount m[] = {
      fx_proc,
      {.type = "tmpfs", .source = "tmpfs", .destination = "/run", .options = "nosuid,size=1m,mode=0700"},
      {.type = "sysfs", .source = "sysfs", .destination = "/sys", .options = "ro,nosuid"},
      {.type = "cgroup", .source = "cgroup", .destination = "/sys/fs/cgroup", .options = "nosuid"},
      {.type = "mqueue", .source = "mqueue", .destination = "/dev/mqueue"},
      {.type = "devpts", .source = "devpts", .destination = "/dev/pts", .options = "newinstance,ptmxmode=0666"},
  };
  ctr_mount run;
  char buf[128];
  ctr_error e;
  assert_int_equal(ctr_tmpfs_parse("/run:nosuid,size=1m,mode=0700", &run, buf, sizeof buf, &e), 0);
  m[1] = run;
  ctr_spec s = fx_spec(fx_image(), "grep -E ' /(run|sys|sys/fs/cgroup|dev/mqueue|dev/pts) ' /proc/self/mounts | "
                                   "sed 's/ 0 0$//'; stat -c %a /run; "
                                   "touch /run/ok && echo tmpfs-writable; ls /sys/fs/cgroup/cgroup.procs");
  s.mounts = m;
  s.n_mounts = sizeof m / sizeof m[0];
  s.readonly = true; /* a tmpfs stays writable under a read-only root */
  s.ns[CTR_NS_CGROUP].mode = CTR_NS_NEW;
  fx_result r;
  fx_expect(&s, 0, &r);
  assert_non_null(strstr(r.out, "tmpfs /run tmpfs rw,nosuid"));
  assert_non_null(strstr(r.out, "size=1024k"));
  assert_non_null(strstr(r.out, "sysfs /sys sysfs ro,nosuid"));
  assert_non_null(strstr(r.out, "cgroup /sys/fs/cgroup cgroup2 rw,nosuid"));
  assert_non_null(strstr(r.out, "mqueue /dev/mqueue mqueue"));
  assert_non_null(strstr(r.out, "devpts /dev/pts devpts"));
  assert_non_null(strstr(r.out, "\n700\n"));
  assert_non_null(strstr(r.out, "tmpfs-writable"));
  assert_non_null(strstr(r.out, "/sys/fs/cgroup/cgroup.procs"));
  /* an unknown file system type: the error names the mount */
  ctr_mount bad = {.type = "nosuchfs", .destination = "/mnt"};
  s.mounts = &bad;
  s.n_mounts = 1;
  fx_expect_error(&s, "mount 'nosuchfs' on '/mnt'");
}

static void test_masked_and_readonly_paths(void **state) {
  (void)state;
  const char *root = fx_image();
  fx_write("root/etc/secret", "top secret\n");
  fx_mkdir("root/secretdir");
  fx_write("root/secretdir/a", "a\n");
  fx_mkdir("root/rodir");
  const char *masked[] = {"/etc/secret", "/secretdir", "/does/not/exist", NULL};
  const char *ro[] = {"/rodir", "/also/missing", NULL};
  ctr_spec s = fx_spec(root, "echo \"[$(cat /etc/secret)]\"; ls /secretdir | wc -l; "
                             "touch /secretdir/b 2>/dev/null || echo masked-ro; "
                             "touch /rodir/x 2>&1; touch /tmp/x && echo tmp-rw");
  s.masked_paths = masked;
  s.readonly_paths = ro;
  fx_result r;
  fx_expect(&s, 0, &r);
  assert_non_null(strstr(r.out, "[]\n0\nmasked-ro\n"));
  assert_non_null(strstr(r.out, "Read-only file system"));
  assert_non_null(strstr(r.out, "tmp-rw"));
}

/* The test's own bounding set: the entry's sets are limited to it. */
static uint64_t held_caps(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  unsigned long long v = 0;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "CapBnd: %llx", &v) == 1) break;
  if (f) fclose(f);
  return v;
}

/* CapBnd/CapEff of /proc/self/status, as the entry sees them. */
static void test_capabilities(void **state) {
  (void)state;
  uint64_t held = held_caps();
  assert_true(held & (UINT64_C(1) << 21));
  const char *root = fx_image();
  ctr_spec s = fx_spec(root, "grep -E '^Cap(Bnd|Eff|Prm|Amb)' /proc/self/status; "
                             "mount -t tmpfs none /mnt 2>&1; echo mount=$?");
  s.mounts = &fx_proc;
  s.n_mounts = 1;
  uint64_t keep = ctr_caps_all() & ~(UINT64_C(1) << 21); /* no CAP_SYS_ADMIN */
  s.caps_set = true;
  ctr_caps_set_all(&s.caps, keep);
  fx_result r;
  fx_expect(&s, 0, &r);
  char want[64];
  snprintf(want, sizeof want, "CapBnd:\t%016llx", (unsigned long long)(keep & held));
  if (!strstr(r.out, want)) fail_msg("no '%s' in:\n%s", want, r.out);
  /* busybox mount reports the kernel's EPERM and fails */
  assert_null(strstr(r.out, "mount=0"));
  assert_non_null(strstr(r.out, "Operation not permitted") ? "" : strstr(r.out, "denied"));
  /* with all of them the same mount works */
  ctr_caps_set_all(&s.caps, ctr_caps_all());
  fx_expect(&s, 0, &r);
  assert_non_null(strstr(r.out, "mount=0"));
  /* a non-root user keeps exactly the ambient ones across exec */
  uint64_t net = (UINT64_C(1) << 12) | (UINT64_C(1) << 13); /* NET_ADMIN, NET_RAW */
  ctr_caps_set_all(&s.caps, net);
  s.uid.id = 1234;
  s.gid.id = 1234;
  fx_expect(&s, 0, &r);
  snprintf(want, sizeof want, "CapEff:\t%016llx", (unsigned long long)net);
  if (!strstr(r.out, want)) fail_msg("no '%s' in:\n%s", want, r.out);
  snprintf(want, sizeof want, "CapAmb:\t%016llx", (unsigned long long)net);
  if (!strstr(r.out, want)) fail_msg("no '%s' in:\n%s", want, r.out);
}

static void test_no_new_privileges(void **state) {
  (void)state;
  ctr_spec s = fx_spec(fx_image(), "grep NoNewPrivs /proc/self/status");
  s.mounts = &fx_proc;
  s.n_mounts = 1;
  fx_result r;
  fx_expect(&s, 0, &r);
  assert_string_equal(r.out, "NoNewPrivs:\t0\n");
  s.no_new_privileges = true;
  fx_expect(&s, 0, &r);
  assert_string_equal(r.out, "NoNewPrivs:\t1\n");
}

static void test_user_by_name_and_number(void **state) {
  (void)state;
  const char *root = fx_image();
  ctr_spec s = fx_spec(root, "id -u; id -g; id -G");
  s.uid.name = "alice";
  s.gid.name = "staff";
  ctr_id extra[] = {{.name = "wheel"}, {.id = 777}};
  s.additional_gids = extra;
  s.n_additional_gids = 2;
  fx_result r;
  fx_expect(&s, 0, &r);
  assert_string_equal(r.out, "1234\n2345\n2345 10 777\n");
  /* numbers need no entry in the files */
  s.uid = (ctr_id){.id = 4321};
  s.gid = (ctr_id){.id = 8765};
  s.n_additional_gids = 0;
  fx_expect(&s, 0, &r);
  assert_string_equal(r.out, "4321\n8765\n8765\n");
  /* names are the image's, not the caller's */
  s.uid = (ctr_id){.name = "nobody-here"};
  fx_expect_error(&s, "uid 'nobody-here': no such user in the image's /etc/passwd");
  s.uid = (ctr_id){.id = 0};
  s.gid = (ctr_id){.name = "nogroup-here"};
  fx_expect_error(&s, "gid 'nogroup-here': no such group in the image's /etc/group");
  /* a hostile /etc/passwd: the error names the line */
  fx_write("root/etc/passwd", "alice:x:99999999999:1:::\n");
  s.gid = (ctr_id){.id = 0};
  s.uid = (ctr_id){.name = "alice"};
  fx_expect_error(&s, "uid 'alice': /etc/passwd entry 'alice': uid '99999999999'");
  unlink("root/etc/passwd");
  fx_expect_error(&s, "uid 'alice': the image has no /etc/passwd");
}

static void test_rlimits(void **state) {
  (void)state;
  ctr_spec s = fx_spec(fx_image(), "ulimit -n; ulimit -Hn; ulimit -c");
  ctr_rlimit rl[2];
  ctr_error e;
  assert_int_equal(ctr_rlimit_parse("RLIMIT_NOFILE,123,456", &rl[0], &e), 0);
  assert_int_equal(ctr_rlimit_parse("RLIMIT_CORE,unlimited,unlimited", &rl[1], &e), 0);
  s.rlimits = rl;
  s.n_rlimits = 2;
  fx_result r;
  fx_expect(&s, 0, &r);
  assert_string_equal(r.out, "123\n456\nunlimited\n");
}

static void test_oom_score_adj(void **state) {
  (void)state;
  ctr_spec s = fx_spec(fx_image(), "cat /proc/self/oom_score_adj");
  s.mounts = &fx_proc;
  s.n_mounts = 1;
  s.oom_score_adj_set = true;
  s.oom_score_adj = 567;
  fx_result r;
  fx_expect(&s, 0, &r);
  assert_string_equal(r.out, "567\n");
}

static void test_sysctl_in_new_net_namespace(void **state) {
  (void)state;
  char before[8] = {0}, after[8] = {0};
  FILE *f = fopen("/proc/sys/net/ipv4/ip_forward", "r");
  assert_non_null(f);
  assert_non_null(fgets(before, sizeof before, f));
  fclose(f);
  ctr_spec s = fx_spec(fx_image(), "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni");
  s.mounts = &fx_proc;
  s.n_mounts = 1;
  s.ns[CTR_NS_NET].mode = CTR_NS_NEW;
  s.ns[CTR_NS_IPC].mode = CTR_NS_NEW;
  const char *want = strcmp(before, "1\n") == 0 ? "0" : "1";
  ctr_sysctl sc[] = {{"net.ipv4.ip_forward", want}, {"kernel/shmmni", "1234"}};
  s.sysctls = sc;
  s.n_sysctls = 2;
  fx_result r;
  fx_expect(&s, 0, &r);
  char expect[32];
  snprintf(expect, sizeof expect, "%s\n1234\n", want);
  assert_string_equal(r.out, expect);
  f = fopen("/proc/sys/net/ipv4/ip_forward", "r");
  assert_non_null(fgets(after, sizeof after, f));
  fclose(f);
  assert_string_equal(before, after);
  /* a key the kernel does not have: the error names it */
  sc[0].key = "net.ipv4.no_such_key";
  s.n_sysctls = 1;
  fx_expect_error(&s, "sysctl 'net.ipv4.no_such_key': opening '/proc/sys/net/ipv4/no_such_key'");
}

static void test_devices(void **state) {
  (void)state;
  ctr_device d[] = {
      {.path = "/dev/mynull", .type = 'c', .major = 1, .minor = 3, .mode = 0600, .uid = 5, .gid = 6},
      {.path = "/dev/zero", .bind_from = "/dev/zero"},
  };
  ctr_mount devtmp = {.type = "tmpfs", .source = "tmpfs", .destination = "/dev", .options = "mode=755"};
  ctr_spec s = fx_spec(fx_image(), "stat -c '%t:%T %a %u:%g %F' /dev/mynull; echo x > /dev/mynull && "
                                   "echo null-ok; head -c 4 /dev/zero | od -An -tx1");
  s.mounts = &devtmp;
  s.n_mounts = 1;
  s.devices = d;
  s.n_devices = 2;
  fx_result r;
  fx_expect(&s, 0, &r);
  assert_non_null(strstr(r.out, "1:3 600 5:6 character special file\nnull-ok\n 00 00 00 00\n"));
  /* the tmpfs held them: nothing was made in the image */
  assert_int_equal(access("root/dev/mynull", F_OK), -1);
}

static void test_env_and_cwd(void **state) {
  (void)state;
  const char *root = fx_image();
  fx_mkdir("root/work");
  ctr_spec s = fx_spec(root, "env | grep -v -E '^(PWD|SHLVL|_)=' | sort; pwd");
  char *env[] = {"PATH=/bin", "GREETING=hello world", NULL};
  s.env = env;
  s.cwd = "/work";
  setenv("CORE_TEST_LEAK", "1", 1);
  fx_result r;
  fx_expect(&s, 0, &r);
  unsetenv("CORE_TEST_LEAK");
  assert_string_equal(r.out, "GREETING=hello world\nPATH=/bin\n/work\n");
  s.cwd = "/not-there";
  fx_expect_error(&s, "cwd '/not-there': No such file or directory");
}

/* The command is searched in the container's PATH; a missing one is an error, not a status. */
static void test_program_lookup(void **state) {
  (void)state;
  const char *root = fx_image();
  char *argv[] = {"echo", "found", NULL};
  ctr_spec s = fx_spec(root, "");
  s.argv = argv;
  fx_result r;
  fx_expect(&s, 0, &r);
  assert_string_equal(r.out, "found\n");
  char *missing[] = {"no-such-program", NULL};
  s.argv = missing;
  fx_expect_error(&s, "cannot run 'no-such-program' (searched PATH '/bin'): No such file");
  char *abs[] = {"/bin/nope", NULL};
  s.argv = abs;
  fx_expect_error(&s, "cannot run '/bin/nope': No such file");
}

static void test_root_propagation(void **state) {
  (void)state;
  ctr_spec s = fx_spec(fx_image(), "awk '$5 == \"/\" { print \"root\", $0 }' /proc/self/mountinfo");
  s.mounts = &fx_proc;
  s.n_mounts = 1;
  fx_result r;
  fx_expect(&s, 0, &r);
  assert_int_equal(strncmp(r.out, "root ", 5), 0);
  assert_null(strstr(r.out, "shared:"));
  s.root_propagation = MS_SHARED | MS_REC;
  fx_expect(&s, 0, &r);
  assert_non_null(strstr(r.out, "shared:"));
}

/* The caller's open descriptors stay out of the entry, except those passed on. */
static int hook_fd3(void *arg, ctr_error *err) {
  if (fx_hook_stdio(arg, err) < 0) return -1;
  int out = *(int *)arg;
  if (dup2(out, 3) < 0) return ctr_error_set(err, errno, "dup2");
  return 0;
}

static void test_descriptors(void **state) {
  (void)state;
  int leak = open("/dev/null", O_RDONLY); /* not close-on-exec */
  assert_true(leak >= 0);
  ctr_spec s = fx_spec(fx_image(), "ls /proc/self/fd | tr '\\n' ' '");
  s.mounts = &fx_proc;
  s.n_mounts = 1;
  fx_result r;
  fx_expect(&s, 0, &r);
  /* 0-2 and the directory ls reads */
  assert_string_equal(r.out, "0 1 2 3 ");
  /* pass_fds: fd 3, made by the hook, reaches the entry */
  s = fx_spec(s.root, "echo via-3 >&3");
  int fd = open("out.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
  s.child_hook = hook_fd3;
  s.child_hook_arg = &fd;
  s.pass_fds = 1;
  pid_t pid;
  ctr_error e;
  if (ctr_spawn(&s, &pid, &e) < 0) fail_msg("%s", e.msg);
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  char buf[32] = {0};
  assert_true(pread(fd, buf, sizeof buf - 1, 0) > 0);
  assert_string_equal(buf, "via-3\n");
  close(fd);
  close(leak);
}

/* A child hook that fails stops the start with its message. */
static int fail_hook(void *arg, ctr_error *err) {
  (void)arg;
  return ctr_error_set(err, 0, "hook says no");
}

static void test_child_hook_failure(void **state) {
  (void)state;
  ctr_spec s = fx_spec(fx_image(), "true");
  s.child_hook = fail_hook;
  pid_t pid = 0;
  ctr_error err = {0};
  assert_int_equal(ctr_spawn(&s, &pid, &err), -1);
  assert_string_equal(err.msg, "hook says no");
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
}

/* ctr_exec: the same setup in a process the caller forked itself. */
static void test_exec_in_own_process(void **state) {
  (void)state;
  ctr_spec s = fx_spec(fx_image(), "hostname; id -u");
  s.ns[CTR_NS_UTS].mode = CTR_NS_NEW;
  s.hostname = "in-exec";
  s.uid.name = "alice";
  int fd = open("out.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  pid_t pid = fork();
  if (pid == 0) {
    s.child_hook = fx_hook_stdio;
    s.child_hook_arg = &fd;
    ctr_error err;
    ctr_exec(&s, &err);
    dprintf(fd, "ctr_exec: %s\n", err.msg);
    _exit(99);
  }
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  char buf[256] = {0};
  assert_true(pread(fd, buf, sizeof buf - 1, 0) > 0);
  close(fd);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail_msg("status %#x: %s", st, buf);
  assert_string_equal(buf, "in-exec\n1234\n");
  /* a new pid namespace cannot be entered by the process itself */
  s.ns[CTR_NS_PID].mode = CTR_NS_NEW;
  ctr_error err;
  assert_int_equal(ctr_exec(&s, &err), -1);
  assert_non_null(strstr(err.msg, "namespaces.pid: a running process cannot change"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      FX_TEST(test_runs_entry_with_status_and_output),
      FX_TEST(test_pid_namespace),
      FX_TEST(test_net_namespace_has_only_lo),
      FX_TEST(test_hostname_in_uts_namespace),
      FX_TEST(test_other_namespaces),
      FX_TEST(test_readonly_root),
      FX_TEST(test_binds),
      FX_TEST(test_bind_file_and_escape),
      FX_TEST(test_mounts),
      FX_TEST(test_masked_and_readonly_paths),
      FX_TEST(test_capabilities),
      FX_TEST(test_no_new_privileges),
      FX_TEST(test_user_by_name_and_number),
      FX_TEST(test_rlimits),
      FX_TEST(test_oom_score_adj),
      FX_TEST(test_sysctl_in_new_net_namespace),
      FX_TEST(test_devices),
      FX_TEST(test_env_and_cwd),
      FX_TEST(test_program_lookup),
      FX_TEST(test_root_propagation),
      FX_TEST(test_child_hook_failure),
      FX_TEST(test_descriptors),
      FX_TEST(test_exec_in_own_process),
  };
  return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
