/* DSSE envelopes: PAE and verification (signing is the publisher's: linker/sign.c). */
#include "dsse.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "cleanup.h"
#include "json.h"

int core_dsse_pae(const char *payload_type, const void *payload, size_t len, core_buf *out, core_error **err) {
  char head[64];
  core_buf b = CORE_BUF_INIT;
  int n = snprintf(head, sizeof head, "DSSEv1 %zu ", strlen(payload_type));
  if (core_buf_append(&b, head, (size_t)n, err) < 0 || core_buf_append(&b, payload_type, strlen(payload_type), err) < 0)
    goto fail;
  n = snprintf(head, sizeof head, " %zu ", len);
  if (core_buf_append(&b, head, (size_t)n, err) < 0 || core_buf_append(&b, payload, len, err) < 0) goto fail;
  *out = b;
  return 0;
fail:
  core_buf_release(&b);
  return -1;
}

int core_dsse_verify(const void *envelope, size_t len, const char *want_payload_type,
                     const core_trusted_key *keys, size_t n_keys, core_buf *payload,
                     char signer_id[CORE_KEYID_LEN + 1], core_dsse_result *result, core_error **err) {
  cleanup_json json_t *env = NULL;
  if (core_json_parse(envelope, len, &env, err) < 0) return core_error_wrap(err, "DSSE envelope");
  const char *type = NULL, *payload_b64 = NULL;
  json_t *sigs = NULL;
  json_error_t jerr;
  if (json_unpack_ex(env, &jerr, 0, "{s:s, s:s, s:o}", "payloadType", &type, "payload", &payload_b64, "signatures",
                     &sigs) < 0 ||
      !json_is_array(sigs))
    return core_error_set(err, 0, "DSSE envelope is malformed: %s", jerr.text);
  if (strcmp(type, want_payload_type) != 0)
    return core_error_set(err, 0, "DSSE envelope has payload type '%s', expected '%s'", type, want_payload_type);
  cleanup_buf core_buf body = CORE_BUF_INIT;
  if (core_base64_decode(payload_b64, &body, err) < 0) return core_error_wrap(err, "DSSE payload");
  cleanup_buf core_buf pae = CORE_BUF_INIT;
  if (core_dsse_pae(type, body.data, body.len, &pae, err) < 0) return -1;

  *result = CORE_DSSE_UNTRUSTED;
  signer_id[0] = 0;
  size_t i;
  json_t *entry;
  json_array_foreach(sigs, i, entry) {
    const char *sig_b64 = NULL, *keyid = "";
    if (json_unpack_ex(entry, &jerr, 0, "{s:s, s?:s}", "sig", &sig_b64, "keyid", &keyid) < 0)
      return core_error_set(err, 0, "DSSE signature %zu is malformed: %s", i, jerr.text);
    cleanup_buf core_buf sig = CORE_BUF_INIT;
    if (core_base64_decode(sig_b64, &sig, err) < 0) return core_error_wrap(err, "DSSE signature %zu", i);
    if (*result == CORE_DSSE_UNTRUSTED && keyid[0]) snprintf(signer_id, CORE_KEYID_LEN + 1, "%s", keyid);
    /* The keyid is only a hint: try every trusted key, so a missing or wrong hint
     * cannot make a good signature fail or a bad one pass. */
    for (size_t k = 0; k < n_keys; k++) {
      int ok = core_key_verify(keys[k].key, pae.data, pae.len, sig.data, sig.len, err);
      if (ok < 0) return -1;
      if (ok) {
        snprintf(signer_id, CORE_KEYID_LEN + 1, "%s", keys[k].id);
        *result = CORE_DSSE_VERIFIED;
        *payload = body;
        body = (core_buf)CORE_BUF_INIT;
        return 0;
      }
      if (strcmp(keys[k].id, keyid) == 0) {
        *result = CORE_DSSE_INVALID;
        snprintf(signer_id, CORE_KEYID_LEN + 1, "%s", keyid);
      }
    }
  }
  return 0;
}
