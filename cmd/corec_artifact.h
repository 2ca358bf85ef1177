/* What corec inspect, ls, diff, sbom and provenance share: an artifact opened and verified exactly as 'corec
 * verify' does (nothing of it is shown otherwise), its form, its signed app manifest, and the
 * initramfs in the clear when the caller needs it (decrypted with --identity). */
#ifndef CORE_COREC_ARTIFACT_H
#define CORE_COREC_ARTIFACT_H

#include <jansson.h>

#include "corec.h"
#include "decrypt.h"
#include "disk_form.h"
#include "tim_verify.h"
#include "trust.h"

/* The flags the three commands take in common: --trust FILE, --identity FILE. */
typedef struct corec_artifact_flags {
  const char *trust_files[COREC_MAX_KEYS];
  size_t n_trust;
  const char *identity_files[COREC_MAX_KEYS];
  size_t n_identity;
} corec_artifact_flags;

/* Parses the options the three commands share: --trust, --identity, --help, and --json when
 * JSON is not NULL. Returns 0 to go on (optind at the first operand), 1 when --help was
 * printed (exit 0), 2 on bad usage (the help went to stderr), -1 with *err. */
int corec_artifact_args(int argc, char **argv, const char *help, corec_artifact_flags *f, int *json, core_error **err);

typedef struct corec_artifact {
  core_trust trust;
  core_decrypt_keys keys;
  core_verified_app *app;
  core_form form;
  json_t *manifest; /* the signed app manifest, parsed */
} corec_artifact;

/* Loads the trust store and the identities (a bad identity file fails before the artifact is
 * read, as in corerun), opens and verifies PATH, and with WANT_PLAINTEXT decrypts an encrypted
 * initramfs (an error naming --identity when none was given). Without it, an encrypted
 * artifact is still decrypted when identities were given, so the plaintext is checked. */
int corec_artifact_open(const char *path, const corec_artifact_flags *f, int want_plaintext, corec_artifact *out,
                        core_error **err);
void corec_artifact_release(corec_artifact *a);

/* The verified artifact's SBOM (PROVENANCE 0) or provenance (1), parsed; *OUT is NULL when the
 * artifact has none (built before they existed). */
int corec_artifact_document(const corec_artifact *a, int provenance, json_t **out, core_error **err);

/* Prints a JSON value compactly on stdout, or MISSING when it is absent. */
void corec_print_json(const json_t *v, const char *missing);
#define cleanup_corec_artifact __attribute__((cleanup(corec_artifact_release)))

#endif
