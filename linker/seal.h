/* Sealing: signs the app manifest (DSSE over an in-toto statement) and stores the signature
 * as an OCI referrer, then writes the TIM. */
#ifndef CORE_SEAL_H
#define CORE_SEAL_H

#include "keys.h"
#include "link.h"

/* Signs app->manifest and adds the signature manifest, its envelope and the top index to
 * app->blobs; *index_json gets the layout's index.json. */
int core_seal(core_linked_app *app, EVP_PKEY *key, core_buf *index_json, core_error **err);
int core_seal_and_write(core_linked_app *app, EVP_PKEY *key, const char *out_path, core_error **err);

#endif
