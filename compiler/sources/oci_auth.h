/* Registry authentication: credentials from Docker's config.json and the challenges of the
 * WWW-Authenticate header. */
#ifndef CORE_OCI_AUTH_H
#define CORE_OCI_AUTH_H

#include "error.h"

typedef struct core_oci_creds {
  char *user, *pass; /* both NULL: none configured */
  char *helper;      /* a credential helper is configured for the registry (unsupported) */
  char *config_path; /* where they came from, for messages */
} core_oci_creds;

/* Reads $DOCKER_CONFIG/config.json (default ~/.docker/config.json); no file, no entry =
 * no credentials. auths keys match as "host", "https://host" or "https://host/v1/"; for
 * docker.io also Docker's "https://index.docker.io/v1/". */
int core_oci_creds_lookup(const char *registry, core_oci_creds *out, core_error **err);
void core_oci_creds_release(core_oci_creds *c);

typedef struct core_oci_challenge {
  char *scheme; /* "Bearer", "Basic" */
  char *realm, *service, *scope;
} core_oci_challenge;

/* Parses 'Bearer realm="...",service="...",scope="..."' (RFC 7235 auth-params). */
int core_oci_challenge_parse(const char *header, core_oci_challenge *out, core_error **err);
void core_oci_challenge_release(core_oci_challenge *c);

#endif
