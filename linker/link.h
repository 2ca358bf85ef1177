/* The linker: executes a plan into the blobs of an app (kernel, initramfs, runtime config)
 * and its manifest. Reads only what the plan names. */
#ifndef CORE_LINK_H
#define CORE_LINK_H

#include "encrypt.h"
#include "plan.h"
#include "reporter.h"
#include "tim_write.h"

typedef struct core_linked_app {
  core_blob_set blobs;
  core_digest manifest;   /* the artifact's identity */
  uint64_t manifest_size;
  char *name;
} core_linked_app;

/* reporter (may be NULL) gets the unpacking progress of each layer and, as a notice, the
 * rendered warnings ("app.yml:7:5: warning: ...") of a link that succeeds. With ENC (else
 * NULL), the initramfs is stored encrypted. */
int core_link(const core_plan *plan, core_reporter *reporter, const core_encryption *enc, core_linked_app *out,
              core_error **err);
void core_linked_app_release(core_linked_app *app);
#define cleanup_linked_app __attribute__((cleanup(core_linked_app_release)))

/* The bytes of coreinit embedded in this corec. */
const void *core_coreinit_bytes(size_t *len);

#endif
