/* corec sign: adds signatures to an artifact that exists, its digest unchanged. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "corec.h"
#include "fsutil.h"
#include "resign.h"
#include "tim_verify.h"
#include "trust.h"

static const char sign_help[] =
    "usage: corec sign --key FILE [--key FILE2 ...] [-o OUT] ARTIFACT\n"
    "\n"
    "Adds one signature per key to ARTIFACT (a .tim, raw disk, qcow2 or ISO that corec built),\n"
    "without changing its digest: the app manifest stays as it is; a signature manifest and its\n"
    "DSSE envelope are added beside the existing signatures (key rotation, a second party).\n"
    "Before signing, the artifact is checked to be intact (every blob against its digest, the\n"
    "manifest, the existing signatures' blobs); a damaged one is refused and nothing is written.\n"
    "Its existing signers need not be trusted here. A key that already signed it is not added\n"
    "again (a note on stderr; not an error). The result is verified with the new keys before it\n"
    "replaces ARTIFACT (or is written to OUT), atomically. A disk form keeps every byte but its\n"
    "metadata region, into which the new signatures must fit. Prints the digest (sha256:...).\n"
    "\n"
    "  -k, --key FILE        Ed25519 private key (PEM, plain or encrypted) to sign with;\n"
    "                        repeat it for more signatures, added in order (at most 16)\n"
    "  -o, --output FILE     write the signed artifact here; ARTIFACT is left as it is\n"
    "      --sign-passphrase-file FILE\n"
    "                        the passphrase of encrypted keys, on FILE's first line (else\n"
    "                        $CORE_SIGN_PASSPHRASE_FILE, else asked on the terminal)\n"
    "  -h, --help            show this help\n";

/* The new keys as a trust store, borrowed: the result must verify with them alone. */
static void trust_of(const corec_keys *keys, const char *const *paths, core_trusted_key *store, core_trust *t,
                     core_error **err) {
  *t = (core_trust){.keys = store, .n_keys = 0};
  for (size_t i = 0; i < keys->n; i++) {
    store[i] = (core_trusted_key){.key = keys->keys[i], .origin = (char *)paths[i]};
    if (core_key_id(keys->keys[i], store[i].id, err) < 0) return;
    t->n_keys++;
  }
}

/* Checks the written file the way corerun will: every byte, each new signature by the new key. */
static int verify_result(const char *tmp_path, const corec_keys *keys, const char *const *paths,
                         const core_digest *digest, core_error **err) {
  core_trusted_key store[COREC_MAX_KEYS];
  core_trust t;
  trust_of(keys, paths, store, &t, err);
  if (*err) return -1;
  cleanup_verified_app core_verified_app *app = NULL;
  if (core_tim_open_verified(tmp_path, &t, &app, err) < 0)
    return core_error_wrap(err, "the signed artifact does not verify, so it was not written");
  if (strcmp(app->manifest.str, digest->str) != 0)
    return core_error_set(err, 0, "internal: re-signing changed the digest to %s", app->manifest.str);
  return 0;
}

int corec_sign(int argc, char **argv, core_error **err) {
  static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                       {"output", required_argument, NULL, 'o'},
                                       {"sign-passphrase-file", required_argument, NULL, 'P'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
  const char *paths[COREC_MAX_KEYS], *output = NULL, *passphrase_file = NULL;
  size_t n_paths = 0;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "k:o:h", opts, NULL)) != -1) {
    switch (c) {
      case 'k':
        if (n_paths == COREC_MAX_KEYS) return core_error_set(err, 0, "at most %d --key", COREC_MAX_KEYS);
        paths[n_paths++] = optarg;
        break;
      case 'o': output = optarg; break;
      case 'P': passphrase_file = optarg; break;
      case 'h': fputs(sign_help, stdout); return 0;
      default: fputs(sign_help, stderr); return 2;
    }
  }
  if (optind != argc - 1) return core_error_set(err, 0, "sign takes one artifact; see 'corec sign --help'");
  if (n_paths == 0) return core_error_set(err, 0, "no --key: name the private key(s) to sign with");
  const char *artifact = argv[optind];

  /* Keys first: a wrong passphrase should not wait for a large disk to be read. */
  cleanup_corec_keys corec_keys keys = {.n = 0};
  cleanup_resign core_resign *r = NULL;
  if (corec_keys_load(&keys, paths, n_paths, passphrase_file, err) < 0 || core_resign_open(artifact, &r, err) < 0)
    return -1;
  int added[COREC_MAX_KEYS];
  for (size_t i = 0; i < keys.n; i++)
    if ((added[i] = core_resign_add(r, keys.keys[i], err)) < 0) return -1;
  const core_digest *digest = core_resign_digest(r);
  if (core_resign_added(r) > 0 || output != NULL) {
    const char *out = output ? output : artifact;
    cleanup_atomic_file core_atomic_file f = {.fd = -1};
    if (core_atomic_open(&f, out, core_resign_mode(r), err) < 0) return -1;
    if (core_resign_write(r, &f, err) < 0) return core_error_wrap(err, "writing '%s'", out);
    if (verify_result(f.tmp_path, &keys, paths, digest, err) < 0 || core_atomic_commit(&f, err) < 0) return -1;
  } /* else nothing new: the file stays untouched */
  /* Said only now, so a failed write never reports a signature that is not there. */
  for (size_t i = 0; i < keys.n; i++) {
    char id[CORE_KEYID_LEN + 1];
    if (core_key_id(keys.keys[i], id, err) < 0) return -1;
    if (added[i])
      fprintf(stderr, "corec: signed %s with key %.16s (%s)\n", output ? output : artifact, id, paths[i]);
    else
      fprintf(stderr, "corec: key %.16s (%s) has already signed %s; not adding it again\n", id, paths[i], artifact);
  }
  printf("%s\n", digest->str);
  return 0;
}
