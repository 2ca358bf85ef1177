/* Signature referrer and the index that ties the app and its signatures together. */
#include "seal.h"

#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "dsse.h"
#include "sign.h"
#include "json.h"
#include "oci.h"

static int add_json_blob(core_blob_set *blobs, json_t *j, core_digest *d, uint64_t *size, core_error **err) {
  core_buf text = CORE_BUF_INIT;
  if (j == NULL) return core_error_set(err, ENOMEM, "building JSON");
  if (core_json_dump(j, &text, err) < 0) return -1;
  *size = text.len;
  return core_blob_set_add(blobs, &text, d, err);
}

int core_seal(core_linked_app *app, EVP_PKEY *key, core_buf *index_json, core_error **err) {
  /* The statement names the manifest digest: the one identity everything else hangs from. */
  cleanup_json json_t *statement =
      json_pack("{s:s, s:[{s:s, s:{s:s}}], s:s, s:{s:{s:s, s:I}}}", "_type", INTOTO_STATEMENT_TYPE, "subject", "name",
                app->name, "digest", "sha256", core_digest_hex(&app->manifest), "predicateType", TIM_PREDICATE_TYPE,
                "predicate", "manifest", "mediaType", OCI_MT_MANIFEST, "size", (json_int_t)app->manifest_size);
  cleanup_buf core_buf statement_text = CORE_BUF_INIT;
  cleanup_buf core_buf envelope = CORE_BUF_INIT; /* taken by core_blob_set_add */
  if (statement == NULL) return core_error_set(err, ENOMEM, "building the statement");
  if (core_json_dump(statement, &statement_text, err) < 0 ||
      core_dsse_sign(key, CORE_INTOTO_PAYLOAD_TYPE, statement_text.data, statement_text.len, &envelope, err) < 0)
    return -1;
  uint64_t envelope_size = envelope.len, empty_size = 2;
  core_digest d_envelope, d_empty, d_sig;
  core_buf empty = CORE_BUF_INIT;
  if (core_blob_set_add(&app->blobs, &envelope, &d_envelope, err) < 0) return -1;
  if (core_buf_append(&empty, "{}", 2, err) < 0 || core_blob_set_add(&app->blobs, &empty, &d_empty, err) < 0) {
    core_buf_release(&empty);
    return -1;
  }
  char keyid[CORE_KEYID_LEN + 1];
  if (core_key_id(key, keyid, err) < 0) return -1;
  uint64_t sig_size, top_size;
  cleanup_json json_t *sig_manifest =
      json_pack("{s:i, s:s, s:s, s:o, s:[o], s:o, s:{s:s}}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST,
                "artifactType", CORE_DSSE_MEDIA_TYPE, "config", core_oci_descriptor(OCI_MT_EMPTY, &d_empty, empty_size),
                "layers", core_oci_descriptor(CORE_DSSE_MEDIA_TYPE, &d_envelope, envelope_size), "subject",
                core_oci_descriptor(OCI_MT_MANIFEST, &app->manifest, app->manifest_size), "annotations",
                "dev.core.signature.keyid", keyid);
  if (add_json_blob(&app->blobs, sig_manifest, &d_sig, &sig_size, err) < 0) return -1;

  json_t *app_desc = core_oci_descriptor(OCI_MT_MANIFEST, &app->manifest, app->manifest_size);
  json_object_set_new(app_desc, "artifactType", json_string(TIM_ARTIFACT_TYPE));
  json_object_set_new(app_desc, "platform", json_pack("{s:s, s:s}", "architecture", "amd64", "os", "linux"));
  json_t *sig_desc = core_oci_descriptor(OCI_MT_MANIFEST, &d_sig, sig_size);
  json_object_set_new(sig_desc, "artifactType", json_string(CORE_DSSE_MEDIA_TYPE));
  core_digest d_top;
  cleanup_json json_t *top =
      json_pack("{s:i, s:s, s:[o, o]}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX, "manifests", app_desc, sig_desc);
  if (add_json_blob(&app->blobs, top, &d_top, &top_size, err) < 0) return -1;

  /* index.json has one entry so that tools which expect one image (skopeo) find it. */
  json_t *top_desc = core_oci_descriptor(OCI_MT_INDEX, &d_top, top_size);
  json_object_set_new(top_desc, "annotations", json_pack("{s:s}", OCI_ANN_REF_NAME, app->name));
  cleanup_json json_t *index = json_pack("{s:i, s:s, s:[o]}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX, "manifests", top_desc);
  if (index == NULL) return core_error_set(err, ENOMEM, "building index.json");
  return core_json_dump(index, index_json, err);
}

int core_seal_and_write(core_linked_app *app, EVP_PKEY *key, const char *out_path, core_error **err) {
  cleanup_buf core_buf index_text = CORE_BUF_INIT;
  if (core_seal(app, key, &index_text, err) < 0) return -1;
  return core_tim_write(out_path, &index_text, &app->blobs, err);
}
