/* Published test vectors through the very functions the project calls OpenSSL with: X25519
 * (RFC 7748), HKDF-SHA-256 (RFC 5869), ChaCha20-Poly1305 (RFC 8439), Ed25519 signing and
 * verification (RFC 8032) and DSSE's pre-authentication encoding (the DSSE spec's example, with
 * its published signature).
 * If an OpenSSL build or a wrapper ever drifts, these say so before any artifact does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "age_internal.h"
#include "base64.h"
#include "dsse.h"
#include "keys.h"
#include "sign.h"

/* Decodes a hex string into a fresh buffer; *n gets its length. */
static uint8_t *unhex(const char *hex, size_t *n) {
  size_t len = strlen(hex) / 2;
  uint8_t *out = malloc(len ? len : 1);
  assert_non_null(out);
  for (size_t i = 0; i < len; i++) {
    unsigned v;
    assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
    out[i] = (uint8_t)v;
  }
  if (n) *n = len;
  return out;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want_hex) {
  size_t n;
  uint8_t *want = unhex(want_hex, &n);
  assert_int_equal(len, n);
  assert_memory_equal(got, want, n);
  free(want);
}

static void x25519_case(const char *scalar_hex, const char *u_hex, const char *out_hex) {
  uint8_t *k = unhex(scalar_hex, NULL), *u = unhex(u_hex, NULL), out[32];
  core_error *err = NULL;
  assert_int_equal(age_x25519(k, u, out, &err), 0);
  assert_hex(out, 32, out_hex);
  free(k);
  free(u);
}

/* RFC 7748 section 5.2: the two single-step vectors. */
static void test_x25519_rfc7748_5_2(void **state) {
  (void)state;
  x25519_case("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
              "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
              "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
  x25519_case("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
              "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
              "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

/* RFC 7748 section 5.2, the iterated test: k = u = 9, then k = X25519(k, u), u = old k; the
 * results after 1 and after 1,000 iterations (the 1,000,000 one is too slow for a unit test). */
static void test_x25519_rfc7748_5_2_iterated(void **state) {
  (void)state;
  uint8_t k[32] = {9}, u[32] = {9}, r[32];
  core_error *err = NULL;
  for (int i = 1; i <= 1000; i++) {
    assert_int_equal(age_x25519(k, u, r, &err), 0);
    memcpy(u, k, 32);
    memcpy(k, r, 32);
    if (i == 1) assert_hex(k, 32, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
  }
  assert_hex(k, 32, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
}

/* RFC 7748 section 6.1: Alice's and Bob's public keys and their shared secret. */
static void test_x25519_rfc7748_6_1(void **state) {
  (void)state;
  const char *alice = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
  const char *bob = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
  const char *alice_pub = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
  const char *bob_pub = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
  const char *shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  uint8_t *a = unhex(alice, NULL), *b = unhex(bob, NULL), out[32];
  core_error *err = NULL;
  assert_int_equal(age_x25519_public(a, out, &err), 0);
  assert_hex(out, 32, alice_pub);
  assert_int_equal(age_x25519_public(b, out, &err), 0);
  assert_hex(out, 32, bob_pub);
  x25519_case(alice, bob_pub, shared);
  x25519_case(bob, alice_pub, shared);
  /* A low-order point (here zero) gives the all-zero secret, which age must refuse. */
  uint8_t zero[32] = {0};
  assert_int_equal(age_x25519(a, zero, out, &err), -1);
  core_error_freep(&err);
  free(a);
  free(b);
}

static void hkdf_case(const char *ikm_hex, const char *salt_hex, const char *info_hex, const char *okm_hex) {
  size_t ikm_n, salt_n, info_n, okm_n;
  uint8_t *ikm = unhex(ikm_hex, &ikm_n), *salt = unhex(salt_hex, &salt_n), *info = unhex(info_hex, &info_n);
  uint8_t *want = unhex(okm_hex, &okm_n), out[128];
  /* age_hkdf takes info as a string, as age's labels are; these infos hold no NUL. */
  char *info_s = calloc(1, info_n + 1);
  memcpy(info_s, info, info_n);
  core_error *err = NULL;
  assert_int_equal(age_hkdf(salt, salt_n, ikm, ikm_n, info_s, out, okm_n, &err), 0);
  assert_memory_equal(out, want, okm_n);
  free(ikm), free(salt), free(info), free(want), free(info_s);
}

/* RFC 5869 appendix A, test cases 1 to 3 (SHA-256). */
static void test_hkdf_rfc5869(void **state) {
  (void)state;
  hkdf_case("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9",
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  hkdf_case("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
            "303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f",
            "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f"
            "909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
            "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
            "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09"
            "da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87");
  hkdf_case("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

/* RFC 8439 section 2.8.2: the AEAD example, sealed and opened. */
static void test_chacha20_poly1305_rfc8439(void **state) {
  (void)state;
  static const char plain[] = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
                              "future, sunscreen would be it.";
  size_t len = sizeof plain - 1;
  uint8_t *key = unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", NULL);
  uint8_t *nonce = unhex("070000004041424344454647", NULL);
  size_t aad_n;
  uint8_t *aad = unhex("50515253c0c1c2c3c4c5c6c7", &aad_n);
  uint8_t sealed[256], opened[256];
  core_error *err = NULL;
  assert_int_equal(age_aead_seal_ad(key, nonce, aad, aad_n, (const uint8_t *)plain, len, sealed, &err), 0);
  assert_hex(sealed, len + 16,
             "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b"
             "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
             "3ff4def08e4b7a9de576d26586cec64b6116"
             "1ae10b594f09e26a7e902ecbd0600691");
  assert_int_equal(age_aead_open_ad(key, nonce, aad, aad_n, sealed, len + 16, opened, &err), 1);
  assert_memory_equal(opened, plain, len);
  sealed[len + 15] ^= 1; /* a forged tag does not open */
  assert_int_equal(age_aead_open_ad(key, nonce, aad, aad_n, sealed, len + 16, opened, &err), 0);
  assert_null(err);
  free(key), free(nonce), free(aad);
}

static void ed25519_case(const char *secret_hex, const char *public_hex, const char *msg_hex, const char *sig_hex) {
  size_t msg_n;
  uint8_t *secret = unhex(secret_hex, NULL), *msg = unhex(msg_hex, &msg_n), sig[64], pub[32];
  EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, secret, 32);
  assert_non_null(key);
  size_t pub_n = 32;
  assert_int_equal(EVP_PKEY_get_raw_public_key(key, pub, &pub_n), 1);
  assert_hex(pub, 32, public_hex);
  core_error *err = NULL;
  /* core_key_sign is linker/sign.c's EVP_DigestSign; core_key_verify is lib/keys.c's. */
  assert_int_equal(core_key_sign(key, msg, msg_n, sig, &err), 0);
  assert_hex(sig, 64, sig_hex);
  assert_int_equal(core_key_verify(key, msg, msg_n, sig, 64, &err), 1);
  sig[10] ^= 1;
  assert_int_equal(core_key_verify(key, msg, msg_n, sig, 64, &err), 0);
  assert_null(err);
  EVP_PKEY_free(key);
  free(secret), free(msg);
}

/* RFC 8032 section 7.1, tests 1, 2 and 3. */
static void test_ed25519_rfc8032(void **state) {
  (void)state;
  ed25519_case("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
               "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
               "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46b"
               "d25bf5f0595bbe24655141438e7a100b");
  ed25519_case("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
               "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
               "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c"
               "387b2eaeb4302aeeb00d291612bb0c00");
  ed25519_case("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
               "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
               "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc659"
               "4a7c15e9716ed28dc027beceea1ec40a");
}

/* The DSSE protocol document's PAE example. */
static void test_dsse_pae(void **state) {
  (void)state;
  core_buf out = CORE_BUF_INIT;
  core_error *err = NULL;
  assert_int_equal(core_dsse_pae("http://example.com/HelloWorld", "hello world", 11, &out, &err), 0);
  static const char want[] = "DSSEv1 29 http://example.com/HelloWorld 11 hello world";
  assert_int_equal(out.len, sizeof want - 1);
  assert_memory_equal(out.data, want, sizeof want - 1);
  core_buf_release(&out);
}

/* A decimal number as 32 big-endian bytes. */
static void dec32(const char *dec, uint8_t out[32]) {
  BIGNUM *bn = NULL;
  assert_true(BN_dec2bn(&bn, dec) > 0);
  assert_int_equal(BN_bn2binpad(bn, out, 32), 32);
  BN_free(bn);
}

/* The rest of the DSSE protocol document's test vector: its published signature (ECDSA P-256,
 * SHA-256, r and s concatenated) verifies over the PAE bytes core_dsse_pae makes, so those bytes
 * are the spec's and not only a string this test agrees with. One bit changed, it does not. */
static void test_dsse_pae_signature(void **state) {
  (void)state;
  uint8_t point[65] = {4}, rs[64];
  dec32("46950820868899156662930047687818585632848591499744589407958293238635476079160", point + 1);
  dec32("5640078356564379163099075877009565129882514886557779369047442380624545832820", point + 33);
  core_buf raw = CORE_BUF_INIT;
  core_error *err = NULL;
  assert_int_equal(core_base64_decode("A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==",
                                      &raw, &err), 0);
  assert_int_equal(raw.len, 64);
  memcpy(rs, raw.data, 64);
  core_buf_release(&raw);
  OSSL_PARAM params[] = {OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0),
                         OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point), OSSL_PARAM_END};
  EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  EVP_PKEY *key = NULL;
  assert_non_null(pctx);
  assert_int_equal(EVP_PKEY_fromdata_init(pctx), 1);
  assert_int_equal(EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_PUBLIC_KEY, params), 1);
  EVP_PKEY_CTX_free(pctx);
  core_buf pae = CORE_BUF_INIT;
  assert_int_equal(core_dsse_pae("http://example.com/HelloWorld", "hello world", 11, &pae, &err), 0);
  for (int flip = 0; flip < 2; flip++) {
    if (flip) pae.data[7] ^= 1; /* "DSSEv1 39 ..." instead of 29 */
    ECDSA_SIG *sig = ECDSA_SIG_new();
    assert_non_null(sig);
    assert_int_equal(ECDSA_SIG_set0(sig, BN_bin2bn(rs, 32, NULL), BN_bin2bn(rs + 32, 32, NULL)), 1);
    unsigned char *der = NULL;
    int der_n = i2d_ECDSA_SIG(sig, &der);
    assert_true(der_n > 0);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestVerify(md, der, (size_t)der_n, pae.data, pae.len), flip ? 0 : 1);
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
  }
  core_buf_release(&pae);
  EVP_PKEY_free(key);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_x25519_rfc7748_5_2),     cmocka_unit_test(test_x25519_rfc7748_6_1),
      cmocka_unit_test(test_hkdf_rfc5869),           cmocka_unit_test(test_chacha20_poly1305_rfc8439),
      cmocka_unit_test(test_ed25519_rfc8032),        cmocka_unit_test(test_dsse_pae),
      cmocka_unit_test(test_x25519_rfc7748_5_2_iterated), cmocka_unit_test(test_dsse_pae_signature),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
