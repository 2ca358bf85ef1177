/* SHA-256 through OpenSSL's EVP interface. */
#include "digest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"

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

/* core_digest_copy: an I/O thread reads chunk k into slot k % CORE_COPY_SLOTS, publishes it,
 * then writes it out; the caller hashes the published chunks in order. A slot is filled again
 * only once the chunk in it was hashed (and, the I/O thread being sequential, written), so no
 * byte changes between being hashed and being written. */
typedef struct copy_job {
  core_read_fn *read;
  void *ctx;
  uint64_t len;
  int out_fd;
  uint8_t *buf; /* CORE_COPY_SLOTS slots of CORE_COPY_CHUNK bytes */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  uint64_t filled;   /* chunks read by the I/O thread */
  uint64_t hashed;   /* chunks hashed by the caller */
  int stop;          /* the caller gave up: the I/O thread ends */
  core_error *io_err; /* the I/O thread failed (and ended) */
} copy_job;

static size_t chunk_len(uint64_t len, uint64_t k) {
  uint64_t left = len - k * CORE_COPY_CHUNK;
  return left < CORE_COPY_CHUNK ? (size_t)left : CORE_COPY_CHUNK;
}

static uint8_t *slot(const copy_job *j, uint64_t k) { return j->buf + (size_t)(k % CORE_COPY_SLOTS) * CORE_COPY_CHUNK; }

static void copy_fail(copy_job *j, core_error *e) {
  pthread_mutex_lock(&j->mu);
  j->io_err = e;
  pthread_cond_broadcast(&j->cv);
  pthread_mutex_unlock(&j->mu);
}

static void *copy_io(void *arg) {
  copy_job *j = arg;
  uint64_t n = (j->len + CORE_COPY_CHUNK - 1) / CORE_COPY_CHUNK;
  for (uint64_t k = 0; k < n; k++) {
    pthread_mutex_lock(&j->mu);
    while (!j->stop && j->hashed + CORE_COPY_SLOTS <= k) pthread_cond_wait(&j->cv, &j->mu);
    int stop = j->stop;
    pthread_mutex_unlock(&j->mu);
    if (stop) break;
    uint8_t *p = slot(j, k);
    size_t m = chunk_len(j->len, k);
    core_error *e = NULL;
    if (j->read(j->ctx, k * CORE_COPY_CHUNK, p, m, &e) < 0) {
      copy_fail(j, e);
      break;
    }
    pthread_mutex_lock(&j->mu);
    j->filled = k + 1;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (j->out_fd >= 0 && core_write_all(j->out_fd, p, m, &e) < 0) {
      copy_fail(j, e);
      break;
    }
  }
  return NULL;
}

/* The same work in the calling thread alone: for one chunk, or when no thread can be made. */
static int copy_inline(copy_job *j, core_hasher *h, core_error **err) {
  for (uint64_t at = 0; at < j->len; at += CORE_COPY_CHUNK) {
    size_t m = chunk_len(j->len, at / CORE_COPY_CHUNK);
    if (j->read(j->ctx, at, j->buf, m, err) < 0 || core_hasher_update(h, j->buf, m, err) < 0) return -1;
    if (j->out_fd >= 0 && core_write_all(j->out_fd, j->buf, m, err) < 0) return -1;
  }
  return 0;
}

int core_digest_copy(core_read_fn *read, void *ctx, uint64_t len, int out_fd, core_digest *out, core_error **err) {
  cleanup_hasher core_hasher *h = NULL;
  if (core_hasher_new(&h, err) < 0) return -1;
  uint64_t n = (len + CORE_COPY_CHUNK - 1) / CORE_COPY_CHUNK;
  cleanup_free uint8_t *buf = malloc(n > 1 ? (size_t)CORE_COPY_SLOTS * CORE_COPY_CHUNK : CORE_COPY_CHUNK);
  if (buf == NULL) return core_error_set(err, ENOMEM, "allocating");
  copy_job j = {.read = read, .ctx = ctx, .len = len, .out_fd = out_fd, .buf = buf};
  pthread_t io;
  int started = 0;
  if (n > 1) {
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    /* Signals go to this thread, as before: the I/O thread blocks them all. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    started = pthread_create(&io, NULL, copy_io, &j) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  }
  if (!started) {
    if (n > 1) {
      pthread_cond_destroy(&j.cv);
      pthread_mutex_destroy(&j.mu);
    }
    if (copy_inline(&j, h, err) < 0) return -1;
    return core_hasher_final(h, out, err);
  }
  int rc = 0;
  for (uint64_t k = 0; k < n && rc == 0; k++) {
    pthread_mutex_lock(&j.mu);
    while (j.filled <= k && j.io_err == NULL) pthread_cond_wait(&j.cv, &j.mu);
    int failed = j.filled <= k;
    pthread_mutex_unlock(&j.mu);
    if (failed || core_hasher_update(h, slot(&j, k), chunk_len(len, k), err) < 0) rc = -1;
    pthread_mutex_lock(&j.mu);
    if (rc == 0) j.hashed = k + 1;
    else j.stop = 1;
    pthread_cond_broadcast(&j.cv);
    pthread_mutex_unlock(&j.mu);
  }
  pthread_join(io, NULL);
  pthread_cond_destroy(&j.cv);
  pthread_mutex_destroy(&j.mu);
  if (j.io_err != NULL) { /* the I/O thread's error comes first: it is why hashing stopped */
    if (*err == NULL) {
      *err = j.io_err;
    } else {
      core_error_free(j.io_err);
    }
    return -1;
  }
  if (rc < 0) return -1;
  return core_hasher_final(h, out, err);
}
