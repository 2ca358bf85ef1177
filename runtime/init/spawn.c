/* Starting a process of the app: fork, then in the child a session of its own, its root,
 * user, working directory and environment, and exec. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "init.h"

extern char **environ;

/* What a setup step in the child prints before giving up: no one else can report it. */
__attribute__((format(printf, 3, 4))) static _Noreturn void
init_child_fail(const char *kind, const char *name, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "coreinit: %s '%s': %s\n", kind, name, msg);
  _exit(INIT_STATUS_FAILED);
}

/* Returns env with HOME set to home: a copy of the pointer array, so the parent's stays. */
static char **init_env_with_home(char **env, size_t n, const char *home) {
  char **out = malloc((n + 2) * sizeof *out);
  char *entry = malloc(strlen(home) + 6);
  if (!out || !entry) return env;
  snprintf(entry, strlen(home) + 6, "HOME=%s", home);
  size_t k = 0;
  bool replaced = false;
  for (size_t i = 0; i < n; i++) {
    bool is_home = strncmp(env[i], "HOME=", 5) == 0;
    out[k++] = is_home ? entry : env[i];
    replaced |= is_home;
  }
  if (!replaced) out[k++] = entry;
  out[k] = NULL;
  return out;
}

static _Noreturn void init_child(const init_proc *p, const char *kind) {
  /* init's handlers and blocked signals must not leak into the program. */
  static const int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPWR};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);

  /* A session and so a process group of its own: stopping it reaches its children. */
  setsid();
  if (!kind) {
    /* Gives the main command job control and ^C on the console; it still runs without. */
    (void)ioctl(0, TIOCSCTTY, 0);
  } else {
    /* Only the main command reads the console; a service that read it would steal its
     * input. */
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && fd != 0) {
      dup2(fd, 0);
      close(fd);
    }
  }

  const char *name = kind ? p->name : "main";
  const char *what = kind ? kind : "main command";
  if (p->root && (chroot(p->root) < 0 || chdir("/") < 0))
    init_child_fail(what, name, "chroot to '%s': %s", p->root, strerror(errno));
  char **env = p->env.v;
  if (p->user) {
    const char *home;
    init_error err;
    if (init_user_become(p->user, &home, &err) < 0) init_child_fail(what, name, "%s", err.msg);
    if (!p->home_set) env = init_env_with_home(p->env.v, p->env.n, home);
  }
  const char *cwd = p->cwd ? p->cwd : "/";
  if (chdir(cwd) < 0)
    init_child_fail(what, name, "working directory '%s': %s", cwd, strerror(errno));

  /* execvp searches the PATH of environ, which must be the program's PATH, not init's. */
  environ = env;
  execvp(p->argv.v[0], p->argv.v);
  int e = errno;
  if (kind)
    fprintf(stderr, "coreinit: %s '%s': cannot run '%s': %s\n", kind, p->name, p->argv.v[0],
            strerror(e));
  else
    fprintf(stderr, "coreinit: cannot run '%s': %s\n", p->argv.v[0], strerror(e));
  /* The shell's conventions: 127 not found, 126 found but not runnable. */
  _exit(e == ENOENT ? 127 : 126);
}

pid_t init_spawn(const init_proc *p, const char *kind, init_error *err) {
  pid_t pid = fork();
  if (pid == 0) init_child(p, kind);
  if (pid < 0)
    return init_error_set(err, errno, "starting %s%s%s%s: fork", kind ? kind : "the main command",
                          kind ? " '" : "", kind ? p->name : "", kind ? "'" : "");
  return pid;
}
