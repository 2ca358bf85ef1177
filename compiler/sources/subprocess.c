/* fork/exec with both output streams captured through pipes and poll. */
#include "subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"

static void child(char *const argv[], const char *dir, int out_fd, int err_fd) {
  int null = open("/dev/null", O_RDWR);
  if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) _exit(127);
  if (dir && chdir(dir) < 0) _exit(127);
  /* Parsed output must not depend on the user's language. */
  setenv("LC_ALL", "C", 1);
  signal(SIGPIPE, SIG_DFL);
  execvp(argv[0], argv);
  _exit(127);
}

int core_run_capture(char *const argv[], const char *dir, core_buf *out, core_buf *errout, int *status,
                     core_error **err) {
  return core_run_capture_ticking(argv, dir, out, errout, status, NULL, NULL, err);
}

int core_run_capture_ticking(char *const argv[], const char *dir, core_buf *out, core_buf *errout, int *status,
                             void (*tick)(void *ctx), void *ctx, core_error **err) {
  int po[2], pe[2];
  if (pipe2(po, O_CLOEXEC) < 0) return core_error_set(err, errno, "running '%s'", argv[0]);
  if (pipe2(pe, O_CLOEXEC) < 0) {
    close(po[0]), close(po[1]);
    return core_error_set(err, errno, "running '%s'", argv[0]);
  }
  cleanup_close int ro = po[0], re = pe[0];
  pid_t pid = fork();
  if (pid == 0) child(argv, dir, po[1], pe[1]);
  int fork_errno = errno;
  close(po[1]);
  close(pe[1]);
  if (pid < 0) return core_error_set(err, fork_errno, "running '%s'", argv[0]);

  core_buf discard = CORE_BUF_INIT;
  core_buf *bufs[2] = {out ? out : &discard, errout ? errout : &discard};
  struct pollfd fds[2] = {{ro, POLLIN, 0}, {re, POLLIN, 0}};
  int open_fds = 2, rc = 0;
  while (open_fds > 0 && rc == 0) {
    if (poll(fds, 2, tick ? 100 : -1) < 0) {
      if (errno == EINTR) continue;
      rc = core_error_set(err, errno, "reading the output of '%s'", argv[0]);
      break;
    }
    if (tick) tick(ctx);
    for (int i = 0; i < 2 && rc == 0; i++) {
      if (fds[i].fd < 0 || !fds[i].revents) continue;
      char chunk[8192];
      ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[i].fd = -1;
        open_fds--;
        continue;
      }
      if (core_buf_append(bufs[i], chunk, (size_t)n, err) < 0) rc = -1;
      if (bufs[i] == &discard) discard.len = 0;
    }
  }
  core_buf_release(&discard);
  int ws;
  while (waitpid(pid, &ws, 0) < 0)
    if (errno != EINTR) return core_error_set(err, errno, "waiting for '%s'", argv[0]);
  if (rc < 0) return -1;
  for (int i = 0; i < 2; i++)
    if (bufs[i] != &discard && core_buf_append(bufs[i], "", 1, err) == 0) bufs[i]->len--;
  if (WIFSIGNALED(ws)) return core_error_set(err, 0, "'%s' was killed by signal %d", argv[0], WTERMSIG(ws));
  if (WEXITSTATUS(ws) == 127 && (errout == NULL || errout->len == 0))
    return core_error_set(err, ENOENT, "cannot run '%s': is it installed?", argv[0]);
  *status = WEXITSTATUS(ws);
  return 0;
}
