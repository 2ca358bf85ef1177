/* Ends every process left once the main command is gone, then flushes filesystems. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

static long long init_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reaps children until there are none or ms have passed. Polling, not a blocking wait,
 * so a process that ignores SIGTERM or is stuck in the kernel cannot hold up power-off. */
static void init_reap_for(long long ms) {
  long long deadline = init_now_ms() + ms;
  for (;;) {
    pid_t pid = waitpid(-1, NULL, WNOHANG);
    if (pid > 0) continue;
    if (pid < 0 && errno == ECHILD) return;
    if (init_now_ms() >= deadline) return;
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  }
}

void init_processes_stop(void) {
  /* -1 from PID 1: every process but init itself. */
  kill(-1, SIGTERM);
  init_reap_for(2000);
  kill(-1, SIGKILL);
  init_reap_for(1000);
  sync();
}
