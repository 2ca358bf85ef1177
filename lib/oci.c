/* OCI descriptors. */
#include "oci.h"

#include <errno.h>
#include <string.h>

#include "json.h"

json_t *core_oci_descriptor(const char *media_type, const core_digest *digest, uint64_t size) {
  return json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest->str, "size", (json_int_t)size);
}

int core_oci_descriptor_parse(const json_t *desc, const char **media_type, core_digest *digest, uint64_t *size,
                              core_error **err) {
  const char *mt = NULL, *dg = NULL;
  json_int_t sz = -1;
  json_error_t jerr;
  if (json_unpack_ex((json_t *)desc, &jerr, 0, "{s:s, s:s, s:I}", "mediaType", &mt, "digest", &dg, "size", &sz) < 0)
    return core_error_set(err, 0, "malformed descriptor: %s", jerr.text);
  if (!core_digest_is_valid(dg)) return core_error_set(err, 0, "descriptor has an invalid digest '%s'", dg);
  if (sz < 0) return core_error_set(err, 0, "descriptor of %s has a negative size", dg);
  if (media_type) *media_type = mt;
  memcpy(digest->str, dg, CORE_DIGEST_STRLEN + 1);
  *size = (uint64_t)sz;
  return 0;
}

int core_tim_index_json(const core_digest *top, uint64_t top_size, const char *name, core_buf *out, core_error **err) {
  json_t *top_desc = core_oci_descriptor(OCI_MT_INDEX, top, top_size);
  if (top_desc == NULL || json_object_set_new(top_desc, "annotations", json_pack("{s:s}", OCI_ANN_REF_NAME, name)) < 0) {
    json_decref(top_desc);
    return core_error_set(err, ENOMEM, "building index.json");
  }
  json_t *index = json_pack("{s:i, s:s, s:[o]}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX, "manifests", top_desc);
  if (index == NULL) return core_error_set(err, ENOMEM, "building index.json");
  int rc = core_json_dump(index, out, err);
  json_decref(index);
  return rc;
}
