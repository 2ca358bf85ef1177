/* corec's subcommands: each parses its own flags and calls the library. */
#ifndef CORE_COREC_H
#define CORE_COREC_H

#include "error.h"
#include "version.h"

#define COREC_VERSION CORE_COREC_VERSION

typedef int (*corec_command_fn)(int argc, char **argv, core_error **err);

int corec_build(int argc, char **argv, core_error **err);
int corec_check(int argc, char **argv, core_error **err);
int corec_plan(int argc, char **argv, core_error **err);
int corec_keygen(int argc, char **argv, core_error **err);
int corec_lock(int argc, char **argv, core_error **err);
int corec_cache(int argc, char **argv, core_error **err);
int corec_init(int argc, char **argv, core_error **err);
int corec_templates(int argc, char **argv, core_error **err);
int corec_sign(int argc, char **argv, core_error **err);
int corec_verify(int argc, char **argv, core_error **err);
int corec_inspect(int argc, char **argv, core_error **err);
int corec_ls(int argc, char **argv, core_error **err);
int corec_diff(int argc, char **argv, core_error **err);
int corec_sbom(int argc, char **argv, core_error **err);
int corec_provenance(int argc, char **argv, core_error **err);

#include <stddef.h>

#include "keys.h"

#define COREC_MAX_KEYS 16

/* Signing keys, in the order given; an encrypted one's passphrase comes from PASSPHRASE_FILE
 * (--sign-passphrase-file), else $CORE_SIGN_PASSPHRASE_FILE, else the terminal (no echo), else
 * it is an error. With no paths: the default key, made (and trusted) on first use. */
typedef struct corec_keys {
  EVP_PKEY *keys[COREC_MAX_KEYS];
  size_t n;
} corec_keys;
int corec_keys_load(corec_keys *k, const char *const *paths, size_t n_paths, const char *passphrase_file,
                    core_error **err);
void corec_keys_release(corec_keys *k);
#define cleanup_corec_keys __attribute__((cleanup(corec_keys_release)))


#endif
