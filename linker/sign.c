/* Ed25519 key generation, private key files and signatures through OpenSSL; DSSE signing. */
#include "sign.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "cleanup.h"
#include "dsse.h"
#include "fsutil.h"
#include "json.h"

int core_key_generate(EVP_PKEY **out, core_error **err) {
  EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  if (key == NULL) return core_error_openssl(err, "generating an Ed25519 key");
  *out = key;
  return 0;
}

/* Whether a PEM holds an encrypted private key: PKCS#8's own label, or the legacy
 * per-algorithm form with its Proc-Type header. */
static int pem_is_encrypted(const core_buf *pem) {
  return strstr((const char *)pem->data, "BEGIN ENCRYPTED PRIVATE KEY") != NULL ||
         strstr((const char *)pem->data, "Proc-Type: 4,ENCRYPTED") != NULL;
}

static void wipe_buf(core_buf *b) {
  if (b->data) OPENSSL_cleanse(b->data, b->len);
  core_buf_release(b);
}
#define cleanup_wipe_buf __attribute__((cleanup(wipe_buf)))

/* Decodes an encrypted PEM with the passphrase ASK gives; the passphrase never outlives this. */
static int decrypt_pem(BIO *bio, const char *path, core_passphrase_fn ask, void *ctx, EVP_PKEY **out, core_error **err) {
  if (ask == NULL)
    return core_error_set(err, 0, "'%s' is encrypted and no passphrase was given (--sign-passphrase-file FILE)", path);
  char pass[CORE_PASSPHRASE_MAX + 1];
  if (ask(ctx, path, pass, sizeof pass, err) < 0) {
    OPENSSL_cleanse(pass, sizeof pass);
    return -1;
  }
  /* With no callback, OpenSSL takes the last argument as the NUL-terminated passphrase. */
  *out = PEM_read_bio_PrivateKey(bio, NULL, NULL, pass);
  OPENSSL_cleanse(pass, sizeof pass);
  if (*out == NULL) {
    ERR_clear_error(); /* "bad decrypt" and its like: the fix is the passphrase */
    return core_error_set(err, 0, "cannot decrypt '%s': wrong passphrase (or the key file is damaged)", path);
  }
  return 0;
}

int core_key_load_private_with(const char *path, core_passphrase_fn ask, void *ctx, EVP_PKEY **out, core_error **err) {
  cleanup_wipe_buf core_buf pem = CORE_BUF_INIT;
  if (core_read_file(path, &pem, err) < 0) return core_error_wrap(err, "reading signing key");
  cleanup_bio BIO *bio = BIO_new_mem_buf(pem.data, (int)pem.len);
  if (bio == NULL) return core_error_openssl(err, "reading '%s'", path);
  EVP_PKEY *key = NULL;
  if (pem_is_encrypted(&pem)) {
    if (decrypt_pem(bio, path, ask, ctx, &key, err) < 0) return -1;
  } else if ((key = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"")) == NULL) {
    /* An empty passphrase, not NULL: OpenSSL must never prompt on its own terminal. */
    ERR_clear_error(); /* OpenSSL's decoder reason ("unsupported") does not help; the fix does */
    if (strstr((const char *)pem.data, "BEGIN PUBLIC KEY"))
      return core_error_set(err, 0, "'%s' is a public key; sign with its private half (the '.key' file 'corec keygen' made)",
                            path);
    return core_error_set(err, 0,
                          "'%s' is not a PEM Ed25519 private key ('-----BEGIN PRIVATE KEY-----'); make a key pair "
                          "with 'corec keygen PREFIX' and pass PREFIX.key", path);
  }
  if (core_key_require_ed25519(key, path, err) < 0) {
    EVP_PKEY_free(key);
    return -1;
  }
  *out = key;
  return 0;
}

int core_key_load_private(const char *path, EVP_PKEY **out, core_error **err) {
  return core_key_load_private_with(path, NULL, NULL, out, err);
}

typedef int (*pem_writer)(BIO *, EVP_PKEY *, const char *passphrase);
static int write_private_pem(BIO *b, EVP_PKEY *k, const char *passphrase) {
  if (passphrase == NULL) return PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
  /* PKCS#8 encryption: OpenSSL derives the AES key from the passphrase with its default KDF. */
  return PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_256_cbc(), passphrase, (int)strlen(passphrase), NULL, NULL);
}
static int write_public_pem(BIO *b, EVP_PKEY *k, const char *passphrase) {
  (void)passphrase;
  return PEM_write_bio_PUBKEY(b, k);
}

static int save_pem(EVP_PKEY *key, const char *path, mode_t mode, pem_writer writer, const char *passphrase,
                    core_error **err) {
  cleanup_bio BIO *bio = BIO_new(BIO_s_mem());
  if (bio == NULL || writer(bio, key, passphrase) != 1) return core_error_openssl(err, "encoding '%s'", path);
  char *data = NULL;
  long len = BIO_get_mem_data(bio, &data);
  int rc = core_write_file_atomic(path, data, (size_t)len, mode, err);
  OPENSSL_cleanse(data, (size_t)len); /* a plain private key must not linger in freed memory */
  return rc;
}

int core_key_save_public(EVP_PKEY *key, const char *path, core_error **err) {
  return save_pem(key, path, 0644, write_public_pem, NULL, err);
}

int core_key_save_pair(EVP_PKEY *key, const char *prefix, int force, core_error **err) {
  return core_key_save_pair_encrypted(key, prefix, force, NULL, err);
}

int core_key_save_pair_encrypted(EVP_PKEY *key, const char *prefix, int force, const char *passphrase, core_error **err) {
  cleanup_free char *priv = NULL;
  cleanup_free char *pub = NULL;
  if (asprintf(&priv, "%s.key", prefix) < 0 || asprintf(&pub, "%s.pub", prefix) < 0)
    return core_error_set(err, ENOMEM, "allocating a path");
  if (!force && (access(priv, F_OK) == 0 || access(pub, F_OK) == 0))
    return core_error_set(err, 0, "'%s' already exists; pass --force to replace it (signatures made with it will no longer verify against a new key)", priv);
  cleanup_free char *dir = core_path_dirname(priv);
  if (dir == NULL || core_mkdir_p(dir, 0700, err) < 0) return -1;
  if (save_pem(key, priv, 0600, write_private_pem, passphrase, err) < 0) return -1;
  return save_pem(key, pub, 0644, write_public_pem, NULL, err);
}

int core_key_sign(EVP_PKEY *key, const void *msg, size_t len, uint8_t sig[64], core_error **err) {
  cleanup_md_ctx EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  size_t sig_len = 64;
  /* Ed25519 hashes internally (PureEdDSA): no digest is named, the whole message is signed. */
  if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 ||
      EVP_DigestSign(ctx, sig, &sig_len, msg, len) != 1 || sig_len != 64)
    return core_error_openssl(err, "signing");
  return 0;
}

int core_dsse_sign(EVP_PKEY *key, const char *payload_type, const void *payload, size_t len, core_buf *envelope,
                   core_error **err) {
  cleanup_buf core_buf pae = CORE_BUF_INIT;
  uint8_t sig[64];
  char keyid[CORE_KEYID_LEN + 1];
  if (core_dsse_pae(payload_type, payload, len, &pae, err) < 0 || core_key_sign(key, pae.data, pae.len, sig, err) < 0 ||
      core_key_id(key, keyid, err) < 0)
    return -1;
  cleanup_free char *payload_b64 = NULL;
  cleanup_free char *sig_b64 = NULL;
  if (core_base64_encode(payload, len, &payload_b64, err) < 0 || core_base64_encode(sig, sizeof sig, &sig_b64, err) < 0)
    return -1;
  cleanup_json json_t *env = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "payloadType", payload_type, "payload",
                                       payload_b64, "signatures", "keyid", keyid, "sig", sig_b64);
  if (env == NULL) return core_error_set(err, ENOMEM, "building a DSSE envelope");
  return core_json_dump(env, envelope, err);
}
