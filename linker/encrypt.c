/* The initramfs as an age v1 file, with the plaintext digest the signed manifest carries. */
#include "encrypt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "cleanup.h"
#include "oci.h"
#include "spool.h"

int core_encrypt_fd(const core_encryption *enc, int *fd, core_digest *digest, uint64_t *size, core_digest *plain,
                    uint64_t *plain_size, core_error **err) {
  cleanup_close int out = -1;
  cleanup_hasher core_hasher *hash = NULL;
  core_digest d;
  if (core_tmpfile_open(&out, "the encrypted initramfs", err) < 0 || core_hasher_new(&hash, err) < 0 ||
      core_age_encrypt_fd(*fd, *size, enc->recipients, enc->n_recipients, enc->passphrase, enc->scrypt_log2_n, out, hash,
                          err) < 0 ||
      core_hasher_final(hash, &d, err) < 0)
    return core_error_wrap(err, "encrypting the initramfs");
  off_t end = lseek(out, 0, SEEK_CUR);
  if (end < 0) return core_error_set(err, errno, "encrypting the initramfs");
  /* The plaintext leaves this process only inside the age file: its file goes now. */
  if (ftruncate(*fd, 0) < 0) return core_error_set(err, errno, "discarding the plaintext initramfs");
  close(*fd);
  *fd = TAKE_FD(out);
  *plain = *digest;
  *plain_size = *size;
  *digest = d;
  *size = (uint64_t)end;
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
