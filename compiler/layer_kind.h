/* How a resolved source is to be read: a directory, a tar archive or a Debian package. The
 * resolve stage decides it and records it in the plan, so the linker reads what was planned. */
#ifndef CORE_LAYER_KIND_H
#define CORE_LAYER_KIND_H

#include "error.h"

typedef enum core_layer_kind { CORE_LAYER_DIR, CORE_LAYER_TAR, CORE_LAYER_DEB } core_layer_kind;

/* Decides the kind from the file itself (a directory, the "!<arch>" magic of a .deb, else tar). */
int core_layer_kind_of(const char *path, core_layer_kind *kind, core_error **err);
const char *core_layer_kind_name(core_layer_kind kind);

#endif
