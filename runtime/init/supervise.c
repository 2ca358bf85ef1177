/* Runs the app's processes as PID 1 must: the onboot steps one by one, the services with
 * their restart policies, the main command; reaps every orphan; turns signals sent to
 * init into forwarding (to the main command) or a shutdown (services only); at the end
 * stops the services and runs the onshutdown steps. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

#define INIT_BACKOFF_MIN_MS 100
#define INIT_BACKOFF_MAX_MS 10000
/* A service that ran this long before exiting was healthy: its next restart is quick. */
#define INIT_BACKOFF_RESET_MS 10000
#define INIT_STOP_TERM_MS 2000
#define INIT_STOP_KILL_MS 1000
/* An onshutdown step that hangs must not keep the machine from powering off. */
#define INIT_SHUTDOWN_STEP_MS 30000

/* The signals coreinit handles; all blocked, and read one at a time from init_sigfd. */
static const int init_signals[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPWR};
static int init_sigfd = -1;
/* The power button's input device, or -1 if the machine has none (or its modules are not
 * loaded). A press counts as SIGPWR. */
static int init_powerfd = -1;

long long init_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void init_sleep_ms(long long ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

static void init_signal_set(sigset_t *set) {
  sigemptyset(set);
  for (size_t i = 0; i < sizeof init_signals / sizeof init_signals[0]; i++)
    sigaddset(set, init_signals[i]);
}

/* Never runs (the signals stay blocked); it only exists because the kernel drops a
 * signal sent to PID 1 whose action is the default. */
static void init_no_handler(int sig) { (void)sig; }

void init_signals_setup(void) {
  sigset_t set;
  init_signal_set(&set);
  sigprocmask(SIG_BLOCK, &set, NULL);
  struct sigaction sa = {.sa_handler = init_no_handler};
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof init_signals / sizeof init_signals[0]; i++)
    sigaction(init_signals[i], &sa, NULL);
  /* If this fails (it cannot without a broken kernel), the loop below still reaps and
   * keeps time; only signals go unseen. */
  init_sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

void init_power_button_watch(void) { init_powerfd = init_power_button_open(); }

typedef enum init_event_kind { INIT_EV_EXIT, INIT_EV_SIGNAL, INIT_EV_TIMEOUT } init_event_kind;

typedef struct init_event {
  init_event_kind kind;
  pid_t pid;  /* EXIT */
  int status; /* EXIT: as waitpid gives it */
  int sig;    /* SIGNAL */
} init_event;

/* Waits for the next thing to react to: a child that ended (orphans included), a signal,
 * a press of the power button, or the deadline (-1: none). Signals stay blocked and are
 * read from a signalfd, so none can slip in between the checks and the wait. */
static void init_next_event(long long deadline, init_event *ev) {
  for (;;) {
    int st;
    pid_t pid = waitpid(-1, &st, WNOHANG);
    if (pid > 0) {
      *ev = (init_event){.kind = INIT_EV_EXIT, .pid = pid, .status = st};
      return;
    }
    struct signalfd_siginfo si;
    if (init_sigfd >= 0 && read(init_sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
      if (si.ssi_signo == SIGCHLD) continue;
      *ev = (init_event){.kind = INIT_EV_SIGNAL, .sig = (int)si.ssi_signo};
      return;
    }
    if (init_powerfd >= 0 && init_power_button_pressed(init_powerfd)) {
      *ev = (init_event){.kind = INIT_EV_SIGNAL, .sig = SIGPWR};
      return;
    }
    int timeout = -1;
    if (deadline >= 0) {
      long long left = deadline - init_now_ms();
      if (left <= 0) {
        *ev = (init_event){.kind = INIT_EV_TIMEOUT};
        return;
      }
      timeout = left > 60000 ? 60000 : (int)left;
    }
    struct pollfd fds[2] = {{.fd = init_sigfd, .events = POLLIN},
                            {.fd = init_powerfd, .events = POLLIN}};
    /* Without a signalfd, poll at least now and then so children are still reaped. */
    if (init_sigfd < 0 && (timeout < 0 || timeout > 100)) timeout = 100;
    poll(fds, 2, timeout);
  }
}

/* The status in the shell's numbering: the exit code, or 128 + the signal. */
static int init_status_of(int st, int *sig) {
  *sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  return *sig ? 128 + *sig : WEXITSTATUS(st);
}

/* From the configuration, not s->main: signals during the onboot steps need the answer
 * before the main command is set up. */
static bool init_has_main(const init_supervisor *s) { return s->c->argv.n > 0; }

/* SIGTERM, SIGINT and SIGHUP go on to the main command, and SIGPWR (the power button)
 * becomes SIGTERM for it. Without a main command, SIGTERM, SIGINT (Ctrl-Alt-Del) and
 * SIGPWR ask for the shutdown. */
static void init_on_signal(init_supervisor *s, int sig) {
  if (!init_has_main(s)) {
    if (sig != SIGHUP && !s->stop) s->stop = sig;
    return;
  }
  int fwd = sig == SIGPWR ? SIGTERM : sig;
  if (s->main_pid > 0)
    kill(s->main_pid, fwd);
  else
    s->pending |= 1u << fwd; /* delivered once the main command has started */
}

static init_svc *init_svc_of(init_supervisor *s, pid_t pid) {
  for (size_t i = 0; i < s->n_svcs; i++)
    if (s->svcs[i].pid == pid) return &s->svcs[i];
  return NULL;
}

/* Runs one step to its end. Returns its status (as init_status_of gives it), or -1 if it
 * could not be started. timeout_ms 0: no limit. */
static int init_step_run(init_supervisor *s, const init_proc *p, const char *kind,
                         long long timeout_ms, init_error *err) {
  pid_t pid = init_spawn(p, kind, err);
  if (pid < 0) return -1;
  long long deadline = timeout_ms ? init_now_ms() + timeout_ms : -1;
  for (;;) {
    init_event ev;
    init_next_event(deadline, &ev);
    if (ev.kind == INIT_EV_SIGNAL) init_on_signal(s, ev.sig);
    if (ev.kind == INIT_EV_TIMEOUT) {
      fprintf(stderr, "coreinit: %s '%s' still running after %lld s; killing it\n", kind, p->name,
              timeout_ms / 1000);
      kill(-pid, SIGKILL);
      deadline = -1;
    }
    if (ev.kind == INIT_EV_EXIT && ev.pid == pid) {
      int sig;
      return init_status_of(ev.status, &sig);
    }
  }
}

int init_boot_steps(init_supervisor *s, init_error *err) {
  const init_procv *steps = &s->c->onboot;
  for (size_t i = 0; i < steps->n; i++) {
    /* A shutdown asked for during the boot: no point in booting further. */
    if (s->stop) return 0;
    int status = init_step_run(s, &steps->v[i], "onboot step", 0, err);
    if (status < 0) return -1;
    if (status != 0)
      return init_error_set(err, 0, "onboot step '%s' failed with status %d", steps->v[i].name,
                            status);
  }
  s->booted = true;
  return 0;
}

static int init_svc_start(init_svc *v, init_error *err) {
  pid_t pid = init_spawn(v->p, "service", err);
  if (pid < 0) return -1;
  v->pid = pid;
  v->started_ms = init_now_ms();
  v->restart_at = 0;
  return 0;
}

static void init_svc_exited(init_svc *v, int st) {
  pid_t pid = v->pid;
  v->pid = 0;
  /* A service is its whole process group: what it left behind would hold its port or
   * files against the next start. The kernel does not reuse the number while a member
   * lives; if none is left this finds nothing (coreinit forks nothing in between, and
   * pids are handed out in a cycle, so another process taking it this instant is not a
   * practical worry). */
  kill(-pid, SIGKILL);

  int sig, status = init_status_of(st, &sig);
  char how[64];
  if (sig)
    snprintf(how, sizeof how, "killed by signal %d (status %d)", sig, status);
  else
    snprintf(how, sizeof how, "exited with status %d", status);
  init_restart policy = v->p->restart;
  if (policy == INIT_RESTART_NEVER || (policy == INIT_RESTART_ON_FAILURE && status == 0)) {
    fprintf(stderr, "coreinit: service '%s' %s; not restarting (restart %s)\n", v->p->name, how,
            policy == INIT_RESTART_NEVER ? "never" : "on-failure");
    return;
  }
  long long now = init_now_ms();
  if (now - v->started_ms >= INIT_BACKOFF_RESET_MS) v->delay_ms = INIT_BACKOFF_MIN_MS;
  fprintf(stderr, "coreinit: service '%s' %s; restarting in %d ms\n", v->p->name, how, v->delay_ms);
  v->restart_at = now + v->delay_ms;
  v->delay_ms = v->delay_ms * 2 > INIT_BACKOFF_MAX_MS ? INIT_BACKOFF_MAX_MS : v->delay_ms * 2;
}

int init_supervise(init_supervisor *s, init_result *res, init_error *err) {
  s->main.name = "main";
  s->main.argv = s->c->argv;
  s->main.env = s->c->env;
  if (s->stop) {
    *res = (init_result){0, 0, s->stop};
    return 0;
  }
  s->svcs = calloc(s->c->services.n ? s->c->services.n : 1, sizeof *s->svcs);
  if (!s->svcs) return init_error_set(err, ENOMEM, "starting the services");
  /* Already in dependency order: each starts after those it depends on. */
  for (size_t i = 0; i < s->c->services.n; i++) {
    init_svc *v = &s->svcs[s->n_svcs++];
    *v = (init_svc){.p = &s->c->services.v[i], .delay_ms = INIT_BACKOFF_MIN_MS};
    if (init_svc_start(v, err) < 0) return -1;
  }
  if (init_has_main(s)) {
    s->main_pid = init_spawn(&s->main, NULL, err);
    if (s->main_pid < 0) {
      s->main_pid = 0;
      return -1;
    }
    for (int sig = 1; sig < 32; sig++)
      if (s->pending & (1u << sig)) kill(s->main_pid, sig);
    s->pending = 0;
  }

  for (;;) {
    if (s->stop) {
      *res = (init_result){0, 0, s->stop};
      return 0;
    }
    long long deadline = -1;
    for (size_t i = 0; i < s->n_svcs; i++)
      if (s->svcs[i].restart_at && (deadline < 0 || s->svcs[i].restart_at < deadline))
        deadline = s->svcs[i].restart_at;
    init_event ev;
    init_next_event(deadline, &ev);
    if (ev.kind == INIT_EV_SIGNAL) init_on_signal(s, ev.sig);
    if (ev.kind == INIT_EV_EXIT && ev.pid == s->main_pid) {
      s->main_pid = 0;
      int sig, status = init_status_of(ev.status, &sig);
      *res = (init_result){status, sig, 0};
      return 0;
    }
    init_svc *v = ev.kind == INIT_EV_EXIT ? init_svc_of(s, ev.pid) : NULL;
    if (v) init_svc_exited(v, ev.status);
    long long now = init_now_ms();
    for (size_t i = 0; i < s->n_svcs; i++)
      if (s->svcs[i].restart_at && s->svcs[i].restart_at <= now &&
          init_svc_start(&s->svcs[i], err) < 0)
        return -1;
  }
}

/* True while a process of the group still exists (zombies are reaped as they come). */
static bool init_group_alive(pid_t pgid) { return kill(-pgid, 0) == 0 || errno == EPERM; }

/* Waits until every service's group is gone or the deadline passes; true if all are. */
static bool init_svcs_wait(init_supervisor *s, long long deadline) {
  for (;;) {
    bool alive = false;
    for (size_t i = 0; i < s->n_svcs; i++) {
      if (!s->svcs[i].pid) continue;
      if (init_group_alive(s->svcs[i].pid))
        alive = true;
      else
        s->svcs[i].pid = 0; /* gone: its number may be reused from now on */
    }
    if (!alive) return true;
    init_event ev;
    init_next_event(deadline, &ev);
    if (ev.kind == INIT_EV_TIMEOUT) return false;
    /* Signals are ignored now: the shutdown is under way. */
  }
}

void init_services_stop(init_supervisor *s) {
  bool any = false;
  for (size_t i = 0; i < s->n_svcs; i++) {
    s->svcs[i].restart_at = 0;
    if (!s->svcs[i].pid) continue;
    /* The process group, so that a shell's children hear it too. */
    kill(-s->svcs[i].pid, SIGTERM);
    kill(-s->svcs[i].pid, SIGCONT);
    any = true;
  }
  if (!any || init_svcs_wait(s, init_now_ms() + INIT_STOP_TERM_MS)) return;
  for (size_t i = 0; i < s->n_svcs; i++) {
    if (!s->svcs[i].pid) continue;
    fprintf(stderr, "coreinit: service '%s' did not stop within %d s; killing it\n",
            s->svcs[i].p->name, INIT_STOP_TERM_MS / 1000);
    kill(-s->svcs[i].pid, SIGKILL);
  }
  init_svcs_wait(s, init_now_ms() + INIT_STOP_KILL_MS);
}

void init_shutdown_steps(init_supervisor *s) {
  if (!s->booted) return;
  const init_procv *steps = &s->c->onshutdown;
  for (size_t i = 0; i < steps->n; i++) {
    init_error err;
    int status = init_step_run(s, &steps->v[i], "onshutdown step", INIT_SHUTDOWN_STEP_MS, &err);
    /* Not fatal: the rest of the shutdown (and the volumes' unmount) matters more. */
    if (status < 0)
      fprintf(stderr, "coreinit: %s\n", err.msg);
    else if (status != 0)
      fprintf(stderr, "coreinit: onshutdown step '%s' failed with status %d\n", steps->v[i].name,
              status);
  }
}
