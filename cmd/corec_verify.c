/* corec verify: corerun's verification without booting, for CI. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "corec.h"
#include "dsse.h"
#include "json.h"
#include "oci.h"
#include "tim_verify.h"
#include "trust.h"

static const char verify_help[] =
    "usage: corec verify [--trust FILE ...] ARTIFACT\n"
    "\n"
    "Verifies ARTIFACT (.tim, raw disk, qcow2 or ISO) exactly as 'corerun verify' does: a\n"
    "signature by a trusted key over the app manifest digest, every blob, and for a disk form\n"
    "every byte against the signed digest. Prints the digest (sha256:...) on stdout and each\n"
    "trusted key that signed it on stderr; exits 0, or 1 with corerun's message. Boots nothing.\n"
    "\n"
    "  --trust FILE   also trust this Ed25519 public key (PEM); may be repeated (at most 16)\n"
    "  -h, --help     show this help\n"
    "\n"
    "Trusted keys, as corerun loads them: $CORE_HOME/trust.d/*.pub (CORE_CONFIG_DIR overrides\n"
    "CORE_HOME), /etc/core/trust.d/*.pub, and --trust files.\n";

/* Whether the signature manifest DESC carries an envelope by a trusted key over this artifact;
 * prints the signer. corerun needs one; a CI log wants to see them all. */
static void print_signer(core_verified_app *app, const json_t *desc, const core_trust *trust, const char *artifact) {
  core_error *err = NULL;
  core_digest d, subject;
  uint64_t size, subject_size;
  cleanup_buf core_buf text = CORE_BUF_INIT, envelope = CORE_BUF_INIT, payload = CORE_BUF_INIT;
  cleanup_json json_t *sig = NULL;
  char signer[CORE_KEYID_LEN + 1];
  core_dsse_result result = CORE_DSSE_UNTRUSTED;
  if (core_oci_descriptor_parse(desc, NULL, &d, &size, &err) == 0 &&
      core_tim_blob_load(app->tim, &d, size, &text, &err) == 0 && core_json_parse(text.data, text.len, &sig, &err) == 0 &&
      core_oci_descriptor_parse(json_object_get(sig, "subject"), NULL, &subject, &subject_size, &err) == 0 &&
      strcmp(subject.str, app->manifest.str) == 0 &&
      core_oci_descriptor_parse(json_array_get(json_object_get(sig, "layers"), 0), NULL, &d, &size, &err) == 0 &&
      core_tim_blob_load(app->tim, &d, size, &envelope, &err) == 0 &&
      core_dsse_verify(envelope.data, envelope.len, CORE_INTOTO_PAYLOAD_TYPE, trust->keys, trust->n_keys, &payload,
                       signer, &result, &err) == 0 &&
      result == CORE_DSSE_VERIFIED) {
    for (size_t k = 0; k < trust->n_keys; k++)
      if (strcmp(trust->keys[k].id, signer) == 0)
        fprintf(stderr, "corec: %s: signed by trusted key %.16s (%s)\n", artifact, signer, trust->keys[k].origin);
  }
  core_error_free(err);
}

static void print_signers(core_verified_app *app, const core_trust *trust, const char *artifact) {
  cleanup_json json_t *index = NULL, *top = NULL;
  core_error *err = NULL;
  core_digest d;
  uint64_t size;
  cleanup_buf core_buf text = CORE_BUF_INIT;
  if (core_json_parse(app->tim->index_json.data, app->tim->index_json.len, &index, &err) == 0 &&
      core_oci_descriptor_parse(json_array_get(json_object_get(index, "manifests"), 0), NULL, &d, &size, &err) == 0 &&
      core_tim_blob_load(app->tim, &d, size, &text, &err) == 0 && core_json_parse(text.data, text.len, &top, &err) == 0) {
    size_t i;
    json_t *desc;
    json_array_foreach(json_object_get(top, "manifests"), i, desc) {
      const char *at = json_string_value(json_object_get(desc, "artifactType"));
      if (at && strcmp(at, CORE_DSSE_MEDIA_TYPE) == 0) print_signer(app, desc, trust, artifact);
    }
  }
  core_error_free(err);
}

int corec_verify(int argc, char **argv, core_error **err) {
  static const struct option opts[] = {{"trust", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
  const char *trust_files[COREC_MAX_KEYS];
  size_t n_trust = 0;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
      case 't':
        if (n_trust == COREC_MAX_KEYS) return core_error_set(err, 0, "at most %d --trust files", COREC_MAX_KEYS);
        trust_files[n_trust++] = optarg;
        break;
      case 'h': fputs(verify_help, stdout); return 0;
      default: fputs(verify_help, stderr); return 2;
    }
  }
  if (optind != argc - 1) return core_error_set(err, 0, "verify takes one artifact; see 'corec verify --help'");
  const char *artifact = argv[optind];
  cleanup_trust core_trust trust = {0};
  cleanup_verified_app core_verified_app *app = NULL;
  if (core_trust_load(trust_files, n_trust, &trust, err) < 0 || core_tim_open_verified(artifact, &trust, &app, err) < 0)
    return -1;
  printf("%s\n", app->manifest.str);
  print_signers(app, &trust, artifact);
  return 0;
}
