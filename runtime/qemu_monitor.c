/* The monitor socket: private to this run, spoken to only to press the power button. */
#include "qemu_monitor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"

int core_qemu_monitor_init(core_qemu_monitor *m, core_error **err) {
  const char *tmp = getenv("TMPDIR");
  if (asprintf(&m->dir, "%s/corerun-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0) {
    m->dir = NULL;
    return core_error_set(err, ENOMEM, "allocating");
  }
  if (mkdtemp(m->dir) == NULL) {
    int e = errno;
    free(m->dir);
    m->dir = NULL;
    return core_error_set(err, e, "creating a private directory for the QEMU monitor");
  }
  m->socket = core_path_join(m->dir, "monitor");
  if (m->socket == NULL) return core_error_set(err, ENOMEM, "allocating");
  struct sockaddr_un probe;
  if (strlen(m->socket) >= sizeof probe.sun_path)
    return core_error_set(err, ENAMETOOLONG, "the monitor socket path '%s' is too long; set TMPDIR to a shorter directory",
                          m->socket);
  return 0;
}

/* Reads until the monitor's "(qemu) " prompt; -1 on timeout or a closed socket. */
static int await_prompt(int fd) {
  char tail[8] = {0};
  for (;;) {
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return -1;
    for (ssize_t i = 0; i < n; i++) {
      memmove(tail, tail + 1, sizeof tail - 2);
      tail[sizeof tail - 2] = buf[i];
      if (memcmp(tail, "(qemu) ", 7) == 0) return 0;
    }
  }
}

int core_qemu_monitor_send(const core_qemu_monitor *m, const char *command, core_error **err) {
  cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return core_error_set(err, errno, "creating a socket");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", m->socket);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
    return core_error_set(err, errno, "connecting to the QEMU monitor");
  struct timeval tv = {.tv_sec = 2};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  /* QEMU resets the monitor's line editor when a client connects: anything sent before its
   * prompt appears is lost, so the prompt is awaited first, and again after the command. */
  if (await_prompt(fd) < 0) return core_error_set(err, 0, "the QEMU monitor did not answer");
  char line[256];
  int n = snprintf(line, sizeof line, "%s\n", command);
  if (core_write_all(fd, line, (size_t)n, err) < 0) return -1;
  await_prompt(fd);
  return 0;
}

void core_qemu_monitor_release(core_qemu_monitor *m) {
  if (m->socket) unlink(m->socket);
  if (m->dir) rmdir(m->dir);
  free(m->socket);
  free(m->dir);
  m->socket = m->dir = NULL;
}
