/* Local image sources: an OCI image layout directory, and the same layout inside a tar
 * (oci-archive). */
#ifndef CORE_OCI_LAYOUT_H
#define CORE_OCI_LAYOUT_H

#include "oci_source.h"

typedef struct core_oci_local {
  core_oci_source src; /* first, so the source is the struct */
  core_store *store;
  char *path;          /* the directory or the archive file */
  int is_archive;
} core_oci_local;

/* Checks the oci-layout marker and reads index.json; then the source serves blobs. */
int core_oci_local_open(core_oci_local *l, core_store *store, const char *path, int is_archive, const char *what,
                        core_buf *index_json, core_error **err);
void core_oci_local_release(core_oci_local *l);

/* One member of a tar file ("./" prefixes ignored) into memory; found 0 when absent. */
int core_oci_tar_read_member(const char *tar, const char *name, core_buf *out, int *found, core_error **err);

/* A file's bytes into the store through a writer, committed only under want. */
int core_oci_store_fd(core_store *store, int fd, const core_digest *want, const char *what, core_error **err);

#endif
