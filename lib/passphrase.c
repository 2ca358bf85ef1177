/* Reading passphrases: from a file, or from the terminal without echo. */
#include "passphrase.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "buf.h"
#include "cleanup.h"
#include "fsutil.h"

void core_passphrase_wipe(char *buf, size_t size) { OPENSSL_cleanse(buf, size); }

int core_passphrase_from_file(const char *file, char *buf, size_t size, core_error **err) {
  core_buf text = CORE_BUF_INIT;
  if (core_read_file(file, &text, err) < 0) return core_error_wrap(err, "reading the passphrase file");
  size_t len = strcspn((const char *)text.data, "\r\n");
  if (len > text.len) len = text.len; /* the file need not end in a NUL */
  int rc = 0;
  if (len >= size)
    rc = core_error_set(err, 0, "the passphrase in '%s' is longer than %zu bytes", file, size - 1);
  else if (memchr(text.data, 0, len))
    rc = core_error_set(err, 0, "the passphrase in '%s' holds a NUL byte", file);
  else if (len == 0)
    rc = core_error_set(err, 0, "the passphrase file '%s' is empty: put the passphrase on its first line", file);
  else {
    memcpy(buf, text.data, len);
    buf[len] = 0;
  }
  OPENSSL_cleanse(text.data, text.len);
  core_buf_release(&text);
  if (rc < 0) OPENSSL_cleanse(buf, size);
  return rc;
}

/* The terminal's settings while echo is off, so a signal can put them back before it kills us. */
static int tty_fd = -1;
static struct termios tty_saved;
static volatile sig_atomic_t tty_echo_off;

static void restore_tty(void) {
  if (tty_echo_off) tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
  tty_echo_off = 0;
}

static void restore_tty_and_die(int sig) {
  restore_tty();
  signal(sig, SIG_DFL);
  raise(sig);
}

static const int tty_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
#define N_TTY_SIGNALS (sizeof tty_signals / sizeof *tty_signals)

/* Reads one line from the terminal into BUF; the caller has turned echo off. */
static int read_tty_line(int fd, char *buf, size_t size, core_error **err) {
  size_t len = 0;
  for (;;) {
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core_error_set(err, errno, "reading the passphrase from the terminal");
    if (n == 0 || c == '\n' || c == '\r') break;
    if (len + 1 >= size) return core_error_set(err, 0, "the passphrase is longer than %zu bytes", size - 1);
    buf[len++] = c;
  }
  buf[len] = 0;
  return 0;
}

int core_passphrase_from_tty(const char *what, const char *no_tty_hint, char *buf, size_t size, core_error **err) {
  cleanup_close int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return core_error_set(err, 0, "%s", no_tty_hint);
  struct termios off;
  if (tcgetattr(fd, &tty_saved) < 0) return core_error_set(err, errno, "reading the terminal's settings");
  off = tty_saved;
  off.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
  struct sigaction sa = {.sa_handler = restore_tty_and_die}, old[N_TTY_SIGNALS];
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < N_TTY_SIGNALS; i++) sigaction(tty_signals[i], &sa, &old[i]);
  tty_fd = fd;
  int rc = 0;
  if (tcsetattr(fd, TCSAFLUSH, &off) < 0) {
    rc = core_error_set(err, errno, "turning the terminal's echo off");
  } else {
    tty_echo_off = 1;
    dprintf(fd, "Passphrase for %s: ", what);
    rc = read_tty_line(fd, buf, size, err);
    restore_tty();
    dprintf(fd, "\n");
  }
  for (size_t i = 0; i < N_TTY_SIGNALS; i++) sigaction(tty_signals[i], &old[i], NULL);
  tty_fd = -1;
  if (rc < 0) OPENSSL_cleanse(buf, size);
  return rc;
}
