/* Ed25519 signing keys as ordinary PEM files, and the key ids that name them. */
#ifndef CORE_KEYS_H
#define CORE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct evp_pkey_st EVP_PKEY;

#define CORE_KEYID_LEN 64 /* hex SHA-256 of the DER SubjectPublicKeyInfo */

int core_key_generate(EVP_PKEY **out, core_error **err);
int core_key_load_private(const char *path, EVP_PKEY **out, core_error **err);
/* Accepts a public key PEM; a private key file is refused so secrets are not spread by accident. */
int core_key_load_public(const char *path, EVP_PKEY **out, core_error **err);
/* Writes PREFIX.key (0600) and PREFIX.pub atomically; refuses to overwrite unless force. */
int core_key_save_pair(EVP_PKEY *key, const char *prefix, int force, core_error **err);
int core_key_save_public(EVP_PKEY *key, const char *path, core_error **err);
int core_key_id(EVP_PKEY *key, char out[CORE_KEYID_LEN + 1], core_error **err);

int core_key_sign(EVP_PKEY *key, const void *msg, size_t len, uint8_t sig[64], core_error **err);
/* Returns 1 when the signature is valid, 0 when it is not, -1 on error. */
int core_key_verify(EVP_PKEY *key, const void *msg, size_t len, const uint8_t *sig, size_t sig_len, core_error **err);

void core_key_freep(EVP_PKEY **key);
#define cleanup_key __attribute__((cleanup(core_key_freep)))

#endif
