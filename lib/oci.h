/* OCI image-spec names and descriptors as the TIM format uses them (spec/tim.md). */
#ifndef CORE_OCI_H
#define CORE_OCI_H

#include <jansson.h>
#include <stdint.h>

#include "buf.h"
#include "digest.h"
#include "error.h"

#define OCI_LAYOUT_FILE "{\"imageLayoutVersion\":\"1.0.0\"}"
#define OCI_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_MT_EMPTY "application/vnd.oci.empty.v1+json"
#define OCI_ANN_REF_NAME "org.opencontainers.image.ref.name"
#define OCI_ANN_TITLE "org.opencontainers.image.title"
#define OCI_ANN_VERSION "org.opencontainers.image.version"

#define TIM_ARTIFACT_TYPE "application/vnd.core.tim.v1"
#define TIM_MT_CONFIG "application/vnd.core.runtime.config.v1+json"
#define TIM_MT_KERNEL "application/vnd.core.kernel.bzimage.v1"
#define TIM_MT_INITRAMFS "application/vnd.core.initramfs.v1.cpio+zstd"
/* The same initramfs as an age v1 file (spec/trust.md, "Encryption"); the descriptor's digest
 * and size are the ciphertext's, its annotations the plaintext's. */
#define TIM_MT_INITRAMFS_AGE TIM_MT_INITRAMFS "+age"
/* The SBOM (SPDX 2.3 JSON) and the provenance (an in-toto Statement v1 with an SLSA Provenance
 * v1 predicate) of the app: layers of its manifest, so the signature covers them (spec/sbom.md). */
#define TIM_MT_SBOM "application/spdx+json"
#define TIM_MT_PROVENANCE "application/vnd.in-toto+json"
#define CORE_ANN_PLAINTEXT_DIGEST "dev.core.plaintext.digest"
#define CORE_ANN_PLAINTEXT_SIZE "dev.core.plaintext.size"
#define TIM_PREDICATE_TYPE "urn:core:predicate:artifact:v1"
#define INTOTO_STATEMENT_TYPE "https://in-toto.io/Statement/v1"

/* A descriptor {mediaType, digest, size}; extra fields are added by the caller. */
json_t *core_oci_descriptor(const char *media_type, const core_digest *digest, uint64_t size);

/* Reads a descriptor's digest and size, checking both are well-formed. */
int core_oci_descriptor_parse(const json_t *desc, const char **media_type, core_digest *digest, uint64_t *size,
                              core_error **err);

/* index.json exactly as corec writes it: one entry, the top index (TOP, TOP_SIZE), named NAME
 * (the signed app name). Readers compare it byte for byte: no digest covers this file. */
int core_tim_index_json(const core_digest *top, uint64_t top_size, const char *name, core_buf *out, core_error **err);

#endif
