/* Signature referrers and the index that ties the app and its signatures together. */
#include "seal.h"

#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "dsse.h"
#include "json.h"
#include "oci.h"
#include "sign.h"

static int add_json_blob(core_blob_set *blobs, json_t *j, core_digest *d, uint64_t *size, core_error **err) {
  core_buf text = CORE_BUF_INIT;
  if (j == NULL) return core_error_set(err, ENOMEM, "building JSON");
  if (core_json_dump(j, &text, err) < 0) return -1;
  *size = text.len;
  return core_blob_set_add(blobs, &text, d, err);
}

/* The DSSE envelope of the statement that names the manifest digest: the one identity
 * everything else hangs from. */
static int sign_statement(EVP_PKEY *key, const char *name, const core_digest *manifest, uint64_t manifest_size,
                          core_buf *envelope, core_error **err) {
  cleanup_json json_t *statement =
      json_pack("{s:s, s:[{s:s, s:{s:s}}], s:s, s:{s:{s:s, s:I}}}", "_type", INTOTO_STATEMENT_TYPE, "subject", "name",
                name, "digest", "sha256", core_digest_hex(manifest), "predicateType", TIM_PREDICATE_TYPE, "predicate",
                "manifest", "mediaType", OCI_MT_MANIFEST, "size", (json_int_t)manifest_size);
  cleanup_buf core_buf text = CORE_BUF_INIT;
  if (statement == NULL) return core_error_set(err, ENOMEM, "building the statement");
  if (core_json_dump(statement, &text, err) < 0) return -1;
  return core_dsse_sign(key, CORE_INTOTO_PAYLOAD_TYPE, text.data, text.len, envelope, err);
}

int core_seal_signature(core_blob_set *blobs, const char *name, const core_digest *manifest, uint64_t manifest_size,
                        EVP_PKEY *key, json_t **desc, core_error **err) {
  core_buf envelope = CORE_BUF_INIT; /* taken by core_blob_set_add */
  if (sign_statement(key, name, manifest, manifest_size, &envelope, err) < 0) {
    core_buf_release(&envelope);
    return -1;
  }
  uint64_t envelope_size = envelope.len, empty_size = 2;
  core_digest d_envelope, d_empty, d_sig;
  core_buf empty = CORE_BUF_INIT;
  if (core_blob_set_add(blobs, &envelope, &d_envelope, err) < 0) return -1;
  if (core_buf_append(&empty, "{}", 2, err) < 0 || core_blob_set_add(blobs, &empty, &d_empty, err) < 0) {
    core_buf_release(&empty);
    return -1;
  }
  char keyid[CORE_KEYID_LEN + 1];
  if (core_key_id(key, keyid, err) < 0) return -1;
  uint64_t sig_size;
  cleanup_json json_t *sig_manifest =
      json_pack("{s:i, s:s, s:s, s:o, s:[o], s:o, s:{s:s}}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST,
                "artifactType", CORE_DSSE_MEDIA_TYPE, "config", core_oci_descriptor(OCI_MT_EMPTY, &d_empty, empty_size),
                "layers", core_oci_descriptor(CORE_DSSE_MEDIA_TYPE, &d_envelope, envelope_size), "subject",
                core_oci_descriptor(OCI_MT_MANIFEST, manifest, manifest_size), "annotations",
                "dev.core.signature.keyid", keyid);
  if (add_json_blob(blobs, sig_manifest, &d_sig, &sig_size, err) < 0) return -1;
  json_t *sig_desc = core_oci_descriptor(OCI_MT_MANIFEST, &d_sig, sig_size);
  if (sig_desc == NULL || json_object_set_new(sig_desc, "artifactType", json_string(CORE_DSSE_MEDIA_TYPE)) < 0) {
    json_decref(sig_desc);
    return core_error_set(err, ENOMEM, "building a descriptor");
  }
  *desc = sig_desc;
  return 0;
}

int core_seal_index(core_blob_set *blobs, const char *name, json_t *entries, core_buf *index_json, core_error **err) {
  core_digest d_top;
  uint64_t top_size;
  cleanup_json json_t *top =
      json_pack("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX, "manifests", entries);
  if (add_json_blob(blobs, top, &d_top, &top_size, err) < 0) return -1;
  /* index.json has one entry so that tools which expect one image (skopeo) find it. */
  return core_tim_index_json(&d_top, top_size, name, index_json, err);
}

/* Whether a key with this id already signed in this run: Ed25519 signatures are
 * deterministic, so a second one would be the same signature listed twice. */
static int seen_before(EVP_PKEY *const *keys, size_t i, const char *id, core_error **err) {
  for (size_t k = 0; k < i; k++) {
    char other[CORE_KEYID_LEN + 1];
    if (core_key_id(keys[k], other, err) < 0) return -1;
    if (strcmp(other, id) == 0) return 1;
  }
  return 0;
}

int core_seal(core_linked_app *app, EVP_PKEY *const *keys, size_t n_keys, core_buf *index_json, core_error **err) {
  if (n_keys == 0) return core_error_set(err, 0, "internal: sealing needs at least one key");
  cleanup_json json_t *entries = json_array();
  json_t *app_desc = core_oci_descriptor(OCI_MT_MANIFEST, &app->manifest, app->manifest_size);
  if (entries == NULL || app_desc == NULL) {
    json_decref(app_desc);
    return core_error_set(err, ENOMEM, "building the top index");
  }
  json_object_set_new(app_desc, "artifactType", json_string(TIM_ARTIFACT_TYPE));
  json_object_set_new(app_desc, "platform", json_pack("{s:s, s:s}", "architecture", "amd64", "os", "linux"));
  json_array_append_new(entries, app_desc);
  for (size_t i = 0; i < n_keys; i++) {
    char id[CORE_KEYID_LEN + 1];
    if (core_key_id(keys[i], id, err) < 0) return -1;
    int seen = seen_before(keys, i, id, err);
    if (seen < 0) return -1;
    if (seen) continue;
    json_t *sig_desc = NULL;
    if (core_seal_signature(&app->blobs, app->name, &app->manifest, app->manifest_size, keys[i], &sig_desc, err) < 0)
      return -1;
    if (json_array_append_new(entries, sig_desc) < 0) return core_error_set(err, ENOMEM, "building the top index");
  }
  return core_seal_index(&app->blobs, app->name, entries, index_json, err);
}

int core_seal_and_write(core_linked_app *app, EVP_PKEY *const *keys, size_t n_keys, const char *out_path,
                        core_error **err) {
  cleanup_buf core_buf index_text = CORE_BUF_INIT;
  if (core_seal(app, keys, n_keys, &index_text, err) < 0) return -1;
  return core_tim_write(out_path, &index_text, &app->blobs, err);
}
