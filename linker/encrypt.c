/* The initramfs as an age v1 file, with the plaintext digest the signed manifest carries. */
#include "encrypt.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>

#include "oci.h"

int core_encrypt_blob(const core_encryption *enc, core_buf *blob, core_digest *plain, uint64_t *plain_size,
                      core_error **err) {
  core_buf cipher = CORE_BUF_INIT;
  *plain_size = blob->len;
  if (core_digest_bytes(blob->data, blob->len, plain, err) < 0 ||
      core_age_encrypt(blob->data, blob->len, enc->recipients, enc->n_recipients, enc->passphrase, enc->scrypt_log2_n,
                       &cipher, err) < 0) {
    core_buf_release(&cipher);
    return core_error_wrap(err, "encrypting the initramfs");
  }
  /* The plaintext leaves this process only inside the age file. */
  if (blob->data) OPENSSL_cleanse(blob->data, blob->len);
  core_buf_release(blob);
  *blob = cipher;
  return 0;
}

int core_encrypted_annotate(json_t *desc, const core_digest *plain, uint64_t plain_size, core_error **err) {
  json_t *ann = json_object_get(desc, "annotations");
  if (ann == NULL && (json_object_set_new(desc, "annotations", ann = json_object()) < 0 || ann == NULL))
    return core_error_set(err, ENOMEM, "building the manifest");
  char size[24];
  snprintf(size, sizeof size, "%" PRIu64, plain_size);
  if (json_object_set_new(ann, CORE_ANN_PLAINTEXT_DIGEST, json_string(plain->str)) < 0 ||
      json_object_set_new(ann, CORE_ANN_PLAINTEXT_SIZE, json_string(size)) < 0)
    return core_error_set(err, ENOMEM, "building the manifest");
  return 0;
}
