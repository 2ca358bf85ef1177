/* corec's subcommands: each parses its own flags and calls the library. */
#ifndef CORE_COREC_H
#define CORE_COREC_H

#include "error.h"

#define COREC_VERSION "0.1.0"

typedef int (*corec_command_fn)(int argc, char **argv, core_error **err);

int corec_build(int argc, char **argv, core_error **err);
int corec_check(int argc, char **argv, core_error **err);
int corec_plan(int argc, char **argv, core_error **err);
int corec_keygen(int argc, char **argv, core_error **err);
int corec_lock(int argc, char **argv, core_error **err);
int corec_cache(int argc, char **argv, core_error **err);
int corec_init(int argc, char **argv, core_error **err);
int corec_templates(int argc, char **argv, core_error **err);

/* The signing key for a build: --sign-key, else the default key, made (and trusted) on first use. */
struct evp_pkey_st;
int corec_signing_key(const char *explicit_path, struct evp_pkey_st **out, core_error **err);

#endif
