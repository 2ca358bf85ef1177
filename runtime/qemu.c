/* Launching QEMU and reading back what the guest reported. */
#include "qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "qemu_monitor.h"

static volatile sig_atomic_t stop_signals; /* SIGINT/SIGTERM/SIGHUP received while QEMU runs */
static volatile sig_atomic_t stop_deadline_passed;

static void note_stop(int sig) {
  (void)sig;
  stop_signals++;
}

static void note_deadline(int sig) {
  (void)sig;
  stop_deadline_passed = 1;
}

static core_accel pick_accel(core_accel want, int quiet, core_error **err) {
  if (want == CORE_ACCEL_TCG) return CORE_ACCEL_TCG;
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  int e = errno;
  if (fd >= 0) {
    close(fd);
    if (!quiet) fprintf(stderr, "corerun: booting with KVM\n");
    return CORE_ACCEL_KVM;
  }
  if (want == CORE_ACCEL_KVM) {
    core_error_set(err, e, "--accel kvm: cannot open /dev/kvm");
    return CORE_ACCEL_AUTO;
  }
  if (!quiet) fprintf(stderr, "corerun: /dev/kvm is not usable (%s); booting with TCG software emulation (slower)\n", strerror(e));
  return CORE_ACCEL_TCG;
}

int core_qemu_decode_status(int wait_status, const char *text, int *guest_status, core_error **err) {
  if (WIFSIGNALED(wait_status))
    return core_error_set(err, 0, "qemu was killed by signal %d before the guest reported an exit status",
                          WTERMSIG(wait_status));
  int rc = WEXITSTATUS(wait_status);
  /* The last "exit-status N" line on the status port carries all 8 bits. */
  int reported = -1;
  for (const char *p = text ? strstr(text, "exit-status ") : NULL; p; p = strstr(p + 1, "exit-status ")) {
    char *end = NULL;
    long v = strtol(p + 12, &end, 10);
    if (end != p + 12 && v >= 0 && v <= 255) reported = (int)v;
  }
  /* isa-debug-exit makes QEMU exit with (N << 1) | 1; only the low 7 bits of N survive. */
  if (rc & 1) {
    int low = rc >> 1;
    if (reported >= 0 && (reported & 0x7f) == low) {
      *guest_status = reported;
      return 0;
    }
    if (reported >= 0)
      return core_error_set(err, 0, "the guest reported status %d on its status port but %d through isa-debug-exit",
                            reported, low);
    if (rc == 1)
      return core_error_set(err, 0, "qemu exited with status 1 and the guest reported nothing (see qemu's message above)");
    *guest_status = low; /* no status port: the best that is known */
    return 0;
  }
  if (rc == 0)
    return core_error_set(err, 0,
                          "the guest powered off without reporting an exit status (did the kernel start /init? "
                          "remove 'quiet' from kernel.cmdline to see its messages)");
  return core_error_set(err, 0, "qemu failed with exit status %d before the guest reported", rc);
}

static int read_fd_text(int fd, char *buf, size_t cap) {
  ssize_t n = pread(fd, buf, cap - 1, 0);
  buf[n > 0 ? n : 0] = 0;
  return 0;
}

/* Waits for QEMU. The first stop request presses the guest's power button (coreinit then
 * stops services, runs onshutdown steps and unmounts volumes); a second request, or the
 * timeout, ends QEMU. */
static pid_t wait_for_qemu(pid_t pid, const core_qemu_monitor *monitor, const core_qemu_opts *o, int *ws) {
  struct sigaction sa = {.sa_handler = note_stop}, deadline = {.sa_handler = note_deadline};
  struct sigaction old_int, old_term, old_hup, old_alrm;
  sigemptyset(&sa.sa_mask);
  sigemptyset(&deadline.sa_mask);
  stop_signals = 0;
  stop_deadline_passed = 0;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  sigaction(SIGHUP, &sa, &old_hup);
  sigaction(SIGALRM, &deadline, &old_alrm);
  int handled = 0, killed = 0;
  pid_t w;
  /* Polling keeps a signal from slipping in between a check and a blocking wait. */
  while ((w = waitpid(pid, ws, WNOHANG)) == 0 || (w < 0 && errno == EINTR)) {
    struct timespec tick = {.tv_nsec = 50 * 1000 * 1000};
    nanosleep(&tick, NULL);
    if (stop_signals > 0 && handled == 0) {
      handled = 1;
      core_error *e = NULL;
      if (!o->quiet) fprintf(stderr, "\ncorerun: stopping the guest (power button); again to force\n");
      if (core_qemu_monitor_send(monitor, "system_powerdown", &e) < 0) {
        core_error_print("corerun", e);
        core_error_free(e);
        stop_deadline_passed = 1;
      } else {
        alarm(o->stop_timeout ? o->stop_timeout : 30);
      }
    }
    if (!killed && (stop_signals > 1 || stop_deadline_passed)) {
      killed = 1;
      if (!o->quiet) fprintf(stderr, "corerun: the guest did not power off; ending qemu\n");
      kill(pid, SIGTERM);
    }
  }
  alarm(0);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  sigaction(SIGHUP, &old_hup, NULL);
  sigaction(SIGALRM, &old_alrm, NULL);
  return w;
}

int core_qemu_run(const core_qemu_opts *o, int kernel_fd, int initrd_fd, int *guest_status, core_error **err) {
  core_error *accel_err = NULL;
  core_accel accel = pick_accel(o->accel, o->quiet, &accel_err);
  if (accel_err) {
    *err = accel_err;
    return -1;
  }
  /* The status port is a memfd too: no file on disk, nothing for another process to spoof. */
  cleanup_close int status_fd = memfd_create("core-status", MFD_CLOEXEC);
  if (status_fd < 0) return core_error_set(err, errno, "creating a memfd");

  char mem[32], smp[16], kernel[64], initrd[64], status_chardev[96];
  snprintf(mem, sizeof mem, "%llu", (unsigned long long)o->memory_mib);
  snprintf(smp, sizeof smp, "%u", o->cpus);
  snprintf(kernel, sizeof kernel, "/proc/self/fd/%d", kernel_fd);
  snprintf(initrd, sizeof initrd, "/proc/self/fd/%d", initrd_fd);
  snprintf(status_chardev, sizeof status_chardev, "file,id=status,path=/proc/self/fd/%d", status_fd);
  __attribute__((cleanup(core_qemu_monitor_release))) core_qemu_monitor monitor = {0};
  if (core_qemu_monitor_init(&monitor, err) < 0) return -1;
  cleanup_free char *monitor_chardev = NULL;
  if (asprintf(&monitor_chardev, "socket,id=monitor,path=%s,server=on,wait=off", monitor.socket) < 0)
    return core_error_set(err, ENOMEM, "allocating");
  cleanup_free char *append = NULL;
  if (asprintf(&append, "console=ttyS0 panic=-1%s%s", o->cmdline && *o->cmdline ? " " : "", o->cmdline ? o->cmdline : "") < 0)
    return core_error_set(err, ENOMEM, "allocating");
  const char *binary = o->binary ? o->binary : "qemu-system-x86_64";
  const char *fixed[] = {binary, "-M", "q35", "-accel", accel == CORE_ACCEL_KVM ? "kvm" : "tcg",
                         "-cpu", accel == CORE_ACCEL_KVM ? "host" : "max", "-m", mem, "-smp", smp,
                         "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                         "-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console",
                         "-chardev", monitor_chardev, "-mon", "chardev=monitor,mode=readline",
                         "-chardev", status_chardev, "-serial", "chardev:status",
                         "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                         "-kernel", kernel, "-initrd", initrd, "-append", append};
  size_t n_fixed = sizeof fixed / sizeof fixed[0], n_dev = 0;
  while (o->device_args && o->device_args[n_dev]) n_dev++;
  cleanup_free const char **argv = calloc(n_fixed + n_dev + 1, sizeof *argv);
  if (argv == NULL) return core_error_set(err, ENOMEM, "allocating");
  memcpy(argv, fixed, sizeof fixed);
  for (size_t i = 0; i < n_dev; i++) argv[n_fixed + i] = o->device_args[i];

  struct termios saved;
  int have_tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
  /* A close-on-exec pipe tells apart "exec failed" from any exit status QEMU may have. */
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) < 0) return core_error_set(err, errno, "creating a pipe");
  pid_t pid = fork();
  if (pid < 0) {
    close(exec_pipe[0]);
    close(exec_pipe[1]);
    return core_error_set(err, errno, "starting qemu");
  }
  if (pid == 0) {
    close(exec_pipe[0]);
    /* QEMU opens the verified bytes through /proc/self/fd: those descriptors must survive exec. */
    fcntl(kernel_fd, F_SETFD, 0);
    fcntl(initrd_fd, F_SETFD, 0);
    fcntl(status_fd, F_SETFD, 0);
    /* Without a terminal QEMU gets its own process group: a signal meant for corerun's group
     * must reach corerun, which stops the guest gracefully, not QEMU, which would just quit. */
    if (!isatty(STDIN_FILENO)) setpgid(0, 0);
    execvp(binary, (char *const *)argv);
    int e = errno;
    if (write(exec_pipe[1], &e, sizeof e) < 0) _exit(127);
    _exit(127);
  }
  close(exec_pipe[1]);
  int exec_errno = 0;
  ssize_t got;
  while ((got = read(exec_pipe[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  close(exec_pipe[0]);
  if (got == (ssize_t)sizeof exec_errno) {
    waitpid(pid, NULL, 0);
    return core_error_set(err, exec_errno, "cannot run '%s' (install qemu-system-x86 or pass --qemu PATH)", binary);
  }
  int ws = 0;
  pid_t w = wait_for_qemu(pid, &monitor, o, &ws);
  if (have_tty) tcsetattr(STDIN_FILENO, TCSANOW, &saved); /* in case qemu died with the terminal raw */
  if (w < 0) return core_error_set(err, errno, "waiting for qemu");
  char text[4096];
  read_fd_text(status_fd, text, sizeof text);
  return core_qemu_decode_status(ws, text, guest_status, err);
}
