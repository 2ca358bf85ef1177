/* A client of the OCI distribution API for one repository: manifests into memory, blobs
 * into the store, authentication as the registry asks for it. */
#ifndef CORE_OCI_REGISTRY_H
#define CORE_OCI_REGISTRY_H

#include <curl/curl.h>

#include "buf.h"
#include "oci_auth.h"
#include "oci_ref.h"
#include "oci_source.h"
#include "reporter.h"

typedef struct core_registry {
  core_oci_source src; /* first, so the source is the struct */
  core_store *store;
  char *registry;      /* as credentials are keyed */
  char *name;          /* repository */
  char *base;          /* "<scheme>://<api host>/v2/<name>" */
  char *auth_header;   /* "Authorization: ..." once the registry asked for it */
  core_oci_creds creds;
  int creds_loaded;
  CURL *curl;          /* one handle, so connections are reused across requests */
  core_reporter *reporter; /* progress of blob downloads: the fetch context's */
  char errbuf[CURL_ERROR_SIZE];
} core_registry;

/* http:// for loopback registries and those in CORE_INSECURE_REGISTRIES ("host:port,..."),
 * https:// otherwise. */
int core_registry_open(core_registry *r, core_store *store, const core_oci_ref *ref, const char *what,
                       core_error **err);
/* reference is a tag or a digest. content_type and digest_header (the registry's
 * Docker-Content-Digest) may come back NULL; the caller frees them. */
int core_registry_get_manifest(core_registry *r, const char *reference, core_buf *body, char **content_type,
                               char **digest_header, core_error **err);
void core_registry_release(core_registry *r);

#endif
