/* Opens a TIM and establishes trust: every signature over the manifest digest, at least one by
 * a trusted key, then the manifest's blobs. Only what passed is handed out. */
#ifndef CORE_TIM_VERIFY_H
#define CORE_TIM_VERIFY_H

#include <jansson.h>

#include "dsse.h"
#include "error.h"
#include "tim_read.h"
#include "trust.h"

/* The version a publisher gives an artifact, in its signed app manifest (spec/trust.md). */
#define CORE_ANN_VERSION "org.opencontainers.image.version"
#define CORE_ANN_APP_NAME "dev.core.app.name"

/* A trusted key whose signature over the artifact verified. */
typedef struct core_signer {
  char id[CORE_KEYID_LEN + 1];
  char *origin; /* the trusted key's file */
} core_signer;

typedef struct core_verified_app {
  core_tim *tim;             /* owns the blobs */
  core_digest manifest;      /* the artifact's identity */
  char signer[CORE_KEYID_LEN + 1]; /* the first of signers, for callers that need one */
  char *signer_origin;       /* the trusted key's file */
  core_signer *signers;      /* every distinct trusted key that signed, in the order listed */
  size_t n_signers;          /* at least 1 */
  char *name;                /* the signed manifest's app name (else the config's) */
  char *version;             /* the signed manifest's CORE_ANN_VERSION, or NULL when it has none */
  json_t *config;            /* the runtime config blob, parsed */
  core_tim_blob *kernel;     /* verified, in the tim */
  core_tim_blob *initramfs;  /* while encrypted && !decrypted: the age ciphertext */
  core_tim_blob *sbom;       /* verified, in the tim; NULL for an artifact made before SBOMs */
  core_tim_blob *provenance; /* likewise */
  int encrypted;             /* the manifest stores the initramfs as an age file */
  int decrypted;             /* core_app_decrypt replaced initramfs by the checked plaintext */
  core_digest plain_digest;  /* encrypted: the plaintext's digest and size, from the signed manifest */
  uint64_t plain_size;
} core_verified_app;

int core_tim_open_verified(const char *path, const core_trust *trust, core_verified_app **out, core_error **err);
void core_verified_app_free(core_verified_app *app);
void core_verified_app_freep(core_verified_app **app);
#define cleanup_verified_app __attribute__((cleanup(core_verified_app_freep)))

#endif
