/* fork/exec with both output streams captured through pipes and poll. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

/* Never returns. The exec's errno goes back through exec_fd (close-on-exec, so a successful
 * exec closes it empty): the parent then tells "not installed" from any exit status. */
static void child(char *const argv[], const char *dir, int out_fd, int err_fd, int exec_fd) {
  int null = open("/dev/null", O_RDWR);
  int e = 0;
  if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0 || (dir && chdir(dir) < 0)) {
    e = errno;
  } else {
    /* Parsed output must not depend on the user's language. */
    setenv("LC_ALL", "C", 1);
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[0], argv);
    e = errno;
  }
  if (write(exec_fd, &e, sizeof e) < 0) _exit(127);
  _exit(127);
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void close_pair(int p[2]) {
  if (p[0] >= 0) close(p[0]);
  if (p[1] >= 0) close(p[1]);
}

/* Reads both pipes until both are closed. Returns 0, 1 when the deadline passed, or -1. */
static int drain(int ro, int re, core_buf *bufs[2], core_buf *discard, const core_spawn_opts *o, const char *name,
                 core_error **err) {
  long long deadline = o->timeout_ms ? now_ms() + o->timeout_ms : 0;
  struct pollfd fds[2] = {{ro, POLLIN, 0}, {re, POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    int wait_ms = o->tick ? 100 : -1;
    if (deadline) {
      long long left = deadline - now_ms();
      if (left <= 0) return 1;
      if (wait_ms < 0 || left < wait_ms) wait_ms = (int)left;
    }
    if (poll(fds, 2, wait_ms) < 0) {
      if (errno == EINTR) continue;
      return core_error_set(err, errno, "reading the output of '%s'", name);
    }
    if (o->tick) o->tick(o->ctx);
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || !fds[i].revents) continue;
      char chunk[8192];
      ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[i].fd = -1;
        open_fds--;
        continue;
      }
      if (core_buf_append(bufs[i], chunk, (size_t)n, err) < 0) return -1;
      if (bufs[i] == discard) discard->len = 0;
    }
  }
  return 0;
}

int core_spawn(char *const argv[], const core_spawn_opts *o, core_buf *out, core_buf *errout, int *status,
               core_error **err) {
  static const core_spawn_opts defaults = CORE_SPAWN_OPTS_INIT;
  if (o == NULL) o = &defaults;
  int po[2] = {-1, -1}, pe[2] = {-1, -1}, px[2] = {-1, -1};
  if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 || pipe2(px, O_CLOEXEC) < 0) {
    int e = errno;
    close_pair(po), close_pair(pe), close_pair(px);
    return core_error_set(err, e, "running '%s'", argv[0]);
  }
  pid_t pid = fork();
  if (pid == 0) child(argv, o->dir, po[1], pe[1], px[1]);
  int fork_errno = errno;
  close(po[1]), close(pe[1]), close(px[1]);
  cleanup_close int ro = po[0], re = pe[0], rx = px[0];
  if (pid < 0) return core_error_set(err, fork_errno, "running '%s'", argv[0]);

  core_buf discard = CORE_BUF_INIT;
  core_buf *bufs[2] = {out ? out : &discard, errout ? errout : &discard};
  int rc = drain(ro, re, bufs, &discard, o, argv[0], err);
  core_buf_release(&discard);
  if (rc != 0) kill(pid, SIGKILL); /* nobody reads its output any more */
  int ws;
  while (waitpid(pid, &ws, 0) < 0)
    if (errno != EINTR) return rc < 0 ? -1 : core_error_set(err, errno, "waiting for '%s'", argv[0]);
  if (rc < 0) return -1;
  if (rc > 0) return core_error_set(err, 0, "'%s' did not finish within %u s", argv[0], (o->timeout_ms + 999) / 1000);
  int exec_errno = 0;
  ssize_t got;
  while ((got = read(rx, &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  if (got == (ssize_t)sizeof exec_errno)
    return core_error_set(err, exec_errno, "cannot run '%s'%s", argv[0], exec_errno == ENOENT ? " (is it installed?)" : "");
  for (int i = 0; i < 2; i++)
    if (bufs[i] != &discard && core_buf_append(bufs[i], "", 1, err) == 0) bufs[i]->len--;
  if (WIFSIGNALED(ws)) return core_error_set(err, 0, "'%s' was killed by signal %d", argv[0], WTERMSIG(ws));
  *status = WEXITSTATUS(ws);
  return 0;
}

int core_run_capture(char *const argv[], const char *dir, core_buf *out, core_buf *errout, int *status,
                     core_error **err) {
  core_spawn_opts o = {.dir = dir};
  return core_spawn(argv, &o, out, errout, status, err);
}

int core_run_capture_ticking(char *const argv[], const char *dir, core_buf *out, core_buf *errout, int *status,
                             void (*tick)(void *ctx), void *ctx, core_error **err) {
  core_spawn_opts o = {.dir = dir, .tick = tick, .ctx = ctx};
  return core_spawn(argv, &o, out, errout, status, err);
}

const char *core_spawn_last_line(core_buf *errout) {
  if (errout->len == 0) return "";
  char *text = (char *)errout->data;
  size_t end = errout->len;
  while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r' || text[end - 1] == ' ')) end--;
  text[end] = '\0';
  size_t start = end;
  while (start > 0 && text[start - 1] != '\n') start--;
  return text + start;
}
