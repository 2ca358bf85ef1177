/* Ed25519 keys as ordinary PEM files, the key ids that name them, and verification: what
 * both sides share. Generating, saving and signing are the publisher's: linker/sign.h. */
#ifndef CORE_KEYS_H
#define CORE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct evp_pkey_st EVP_PKEY;
typedef struct bio_st BIO;
typedef struct evp_md_ctx_st EVP_MD_CTX;

#define CORE_KEYID_LEN 64 /* hex SHA-256 of the DER SubjectPublicKeyInfo */

/* Accepts a public key PEM; a private key file is refused so secrets are not spread by accident. */
int core_key_load_public(const char *path, EVP_PKEY **out, core_error **err);
int core_key_id(EVP_PKEY *key, char out[CORE_KEYID_LEN + 1], core_error **err);

/* Returns 1 when the signature is valid, 0 when it is not, -1 on error. */
int core_key_verify(EVP_PKEY *key, const void *msg, size_t len, const uint8_t *sig, size_t sig_len, core_error **err);

/* Fails unless key is Ed25519, naming path and the fix. */
int core_key_require_ed25519(EVP_PKEY *key, const char *path, core_error **err);

void core_key_freep(EVP_PKEY **key);
#define cleanup_key __attribute__((cleanup(core_key_freep)))
void core_bio_freep(BIO **b);
#define cleanup_bio __attribute__((cleanup(core_bio_freep)))
void core_md_ctx_freep(EVP_MD_CTX **c);
#define cleanup_md_ctx __attribute__((cleanup(core_md_ctx_freep)))

#endif
