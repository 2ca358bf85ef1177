/* corec keygen, and the default signing key that a first build creates and trusts. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "corec.h"
#include "fsutil.h"
#include "keys.h"
#include "sign.h"

static const char keygen_help[] =
    "usage: corec keygen [--force] [PREFIX]\n"
    "\n"
    "Creates an Ed25519 key pair: PREFIX.key (private, mode 0600) and PREFIX.pub (public, PEM).\n"
    "Without PREFIX, creates the default signing key $CORE_HOME/keys/default and trusts its public\n"
    "key in $CORE_HOME/trust.d/, so artifacts built here boot here. Prints the key id.\n"
    "\n"
    "  --force   replace existing key files\n";

/* Writes the public key into trust.d as KEYID16.pub. */
static int trust_locally(EVP_PKEY *key, const char *config_dir, char **trusted_path, core_error **err) {
  char id[CORE_KEYID_LEN + 1];
  if (core_key_id(key, id, err) < 0) return -1;
  cleanup_free char *dir = core_path_join(config_dir, "trust.d");
  cleanup_free char *path = NULL;
  if (dir == NULL || asprintf(&path, "%s/%.16s.pub", dir, id) < 0) return core_error_set(err, ENOMEM, "allocating");
  if (core_mkdir_p(dir, 0755, err) < 0 || core_key_save_public(key, path, err) < 0) return -1;
  *trusted_path = TAKE_PTR(path);
  return 0;
}

static int make_default_key(const char *config_dir, int force, EVP_PKEY **out, core_error **err) {
  cleanup_free char *prefix = core_path_join(config_dir, "keys/default");
  if (prefix == NULL) return core_error_set(err, ENOMEM, "allocating");
  cleanup_key EVP_PKEY *key = NULL;
  cleanup_free char *trusted = NULL;
  char id[CORE_KEYID_LEN + 1];
  if (core_key_generate(&key, err) < 0 || core_key_save_pair(key, prefix, force, err) < 0 ||
      trust_locally(key, config_dir, &trusted, err) < 0 || core_key_id(key, id, err) < 0)
    return -1;
  fprintf(stderr, "corec: created signing key %s.key (id %.16s) and trusted it in %s\n", prefix, id, trusted);
  *out = TAKE_PTR(key);
  return 0;
}

int corec_signing_key(const char *explicit_path, EVP_PKEY **out, core_error **err) {
  if (explicit_path) return core_key_load_private(explicit_path, out, err);
  cleanup_free char *config_dir = NULL;
  if (core_config_dir(&config_dir, err) < 0) return -1;
  cleanup_free char *path = core_path_join(config_dir, "keys/default.key");
  if (path == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (access(path, F_OK) == 0) return core_key_load_private(path, out, err);
  return make_default_key(config_dir, 0, out, err);
}

int corec_keygen(int argc, char **argv, core_error **err) {
  int force = 0;
  const char *prefix = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(keygen_help, stdout);
      return 0;
    }
    if (strcmp(argv[i], "--force") == 0) {
      force = 1;
    } else if (argv[i][0] != '-' && prefix == NULL) {
      prefix = argv[i];
    } else {
      fputs(keygen_help, stderr);
      return 2;
    }
  }
  cleanup_key EVP_PKEY *key = NULL;
  if (prefix == NULL) {
    cleanup_free char *config_dir = NULL;
    if (core_config_dir(&config_dir, err) < 0 || make_default_key(config_dir, force, &key, err) < 0) return -1;
  } else if (core_key_generate(&key, err) < 0 || core_key_save_pair(key, prefix, force, err) < 0) {
    return -1;
  }
  char id[CORE_KEYID_LEN + 1];
  if (core_key_id(key, id, err) < 0) return -1;
  printf("%s\n", id);
  return 0;
}
