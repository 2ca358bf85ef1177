/* Opens a TIM and establishes trust: the signature over the manifest digest by a trusted
 * key, then the manifest's blobs. Only what passed is handed out. */
#ifndef CORE_TIM_VERIFY_H
#define CORE_TIM_VERIFY_H

#include <jansson.h>

#include "dsse.h"
#include "error.h"
#include "tim_read.h"
#include "trust.h"

typedef struct core_verified_app {
  core_tim *tim;             /* owns the blobs */
  core_digest manifest;      /* the artifact's identity */
  char signer[CORE_KEYID_LEN + 1];
  char *signer_origin;       /* the trusted key's file */
  json_t *config;            /* the runtime config blob, parsed */
  core_tim_blob *kernel;     /* verified, in the tim */
  core_tim_blob *initramfs;
} core_verified_app;

int core_tim_open_verified(const char *path, const core_trust *trust, core_verified_app **out, core_error **err);
void core_verified_app_free(core_verified_app *app);
void core_verified_app_freep(core_verified_app **app);
#define cleanup_verified_app __attribute__((cleanup(core_verified_app_freep)))

#endif
