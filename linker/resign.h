/* Adding signatures to an artifact that exists (a TIM, raw, qcow2 or ISO) without changing
 * its identity: the app manifest stays as it is; new signature manifests, their envelopes, a
 * new top index and index.json are written around it (spec/tim.md, "Adding signatures"). */
#ifndef CORE_RESIGN_H
#define CORE_RESIGN_H

#include "digest.h"
#include "disk_form.h"
#include "error.h"
#include "fsutil.h"
#include "keys.h"

typedef struct core_resign core_resign;

/* Opens PATH and checks that it is intact, trusting nothing: every blob hashes to its name
 * (the reader), index.json names one top index that lists one app manifest, present with its
 * size, and every signature manifest of it is present with its envelope. A disk form must
 * also have its metadata region where its manifest says. Corrupt artifacts are refused. */
int core_resign_open(const char *path, core_resign **out, core_error **err);
void core_resign_free(core_resign *r);
void core_resign_freep(core_resign **r);
#define cleanup_resign __attribute__((cleanup(core_resign_freep)))

/* The artifact's identity, which re-signing never changes. */
const core_digest *core_resign_digest(const core_resign *r);
core_form core_resign_form(const core_resign *r);

/* Signs the app manifest with KEY. Returns 1 when a signature was added, 0 when KEY had
 * already signed it (an envelope of this manifest that verifies with KEY): nothing is added. */
int core_resign_add(core_resign *r, EVP_PKEY *key, core_error **err);
/* How many signatures core_resign_add added. */
size_t core_resign_added(const core_resign *r);

/* Writes the artifact with every signature into F, a temporary file opened (core_atomic_open)
 * beside the output; the caller commits it, after whatever checks it makes on F's path. A
 * disk form is copied (holes stay holes) and only its metadata region is rewritten: the new
 * tar must fit the region, whose remaining bytes stay zero, so the file's signed digest holds. */
int core_resign_write(core_resign *r, core_atomic_file *f, core_error **err);

/* The mode of the input file, for the output. */
unsigned core_resign_mode(const core_resign *r);

#endif
