/* Tells the host that coreinit is running and, at the end, how the run ended (spec/init.md,
 * "Reporting the status"), then powers the machine off. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <termios.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <sys/io.h>
#endif

#include "init.h"

/* QEMU's isa-debug-exit device: a byte written here makes QEMU exit with (byte << 1) | 1. */
#define INIT_DEBUG_EXIT_PORT 0xf4

static void init_report_device(const char *path, const char *line) {
  int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "coreinit: opening status device '%s': %s\n", path, strerror(errno));
    return;
  }
  /* A serial port would turn "\n" into "\r\n"; the host should read exactly one line.
   * Devices that are not terminals refuse this, which is fine. */
  struct termios t;
  if (tcgetattr(fd, &t) == 0) {
    cfmakeraw(&t);
    tcsetattr(fd, TCSANOW, &t);
  }
  ssize_t n = (ssize_t)strlen(line);
  if (write(fd, line, (size_t)n) != n)
    fprintf(stderr, "coreinit: writing to status device '%s': %s\n", path, strerror(errno));
  /* The VM stops the instant the port is written: the line must have left the UART. */
  tcdrain(fd);
  close(fd);
}

void init_report_alive(const char *status_device) {
  if (status_device) init_report_device(status_device, "alive\n");
}

_Noreturn void init_report(const init_result *res, const char *status_device) {
  if (res->request)
    fprintf(stderr, "coreinit: shut down on signal %d (%s) with status %d\n", res->request,
            res->request == SIGPWR   ? "SIGPWR, the power button"
            : res->request == SIGINT ? "SIGINT, Ctrl-Alt-Del"
                                     : "SIGTERM",
            res->status);
  else if (res->signal)
    fprintf(stderr, "coreinit: main command killed by signal %d (status %d)\n", res->signal,
            res->status);
  else
    fprintf(stderr, "coreinit: main command exited with status %d\n", res->status);
  tcdrain(2);
  char line[32];
  snprintf(line, sizeof line, "exit-status %d\n", res->status);
  if (status_device) init_report_device(status_device, line);

#if defined(__x86_64__) || defined(__i386__)
  /* Without the device the write goes nowhere and we fall through to power-off. */
  if (ioperm(INIT_DEBUG_EXIT_PORT, 4, 1) == 0)
    outb((unsigned char)res->status, INIT_DEBUG_EXIT_PORT);
#endif

  reboot(RB_POWER_OFF);
  fprintf(stderr, "coreinit: powering off: %s\n", strerror(errno));
  /* Returning from PID 1 would panic the kernel. */
  for (;;) pause();
}
