/* The fetchers: each brings one kind of remote source into the content store and says
 * what it pinned. They run only in the resolve stage, before the plan is made. */
#ifndef CORE_FETCH_H
#define CORE_FETCH_H

#include <stdint.h>

#include "digest.h"
#include "error.h"
#include "reporter.h"
#include "store.h"

typedef struct core_fetch_ctx {
  core_store *store;
  int offline;     /* never touch the network: what the store lacks is an error */
  core_reporter *reporter; /* progress of downloads; NULL = none */
} core_fetch_ctx;

/* https:// (and http://) downloads with libcurl: redirects, proxies from the environment,
 * retries with backoff on transient errors, resume, timeouts. want_sha256 ("sha256:<hex>")
 * NULL means unpinned (allowed only when the caller updates the lock). A blob already in
 * the store with the wanted digest is not downloaded again. */
int core_fetch_url(core_fetch_ctx *ctx, const char *url, const char *want_sha256, core_digest *out, core_error **err);

/* A git repository (any URL libgit2 takes, file:// included) at a commit, or at ref
 * resolved to a commit. The tree (or subpath of it) becomes a deterministic tar in the
 * store (modes kept, .git excluded, mtime 0, owner 0). resolved_commit gets 40 hex. */
int core_fetch_git(core_fetch_ctx *ctx, const char *url, const char *commit, const char *ref, const char *subpath,
                   char resolved_commit[41], core_digest *tree_tar, core_error **err);

/* An OCI/Docker image: "registry/name[:tag][@sha256:..]" from a registry, "oci-layout:DIR[:tag]"
 * for an OCI image layout directory, "oci-archive:FILE" or "docker-archive:FILE" for tarballs.
 * pinned_manifest (may be NULL) is the manifest digest from the lock file. Multi-arch
 * indexes resolve to linux/amd64. Every blob is digest-verified into the store. */
typedef struct core_oci_image {
  core_digest manifest;
  core_digest config;
  core_digest *layers; /* in order, as stored (compressed or not) */
  char **layer_media_types;
  size_t n_layers;
} core_oci_image;
int core_fetch_oci(core_fetch_ctx *ctx, const char *reference, const char *pinned_manifest, core_oci_image *out,
                   core_error **err);
void core_oci_image_release(core_oci_image *img);

/* A Debian package through the host's apt: version NULL = the candidate. pinned_sha256 from
 * the lock file (may be NULL). resolved_version gets the exact version (caller frees). */
/* Debian names its kernel flavours with metapackages (linux-image-cloud-amd64) that hold no
 * kernel, only a dependency on the current one (linux-image-6.1.0-NN-cloud-amd64). Returns 1
 * with the package it depends on for such a name, 0 for any other name. */
int core_deb_kernel_package(const char *package, char **concrete, core_error **err);

int core_fetch_deb(core_fetch_ctx *ctx, const char *package, const char *version, const char *pinned_sha256,
                   char **resolved_version, core_digest *out, core_error **err);

#endif
