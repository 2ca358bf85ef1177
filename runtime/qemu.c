/* Launching QEMU (with KVM on probation, TCG when it fails) and reading back what the guest
 * reported. */
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

#include "accel.h"
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

int core_qemu_status_alive(const char *text) {
  for (const char *p = text ? strstr(text, "alive\n") : NULL; p; p = strstr(p + 1, "alive\n"))
    if (p == text || p[-1] == '\n') return 1;
  return 0;
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

static const char *qemu_binary(const core_qemu_opts *o) { return o->binary ? o->binary : "qemu-system-x86_64"; }

static void read_fd_text(int fd, char *buf, size_t cap) {
  ssize_t n = pread(fd, buf, cap - 1, 0);
  buf[n > 0 ? n : 0] = 0;
}

/* The stop handlers stay installed across both attempts of a run, so that a stop request
 * that comes while the abandoned KVM attempt is cleared away is not lost. */
typedef struct stop_handlers {
  struct sigaction old_int, old_term, old_hup, old_alrm;
  int installed;
} stop_handlers;

static void stop_handlers_install(stop_handlers *h) {
  struct sigaction sa = {.sa_handler = note_stop}, deadline = {.sa_handler = note_deadline};
  sigemptyset(&sa.sa_mask);
  sigemptyset(&deadline.sa_mask);
  stop_signals = 0;
  stop_deadline_passed = 0;
  sigaction(SIGINT, &sa, &h->old_int);
  sigaction(SIGTERM, &sa, &h->old_term);
  sigaction(SIGHUP, &sa, &h->old_hup);
  sigaction(SIGALRM, &deadline, &h->old_alrm);
  h->installed = 1;
}

static void stop_handlers_restore(stop_handlers *h) {
  if (!h->installed) return;
  alarm(0);
  sigaction(SIGINT, &h->old_int, NULL);
  sigaction(SIGTERM, &h->old_term, NULL);
  sigaction(SIGHUP, &h->old_hup, NULL);
  sigaction(SIGALRM, &h->old_alrm, NULL);
  h->installed = 0;
}

/* Standard input as it was before QEMU made it raw and non-blocking (both live in what
 * corerun shares with its shell); put back after every QEMU, since one that is killed or
 * dies cannot do it itself. */
typedef struct saved_tty {
  struct termios t;
  int have;
  int flags; /* file status flags; -1: unknown */
} saved_tty;

static void saved_tty_save(saved_tty *s) {
  s->have = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &s->t) == 0;
  s->flags = fcntl(STDIN_FILENO, F_GETFL);
}

static void saved_tty_restore(saved_tty *s) {
  if (s->have) tcsetattr(STDIN_FILENO, TCSANOW, &s->t);
  if (s->flags >= 0) fcntl(STDIN_FILENO, F_SETFL, s->flags);
}

/* The verdict a run that dropped KVM writes, once the guest is alive under TCG: a guest that
 * cannot boot under any accelerator must not make KVM look broken. */
typedef struct verdict_note {
  const core_kvm_key *key;
  const char *path;
  const char *reason;
} verdict_note;

/* One QEMU process: how it is started, and how it ended. */
typedef struct qemu_attempt {
  core_accel accel;
  unsigned probe_seconds; /* the guest must say "alive" this soon, or the attempt is abandoned; 0: no probe */
  const verdict_note *note; /* written when the guest is alive; NULL: nothing to write */
  int ws;                   /* QEMU's wait status */
  char text[4096];          /* what the guest wrote on its status port */
  char reason[192];         /* why the attempt was abandoned */
} qemu_attempt;

enum { ATTEMPT_EXITED, ATTEMPT_NO_LIFE };

static void note_save(const core_qemu_opts *o, const verdict_note *note) {
  core_error *e = NULL;
  if (core_kvm_verdict_save(note->path, note->key, note->reason, &e) < 0 && !o->quiet) {
    fprintf(stderr, "corerun: warning: %s (the next run probes KVM again)\n", e->msg);
  }
  core_error_free(e);
}

static double seconds_since(const struct timespec *t0) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Ends an abandoned QEMU and reaps it, so that its published ports, disk image locks and
 * monitor socket are free before anything else starts. SIGKILL: a guest that cannot run is
 * owed no shutdown, and QEMU's own SIGTERM handling could wait on a stuck vCPU. */
static void kill_and_reap(pid_t pid, int own_group) {
  kill(own_group ? -pid : pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
}

/* Waits for QEMU. The first stop request presses the guest's power button (coreinit then
 * stops services, runs onshutdown steps and unmounts volumes); a second request, or the
 * timeout, ends QEMU. Under a probe, a guest that is not alive in time is abandoned. */
static int watch_qemu(pid_t pid, int own_group, int status_fd, const core_qemu_monitor *monitor, const core_qemu_opts *o,
                      qemu_attempt *a, core_error **err) {
  struct timespec started;
  clock_gettime(CLOCK_MONOTONIC, &started);
  int handled = 0, killed = 0, alive = 0;
  pid_t w;
  /* Polling keeps a signal from slipping in between a check and a blocking wait. */
  while ((w = waitpid(pid, &a->ws, WNOHANG)) == 0 || (w < 0 && errno == EINTR)) {
    struct timespec tick = {.tv_nsec = 50 * 1000 * 1000};
    nanosleep(&tick, NULL);
    if (!alive && (a->probe_seconds || a->note)) {
      read_fd_text(status_fd, a->text, sizeof a->text);
      if ((alive = core_qemu_status_alive(a->text)) && a->note) note_save(o, a->note);
    }
    /* A stop request outranks the probe: the user asked for an end, not for TCG. */
    if (!alive && a->probe_seconds && stop_signals == 0 && seconds_since(&started) >= a->probe_seconds) {
      kill_and_reap(pid, own_group);
      snprintf(a->reason, sizeof a->reason, "no sign of life in %u s under KVM", a->probe_seconds);
      return ATTEMPT_NO_LIFE;
    }
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
  if (w < 0) return core_error_set(err, errno, "waiting for qemu");
  read_fd_text(status_fd, a->text, sizeof a->text);
  /* It may have said "alive" and ended between two looks. */
  if (!alive && (alive = core_qemu_status_alive(a->text)) && a->note) note_save(o, a->note);
  /* An odd exit status is isa-debug-exit: coreinit ran (it reported before it knew its status
   * port, e.g. a bad init.conf), so the accelerator works. */
  int reported = WIFEXITED(a->ws) && (WEXITSTATUS(a->ws) & 1);
  if (a->probe_seconds && !alive && !reported && stop_signals == 0) {
    if (WIFSIGNALED(a->ws))
      snprintf(a->reason, sizeof a->reason, "qemu was killed by signal %d (%s) under KVM before the guest showed a sign of life",
               WTERMSIG(a->ws), strsignal(WTERMSIG(a->ws)));
    else
      snprintf(a->reason, sizeof a->reason, "qemu exited with status %d under KVM before the guest showed a sign of life",
               WEXITSTATUS(a->ws));
    return ATTEMPT_NO_LIFE;
  }
  return ATTEMPT_EXITED;
}

/* Starts one QEMU on the verified bytes and watches it to its end (or its abandonment). */
static int run_attempt(const core_qemu_opts *o, const core_qemu_monitor *monitor, int kernel_fd, int initrd_fd,
                       qemu_attempt *a, core_error **err) {
  /* The status port is a memfd too: no file on disk, nothing for another process to spoof.
   * A fresh one per attempt, so an abandoned guest's words are not read as this one's. */
  cleanup_close int status_fd = memfd_create("core-status", MFD_CLOEXEC);
  if (status_fd < 0) return core_error_set(err, errno, "creating a memfd");

  char mem[32], smp[16], kernel[64], initrd[64], status_chardev[96];
  snprintf(mem, sizeof mem, "%llu", (unsigned long long)o->memory_mib);
  snprintf(smp, sizeof smp, "%u", o->cpus);
  snprintf(kernel, sizeof kernel, "/proc/self/fd/%d", kernel_fd);
  snprintf(initrd, sizeof initrd, "/proc/self/fd/%d", initrd_fd);
  snprintf(status_chardev, sizeof status_chardev, "file,id=status,path=/proc/self/fd/%d", status_fd);
  cleanup_free char *monitor_chardev = NULL;
  if (asprintf(&monitor_chardev, "socket,id=monitor,path=%s,server=on,wait=off", monitor->socket) < 0)
    return core_error_set(err, ENOMEM, "allocating");
  cleanup_free char *append = NULL;
  if (asprintf(&append, "console=ttyS0 panic=-1%s%s", o->cmdline && *o->cmdline ? " " : "", o->cmdline ? o->cmdline : "") < 0)
    return core_error_set(err, ENOMEM, "allocating");
  const char *binary = qemu_binary(o);
  const char *fixed[] = {binary, "-M", "q35", "-accel", a->accel == CORE_ACCEL_KVM ? "kvm" : "tcg",
                         "-cpu", a->accel == CORE_ACCEL_KVM ? "host" : "max", "-m", mem, "-smp", smp,
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

  /* A close-on-exec pipe tells apart "exec failed" from any exit status QEMU may have. */
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) < 0) return core_error_set(err, errno, "creating a pipe");
  /* Without a terminal QEMU gets its own process group: a signal meant for corerun's group
   * must reach corerun, which stops the guest gracefully, not QEMU, which would just quit.
   * It also lets an abandoned attempt be ended with everything it started. */
  int own_group = !isatty(STDIN_FILENO);
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
    if (own_group) setpgid(0, 0);
    execvp(binary, (char *const *)argv);
    int e = errno;
    if (write(exec_pipe[1], &e, sizeof e) < 0) _exit(127);
    _exit(127);
  }
  if (own_group) setpgid(pid, pid); /* both sides, so the group exists whichever runs first */
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
  return watch_qemu(pid, own_group, status_fd, monitor, o, a, err);
}

/* Chooses the first attempt's accelerator: TCG when asked for, when the KVM device does not
 * open, or (auto only) when this host boot and QEMU already have a verdict against KVM; else
 * KVM on probation. *verdict_path is set when auto may remember a verdict; *have_key says
 * whether the key was made. */
static int plan_first_attempt(const core_qemu_opts *o, qemu_attempt *a, core_kvm_key *key, char **verdict_path,
                              int *have_key, core_error **err) {
  const char *kvm_device = o->kvm_device ? o->kvm_device : "/dev/kvm";
  a->accel = CORE_ACCEL_TCG;
  a->probe_seconds = 0;
  *have_key = 0;
  if (o->accel == CORE_ACCEL_TCG) return 0;
  int fd = open(kvm_device, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (o->accel == CORE_ACCEL_KVM) return core_error_set(err, e, "--accel kvm: cannot open %s", kvm_device);
    if (!o->quiet)
      fprintf(stderr, "corerun: %s is not usable (%s); booting with TCG software emulation (slower)\n", kvm_device, strerror(e));
    return 0;
  }
  close(fd);
  /* Only auto reads the verdict: --accel kvm asks for KVM whatever happened before. The key
   * costs a `qemu --version`, so it is made only when there is a verdict to check (or, later,
   * one to write). Without a key (no boot id, a QEMU that will not say its version) nothing
   * is remembered. */
  cleanup_free char *remembered = NULL;
  if (o->accel == CORE_ACCEL_AUTO && core_kvm_verdict_path(verdict_path, NULL) == 0 && access(*verdict_path, F_OK) == 0)
    *have_key = core_kvm_key_get(qemu_binary(o), key, NULL) == 0;
  if (*have_key && core_kvm_verdict_load(*verdict_path, key, &remembered) == 1) {
    if (!o->quiet)
      fprintf(stderr, "corerun: KVM failed its probe earlier in this host boot (%s); booting with TCG software "
                      "emulation (slower); remove %s to probe again\n", remembered, *verdict_path);
    return 0;
  }
  a->accel = CORE_ACCEL_KVM;
  a->probe_seconds = o->probe_seconds ? o->probe_seconds : CORE_KVM_PROBE_SECONDS_DEFAULT;
  if (!o->quiet) fprintf(stderr, "corerun: booting with KVM\n");
  return 0;
}

int core_qemu_run(const core_qemu_opts *o, int kernel_fd, int initrd_fd, int *guest_status, core_error **err) {
  qemu_attempt a = {0};
  cleanup_kvm_key core_kvm_key key = {0};
  cleanup_free char *verdict_path = NULL;
  int have_key = 0;
  if (plan_first_attempt(o, &a, &key, &verdict_path, &have_key, err) < 0) return -1;

  __attribute__((cleanup(core_qemu_monitor_release))) core_qemu_monitor monitor = {0};
  if (core_qemu_monitor_init(&monitor, err) < 0) return -1;
  __attribute__((cleanup(stop_handlers_restore))) stop_handlers handlers = {0};
  stop_handlers_install(&handlers);
  __attribute__((cleanup(saved_tty_restore))) saved_tty tty = {.flags = -1};
  saved_tty_save(&tty);

  int r = run_attempt(o, &monitor, kernel_fd, initrd_fd, &a, err);
  saved_tty_restore(&tty);
  if (r == ATTEMPT_NO_LIFE) {
    if (o->accel == CORE_ACCEL_KVM) return core_error_set(err, 0, "--accel kvm: %s", a.reason);
    if (stop_signals) return core_error_set(err, 0, "stopped before the guest started (%s)", a.reason);
    if (!o->quiet) fprintf(stderr, "corerun: KVM dropped: %s; booting with TCG software emulation (slower)\n", a.reason);
    /* The abandoned QEMU is gone (killed and reaped). The volume images it was given are used
     * again as they are: coreinit says "alive" before it mounts anything, so a guest that never
     * said it never touched them. Its monitor socket goes, so the next QEMU can make its own. */
    unlink(monitor.socket);
    if (!have_key && verdict_path) have_key = core_kvm_key_get(qemu_binary(o), &key, NULL) == 0;
    verdict_note note = {.key = &key, .path = verdict_path, .reason = a.reason};
    qemu_attempt b = {.accel = CORE_ACCEL_TCG, .note = have_key ? &note : NULL};
    r = run_attempt(o, &monitor, kernel_fd, initrd_fd, &b, err);
    saved_tty_restore(&tty);
    a.ws = b.ws;
    memcpy(a.text, b.text, sizeof a.text);
  }
  if (r < 0) return -1;
  return core_qemu_decode_status(a.ws, a.text, guest_status, err);
}
