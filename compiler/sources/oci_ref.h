/* Image references as users write them: registry names with Docker's defaults, and the
 * oci-layout:, oci-archive: and docker-archive: transports of skopeo. */
#ifndef CORE_OCI_REF_H
#define CORE_OCI_REF_H

#include "error.h"

typedef enum core_oci_ref_kind {
  CORE_OCI_REF_REGISTRY,
  CORE_OCI_REF_LAYOUT,
  CORE_OCI_REF_ARCHIVE,
  CORE_OCI_REF_DOCKER_ARCHIVE,
} core_oci_ref_kind;

typedef struct core_oci_ref {
  core_oci_ref_kind kind;
  char *registry; /* host[:port] as credentials are keyed ("docker.io" for Docker Hub) */
  char *api_host; /* where the registry API answers ("registry-1.docker.io" for Docker Hub) */
  char *name;     /* repository, "library/" added for official Docker Hub images */
  char *tag;      /* NULL when only a digest was given; for docker-archive "name:tag" or NULL */
  char *digest;   /* "sha256:<hex>" or NULL */
  char *path;     /* the directory or file of the local transports */
} core_oci_ref;

/* "[registry/]name[:tag][@sha256:hex]" (an optional "docker://" is allowed),
 * "oci-layout:DIR[:tag]", "oci-archive:FILE[:tag]", "docker-archive:FILE[:name:tag]".
 * A registry reference with neither tag nor digest gets the tag "latest". */
int core_oci_ref_parse(const char *text, core_oci_ref *out, core_error **err);
void core_oci_ref_release(core_oci_ref *ref);
#define cleanup_oci_ref __attribute__((cleanup(core_oci_ref_release)))

#endif
