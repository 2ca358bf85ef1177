/* Every kind of coreinit configuration the host writes (the linker's init.conf, the
 * launcher's run.conf with its devices), read back with the guest's own parser
 * (runtime/init/conf.c, confmerge.c): writer and reader must agree on every keyword,
 * every value spelling and every escape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

/* Included, not linked: coreinit is built only for the guest, with musl. */
#include "../../runtime/init/conf.c"
#include "../../runtime/init/confmerge.c"

#include "app_config.h"
#include "archive_util.h"
#include "devices.h"
#include "init_config.h"
#include "initconf.h"
#include "run_overlay.h"

/* Values that need every escape, and spaces that must survive at both ends. */
#define TRICKY " a\\b\tc\nd "

static void assert_strv(const init_strv *s, const char *const *want, size_t n) {
  assert_int_equal(s->n, n);
  for (size_t i = 0; i < n; i++) assert_string_equal(s->v[i], want[i]);
}

static void assert_ok(int rc, core_error *err) {
  if (err) fail_msg("%s", err->msg);
  assert_int_equal(rc, 0);
}

/* init.conf as `corec build` writes it, from an app that uses every directive and key. */
static void write_init_conf(core_buf *out) {
  static char *main_argv[] = {"/bin/sh", "-c", TRICKY, "", NULL};
  static char *step_argv[] = {"/bin/true", NULL};
  static char *svc_argv[] = {"/bin/httpd", "-f", NULL};
  static char *depends[] = {"db"};
  core_env_var env[] = {{.name = "LANG", .value = "C.UTF-8"}, {.name = "TRICKY", .value = TRICKY}};
  core_sysctl sysctls[] = {{.key = "net.ipv4.ip_forward", .value = "1"},
                           {.key = "net/ipv4/conf/eth0.100/forwarding", .value = ""}};
  core_mount mounts[] = {
      {.path = "/var/cache", .type = CORE_MOUNT_TMPFS, .size_bytes = 67108864, .mode = 01777},
      {.path = "/tmp/small", .type = CORE_MOUNT_TMPFS, .mode = -1},
      {.path = "/data", .type = CORE_MOUNT_VOLUME, .volume = "data", .mode = 0700},
  };
  core_step onboot[] = {{.name = "keys", .run = {.argv = step_argv, .argc = 1}, .root = "/images/tools",
                         .env = env, .n_env = 2}};
  core_step onshutdown[] = {{.name = "flush", .run = {.argv = step_argv, .argc = 1}}};
  core_service services[] = {
      {.name = "db", .run = {.argv = step_argv, .argc = 1}, .restart = CORE_RESTART_NEVER},
      {.name = "web", .run = {.argv = svc_argv, .argc = 2}, .restart = CORE_RESTART_ON_FAILURE, .env = env,
       .n_env = 1, .cwd = "/var/www", .user = "1000:1000", .root = "/images/web", .depends_on = depends,
       .n_depends = 1},
      {.name = "cron", .run = {.argv = step_argv, .argc = 1}, .restart = CORE_RESTART_ALWAYS, .user = "www"},
  };
  core_app_config cfg = {
      .name = "app", .hostname = "web-1", .env = env, .n_env = 2, .sysctls = sysctls, .n_sysctls = 2,
      .main_argv = main_argv, .main_argc = 4, .mounts = mounts, .n_mounts = 3, .onboot = onboot, .n_onboot = 1,
      .services = services, .n_services = 3, .onshutdown = onshutdown, .n_onshutdown = 1,
  };
  core_error *err = NULL;
  assert_ok(core_init_config_head(&cfg, out, &err), err);
  assert_ok(core_init_config_module("/lib/modules/virtio_net.ko", out, &err), err);
  assert_ok(core_init_config_body(&cfg, out, &err), err);
}

/* The run.conf inside the overlay cpio `corerun` writes, taken out with libarchive. */
static char *overlay_run_conf(const core_buf *cpio, size_t *len) {
  cleanup_archive_read struct archive *a = archive_read_new();
  assert_non_null(a);
  archive_read_support_format_cpio(a);
  assert_int_equal(archive_read_open_memory(a, cpio->data, cpio->len), ARCHIVE_OK);
  struct archive_entry *e;
  const char *names[] = {"etc", "etc/core", "etc/core/run.conf"};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_OK);
    assert_string_equal(archive_entry_pathname(e), names[i]);
  }
  *len = (size_t)archive_entry_size(e);
  char *conf = malloc(*len + 1);
  assert_non_null(conf);
  assert_int_equal(archive_read_data(a, conf, *len), (la_ssize_t)*len);
  assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_EOF);
  return conf;
}

static void write_run_conf(core_buf *cpio) {
  core_volume_bind volumes[] = {{.name = "data"}, {.name = "logs"}};
  core_run_devices d = {.network = 1, .volumes = volumes, .n_volumes = 2};
  core_buf extra = CORE_BUF_INIT;
  core_error *err = NULL;
  assert_ok(core_run_devices_conf(&d, &extra, &err), err);
  char *argv[] = {"/bin/echo", TRICKY};
  core_run_settings s = {.argv = argv, .argc = 2, .status_device = "/dev/ttyS1", .extra = &extra};
  assert_ok(core_run_overlay(&s, cpio, &err), err);
  core_buf_release(&extra);
  /* The kernel wants the next archive on a 4-byte boundary. */
  assert_int_equal(cpio->len % 4, 0);
}

static void test_init_conf_reads_back(void **state) {
  (void)state;
  core_buf text = CORE_BUF_INIT;
  write_init_conf(&text);
  init_conf c = INIT_CONF_INIT;
  init_error ierr;
  if (init_conf_parse(&c, "init.conf", INIT_CONF_BUILD, (const char *)text.data, text.len, &ierr) < 0)
    fail_msg("%s\n%.*s", ierr.msg, (int)text.len, (const char *)text.data);
  core_buf_release(&text);

  assert_string_equal(c.hostname, "web-1");
  assert_strv(&c.env, (const char *const[]){"LANG=C.UTF-8", "TRICKY=" TRICKY}, 2);
  assert_strv(&c.sysctls, (const char *const[]){"net.ipv4.ip_forward=1", "net/ipv4/conf/eth0.100/forwarding="}, 2);
  assert_strv(&c.modules, (const char *const[]){"/lib/modules/virtio_net.ko"}, 1);
  assert_strv(&c.argv, (const char *const[]){"/bin/sh", "-c", TRICKY, ""}, 4);

  assert_int_equal(c.mounts.n, 3);
  assert_string_equal(c.mounts.v[0].path, "/var/cache");
  assert_int_equal(c.mounts.v[0].type, INIT_MOUNT_TMPFS);
  assert_int_equal(c.mounts.v[0].size, 67108864);
  assert_int_equal(c.mounts.v[0].mode, 01777);
  assert_int_equal(c.mounts.v[1].type, INIT_MOUNT_TMPFS);
  assert_int_equal(c.mounts.v[1].size, 0);
  assert_int_equal(c.mounts.v[1].mode, -1);
  assert_int_equal(c.mounts.v[2].type, INIT_MOUNT_VOLUME);
  assert_string_equal(c.mounts.v[2].volume, "data");
  assert_int_equal(c.mounts.v[2].mode, 0700);

  assert_int_equal(c.onboot.n, 1);
  assert_string_equal(c.onboot.v[0].name, "keys");
  assert_string_equal(c.onboot.v[0].root, "/images/tools");
  assert_strv(&c.onboot.v[0].env, (const char *const[]){"LANG=C.UTF-8", "TRICKY=" TRICKY}, 2);
  assert_int_equal(c.onshutdown.n, 1);
  assert_string_equal(c.onshutdown.v[0].name, "flush");
  assert_strv(&c.onshutdown.v[0].argv, (const char *const[]){"/bin/true"}, 1);

  /* Every restart policy is spelled the way the reader knows it. */
  assert_int_equal(c.services.n, 3);
  const init_proc *db = &c.services.v[0], *web = &c.services.v[1], *cron = &c.services.v[2];
  assert_int_equal(db->restart, INIT_RESTART_NEVER);
  assert_int_equal(web->restart, INIT_RESTART_ON_FAILURE);
  assert_int_equal(cron->restart, INIT_RESTART_ALWAYS);
  assert_strv(&web->argv, (const char *const[]){"/bin/httpd", "-f"}, 2);
  assert_strv(&web->env, (const char *const[]){"LANG=C.UTF-8"}, 1);
  assert_string_equal(web->cwd, "/var/www");
  assert_string_equal(web->user, "1000:1000");
  assert_string_equal(web->root, "/images/web");
  assert_strv(&web->depends, (const char *const[]){"db"}, 1);
  assert_string_equal(cron->user, "www");
  init_conf_free(&c);
}

static void test_run_conf_reads_back_and_merges(void **state) {
  (void)state;
  core_buf text = CORE_BUF_INIT;
  write_init_conf(&text);
  init_conf base = INIT_CONF_INIT, run = INIT_CONF_INIT;
  init_error ierr;
  assert_int_equal(init_conf_parse(&base, "init.conf", INIT_CONF_BUILD, (const char *)text.data, text.len, &ierr), 0);
  core_buf_release(&text);

  core_buf cpio = CORE_BUF_INIT;
  write_run_conf(&cpio);
  size_t len = 0;
  char *conf = overlay_run_conf(&cpio, &len);
  core_buf_release(&cpio);
  if (init_conf_parse(&run, "run.conf", INIT_CONF_RUN, conf, len, &ierr) < 0) fail_msg("%s\n%.*s", ierr.msg, (int)len, conf);
  free(conf);
  /* A current launcher writes nothing this coreinit would skip. */
  assert_int_equal(run.warnings.n, 0);
  assert_string_equal(run.status_device, "/dev/ttyS1");
  assert_strv(&run.argv, (const char *const[]){"/bin/echo", TRICKY}, 2);
  assert_int_equal(run.ifaces.n, 1);
  const init_iface *f = &run.ifaces.v[0];
  assert_string_equal(f->name, "eth0");
  assert_true(f->has_address && f->has_gateway);
  assert_int_equal(f->prefix, 24);
  assert_strv(&f->dns, (const char *const[]){"10.0.2.3"}, 1);
  assert_int_equal(run.volumes.n, 2);
  assert_string_equal(run.volumes.v[0].name, "data");
  assert_string_equal(run.volumes.v[0].device, "/dev/vda");
  assert_string_equal(run.volumes.v[1].name, "logs");
  assert_string_equal(run.volumes.v[1].device, "/dev/vdb");

  /* Together they are a whole the guest accepts: the volume mount finds its disk. */
  if (init_conf_merge(&base, &run, &ierr) < 0 || init_conf_finish(&base, "init.conf", &ierr) < 0)
    fail_msg("%s", ierr.msg);
  assert_strv(&base.argv, (const char *const[]){"/bin/echo", TRICKY}, 2);
  assert_string_equal(base.mounts.v[2].device, "/dev/vda");
  init_conf_free(&run);
  init_conf_free(&base);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_init_conf_reads_back),
      cmocka_unit_test(test_run_conf_reads_back_and_merges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
