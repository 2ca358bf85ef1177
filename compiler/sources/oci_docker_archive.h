/* Images saved by "docker save" (or skopeo's docker-archive:). */
#ifndef CORE_OCI_DOCKER_ARCHIVE_H
#define CORE_OCI_DOCKER_ARCHIVE_H

#include "error.h"
#include "fetch.h"

/* tag ("name:tag") picks among several images, NULL takes the only one. Every layer is
 * checked against the config's diff_ids; the manifest is an OCI one made from the stored
 * blobs, so its digest is the same for the same archive content. */
int core_oci_docker_archive(core_fetch_ctx *ctx, const char *file, const char *tag, const char *what,
                            const char *pinned, core_oci_image *out, core_error **err);

#endif
