/* Unit tests for lib/dsse.c and linker/sign.c: the pre-authentication encoding from the DSSE spec, and sign
 * then verify against trusted, untrusted and tampered envelopes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "dsse.h"
#include "sign.h"

#define TYPE "application/vnd.in-toto+json"
#define PAYLOAD "{\"hello\":\"world\"}"

typedef struct fixture {
  EVP_PKEY *signer, *other;
  core_trusted_key signer_trusted, other_trusted;
  core_buf envelope;
} fixture;

static void fixture_free(fixture *f) {
  if (f == NULL) return;
  core_key_freep(&f->signer);
  core_key_freep(&f->other);
  core_buf_release(&f->envelope);
  free(f);
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  core_error *err = NULL;
  if (f == NULL || core_key_generate(&f->signer, &err) < 0 || core_key_generate(&f->other, &err) < 0 ||
      core_key_id(f->signer, f->signer_trusted.id, &err) < 0 || core_key_id(f->other, f->other_trusted.id, &err) < 0 ||
      core_dsse_sign(f->signer, TYPE, PAYLOAD, strlen(PAYLOAD), &f->envelope, &err) < 0) {
    core_error_free(err);
    fixture_free(f);
    return -1;
  }
  f->signer_trusted.key = f->signer;
  f->other_trusted.key = f->other;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture_free(*state);
  return 0;
}

/* Verifies and returns the result; on success the payload must be freed by the caller. */
static core_dsse_result verify(const void *env, size_t len, const core_trusted_key *keys, size_t n, core_buf *payload,
                               char signer[CORE_KEYID_LEN + 1]) {
  core_error *err = NULL;
  core_dsse_result result = (core_dsse_result)-1;
  int rc = core_dsse_verify(env, len, TYPE, keys, n, payload, signer, &result, &err);
  if (rc != 0) fail_msg("verification failed: %s", err ? err->msg : "(no message)");
  assert_null(err);
  return result;
}

static void expect_error(const void *env, size_t len, const char *type, const core_trusted_key *keys, size_t n,
                         const char *want) {
  core_error *err = NULL;
  core_buf payload = CORE_BUF_INIT;
  char signer[CORE_KEYID_LEN + 1];
  core_dsse_result result;
  assert_int_equal(core_dsse_verify(env, len, type, keys, n, &payload, signer, &result, &err), -1);
  assert_non_null(err);
  if (want && strstr(err->msg, want) == NULL) fail_msg("message '%s' does not mention '%s'", err->msg, want);
  assert_null(payload.data);
  core_error_free(err);
}

/* Decodes the envelope, replaces one string field and encodes it again. */
static void rewrite(const core_buf *envelope, const char *field, const char *value, core_buf *out) {
  json_error_t jerr;
  json_t *env = json_loadb((const char *)envelope->data, envelope->len, 0, &jerr);
  assert_non_null(env);
  assert_int_equal(json_object_set_new(env, field, json_string(value)), 0);
  char *text = json_dumps(env, JSON_COMPACT | JSON_SORT_KEYS);
  assert_non_null(text);
  json_decref(env);
  out->data = (uint8_t *)text;
  out->len = strlen(text);
  out->cap = out->len + 1;
}

static void test_pae_spec_example(void **state) {
  (void)state;
  static const char want[] = "DSSEv1 29 http://example.com/HelloWorld 11 hello world";
  core_error *err = NULL;
  core_buf pae = CORE_BUF_INIT;
  assert_int_equal(core_dsse_pae("http://example.com/HelloWorld", "hello world", 11, &pae, &err), 0);
  assert_null(err);
  assert_int_equal(pae.len, sizeof want - 1);
  assert_memory_equal(pae.data, want, pae.len);
  core_buf_release(&pae);

  /* Lengths are bytes, and an empty payload still has its separator. */
  assert_int_equal(core_dsse_pae("t", "", 0, &pae, &err), 0);
  assert_int_equal(pae.len, strlen("DSSEv1 1 t 0 "));
  assert_memory_equal(pae.data, "DSSEv1 1 t 0 ", pae.len);
  core_buf_release(&pae);
  /* Binary payloads are taken as they are, NULs included. */
  assert_int_equal(core_dsse_pae("t", "a\0b", 3, &pae, &err), 0);
  assert_int_equal(pae.len, strlen("DSSEv1 1 t 3 ") + 3);
  assert_memory_equal(pae.data, "DSSEv1 1 t 3 a\0b", pae.len);
  core_buf_release(&pae);
}

static void test_envelope_form(void **state) {
  fixture *f = *state;
  json_error_t jerr;
  json_t *env = json_loadb((const char *)f->envelope.data, f->envelope.len, 0, &jerr);
  assert_non_null(env);
  assert_string_equal(json_string_value(json_object_get(env, "payloadType")), TYPE);
  core_error *err = NULL;
  char *b64 = NULL;
  assert_int_equal(core_base64_encode(PAYLOAD, strlen(PAYLOAD), &b64, &err), 0);
  assert_string_equal(json_string_value(json_object_get(env, "payload")), b64);
  json_t *sigs = json_object_get(env, "signatures");
  assert_int_equal(json_array_size(sigs), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(sigs, 0), "keyid")), f->signer_trusted.id);
  /* The signature is over the PAE, and checks out with the signer's key directly. */
  core_buf sig = CORE_BUF_INIT, pae = CORE_BUF_INIT;
  assert_int_equal(core_base64_decode(json_string_value(json_object_get(json_array_get(sigs, 0), "sig")), &sig, &err), 0);
  assert_int_equal(sig.len, 64);
  assert_int_equal(core_dsse_pae(TYPE, PAYLOAD, strlen(PAYLOAD), &pae, &err), 0);
  assert_int_equal(core_key_verify(f->signer, pae.data, pae.len, sig.data, sig.len, &err), 1);
  /* Canonical: sorted keys, no spaces. */
  char *canonical = json_dumps(env, JSON_COMPACT | JSON_SORT_KEYS);
  assert_int_equal(f->envelope.len, strlen(canonical));
  assert_memory_equal(f->envelope.data, canonical, f->envelope.len);
  free(canonical);
  free(b64);
  core_buf_release(&sig);
  core_buf_release(&pae);
  json_decref(env);
}

static void test_verified(void **state) {
  fixture *f = *state;
  core_buf payload = CORE_BUF_INIT;
  char signer[CORE_KEYID_LEN + 1] = "";
  assert_int_equal(verify(f->envelope.data, f->envelope.len, &f->signer_trusted, 1, &payload, signer),
                   CORE_DSSE_VERIFIED);
  assert_int_equal(payload.len, strlen(PAYLOAD));
  assert_memory_equal(payload.data, PAYLOAD, payload.len);
  assert_string_equal(signer, f->signer_trusted.id);
  core_buf_release(&payload);

  /* Among several trusted keys, in either order, the signer is found. */
  core_trusted_key both[2] = {f->other_trusted, f->signer_trusted};
  memset(signer, 0, sizeof signer);
  assert_int_equal(verify(f->envelope.data, f->envelope.len, both, 2, &payload, signer), CORE_DSSE_VERIFIED);
  assert_string_equal(signer, f->signer_trusted.id);
  core_buf_release(&payload);
}

static void test_untrusted(void **state) {
  fixture *f = *state;
  core_buf payload = CORE_BUF_INIT;
  char signer[CORE_KEYID_LEN + 1];
  assert_int_equal(verify(f->envelope.data, f->envelope.len, &f->other_trusted, 1, &payload, signer),
                   CORE_DSSE_UNTRUSTED);
  assert_null(payload.data); /* nothing is handed out unverified */
  /* The id named in the envelope is reported, so the user knows which key to trust. */
  assert_string_equal(signer, f->signer_trusted.id);
  assert_int_equal(verify(f->envelope.data, f->envelope.len, NULL, 0, &payload, signer), CORE_DSSE_UNTRUSTED);
  assert_null(payload.data);
}

static void test_tampered_payload(void **state) {
  fixture *f = *state;
  core_error *err = NULL;
  static const char changed[] = "{\"hello\":\"w0rld\"}";
  char *evil = NULL;
  assert_int_equal(core_base64_encode(changed, strlen(changed), &evil, &err), 0);
  core_buf tampered = CORE_BUF_INIT;
  rewrite(&f->envelope, "payload", evil, &tampered);
  free(evil);

  core_buf payload = CORE_BUF_INIT;
  char signer[CORE_KEYID_LEN + 1];
  /* The signer's key is trusted and its signature does not fit: invalid, not merely untrusted. */
  assert_int_equal(verify(tampered.data, tampered.len, &f->signer_trusted, 1, &payload, signer), CORE_DSSE_INVALID);
  assert_null(payload.data);
  assert_string_equal(signer, f->signer_trusted.id);
  core_trusted_key both[2] = {f->other_trusted, f->signer_trusted};
  assert_int_equal(verify(tampered.data, tampered.len, both, 2, &payload, signer), CORE_DSSE_INVALID);
  assert_null(payload.data);
  assert_int_equal(verify(tampered.data, tampered.len, &f->other_trusted, 1, &payload, signer), CORE_DSSE_UNTRUSTED);
  assert_null(payload.data);
  core_buf_release(&tampered);
}

static void test_tampered_type(void **state) {
  fixture *f = *state;
  /* The payload type is signed too: changing it (and asking for the new one) breaks the signature. */
  core_buf tampered = CORE_BUF_INIT;
  rewrite(&f->envelope, "payloadType", "application/other", &tampered);
  core_error *err = NULL;
  core_buf payload = CORE_BUF_INIT;
  char signer[CORE_KEYID_LEN + 1];
  core_dsse_result result;
  assert_int_equal(core_dsse_verify(tampered.data, tampered.len, "application/other", &f->signer_trusted, 1, &payload,
                                    signer, &result, &err),
                   0);
  assert_int_equal(result, CORE_DSSE_INVALID);
  assert_null(payload.data);
  core_buf_release(&tampered);
}

static void test_wrong_payload_type(void **state) {
  fixture *f = *state;
  expect_error(f->envelope.data, f->envelope.len, "application/vnd.something-else+json", &f->signer_trusted, 1,
               "payload type");
}

static void test_malformed(void **state) {
  fixture *f = *state;
  const core_trusted_key *k = &f->signer_trusted;
  static const char *bad[] = {
      "",
      "{",
      "not json",
      "[]",
      "{\"payloadType\":\"" TYPE "\",\"payload\":\"e30=\"}",                       /* no signatures */
      "{\"payloadType\":\"" TYPE "\",\"signatures\":[]}",                          /* no payload */
      "{\"payload\":\"e30=\",\"signatures\":[]}",                                  /* no type */
      "{\"payloadType\":\"" TYPE "\",\"payload\":\"e30=\",\"signatures\":{}}",     /* not an array */
      "{\"payloadType\":\"" TYPE "\",\"payload\":\"e30\",\"signatures\":[]}",      /* bad base64 */
      "{\"payloadType\":\"" TYPE "\",\"payload\":\"e30=\",\"signatures\":[{}]}",   /* no sig */
      "{\"payloadType\":\"" TYPE "\",\"payload\":\"e30=\",\"signatures\":[{\"sig\":\"!!!!\"}]}",
      "{\"payloadType\":\"" TYPE "\",\"payload\":1,\"signatures\":[]}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) expect_error(bad[i], strlen(bad[i]), TYPE, k, 1, NULL);
  /* Two "payload" keys would let two readers see two different documents. */
  static const char dup[] = "{\"payloadType\":\"" TYPE "\",\"payload\":\"e30=\",\"payload\":\"e30=\",\"signatures\":[]}";
  expect_error(dup, strlen(dup), TYPE, k, 1, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pae_spec_example),
      cmocka_unit_test_setup_teardown(test_envelope_form, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verified, setup, teardown),
      cmocka_unit_test_setup_teardown(test_untrusted, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tampered_payload, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tampered_type, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wrong_payload_type, setup, teardown),
      cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
