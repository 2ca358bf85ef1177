/* Bech32 as BIP 173 defines it: a human-readable part, '1', then 5-bit groups ending in a
 * six-character BCH checksum over the lowercased HRP and the data. */
#include "bech32.h"

#include <string.h>

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod_step(uint32_t chk, uint8_t v) {
  static const uint32_t gen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
  uint8_t top = (uint8_t)(chk >> 25);
  chk = ((chk & 0x1ffffff) << 5) ^ v;
  for (int i = 0; i < 5; i++)
    if ((top >> i) & 1) chk ^= gen[i];
  return chk;
}

/* The checksum covers the HRP expanded as BIP 173 says: high bits, a zero, low bits. */
static uint32_t polymod_hrp(const char *hrp, size_t hrp_len) {
  uint32_t chk = 1;
  for (size_t i = 0; i < hrp_len; i++) chk = polymod_step(chk, (uint8_t)((unsigned char)hrp[i] >> 5));
  chk = polymod_step(chk, 0);
  for (size_t i = 0; i < hrp_len; i++) chk = polymod_step(chk, (uint8_t)(hrp[i] & 31));
  return chk;
}

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }
static char upper_c(char c) { return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c; }

int core_bech32_encode(const char *hrp, const uint8_t *data, size_t len, int upper, char *out, size_t out_size,
                       core_error **err) {
  size_t hrp_len = strlen(hrp);
  size_t groups = (len * 8 + 4) / 5;
  if (hrp_len < 1 || hrp_len + 1 + groups + 6 + 1 > out_size || hrp_len + 1 + groups + 6 > CORE_BECH32_MAX)
    return core_error_set(err, 0, "bech32: '%s' key too long to encode", hrp);
  for (size_t i = 0; i < hrp_len; i++)
    if (hrp[i] < 33 || hrp[i] > 126 || (hrp[i] >= 'A' && hrp[i] <= 'Z'))
      return core_error_set(err, 0, "bech32: invalid human-readable part '%s'", hrp);
  uint32_t chk = polymod_hrp(hrp, hrp_len);
  size_t o = 0;
  memcpy(out, hrp, hrp_len);
  o = hrp_len;
  out[o++] = '1';
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; i++) {
    acc = (acc << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      uint8_t v = (uint8_t)((acc >> (bits - 5)) & 31);
      bits -= 5;
      chk = polymod_step(chk, v);
      out[o++] = charset[v];
    }
  }
  if (bits > 0) { /* the last group is padded with zero bits */
    uint8_t v = (uint8_t)((acc << (5 - bits)) & 31);
    chk = polymod_step(chk, v);
    out[o++] = charset[v];
  }
  for (int i = 0; i < 6; i++) chk = polymod_step(chk, 0);
  chk ^= 1;
  for (int i = 0; i < 6; i++) out[o++] = charset[(chk >> (5 * (5 - i))) & 31];
  out[o] = 0;
  if (upper)
    for (size_t i = 0; i < o; i++) out[i] = upper_c(out[i]);
  return 0;
}

int core_bech32_decode(const char *text, char *hrp_out, size_t hrp_size, uint8_t *data, size_t data_size,
                       size_t *data_len, core_error **err) {
  size_t n = strnlen(text, CORE_BECH32_MAX + 1);
  if (n > CORE_BECH32_MAX) return core_error_set(err, 0, "bech32: string too long");
  int has_lower = 0, has_upper = 0;
  for (size_t i = 0; i < n; i++) {
    char c = text[i];
    if (c < 33 || c > 126) return core_error_set(err, 0, "bech32: invalid character at position %zu", i + 1);
    has_lower |= (c >= 'a' && c <= 'z');
    has_upper |= (c >= 'A' && c <= 'Z');
  }
  /* BIP 173: a string is all lower or all upper case, never mixed. */
  if (has_lower && has_upper) return core_error_set(err, 0, "bech32: mixed upper and lower case");
  const char *sep = strrchr(text, '1');
  if (sep == NULL) return core_error_set(err, 0, "bech32: no '1' separator");
  size_t hrp_len = (size_t)(sep - text);
  size_t dlen = n - hrp_len - 1;
  if (hrp_len < 1 || dlen < 6) return core_error_set(err, 0, "bech32: too short");
  if (hrp_len + 1 > hrp_size) return core_error_set(err, 0, "bech32: human-readable part too long");
  for (size_t i = 0; i < hrp_len; i++) hrp_out[i] = lower(text[i]);
  hrp_out[hrp_len] = 0;
  uint32_t chk = polymod_hrp(hrp_out, hrp_len);
  uint32_t acc = 0;
  int bits = 0;
  size_t o = 0;
  for (size_t i = 0; i < dlen; i++) {
    const char *p = strchr(charset, lower(sep[1 + i]));
    if (p == NULL || *p == 0) return core_error_set(err, 0, "bech32: invalid character '%c'", sep[1 + i]);
    uint8_t v = (uint8_t)(p - charset);
    chk = polymod_step(chk, v);
    if (i >= dlen - 6) continue; /* the checksum carries no data */
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      if (o >= data_size) return core_error_set(err, 0, "bech32: more data than expected");
      data[o++] = (uint8_t)(acc >> (bits - 8));
      bits -= 8;
    }
  }
  if (chk != 1) return core_error_set(err, 0, "bech32: checksum mismatch (a typo, or a truncated key)");
  /* Leftover bits are padding: fewer than five and all zero, or the encoding was not canonical. */
  if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0) return core_error_set(err, 0, "bech32: non-canonical padding");
  *data_len = o;
  return 0;
}
