/* Where image content comes from (a registry, a layout directory, an archive, the store
 * alone), behind one small interface, and the resolver that walks an image through it. */
#ifndef CORE_OCI_SOURCE_H
#define CORE_OCI_SOURCE_H

#include <jansson.h>
#include <stdint.h>

#include "buf.h"
#include "digest.h"
#include "error.h"
#include "fetch.h"

#define DOCKER_MT_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_MT_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define DOCKER_MT_CONFIG "application/vnd.docker.container.image.v1+json"
#define DOCKER_MT_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define OCI_MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define OCI_MT_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define OCI_MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_MT_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"

typedef struct core_oci_source core_oci_source;
struct core_oci_source {
  const char *what; /* the reference, for messages */
  /* A manifest or index by digest, into memory; the resolver checks the digest. */
  int (*read_manifest)(core_oci_source *src, const core_digest *d, core_buf *out, core_error **err);
  /* A blob into the store, committed only when its digest is d. Called only for blobs the
   * store lacks. */
  int (*store_blob)(core_oci_source *src, const core_digest *d, uint64_t size, core_error **err);
};

/* From the bytes the reference named (a manifest or an index; content_type as the source
 * reported it, may be NULL) to a complete image: linux/amd64 chosen from an index, every
 * digest checked, the manifests, config and layers in the store. want_top (may be NULL) is
 * the digest the top bytes must have; pinned (may be NULL) the image manifest's. */
int core_oci_resolve(core_fetch_ctx *ctx, core_oci_source *src, const core_buf *top, const char *content_type,
                     const char *want_top, const char *pinned, core_oci_image *out, core_error **err);

/* The media type of a manifest document: its mediaType field, else content_type, else
 * what its shape says (an index has "manifests"). */
const char *core_oci_media_type(const json_t *doc, const char *content_type);
int core_oci_is_index(const char *media_type);

/* From a layout's index.json: the descriptor tagged tag (org.opencontainers.image.ref.name),
 * or with tag NULL the only one. Errors list the tags there are. */
int core_oci_layout_select(const json_t *index, const char *tag, const char *what, core_digest *out,
                           core_error **err);

/* The linux/amd64 entry of an image index; the error lists the platforms there are. */
int core_oci_select_platform(const json_t *index, const char *what, const json_t **out, core_error **err);

/* A store-only source for offline builds: what the store lacks is an error naming it. */
void core_oci_offline_source(core_oci_source *src, core_store *store, const char *what);

#endif
