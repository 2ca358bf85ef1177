/* libFuzzer target for the age reader: the bytes are an age file, parsed and decrypted with a
 * fixed test identity and passphrase (the seeds were made for them), into a memfd. Anything
 * may be refused, but a refusal must say why, and what is accepted must fit in the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "age.h"

/* The identity of the seeds in tests/fuzz/corpus/fuzz_age/: bytes 1..32. */
static const core_age_identity fuzz_identity = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                                  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int in = memfd_create("fuzz-age-in", MFD_CLOEXEC), out = memfd_create("fuzz-age-out", MFD_CLOEXEC);
  if (in < 0 || out < 0) abort();
  if (size && write(in, data, size) != (ssize_t)size) abort();
  core_error *err = NULL;
  /* A low scrypt bound: the fuzzer must not be able to buy seconds of work per input. */
  int rc = core_age_decrypt_fd(in, size, &fuzz_identity, 1, "fuzz", 4, out, NULL, &err);
  struct stat st;
  if (fstat(out, &st) < 0) abort();
  if (rc == 0) {
    if (err != NULL || (uint64_t)st.st_size > size) abort(); /* plaintext is never longer than the file */
  } else {
    if (err == NULL || err->msg == NULL) abort();
    core_error_free(err);
  }
  close(in);
  close(out);
  return 0;
}
