/* The child side of starting the main command: a new session on the console, then exec. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "init.h"

extern char **environ;

_Noreturn void init_spawn_exec(const init_conf *c) {
  /* init's handlers and blocked signals must not leak into the program. */
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);

  setsid();
  /* Gives the program job control and ^C on the console; it still runs without. */
  (void)ioctl(0, TIOCSCTTY, 0);
  (void)chdir("/"); /* init's cwd is "/" already; this only makes it independent of that */

  /* execvp searches the PATH of environ, which must be the program's PATH, not init's. */
  environ = c->env.v;
  execvp(c->argv.v[0], c->argv.v);
  int e = errno;
  fprintf(stderr, "coreinit: cannot run '%s': %s\n", c->argv.v[0], strerror(e));
  /* The shell's conventions: 127 not found, 126 found but not runnable. */
  _exit(e == ENOENT ? 127 : 126);
}
