/* The check stage on valid configs: every field of core_app_config that tests/fixtures/check/
 * valid_*.yml sets (and every default they leave) is asserted, and the JSON form of the
 * diagnostics is checked against the rendered one. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load_into.h"
#include "cleanup.h"
#include "json.h"

#define MIB (UINT64_C(1) << 20)

static core_app_config *check_ok(const char *path) {
  cleanup_diag core_diag *d = core_diag_new(path);
  core_app_config *cfg = load_into(path, d);
  if (cfg == NULL) {
    cleanup_free char *text = core_diag_render(d);
    fail_msg("expected %s to be valid:\n%s", path, text);
  }
  return cfg;
}

static void assert_pos(core_pos p, int line, int col) {
  if (p.line != line || p.col != col) fail_msg("position %d:%d, want %d:%d", p.line, p.col, line, col);
}

static void assert_argv(char **argv, size_t argc, const char *const *want) {
  size_t n = 0;
  while (want[n]) n++;
  assert_int_equal(argc, n);
  for (size_t i = 0; i < n; i++) assert_string_equal(argv[i], want[i]);
  assert_null(argv[n]);
}

static void test_full(void **state) {
  (void)state;
  core_app_config *cfg = check_ok("valid_full.yml");
  assert_string_equal(cfg->name, "shop_api");
  assert_string_equal(cfg->version, "2.1.0");

  assert_int_equal(cfg->kernel.kind, CORE_SOURCE_DEB);
  assert_string_equal(cfg->kernel.package, "linux-image-cloud-amd64");
  assert_string_equal(cfg->kernel.version, "6.1.0-56");
  assert_pos(cfg->kernel.pos, 5, 11);
  assert_string_equal(cfg->cmdline, "quiet loglevel=3");
  assert_int_equal(cfg->n_modules, 1);

  assert_int_equal(cfg->n_layers, 7);
  core_source *s = &cfg->layers[0].source;
  assert_int_equal(s->kind, CORE_SOURCE_URL);
  assert_string_equal(s->url, "https://example.com/base.tar.gz");
  assert_null(s->sha256);
  assert_string_equal(cfg->layers[0].dest, "");
  s = &cfg->layers[1].source;
  assert_int_equal(s->kind, CORE_SOURCE_URL);
  assert_string_equal(s->sha256, "sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
  assert_string_equal(cfg->layers[1].dest, "opt/app");
  s = &cfg->layers[2].source;
  assert_int_equal(s->kind, CORE_SOURCE_GIT);
  assert_string_equal(s->url, "https://github.com/example/site.git");
  assert_string_equal(s->commit, "0123abc");
  assert_null(s->ref);
  assert_string_equal(s->path, "public");
  s = &cfg->layers[3].source;
  assert_int_equal(s->kind, CORE_SOURCE_OCI);
  assert_string_equal(s->image, "registry.example.com:5000/team/app:1.2@sha256:"
                                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  assert_null(s->resolved);
  s = &cfg->layers[4].source;
  assert_int_equal(s->kind, CORE_SOURCE_OCI);
  assert_string_equal(s->image, "oci-layout:images/base:v1");
  assert_string_equal(s->path, "images/base");
  assert_string_equal(s->resolved, "./images/base");
  s = &cfg->layers[5].source;
  assert_int_equal(s->kind, CORE_SOURCE_FILE);
  assert_string_equal(s->path, "layers/extra");
  assert_string_equal(s->resolved, "./layers/extra");
  s = &cfg->layers[6].source;
  assert_int_equal(s->kind, CORE_SOURCE_GIT);
  assert_string_equal(s->ref, "v1.0");
  assert_null(s->commit);
  assert_string_equal(s->path, "");

  assert_int_equal(cfg->n_files, 4);
  core_file *f = &cfg->files[0];
  assert_string_equal(f->path, "/etc/app.conf");
  assert_int_equal(f->type, CORE_FILE_CONTENTS);
  assert_int_equal(f->contents_len, 10);
  assert_memory_equal(f->contents, "port=8080\n", 10);
  assert_int_equal(f->mode, 0600);
  assert_int_equal(f->uid, 1000);
  assert_int_equal(f->gid, 1000);
  assert_false(f->optional);
  assert_pos(f->pos, 19, 5);
  f = &cfg->files[1];
  assert_string_equal(f->path, "/etc/extra.conf"); /* the trailing '/' is dropped */
  assert_int_equal(f->type, CORE_FILE_SOURCE);
  assert_string_equal(f->source.resolved, "./conf/extra.conf");
  assert_true(f->optional);
  assert_int_equal(f->mode, -1);
  assert_int_equal(f->uid, 0);
  f = &cfg->files[2];
  assert_int_equal(f->type, CORE_FILE_DIRECTORY);
  assert_int_equal(f->mode, 0755);
  f = &cfg->files[3];
  assert_int_equal(f->type, CORE_FILE_SYMLINK);
  assert_string_equal(f->target, "/opt/app/bin/app");

  assert_int_equal(cfg->n_onboot, 2);
  assert_string_equal(cfg->onboot[0].name, "onboot-0");
  assert_argv(cfg->onboot[0].run.argv, cfg->onboot[0].run.argc, (const char *const[]){"/sbin/setup", "--fast", NULL});
  assert_int_equal(cfg->onboot[0].n_env, 1);
  assert_string_equal(cfg->onboot[0].env[0].name, "STAGE");
  assert_string_equal(cfg->onboot[0].env[0].value, "1");
  assert_null(cfg->onboot[0].root);
  assert_string_equal(cfg->onboot[1].name, "migrate");
  assert_argv(cfg->onboot[1].run.argv, cfg->onboot[1].run.argc,
              (const char *const[]){"/bin/sh", "-c", "/opt/app/migrate", NULL});
  assert_int_equal(cfg->n_onshutdown, 1);
  assert_string_equal(cfg->onshutdown[0].name, "onshutdown-0");

  assert_int_equal(cfg->n_services, 2);
  core_service *db = &cfg->services[0], *web = &cfg->services[1];
  assert_string_equal(db->name, "db");
  assert_int_equal(db->restart, CORE_RESTART_ON_FAILURE);
  assert_string_equal(db->user, "999:999");
  assert_string_equal(db->cwd, "/");
  assert_int_equal(db->n_depends, 0);
  assert_string_equal(web->name, "web");
  assert_int_equal(web->restart, CORE_RESTART_NEVER);
  assert_argv(web->run.argv, web->run.argc, (const char *const[]){"/opt/app/server", "--port", "8080", NULL});
  assert_int_equal(web->n_env, 2);
  assert_string_equal(web->env[1].name, "_X");
  assert_string_equal(web->cwd, "/opt/app");
  assert_string_equal(web->user, "app");
  assert_int_equal(web->n_depends, 1);
  assert_string_equal(web->depends_on[0], "db");
  assert_pos(web->depends_pos[0], 50, 18);

  assert_argv(cfg->main_argv, cfg->main_argc, (const char *const[]){"/opt/app/check", NULL});
  assert_int_equal(cfg->n_env, 2);
  assert_string_equal(cfg->env[0].name, "LANG");
  assert_string_equal(cfg->env[0].value, "C.UTF-8");
  assert_string_equal(cfg->env[1].value, "8080");
  assert_pos(cfg->env[1].pos, 54, 3);
  assert_string_equal(cfg->hostname, "shop.example");
  assert_int_equal(cfg->n_sysctls, 2);
  assert_string_equal(cfg->sysctls[0].key, "net.ipv4.ip_forward");
  assert_string_equal(cfg->sysctls[0].value, "1");
  assert_string_equal(cfg->sysctls[1].value, "10");

  assert_int_equal(cfg->n_mounts, 2);
  assert_string_equal(cfg->mounts[0].path, "/tmp");
  assert_int_equal(cfg->mounts[0].type, CORE_MOUNT_TMPFS);
  assert_int_equal(cfg->mounts[0].size_bytes, 64 * MIB);
  assert_int_equal(cfg->mounts[0].mode, 01777);
  assert_null(cfg->mounts[0].volume);
  assert_int_equal(cfg->mounts[1].type, CORE_MOUNT_VOLUME);
  assert_string_equal(cfg->mounts[1].volume, "db-data");
  assert_int_equal(cfg->mounts[1].size_bytes, 0);
  assert_int_equal(cfg->mounts[1].mode, -1);

  assert_int_equal(cfg->memory_bytes, 1024 * MIB);
  assert_int_equal(cfg->cpus, 2);

  assert_int_equal(cfg->net_mode, CORE_NET_USER); /* ports given, no mode */
  assert_int_equal(cfg->n_ports, 5);
  static const struct {
    unsigned host, guest;
    const char *proto;
  } ports[] = {{8080, 80, "tcp"}, {53, 53, "udp"}, {443, 443, "tcp"}, {2222, 22, "tcp"}, {9000, 9000, "udp"}};
  for (size_t i = 0; i < 5; i++) {
    assert_int_equal(cfg->ports[i].host, ports[i].host);
    assert_int_equal(cfg->ports[i].guest, ports[i].guest);
    assert_string_equal(cfg->ports[i].protocol, ports[i].proto);
  }

  assert_int_equal(cfg->n_users, 2);
  assert_string_equal(cfg->users[0].name, "app");
  assert_int_equal(cfg->users[0].uid, 1000);
  assert_int_equal(cfg->users[0].gid, 1001); /* the group of the same name */
  assert_string_equal(cfg->users[0].home, "/home/app");
  assert_string_equal(cfg->users[0].shell, "/bin/sh");
  assert_int_equal(cfg->users[1].uid, 0);
  assert_int_equal(cfg->users[1].gid, 10);
  assert_string_equal(cfg->users[1].home, "/srv/root2");
  assert_string_equal(cfg->users[1].shell, "/bin/bash");
  assert_int_equal(cfg->n_groups, 1);
  assert_string_equal(cfg->groups[0].name, "app");
  assert_int_equal(cfg->groups[0].gid, 1001);
  assert_int_equal(cfg->groups[0].n_members, 1);
  assert_string_equal(cfg->groups[0].members[0], "app");
  core_app_config_free(cfg);
}

static void test_defaults(void **state) {
  (void)state;
  core_app_config *cfg = check_ok("valid_minimal.yml");
  assert_int_equal(cfg->kernel.kind, CORE_SOURCE_FILE);
  assert_null(cfg->version);
  assert_string_equal(cfg->hostname, "hello");
  assert_int_equal(cfg->net_mode, CORE_NET_NONE);
  assert_int_equal(cfg->n_ports + cfg->n_files + cfg->n_services + cfg->n_onboot + cfg->n_onshutdown + cfg->n_env +
                       cfg->n_sysctls + cfg->n_mounts + cfg->n_users + cfg->n_groups,
                   0);
  assert_int_equal(cfg->memory_bytes, 256 * MIB);
  assert_int_equal(cfg->cpus, 1);
  core_app_config_free(cfg);

  cfg = check_ok("valid_services_only.yml");
  assert_null(cfg->main_argv);
  assert_int_equal(cfg->main_argc, 0);
  assert_string_equal(cfg->hostname, "my-app.v2"); /* '_' -> '-', no '-' at a label's end */
  assert_int_equal(cfg->net_mode, CORE_NET_USER);
  assert_int_equal(cfg->services[0].restart, CORE_RESTART_ALWAYS);
  assert_null(cfg->services[0].user);
  assert_string_equal(cfg->groups[0].members[0], "www-data"); /* undeclared: a warning only */
  core_app_config_free(cfg);
}

static void test_json(void **state) {
  (void)state;
  cleanup_diag core_diag *d = core_diag_new("users_errors.yml");
  core_app_config *cfg = load_into("users_errors.yml", d);
  assert_null(cfg);
  cleanup_json json_t *j = NULL;
  core_error *err = NULL;
  assert_int_equal(core_diag_to_json(d, &j, &err), 0);
  assert_string_equal(json_string_value(json_object_get(j, "file")), "users_errors.yml");
  assert_true(json_is_false(json_object_get(j, "ok")));
  assert_int_equal(json_integer_value(json_object_get(j, "errors")), 11);
  assert_int_equal(json_integer_value(json_object_get(j, "warnings")), 1);
  json_t *list = json_object_get(j, "diagnostics");
  assert_int_equal(json_array_size(list), 12);
  json_t *first = json_array_get(list, 0);
  assert_string_equal(json_string_value(json_object_get(first, "severity")), "error");
  assert_string_equal(json_string_value(json_object_get(first, "message")), "user 'app' is defined twice");
  assert_int_equal(json_integer_value(json_object_get(first, "line")), 7);
  assert_int_equal(json_integer_value(json_object_get(first, "col")), 11);
  assert_null(json_object_get(first, "hint"));
  json_t *note = json_array_get(json_object_get(first, "notes"), 0);
  assert_string_equal(json_string_value(json_object_get(note, "message")), "user 'app' first defined here");
  assert_int_equal(json_integer_value(json_object_get(note, "line")), 5);
  json_t *warn = json_array_get(list, 7);
  assert_string_equal(json_string_value(json_object_get(warn, "severity")), "warning");
  assert_non_null(json_string_value(json_object_get(warn, "hint")));

  /* a file that cannot be read is one diagnostic about the whole file */
  cleanup_diag core_diag *d2 = core_diag_new("missing.yml");
  assert_null(load_into("missing.yml", d2));
  cleanup_json json_t *j2 = NULL;
  assert_int_equal(core_diag_to_json(d2, &j2, &err), 0);
  json_t *only = json_array_get(json_object_get(j2, "diagnostics"), 0);
  assert_int_equal(json_integer_value(json_object_get(only, "line")), 0);
  assert_string_equal(json_string_value(json_object_get(only, "message")),
                      "opening 'missing.yml': No such file or directory");

  /* valid: ok, no diagnostics */
  cleanup_diag core_diag *d3 = core_diag_new("valid_minimal.yml");
  core_app_config_free(load_into("valid_minimal.yml", d3));
  cleanup_json json_t *j3 = NULL;
  assert_int_equal(core_diag_to_json(d3, &j3, &err), 0);
  assert_true(json_is_true(json_object_get(j3, "ok")));
  assert_int_equal(json_array_size(json_object_get(j3, "diagnostics")), 0);
}

int main(void) {
  const char *dir = getenv("CORE_FIXTURES") ? getenv("CORE_FIXTURES") : "tests/fixtures/check";
  if (chdir(dir) < 0) {
    fprintf(stderr, "test_check_full: cannot enter %s (run from the top of the project, or set CORE_FIXTURES)\n", dir);
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_full),
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_json),
  };
  return cmocka_run_group_tests_name("check_full", tests, NULL, NULL);
}
