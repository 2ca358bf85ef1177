/* GUID text and derivation (see guid.h). */
#include "guid.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Where each on-disk byte's two hex digits sit in the text: the first three fields are stored
 * little-endian, so their bytes come reversed. */
static const uint8_t text_pos[16] = {6, 4, 2, 0, 11, 9, 16, 14, 19, 21, 24, 26, 28, 30, 32, 34};

static int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int core_guid_parse(const char *text, uint8_t out[16], core_error **err) {
  bool ok = strlen(text) == CORE_GUID_STRLEN;
  for (size_t i = 0; ok && i < CORE_GUID_STRLEN; i++)
    ok = (i == 8 || i == 13 || i == 18 || i == 23) ? text[i] == '-' : hex(text[i]) >= 0;
  if (!ok) return core_error_set(err, 0, "'%s' is not a GUID (like C12A7328-F81F-11D2-BA4B-00A0C93EC93B)", text);
  for (int i = 0; i < 16; i++) out[i] = (uint8_t)(hex(text[text_pos[i]]) << 4 | hex(text[text_pos[i] + 1]));
  return 0;
}

void core_guid_format(const uint8_t guid[16], char out[CORE_GUID_STRLEN + 1]) {
  static const char digits[] = "0123456789ABCDEF";
  memset(out, '-', CORE_GUID_STRLEN);
  out[CORE_GUID_STRLEN] = '\0';
  for (int i = 0; i < 16; i++) {
    out[text_pos[i]] = digits[guid[i] >> 4];
    out[text_pos[i] + 1] = digits[guid[i] & 15];
  }
}

int core_guid_derive(const core_digest *seed, const char *label, uint8_t out[16], core_error **err) {
  char msg[512];
  int len = snprintf(msg, sizeof msg, "core-guid%c%s%c%s", 0, seed->str, 0, label);
  if (len < 0 || (size_t)len >= sizeof msg) return core_error_set(err, 0, "GUID label '%s' is too long", label);
  core_digest d;
  if (core_digest_bytes(msg, (size_t)len, &d, err) < 0) return -1;
  const char *h = core_digest_hex(&d);
  uint8_t b[16]; /* in RFC 4122 (big-endian) order */
  for (int i = 0; i < 16; i++) b[i] = (uint8_t)(hex(h[2 * i]) << 4 | hex(h[2 * i + 1]));
  b[6] = (uint8_t)((b[6] & 0x0F) | 0x40); /* version 4 */
  b[8] = (uint8_t)((b[8] & 0x3F) | 0x80); /* variant 1 (RFC 4122) */
  static const uint8_t from[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  for (int i = 0; i < 16; i++) out[i] = b[from[i]];
  return 0;
}
