/* corec build's --encrypt-* flags, gathered into one encryption spec. */
#ifndef COREC_ENCRYPT_FLAGS_H
#define COREC_ENCRYPT_FLAGS_H

#include "age.h"
#include "encrypt.h"
#include "error.h"
#include "passphrase.h"

typedef struct corec_encryption {
  int wanted; /* some --encrypt-* flag was given */
  core_age_recipient *recipients;
  size_t n_recipients;
  const char *passphrase_file;
  char passphrase[CORE_PASSPHRASE_MAX + 1];
  core_encryption spec; /* filled by corec_encryption_finish */
} corec_encryption;

/* One flag: 'E' --encrypt-to, 'R' --encrypt-recipients-file, 'W' --encrypt-passphrase-file. */
int corec_encryption_flag(corec_encryption *e, int flag, const char *value, core_error **err);
/* Checks the combination and reads the passphrase; fills e->spec. */
int corec_encryption_finish(corec_encryption *e, core_error **err);
void corec_encryption_release(corec_encryption *e);
#define cleanup_corec_encryption __attribute__((cleanup(corec_encryption_release)))

#endif
