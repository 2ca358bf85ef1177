/* SHA-256 through OpenSSL's EVP interface. */
#include "digest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"

struct core_hasher {
  EVP_MD_CTX *ctx;
};

int core_hasher_new(core_hasher **out, core_error **err) {
  core_hasher *h = calloc(1, sizeof *h);
  if (h == NULL) return core_error_set(err, ENOMEM, "allocating a hasher");
  h->ctx = EVP_MD_CTX_new();
  if (h->ctx == NULL || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
    core_hasher_free(h);
    return core_error_openssl(err, "starting SHA-256");
  }
  *out = h;
  return 0;
}

int core_hasher_update(core_hasher *h, const void *data, size_t len, core_error **err) {
  if (EVP_DigestUpdate(h->ctx, data, len) != 1) return core_error_openssl(err, "hashing");
  return 0;
}

int core_hasher_final(core_hasher *h, core_digest *out, core_error **err) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != CORE_SHA256_LEN)
    return core_error_openssl(err, "finishing SHA-256");
  memcpy(out->str, "sha256:", 7);
  for (unsigned i = 0; i < n; i++) snprintf(out->str + 7 + 2 * i, 3, "%02x", md[i]);
  return 0;
}

void core_hasher_free(core_hasher *h) {
  if (h == NULL) return;
  EVP_MD_CTX_free(h->ctx);
  free(h);
}

void core_hasher_freep(core_hasher **h) {
  core_hasher_free(*h);
  *h = NULL;
}

int core_digest_bytes(const void *data, size_t len, core_digest *out, core_error **err) {
  cleanup_hasher core_hasher *h = NULL;
  if (core_hasher_new(&h, err) < 0 || core_hasher_update(h, data, len, err) < 0) return -1;
  return core_hasher_final(h, out, err);
}

int core_digest_file(const char *path, core_digest *out, uint64_t *size, core_error **err) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return core_error_set(err, errno, "opening '%s'", path);
  return core_digest_fd(fd, path, out, size, err);
}

int core_digest_fd(int fd, const char *name, core_digest *out, uint64_t *size, core_error **err) {
  cleanup_hasher core_hasher *h = NULL;
  if (core_hasher_new(&h, err) < 0) return -1;
  uint64_t total = 0;
  static __thread char buf[1 << 16];
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof buf, (off_t)total);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core_error_set(err, errno, "reading '%s'", name);
    if (n == 0) break;
    total += (uint64_t)n;
    if (core_hasher_update(h, buf, (size_t)n, err) < 0) return -1;
  }
  if (size) *size = total;
  return core_hasher_final(h, out, err);
}

int core_digest_is_valid(const char *s) {
  if (s == NULL || strncmp(s, "sha256:", 7) != 0 || strlen(s) != CORE_DIGEST_STRLEN) return 0;
  for (const char *p = s + 7; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
  return 1;
}
