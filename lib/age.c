/* age v1 encryption and streaming decryption (age spec: "File key", "Header", "Payload",
 * "X25519 recipient stanza", "scrypt recipient stanza"). Cryptography is OpenSSL's; this file
 * composes it as the spec says and refuses anything the spec does not allow. */
#include "age.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "age_internal.h"
#include "cleanup.h"
#include "fsutil.h"

#define X25519_INFO "age-encryption.org/v1/X25519"
#define SCRYPT_LABEL "age-encryption.org/v1/scrypt"
#define SCRYPT_SALT_LEN 16

/* ---- OpenSSL primitives ---- */

static void kdf_ctx_freep(EVP_KDF_CTX **c) { EVP_KDF_CTX_free(*c); }
static void cipher_ctx_freep(EVP_CIPHER_CTX **c) { EVP_CIPHER_CTX_free(*c); }
static void pkey_freep(EVP_PKEY **k) { EVP_PKEY_free(*k); }
static void pkey_ctx_freep(EVP_PKEY_CTX **c) { EVP_PKEY_CTX_free(*c); }

int age_hkdf(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len, const char *info,
             uint8_t *out, size_t out_len, core_error **err) {
  EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
  __attribute__((cleanup(kdf_ctx_freep))) EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
  EVP_KDF_free(kdf);
  if (ctx == NULL) return core_error_openssl(err, "HKDF unavailable");
  OSSL_PARAM params[5], *p = params;
  *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
  *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
  /* An empty salt is HKDF's default (a hash-length block of zeros), which is what age means. */
  if (salt_len) *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
  *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
  *p = OSSL_PARAM_construct_end();
  if (EVP_KDF_derive(ctx, out, out_len, params) != 1) return core_error_openssl(err, "HKDF-SHA-256");
  return 0;
}

int age_hmac(const uint8_t key[32], const void *msg, size_t len, uint8_t out[32], core_error **err) {
  unsigned int n = 0;
  if (HMAC(EVP_sha256(), key, 32, msg, len, out, &n) == NULL || n != 32) return core_error_openssl(err, "HMAC-SHA-256");
  return 0;
}

static int aead(int enc, const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                const uint8_t *in, size_t len, uint8_t *out, core_error **err) {
  __attribute__((cleanup(cipher_ctx_freep))) EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  size_t body = enc ? len : len - AGE_TAG;
  int n = 0;
  int aad_n = 0;
  /* age itself uses no associated data; the RFC 8439 vectors test the same path with some. */
  if (ctx == NULL || EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), NULL, key, nonce, enc) != 1 ||
      (aad_len && EVP_CipherUpdate(ctx, NULL, &aad_n, aad, (int)aad_len) != 1) ||
      (body && EVP_CipherUpdate(ctx, out, &n, in, (int)body) != 1))
    return core_error_openssl(err, "ChaCha20-Poly1305");
  if (enc) {
    if (EVP_CipherFinal_ex(ctx, out + n, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, AGE_TAG, out + len) != 1)
      return core_error_openssl(err, "ChaCha20-Poly1305");
    return 1;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, AGE_TAG, (void *)(in + body)) != 1)
    return core_error_openssl(err, "ChaCha20-Poly1305");
  if (EVP_CipherFinal_ex(ctx, out + n, &n) != 1) {
    ERR_clear_error(); /* a forged or wrong-key ciphertext is an answer, not an error */
    OPENSSL_cleanse(out, body); /* unauthenticated plaintext must not linger */
    return 0;
  }
  return 1;
}

int age_aead_seal_ad(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                     const uint8_t *in, size_t len, uint8_t *out, core_error **err) {
  return aead(1, key, nonce, aad, aad_len, in, len, out, err) < 0 ? -1 : 0;
}

int age_aead_open_ad(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                     const uint8_t *in, size_t len, uint8_t *out, core_error **err) {
  if (len < AGE_TAG) return 0;
  return aead(0, key, nonce, aad, aad_len, in, len, out, err);
}

int age_aead_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in, size_t len, uint8_t *out,
                  core_error **err) {
  return age_aead_seal_ad(key, nonce, NULL, 0, in, len, out, err);
}

int age_aead_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in, size_t len, uint8_t *out,
                  core_error **err) {
  return age_aead_open_ad(key, nonce, NULL, 0, in, len, out, err);
}

int age_x25519(const uint8_t secret[32], const uint8_t peer[32], uint8_t out[32], core_error **err) {
  __attribute__((cleanup(pkey_freep))) EVP_PKEY *priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, secret, 32);
  __attribute__((cleanup(pkey_freep))) EVP_PKEY *pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, 32);
  if (priv == NULL || pub == NULL) return core_error_openssl(err, "X25519 key");
  __attribute__((cleanup(pkey_ctx_freep))) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(priv, NULL);
  size_t n = 32;
  if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, pub) != 1 ||
      EVP_PKEY_derive(ctx, out, &n) != 1 || n != 32) {
    /* OpenSSL refuses a low-order peer (all-zero result), which age requires refusing too. */
    ERR_clear_error();
    return core_error_set(err, 0, "X25519 with a low-order or invalid public key");
  }
  static const uint8_t zero[32];
  if (CRYPTO_memcmp(out, zero, 32) == 0) return core_error_set(err, 0, "X25519 shared secret is all zeros");
  return 0;
}

int age_x25519_public(const uint8_t secret[32], uint8_t out[32], core_error **err) {
  __attribute__((cleanup(pkey_freep))) EVP_PKEY *priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, secret, 32);
  size_t n = 32;
  if (priv == NULL || EVP_PKEY_get_raw_public_key(priv, out, &n) != 1 || n != 32)
    return core_error_openssl(err, "X25519 public key");
  return 0;
}

static int scrypt_key(const char *pass, const uint8_t salt[SCRYPT_SALT_LEN], int log2_n, uint8_t out[32],
                      core_error **err) {
  uint8_t full[sizeof SCRYPT_LABEL - 1 + SCRYPT_SALT_LEN];
  memcpy(full, SCRYPT_LABEL, sizeof SCRYPT_LABEL - 1);
  memcpy(full + sizeof SCRYPT_LABEL - 1, salt, SCRYPT_SALT_LEN);
  uint64_t n = (uint64_t)1 << log2_n;
  /* scrypt needs 128 * r * N bytes (r = 8) plus a little; OpenSSL's default cap is 32 MiB. */
  uint64_t maxmem = 128 * 8 * n + (1 << 20);
  if (EVP_PBE_scrypt(pass, strlen(pass), full, sizeof full, n, 8, 1, maxmem, out, 32) != 1)
    return core_error_openssl(err, "scrypt with work factor 2^%d", log2_n);
  return 0;
}

/* ---- encryption ---- */

static int write_x25519_stanza(core_buf *out, const core_age_recipient *r, const uint8_t file_key[16],
                               core_error **err) {
  uint8_t eph[32], share[32], shared[32], salt[64], wrap[32], body[32];
  int rc = -1;
  if (RAND_bytes(eph, sizeof eph) != 1) {
    core_error_openssl(err, "random ephemeral key");
    goto out;
  }
  if (age_x25519_public(eph, share, err) < 0 || age_x25519(eph, r->x25519, shared, err) < 0) goto out;
  memcpy(salt, share, 32);
  memcpy(salt + 32, r->x25519, 32);
  static const uint8_t zero_nonce[12];
  if (age_hkdf(salt, 64, shared, 32, X25519_INFO, wrap, 32, err) < 0 ||
      age_aead_seal(wrap, zero_nonce, file_key, AGE_FILE_KEY_LEN, body, err) < 0)
    goto out;
  char share_b64[44];
  age_b64_encode(share, 32, share_b64);
  share_b64[43] = 0;
  const char *args[] = {"X25519", share_b64};
  rc = age_stanza_write(out, args, 2, body, sizeof body, err);
out:
  OPENSSL_cleanse(eph, sizeof eph);
  OPENSSL_cleanse(shared, sizeof shared);
  OPENSSL_cleanse(wrap, sizeof wrap);
  return rc;
}

static int write_scrypt_stanza(core_buf *out, const char *pass, int log2_n, const uint8_t file_key[16],
                               core_error **err) {
  uint8_t salt[SCRYPT_SALT_LEN], wrap[32], body[32];
  static const uint8_t zero_nonce[12];
  if (RAND_bytes(salt, sizeof salt) != 1) return core_error_openssl(err, "random scrypt salt");
  int rc = -1;
  if (scrypt_key(pass, salt, log2_n, wrap, err) < 0 ||
      age_aead_seal(wrap, zero_nonce, file_key, AGE_FILE_KEY_LEN, body, err) < 0)
    goto out;
  char salt_b64[23], n_text[4];
  age_b64_encode(salt, sizeof salt, salt_b64);
  salt_b64[22] = 0;
  snprintf(n_text, sizeof n_text, "%d", log2_n);
  const char *args[] = {"scrypt", salt_b64, n_text};
  rc = age_stanza_write(out, args, 3, body, sizeof body, err);
out:
  OPENSSL_cleanse(wrap, sizeof wrap);
  return rc;
}

static void stream_nonce(uint64_t counter, int last, uint8_t nonce[12]) {
  /* 11-byte big-endian chunk counter, then the last-chunk flag (spec, "Payload"). */
  memset(nonce, 0, 12);
  for (int i = 0; i < 8; i++) nonce[10 - i] = (uint8_t)(counter >> (8 * i));
  nonce[11] = last ? 1 : 0;
}

static int write_payload(core_buf *out, const uint8_t file_key[16], const uint8_t *plain, size_t len,
                         core_error **err) {
  uint8_t nonce[AGE_NONCE_LEN], key[32], cn[12];
  if (RAND_bytes(nonce, sizeof nonce) != 1) return core_error_openssl(err, "random payload nonce");
  if (core_buf_append(out, nonce, sizeof nonce, err) < 0 ||
      age_hkdf(nonce, sizeof nonce, file_key, AGE_FILE_KEY_LEN, "payload", key, 32, err) < 0)
    return -1;
  size_t chunks = len ? (len + AGE_CHUNK - 1) / AGE_CHUNK : 1; /* empty plaintext: one empty last chunk */
  if (core_buf_reserve(out, len + chunks * AGE_TAG, err) < 0) goto fail;
  for (size_t i = 0; i < chunks; i++) {
    size_t off = i * AGE_CHUNK, n = len - off < AGE_CHUNK ? len - off : AGE_CHUNK;
    stream_nonce(i, i + 1 == chunks, cn);
    if (age_aead_seal(key, cn, plain + off, n, out->data + out->len, err) < 0) goto fail;
    out->len += n + AGE_TAG;
  }
  OPENSSL_cleanse(key, sizeof key);
  return 0;
fail:
  OPENSSL_cleanse(key, sizeof key);
  return -1;
}

static int header_mac(const uint8_t file_key[16], const void *header, size_t len, uint8_t mac[32], core_error **err) {
  uint8_t key[32];
  int rc = age_hkdf(NULL, 0, file_key, AGE_FILE_KEY_LEN, "header", key, 32, err);
  if (rc == 0) rc = age_hmac(key, header, len, mac, err);
  OPENSSL_cleanse(key, sizeof key);
  return rc;
}

/* The header: version line, one stanza per recipient (or the passphrase's), MAC line. */
static int write_header(core_buf *out, const core_age_recipient *r, size_t n_r, const char *passphrase, int log2_n,
                        const uint8_t file_key[16], core_error **err) {
  if (core_buf_append(out, AGE_VERSION_LINE "\n", sizeof AGE_VERSION_LINE, err) < 0) return -1;
  for (size_t i = 0; i < n_r; i++)
    if (write_x25519_stanza(out, &r[i], file_key, err) < 0) return -1;
  if (passphrase && write_scrypt_stanza(out, passphrase, log2_n, file_key, err) < 0) return -1;
  if (core_buf_append(out, "---", 3, err) < 0) return -1;
  uint8_t mac[32];
  char line[1 + 43 + 1 + 1];
  if (header_mac(file_key, out->data, out->len, mac, err) < 0) return -1;
  line[0] = ' ';
  age_b64_encode(mac, 32, line + 1);
  line[44] = '\n';
  return core_buf_append(out, line, 45, err);
}

static int encrypt_into(core_buf *out, const void *plain, size_t len, const core_age_recipient *r, size_t n_r,
                        const char *passphrase, int log2_n, const uint8_t file_key[16], core_error **err) {
  if (write_header(out, r, n_r, passphrase, log2_n, file_key, err) < 0) return -1;
  return write_payload(out, file_key, plain, len, err);
}

static int check_encrypt_args(const core_age_recipient *r, size_t n_r, const char *passphrase, int *scrypt_log2_n,
                              core_error **err) {
  (void)r;
  if (passphrase && n_r)
    return core_error_set(err, 0, "age: encrypt to recipients or to a passphrase, not both (age allows a "
                                  "passphrase stanza only alone)");
  if (!passphrase && n_r == 0) return core_error_set(err, 0, "age: no recipient and no passphrase to encrypt to");
  if (passphrase && *passphrase == 0) return core_error_set(err, 0, "age: empty passphrase");
  if (*scrypt_log2_n == 0) *scrypt_log2_n = CORE_AGE_DEFAULT_SCRYPT_LOG2_N;
  if (passphrase && (*scrypt_log2_n < 1 || *scrypt_log2_n > CORE_AGE_MAX_SCRYPT_LOG2_N))
    return core_error_set(err, 0, "age: scrypt work factor 2^%d out of range (1..%d)", *scrypt_log2_n,
                          CORE_AGE_MAX_SCRYPT_LOG2_N);
  return 0;
}

/* Writes and hashes (when hash is not NULL) bytes of the age file. */
static int emit(int fd, core_hasher *hash, const void *data, size_t len, core_error **err) {
  if (core_write_all(fd, data, len, err) < 0) return -1;
  return hash ? core_hasher_update(hash, data, len, err) : 0;
}

/* The payload, a chunk at a time: each read from in_fd, sealed, written. */
static int stream_payload(int in_fd, uint64_t len, const uint8_t file_key[16], int out_fd, core_hasher *hash,
                          core_error **err) {
  uint8_t nonce[AGE_NONCE_LEN], key[32], cn[12];
  if (RAND_bytes(nonce, sizeof nonce) != 1) return core_error_openssl(err, "random payload nonce");
  if (emit(out_fd, hash, nonce, sizeof nonce, err) < 0 ||
      age_hkdf(nonce, sizeof nonce, file_key, AGE_FILE_KEY_LEN, "payload", key, 32, err) < 0)
    return -1;
  int rc = -1;
  uint8_t *plain = malloc(AGE_CHUNK), *sealed = malloc(AGE_CHUNK + AGE_TAG);
  if (plain == NULL || sealed == NULL) {
    core_error_set(err, ENOMEM, "allocating");
    goto out;
  }
  uint64_t chunks = len ? (len + AGE_CHUNK - 1) / AGE_CHUNK : 1; /* empty plaintext: one empty last chunk */
  for (uint64_t i = 0; i < chunks; i++) {
    uint64_t off = i * AGE_CHUNK;
    size_t n = len - off < AGE_CHUNK ? (size_t)(len - off) : AGE_CHUNK;
    stream_nonce(i, i + 1 == chunks, cn);
    if ((n && core_pread_exact(in_fd, plain, n, off, "the plaintext", err) < 0) ||
        age_aead_seal(key, cn, plain, n, sealed, err) < 0 || emit(out_fd, hash, sealed, n + AGE_TAG, err) < 0)
      goto out;
  }
  rc = 0;
out:
  if (plain) OPENSSL_cleanse(plain, AGE_CHUNK);
  free(plain);
  free(sealed);
  OPENSSL_cleanse(key, sizeof key);
  return rc;
}

int core_age_encrypt_fd(int in_fd, uint64_t len, const core_age_recipient *r, size_t n_r, const char *passphrase,
                        int scrypt_log2_n, int out_fd, core_hasher *out_hash, core_error **err) {
  if (check_encrypt_args(r, n_r, passphrase, &scrypt_log2_n, err) < 0) return -1;
  uint8_t file_key[AGE_FILE_KEY_LEN];
  if (RAND_bytes(file_key, sizeof file_key) != 1) return core_error_openssl(err, "age: random file key");
  cleanup_buf core_buf header = CORE_BUF_INIT;
  int rc = write_header(&header, r, n_r, passphrase, scrypt_log2_n, file_key, err);
  if (rc == 0) rc = emit(out_fd, out_hash, header.data, header.len, err);
  if (rc == 0) rc = stream_payload(in_fd, len, file_key, out_fd, out_hash, err);
  OPENSSL_cleanse(file_key, sizeof file_key);
  return rc < 0 ? core_error_wrap(err, "age encryption") : 0;
}

int core_age_encrypt(const void *plain, size_t len, const core_age_recipient *r, size_t n_r, const char *passphrase,
                     int scrypt_log2_n, core_buf *out, core_error **err) {
  if (check_encrypt_args(r, n_r, passphrase, &scrypt_log2_n, err) < 0) return -1;
  uint8_t file_key[AGE_FILE_KEY_LEN];
  if (RAND_bytes(file_key, sizeof file_key) != 1) return core_error_openssl(err, "age: random file key");
  /* Written into a buffer of our own, so OUT is untouched on failure. */
  core_buf b = CORE_BUF_INIT;
  int rc = encrypt_into(&b, plain, len, r, n_r, passphrase, scrypt_log2_n, file_key, err);
  OPENSSL_cleanse(file_key, sizeof file_key);
  if (rc == 0) rc = core_buf_append(out, b.data, b.len, err);
  core_buf_release(&b);
  return rc < 0 ? core_error_wrap(err, "age encryption") : 0;
}

/* ---- decryption ---- */

static int is_type(const age_stanza *s, const char *type) { return strcmp(s->args[0], type) == 0; }

/* Stanzas of the types we know must have exactly the spec's shape; others are skipped. */
static int check_stanzas(const age_header *h, size_t *n_x25519, size_t *n_scrypt, core_error **err) {
  *n_x25519 = *n_scrypt = 0;
  for (size_t i = 0; i < h->n_stanzas; i++) {
    const age_stanza *s = &h->stanzas[i];
    uint8_t tmp[32];
    if (is_type(s, "X25519")) {
      if (s->n_args != 2 || strlen(s->args[1]) != 43 || age_b64_decode(s->args[1], 43, tmp, 32) != 32 ||
          s->body_len != 32)
        return core_error_set(err, 0, "malformed X25519 stanza (want one 32-byte share and a 32-byte body)");
      (*n_x25519)++;
    } else if (is_type(s, "scrypt")) {
      if (s->n_args != 3 || strlen(s->args[1]) != 22 || age_b64_decode(s->args[1], 22, tmp, 16) != 16 ||
          s->body_len != 32)
        return core_error_set(err, 0, "malformed scrypt stanza (want a 16-byte salt, a work factor and a 32-byte body)");
      (*n_scrypt)++;
    }
  }
  if (*n_scrypt && h->n_stanzas != 1)
    return core_error_set(err, 0, "an scrypt stanza must be the only stanza in the header (age spec); this file "
                                  "mixes it with %zu others: refused", h->n_stanzas - 1);
  return 0;
}

/* log2(N) as the spec writes it: a decimal without leading zeros. */
static int parse_log2_n(const char *s, int *out) {
  if (s[0] < '1' || s[0] > '9' || strlen(s) > 2) return -1;
  int v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9') return -1;
    v = v * 10 + (*p - '0');
  }
  *out = v;
  return 0;
}

static int unwrap_scrypt(const age_stanza *s, const char *pass, int max_log2_n, uint8_t file_key[16],
                         core_error **err) {
  int log2_n;
  if (parse_log2_n(s->args[2], &log2_n) < 0)
    return core_error_set(err, 0, "malformed scrypt stanza: work factor '%.8s' is not a decimal without leading zeros",
                          s->args[2]);
  if (pass == NULL)
    return core_error_set(err, 0, "this file is encrypted with a passphrase: pass the passphrase it was encrypted with");
  if (log2_n > max_log2_n)
    return core_error_set(err, 0, "the passphrase stanza demands scrypt work factor 2^%d, over the limit 2^%d: refused "
                                  "(raise the limit only for a file from a trusted source)", log2_n, max_log2_n);
  uint8_t salt[16], wrap[32];
  static const uint8_t zero_nonce[12];
  age_b64_decode(s->args[1], 22, salt, sizeof salt);
  if (scrypt_key(pass, salt, log2_n, wrap, err) < 0) return -1;
  uint8_t key[32];
  int rc = age_aead_open(wrap, zero_nonce, s->body, 32, key, err);
  OPENSSL_cleanse(wrap, sizeof wrap);
  if (rc == 1) memcpy(file_key, key, AGE_FILE_KEY_LEN);
  OPENSSL_cleanse(key, sizeof key);
  if (rc == 0) return core_error_set(err, 0, "wrong passphrase: it does not open this file");
  return rc < 0 ? -1 : 0;
}

/* 1: this identity opened this stanza; 0: not for it; -1: error. */
static int try_x25519(const age_stanza *s, const core_age_identity *id, uint8_t file_key[16], core_error **err) {
  uint8_t share[32], salt[64], shared[32], wrap[32], key[32];
  static const uint8_t zero_nonce[12];
  age_b64_decode(s->args[1], 43, share, sizeof share);
  memcpy(salt, share, 32);
  int rc = -1;
  if (age_x25519_public(id->secret, salt + 32, err) < 0) goto out;
  if (age_x25519(id->secret, share, shared, err) < 0) {
    core_error_wrap(err, "X25519 stanza");
    goto out;
  }
  if (age_hkdf(salt, 64, shared, 32, X25519_INFO, wrap, 32, err) < 0) goto out;
  rc = age_aead_open(wrap, zero_nonce, s->body, 32, key, err);
  if (rc == 1) memcpy(file_key, key, AGE_FILE_KEY_LEN);
out:
  OPENSSL_cleanse(shared, sizeof shared);
  OPENSSL_cleanse(wrap, sizeof wrap);
  OPENSSL_cleanse(key, sizeof key);
  return rc;
}

static int unwrap_file_key(const age_header *h, const core_age_identity *ids, size_t n_ids, const char *pass,
                           int max_log2_n, uint8_t file_key[16], core_error **err) {
  size_t n_x, n_s;
  if (check_stanzas(h, &n_x, &n_s, err) < 0) return -1;
  if (n_s) return unwrap_scrypt(&h->stanzas[0], pass, max_log2_n, file_key, err);
  if (n_x == 0)
    return core_error_set(err, 0, "no stanza of a type this reader knows (X25519, scrypt); the first is '%.40s': "
                                  "encrypt to an age1... recipient or a passphrase", h->stanzas[0].args[0]);
  if (n_ids == 0)
    return core_error_set(err, 0, "this file is encrypted to age recipients%s: pass the age identity file "
                                  "(AGE-SECRET-KEY-1...) it was encrypted to",
                          pass ? ", not a passphrase" : "");
  for (size_t i = 0; i < n_ids; i++)
    for (size_t j = 0; j < h->n_stanzas; j++) {
      if (!is_type(&h->stanzas[j], "X25519")) continue;
      int rc = try_x25519(&h->stanzas[j], &ids[i], file_key, err);
      if (rc != 0) return rc < 0 ? -1 : 0;
    }
  return core_error_set(err, 0, "no identity matches: pass the age identity file the artifact was encrypted to "
                                "(%zu identit%s tried against %zu recipient stanza%s)",
                        n_ids, n_ids == 1 ? "y" : "ies", n_x, n_x == 1 ? "" : "s");
}

/* The payload, one authenticated chunk at a time (core_age_reader). */
struct core_age_reader {
  int in_fd;
  uint64_t size, pos;   /* the file's size; where the next chunk starts */
  uint64_t counter;     /* the next chunk's number */
  uint64_t consumed;    /* plaintext bytes handed out */
  int done;             /* the chunk marked last was read */
  size_t avail, off;    /* plaintext in pbuf, and how much of it was handed out */
  uint8_t key[32];
  uint8_t *cbuf, *pbuf; /* one sealed chunk, one plain chunk */
};

/* Decides what the chunk at the current position is and refuses each way it can be wrong
 * with its own message; on success pbuf holds its plaintext. -1 on error. */
static int read_chunk(core_age_reader *r, core_error **err) {
  uint64_t counter = r->counter, remaining = r->size - r->pos;
  if (remaining == 0)
    return core_error_set(err, 0, "truncated age file: it ends after chunk %llu, which is not marked last (the file "
                                  "was cut short; fetch it again)", (unsigned long long)counter - 1);
  if (remaining < AGE_TAG)
    return core_error_set(err, 0, "truncated age file: chunk %llu has %llu of at least %d bytes",
                          (unsigned long long)counter, (unsigned long long)remaining, AGE_TAG);
  int last = remaining <= AGE_CHUNK + AGE_TAG;
  size_t n = last ? (size_t)remaining : AGE_CHUNK + AGE_TAG;
  if (last && n == AGE_TAG && counter > 0)
    return core_error_set(err, 0, "age payload ends with an empty chunk after %llu others (the spec allows an empty "
                                  "last chunk only alone): refused", (unsigned long long)counter);
  if (core_pread_exact(r->in_fd, r->cbuf, n, r->pos, "age payload chunk", err) < 0) return -1;
  uint8_t nonce[12];
  stream_nonce(counter, last, nonce);
  int rc = age_aead_open(r->key, nonce, r->cbuf, n, r->pbuf, err);
  if (rc < 0) return -1;
  if (rc == 0) {
    /* Try the other flag only to say what is wrong; neither outcome is accepted. */
    stream_nonce(counter, !last, nonce);
    int other = age_aead_open(r->key, nonce, r->cbuf, n, r->pbuf, err);
    if (other < 0) return -1;
    OPENSSL_cleanse(r->pbuf, AGE_CHUNK);
    if (other == 1 && last)
      return core_error_set(err, 0, "truncated age file: chunk %llu is not marked last but the file ends there (the "
                                    "file was cut short; fetch it again)", (unsigned long long)counter);
    if (other == 1)
      return core_error_set(err, 0, "age chunk %llu is marked last but %llu bytes follow it: refused (data was "
                                    "appended to the file)", (unsigned long long)counter,
                            (unsigned long long)(remaining - n));
    return core_error_set(err, 0, "age chunk %llu does not authenticate: the ciphertext is corrupted or was "
                                  "tampered with (or truncated mid-chunk)", (unsigned long long)counter);
  }
  /* Only now, authenticated, is any of this chunk handed out. */
  r->pos += n;
  r->counter++;
  r->done = last;
  r->avail = n - AGE_TAG;
  r->off = 0;
  return 0;
}

static int start_payload(core_age_reader *r, const uint8_t file_key[16], core_error **err) {
  uint8_t nonce[AGE_NONCE_LEN];
  if (r->size - r->pos < AGE_NONCE_LEN)
    return core_error_set(err, 0, "truncated age file: the payload nonce after the header is missing");
  if (core_pread_exact(r->in_fd, nonce, sizeof nonce, r->pos, "age payload nonce", err) < 0) return -1;
  r->pos += AGE_NONCE_LEN;
  if (r->size == r->pos)
    return core_error_set(err, 0, "truncated age file: no payload after the header (the file was cut short)");
  if (age_hkdf(nonce, sizeof nonce, file_key, AGE_FILE_KEY_LEN, "payload", r->key, 32, err) < 0) return -1;
  r->cbuf = malloc(AGE_CHUNK + AGE_TAG);
  r->pbuf = malloc(AGE_CHUNK);
  if (r->cbuf == NULL || r->pbuf == NULL) return core_error_set(err, ENOMEM, "out of memory");
  return 0;
}

void core_age_reader_free(core_age_reader *r) {
  if (r == NULL) return;
  OPENSSL_cleanse(r->key, sizeof r->key);
  if (r->pbuf) OPENSSL_cleanse(r->pbuf, AGE_CHUNK);
  free(r->cbuf);
  free(r->pbuf);
  free(r);
}

int core_age_reader_open(int in_fd, uint64_t size, const core_age_identity *ids, size_t n_ids, const char *passphrase,
                         int max_scrypt_log2_n, core_age_reader **out, core_error **err) {
  if (max_scrypt_log2_n <= 0) max_scrypt_log2_n = CORE_AGE_DEFAULT_SCRYPT_LOG2_N;
  if (max_scrypt_log2_n > CORE_AGE_MAX_SCRYPT_LOG2_N) max_scrypt_log2_n = CORE_AGE_MAX_SCRYPT_LOG2_N;
  /* One byte past the limit tells a header that is too long from one that is cut off. */
  size_t head_len = size < CORE_AGE_MAX_HEADER + 1 ? (size_t)size : CORE_AGE_MAX_HEADER + 1;
  cleanup_free uint8_t *head = malloc(head_len ? head_len : 1);
  core_age_reader *r = calloc(1, sizeof *r);
  if (head == NULL || r == NULL) {
    free(r);
    return core_error_set(err, ENOMEM, "out of memory");
  }
  age_header h;
  if (core_pread_exact(in_fd, head, head_len, 0, "age header", err) < 0 || age_header_parse(head, head_len, &h, err) < 0) {
    free(r);
    return core_error_wrap(err, "age");
  }
  *r = (core_age_reader){.in_fd = in_fd, .size = size, .pos = h.len};
  uint8_t file_key[AGE_FILE_KEY_LEN], mac[AGE_MAC_LEN];
  int rc = unwrap_file_key(&h, ids, n_ids, passphrase, max_scrypt_log2_n, file_key, err);
  if (rc == 0) rc = header_mac(file_key, head, h.mac_input_len, mac, err);
  /* The MAC binds every stanza to the file key: checked before a byte of payload is read. */
  if (rc == 0 && CRYPTO_memcmp(mac, h.mac, AGE_MAC_LEN) != 0)
    rc = core_error_set(err, 0, "age header MAC mismatch: the header was modified or corrupted; refused");
  if (rc == 0) rc = start_payload(r, file_key, err);
  OPENSSL_cleanse(file_key, sizeof file_key);
  age_header_release(&h);
  if (rc < 0) {
    core_age_reader_free(r);
    return core_error_wrap(err, "age");
  }
  *out = r;
  return 0;
}

int core_age_reader_read(core_age_reader *r, void *buf, size_t len, core_error **err) {
  uint8_t *to = buf;
  while (len > 0) {
    if (r->off == r->avail) {
      if (r->done)
        return core_error_set(err, 0, "age: the file holds %llu bytes of plaintext, fewer than expected",
                              (unsigned long long)r->consumed);
      if (read_chunk(r, err) < 0) return core_error_wrap(err, "age");
      continue;
    }
    size_t n = r->avail - r->off < len ? r->avail - r->off : len;
    memcpy(to, r->pbuf + r->off, n);
    r->off += n;
    r->consumed += n;
    to += n;
    len -= n;
  }
  return 0;
}

int core_age_reader_end(core_age_reader *r, core_error **err) {
  /* The empty file is one empty chunk: reading it is what says so. */
  if (r->counter == 0 && read_chunk(r, err) < 0) return core_error_wrap(err, "age");
  if (r->off == r->avail && r->done) return 0;
  /* A chunk that is not marked last: what follows says whether the file is longer or cut short. */
  if (r->off == r->avail && read_chunk(r, err) < 0) return core_error_wrap(err, "age");
  return core_error_set(err, 0, "age: the file holds more than the %llu bytes of plaintext expected",
                        (unsigned long long)r->consumed);
}

int core_age_decrypt_fd(int in_fd, uint64_t size, const core_age_identity *ids, size_t n_ids, const char *passphrase,
                        int max_scrypt_log2_n, int out_fd, core_hasher *plain_hash, core_error **err) {
  core_age_reader *r = NULL;
  if (core_age_reader_open(in_fd, size, ids, n_ids, passphrase, max_scrypt_log2_n, &r, err) < 0) return -1;
  int rc = 0;
  while (rc == 0 && !(r->done && r->off == r->avail)) {
    if (r->off == r->avail) {
      if (read_chunk(r, err) < 0) rc = core_error_wrap(err, "age");
      continue;
    }
    /* Each chunk reaches the output only after it authenticated. */
    size_t n = r->avail - r->off;
    if (core_write_all(out_fd, r->pbuf + r->off, n, err) < 0) rc = core_error_wrap(err, "age: writing decrypted data");
    else if (plain_hash && core_hasher_update(plain_hash, r->pbuf + r->off, n, err) < 0) rc = -1;
    r->off = r->avail;
  }
  core_age_reader_free(r);
  return rc;
}
