/* libFuzzer target for the launcher's artifact reader: the bytes are a TIM file, read by the
 * strict tar reader and then through verification with no trusted key, which must refuse. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tim_read.h"
#include "tim_verify.h"
#include "trust.h"

/* The reader takes a path, as corerun does: a memfd gives one without touching the disk. */
static int as_file(const uint8_t *data, size_t size, char path[64]) {
  int fd = memfd_create("fuzz-tim", MFD_CLOEXEC);
  if (fd < 0) abort();
  if (size && write(fd, data, size) != (ssize_t)size) abort();
  snprintf(path, 64, "/proc/self/fd/%d", fd);
  return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[64];
  int fd = as_file(data, size, path);
  core_error *err = NULL;
  core_tim *tim = NULL;
  if (core_tim_read(path, &tim, &err) == 0) {
    /* Whatever was accepted fits in the file it came from. */
    uint64_t total = tim->index_json.len;
    for (size_t i = 0; i < tim->n_blobs; i++) total += tim->blobs[i].size;
    if (total > size) abort();
    core_tim_free(tim);
  } else {
    if (err == NULL || tim != NULL) abort(); /* a refusal always says why and hands out nothing */
    core_error_free(err);
    err = NULL;
  }
  /* Nobody is trusted: every input, however well formed, must be refused. */
  core_trust none = {0};
  core_verified_app *app = NULL;
  if (core_tim_open_verified(path, &none, &app, &err) == 0 || app != NULL || err == NULL) abort();
  core_error_free(err);
  close(fd);
  return 0;
}
