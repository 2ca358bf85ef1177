/* QEMU's human monitor on a unix socket in a private directory: how corerun asks a guest to
 * power off (the ACPI power button) instead of killing it. */
#ifndef CORE_QEMU_MONITOR_H
#define CORE_QEMU_MONITOR_H

#include "error.h"

typedef struct core_qemu_monitor {
  char *dir;    /* mode 0700, removed afterwards */
  char *socket; /* dir/monitor */
} core_qemu_monitor;

int core_qemu_monitor_init(core_qemu_monitor *m, core_error **err);
/* Sends one command line; safe to call from the wait loop (not from a signal handler). */
int core_qemu_monitor_send(const core_qemu_monitor *m, const char *command, core_error **err);
void core_qemu_monitor_release(core_qemu_monitor *m);

#endif
