/* libFuzzer target for the qcow2 reader corerun uses before anything is verified: the bytes
 * are a qcow2 file; it is opened, mapped and read at a few places. Nothing may crash, and
 * nothing may cost more memory than the file weighs (libFuzzer's malloc limit catches that). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qcow2_read.h"

static void read_at(core_qcow2 *q, uint64_t at, size_t len) {
  static uint8_t buf[4096];
  core_error *err = NULL;
  uint64_t size = core_qcow2_virtual_size(q), mapped = 0;
  if (at >= size) return;
  if (len > size - at) len = (size_t)(size - at);
  if (core_qcow2_pread(q, buf, len, at, &err) < 0) {
    if (err == NULL) abort(); /* a refusal always says why */
    core_error_free(err);
    err = NULL;
  }
  if (core_qcow2_map(q, at, &mapped, &err) < 0) {
    if (err == NULL) abort();
    core_error_free(err);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("fuzz-qcow2", MFD_CLOEXEC);
  if (fd < 0) abort();
  if (size && write(fd, data, size) != (ssize_t)size) abort();
  core_error *err = NULL;
  core_qcow2 *q = NULL;
  if (core_qcow2_open(fd, "fuzz.qcow2", &q, &err) == 0) {
    uint64_t vsize = core_qcow2_virtual_size(q);
    /* The start, the middle, the end, a read across a 512-byte boundary, and every 4 KiB of
     * the first 64 KiB, where the seeds' small clusters live. */
    read_at(q, 0, 4096);
    read_at(q, vsize / 2, 4096);
    read_at(q, vsize > 4096 ? vsize - 4096 : 0, 4096);
    read_at(q, 510, 1000);
    for (uint64_t at = 0; at < 65536; at += 4096) read_at(q, at, 1);
    core_qcow2_close(q);
  } else {
    if (err == NULL || q != NULL) abort(); /* a refusal says why and hands out nothing */
    core_error_free(err);
  }
  close(fd);
  return 0;
}
