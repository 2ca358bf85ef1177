/* The trust store: the public keys whose signatures corerun accepts. */
#ifndef CORE_TRUST_H
#define CORE_TRUST_H

#include <stddef.h>

#include "dsse.h"
#include "error.h"

typedef struct core_trust {
  core_trusted_key *keys;
  size_t n_keys;
  char **searched; /* directories looked in, for the message when nothing is trusted */
  size_t n_searched;
} core_trust;

/* Loads trust.d/ in the config directory (core_config_dir), /etc/core/trust.d/ and each
 * extra file. Directories that do not exist are skipped; an unreadable key is an error. */
int core_trust_load(const char *const *extra_files, size_t n_extra, core_trust *out, core_error **err);
int core_trust_add_file(core_trust *t, const char *path, core_error **err);
void core_trust_release(core_trust *t);
#define cleanup_trust __attribute__((cleanup(core_trust_release)))

#endif
