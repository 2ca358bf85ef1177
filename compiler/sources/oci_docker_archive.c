/* "docker save" tarballs (manifest.json, a config and layer tars) turned into an OCI image
 * in the store: the same result as a registry or a layout gives, with an OCI manifest made
 * here from the stored blobs. */
#include "oci_docker_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive_util.h"
#include "cleanup.h"
#include "json.h"
#include "oci.h"
#include "oci_layout.h"
#include "oci_source.h"

/* The entry of manifest.json that carries tag ("name:tag"), or with tag NULL the only one. */
static int pick_image(const json_t *list, const char *tag, const char *what, const json_t **out, core_error **err) {
  if (!json_is_array(list) || json_array_size(list) == 0)
    return core_error_set(err, 0, "'%s': manifest.json lists no images", what);
  if (tag == NULL) {
    if (json_array_size(list) > 1)
      return core_error_set(err, 0, "'%s' holds %zu images; name one with ':NAME:TAG'", what, json_array_size(list));
    *out = json_array_get(list, 0);
    return 0;
  }
  size_t i, j;
  json_t *img, *t;
  json_array_foreach(list, i, img) {
    json_array_foreach(json_object_get(img, "RepoTags"), j, t) {
      const char *s = json_string_value(t);
      size_t n = s ? strlen(s) : 0, tn = strlen(tag);
      /* Docker writes "docker.io/library/x:tag" or "x:tag"; either matches "x:tag". */
      if (s && n >= tn && strcmp(s + n - tn, tag) == 0 && (n == tn || s[n - tn - 1] == '/')) {
        *out = img;
        return 0;
      }
    }
  }
  return core_error_set(err, 0, "'%s' has no image tagged '%s' in manifest.json", what, tag);
}

/* The digest of the uncompressed tar (the config's diff_id), whatever filter the blob has. */
static int diff_id(const char *path, core_digest *out, core_error **err) {
  cleanup_archive_read struct archive *a = archive_read_new();
  if (a == NULL) return core_error_set(err, ENOMEM, "allocating an archive reader");
  archive_read_support_filter_all(a);
  archive_read_support_format_raw(a);
  struct archive_entry *e;
  if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK)
    return core_error_archive(err, a, "reading layer '%s'", path);
  cleanup_hasher core_hasher *h = NULL;
  if (core_hasher_new(&h, err) < 0) return -1;
  char buf[1 << 16];
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf, sizeof buf);
    if (n < 0) return core_error_archive(err, a, "reading layer '%s'", path);
    if (n == 0) break;
    if (core_hasher_update(h, buf, (size_t)n, err) < 0) return -1;
  }
  return core_hasher_final(h, out, err);
}

static const char *layer_media_type(const char *path) {
  unsigned char magic[4] = {0};
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (read(fd, magic, sizeof magic) < 0) magic[0] = 0;
    close(fd);
  }
  if (magic[0] == 0x1f && magic[1] == 0x8b) return OCI_MT_LAYER_GZIP;
  if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) return OCI_MT_LAYER_ZSTD;
  return OCI_MT_LAYER_TAR;
}

/* Streams one member into the store; its digest is whatever the bytes give. */
static int store_member(core_store *store, const char *tar, const char *name, core_digest *out, uint64_t *size,
                        core_error **err) {
  cleanup_archive_read struct archive *a = archive_read_new();
  if (a == NULL) return core_error_set(err, ENOMEM, "allocating an archive reader");
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, tar, 1 << 16) != ARCHIVE_OK) return core_error_archive(err, a, "opening '%s'", tar);
  for (;;) {
    struct archive_entry *e;
    int rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) return core_error_set(err, 0, "'%s' lacks '%s', which manifest.json names", tar, name);
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return core_error_archive(err, a, "reading '%s'", tar);
    const char *p = archive_entry_pathname(e);
    while (p[0] == '.' && p[1] == '/') p += 2;
    if (strcmp(p, name) == 0) break;
  }
  cleanup_store_writer core_store_writer *w = NULL;
  if (core_store_writer_begin(store, &w, err) < 0) return -1;
  char buf[1 << 16];
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf, sizeof buf);
    if (n < 0) return core_error_archive(err, a, "reading '%s' from '%s'", name, tar);
    if (n == 0) break;
    if (core_store_writer_write(w, buf, (size_t)n, err) < 0) return -1;
  }
  *size = core_store_writer_size(w);
  return core_store_writer_commit(w, NULL, out, err);
}

static int convert(core_fetch_ctx *ctx, const char *file, const json_t *img, const char *what, core_oci_image *out,
                   json_t *manifest, core_error **err) {
  const char *config_name = json_string_value(json_object_get(img, "Config"));
  const json_t *layers = json_object_get(img, "Layers");
  if (config_name == NULL || !json_is_array(layers))
    return core_error_set(err, 0, "'%s': manifest.json lacks \"Config\" or \"Layers\"", what);
  cleanup_buf core_buf config = CORE_BUF_INIT;
  int found;
  if (core_oci_tar_read_member(file, config_name, &config, &found, err) < 0) return -1;
  if (!found) return core_error_set(err, 0, "'%s' lacks '%s', which manifest.json names", what, config_name);
  if (core_store_put(ctx->store, config.data, config.len, &out->config, err) < 0) return -1;
  /* docker save names the config after its digest: the one check the config can have. */
  const char *base = strrchr(config_name, '/') ? strrchr(config_name, '/') + 1 : config_name;
  if (strlen(base) == 64 + 5 && strcmp(base + 64, ".json") == 0 && strncmp(base, core_digest_hex(&out->config), 64) != 0)
    return core_error_set(err, 0, "'%s': config '%s' has digest %s; the archive is corrupt or was tampered with", what,
                          config_name, out->config.str);
  cleanup_json json_t *cfg = NULL;
  if (core_json_parse(config.data, config.len, &cfg, err) < 0) return core_error_wrap(err, "'%s': %s", what, config_name);
  const json_t *diff_ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
  size_t n = json_array_size(layers);
  if (json_array_size(diff_ids) != n)
    return core_error_set(err, 0, "'%s': the config lists %zu layers, manifest.json %zu", what,
                          json_array_size(diff_ids), n);
  out->layers = calloc(n ? n : 1, sizeof *out->layers);
  out->layer_media_types = calloc(n ? n : 1, sizeof *out->layer_media_types);
  if (out->layers == NULL || out->layer_media_types == NULL) return core_error_set(err, ENOMEM, "allocating");
  json_t *descs = json_object_get(manifest, "layers");
  for (size_t i = 0; i < n; i++) {
    const char *name = json_string_value(json_array_get(layers, i));
    if (name == NULL) return core_error_set(err, 0, "'%s': layer %zu in manifest.json is not a string", what, i + 1);
    uint64_t size;
    if (store_member(ctx->store, file, name, &out->layers[i], &size, err) < 0) return -1;
    out->n_layers = i + 1;
    /* The config's diff_ids are the only digests a docker save carries: check against them. */
    cleanup_free char *path = NULL;
    core_digest uncompressed;
    if (core_store_get_verified(ctx->store, &out->layers[i], &path, err) < 0 || diff_id(path, &uncompressed, err) < 0)
      return -1;
    const char *want = json_string_value(json_array_get(diff_ids, i));
    if (want == NULL || strcmp(want, uncompressed.str) != 0)
      return core_error_set(err, 0, "'%s': layer '%s' has content digest %s but the config says %s; the archive is "
                                    "corrupt or was tampered with",
                            what, name, uncompressed.str, want ? want : "(none)");
    const char *mt = layer_media_type(path);
    if ((out->layer_media_types[i] = strdup(mt)) == NULL) return core_error_set(err, ENOMEM, "allocating");
    if (json_array_append_new(descs, core_oci_descriptor(mt, &out->layers[i], size)) < 0)
      return core_error_set(err, ENOMEM, "allocating");
  }
  json_t *cdesc = core_oci_descriptor(OCI_MT_CONFIG, &out->config, config.len);
  if (cdesc == NULL || json_object_set_new(manifest, "config", cdesc) < 0) return core_error_set(err, ENOMEM, "allocating");
  return 0;
}

int core_oci_docker_archive(core_fetch_ctx *ctx, const char *file, const char *tag, const char *what,
                            const char *pinned, core_oci_image *out, core_error **err) {
  cleanup_buf core_buf list_json = CORE_BUF_INIT;
  int found;
  if (core_oci_tar_read_member(file, "manifest.json", &list_json, &found, err) < 0) return -1;
  if (!found)
    return core_error_set(err, 0, "'%s' is not a docker-archive: it has no manifest.json (for an OCI layout in a tar "
                                  "use oci-archive:)",
                          file);
  cleanup_json json_t *list = NULL;
  if (core_json_parse(list_json.data, list_json.len, &list, err) < 0) return core_error_wrap(err, "'%s': manifest.json", what);
  const json_t *img = NULL;
  if (pick_image(list, tag, what, &img, err) < 0) return -1;
  cleanup_json json_t *manifest =
      json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST, "layers");
  if (manifest == NULL) return core_error_set(err, ENOMEM, "allocating");
  core_oci_image res = {0};
  if (convert(ctx, file, img, what, &res, manifest, err) < 0) {
    core_oci_image_release(&res);
    return -1;
  }
  /* Canonical JSON: the same archive content always gives the same manifest digest. */
  cleanup_buf core_buf bytes = CORE_BUF_INIT;
  if (core_json_dump(manifest, &bytes, err) < 0 || core_store_put(ctx->store, bytes.data, bytes.len, &res.manifest, err) < 0) {
    core_oci_image_release(&res);
    return -1;
  }
  if (pinned && strcmp(pinned, res.manifest.str) != 0) {
    core_error_set(err, 0, "'%s' now gives manifest %s, but the lock file pins %s; update the lock if the change is "
                           "intended",
                   what, res.manifest.str, pinned);
    core_oci_image_release(&res);
    return -1;
  }
  *out = res;
  return 0;
}
