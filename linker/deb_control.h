/* A Debian package's control file (the "control" member of its control.tar.*), for the SBOM:
 * the package's own name, version and architecture (linker/pkgdb.h parses it). */
#ifndef CORE_DEB_CONTROL_H
#define CORE_DEB_CONTROL_H

#include "buf.h"
#include "error.h"

/* A control file is a few KiB; more is not one. */
#define CORE_DEB_CONTROL_MAX (1u << 20)

/* Reads the control file of the .deb at PATH into OUT (at most CORE_DEB_CONTROL_MAX bytes). */
int core_deb_control_read(const char *path, core_buf *out, core_error **err);

#endif
