/* The stages of coreinit, one or two per file, in the order main.c runs them. */
#ifndef INIT_INIT_H
#define INIT_INIT_H

#include <stdbool.h>
#include <sys/types.h>

#include "conf.h"
#include "error.h"

/* coreinit's own failures (bad configuration, a module that will not load, a failed
 * onboot step, ...). */
#define INIT_STATUS_FAILED 125

/* How the run ended. */
typedef struct init_result {
  int status;  /* exit code, or 128 + signal */
  int signal;  /* the signal that killed the main command, or 0 */
  int request; /* services only: the signal that asked for the shutdown, or 0 */
} init_result;

/* mounts.c */
int init_mounts_setup(init_error *err);
int init_console_open(init_error *err);
int init_mkdir_p(const char *path, init_error *err);

/* net.c */
int init_hostname_set(const char *name, init_error *err);
int init_loopback_up(init_error *err);
int init_ifaces_setup(const init_conf *c, init_error *err);
/* Writes the name servers of every interface to path (a resolv.conf); nothing if none. */
int init_resolv_conf_write(const init_conf *c, const char *path, init_error *err);

/* sysctl.c: the first pass skips keys that do not exist yet (a module may add them);
 * the second, after the modules, writes just those and fails if one is still missing. */
int init_sysctls_apply(const init_strv *sysctls, bool second_pass, init_error *err);

/* modules.c */
int init_modules_load(const init_strv *modules, init_error *err);

/* appmounts.c: the app's tmpfs and volume mounts, and the roots processes chroot into;
 * init_app_unmount undoes both at shutdown, so that volumes are clean on the host. */
int init_app_mount(const init_conf *c, init_error *err);
int init_roots_prepare(const init_conf *c, init_error *err);
void init_app_unmount(void);

/* user.c: in the child, switches to the user of a process (after its chroot). *home is
 * set to the user's home directory from /etc/passwd ("/" when there is none). */
int init_user_become(const char *user, const char **home, init_error *err);
/* Collects into groups (up to max, starting at n) the gids of the /etc/group lines in
 * text that name user as a member; returns the new count. */
size_t init_groups_parse(const char *text, size_t len, const char *user, gid_t *groups, size_t n,
                         size_t max);

/* power.c: the input device of the ACPI power button (-1: none), and whether a press
 * was read from it since the last call. */
int init_power_button_open(void);
bool init_power_button_pressed(int fd);

/* spawn.c: starts a process of the app in a session of its own. The main command gets the
 * console as its terminal; the others read from /dev/null. kind names it in messages
 * ("service", "onboot step", ...; NULL for the main command). */
pid_t init_spawn(const init_proc *p, const char *kind, init_error *err);

/* supervise.c */
typedef struct init_svc {
  const init_proc *p;
  pid_t pid;            /* 0 while not running */
  long long started_ms; /* when it was last started */
  long long restart_at; /* 0: no restart due */
  int delay_ms;         /* how long the next restart waits */
} init_svc;

typedef struct init_supervisor {
  const init_conf *c;
  init_proc main; /* borrows c->argv and c->env; argv.n == 0: no main command */
  init_svc *svcs;
  size_t n_svcs;
  pid_t main_pid;
  unsigned pending; /* signals for the main command that came before it started */
  int stop;         /* services only: the signal that asked for the shutdown */
  bool booted;      /* the onboot steps succeeded, so the onshutdown steps are due */
} init_supervisor;

long long init_now_ms(void);
void init_sleep_ms(long long ms);
/* Blocks the signals coreinit waits for, so none is lost between waits. */
void init_signals_setup(void);
/* After the modules: from now on a press of the power button counts as SIGPWR. */
void init_power_button_watch(void);
/* Runs the onboot steps in order; the first that fails ends the boot. */
int init_boot_steps(init_supervisor *s, init_error *err);
/* Starts the services and the main command, restarts services by their policy, and
 * returns when the main command ends (or, without one, on a shutdown signal). */
int init_supervise(init_supervisor *s, init_result *res, init_error *err);
/* Stops the services (SIGTERM, up to 2 s, SIGKILL) and runs the onshutdown steps. */
void init_services_stop(init_supervisor *s);
void init_shutdown_steps(init_supervisor *s);

/* shutdown.c: ends every other process and flushes the disks. */
void init_processes_stop(void);

/* report.c: tells the host how the run ended, then powers off. */
/* report.c: "alive" on the status device, the first sign that the guest runs coreinit
 * (the host uses it to tell a working accelerator from a hung one). */
void init_report_alive(const char *status_device);
_Noreturn void init_report(const init_result *res, const char *status_device);

#endif
