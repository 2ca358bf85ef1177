/* corec build --encrypt-to / --encrypt-recipients-file / --encrypt-passphrase-file. */
#include "corec_encrypt_flags.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

static int add_recipients(corec_encryption *e, const core_age_recipient *r, size_t n, core_error **err) {
  if (e->n_recipients + n > CORE_AGE_MAX_STANZAS)
    return core_error_set(err, 0, "at most %d age recipients (an age header holds no more stanzas for core to read)",
                          CORE_AGE_MAX_STANZAS);
  core_age_recipient *grown = realloc(e->recipients, (e->n_recipients + n) * sizeof *grown);
  if (grown == NULL) return core_error_set(err, ENOMEM, "allocating");
  memcpy(grown + e->n_recipients, r, n * sizeof *r);
  e->recipients = grown;
  e->n_recipients += n;
  return 0;
}

int corec_encryption_flag(corec_encryption *e, int flag, const char *value, core_error **err) {
  e->wanted = 1;
  if (flag == 'W') {
    if (e->passphrase_file) return core_error_set(err, 0, "--encrypt-passphrase-file given twice");
    e->passphrase_file = value;
    return 0;
  }
  if (flag == 'E') {
    core_age_recipient r;
    if (core_age_recipient_parse(value, &r, err) < 0)
      return core_error_wrap(err, "--encrypt-to '%s' (give an age1... recipient, as age-keygen -y prints it)", value);
    return add_recipients(e, &r, 1, err);
  }
  cleanup_free core_age_recipient *list = NULL;
  size_t n = 0;
  if (core_age_recipients_load(value, &list, &n, err) < 0) return core_error_wrap(err, "--encrypt-recipients-file");
  return add_recipients(e, list, n, err);
}

int corec_encryption_finish(corec_encryption *e, core_error **err) {
  if (!e->wanted) return 0;
  if (e->passphrase_file && e->n_recipients)
    return core_error_set(err, 0,
                          "--encrypt-passphrase-file cannot be combined with recipients: an age file is encrypted to "
                          "recipients or to one passphrase, never both; choose one");
  if (e->passphrase_file && core_passphrase_from_file(e->passphrase_file, e->passphrase, sizeof e->passphrase, err) < 0)
    return core_error_wrap(err, "--encrypt-passphrase-file");
  e->spec = (core_encryption){.recipients = e->recipients, .n_recipients = e->n_recipients,
                              .passphrase = e->passphrase_file ? e->passphrase : NULL};
  return 0;
}

void corec_encryption_release(corec_encryption *e) {
  free(e->recipients);
  core_passphrase_wipe(e->passphrase, sizeof e->passphrase);
}
