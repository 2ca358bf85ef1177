/* Applies one OCI/Docker image layer blob to the merged root file system, with whiteouts. */
#ifndef CORE_OCI_LAYER_H
#define CORE_OCI_LAYER_H

#include "error.h"
#include "rootfs.h"

/* blob_path is a layer tar, plain or compressed (gzip, zstd: libarchive's filters decide).
 * Its entries go under dest ("" for the root). ".wh.NAME" hides NAME and what is below it,
 * ".wh..wh..opq" hides what is below its directory; both only from earlier layers, as the
 * OCI image spec says, and neither appears in the result. Owners and modes are kept. */
int core_rootfs_add_oci_layer(core_rootfs *fs, const char *blob_path, const char *dest, core_error **err);

#endif
