/* corec's version: printed by 'corec --version' and recorded in every artifact's SBOM and
 * provenance (spec/sbom.md), so it lives where both cmd/ and linker/ can read it. */
#ifndef CORE_VERSION_H
#define CORE_VERSION_H

#define CORE_COREC_VERSION "0.1.0"

#endif
