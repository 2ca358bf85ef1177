/* DSSE (Dead Simple Signing Envelope) v1 with Ed25519: the signature format of artifacts. */
#ifndef CORE_DSSE_H
#define CORE_DSSE_H

#include <stddef.h>

#include "buf.h"
#include "error.h"
#include "keys.h"

#define CORE_DSSE_MEDIA_TYPE "application/vnd.dsse.envelope.v1+json"
#define CORE_INTOTO_PAYLOAD_TYPE "application/vnd.in-toto+json"

/* Pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body. */
int core_dsse_pae(const char *payload_type, const void *payload, size_t len, core_buf *out, core_error **err);


typedef struct core_trusted_key {
  EVP_PKEY *key;
  char id[CORE_KEYID_LEN + 1];
  char *origin; /* the file it came from, for messages */
} core_trusted_key;

typedef enum core_dsse_result {
  CORE_DSSE_VERIFIED = 0,
  CORE_DSSE_UNTRUSTED = 1, /* well-formed, but no signature is by a trusted key */
  CORE_DSSE_INVALID = 2,   /* a signature by a trusted key that does not verify */
} core_dsse_result;

/* Verifies an envelope against the trusted keys. On CORE_DSSE_VERIFIED, *payload holds the
 * payload and signer_id the signing key's id. A malformed envelope is an error (-1);
 * otherwise the result says which check failed, and signer_id names a key seen. */
int core_dsse_verify(const void *envelope, size_t len, const char *want_payload_type,
                     const core_trusted_key *keys, size_t n_keys, core_buf *payload,
                     char signer_id[CORE_KEYID_LEN + 1], core_dsse_result *result, core_error **err);

#endif
