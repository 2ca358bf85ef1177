/* The per-run overlay: a small uncompressed cpio holding /etc/core/run.conf (command
 * override, status device), placed before the verified initramfs in the initrd. */
#ifndef CORE_RUN_OVERLAY_H
#define CORE_RUN_OVERLAY_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

typedef struct core_run_settings {
  char *const *argv;         /* replaces the app's main command when argc > 0 */
  size_t argc;
  const char *status_device; /* where coreinit writes "exit-status N" */
  const core_buf *extra;     /* further run.conf lines (devices), may be NULL */
} core_run_settings;

int core_run_overlay(const core_run_settings *s, core_buf *cpio, core_error **err);

/* A sealed memfd holding the overlay followed by the verified initramfs. */
int core_run_initrd(const core_buf *overlay, int initramfs_fd, int *out_fd, core_error **err);

#endif
