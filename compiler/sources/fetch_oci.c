/* core_fetch_oci: an image reference, whatever its transport, into the store as one
 * core_oci_image. */
#include "fetch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fsutil.h"
#include "json.h"
#include "oci_docker_archive.h"
#include "oci_layout.h"
#include "oci_ref.h"
#include "oci_registry.h"
#include "oci_source.h"

static int from_registry(core_fetch_ctx *ctx, const core_oci_ref *ref, const char *what, const char *pinned,
                         core_oci_image *out, core_error **err) {
  if (ctx->offline) {
    /* Offline, only a digest leads into the store: the one written, else the lock's. */
    const char *top = ref->digest ? ref->digest : pinned;
    if (top == NULL)
      return core_error_set(err, 0, "'%s': the build is offline and nothing pins this tag to a digest; run once with "
                                    "the network (or write NAME@sha256:...)",
                            what);
    core_oci_source src;
    core_oci_offline_source(&src, ctx->store, what);
    core_digest d;
    memcpy(d.str, top, sizeof d.str);
    if (!core_store_has(ctx->store, &d))
      return core_error_set(err, 0, "'%s': manifest %s is not in the store and the build is offline; run once with "
                                    "the network to fetch it",
                            what, top);
    cleanup_free char *path = NULL;
    cleanup_buf core_buf bytes = CORE_BUF_INIT;
    if (core_store_get_verified(ctx->store, &d, &path, err) < 0 || core_read_file(path, &bytes, err) < 0) return -1;
    return core_oci_resolve(ctx, &src, &bytes, NULL, top, pinned, out, err);
  }
  core_registry r;
  int rc = core_registry_open(&r, ctx->store, ref, what, err);
  r.reporter = ctx->reporter;
  cleanup_buf core_buf bytes = CORE_BUF_INIT;
  cleanup_free char *content_type = NULL, *digest_header = NULL;
  /* By digest when one is written: the tag is then only a label, as in Docker. */
  if (rc == 0)
    rc = core_registry_get_manifest(&r, ref->digest ? ref->digest : ref->tag, &bytes, &content_type, &digest_header, err);
  /* The registry's own digest header, when sent, must agree with the bytes. */
  const char *want = ref->digest ? ref->digest : (digest_header && core_digest_is_valid(digest_header) ? digest_header : NULL);
  if (rc == 0) rc = core_oci_resolve(ctx, &r.src, &bytes, content_type, want, pinned, out, err);
  core_registry_release(&r);
  return rc;
}

static int from_local(core_fetch_ctx *ctx, const core_oci_ref *ref, int is_archive, const char *what,
                      const char *pinned, core_oci_image *out, core_error **err) {
  core_oci_local l;
  cleanup_buf core_buf index_json = CORE_BUF_INIT;
  cleanup_buf core_buf bytes = CORE_BUF_INIT;
  int rc = core_oci_local_open(&l, ctx->store, ref->path, is_archive, what, &index_json, err);
  cleanup_json json_t *index = NULL;
  if (rc == 0 && (rc = core_json_parse(index_json.data, index_json.len, &index, err)) < 0)
    core_error_wrap(err, "'%s': index.json", ref->path);
  core_digest top;
  if (rc == 0) rc = core_oci_layout_select(index, ref->tag, what, &top, err);
  if (rc == 0) rc = l.src.read_manifest(&l.src, &top, &bytes, err);
  if (rc == 0) rc = core_oci_resolve(ctx, &l.src, &bytes, NULL, top.str, pinned, out, err);
  core_oci_local_release(&l);
  return rc;
}

int core_fetch_oci(core_fetch_ctx *ctx, const char *reference, const char *pinned_manifest, core_oci_image *out,
                   core_error **err) {
  if (pinned_manifest && !core_digest_is_valid(pinned_manifest))
    return core_error_set(err, 0, "the lock file pins '%s' for '%s', which is not a sha256 digest", pinned_manifest,
                          reference);
  cleanup_oci_ref core_oci_ref ref = {0};
  if (core_oci_ref_parse(reference, &ref, err) < 0) return -1;
  core_oci_image img = {0};
  int rc;
  switch (ref.kind) {
    case CORE_OCI_REF_REGISTRY: rc = from_registry(ctx, &ref, reference, pinned_manifest, &img, err); break;
    case CORE_OCI_REF_LAYOUT: rc = from_local(ctx, &ref, 0, reference, pinned_manifest, &img, err); break;
    case CORE_OCI_REF_ARCHIVE: rc = from_local(ctx, &ref, 1, reference, pinned_manifest, &img, err); break;
    case CORE_OCI_REF_DOCKER_ARCHIVE:
      rc = core_oci_docker_archive(ctx, ref.path, ref.tag, reference, pinned_manifest, &img, err);
      break;
    default: rc = core_error_set(err, 0, "'%s': unknown transport", reference);
  }
  if (rc < 0) return core_error_wrap(err, "fetching image '%s'", reference);
  *out = img;
  return 0;
}
