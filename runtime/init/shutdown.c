/* Ends every process still left once the services are stopped and the onshutdown steps
 * have run, then flushes filesystems. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"

/* Reaps children until there are none or ms have passed. Polling, not a blocking wait,
 * so a process that ignores SIGTERM or is stuck in the kernel cannot hold up power-off. */
static void init_reap_for(long long ms) {
  long long deadline = init_now_ms() + ms;
  for (;;) {
    pid_t pid = waitpid(-1, NULL, WNOHANG);
    if (pid > 0) continue;
    if (pid < 0 && errno == ECHILD) return;
    if (init_now_ms() >= deadline) return;
    init_sleep_ms(10);
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
