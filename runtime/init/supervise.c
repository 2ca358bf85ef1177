/* Runs the main command as PID 1 must: reaps every orphan and passes signals on to it. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"

/* 0 while no main command runs. Read by the signal handler. */
static volatile sig_atomic_t init_main_pid;

static const int init_forwarded[] = {SIGTERM, SIGINT, SIGHUP};

static void init_forward(int sig) {
  int saved = errno; /* kill may set it under the interrupted waitpid's feet */
  pid_t pid = init_main_pid;
  if (pid > 0) kill(pid, sig);
  errno = saved;
}

static void init_forwarded_set(sigset_t *set) {
  sigemptyset(set);
  for (size_t i = 0; i < sizeof init_forwarded / sizeof init_forwarded[0]; i++)
    sigaddset(set, init_forwarded[i]);
}

int init_supervise(const init_conf *c, init_result *res, init_error *err) {
  /* The kernel drops signals sent to PID 1 that it has no handler for, so a shutdown
   * request (SIGTERM to init) only reaches the program if init passes it on. */
  struct sigaction sa = {.sa_handler = init_forward, .sa_flags = SA_RESTART};
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof init_forwarded / sizeof init_forwarded[0]; i++)
    sigaction(init_forwarded[i], &sa, NULL);

  /* Blocked across fork so that no signal falls between the child existing and its pid
   * being known to the handler. */
  sigset_t forwarded, old;
  init_forwarded_set(&forwarded);
  sigprocmask(SIG_BLOCK, &forwarded, &old);
  pid_t pid = fork();
  if (pid == 0) init_spawn_exec(c);
  int fork_errno = errno;
  if (pid > 0) init_main_pid = pid;
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) return init_error_set(err, fork_errno, "starting the main command: fork");

  for (;;) {
    int st;
    pid_t got = waitpid(-1, &st, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      init_main_pid = 0;
      return init_error_set(err, errno, "waiting for the main command");
    }
    if (got != pid) continue; /* an orphan handed to PID 1: reaping it is all it needs */
    init_main_pid = 0;
    if (WIFSIGNALED(st))
      *res = (init_result){128 + WTERMSIG(st), WTERMSIG(st)};
    else
      *res = (init_result){WEXITSTATUS(st), 0};
    return 0;
  }
}
