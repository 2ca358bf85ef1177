/* The QEMU backend: direct kernel boot from sealed memfds, console on stdio, the guest's
 * exit status read back from isa-debug-exit and a dedicated serial port. */
#ifndef CORE_QEMU_H
#define CORE_QEMU_H

#include <stdint.h>

#include "error.h"

typedef enum core_accel { CORE_ACCEL_AUTO, CORE_ACCEL_KVM, CORE_ACCEL_TCG } core_accel;

typedef struct core_qemu_opts {
  const char *binary;  /* qemu-system-x86_64 unless set */
  core_accel accel;
  uint64_t memory_mib;
  unsigned cpus;
  const char *cmdline; /* the app's part of the kernel command line */
  int quiet;
  char *const *device_args; /* more arguments (network, disks), NULL-terminated or NULL */
  unsigned stop_timeout;    /* seconds a guest gets to power off when corerun is told to stop */
  const char *kvm_device;   /* /dev/kvm unless set (tests name a stand-in) */
  unsigned probe_seconds;   /* how long KVM has to show a sign of life; 0 = the default */
} core_qemu_opts;

/* The serial port coreinit reports on; it is the second one QEMU is given. */
#define CORE_QEMU_STATUS_DEVICE "/dev/ttyS1"

/* Boots and waits. Under KVM (auto or kvm) the guest must write "alive" on the status port
 * within the probe bound; if it does not, or QEMU dies first, auto boots the same bytes again
 * under TCG (and remembers that for this host boot, see accel.h) and kvm fails.
 * *guest_status is the main command's exit status (0..255) on success;
 * -1 with an error when the guest gave none or QEMU failed. */
int core_qemu_run(const core_qemu_opts *opts, int kernel_fd, int initrd_fd, int *guest_status, core_error **err);

/* Whether the status port's text holds coreinit's first word, the line "alive". */
int core_qemu_status_alive(const char *status_text);

/* Decodes QEMU's wait status and the status port's text into the guest's exit status. */
int core_qemu_decode_status(int wait_status, const char *status_text, int *guest_status, core_error **err);

#endif
