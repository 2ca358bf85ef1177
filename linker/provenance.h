/* The provenance of an app: an in-toto Statement v1 whose predicate is SLSA Provenance v1
 * (spec/sbom.md, "The provenance"). Like the SBOM, a function of the build's inputs only: no
 * clock, no host name, no path of the build machine, nothing about the output's form or keys. */
#ifndef CORE_PROVENANCE_H
#define CORE_PROVENANCE_H

#include "buf.h"
#include "digest.h"
#include "error.h"
#include "pkgdb.h"
#include "plan.h"

#define CORE_PROVENANCE_TITLE "provenance.intoto.json"
#define CORE_SLSA_PREDICATE_TYPE "https://slsa.dev/provenance/v1"
/* Ours, documented in spec/sbom.md: what externalParameters and resolvedDependencies mean. */
#define CORE_BUILD_TYPE "urn:core:build-type:corec-build:v1"
#define CORE_BUILDER_ID "urn:core:builder:corec"

/* What the statement is about: the blobs the manifest lists besides these two documents (the
 * manifest itself names them, so it cannot be a subject). */
typedef struct core_provenance_subjects {
  core_digest kernel, initramfs, config; /* initramfs: the plaintext's, when it is stored encrypted */
} core_provenance_subjects;

/* PKGS: what core_sbom_scan_debs found (a Debian package source is named by its own control
 * data); other entries are ignored. */
int core_provenance_write(const core_plan *plan, const core_pkg_list *pkgs, const core_provenance_subjects *subjects,
                          core_buf *out, core_error **err);

#endif
