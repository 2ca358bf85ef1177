/* Sealing: signs the app manifest (DSSE over an in-toto statement) and stores each signature
 * as an OCI referrer, then writes the TIM. Re-signing an existing artifact: resign.h. */
#ifndef CORE_SEAL_H
#define CORE_SEAL_H

#include <jansson.h>

#include "keys.h"
#include "link.h"

/* Signs the app manifest MANIFEST (MANIFEST_SIZE bytes) of the app NAME with KEY: adds the
 * envelope, the empty config and the signature manifest to BLOBS; *desc gets the signature
 * manifest's descriptor for the top index (the caller owns it). */
int core_seal_signature(core_blob_set *blobs, const char *name, const core_digest *manifest, uint64_t manifest_size,
                        EVP_PKEY *key, json_t **desc, core_error **err);

/* Adds the top index listing ENTRIES (descriptors, in order) to BLOBS; *index_json gets the
 * layout's index.json naming it, with NAME as its ref name. */
int core_seal_index(core_blob_set *blobs, const char *name, json_t *entries, core_buf *index_json, core_error **err);

/* Signs app->manifest once per key, in the order given (a key given twice signs once), and
 * adds the signature manifests, their envelopes and the top index to app->blobs; *index_json
 * gets the layout's index.json. */
int core_seal(core_linked_app *app, EVP_PKEY *const *keys, size_t n_keys, core_buf *index_json, core_error **err);
int core_seal_and_write(core_linked_app *app, EVP_PKEY *const *keys, size_t n_keys, const char *out_path,
                        core_error **err);

#endif
