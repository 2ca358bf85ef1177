/* Sealing: signs the app manifest (DSSE over an in-toto statement) and stores the signature
 * as an OCI referrer, then writes the TIM. */
#ifndef CORE_SEAL_H
#define CORE_SEAL_H

#include "keys.h"
#include "link.h"

int core_seal_and_write(core_linked_app *app, EVP_PKEY *key, const char *out_path, core_error **err);

#endif
