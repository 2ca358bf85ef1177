/* Unit tests for coreinit's configuration (runtime/init/conf.c, confmerge.c): directives,
 * blocks, escapes, the run.conf rules and merge, the checks of the whole, and every error
 * with its line number; also the /etc/group reading of user.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

/* Included, not linked: coreinit is built only for the guest, with musl. */
#include "../../runtime/init/conf.c"
#include "../../runtime/init/confmerge.c"
#include "../../runtime/init/user.c"

#define KNOWN                                                                                      \
  "(known: hostname, module, env, arg, status-device, sysctl, volume, interface, mount, onboot, "  \
  "service, onshutdown)"
#define INIT_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int parse(init_conf *c, const char *file, const char *text, init_error *err) {
  return init_conf_parse(c, file, INIT_CONF_BUILD, text, strlen(text), err);
}

static int parse_run(init_conf *c, const char *file, const char *text, init_error *err) {
  return init_conf_parse(c, file, INIT_CONF_RUN, text, strlen(text), err);
}

static void assert_strv(const init_strv *s, const char *const *want, size_t n) {
  assert_int_equal(s->n, n);
  for (size_t i = 0; i < n; i++) assert_string_equal(s->v[i], want[i]);
  if (n) assert_null(s->v[n]);
}

static void test_directives(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  const char *text = "# written by corec\n"
                     "\n"
                     "version 1\n"
                     "hostname first\n"
                     "hostname web\n"
                     "module /lib/modules/failover.ko\n"
                     "module /lib/modules/virtio_net.ko\n"
                     "env GREETING=hello world\n"
                     "env EMPTY=\n"
                     "  \t \n"
                     "arg /bin/sh\n"
                     "arg -c\n"
                     "arg  two  spaces \n"
                     "arg \n"
                     "status-device /dev/ttyS1"; /* no final newline */
  assert_int_equal(parse(&c, "init.conf", text, &err), 0);
  assert_string_equal(c.hostname, "web");
  assert_string_equal(c.status_device, "/dev/ttyS1");
  assert_strv(&c.modules,
              (const char *const[]){"/lib/modules/failover.ko", "/lib/modules/virtio_net.ko"}, 2);
  assert_strv(&c.env, (const char *const[]){"GREETING=hello world", "EMPTY="}, 2);
  /* The value is the rest of the line, spaces included; an empty value is an empty arg. */
  assert_strv(&c.argv, (const char *const[]){"/bin/sh", "-c", " two  spaces ", ""}, 4);
  init_conf_free(&c);
}

static void test_escapes(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  assert_int_equal(parse(&c, "f", "version 1\narg a\\\\b\\nc\\td\\\\n\nenv X=\\t\n", &err), 0);
  assert_strv(&c.argv, (const char *const[]){"a\\b\nc\td\\n"}, 1);
  assert_strv(&c.env, (const char *const[]){"X=\t"}, 1);
  init_conf_free(&c);

  /* CR has no escape and the writer passes it through, so it is an ordinary byte. */
  assert_int_equal(parse(&c, "f", "version 1\narg a\rb\n", &err), 0);
  assert_strv(&c.argv, (const char *const[]){"a\rb"}, 1);
  init_conf_free(&c);
}

static void test_not_nul_terminated(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  const char text[] = "version 1\narg abcGARBAGE";
  assert_int_equal(
      init_conf_parse(&c, "f", INIT_CONF_BUILD, text, strlen("version 1\narg abc"), &err), 0);
  assert_strv(&c.argv, (const char *const[]){"abc"}, 1);
  init_conf_free(&c);
}

static void test_finish_environment(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  assert_int_equal(
      parse(&c, "f", "version 1\narg app\nenv TERM=vt100\nenv A=1\nenv A=2\nenv B=x=y\n", &err), 0);
  assert_int_equal(init_conf_finish(&c, "f", &err), 0);
  /* Defaults first, overridden in place; later env lines win. */
  assert_strv(&c.env,
              (const char *const[]){INIT_DEFAULT_PATH, "HOME=/root", "TERM=vt100", "A=2", "B=x=y"},
              5);
  init_conf_free(&c);

  /* A name that is a prefix of another must not replace it. */
  assert_int_equal(parse(&c, "f", "version 1\narg app\nenv PATHX=1\nenv HOM=2\n", &err), 0);
  assert_int_equal(init_conf_finish(&c, "f", &err), 0);
  assert_strv(
      &c.env,
      (const char *const[]){INIT_DEFAULT_PATH, "HOME=/root", "TERM=linux", "PATHX=1", "HOM=2"}, 5);
  init_conf_free(&c);
}

static void test_merge_run_conf_replaces_argv(void **state) {
  (void)state;
  init_conf base = INIT_CONF_INIT, run = INIT_CONF_INIT;
  init_error err;
  assert_int_equal(parse(&base, "init.conf",
                         "version 1\nhostname app\nmodule /a.ko\nenv A=init\nenv B=init\n"
                         "arg /app\narg --serve\n",
                         &err),
                   0);
  assert_int_equal(parse_run(&run, "run.conf",
                             "version 1\nstatus-device /dev/ttyS1\nmodule /b.ko\nenv B=run\n"
                             "env C=run\narg sh\narg -c\narg echo hi\n",
                             &err),
                   0);
  assert_int_equal(init_conf_merge(&base, &run, &err), 0);
  assert_int_equal(init_conf_finish(&base, "init.conf", &err), 0);
  assert_string_equal(base.hostname, "app");
  assert_string_equal(base.status_device, "/dev/ttyS1");
  assert_strv(&base.modules, (const char *const[]){"/a.ko", "/b.ko"}, 2);
  assert_strv(&base.argv, (const char *const[]){"sh", "-c", "echo hi"}, 3);
  assert_strv(&base.env,
              (const char *const[]){INIT_DEFAULT_PATH, "HOME=/root", "TERM=linux", "A=init",
                                    "B=run", "C=run"},
              6);
  /* over is left empty */
  assert_null(run.argv.v);
  assert_null(run.env.v);
  assert_null(run.status_device);
  init_conf_free(&base);
}

static void test_merge_run_conf_without_args_keeps_argv(void **state) {
  (void)state;
  init_conf base = INIT_CONF_INIT, run = INIT_CONF_INIT;
  init_error err;
  assert_int_equal(parse(&base, "init.conf", "version 1\narg /app\narg x\n", &err), 0);
  assert_int_equal(parse_run(&run, "run.conf", "version 1\nhostname other\nenv X=1\n", &err), 0);
  assert_int_equal(init_conf_merge(&base, &run, &err), 0);
  assert_string_equal(base.hostname, "other");
  assert_null(base.status_device);
  assert_strv(&base.argv, (const char *const[]){"/app", "x"}, 2);
  assert_strv(&base.env, (const char *const[]){"X=1"}, 1);
  init_conf_free(&base);
}

/* run.conf may be the one file with args, e.g. when the build wrote none (not our case,
 * but the merge must not care). */
static void test_merge_into_empty_argv(void **state) {
  (void)state;
  init_conf base = INIT_CONF_INIT, run = INIT_CONF_INIT;
  init_error err;
  assert_int_equal(parse(&base, "init.conf", "version 1\n", &err), 0);
  assert_int_equal(parse_run(&run, "run.conf", "version 1\narg /bin/true\n", &err), 0);
  assert_int_equal(init_conf_merge(&base, &run, &err), 0);
  assert_int_equal(init_conf_finish(&base, "init.conf", &err), 0);
  assert_strv(&base.argv, (const char *const[]){"/bin/true"}, 1);
  init_conf_free(&base);
}

static const struct {
  const char *text;
  const char *msg;
} parse_errors[] = {
    {"", "init.conf:1: no 'version 1' line (the file has no directives)"},
    {"# only\n\n# comments\n", "init.conf:4: no 'version 1' line (the file has no directives)"},
    {"# c\nhostname x\nversion 1\n", "init.conf:2: the first directive must be 'version 1'"},
    {"version 2\n", "init.conf:1: unsupported version '2' (this coreinit reads version 1)"},
    {"version 1 \n", "init.conf:1: unsupported version '1 ' (this coreinit reads version 1)"},
    {"version\n", "init.conf:1: unsupported version '' (this coreinit reads version 1)"},
    {"version 1\nversion 1\n",
     "init.conf:2: 'version' may appear only once, as the first directive"},
    {"version 1\narg x\nservce web\n", "init.conf:3: unknown directive 'servce' " KNOWN},
    {"version 1\nArg x\n", "init.conf:2: unknown directive 'Arg' " KNOWN},
    {"version 1\narg\n", "init.conf:2: 'arg' needs a value after one space"},
    {"version 1\nhostname\n", "init.conf:2: 'hostname' needs a value after one space"},
    {"version 1\n arg x\n",
     "init.conf:2: indented line, but 'version' on line 1 does not start a block"},
    {"version 1\n\narg a\\qb\n",
     "init.conf:3: unknown escape '\\q' (only '\\\\', '\\n' and '\\t' exist)"},
    {"version 1\narg a\\r\n",
     "init.conf:2: unknown escape '\\r' (only '\\\\', '\\n' and '\\t' exist)"},
    {"version 1\narg ab\\\n",
     "init.conf:2: backslash at end of line (write '\\\\' for a backslash)"},
    {"# saved on Windows\r\nversion 1\r\narg x\r\n",
     "init.conf:2: 'version 1' followed by a carriage return (lines must end with LF alone)"},
    {"version 1\nhostname \n", "init.conf:2: hostname must be 1 to 64 bytes long, not 0"},
    {"version 1\nhostname "
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
     "init.conf:2: hostname must be 1 to 64 bytes long, not 65"},
    {"version 1\nmodule virtio_net.ko\n",
     "init.conf:2: module path 'virtio_net.ko' is not absolute"},
    {"version 1\nmodule \n", "init.conf:2: module path '' is not absolute"},
    {"version 1\nenv NOEQUALS\n", "init.conf:2: env value 'NOEQUALS' is not NAME=VALUE"},
    {"version 1\nenv =x\n", "init.conf:2: env value '=x' is not NAME=VALUE"},
    {"version 1\nstatus-device ttyS1\n",
     "init.conf:2: status device 'ttyS1' is not an absolute path"},

    /* indentation */
    {"version 1\n\targ x\n",
     "init.conf:2: indented line, but 'version' on line 1 does not start a block"},
    {"version 1\nhostname h\n  arg x\n",
     "init.conf:3: indented line, but 'hostname' on line 2 does not start a block"},
    {"  arg x\nversion 1\n", "init.conf:1: the first directive must be 'version 1'"},
    {"version 1\nservice a\n  arg x\narg y\n  env A=1\n",
     "init.conf:5: indented line, but 'arg' on line 4 does not start a block"},
    {"version 1\nservice a\n  arg\n", "init.conf:3: 'arg' needs a value after one space"},
    {"version 1\nservice a\n  version 1\n",
     "init.conf:3: unknown key 'version' in service 'a' (known: arg, env, root, cwd, user, "
     "restart, depends-on)"},

    /* steps and services */
    {"version 1\nservice\n", "init.conf:2: 'service' needs a value after one space"},
    {"version 1\nservice web\n", "init.conf:2: service 'web' has no 'arg' line"},
    {"version 1\narg x\nonboot k\n  env A=1\n", "init.conf:3: onboot step 'k' has no 'arg' line"},
    {"version 1\nonshutdown f\n  arg \n  arg x\n",
     "init.conf:2: onshutdown step 'f': the first 'arg' (the program to run) is empty"},
    {"version 1\nservice a b\n",
     "init.conf:2: service name 'a b' is not 1 to 63 letters, digits, '-', '_' or '.'"},
    {"version 1\nonboot \n",
     "init.conf:2: onboot step name '' is not 1 to 63 letters, digits, '-', '_' or '.'"},
    {"version 1\nonboot x\n  arg a\nservice x\n",
     "init.conf:4: the name 'x' is already used on line 2"},
    {"version 1\nservice x\n  arg a\nonshutdown x\n",
     "init.conf:4: the name 'x' is already used on line 2"},
    {"version 1\nonboot k\n  arg a\n  restart always\n",
     "init.conf:4: unknown key 'restart' in onboot step 'k' (known: arg, env, root, cwd, user)"},
    {"version 1\nonshutdown k\n  arg a\n  depends-on x\n",
     "init.conf:4: unknown key 'depends-on' in onshutdown step 'k' (known: arg, env, root, cwd, "
     "user)"},
    {"version 1\nservice s\n  arg a\n  restart sometimes\n",
     "init.conf:4: restart 'sometimes' is not always, on-failure or never"},
    {"version 1\nservice s\n  arg a\n  restart never\n  restart always\n",
     "init.conf:5: 'restart' given twice in this block"},
    {"version 1\nservice s\n  arg a\n  user a\n  user b\n",
     "init.conf:5: 'user' given twice in this block"},
    {"version 1\nservice s\n  root /a\n  root /b\n",
     "init.conf:4: 'root' given twice in this block"},
    {"version 1\nservice s\n  cwd /a\n  cwd /a\n", "init.conf:4: 'cwd' given twice in this block"},
    {"version 1\nservice s\n  root rootfs\n", "init.conf:3: root 'rootfs' is not an absolute path"},
    {"version 1\nservice s\n  cwd www\n", "init.conf:3: cwd 'www' is not an absolute path"},
    {"version 1\nservice s\n  env X\n", "init.conf:3: env value 'X' is not NAME=VALUE"},
    {"version 1\nservice s\n  depends-on a/b\n",
     "init.conf:3: depends-on 'a/b' is not a service name"},
    {"version 1\nservice s\n  user 1000:\n",
     "init.conf:3: user '1000:' is not a user name, UID or UID:GID"},
    {"version 1\nservice s\n  user 1000:x\n",
     "init.conf:3: user '1000:x' is not a user name, UID or UID:GID"},
    {"version 1\nservice s\n  user 10a\n",
     "init.conf:3: user '10a' is not a user name, UID or UID:GID"},
    {"version 1\nservice s\n  user 1:2:3\n",
     "init.conf:3: user '1:2:3' is not a user name, UID or UID:GID"},
    {"version 1\nservice s\n  user 4294967295\n",
     "init.conf:3: user '4294967295' is not a user name, UID or UID:GID"},
    {"version 1\nservice s\n  user a:b\n",
     "init.conf:3: user 'a:b' is not a user name, UID or UID:GID"},
    {"version 1\nservice s\n  user \n", "init.conf:3: user '' is not a user name, UID or UID:GID"},

    /* mounts */
    {"version 1\nmount data\n",
     "init.conf:2: mount path 'data' is not an absolute path below / without empty, '.' or '..' "
     "parts"},
    {"version 1\nmount /\n", "init.conf:2: mount path '/' is not an absolute path below / without "
                             "empty, '.' or '..' parts"},
    {"version 1\nmount /a/../b\n",
     "init.conf:2: mount path '/a/../b' is not an absolute path below / without empty, '.' or "
     "'..' parts"},
    {"version 1\nmount /a//b\n",
     "init.conf:2: mount path '/a//b' is not an absolute path below / without empty, '.' or '..' "
     "parts"},
    {"version 1\nmount /a/\n",
     "init.conf:2: mount path '/a/' is not an absolute path below / without empty, '.' or '..' "
     "parts"},
    {"version 1\nmount /a\n  type tmpfs\nmount /a\n",
     "init.conf:4: '/a' is already mounted on line 2"},
    {"version 1\narg x\nmount /a\n  size 10\n",
     "init.conf:3: mount '/a' has no 'type' line (tmpfs or volume)"},
    {"version 1\nmount /a\n  type nfs\n", "init.conf:3: mount type 'nfs' is not tmpfs or volume"},
    {"version 1\nmount /a\n  type tmpfs\n  type tmpfs\n",
     "init.conf:4: 'type' given twice in this block"},
    {"version 1\nmount /a\n  type tmpfs\n  size 64M\n",
     "init.conf:4: size '64M' is not a number of bytes above 0"},
    {"version 1\nmount /a\n  size 0\n", "init.conf:3: size '0' is not a number of bytes above 0"},
    {"version 1\nmount /a\n  size 99999999999999999999\n",
     "init.conf:3: size '99999999999999999999' is not a number of bytes above 0"},
    {"version 1\nmount /a\n  mode 0999\n",
     "init.conf:3: mode '0999' is not an octal mode up to 07777"},
    {"version 1\nmount /a\n  mode 17777\n",
     "init.conf:3: mode '17777' is not an octal mode up to 07777"},
    {"version 1\nmount /a\n  mode rwx\n",
     "init.conf:3: mode 'rwx' is not an octal mode up to 07777"},
    {"version 1\narg x\nmount /a\n  type tmpfs\n  volume v\n",
     "init.conf:3: mount '/a' is a tmpfs, so it takes no 'volume' line"},
    {"version 1\narg x\nmount /a\n  type volume\n  volume v\n  size 10\n",
     "init.conf:3: mount '/a' is a volume, so it takes no 'size' line (the disk image has its "
     "own)"},
    {"version 1\narg x\nmount /a\n  type volume\n",
     "init.conf:3: mount '/a' of type volume has no 'volume' line"},
    {"version 1\nmount /a\n  volume a b\n", "init.conf:3: volume name 'a b' is not a volume name"},
    {"version 1\nmount /a\n  options ro\n",
     "init.conf:3: unknown key 'options' in mount '/a' (known: type, size, mode, volume)"},

    /* volumes */
    {"version 1\nvolume data\n", "init.conf:2: volume value 'data' is not NAME DEVICE"},
    {"version 1\nvolume data vda\n", "init.conf:2: volume device 'vda' is not an absolute path"},
    {"version 1\nvolume d/x /dev/vda\n",
     "init.conf:2: volume name 'd/x' is not 1 to 63 letters, digits, '-', '_' or '.'"},
    {"version 1\nvolume d /dev/vda\nvolume d /dev/vdb\n", "init.conf:3: volume 'd' given twice"},

    /* interfaces */
    {"version 1\ninterface eth0/1\n",
     "init.conf:2: interface name 'eth0/1' is not a network interface name"},
    {"version 1\ninterface abcdefghijklmnop\n",
     "init.conf:2: interface name 'abcdefghijklmnop' is not a network interface name"},
    {"version 1\ninterface eth0\ninterface eth0\n",
     "init.conf:3: interface 'eth0' is already configured on line 2"},
    {"version 1\ninterface eth0\n  address 10.0.2.15\n",
     "init.conf:3: address '10.0.2.15' is not an IPv4 address with a prefix length (10.0.2.15/24)"},
    {"version 1\ninterface eth0\n  address 10.0.2.15/33\n",
     "init.conf:3: address '10.0.2.15/33' is not an IPv4 address with a prefix length "
     "(10.0.2.15/24)"},
    {"version 1\ninterface eth0\n  address 10.0.2.15/+4\n",
     "init.conf:3: address '10.0.2.15/+4' is not an IPv4 address with a prefix length "
     "(10.0.2.15/24)"},
    {"version 1\ninterface eth0\n  address 10.0.2/24\n",
     "init.conf:3: address '10.0.2/24' is not an IPv4 address with a prefix length (10.0.2.15/24)"},
    {"version 1\ninterface eth0\n  address 10.0.2.15/24\n  address 10.0.2.16/24\n",
     "init.conf:4: 'address' given twice in this block"},
    {"version 1\ninterface eth0\n  gateway fe80::1\n",
     "init.conf:3: gateway 'fe80::1' is not an IPv4 address"},
    {"version 1\ninterface eth0\n  dns dns.google\n",
     "init.conf:3: dns 'dns.google' is not an IPv4 or IPv6 address"},
    {"version 1\ninterface eth0\n  mtu 1500\n",
     "init.conf:3: unknown key 'mtu' in interface 'eth0' (known: address, gateway, dns)"},

    /* sysctl */
    {"version 1\nsysctl net.ipv4.ip_forward\n",
     "init.conf:2: sysctl value 'net.ipv4.ip_forward' is not KEY=VALUE"},
    {"version 1\nsysctl =1\n", "init.conf:2: sysctl key '' is not a name under /proc/sys"},
    {"version 1\nsysctl ../../etc/passwd=x\n",
     "init.conf:2: sysctl key '../../etc/passwd' is not a name under /proc/sys"},
    {"version 1\nsysctl net..ipv4=1\n",
     "init.conf:2: sysctl key 'net..ipv4' is not a name under /proc/sys"},
    {"version 1\nsysctl .net=1\n", "init.conf:2: sysctl key '.net' is not a name under /proc/sys"},
    {"version 1\nsysctl net/=1\n", "init.conf:2: sysctl key 'net/' is not a name under /proc/sys"},
    {"version 1\nsysctl net ipv4=1\n",
     "init.conf:2: sysctl key 'net ipv4' is not a name under /proc/sys"},
};

static void test_parse_errors(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof parse_errors / sizeof parse_errors[0]; i++) {
    init_conf c = INIT_CONF_INIT;
    init_error err;
    /* Directives before the bad line must not leak into the output. */
    int r = parse(&c, "init.conf", parse_errors[i].text, &err);
    if (r != -1 || strcmp(err.msg, parse_errors[i].msg) != 0)
      fail_msg("case %zu: got %d '%s', want '%s'", i, r, r ? err.msg : "", parse_errors[i].msg);
    assert_null(c.argv.v);
    assert_null(c.env.v);
    assert_null(c.modules.v);
    assert_null(c.hostname);
  }
}

static void test_nul_byte(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  const char text[] = "version 1\narg a\0b\n";
  assert_int_equal(init_conf_parse(&c, "run.conf", INIT_CONF_RUN, text, sizeof text - 1, &err), -1);
  assert_string_equal(err.msg, "run.conf:2: NUL byte in line");
}

static void test_line_numbers_count_comments_and_blanks(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  assert_int_equal(parse(&c, "/etc/core/run.conf", "# a\n\nversion 1\n# b\n\n\nbogus\n", &err), -1);
  assert_string_equal(err.msg, "/etc/core/run.conf:7: unknown directive 'bogus' " KNOWN);
}

static void test_finish_errors(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  assert_int_equal(parse(&c, "f", "version 1\nenv A=1\n", &err), 0);
  assert_int_equal(init_conf_finish(&c, "/etc/core/init.conf", &err), -1);
  assert_string_equal(err.msg,
                      "/etc/core/init.conf: no 'arg' line and no 'service' block, so there is "
                      "nothing to run");
  init_conf_free(&c);

  assert_int_equal(parse(&c, "f", "version 1\narg \narg x\n", &err), 0);
  assert_int_equal(init_conf_finish(&c, "/etc/core/init.conf", &err), -1);
  assert_string_equal(err.msg,
                      "/etc/core/init.conf: the first 'arg' (the program to run) is empty");
  init_conf_free(&c);
}

/* Every block and top-level directive of the app, as the build writes them. */
static const char full_conf[] = "version 1\n"
                                "hostname web\n"
                                "env GLOBAL=1\n"
                                "env SHARED=global\n"
                                "sysctl net.ipv4.ip_forward=1\n"
                                "sysctl net/ipv4/conf/eth0.100/forwarding=0\n"
                                "module /lib/modules/virtio_net.ko\n"
                                "mount /var/lib/app\n"
                                "  type tmpfs\n"
                                "  size 67108864\n"
                                "  mode 0700\n"
                                "mount /data\n"
                                "\ttype volume\n" /* a tab indents as well as spaces */
                                "  volume data\n"
                                "  mode 755\n"
                                "onboot keys\n"
                                "  arg /bin/sh\n"
                                "  arg -c\n"
                                "  arg echo \\\\n ok\n"
                                "  # a comment inside a block, and a blank line:\n"
                                "\n"
                                "  env SHARED=step\n"
                                "  root /containers/x/rootfs\n"
                                "service db\n"
                                "  arg /bin/db\n"
                                "  restart on-failure\n"
                                "service httpd\n"
                                "  arg /bin/httpd\n"
                                "  arg -f\n"
                                "  restart never\n"
                                "  env HOME=/srv\n"
                                "  cwd /var/www\n"
                                "  user www\n"
                                "  depends-on db\n"
                                "  root /containers/y/rootfs\n"
                                "onshutdown flush\n"
                                "  arg /bin/sync\n"
                                "  user 1000:100\n"
                                "arg /bin/sh\n" /* back at the top level: the main command */
                                "interface eth0\n"
                                "  address 10.0.2.15/24\n"
                                "  gateway 10.0.2.2\n"
                                "  dns 10.0.2.3\n"
                                "  dns 2001:db8::1\n"
                                "volume cache /dev/vdb\n";

static void test_blocks(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  if (parse(&c, "init.conf", full_conf, &err) < 0) fail_msg("%s", err.msg);
  assert_string_equal(c.hostname, "web");
  assert_strv(&c.env, (const char *const[]){"GLOBAL=1", "SHARED=global"}, 2);
  assert_strv(&c.sysctls,
              (const char *const[]){"net.ipv4.ip_forward=1", "net/ipv4/conf/eth0.100/forwarding=0"},
              2);
  assert_strv(&c.argv, (const char *const[]){"/bin/sh"}, 1);

  assert_int_equal(c.mounts.n, 2);
  assert_string_equal(c.mounts.v[0].path, "/var/lib/app");
  assert_int_equal(c.mounts.v[0].type, INIT_MOUNT_TMPFS);
  assert_int_equal(c.mounts.v[0].size, 67108864ull);
  assert_int_equal(c.mounts.v[0].mode, 0700);
  assert_null(c.mounts.v[0].volume);
  assert_string_equal(c.mounts.v[1].path, "/data");
  assert_int_equal(c.mounts.v[1].type, INIT_MOUNT_VOLUME);
  assert_string_equal(c.mounts.v[1].volume, "data");
  assert_int_equal(c.mounts.v[1].mode, 0755);
  assert_int_equal(c.mounts.v[1].line, 12);

  assert_int_equal(c.onboot.n, 1);
  const init_proc *k = &c.onboot.v[0];
  assert_string_equal(k->name, "keys");
  assert_int_equal(k->line, 16);
  assert_strv(&k->argv, (const char *const[]){"/bin/sh", "-c", "echo \\n ok"}, 3);
  assert_strv(&k->env, (const char *const[]){"SHARED=step"}, 1);
  assert_string_equal(k->root, "/containers/x/rootfs");
  assert_null(k->cwd);
  assert_null(k->user);

  assert_int_equal(c.services.n, 2);
  const init_proc *h = &c.services.v[1];
  assert_string_equal(c.services.v[0].name, "db");
  assert_int_equal(c.services.v[0].restart, INIT_RESTART_ON_FAILURE);
  assert_string_equal(h->name, "httpd");
  assert_strv(&h->argv, (const char *const[]){"/bin/httpd", "-f"}, 2);
  assert_int_equal(h->restart, INIT_RESTART_NEVER);
  assert_string_equal(h->cwd, "/var/www");
  assert_string_equal(h->user, "www");
  assert_string_equal(h->root, "/containers/y/rootfs");
  assert_strv(&h->depends, (const char *const[]){"db"}, 1);
  assert_int_equal(h->depends_line[0], 34);

  assert_int_equal(c.onshutdown.n, 1);
  assert_string_equal(c.onshutdown.v[0].user, "1000:100");
  /* Default policy */
  init_conf d = INIT_CONF_INIT;
  assert_int_equal(parse(&d, "f", "version 1\nservice s\n  arg x\n", &err), 0);
  assert_int_equal(d.services.v[0].restart, INIT_RESTART_ALWAYS);
  init_conf_free(&d);

  assert_int_equal(c.ifaces.n, 1);
  const init_iface *f = &c.ifaces.v[0];
  assert_string_equal(f->name, "eth0");
  assert_true(f->has_address && f->has_gateway);
  assert_int_equal(ntohl(f->address), 0x0a00020f);
  assert_int_equal(f->prefix, 24);
  assert_int_equal(ntohl(f->gateway), 0x0a000202);
  assert_strv(&f->dns, (const char *const[]){"10.0.2.3", "2001:db8::1"}, 2);

  assert_int_equal(c.volumes.n, 1);
  assert_string_equal(c.volumes.v[0].name, "cache");
  assert_string_equal(c.volumes.v[0].device, "/dev/vdb");
  assert_null(c.warnings.v);
  init_conf_free(&c);
}

/* The file corerun writes today: an interface block indented by two spaces. */
static void test_run_conf_of_corerun(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  if (parse_run(&c, "run.conf",
                "version 1\nstatus-device /dev/ttyS1\ninterface eth0\n  address 10.0.2.15/24\n"
                "  gateway 10.0.2.2\n  dns 10.0.2.3\nvolume data /dev/vda\narg /bin/true\n",
                &err) < 0)
    fail_msg("%s", err.msg);
  assert_int_equal(c.ifaces.n, 1);
  assert_int_equal(c.volumes.n, 1);
  assert_strv(&c.argv, (const char *const[]){"/bin/true"}, 1);
  assert_null(c.warnings.v);
  init_conf_free(&c);
}

/* A newer launcher may write what this coreinit does not know: skipped, with a warning
 * that says where. init.conf comes from the same build as coreinit, so there it is an
 * error (test_parse_errors). */
static void test_run_conf_unknown_is_a_warning(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  const char *text = "version 1\n"
                     "firewall on\n"
                     "  allow 80\n" /* the unknown directive's block: skipped silently */
                     "  allow 443\n"
                     "interface eth0\n"
                     "  address 10.0.2.15/24\n"
                     "  mtu 1500\n"
                     "  ipv6\n" /* unknown and without a value */
                     "hostname h\n"
                     "  alias web\n" /* a known directive with lines of a newer format */
                     "tpm\n"
                     "arg x\n";
  if (parse_run(&c, "run.conf", text, &err) < 0) fail_msg("%s", err.msg);
  assert_strv(&c.warnings,
              (const char *const[]){
                  "run.conf:2: unknown directive 'firewall' skipped " KNOWN,
                  "run.conf:7: unknown key 'mtu' in interface 'eth0' skipped",
                  "run.conf:8: unknown key 'ipv6' in interface 'eth0' skipped",
                  "run.conf:10: indented line skipped: 'hostname' on line 9 starts no block",
                  "run.conf:11: unknown directive 'tpm' skipped " KNOWN,
              },
              5);
  assert_string_equal(c.hostname, "h");
  assert_true(c.ifaces.v[0].has_address);
  assert_strv(&c.argv, (const char *const[]){"x"}, 1);
  init_conf_free(&c);
}

static const struct {
  const char *text;
  const char *msg;
} run_errors[] = {
    /* Known directives are still checked. */
    {"version 1\nvolume data\n", "run.conf:2: volume value 'data' is not NAME DEVICE"},
    {"version 1\ninterface eth0\n  address 10.0.2.15\n",
     "run.conf:3: address '10.0.2.15' is not an IPv4 address with a prefix length (10.0.2.15/24)"},
    {"version 1\ninterface eth0\n  dns\n", "run.conf:3: 'dns' needs a value after one space"},
    {"version 1\nhostname\n", "run.conf:2: 'hostname' needs a value after one space"},
    {"version 2\n", "run.conf:1: unsupported version '2' (this coreinit reads version 1)"},
    {"arg x\n", "run.conf:1: the first directive must be 'version 1'"},
    {"version 1\n  arg x\n",
     "run.conf:2: indented line skipped: 'version' on line 1 starts no block"},
    /* The app's own blocks are the build's; a launcher may not add to them. */
    {"version 1\nservice s\n  arg x\n",
     "run.conf:2: 'service' belongs in init.conf (the app's build), not in run.conf"},
    {"version 1\nonboot s\n",
     "run.conf:2: 'onboot' belongs in init.conf (the app's build), not in run.conf"},
    {"version 1\nonshutdown s\n",
     "run.conf:2: 'onshutdown' belongs in init.conf (the app's build), not in run.conf"},
    {"version 1\nmount /x\n",
     "run.conf:2: 'mount' belongs in init.conf (the app's build), not in run.conf"},
};

static void test_run_conf_errors(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof run_errors / sizeof run_errors[0]; i++) {
    init_conf c = INIT_CONF_INIT;
    init_error err;
    int r = parse_run(&c, "run.conf", run_errors[i].text, &err);
    /* One case is a warning, not an error: an indented line before any block. */
    if (r == 0 && c.warnings.n == 1 && strcmp(c.warnings.v[0], run_errors[i].msg) == 0) {
      init_conf_free(&c);
      continue;
    }
    if (r != -1 || strcmp(err.msg, run_errors[i].msg) != 0)
      fail_msg("case %zu: got %d '%s', want '%s'", i, r, r ? err.msg : "", run_errors[i].msg);
    assert_null(c.warnings.v);
  }
}

static void test_merge_devices(void **state) {
  (void)state;
  init_conf base = INIT_CONF_INIT, run = INIT_CONF_INIT;
  init_error err;
  assert_int_equal(
      parse(&base, "init.conf",
            "version 1\narg x\nsysctl a.b=1\nvolume data /dev/sda\nvolume keep /dev/sdb\n"
            "interface eth0\n  address 192.168.1.2/16\n  dns 1.1.1.1\n"
            "interface eth1\n  address 192.168.2.2/24\n",
            &err),
      0);
  assert_int_equal(parse_run(&run, "run.conf",
                             "version 1\nsysctl a.b=2\nvolume data /dev/vda\nvolume new /dev/vdb\n"
                             "interface eth0\n  address 10.0.2.15/24\n  gateway 10.0.2.2\n"
                             "interface eth2\nfuture x\n",
                             &err),
                   0);
  assert_int_equal(init_conf_merge(&base, &run, &err), 0);
  /* sysctls: both, run.conf's last so it wins when written */
  assert_strv(&base.sysctls, (const char *const[]){"a.b=1", "a.b=2"}, 2);
  /* volumes: the same name takes run.conf's device; new names are added */
  assert_int_equal(base.volumes.n, 3);
  assert_string_equal(base.volumes.v[0].name, "data");
  assert_string_equal(base.volumes.v[0].device, "/dev/vda");
  assert_string_equal(base.volumes.v[1].device, "/dev/sdb");
  assert_string_equal(base.volumes.v[2].name, "new");
  /* interfaces: run.conf's block replaces the whole block of the same name */
  assert_int_equal(base.ifaces.n, 3);
  assert_string_equal(base.ifaces.v[0].name, "eth0");
  assert_int_equal(ntohl(base.ifaces.v[0].address), 0x0a00020f);
  assert_true(base.ifaces.v[0].has_gateway);
  assert_null(base.ifaces.v[0].dns.v);
  assert_string_equal(base.ifaces.v[1].name, "eth1");
  assert_string_equal(base.ifaces.v[2].name, "eth2");
  assert_false(base.ifaces.v[2].has_address);
  /* warnings travel with the merge, to be printed by main */
  assert_int_equal(base.warnings.n, 1);
  assert_null(run.volumes.v);
  assert_null(run.ifaces.v);
  init_conf_free(&base);
}

/* What needs both files: a device for every volume mount. */
static void test_finish_volumes(void **state) {
  (void)state;
  init_conf base = INIT_CONF_INIT, run = INIT_CONF_INIT;
  init_error err;
  const char *init_text = "version 1\narg x\nmount /data\n  type volume\n  volume data\n"
                          "mount /tmp/x\n  type tmpfs\n";
  assert_int_equal(parse(&base, "init.conf", init_text, &err), 0);
  assert_int_equal(parse_run(&run, "run.conf", "version 1\nvolume data /dev/vda\n", &err), 0);
  assert_int_equal(init_conf_merge(&base, &run, &err), 0);
  assert_int_equal(init_conf_finish(&base, "/etc/core/init.conf", &err), 0);
  assert_string_equal(base.mounts.v[0].device, "/dev/vda");
  assert_null(base.mounts.v[1].device);
  init_conf_free(&base);

  /* An older corerun writes no volume lines at all. */
  assert_int_equal(parse(&base, "init.conf", init_text, &err), 0);
  assert_int_equal(init_conf_finish(&base, "/etc/core/init.conf", &err), -1);
  assert_string_equal(err.msg,
                      "/etc/core/init.conf:3: mount '/data' needs volume 'data', but no 'volume "
                      "data DEVICE' line says which disk holds it (the launcher must attach the "
                      "disk and name it in run.conf)");
  init_conf_free(&base);
}

static void assert_service_order(const char *text, const char *const *want, size_t n) {
  init_conf c = INIT_CONF_INIT;
  init_error err;
  if (parse(&c, "f", text, &err) < 0 || init_conf_finish(&c, "f", &err) < 0)
    fail_msg("%s", err.msg);
  assert_int_equal(c.services.n, n);
  for (size_t i = 0; i < n; i++) assert_string_equal(c.services.v[i].name, want[i]);
  init_conf_free(&c);
}

static void test_finish_service_order(void **state) {
  (void)state;
  /* Without depends-on: file order. */
  assert_service_order("version 1\nservice b\n  arg x\nservice a\n  arg x\n",
                       (const char *const[]){"b", "a"}, 2);
  /* Each after what it depends on, the rest keeping file order. */
  assert_service_order("version 1\n"
                       "service web\n  arg x\n  depends-on api\n  depends-on cache\n"
                       "service api\n  arg x\n  depends-on db\n"
                       "service log\n  arg x\n"
                       "service db\n  arg x\n"
                       "service cache\n  arg x\n",
                       (const char *const[]){"log", "db", "api", "cache", "web"}, 5);
}

static const struct {
  const char *text;
  const char *msg;
} finish_errors[] = {
    {"version 1\nservice a\n  arg x\n  depends-on b\n",
     "f:4: service 'a' depends on 'b', which is not a service"},
    {"version 1\nonboot b\n  arg x\nservice a\n  arg x\n  depends-on b\n",
     "f:6: service 'a' depends on 'b', which is not a service"},
    {"version 1\nservice a\n  arg x\n  depends-on a\n",
     "f:2: services depend on each other in a cycle: a -> a"},
    {"version 1\nservice ok\n  arg x\n"
     "service a\n  arg x\n  depends-on b\n"
     "service b\n  arg x\n  depends-on ok\n  depends-on c\n"
     "service c\n  arg x\n  depends-on a\n",
     "f:4: services depend on each other in a cycle: a -> b -> c -> a"},
    /* The cycle is shown from where the walk enters it, not the service before it. */
    {"version 1\nservice head\n  arg x\n  depends-on a\n"
     "service a\n  arg x\n  depends-on b\n"
     "service b\n  arg x\n  depends-on a\n",
     "f:5: services depend on each other in a cycle: a -> b -> a"},
    {"version 1\nonboot k\n  arg x\n",
     "f: no 'arg' line and no 'service' block, so there is nothing to run"},
};

static void test_finish_service_errors(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof finish_errors / sizeof finish_errors[0]; i++) {
    init_conf c = INIT_CONF_INIT;
    init_error err;
    if (parse(&c, "f", finish_errors[i].text, &err) < 0) fail_msg("case %zu: %s", i, err.msg);
    int r = init_conf_finish(&c, "f", &err);
    if (r != -1 || strcmp(err.msg, finish_errors[i].msg) != 0)
      fail_msg("case %zu: got %d '%s', want '%s'", i, r, r ? err.msg : "", finish_errors[i].msg);
    init_conf_free(&c);
  }
}

/* Services alone are an app: it runs until it is told to stop. */
static void test_finish_services_only(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  assert_int_equal(parse(&c, "f", "version 1\nservice s\n  arg /bin/s\n", &err), 0);
  assert_int_equal(init_conf_finish(&c, "f", &err), 0);
  assert_int_equal(c.argv.n, 0);
  init_conf_free(&c);
}

/* defaults < global env < the block's own env, for every kind of process. */
static void test_finish_block_environment(void **state) {
  (void)state;
  init_conf c = INIT_CONF_INIT;
  init_error err;
  assert_int_equal(parse(&c, "f",
                         "version 1\narg main\nenv TERM=vt100\nenv G=global\nenv S=global\n"
                         "onboot k\n  arg k\n  env S=step\n  env S=step2\n"
                         "service s\n  arg s\n  env PATH=/bin\n  env HOME=/srv\n"
                         "onshutdown f\n  arg f\n",
                         &err),
                   0);
  assert_int_equal(init_conf_finish(&c, "f", &err), 0);
  assert_strv(
      &c.env,
      (const char *const[]){INIT_DEFAULT_PATH, "HOME=/root", "TERM=vt100", "G=global", "S=global"},
      5);
  assert_strv(
      &c.onboot.v[0].env,
      (const char *const[]){INIT_DEFAULT_PATH, "HOME=/root", "TERM=vt100", "G=global", "S=step2"},
      5);
  assert_false(c.onboot.v[0].home_set);
  assert_strv(&c.services.v[0].env,
              (const char *const[]){"PATH=/bin", "HOME=/srv", "TERM=vt100", "G=global", "S=global"},
              5);
  /* An explicit HOME beats the one from /etc/passwd. */
  assert_true(c.services.v[0].home_set);
  assert_strv(
      &c.onshutdown.v[0].env,
      (const char *const[]){INIT_DEFAULT_PATH, "HOME=/root", "TERM=vt100", "G=global", "S=global"},
      5);
  init_conf_free(&c);

  /* A global HOME counts too. */
  assert_int_equal(parse(&c, "f", "version 1\nenv HOME=/h\nservice s\n  arg s\n", &err), 0);
  assert_int_equal(init_conf_finish(&c, "f", &err), 0);
  assert_true(c.services.v[0].home_set);
  init_conf_free(&c);
}

static void assert_sysctl_path(const char *key, const char *want) {
  char path[256];
  int r = init_sysctl_path(key, strlen(key), path, sizeof path);
  if (!want) {
    assert_int_equal(r, -1);
    return;
  }
  assert_int_equal(r, 0);
  assert_string_equal(path, want);
}

static void test_sysctl_path(void **state) {
  (void)state;
  assert_sysctl_path("net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward");
  assert_sysctl_path("kernel.pid_max", "/proc/sys/kernel/pid_max");
  /* With slashes, dots stay: the way to name eth0.100. */
  assert_sysctl_path("net/ipv4/conf/eth0.100/forwarding",
                     "/proc/sys/net/ipv4/conf/eth0.100/forwarding");
  assert_sysctl_path("vm", "/proc/sys/vm");
  assert_sysctl_path("", NULL);
  assert_sysctl_path("net.", NULL);
  assert_sysctl_path("/net/ipv4", NULL);
  assert_sysctl_path("net/./ipv4", NULL);
  assert_sysctl_path("net/../../x", NULL);
  char big[300];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  assert_sysctl_path(big, NULL);
}

static void test_groups_parse(void **state) {
  (void)state;
  const char *group = "root:x:0:\n"
                      "wheel:x:10:root,www\n"
                      "www:x:33:\n"
                      "broken line\n"
                      "bad:x:notanumber:www\n"
                      "web:x:100:wwwx,www\n"
                      "again:x:10:www\n" /* a gid already in the list is not repeated */
                      "other:x:200:wwww\n"
                      "last:x:300:a,www"; /* no final newline */
  gid_t groups[8] = {33};
  size_t n = init_groups_parse(group, strlen(group), "www", groups, 1, 8);
  assert_int_equal(n, 4);
  assert_int_equal(groups[0], 33);
  assert_int_equal(groups[1], 10);
  assert_int_equal(groups[2], 100);
  assert_int_equal(groups[3], 300);
  /* The list's size is respected. */
  n = init_groups_parse(group, strlen(group), "www", groups, 1, 2);
  assert_int_equal(n, 2);
  /* Nothing for a user in no group. */
  assert_int_equal(init_groups_parse(group, strlen(group), "nobody", groups, 1, 8), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_directives),
      cmocka_unit_test(test_escapes),
      cmocka_unit_test(test_not_nul_terminated),
      cmocka_unit_test(test_finish_environment),
      cmocka_unit_test(test_merge_run_conf_replaces_argv),
      cmocka_unit_test(test_merge_run_conf_without_args_keeps_argv),
      cmocka_unit_test(test_merge_into_empty_argv),
      cmocka_unit_test(test_parse_errors),
      cmocka_unit_test(test_nul_byte),
      cmocka_unit_test(test_line_numbers_count_comments_and_blanks),
      cmocka_unit_test(test_finish_errors),
      cmocka_unit_test(test_blocks),
      cmocka_unit_test(test_run_conf_of_corerun),
      cmocka_unit_test(test_run_conf_unknown_is_a_warning),
      cmocka_unit_test(test_run_conf_errors),
      cmocka_unit_test(test_merge_devices),
      cmocka_unit_test(test_finish_volumes),
      cmocka_unit_test(test_finish_service_order),
      cmocka_unit_test(test_finish_service_errors),
      cmocka_unit_test(test_finish_services_only),
      cmocka_unit_test(test_finish_block_environment),
      cmocka_unit_test(test_sysctl_path),
      cmocka_unit_test(test_groups_parse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
