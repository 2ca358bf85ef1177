/* Tests for core_fetch_oci against real parts: OCI layouts written here (jansson +
 * libarchive), pushed with skopeo into Debian's docker-registry on 127.0.0.1 (one open, one
 * with basic auth), oci-archive and docker-archive files made by skopeo. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "tmpdir.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive_util.h"
#include "base64.h"
#include "cleanup.h"
#include "fsutil.h"
#include "json.h"
#include "oci.h"
#include "sources/fetch.h"
#include "sources/oci_ref.h"
#include "sources/oci_source.h"

/* Everything the group setup made. */
static struct {
  char *root;              /* temporary directory of the whole run */
  char *layout;            /* OCI layout with tags v1, multi, armonly, badtype */
  int port, auth_port;     /* the two registries */
  core_digest amd64, arm64, index, armonly_index, layer_gz, layer_zst, config;
} g;

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...) {
  char *s = NULL;
  va_list ap;
  va_start(ap, f);
  if (vasprintf(&s, f, ap) < 0) s = NULL;
  va_end(ap);
  return s;
}

/* Runs a shell command, bounded; its output goes to the log file of the run. */
static int sh(const char *cmd) {
  cleanup_free char *full = fmt("timeout 120 %s >%s/log 2>&1", cmd, g.root);
  int rc = system(full);
  if (rc != 0) {
    fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
    cleanup_free char *show = fmt("cat %s/log >&2", g.root);
    if (system(show) != 0) fprintf(stderr, "(no output)\n");
  }
  return rc;
}

static void ok(int rc, core_error *err) {
  if (rc < 0) fail_msg("%s", err ? err->msg : "(no message)");
}

static int put_blob(const char *layout, const void *data, size_t len, core_digest *d) {
  core_error *err = NULL;
  if (core_digest_bytes(data, len, d, &err) < 0) return -1;
  cleanup_free char *path = fmt("%s/blobs/sha256/%s", layout, core_digest_hex(d));
  return core_write_file_atomic(path, data, len, 0644, &err);
}

/* A layer tar with one file, and its compressed form (filter: gzip or zstd). */
static int make_layer(const char *file, const char *text, int filter, core_buf *tar, core_buf *compressed) {
  core_error *err = NULL;
  cleanup_archive_write struct archive *a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (core_archive_write_open_buf(a, tar, &err) < 0) return -1;
  cleanup_archive_entry struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, file);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, (la_int64_t)strlen(text));
  if (archive_write_header(a, e) != ARCHIVE_OK || archive_write_data(a, text, strlen(text)) < 0 ||
      archive_write_close(a) != ARCHIVE_OK)
    return -1;
  /* The raw format writes the data of one entry as it is: a compressor for a buffer. */
  cleanup_archive_write struct archive *c = archive_write_new();
  archive_write_set_format_raw(c);
  if (filter == ARCHIVE_FILTER_GZIP) archive_write_add_filter_gzip(c);
  else archive_write_add_filter_zstd(c);
  if (core_archive_write_open_buf(c, compressed, &err) < 0) return -1;
  cleanup_archive_entry struct archive_entry *r = archive_entry_new();
  archive_entry_set_filetype(r, AE_IFREG);
  archive_entry_set_size(r, (la_int64_t)tar->len);
  if (archive_write_header(c, r) != ARCHIVE_OK || archive_write_data(c, tar->data, tar->len) < 0 ||
      archive_write_close(c) != ARCHIVE_OK)
    return -1;
  return 0;
}

static int put_json(const char *layout, json_t *j, core_digest *d) {
  core_error *err = NULL;
  cleanup_buf core_buf b = CORE_BUF_INIT;
  int rc = core_json_dump(j, &b, &err) < 0 ? -1 : put_blob(layout, b.data, b.len, d);
  json_decref(j);
  return rc;
}

static json_t *desc(const char *mt, const core_digest *d, const char *layout) {
  cleanup_free char *path = fmt("%s/blobs/sha256/%s", layout, core_digest_hex(d));
  struct stat st;
  if (stat(path, &st) < 0) return NULL;
  return core_oci_descriptor(mt, d, (uint64_t)st.st_size);
}

static json_t *platform_desc(const char *mt, const core_digest *d, const char *layout, const char *arch) {
  json_t *j = desc(mt, d, layout);
  json_object_set_new(j, "platform", json_pack("{s:s, s:s}", "architecture", arch, "os", "linux"));
  return j;
}

static json_t *tagged(json_t *j, const char *tag) {
  json_object_set_new(j, "annotations", json_pack("{s:s}", OCI_ANN_REF_NAME, tag));
  return j;
}

/* The layout: an amd64 and an arm64 image sharing a gzip and a zstd layer, an index of
 * both, an index of arm64 alone, and an image whose layer has a type core cannot link. */
static int build_layout(const char *layout, int with_tags) {
  core_error *err = NULL;
  cleanup_free char *blobs = fmt("%s/blobs/sha256", layout);
  if (core_mkdir_p(blobs, 0755, &err) < 0) return -1;
  cleanup_buf core_buf tar1 = CORE_BUF_INIT, gz = CORE_BUF_INIT, tar2 = CORE_BUF_INIT, zst = CORE_BUF_INIT;
  if (make_layer("etc/hello", "hello from layer one\n", ARCHIVE_FILTER_GZIP, &tar1, &gz) < 0 ||
      make_layer("etc/second", "layer two\n", ARCHIVE_FILTER_ZSTD, &tar2, &zst) < 0)
    return -1;
  core_digest diff1, diff2;
  if (core_digest_bytes(tar1.data, tar1.len, &diff1, &err) < 0 || core_digest_bytes(tar2.data, tar2.len, &diff2, &err) < 0 ||
      put_blob(layout, gz.data, gz.len, &g.layer_gz) < 0 || put_blob(layout, zst.data, zst.len, &g.layer_zst) < 0)
    return -1;
  core_digest cfg_arm;
  const char *cfg = "{s:s, s:s, s:{s:s, s:[s, s]}, s:{}}";
  if (put_json(layout, json_pack(cfg, "architecture", "amd64", "os", "linux", "rootfs", "type", "layers", "diff_ids",
                                 diff1.str, diff2.str, "config"),
               &g.config) < 0 ||
      put_json(layout, json_pack(cfg, "architecture", "arm64", "os", "linux", "rootfs", "type", "layers", "diff_ids",
                                 diff1.str, diff2.str, "config"),
               &cfg_arm) < 0)
    return -1;
  json_t *layers = json_pack("[o, o]", desc(OCI_MT_LAYER_GZIP, &g.layer_gz, layout),
                             desc(OCI_MT_LAYER_ZSTD, &g.layer_zst, layout));
  if (put_json(layout, json_pack("{s:i, s:s, s:o, s:O}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST, "config",
                                 desc(OCI_MT_CONFIG, &g.config, layout), "layers", layers),
               &g.amd64) < 0 ||
      put_json(layout, json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST, "config",
                                 desc(OCI_MT_CONFIG, &cfg_arm, layout), "layers", layers),
               &g.arm64) < 0)
    return -1;
  /* skopeo cannot write zstd layers into a docker-archive: a gzip-only image for that. */
  core_digest cfg_gz, gz_only;
  if (put_json(layout, json_pack("{s:s, s:s, s:{s:s, s:[s]}, s:{}}", "architecture", "amd64", "os", "linux", "rootfs",
                                 "type", "layers", "diff_ids", diff1.str, "config"),
               &cfg_gz) < 0 ||
      put_json(layout, json_pack("{s:i, s:s, s:o, s:[o]}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST, "config",
                                 desc(OCI_MT_CONFIG, &cfg_gz, layout), "layers",
                                 desc(OCI_MT_LAYER_GZIP, &g.layer_gz, layout)),
               &gz_only) < 0)
    return -1;
  core_digest bad;
  if (put_json(layout, json_pack("{s:i, s:s, s:o, s:[o]}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST, "config",
                                 desc(OCI_MT_CONFIG, &g.config, layout), "layers",
                                 desc("application/vnd.oci.image.layer.v1.tar+bzip2", &g.layer_gz, layout)),
               &bad) < 0)
    return -1;
  if (put_json(layout, json_pack("{s:i, s:s, s:[o, o]}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX, "manifests",
                                 platform_desc(OCI_MT_MANIFEST, &g.amd64, layout, "amd64"),
                                 platform_desc(OCI_MT_MANIFEST, &g.arm64, layout, "arm64")),
               &g.index) < 0 ||
      put_json(layout, json_pack("{s:i, s:s, s:[o]}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX, "manifests",
                                 platform_desc(OCI_MT_MANIFEST, &g.arm64, layout, "arm64")),
               &g.armonly_index) < 0)
    return -1;
  json_t *index = with_tags ? json_pack("{s:i, s:[o, o, o, o, o]}", "schemaVersion", 2, "manifests",
                                        tagged(desc(OCI_MT_MANIFEST, &g.amd64, layout), "v1"),
                                        tagged(desc(OCI_MT_INDEX, &g.index, layout), "multi"),
                                        tagged(desc(OCI_MT_INDEX, &g.armonly_index, layout), "armonly"),
                                        tagged(desc(OCI_MT_MANIFEST, &bad, layout), "badtype"),
                                        tagged(desc(OCI_MT_MANIFEST, &gz_only, layout), "gzonly"))
                            : json_pack("{s:i, s:[o]}", "schemaVersion", 2, "manifests",
                                        desc(OCI_MT_MANIFEST, &g.amd64, layout));
  cleanup_buf core_buf text = CORE_BUF_INIT;
  cleanup_free char *index_path = fmt("%s/index.json", layout);
  cleanup_free char *marker_path = fmt("%s/oci-layout", layout);
  int rc = core_json_dump(index, &text, &err) < 0 || core_write_file_atomic(index_path, text.data, text.len, 0644, &err) < 0 ||
                   core_write_file_atomic(marker_path, OCI_LAYOUT_FILE, strlen(OCI_LAYOUT_FILE), 0644, &err) < 0
               ? -1
               : 0;
  json_decref(index);
  if (err) fprintf(stderr, "build_layout: %s\n", err->msg);
  core_error_free(err);
  return rc;
}

static int start_registry(const char *name, const char *user, const char *pass, int *port) {
  cleanup_free char *cmd = fmt("tests/registry.sh start %s/%s %s %s", g.root, name, user ? user : "", pass ? pass : "");
  FILE *p = popen(cmd, "r");
  if (p == NULL) return -1;
  int n = fscanf(p, "%d", port);
  int rc = pclose(p);
  if (n != 1 || rc != 0) {
    fprintf(stderr, "cannot start a registry: '%s' failed\n", cmd);
    return -1;
  }
  return 0;
}

static void stop_registries(void) {
  if (g.root == NULL) return;
  cleanup_free char *a = fmt("tests/registry.sh stop %s/reg", g.root);
  cleanup_free char *b = fmt("tests/registry.sh stop %s/authreg", g.root);
  /* The token-auth registries of test_token_registry*; stopping one never started is a no-op. */
  cleanup_free char *c = fmt("tests/registry.sh stop %s/tokenreg", g.root);
  cleanup_free char *d = fmt("tests/registry.sh stop %s/anontokenreg", g.root);
  if (system(a) != 0 || system(b) != 0 || system(c) != 0 || system(d) != 0)
    fprintf(stderr, "stopping the registries failed\n");
}

static int group_setup(void **state) {
  (void)state;
  void *dir;
  if (make_tmpdir(&dir) < 0) return -1;
  g.root = dir;
  g.layout = fmt("%s/layout", g.root);
  atexit(stop_registries); /* a failed assertion must not leave registries running */
  if (build_layout(g.layout, 1) < 0) return -1;
  if (start_registry("reg", NULL, NULL, &g.port) < 0 || start_registry("authreg", "alice", "s3cret", &g.auth_port) < 0)
    return -1;
  cleanup_free char *push1 =
      fmt("skopeo copy --dest-tls-verify=false oci:%s:v1 docker://127.0.0.1:%d/test/img:v1", g.layout, g.port);
  cleanup_free char *push2 =
      fmt("skopeo copy --all --dest-tls-verify=false oci:%s:multi docker://127.0.0.1:%d/test/img:multi", g.layout, g.port);
  cleanup_free char *push3 = fmt("skopeo copy --all --dest-tls-verify=false oci:%s:armonly "
                                 "docker://127.0.0.1:%d/test/img:armonly",
                                 g.layout, g.port);
  cleanup_free char *push4 = fmt("skopeo copy --dest-tls-verify=false --dest-creds alice:s3cret oci:%s:v1 "
                                 "docker://127.0.0.1:%d/private/img:v1",
                                 g.layout, g.auth_port);
  cleanup_free char *arch1 = fmt("skopeo copy oci:%s:v1 oci-archive:%s/img.tar:v1", g.layout, g.root);
  cleanup_free char *arch2 = fmt("skopeo copy oci:%s:gzonly docker-archive:%s/docker.tar:test/img:v1", g.layout, g.root);
  if (sh(push1) || sh(push2) || sh(push3) || sh(push4) || sh(arch1) || sh(arch2)) return -1;
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  stop_registries();
  void *dir = g.root;
  int rc = remove_tmpdir(&dir);
  g.root = NULL;
  free(g.layout);
  return rc;
}

/* Each test fetches into a store of its own. */
typedef struct fixture {
  char *dir;
  core_store *store;
  core_fetch_ctx ctx;
} fixture;

static int setup(void **state) {
  static int n;
  fixture *f = calloc(1, sizeof *f);
  core_error *err = NULL;
  f->dir = fmt("%s/store%d", g.root, n++);
  if (core_store_open(f->dir, &f->store, &err) < 0) {
    fprintf(stderr, "%s\n", err->msg);
    return -1;
  }
  f->ctx = (core_fetch_ctx){.store = f->store};
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  core_store_close(f->store);
  free(f->dir);
  free(f);
  unsetenv("DOCKER_CONFIG");
  return 0;
}

/* Fetches and returns the error message (caller frees), or NULL on success. */
static char *try_fetch(fixture *f, const char *ref, const char *pin, core_oci_image *img) {
  core_error *err = NULL;
  core_oci_image local = {0};
  if (core_fetch_oci(&f->ctx, ref, pin, img ? img : &local, &err) == 0) {
    core_oci_image_release(&local);
    return NULL;
  }
  char *msg = strdup(err->msg);
  core_error_free(err);
  return msg;
}

static void expect_error(fixture *f, const char *ref, const char *pin, const char *needle, const char *needle2) {
  cleanup_free char *msg = try_fetch(f, ref, pin, NULL);
  if (msg == NULL) fail_msg("fetching '%s' should have failed", ref);
  if (strstr(msg, needle) == NULL || (needle2 && strstr(msg, needle2) == NULL))
    fail_msg("error for '%s' lacks '%s'%s%s: %s", ref, needle, needle2 ? " or " : "", needle2 ? needle2 : "", msg);
}

static void assert_image(fixture *f, const core_oci_image *img) {
  assert_string_equal(img->manifest.str, g.amd64.str);
  assert_string_equal(img->config.str, g.config.str);
  assert_int_equal(img->n_layers, 2);
  assert_string_equal(img->layers[0].str, g.layer_gz.str);
  assert_string_equal(img->layers[1].str, g.layer_zst.str);
  assert_string_equal(img->layer_media_types[0], OCI_MT_LAYER_GZIP);
  assert_string_equal(img->layer_media_types[1], OCI_MT_LAYER_ZSTD);
  const core_digest *all[] = {&img->manifest, &img->config, &img->layers[0], &img->layers[1]};
  for (size_t i = 0; i < 4; i++) {
    core_error *err = NULL;
    cleanup_free char *path = NULL;
    ok(core_store_get_verified(f->store, all[i], &path, &err), err);
  }
}

static void fetch_ok(fixture *f, const char *ref, const char *pin) {
  core_oci_image img = {0};
  cleanup_free char *msg = try_fetch(f, ref, pin, &img);
  if (msg) fail_msg("%s", msg);
  assert_image(f, &img);
  core_oci_image_release(&img);
}

static void test_ref_parse(void **state) {
  (void)state;
  core_error *err = NULL;
  core_oci_ref r = {0};
  ok(core_oci_ref_parse("debian", &r, &err), err);
  assert_string_equal(r.registry, "docker.io");
  assert_string_equal(r.api_host, "registry-1.docker.io");
  assert_string_equal(r.name, "library/debian");
  assert_string_equal(r.tag, "latest");
  assert_null(r.digest);
  core_oci_ref_release(&r);
  ok(core_oci_ref_parse("someone/tool:1.2", &r, &err), err);
  assert_string_equal(r.registry, "docker.io");
  assert_string_equal(r.name, "someone/tool");
  assert_string_equal(r.tag, "1.2");
  core_oci_ref_release(&r);
  const char *hex = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  cleanup_free char *pinned = fmt("localhost:5000/a/b:t@%s", hex);
  ok(core_oci_ref_parse(pinned, &r, &err), err);
  assert_string_equal(r.registry, "localhost:5000");
  assert_string_equal(r.api_host, "localhost:5000");
  assert_string_equal(r.name, "a/b");
  assert_string_equal(r.tag, "t");
  assert_string_equal(r.digest, hex);
  core_oci_ref_release(&r);
  cleanup_free char *by_digest = fmt("ghcr.io/org/img@%s", hex);
  ok(core_oci_ref_parse(by_digest, &r, &err), err);
  assert_string_equal(r.registry, "ghcr.io");
  assert_null(r.tag);
  core_oci_ref_release(&r);
  ok(core_oci_ref_parse("oci-layout:/some/dir:v2", &r, &err), err);
  assert_int_equal(r.kind, CORE_OCI_REF_LAYOUT);
  assert_string_equal(r.path, "/some/dir");
  assert_string_equal(r.tag, "v2");
  core_oci_ref_release(&r);
  ok(core_oci_ref_parse("docker-archive:/x.tar:name:tag", &r, &err), err);
  assert_int_equal(r.kind, CORE_OCI_REF_DOCKER_ARCHIVE);
  assert_string_equal(r.tag, "name:tag");
  core_oci_ref_release(&r);
  const char *bad[] = {"Upper/Case", "x@sha256:12", "x:", "", "a//b", "oci-archive:"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    if (core_oci_ref_parse(bad[i], &r, &err) == 0) fail_msg("'%s' should not parse", bad[i]);
    core_error_free(err);
    err = NULL;
  }
}

static void test_registry_by_tag(void **state) {
  fixture *f = *state;
  cleanup_free char *ref = fmt("127.0.0.1:%d/test/img:v1", g.port);
  fetch_ok(f, ref, NULL);
  /* Again: everything is in the store, nothing fails. */
  fetch_ok(f, ref, g.amd64.str);
}

static void test_registry_by_digest(void **state) {
  fixture *f = *state;
  cleanup_free char *ref = fmt("127.0.0.1:%d/test/img@%s", g.port, g.amd64.str);
  fetch_ok(f, ref, NULL);
  core_digest absent;
  core_error *err = NULL;
  ok(core_digest_bytes("no such manifest", 16, &absent, &err), err);
  cleanup_free char *wrong = fmt("127.0.0.1:%d/test/img@%s", g.port, absent.str);
  expect_error(f, wrong, NULL, "is not in registry", "HTTP 404");
}

static void test_multiarch(void **state) {
  fixture *f = *state;
  cleanup_free char *ref = fmt("127.0.0.1:%d/test/img:multi", g.port);
  fetch_ok(f, ref, NULL);
  cleanup_free char *by_index = fmt("127.0.0.1:%d/test/img@%s", g.port, g.index.str);
  fetch_ok(f, by_index, g.amd64.str);
  cleanup_free char *arm = fmt("127.0.0.1:%d/test/img:armonly", g.port);
  expect_error(f, arm, NULL, "no linux/amd64", "linux/arm64");
}

static void write_docker_config(const char *user, const char *pass, const char *extra) {
  core_error *err = NULL;
  cleanup_free char *dir = fmt("%s/docker-%s-%s", g.root, user, pass);
  cleanup_free char *pair = fmt("%s:%s", user, pass);
  cleanup_free char *b64 = NULL;
  ok(core_base64_encode(pair, strlen(pair), &b64, &err), err);
  cleanup_free char *json =
      fmt("{\"auths\":{\"127.0.0.1:%d\":{\"auth\":\"%s\"}}%s}", g.auth_port, b64, extra ? extra : "");
  cleanup_free char *path = fmt("%s/config.json", dir);
  ok(core_mkdir_p(dir, 0700, &err), err);
  ok(core_write_file_atomic(path, json, strlen(json), 0600, &err), err);
  setenv("DOCKER_CONFIG", dir, 1);
}

static void test_auth_registry(void **state) {
  fixture *f = *state;
  cleanup_free char *ref = fmt("127.0.0.1:%d/private/img:v1", g.auth_port);
  cleanup_free char *empty = fmt("%s/no-docker-config", g.root);
  setenv("DOCKER_CONFIG", empty, 1);
  expect_error(f, ref, NULL, "requires authentication", "config.json");
  write_docker_config("alice", "wrong", NULL);
  expect_error(f, ref, NULL, "rejected the credentials of user 'alice'", NULL);
  write_docker_config("alice", "s3cret", NULL);
  fetch_ok(f, ref, NULL);
}

static void test_credential_helper(void **state) {
  fixture *f = *state;
  cleanup_free char *dir = fmt("%s/docker-helper", g.root);
  cleanup_free char *path = fmt("%s/config.json", dir);
  const char *json = "{\"credsStore\":\"secretservice\"}";
  core_error *err = NULL;
  ok(core_mkdir_p(dir, 0700, &err), err);
  ok(core_write_file_atomic(path, json, strlen(json), 0600, &err), err);
  setenv("DOCKER_CONFIG", dir, 1);
  cleanup_free char *ref = fmt("127.0.0.1:%d/private/img:v1", g.auth_port);
  expect_error(f, ref, NULL, "docker-credential-secretservice", "not support");
}

static void test_pin_mismatch(void **state) {
  fixture *f = *state;
  cleanup_free char *ref = fmt("127.0.0.1:%d/test/img:v1", g.port);
  expect_error(f, ref, g.arm64.str, g.arm64.str, g.amd64.str);
  cleanup_free char *layout = fmt("oci-layout:%s:v1", g.layout);
  expect_error(f, layout, g.arm64.str, "lock file pins", g.amd64.str);
}

static void test_layout(void **state) {
  fixture *f = *state;
  cleanup_free char *v1 = fmt("oci-layout:%s:v1", g.layout);
  cleanup_free char *multi = fmt("oci-layout:%s:multi", g.layout);
  fetch_ok(f, v1, NULL);
  fetch_ok(f, multi, g.amd64.str);
  cleanup_free char *none = fmt("oci-layout:%s:nope", g.layout);
  expect_error(f, none, NULL, "no image tagged 'nope'", "v1, multi, armonly, badtype, gzonly");
  cleanup_free char *untagged = fmt("oci-layout:%s", g.layout);
  expect_error(f, untagged, NULL, "holds 5 images", NULL);
  cleanup_free char *bad = fmt("oci-layout:%s:badtype", g.layout);
  expect_error(f, bad, NULL, "application/vnd.oci.image.layer.v1.tar+bzip2", NULL);
}

static void test_layout_tampered(void **state) {
  fixture *f = *state;
  cleanup_free char *layout = fmt("%s/tampered", g.root);
  __typeof__(g) saved = g; /* building sets the digests of the shared layout */
  assert_int_equal(build_layout(layout, 0), 0);
  core_digest zst = g.layer_zst;
  g = saved;
  /* Same size, different bytes: only the digest can tell. */
  cleanup_free char *blob = fmt("%s/blobs/sha256/%s", layout, core_digest_hex(&zst));
  int fd = open(blob, O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, "X", 1, 7), 1);
  close(fd);
  cleanup_free char *ref = fmt("oci-layout:%s", layout);
  expect_error(f, ref, NULL, zst.str, "tampered");
  assert_false(core_store_has(f->store, &zst));
}

static void test_oci_archive(void **state) {
  fixture *f = *state;
  cleanup_free char *ref = fmt("oci-archive:%s/img.tar:v1", g.root);
  fetch_ok(f, ref, NULL);
  cleanup_free char *untagged = fmt("oci-archive:%s/img.tar", g.root);
  fetch_ok(f, untagged, NULL);
}

static void test_docker_archive(void **state) {
  fixture *f = *state;
  cleanup_free char *ref = fmt("docker-archive:%s/docker.tar", g.root);
  core_oci_image img = {0};
  cleanup_free char *msg = try_fetch(f, ref, NULL, &img);
  if (msg) fail_msg("%s", msg);
  assert_int_equal(img.n_layers, 1);
  assert_string_equal(img.layer_media_types[0], OCI_MT_LAYER_TAR);
  core_error *err = NULL;
  cleanup_free char *path = NULL;
  ok(core_store_get_verified(f->store, &img.manifest, &path, &err), err);
  /* The made-up manifest is deterministic: a second fetch pins the same digest. */
  core_oci_image again = {0};
  cleanup_free char *msg2 = try_fetch(f, ref, img.manifest.str, &again);
  if (msg2) fail_msg("%s", msg2);
  cleanup_free char *tagged_ref = fmt("docker-archive:%s/docker.tar:test/img:v1", g.root);
  cleanup_free char *msg3 = try_fetch(f, tagged_ref, img.manifest.str, NULL);
  if (msg3) fail_msg("%s", msg3);
  core_oci_image_release(&again);
  core_oci_image_release(&img);
  cleanup_free char *other = fmt("docker-archive:%s/docker.tar:test/img:v2", g.root);
  expect_error(f, other, NULL, "no image tagged 'test/img:v2'", NULL);
}

static void test_offline(void **state) {
  fixture *f = *state;
  cleanup_free char *ref = fmt("127.0.0.1:%d/test/img:multi", g.port);
  f->ctx.offline = 1;
  expect_error(f, ref, g.amd64.str, "offline", g.amd64.str);
  expect_error(f, ref, NULL, "offline", "pins");
  f->ctx.offline = 0;
  fetch_ok(f, ref, NULL);
  f->ctx.offline = 1;
  fetch_ok(f, ref, g.amd64.str);
  cleanup_free char *by_digest = fmt("127.0.0.1:%d/test/img@%s", g.port, g.index.str);
  fetch_ok(f, by_digest, NULL);
  /* A registry nobody listens on: offline must not even try. */
  fetch_ok(f, "127.0.0.1:1/test/img:multi", g.amd64.str);
}

static void test_unreachable(void **state) {
  fixture *f = *state;
  expect_error(f, "127.0.0.1:1/test/img:v1", NULL, "127.0.0.1", NULL);
}

/* A registry with distribution's token auth (tests/registry.sh start-token): the registry
 * answers 401 with a Bearer challenge and trusts JWTs from tests/token_server.py. */
static int start_token_registry(const char *name, const char *user, const char *pass, int *port) {
  cleanup_free char *cmd = fmt("tests/registry.sh start-token %s/%s %s %s", g.root, name, user ? user : "", pass ? pass : "");
  FILE *p = popen(cmd, "r");
  if (p == NULL) return -1;
  int n = fscanf(p, "%d", port);
  int rc = pclose(p);
  if (n != 1 || rc != 0) {
    fprintf(stderr, "cannot start a token-auth registry: '%s' failed\n", cmd);
    return -1;
  }
  return 0;
}

/* How many lines of the token server's request log contain needle. */
static int token_log_count(const char *name, const char *needle) {
  core_error *err = NULL;
  cleanup_free char *path = fmt("%s/%s/token/token.log", g.root, name);
  cleanup_buf core_buf text = CORE_BUF_INIT;
  if (core_read_file(path, &text, &err) < 0) {
    core_error_free(err);
    return 0;
  }
  ok(core_buf_append(&text, "", 1, &err), err);
  int n = 0;
  for (char *line = (char *)text.data; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    if (strstr(line, needle)) n++;
    line = nl ? nl + 1 : NULL;
  }
  return n;
}

/* Fails, showing the whole log, unless some line contains needle. */
static void expect_token_log(const char *name, const char *needle) {
  if (token_log_count(name, needle) > 0) return;
  cleanup_free char *show = fmt("cat %s/%s/token/token.log >&2", g.root, name);
  if (system(show) != 0) fprintf(stderr, "(no token log)\n");
  fail_msg("the token server of '%s' logged no line with '%s'", name, needle);
}

static void write_docker_config_for(int port, const char *user, const char *pass) {
  core_error *err = NULL;
  cleanup_free char *dir = fmt("%s/docker-%d-%s-%s", g.root, port, user, pass);
  cleanup_free char *pair = fmt("%s:%s", user, pass);
  cleanup_free char *b64 = NULL;
  ok(core_base64_encode(pair, strlen(pair), &b64, &err), err);
  cleanup_free char *json = fmt("{\"auths\":{\"127.0.0.1:%d\":{\"auth\":\"%s\"}}}", port, b64);
  cleanup_free char *path = fmt("%s/config.json", dir);
  ok(core_mkdir_p(dir, 0700, &err), err);
  ok(core_write_file_atomic(path, json, strlen(json), 0600, &err), err);
  setenv("DOCKER_CONFIG", dir, 1);
}

/* Bearer with credentials: the token server wants basic auth, the registry wants its JWT. */
static void test_token_registry(void **state) {
  fixture *f = *state;
  int port;
  assert_int_equal(start_token_registry("tokenreg", "alice", "s3cret", &port), 0);
  /* skopeo speaks the token flow itself; pushing asks for push and pull. */
  cleanup_free char *push = fmt("skopeo copy --dest-tls-verify=false --dest-creds alice:s3cret oci:%s:v1 "
                                "docker://127.0.0.1:%d/private/img:v1",
                                g.layout, port);
  assert_int_equal(sh(push), 0);
  expect_token_log("tokenreg", "scope=repository:private/img:pull,push user=alice -> 200");

  cleanup_free char *ref = fmt("127.0.0.1:%d/private/img:v1", port);
  cleanup_free char *empty = fmt("%s/no-docker-config", g.root);
  setenv("DOCKER_CONFIG", empty, 1);
  expect_error(f, ref, NULL, "requires authentication", "config.json");
  assert_int_equal(token_log_count("tokenreg", "scope=repository:private/img:pull user=- -> 401 (no credentials)"), 1);

  write_docker_config_for(port, "alice", "wrong");
  expect_error(f, ref, NULL, "rejected the credentials of user 'alice'", "HTTP 401");
  assert_int_equal(token_log_count("tokenreg", "user=alice -> 401 (wrong credentials)"), 1);

  write_docker_config_for(port, "alice", "s3cret");
  int before = token_log_count("tokenreg", "scope=repository:private/img:pull user=alice -> 200");
  fetch_ok(f, ref, NULL);
  /* One token, asked for with the challenge's scope, serves the manifest and every blob. */
  assert_int_equal(token_log_count("tokenreg", "scope=repository:private/img:pull user=alice -> 200"), before + 1);
  cleanup_free char *by_digest = fmt("127.0.0.1:%d/private/img@%s", port, g.amd64.str);
  fetch_ok(f, by_digest, NULL);
  /* An image that is not there: the token works, the registry says 404. */
  cleanup_free char *absent = fmt("127.0.0.1:%d/private/img:nope", port);
  expect_error(f, absent, NULL, "is not in registry", "HTTP 404");
}

/* Bearer without credentials, as public registries do it: anonymous tokens. */
static void test_token_registry_anonymous(void **state) {
  fixture *f = *state;
  int port;
  assert_int_equal(start_token_registry("anontokenreg", NULL, NULL, &port), 0);
  cleanup_free char *push =
      fmt("skopeo copy --dest-tls-verify=false oci:%s:v1 docker://127.0.0.1:%d/public/img:v1", g.layout, port);
  assert_int_equal(sh(push), 0);
  cleanup_free char *empty = fmt("%s/no-docker-config", g.root);
  setenv("DOCKER_CONFIG", empty, 1);
  cleanup_free char *ref = fmt("127.0.0.1:%d/public/img:v1", port);
  fetch_ok(f, ref, NULL);
  expect_token_log("anontokenreg", "scope=repository:public/img:pull user=- -> 200");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ref_parse),
      cmocka_unit_test_setup_teardown(test_registry_by_tag, setup, teardown),
      cmocka_unit_test_setup_teardown(test_registry_by_digest, setup, teardown),
      cmocka_unit_test_setup_teardown(test_multiarch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_auth_registry, setup, teardown),
      cmocka_unit_test_setup_teardown(test_credential_helper, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pin_mismatch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
      cmocka_unit_test_setup_teardown(test_layout_tampered, setup, teardown),
      cmocka_unit_test_setup_teardown(test_oci_archive, setup, teardown),
      cmocka_unit_test_setup_teardown(test_docker_archive, setup, teardown),
      cmocka_unit_test_setup_teardown(test_offline, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unreachable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_token_registry, setup, teardown),
      cmocka_unit_test_setup_teardown(test_token_registry_anonymous, setup, teardown),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
