/* Ed25519 public keys through OpenSSL: PEM files, key ids, verification. What only the
 * publisher does (generate, save, sign) is in linker/sign.c, so corerun does not carry it. */
#include "keys.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

#include "buf.h"
#include "cleanup.h"
#include "digest.h"
#include "fsutil.h"

void core_key_freep(EVP_PKEY **key) {
  EVP_PKEY_free(*key);
  *key = NULL;
}

void core_bio_freep(BIO **b) { BIO_free(*b); }

int core_key_require_ed25519(EVP_PKEY *key, const char *path, core_error **err) {
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519)
    return core_error_set(err, 0, "'%s' is not an Ed25519 key; make one with 'corec keygen'", path);
  return 0;
}

int core_key_load_public(const char *path, EVP_PKEY **out, core_error **err) {
  cleanup_buf core_buf pem = CORE_BUF_INIT;
  if (core_read_file(path, &pem, err) < 0) return core_error_wrap(err, "reading public key");
  if (strstr((const char *)pem.data, "PRIVATE KEY"))
    return core_error_set(err, 0, "'%s' holds a private key; trust the public half ('.pub') instead", path);
  cleanup_bio BIO *bio = BIO_new_mem_buf(pem.data, (int)pem.len);
  EVP_PKEY *key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
  if (key == NULL) {
    ERR_clear_error(); /* OpenSSL's decoder reason ("unsupported") does not help; the fix does */
    return core_error_set(err, 0,
                          "'%s' is not a PEM Ed25519 public key ('-----BEGIN PUBLIC KEY-----'); the publisher makes "
                          "one with 'corec keygen PREFIX' and shares PREFIX.pub", path);
  }
  if (core_key_require_ed25519(key, path, err) < 0) {
    EVP_PKEY_free(key);
    return -1;
  }
  *out = key;
  return 0;
}

int core_key_id(EVP_PKEY *key, char out[CORE_KEYID_LEN + 1], core_error **err) {
  unsigned char *der = NULL;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return core_error_openssl(err, "encoding a public key");
  core_digest d;
  int rc = core_digest_bytes(der, (size_t)len, &d, err);
  OPENSSL_free(der);
  if (rc < 0) return -1;
  memcpy(out, core_digest_hex(&d), CORE_KEYID_LEN + 1);
  return 0;
}

void core_md_ctx_freep(EVP_MD_CTX **c) { EVP_MD_CTX_free(*c); }

int core_key_verify(EVP_PKEY *key, const void *msg, size_t len, const uint8_t *sig, size_t sig_len, core_error **err) {
  cleanup_md_ctx EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (ctx == NULL || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) != 1)
    return core_error_openssl(err, "starting signature verification");
  int rc = EVP_DigestVerify(ctx, sig, sig_len, msg, len);
  ERR_clear_error(); /* a bad signature leaves a reason on the queue; it is not an error here */
  return rc == 1 ? 1 : 0;
}
