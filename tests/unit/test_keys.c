/* Unit tests for lib/keys.c and linker/sign.c: PEM key files and their modes, key ids, and Ed25519 signatures
 * checked against RFC 8032 section 7.1 TEST 1. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "tmpdir.h"

#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "fsutil.h"
#include "keys.h"
#include "sign.h"

static void unhex(const char *hex, uint8_t *out, size_t len) {
  assert_int_equal(strlen(hex), 2 * len);
  for (size_t i = 0; i < len; i++) {
    unsigned v;
    assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
    out[i] = (uint8_t)v;
  }
}

static void test_save_and_load(void **state) {
  const char *dir = *state;
  char prefix[256], priv[300], pub[300];
  /* A prefix in a directory that does not exist yet: it is created. */
  snprintf(prefix, sizeof prefix, "%s/keys/signer", dir);
  snprintf(priv, sizeof priv, "%s.key", prefix);
  snprintf(pub, sizeof pub, "%s.pub", prefix);

  core_error *err = NULL;
  EVP_PKEY *key = NULL, *loaded_priv = NULL, *loaded_pub = NULL;
  assert_int_equal(core_key_generate(&key, &err), 0);
  assert_int_equal(core_key_save_pair(key, prefix, 0, &err), 0);
  assert_null(err);

  struct stat st;
  assert_int_equal(stat(priv, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_int_equal(stat(pub, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0644);

  char id[CORE_KEYID_LEN + 1], id_priv[CORE_KEYID_LEN + 1], id_pub[CORE_KEYID_LEN + 1];
  assert_int_equal(core_key_id(key, id, &err), 0);
  assert_int_equal(strlen(id), CORE_KEYID_LEN);
  assert_int_equal(core_key_load_private(priv, &loaded_priv, &err), 0);
  assert_int_equal(core_key_id(loaded_priv, id_priv, &err), 0);
  assert_int_equal(core_key_load_public(pub, &loaded_pub, &err), 0);
  assert_int_equal(core_key_id(loaded_pub, id_pub, &err), 0);
  assert_null(err);
  assert_string_equal(id, id_priv);
  assert_string_equal(id, id_pub);

  /* What the loaded private key signs, the loaded public key verifies. */
  uint8_t sig[64];
  assert_int_equal(core_key_sign(loaded_priv, "message", 7, sig, &err), 0);
  assert_int_equal(core_key_verify(loaded_pub, "message", 7, sig, sizeof sig, &err), 1);
  assert_int_equal(core_key_verify(loaded_pub, "messagE", 7, sig, sizeof sig, &err), 0);
  assert_null(err);

  /* Another key has another id. */
  EVP_PKEY *other = NULL;
  char other_id[CORE_KEYID_LEN + 1];
  assert_int_equal(core_key_generate(&other, &err), 0);
  assert_int_equal(core_key_id(other, other_id, &err), 0);
  assert_string_not_equal(id, other_id);
  assert_int_equal(core_key_verify(other, "message", 7, sig, sizeof sig, &err), 0);

  core_key_freep(&key);
  core_key_freep(&loaded_priv);
  core_key_freep(&loaded_pub);
  core_key_freep(&other);
  assert_null(key);
}

static void test_no_overwrite_without_force(void **state) {
  const char *dir = *state;
  char prefix[256], priv[300];
  snprintf(prefix, sizeof prefix, "%s/signer", dir);
  snprintf(priv, sizeof priv, "%s.key", prefix);

  core_error *err = NULL;
  EVP_PKEY *first = NULL, *second = NULL, *loaded = NULL;
  assert_int_equal(core_key_generate(&first, &err), 0);
  assert_int_equal(core_key_generate(&second, &err), 0);
  assert_int_equal(core_key_save_pair(first, prefix, 0, &err), 0);

  assert_int_equal(core_key_save_pair(second, prefix, 0, &err), -1);
  assert_non_null(err);
  assert_non_null(strstr(err->msg, "already exists"));
  assert_non_null(strstr(err->msg, "--force"));
  core_error_free(err);
  err = NULL;

  char id_first[CORE_KEYID_LEN + 1], id_second[CORE_KEYID_LEN + 1], id_loaded[CORE_KEYID_LEN + 1];
  assert_int_equal(core_key_id(first, id_first, &err), 0);
  assert_int_equal(core_key_id(second, id_second, &err), 0);
  assert_int_equal(core_key_load_private(priv, &loaded, &err), 0);
  assert_int_equal(core_key_id(loaded, id_loaded, &err), 0);
  assert_string_equal(id_loaded, id_first); /* untouched */
  core_key_freep(&loaded);

  /* With force the new key replaces the old, still 0600. */
  assert_int_equal(core_key_save_pair(second, prefix, 1, &err), 0);
  assert_int_equal(core_key_load_private(priv, &loaded, &err), 0);
  assert_int_equal(core_key_id(loaded, id_loaded, &err), 0);
  assert_string_equal(id_loaded, id_second);
  struct stat st;
  assert_int_equal(stat(priv, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_null(err);

  core_key_freep(&first);
  core_key_freep(&second);
  core_key_freep(&loaded);
}

static void test_load_refusals(void **state) {
  const char *dir = *state;
  char prefix[256], priv[300], pub[300], junk[300];
  snprintf(prefix, sizeof prefix, "%s/signer", dir);
  snprintf(priv, sizeof priv, "%s.key", prefix);
  snprintf(pub, sizeof pub, "%s.pub", prefix);
  snprintf(junk, sizeof junk, "%s/junk.pem", dir);

  core_error *err = NULL;
  EVP_PKEY *key = NULL, *loaded = NULL;
  assert_int_equal(core_key_generate(&key, &err), 0);
  assert_int_equal(core_key_save_pair(key, prefix, 0, &err), 0);

  /* A private key given where a public one is wanted is refused, not quietly used. */
  assert_int_equal(core_key_load_public(priv, &loaded, &err), -1);
  assert_non_null(err);
  assert_non_null(strstr(err->msg, "private key"));
  assert_null(loaded);
  core_error_free(err);
  err = NULL;

  /* A public key is no private key. */
  assert_int_equal(core_key_load_private(pub, &loaded, &err), -1);
  assert_non_null(err);
  assert_null(loaded);
  core_error_free(err);
  err = NULL;

  assert_int_equal(core_write_file_atomic(junk, "not a key\n", 10, 0644, &err), 0);
  assert_int_equal(core_key_load_public(junk, &loaded, &err), -1);
  assert_non_null(strstr(err->msg, junk));
  core_error_free(err);
  err = NULL;

  /* A missing file names itself. */
  char missing[300];
  snprintf(missing, sizeof missing, "%s/missing.pub", dir);
  assert_int_equal(core_key_load_public(missing, &loaded, &err), -1);
  assert_non_null(strstr(err->msg, missing));
  core_error_free(err);
  core_key_freep(&key);
}

static void test_rfc8032_test1(void **state) {
  (void)state;
  uint8_t secret[32], public_key[32], want_sig[64];
  unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", secret, sizeof secret);
  unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", public_key, sizeof public_key);
  unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        want_sig, sizeof want_sig);

  EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, secret, sizeof secret);
  assert_non_null(key);
  uint8_t derived[32];
  size_t derived_len = sizeof derived;
  assert_int_equal(EVP_PKEY_get_raw_public_key(key, derived, &derived_len), 1);
  assert_memory_equal(derived, public_key, sizeof public_key);

  core_error *err = NULL;
  uint8_t sig[64];
  /* The message is empty. */
  assert_int_equal(core_key_sign(key, "", 0, sig, &err), 0);
  assert_null(err);
  assert_memory_equal(sig, want_sig, sizeof sig);

  /* Verification with the public half alone. */
  EVP_PKEY *pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, public_key, sizeof public_key);
  assert_non_null(pub);
  assert_int_equal(core_key_verify(pub, "", 0, want_sig, sizeof want_sig, &err), 1);
  assert_int_equal(core_key_verify(key, "", 0, want_sig, sizeof want_sig, &err), 1);

  /* Any flipped bit makes it fail: in R, in S, and a changed message. */
  uint8_t bad[64];
  static const size_t flips[] = {0, 31, 32, 63};
  for (size_t i = 0; i < sizeof flips / sizeof *flips; i++) {
    memcpy(bad, want_sig, sizeof bad);
    bad[flips[i]] ^= 0x01;
    assert_int_equal(core_key_verify(pub, "", 0, bad, sizeof bad, &err), 0);
  }
  assert_int_equal(core_key_verify(pub, "x", 1, want_sig, sizeof want_sig, &err), 0);
  /* A short signature is not valid either. */
  assert_int_equal(core_key_verify(pub, "", 0, want_sig, 63, &err), 0);
  assert_null(err);

  char id_key[CORE_KEYID_LEN + 1], id_pub[CORE_KEYID_LEN + 1];
  assert_int_equal(core_key_id(key, id_key, &err), 0);
  assert_int_equal(core_key_id(pub, id_pub, &err), 0);
  assert_string_equal(id_key, id_pub);
  /* The id is the SHA-256 of the DER SubjectPublicKeyInfo: a fixed 12-byte prefix
   * (SEQUENCE, AlgorithmIdentifier id-Ed25519, BIT STRING) and then the raw key. */
  uint8_t spki[12 + 32] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
  memcpy(spki + 12, public_key, sizeof public_key);
  core_digest d;
  assert_int_equal(core_digest_bytes(spki, sizeof spki, &d, &err), 0);
  assert_string_equal(id_key, core_digest_hex(&d));

  core_key_freep(&key);
  core_key_freep(&pub);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_save_and_load, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_no_overwrite_without_force, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_load_refusals, make_tmpdir, remove_tmpdir),
      cmocka_unit_test(test_rfc8032_test1),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
