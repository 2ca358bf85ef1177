/* OCI descriptors. */
#include "oci.h"

#include <string.h>

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
