/* The publisher's half of the keys: generating and saving a key pair, signing, and DSSE
 * envelopes. Only corec signs, so this is here and not in lib/ (corerun verifies: keys.h, dsse.h). */
#ifndef CORE_SIGN_H
#define CORE_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "keys.h"
#include "passphrase.h"

int core_key_generate(EVP_PKEY **out, core_error **err);


/* Supplies the passphrase of the encrypted key file PATH into BUF (SIZE bytes), NUL-terminated.
 * The programs decide where it comes from (a file, the terminal); the library only asks. */
typedef int (*core_passphrase_fn)(void *ctx, const char *path, char *buf, size_t size, core_error **err);

/* Loads a PEM Ed25519 private key. An encrypted one (PKCS#8 "ENCRYPTED PRIVATE KEY", as
 * 'openssl genpkey -aes256' and 'corec keygen --passphrase-file' write) is decrypted with the
 * passphrase ASK supplies, which is wiped after use; without ASK it is refused, saying so. */
int core_key_load_private_with(const char *path, core_passphrase_fn ask, void *ctx, EVP_PKEY **out, core_error **err);
int core_key_load_private(const char *path, EVP_PKEY **out, core_error **err);
/* Writes PREFIX.key (0600) and PREFIX.pub atomically; refuses to overwrite unless force. */
int core_key_save_pair(EVP_PKEY *key, const char *prefix, int force, core_error **err);
/* The same, the private key encrypted with PASSPHRASE (PKCS#8, AES-256-CBC, OpenSSL's default
 * key derivation) unless it is NULL. */
int core_key_save_pair_encrypted(EVP_PKEY *key, const char *prefix, int force, const char *passphrase, core_error **err);
int core_key_save_public(EVP_PKEY *key, const char *path, core_error **err);

int core_key_sign(EVP_PKEY *key, const void *msg, size_t len, uint8_t sig[64], core_error **err);

/* Signs and returns the envelope as canonical JSON (sorted keys, no spaces). */
int core_dsse_sign(EVP_PKEY *key, const char *payload_type, const void *payload, size_t len, core_buf *envelope,
                   core_error **err);

#endif
