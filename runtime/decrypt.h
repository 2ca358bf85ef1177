/* Decrypting a verified artifact's initramfs (spec/trust.md, "Encryption"): only after its
 * signature, blob digests and policy passed, into a sealed memfd, checked against the signed
 * plaintext digest. Nothing of a failed decryption is kept. */
#ifndef CORE_DECRYPT_H
#define CORE_DECRYPT_H

#include "age.h"
#include "error.h"
#include "passphrase.h"
#include "tim_verify.h"

/* What corerun was given to decrypt with. */
typedef struct core_decrypt_keys {
  core_age_identity *ids; /* from every --identity file (and CORE_IDENTITY_FILE) */
  size_t n_ids;
  const char *passphrase_file; /* --passphrase-file, or NULL */
  char passphrase[CORE_PASSPHRASE_MAX + 1];
  int have_passphrase;
} core_decrypt_keys;

/* Adds the identities of one age identity file (as age-keygen writes it). */
int core_decrypt_keys_add_file(core_decrypt_keys *k, const char *path, core_error **err);
void core_decrypt_keys_release(core_decrypt_keys *k);
#define cleanup_decrypt_keys __attribute__((cleanup(core_decrypt_keys_release)))
int core_decrypt_keys_given(const core_decrypt_keys *k);

/* With APP encrypted: decrypts its initramfs with K (asking for a passphrase on the terminal
 * when the file is passphrase-encrypted and none was given) and points app->initramfs at the
 * checked, sealed plaintext. PATH names the artifact in messages. A clear app is left alone. */
int core_app_decrypt(core_verified_app *app, const char *path, core_decrypt_keys *k, core_error **err);

#endif
