/* Walking one image: index to manifest to config and layers, each digest checked and each
 * blob brought into the store through whichever source the reference named. */
#include "oci_source.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fsutil.h"
#include "json.h"
#include "oci.h"

void core_oci_image_release(core_oci_image *img) {
  for (size_t i = 0; i < img->n_layers; i++) free(img->layer_media_types[i]);
  free(img->layers);
  free(img->layer_media_types);
  memset(img, 0, sizeof *img);
}

static int layer_type_ok(const char *mt) {
  static const char *const ok[] = {OCI_MT_LAYER_TAR, OCI_MT_LAYER_GZIP, OCI_MT_LAYER_ZSTD, DOCKER_MT_LAYER_GZIP};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
    if (strcmp(mt, ok[i]) == 0) return 1;
  return 0;
}

/* A manifest by digest: from the store when it is there (no network), else the source. */
static int read_manifest(core_fetch_ctx *ctx, core_oci_source *src, const core_digest *d, core_buf *out,
                         core_error **err) {
  if (core_store_has(ctx->store, d)) {
    cleanup_free char *path = NULL;
    if (core_store_get_verified(ctx->store, d, &path, err) < 0) return -1;
    return core_read_file(path, out, err);
  }
  if (src->read_manifest(src, d, out, err) < 0) return -1;
  core_digest got;
  if (core_digest_bytes(out->data, out->len, &got, err) < 0) return -1;
  if (strcmp(got.str, d->str) != 0)
    return core_error_set(err, 0, "'%s': manifest %s arrived with digest %s; the source is corrupt or was tampered with",
                          src->what, d->str, got.str);
  core_digest stored;
  return core_store_put(ctx->store, out->data, out->len, &stored, err);
}

static int fetch_blob(core_fetch_ctx *ctx, core_oci_source *src, const core_digest *d, uint64_t size,
                      core_error **err) {
  if (core_store_has(ctx->store, d)) return 0;
  return src->store_blob(src, d, size, err);
}

static int parse_doc(const core_buf *b, const char *what, json_t **out, core_error **err) {
  if (core_json_parse(b->data, b->len, out, err) < 0) return core_error_wrap(err, "'%s': manifest", what);
  if (!json_is_object(*out)) return core_error_set(err, 0, "'%s': the manifest is not a JSON object", what);
  return 0;
}

static int resolve_manifest(core_fetch_ctx *ctx, core_oci_source *src, const json_t *m, const char *mt,
                            core_oci_image *out, core_error **err) {
  if (strcmp(mt, OCI_MT_MANIFEST) != 0 && strcmp(mt, DOCKER_MT_MANIFEST) != 0)
    return core_error_set(err, 0, "'%s': manifest type '%s' is not supported (OCI image manifests and Docker schema 2 "
                                  "are; push the image again with a current tool)",
                          src->what, mt);
  if (json_integer_value(json_object_get(m, "schemaVersion")) != 2)
    return core_error_set(err, 0, "'%s': the manifest's schemaVersion is not 2", src->what);
  const char *cfg_mt = NULL;
  uint64_t size;
  if (core_oci_descriptor_parse(json_object_get(m, "config"), &cfg_mt, &out->config, &size, err) < 0)
    return core_error_wrap(err, "'%s': the manifest's config", src->what);
  if (strcmp(cfg_mt, OCI_MT_CONFIG) != 0 && strcmp(cfg_mt, DOCKER_MT_CONFIG) != 0)
    return core_error_set(err, 0, "'%s' is not a container image: its config has media type '%s'", src->what, cfg_mt);
  if (fetch_blob(ctx, src, &out->config, size, err) < 0) return -1;
  const json_t *layers = json_object_get(m, "layers");
  if (!json_is_array(layers)) return core_error_set(err, 0, "'%s': the manifest has no \"layers\" list", src->what);
  size_t n = json_array_size(layers);
  out->layers = calloc(n ? n : 1, sizeof *out->layers);
  out->layer_media_types = calloc(n ? n : 1, sizeof *out->layer_media_types);
  if (out->layers == NULL || out->layer_media_types == NULL) return core_error_set(err, ENOMEM, "allocating");
  for (size_t i = 0; i < n; i++) {
    const char *lmt = NULL;
    if (core_oci_descriptor_parse(json_array_get(layers, i), &lmt, &out->layers[i], &size, err) < 0)
      return core_error_wrap(err, "'%s': layer %zu", src->what, i + 1);
    if (!layer_type_ok(lmt))
      return core_error_set(err, 0, "'%s': layer %zu has media type '%s'; only tar layers (plain, gzip or zstd) can be "
                                    "linked",
                            src->what, i + 1, lmt);
    if ((out->layer_media_types[i] = strdup(lmt)) == NULL) return core_error_set(err, ENOMEM, "allocating");
    out->n_layers = i + 1;
    if (fetch_blob(ctx, src, &out->layers[i], size, err) < 0) return -1;
  }
  return 0;
}

int core_oci_resolve(core_fetch_ctx *ctx, core_oci_source *src, const core_buf *top, const char *content_type,
                     const char *want_top, const char *pinned, core_oci_image *out, core_error **err) {
  core_digest top_digest;
  if (core_digest_bytes(top->data, top->len, &top_digest, err) < 0) return -1;
  if (want_top && strcmp(want_top, top_digest.str) != 0)
    return core_error_set(err, 0, "'%s': the manifest received has digest %s, not %s; the source is corrupt or was "
                                  "tampered with",
                          src->what, top_digest.str, want_top);
  core_digest stored;
  if (core_store_put(ctx->store, top->data, top->len, &stored, err) < 0) return -1;
  cleanup_json json_t *doc = NULL;
  if (parse_doc(top, src->what, &doc, err) < 0) return -1;
  const char *mt = core_oci_media_type(doc, content_type);
  core_digest manifest = top_digest;
  cleanup_buf core_buf platform_bytes = CORE_BUF_INIT;
  cleanup_json json_t *platform_doc = NULL;
  if (core_oci_is_index(mt)) {
    const json_t *entry;
    uint64_t size;
    if (core_oci_select_platform(doc, src->what, &entry, err) < 0) return -1;
    if (core_oci_descriptor_parse(entry, NULL, &manifest, &size, err) < 0)
      return core_error_wrap(err, "'%s': the linux/amd64 entry", src->what);
    if (read_manifest(ctx, src, &manifest, &platform_bytes, err) < 0) return -1;
    if (parse_doc(&platform_bytes, src->what, &platform_doc, err) < 0) return -1;
    mt = core_oci_media_type(platform_doc, json_string_value(json_object_get(entry, "mediaType")));
  }
  /* The lock pins the manifest the layers come from, so an index that gains platforms
   * does not invalidate it. */
  if (pinned && strcmp(pinned, manifest.str) != 0)
    return core_error_set(err, 0, "'%s' now resolves to manifest %s, but the lock file pins %s; update the lock if the "
                                  "change is intended",
                          src->what, manifest.str, pinned);
  core_oci_image img = {.manifest = manifest};
  if (resolve_manifest(ctx, src, platform_doc ? platform_doc : doc, mt, &img, err) < 0) {
    core_oci_image_release(&img);
    return -1;
  }
  *out = img;
  return 0;
}
