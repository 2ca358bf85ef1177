/* Unit tests for the container library's parsers (container/names.c, passwd.c, check.c):
 * capability, rlimit and mount option names, LinuxKit's bind form, the image's passwd and
 * group files, and the spec check; hostile inputs get precise errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "container.h"

#define assert_error(call, want)                                                                   \
  do {                                                                                             \
    ctr_error err_ = {0};                                                                          \
    ctr_error *err = &err_;                                                                        \
    assert_int_equal((call), -1);                                                                  \
    if (!strstr(err_.msg, (want))) fail_msg("error '%s' lacks '%s'", err_.msg, (want));            \
  } while (0)

static void test_cap_names(void **state) {
  (void)state;
  ctr_error e;
  int cap = -1;
  assert_int_equal(ctr_cap_parse("CAP_SYS_ADMIN", &cap, &e), 0);
  assert_int_equal(cap, 21);
  assert_int_equal(ctr_cap_parse("net_admin", &cap, &e), 0);
  assert_int_equal(cap, 12);
  assert_int_equal(ctr_cap_parse("cap_chown", &cap, &e), 0);
  assert_int_equal(cap, 0);
  assert_int_equal(ctr_cap_parse("CAP_CHECKPOINT_RESTORE", &cap, &e), 0);
  assert_int_equal(cap, 40);
  assert_string_equal(ctr_cap_name(21), "CAP_SYS_ADMIN");
  assert_null(ctr_cap_name(64));
  assert_error(ctr_cap_parse("CAP_SYS_ADMIM", &cap, err), "unknown capability 'CAP_SYS_ADMIM'");
  assert_error(ctr_cap_parse("", &cap, err), "unknown capability ''");
  /* "CAP_" alone is not a capability, nor is a prefix doubled. */
  assert_error(ctr_cap_parse("CAP_", &cap, err), "unknown capability");
  assert_error(ctr_cap_parse("CAP_CAP_CHOWN", &cap, err), "unknown capability");
  char longname[4096];
  memset(longname, 'A', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  ctr_error big;
  assert_int_equal(ctr_cap_parse(longname, &cap, &big), -1);
  assert_true(strlen(big.msg) < 200); /* quoted, but cut short */
}

static void test_caps_list(void **state) {
  (void)state;
  ctr_error e;
  uint64_t m = 0;
  const char *two[] = {"CAP_NET_ADMIN", "CAP_SYS_ADMIN"};
  assert_int_equal(ctr_caps_parse(two, 2, &m, &e), 0);
  assert_true(m == ((UINT64_C(1) << 12) | (UINT64_C(1) << 21)));
  /* capabilities.add: adds to what is there */
  const char *add[] = {"CAP_KILL"};
  assert_int_equal(ctr_caps_parse(add, 1, &m, &e), 0);
  assert_true(m == ((UINT64_C(1) << 12) | (UINT64_C(1) << 21) | (UINT64_C(1) << 5)));
  const char *all[] = {"all"};
  m = 0;
  assert_int_equal(ctr_caps_parse(all, 1, &m, &e), 0);
  assert_true(m == ctr_caps_all());
  assert_int_equal(__builtin_popcountll(ctr_caps_all()), 41);
  /* One bad name fails the list and leaves the mask as it was. */
  const char *bad[] = {"CAP_KILL", "CAP_NOPE"};
  m = 7;
  ctr_error err;
  assert_int_equal(ctr_caps_parse(bad, 2, &m, &err), -1);
  assert_non_null(strstr(err.msg, "'CAP_NOPE'"));
  assert_true(m == 7);
  assert_true(ctr_caps_default() & (UINT64_C(1) << 0));
  assert_false(ctr_caps_default() & (UINT64_C(1) << 21));
  ctr_caps c;
  ctr_caps_set_all(&c, 5);
  assert_true(c.bounding == 5 && c.effective == 5 && c.permitted == 5 && c.inheritable == 5 &&
              c.ambient == 5);
}

static void test_rlimits(void **state) {
  (void)state;
  ctr_error e;
  ctr_rlimit r;
  assert_int_equal(ctr_rlimit_parse("RLIMIT_NOFILE,1024,4096", &r, &e), 0);
  assert_int_equal(r.resource, RLIMIT_NOFILE);
  assert_true(r.soft == 1024 && r.hard == 4096);
  assert_int_equal(ctr_rlimit_parse("core,unlimited,infinity", &r, &e), 0);
  assert_int_equal(r.resource, RLIMIT_CORE);
  assert_true(r.soft == RLIM_INFINITY && r.hard == RLIM_INFINITY);
  int res;
  assert_int_equal(ctr_rlimit_name_parse("rlimit_memlock", &res, &e), 0);
  assert_int_equal(res, RLIMIT_MEMLOCK);
  assert_error(ctr_rlimit_name_parse("RLIMIT_FILES", &res, err), "unknown resource limit 'RLIMIT_FILES'");
  assert_error(ctr_rlimit_parse("RLIMIT_NOFILE,1024", &r, err), "expected NAME,SOFT,HARD");
  assert_error(ctr_rlimit_parse("RLIMIT_NOFILE,1,2,3", &r, err), "expected NAME,SOFT,HARD");
  assert_error(ctr_rlimit_parse("RLIMIT_NOFILE,-1,2", &r, err), "'-1' is not a limit");
  assert_error(ctr_rlimit_parse("RLIMIT_NOFILE,,2", &r, err), "is not a limit");
  assert_error(ctr_rlimit_parse("RLIMIT_NOFILE, 1,2", &r, err), "is not a limit");
  /* 2^64 overflows; 2^64-1 is RLIM_INFINITY's value, refused as a number */
  assert_error(ctr_rlimit_parse("RLIMIT_NOFILE,18446744073709551616,1", &r, err), "is not a limit");
  assert_error(ctr_rlimit_parse("RLIMIT_NOFILE,1,18446744073709551615", &r, err), "is not a limit");
  assert_error(ctr_rlimit_parse("RLIMIT_NOFILE,10,5", &r, err), "soft limit is above the hard");
  assert_error(ctr_rlimit_parse("RLIMIT_NOFILEXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX,1,1", &r, err),
               "unknown resource limit");
  assert_error(ctr_rlimit_parse("NOPE,1,1", &r, err), "unknown resource limit 'NOPE'");
}

static void test_mount_options(void **state) {
  (void)state;
  ctr_error e;
  ctr_mount_opts o;
  assert_int_equal(ctr_mount_options_parse("tmpfs", "nosuid,nodev,mode=755,size=1m,ro", &o, &e), 0);
  assert_true(o.flags == (MS_NOSUID | MS_NODEV | MS_RDONLY));
  assert_string_equal(o.data, "mode=755,size=1m");
  assert_false(o.bind);
  assert_int_equal(ctr_mount_options_parse("bind", "rbind,ro,rshared", &o, &e), 0);
  assert_true(o.bind);
  assert_true(o.flags == (MS_BIND | MS_REC | MS_RDONLY));
  assert_true(o.propagation == (MS_SHARED | MS_REC));
  /* rw after ro clears it; "bind" after "rbind" is not recursive */
  assert_int_equal(ctr_mount_options_parse("bind", "rbind,ro,rw,bind,slave", &o, &e), 0);
  assert_true(o.flags == MS_BIND);
  assert_true(o.propagation == MS_SLAVE);
  /* a bind type with no option is still a bind */
  assert_int_equal(ctr_mount_options_parse("bind", NULL, &o, &e), 0);
  assert_true(o.bind && o.flags == MS_BIND);
  /* "bind" in the options of another type makes it a bind (OCI's type: none, options: rbind) */
  assert_int_equal(ctr_mount_options_parse("none", "rbind", &o, &e), 0);
  assert_true(o.bind);
  assert_error(ctr_mount_options_parse("bind", "rbind,size=1m", &o, err),
               "unknown bind mount option 'size=1m'");
  assert_error(ctr_mount_options_parse("bind", "ro,nosiud", &o, err), "unknown bind mount option 'nosiud'");
  char big[1024];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  assert_error(ctr_mount_options_parse("tmpfs", big, &o, err), "longer than 255 bytes");
  /* empty words are skipped */
  assert_int_equal(ctr_mount_options_parse("tmpfs", ",,ro,", &o, &e), 0);
  assert_true(o.flags == MS_RDONLY && o.data[0] == '\0');
}

static void test_binds(void **state) {
  (void)state;
  ctr_error e;
  ctr_mount m;
  char buf[512];
  assert_int_equal(ctr_bind_parse("/var:/var", &m, buf, sizeof buf, &e), 0);
  assert_string_equal(m.type, "bind");
  assert_string_equal(m.source, "/var");
  assert_string_equal(m.destination, "/var");
  assert_string_equal(m.options, "rbind,rprivate");
  assert_int_equal(ctr_bind_parse("/etc/resolv.conf:/etc/resolv.conf:ro,nosuid", &m, buf, sizeof buf, &e), 0);
  assert_string_equal(m.destination, "/etc/resolv.conf");
  assert_string_equal(m.options, "rbind,rprivate,ro,nosuid");
  assert_error(ctr_bind_parse("/var", &m, buf, sizeof buf, err), "expected SOURCE:DESTINATION");
  assert_error(ctr_bind_parse(":/var", &m, buf, sizeof buf, err), "expected SOURCE:DESTINATION");
  assert_error(ctr_bind_parse("/a::ro", &m, buf, sizeof buf, err), "expected SOURCE:DESTINATION");
  assert_error(ctr_bind_parse("/a:/b:ro:x", &m, buf, sizeof buf, err), "expected SOURCE:DESTINATION");
  assert_error(ctr_bind_parse("var:/var", &m, buf, sizeof buf, err), "must be absolute paths");
  assert_error(ctr_bind_parse("/a:/b:ro,frob", &m, buf, sizeof buf, err),
               "bind '/a:/b:ro,frob': unknown bind mount option 'frob'");
  char big[600];
  memset(big, '/', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  assert_error(ctr_bind_parse(big, &m, buf, sizeof buf, err), "is too long");
}

static void test_tmpfs_shortcut(void **state) {
  (void)state;
  ctr_error e;
  ctr_mount m;
  char buf[256];
  assert_int_equal(ctr_tmpfs_parse("/run:size=10m,mode=755,noexec", &m, buf, sizeof buf, &e), 0);
  assert_string_equal(m.type, "tmpfs");
  assert_string_equal(m.source, "tmpfs");
  assert_string_equal(m.destination, "/run");
  assert_string_equal(m.options, "size=10m,mode=755,noexec");
  assert_int_equal(ctr_tmpfs_parse("/tmp", &m, buf, sizeof buf, &e), 0);
  assert_string_equal(m.destination, "/tmp");
  assert_null(m.options);
  assert_error(ctr_tmpfs_parse("tmp:size=1m", &m, buf, sizeof buf, err), "must be an absolute path");
  assert_error(ctr_tmpfs_parse("/t:rbind", &m, buf, sizeof buf, err), "bind options make no sense");
  char big[600];
  memset(big, 'a', sizeof big - 1);
  big[0] = '/';
  big[sizeof big - 1] = '\0';
  assert_error(ctr_tmpfs_parse(big, &m, buf, sizeof buf, err), "is too long");
}

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "# a comment\n"
                             "\n"
                             "alice:x:1000:100:Alice:/home/alice:/bin/sh\n"
                             "short:x:5\n"
                             "big:x:4294967295:1:::\n"
                             "huge:x:99999999999999999999:1:::\n"
                             "neg:x:-1:1:::\n"
                             "last:x:7:8::/:/bin/sh";

static void test_passwd(void **state) {
  (void)state;
  ctr_error e;
  uint32_t uid = 0, gid = 0;
  assert_int_equal(ctr_passwd_find(passwd, strlen(passwd), "alice", &uid, &gid, &e), 1);
  assert_true(uid == 1000 && gid == 100);
  assert_int_equal(ctr_passwd_find(passwd, strlen(passwd), "last", &uid, &gid, &e), 1);
  assert_true(uid == 7 && gid == 8);
  assert_int_equal(ctr_passwd_find(passwd, strlen(passwd), "bob", &uid, &gid, &e), 0);
  /* a prefix of a name is not the name */
  assert_int_equal(ctr_passwd_find(passwd, strlen(passwd), "alic", &uid, &gid, &e), 0);
  assert_int_equal(ctr_passwd_find(passwd, strlen(passwd), "ro", &uid, &gid, &e), 0);
  assert_error(ctr_passwd_find(passwd, strlen(passwd), "short", &uid, &gid, err),
               "/etc/passwd line 5 ('short'): has 3 fields, expected at least 4");
  assert_error(ctr_passwd_find(passwd, strlen(passwd), "big", &uid, &gid, err),
               "uid '4294967295' or gid '1' is not a number");
  assert_error(ctr_passwd_find(passwd, strlen(passwd), "huge", &uid, &gid, err), "is not a number");
  assert_error(ctr_passwd_find(passwd, strlen(passwd), "neg", &uid, &gid, err), "is not a number");
  /* the file is only read up to the text's length: no terminator needed, none overread */
  char *exact = malloc(12);
  memcpy(exact, "a:x:1:2:::\n", 11);
  exact[11] = 'X';
  assert_int_equal(ctr_passwd_find(exact, 11, "a", &uid, &gid, &e), 1);
  assert_true(uid == 1 && gid == 2);
  free(exact);
}

static void test_passwd_bounds(void **state) {
  (void)state;
  uint32_t uid, gid;
  /* an overlong line is refused, wherever it is */
  size_t n = CTR_ID_LINE_MAX + 100;
  char *text = malloc(n + 64);
  memset(text, 'a', n);
  strcpy(text + n, "\nalice:x:1:1:::\n");
  assert_error(ctr_passwd_find(text, strlen(text), "alice", &uid, &gid, err),
               "/etc/passwd line 1 is longer than 4096 bytes");
  free(text);
  /* a file larger than the bound is refused before it is scanned */
  size_t big = CTR_ID_FILE_MAX + 1;
  char *huge = malloc(big);
  memset(huge, '\n', big);
  assert_error(ctr_passwd_find(huge, big, "alice", &uid, &gid, err), "larger than 1048576 bytes");
  free(huge);
}

static void test_group(void **state) {
  (void)state;
  static const char group[] = "root:x:0:\nstaff:x:50:alice,bob\nbad:x:abc:\nnofield:x\nwheel:x:10";
  ctr_error e;
  uint32_t gid = 0;
  assert_int_equal(ctr_group_find(group, strlen(group), "staff", &gid, &e), 1);
  assert_int_equal(gid, 50);
  assert_int_equal(ctr_group_find(group, strlen(group), "wheel", &gid, &e), 1);
  assert_int_equal(gid, 10);
  assert_int_equal(ctr_group_find(group, strlen(group), "alice", &gid, &e), 0);
  assert_error(ctr_group_find(group, strlen(group), "bad", &gid, err),
               "/etc/group entry 'bad': gid 'abc' is not a number");
  assert_error(ctr_group_find(group, strlen(group), "nofield", &gid, err),
               "/etc/group line 4 ('nofield'): has 2 fields, expected at least 3");
}

static char *argv_true[] = {"/bin/true", NULL};

static void test_spec_check(void **state) {
  (void)state;
  ctr_spec s = {.argv = argv_true};
  ctr_error e;
  assert_int_equal(ctr_spec_check(&s, &e), 0);
  ctr_spec none = {0};
  assert_error(ctr_spec_check(&none, err), "no command");
  s.hostname = "x";
  assert_error(ctr_spec_check(&s, err), "hostname 'x': needs a new uts namespace");
  s.ns[CTR_NS_UTS].mode = CTR_NS_NEW;
  assert_int_equal(ctr_spec_check(&s, &e), 0);
  s.readonly = true;
  assert_error(ctr_spec_check(&s, err), "need a new mount namespace");
  s.ns[CTR_NS_MNT].mode = CTR_NS_NEW;
  assert_int_equal(ctr_spec_check(&s, &e), 0);
  s.ns[CTR_NS_NET].mode = CTR_NS_PATH;
  assert_error(ctr_spec_check(&s, err), "namespaces.net: a namespace to join needs an absolute path");
  s.ns[CTR_NS_NET] = (ctr_ns){CTR_NS_HOST, NULL};
  ctr_sysctl sc[] = {{"net.ipv4.ip_forward", "1"}};
  s.sysctls = sc;
  s.n_sysctls = 1;
  assert_error(ctr_spec_check(&s, err), "sysctl 'net.ipv4.ip_forward': needs the container's own net namespace");
  sc[0].key = "vm.swappiness";
  assert_error(ctr_spec_check(&s, err), "sysctl 'vm.swappiness': not in any namespace");
  sc[0].key = "net/../../vm/swappiness";
  assert_error(ctr_spec_check(&s, err), "not a sysctl name");
  s.n_sysctls = 0;
  s.resources.memory_max = 1 << 20;
  assert_error(ctr_spec_check(&s, err), "resources: need a cgroupsPath");
  s.cgroups_path = "../escape";
  assert_error(ctr_spec_check(&s, err), "cgroupsPath '../escape'");
  s.cgroups_path = "ok";
  s.resources.cpu_weight = 10001;
  assert_error(ctr_spec_check(&s, err), "cpu.weight 10001");
  s.resources.cpu_weight = 0;
  ctr_iface ifs[] = {{.name = "eth0"}};
  s.runtime.interfaces = ifs;
  s.runtime.n_interfaces = 1;
  assert_error(ctr_spec_check(&s, err), "runtime.interfaces: need the container's own network");
  s.runtime.n_interfaces = 0;
  s.uid.name = "a:b";
  assert_error(ctr_spec_check(&s, err), "uid: 'a:b' is not a user or group name");
  s.uid.name = NULL;
  s.caps_set = true;
  s.caps.effective = 1;
  assert_error(ctr_spec_check(&s, err), "effective set must be within the permitted");
  s.caps.permitted = 1;
  s.caps.ambient = 1;
  assert_error(ctr_spec_check(&s, err), "ambient set must be within");
  s.caps_set = false;
  ctr_mount m[] = {{.type = "bind", .source = "rel", .destination = "/x"}};
  s.mounts = m;
  s.n_mounts = 1;
  assert_error(ctr_spec_check(&s, err), "bind to '/x': the source must be an absolute path");
  m[0] = (ctr_mount){.type = "tmpfs", .destination = "x"};
  assert_error(ctr_spec_check(&s, err), "the destination must be an absolute path");
  s.n_mounts = 0;
  s.oom_score_adj_set = true;
  s.oom_score_adj = 1001;
  assert_error(ctr_spec_check(&s, err), "oomScoreAdj 1001");
  s.oom_score_adj_set = false;
  s.root = "/nonexistent-root";
  assert_error(ctr_spec_check(&s, err), "root '/nonexistent-root': No such file");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cap_names),   cmocka_unit_test(test_caps_list),
      cmocka_unit_test(test_rlimits),     cmocka_unit_test(test_mount_options),
      cmocka_unit_test(test_binds),       cmocka_unit_test(test_tmpfs_shortcut),       cmocka_unit_test(test_passwd),
      cmocka_unit_test(test_passwd_bounds), cmocka_unit_test(test_group),
      cmocka_unit_test(test_spec_check),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
