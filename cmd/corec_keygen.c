/* corec keygen; the default signing key that a first build creates and trusts; and loading the
 * signing keys of build and sign, with the passphrase of an encrypted key from a file or the
 * terminal. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "corec.h"
#include "fsutil.h"
#include "keys.h"
#include "passphrase.h"
#include "sign.h"

static const char keygen_help[] =
    "usage: corec keygen [--force] [--passphrase-file FILE] [PREFIX]\n"
    "\n"
    "Creates an Ed25519 key pair: PREFIX.key (private, mode 0600) and PREFIX.pub (public, PEM).\n"
    "Without PREFIX, creates the default signing key $CORE_HOME/keys/default and trusts its public\n"
    "key in $CORE_HOME/trust.d/, so artifacts built here boot here. Prints the key id.\n"
    "\n"
    "  --force                 replace existing key files\n"
    "  --passphrase-file FILE  encrypt the private key with the first line of FILE (PKCS#8,\n"
    "                          AES-256-CBC; 'openssl pkey' reads it). Builds and 'corec sign' then\n"
    "                          ask for it: --sign-passphrase-file, CORE_SIGN_PASSPHRASE_FILE, or\n"
    "                          the terminal\n";

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

static int make_default_key(const char *config_dir, int force, const char *passphrase, EVP_PKEY **out,
                            core_error **err) {
  cleanup_free char *prefix = core_path_join(config_dir, "keys/default");
  if (prefix == NULL) return core_error_set(err, ENOMEM, "allocating");
  cleanup_key EVP_PKEY *key = NULL;
  cleanup_free char *trusted = NULL;
  char id[CORE_KEYID_LEN + 1];
  if (core_key_generate(&key, err) < 0 || core_key_save_pair_encrypted(key, prefix, force, passphrase, err) < 0 ||
      trust_locally(key, config_dir, &trusted, err) < 0 || core_key_id(key, id, err) < 0)
    return -1;
  fprintf(stderr, "corec: created signing key %s.key (id %.16s) and trusted it in %s\n", prefix, id, trusted);
  *out = TAKE_PTR(key);
  return 0;
}

/* The core_passphrase_fn of corec: the file if one is named, else the terminal. */
static int ask_passphrase(void *ctx, const char *path, char *buf, size_t size, core_error **err) {
  const char *file = ctx;
  if (file && *file) return core_passphrase_from_file(file, buf, size, err);
  char hint[1024];
  snprintf(hint, sizeof hint, "'%s' is encrypted and there is no terminal to ask for its passphrase: pass "
           "--sign-passphrase-file FILE or set CORE_SIGN_PASSPHRASE_FILE", path);
  return core_passphrase_from_tty(path, hint, buf, size, err);
}

static int load_key(const char *path, const char *passphrase_file, EVP_PKEY **out, core_error **err) {
  if (passphrase_file == NULL) passphrase_file = getenv("CORE_SIGN_PASSPHRASE_FILE");
  return core_key_load_private_with(path, ask_passphrase, (void *)passphrase_file, out, err);
}

/* The default key: loaded, or made (and trusted) on first use. */
static int default_key(const char *passphrase_file, EVP_PKEY **out, core_error **err) {
  cleanup_free char *config_dir = NULL;
  if (core_config_dir(&config_dir, err) < 0) return -1;
  cleanup_free char *path = core_path_join(config_dir, "keys/default.key");
  if (path == NULL) return core_error_set(err, ENOMEM, "allocating");
  /* Builds started together in a new CORE_HOME must agree on one key: whoever holds the lock
   * creates it, the others then load it (and never read a half-written file). */
  cleanup_free char *keys_dir = core_path_join(config_dir, "keys"), *lock_path = core_path_join(config_dir, "keys/default.lock");
  if (keys_dir == NULL || lock_path == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (core_mkdir_p(keys_dir, 0700, err) < 0) return -1;
  cleanup_close int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock < 0) return core_error_set(err, errno, "opening '%s'", lock_path);
  while (flock(lock, LOCK_EX) < 0)
    if (errno != EINTR) return core_error_set(err, errno, "locking '%s'", lock_path);
  if (access(path, F_OK) == 0) return load_key(path, passphrase_file, out, err);
  return make_default_key(config_dir, 0, NULL, out, err);
}

int corec_keys_load(corec_keys *k, const char *const *paths, size_t n_paths, const char *passphrase_file,
                    core_error **err) {
  if (n_paths > COREC_MAX_KEYS) return core_error_set(err, 0, "at most %d signing keys", COREC_MAX_KEYS);
  if (n_paths == 0) {
    if (default_key(passphrase_file, &k->keys[0], err) < 0) return -1;
    k->n = 1;
    return 0;
  }
  for (size_t i = 0; i < n_paths; i++) {
    if (load_key(paths[i], passphrase_file, &k->keys[k->n], err) < 0) return -1;
    k->n++;
  }
  return 0;
}

void corec_keys_release(corec_keys *k) {
  for (size_t i = 0; i < k->n; i++) core_key_freep(&k->keys[i]);
  k->n = 0;
}

/* Wipes a passphrase buffer when it goes out of scope. */
static void wipe_passphrase(char (*p)[CORE_PASSPHRASE_MAX + 1]) { OPENSSL_cleanse(*p, sizeof *p); }

int corec_keygen(int argc, char **argv, core_error **err) {
  int force = 0;
  const char *prefix = NULL, *passphrase_file = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(keygen_help, stdout);
      return 0;
    }
    if (strcmp(argv[i], "--force") == 0) {
      force = 1;
    } else if (strcmp(argv[i], "--passphrase-file") == 0 && i + 1 < argc) {
      passphrase_file = argv[++i];
    } else if (strncmp(argv[i], "--passphrase-file=", 18) == 0) {
      passphrase_file = argv[i] + 18;
    } else if (argv[i][0] != '-' && prefix == NULL) {
      prefix = argv[i];
    } else {
      fputs(keygen_help, stderr);
      return 2;
    }
  }
  __attribute__((cleanup(wipe_passphrase))) char pass[CORE_PASSPHRASE_MAX + 1] = "";
  if (passphrase_file) {
    if (core_passphrase_from_file(passphrase_file, pass, sizeof pass, err) < 0) return -1;
    if (pass[0] == 0)
      return core_error_set(err, 0, "the passphrase file '%s' is empty; write the passphrase on its first line",
                            passphrase_file);
  }
  const char *passphrase = passphrase_file ? pass : NULL;
  cleanup_key EVP_PKEY *key = NULL;
  if (prefix == NULL) {
    cleanup_free char *config_dir = NULL;
    if (core_config_dir(&config_dir, err) < 0 || make_default_key(config_dir, force, passphrase, &key, err) < 0)
      return -1;
  } else if (core_key_generate(&key, err) < 0 ||
             core_key_save_pair_encrypted(key, prefix, force, passphrase, err) < 0) {
    return -1;
  }
  char id[CORE_KEYID_LEN + 1];
  if (core_key_id(key, id, err) < 0) return -1;
  printf("%s\n", id);
  return 0;
}
