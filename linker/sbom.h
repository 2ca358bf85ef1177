/* The SBOM of an app (SPDX 2.3 JSON, spec/sbom.md): every source with its pin, every image
 * layer, and the packages found in them. Its bytes depend only on the plan and the merged root
 * file system (and corec's version), never on the output form, keys or recipients. */
#ifndef CORE_SBOM_H
#define CORE_SBOM_H

#include <jansson.h>

#include "buf.h"
#include "error.h"
#include "pkgdb.h"
#include "plan.h"
#include "rootfs.h"

#define CORE_SBOM_TITLE "sbom.spdx.json"

/* The plan's sources, numbered as the SBOM and provenance number them: 0 the kernel, 1 + i
 * rootfs layer i, 1 + n_layers + j files entry j (only those with a resolved source). */
typedef struct core_source_ref {
  const char *role;         /* "kernel", "rootfs", "file" */
  const core_source *src;   /* as app.yml wrote it */
  const core_resolved *res; /* as it was pinned */
  const char *guest_path;   /* files entries: where it goes */
} core_source_ref;

size_t core_source_count(const core_plan *plan);
/* Returns 1 and fills OUT for source K, 0 when K names a files entry without a source. */
int core_source_get(const core_plan *plan, size_t k, core_source_ref *out);
/* What identifies the source across builds ("rootfs busybox-static", "file /etc/motd"): the
 * name the provenance and corec diff key it by. Freed by the caller. */
char *core_source_name(const core_source_ref *s);

/* Packages of the finished tree FS (dpkg status, apk installed), each with the source number
 * of the layer that wrote the database, appended to OUT. */
int core_sbom_scan_rootfs(const core_rootfs *fs, core_pkg_list *out, core_error **err);
/* The control data of every source that is a Debian package, appended to OUT. */
int core_sbom_scan_debs(const core_plan *plan, core_pkg_list *out, core_error **err);

/* The SPDX document for PLAN and PKGS (sorted by the callee), as canonical JSON. */
int core_sbom_write(const core_plan *plan, core_pkg_list *pkgs, core_buf *out, core_error **err);

/* "pkg:deb/debian/NAME@VERSION?arch=ARCH" (or pkg:apk/alpine/...): percent-encoded. */
char *core_pkg_purl(const core_pkg *p);

#endif
