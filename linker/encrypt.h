/* Encryption at rest of an app's initramfs (spec/trust.md, "Encryption"): the blob becomes a
 * standard age v1 file, and its descriptor names the plaintext the launcher must get back. */
#ifndef CORE_ENCRYPT_H
#define CORE_ENCRYPT_H

#include <jansson.h>
#include <stdint.h>

#include "age.h"
#include "buf.h"
#include "digest.h"
#include "error.h"

/* To age X25519 recipients, or (alone, as age requires) to a passphrase. */
typedef struct core_encryption {
  const core_age_recipient *recipients;
  size_t n_recipients;
  const char *passphrase; /* NULL unless encrypting to a passphrase */
  int scrypt_log2_n;      /* the passphrase's work factor; 0: age's default */
} core_encryption;

/* Replaces the blob in *FD (the plaintext, SIZE bytes with digest DIGEST, from offset 0) by
 * its age encryption, streamed into a new unlinked temporary file: *FD, *DIGEST and *SIZE
 * become the ciphertext's, *PLAIN and *PLAIN_SIZE get the plaintext's. The plaintext's file
 * is truncated before it is closed. */
int core_encrypt_fd(const core_encryption *enc, int *fd, core_digest *digest, uint64_t *size, core_digest *plain,
                    uint64_t *plain_size, core_error **err);

/* Adds the plaintext's digest and size to DESC's annotations (created if missing). */
int core_encrypted_annotate(json_t *desc, const core_digest *plain, uint64_t plain_size, core_error **err);

#endif
