/* Bech32 (BIP 173) text encoding of byte strings, as age writes its keys: "age1..." recipients
 * and "AGE-SECRET-KEY-1..." identities. Only the checksummed encoding; no segwit rules. */
#ifndef CORE_BECH32_H
#define CORE_BECH32_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Longest string either function handles. BIP 173 says 90; age lifts that limit for plugin
 * keys, so this only bounds the work. */
#define CORE_BECH32_MAX 1024

/* Encodes DATA under HRP (lowercase) into OUT (NUL-terminated, OUT_SIZE bytes). UPPER writes
 * the whole string in upper case, as age does for secret keys. */
int core_bech32_encode(const char *hrp, const uint8_t *data, size_t len, int upper, char *out, size_t out_size,
                       core_error **err);

/* Decodes TEXT: all one case, a valid checksum, canonical 5-to-8-bit padding. HRP_OUT gets the
 * lowercased human-readable part (HRP_SIZE bytes), DATA the bytes (at most DATA_SIZE). */
int core_bech32_decode(const char *text, char *hrp_out, size_t hrp_size, uint8_t *data, size_t data_size,
                       size_t *data_len, core_error **err);

#endif
