/* The source of an offline build: the store, and nothing else. */
#include "oci_source.h"

static int offline_missing(core_oci_source *src, const core_digest *d, core_error **err) {
  return core_error_set(err, 0, "'%s': %s is not in the store and the build is offline; run once with the network "
                                "to fetch it",
                        src->what, d->str);
}

static int offline_read(core_oci_source *src, const core_digest *d, core_buf *out, core_error **err) {
  (void)out;
  return offline_missing(src, d, err);
}

static int offline_store(core_oci_source *src, const core_digest *d, uint64_t size, core_error **err) {
  (void)size;
  return offline_missing(src, d, err);
}

/* The resolver reads what the store has itself; this is only asked for what it lacks. */
void core_oci_offline_source(core_oci_source *src, core_store *store, const char *what) {
  (void)store;
  src->what = what;
  src->read_manifest = offline_read;
  src->store_blob = offline_store;
}
