/* Passphrases for encrypted signing keys and age-encrypted artifacts: the first line of a
 * file, or one line typed at the terminal with echo off. Buffers are wiped on failure. */
#ifndef CORE_PASSPHRASE_H
#define CORE_PASSPHRASE_H

#include <stddef.h>

#include "error.h"

/* The longest passphrase accepted anywhere (bytes, without the NUL). */
#define CORE_PASSPHRASE_MAX 1023

/* The first line of FILE (without its line end) into BUF, NUL-terminated. */
int core_passphrase_from_file(const char *file, char *buf, size_t size, core_error **err);

/* Asks on /dev/tty, printing "Passphrase for WHAT: ", with echo off; the terminal's settings
 * come back on every path, signals included. Without a terminal: an error whose text is
 * NO_TTY_HINT (what to pass instead). */
int core_passphrase_from_tty(const char *what, const char *no_tty_hint, char *buf, size_t size, core_error **err);

/* Wipes BUF (SIZE bytes): for a passphrase that has been used. */
void core_passphrase_wipe(char *buf, size_t size);

#endif
