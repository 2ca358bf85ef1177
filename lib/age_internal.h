/* What the age_*.c files share and nothing else needs: the parsed header and the OpenSSL
 * primitives age is built from. */
#ifndef CORE_AGE_INTERNAL_H
#define CORE_AGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "age.h"
#include "buf.h"
#include "error.h"

#define AGE_VERSION_LINE "age-encryption.org/v1"
#define AGE_FILE_KEY_LEN 16
#define AGE_MAC_LEN 32
#define AGE_NONCE_LEN 16
#define AGE_CHUNK 65536
#define AGE_TAG 16

typedef struct age_stanza {
  char *args[CORE_AGE_MAX_STANZA_ARGS]; /* args[0] is the type; point into the header copy */
  size_t n_args;
  uint8_t *body; /* decoded; owned */
  size_t body_len;
} age_stanza;

typedef struct age_header {
  char *text;      /* a NUL-separated copy of the header, which args point into */
  size_t mac_input_len; /* bytes of the header the MAC covers: up to and including "---" */
  size_t len;           /* bytes of the whole header, through the MAC line's newline */
  uint8_t mac[AGE_MAC_LEN];
  age_stanza stanzas[CORE_AGE_MAX_STANZAS];
  size_t n_stanzas;
} age_header;

/* Parses the header at the start of DATA (LEN bytes, possibly followed by the payload). */
int age_header_parse(const uint8_t *data, size_t len, age_header *h, core_error **err);
void age_header_release(age_header *h);

/* Canonical unpadded standard base64, as age writes it. */
size_t age_b64_encoded_len(size_t n);
void age_b64_encode(const uint8_t *in, size_t n, char *out); /* writes age_b64_encoded_len(n) chars, no NUL */
/* Returns the decoded length, or -1 for anything but canonical unpadded base64. */
long age_b64_decode(const char *in, size_t n, uint8_t *out, size_t out_size);

/* Appends "-> args...\n" and the body wrapped at 64 columns, ending with a short line. */
int age_stanza_write(core_buf *out, const char *const *args, size_t n_args, const uint8_t *body, size_t body_len,
                     core_error **err);

/* OpenSSL primitives. */
int age_hkdf(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len, const char *info,
             uint8_t *out, size_t out_len, core_error **err);
int age_hmac(const uint8_t key[32], const void *msg, size_t len, uint8_t out[32], core_error **err);
int age_aead_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in, size_t len, uint8_t *out,
                  core_error **err); /* out gets len + 16 bytes */
/* 1: authenticated, OUT holds LEN - 16 bytes; 0: did not authenticate; -1: error. */
int age_aead_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in, size_t len, uint8_t *out,
                  core_error **err);
/* The same with associated data (age uses none; the RFC 8439 vectors have some). */
int age_aead_seal_ad(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                     const uint8_t *in, size_t len, uint8_t *out, core_error **err);
int age_aead_open_ad(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                     const uint8_t *in, size_t len, uint8_t *out, core_error **err);
int age_x25519(const uint8_t secret[32], const uint8_t peer[32], uint8_t out[32], core_error **err);
int age_x25519_public(const uint8_t secret[32], uint8_t out[32], core_error **err);

#endif
