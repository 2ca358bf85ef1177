/* Base64 on top of OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock. */
#include "base64.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

int core_base64_encode(const void *data, size_t len, char **out, core_error **err) {
  if (len > (size_t)INT32_MAX / 2) return core_error_set(err, EFBIG, "data too large for base64");
  char *s = malloc(4 * ((len + 2) / 3) + 1);
  if (s == NULL) return core_error_set(err, ENOMEM, "allocating base64 text");
  EVP_EncodeBlock((unsigned char *)s, data, (int)len);
  *out = s;
  return 0;
}

int core_base64_decode(const char *text, core_buf *out, core_error **err) {
  size_t len = strlen(text);
  if (len % 4 != 0) return core_error_set(err, 0, "invalid base64: length %zu is not a multiple of 4", len);
  for (size_t i = 0; i < len; i++) {
    char c = text[i];
    int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
             (c == '=' && i >= len - 2 && (i == len - 1 || text[len - 1] == '='));
    if (!ok) return core_error_set(err, 0, "invalid base64: unexpected character at offset %zu", i);
  }
  core_buf b = CORE_BUF_INIT;
  if (core_buf_reserve(&b, len / 4 * 3 + 1, err) < 0) return -1;
  int n = EVP_DecodeBlock(b.data, (const unsigned char *)text, (int)len);
  if (n < 0) {
    core_buf_release(&b);
    return core_error_set(err, 0, "invalid base64");
  }
  /* EVP_DecodeBlock counts the bytes that padding stands for; take them back off. */
  size_t pad = (len >= 1 && text[len - 1] == '=') + (len >= 2 && text[len - 2] == '=');
  b.len = (size_t)n - pad;
  *out = b;
  return 0;
}
