/* The stages of coreinit, one per file, in the order main.c runs them. */
#ifndef INIT_INIT_H
#define INIT_INIT_H

#include <sys/types.h>

#include "conf.h"
#include "error.h"

/* coreinit's own failures (bad configuration, a module that will not load, ...). */
#define INIT_STATUS_FAILED 125

/* How the main command ended. */
typedef struct init_result {
  int status; /* exit code, or 128 + signal */
  int signal; /* the signal that killed it, or 0 */
} init_result;

/* mounts.c */
int init_mounts_setup(init_error *err);
int init_console_open(init_error *err);

/* net.c */
int init_hostname_set(const char *name, init_error *err);
int init_loopback_up(init_error *err);

/* modules.c */
int init_modules_load(const init_strv *modules, init_error *err);

/* spawn.c: the child side of fork. Never returns. */
_Noreturn void init_spawn_exec(const init_conf *c);

/* supervise.c: starts the main command and waits until it ends. */
int init_supervise(const init_conf *c, init_result *res, init_error *err);

/* shutdown.c: ends every other process and flushes the disks. */
void init_processes_stop(void);

/* report.c: tells the host how the main command ended, then powers off. */
_Noreturn void init_report(const init_result *res, const char *status_device);

#endif
