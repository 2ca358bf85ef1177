/* The KVM verdict: which host boot and QEMU it is for, and its file under $CORE_HOME. */
#include "accel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "spawn.h"

#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"
#define VERDICT_MAGIC "core kvm-verdict 1"
#define VERDICT_MAX 4096        /* far more than a verdict needs; a bigger file is not one */
#define VERSION_TIMEOUT_MS 5000 /* `qemu --version` answers in milliseconds */

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

char *core_kvm_first_line(const char *text, size_t len) {
  size_t i = 0;
  while (i < len) {
    size_t start = i, end;
    while (i < len && text[i] != '\n') i++;
    end = i++;
    while (start < end && is_blank(text[start])) start++;
    while (end > start && is_blank(text[end - 1])) end--;
    if (end > start) return strndup(text + start, end - start);
  }
  return NULL;
}

void core_kvm_key_release(core_kvm_key *k) {
  free(k->boot_id);
  free(k->qemu_version);
  k->boot_id = k->qemu_version = NULL;
}

/* The first line of `binary --version`. The version, not the binary's file identity, is the
 * key: it is what changes when QEMU is upgraded, and it passes through wrapper scripts, which
 * a wrapper's own inode would not. */
static int qemu_version(const char *binary, char **out, core_error **err) {
  char *argv[] = {(char *)binary, "--version", NULL};
  core_spawn_opts o = {.timeout_ms = VERSION_TIMEOUT_MS};
  cleanup_buf core_buf text = CORE_BUF_INIT;
  cleanup_buf core_buf errout = CORE_BUF_INIT;
  int status;
  if (core_spawn(argv, &o, &text, &errout, &status, err) < 0) return -1;
  if (status != 0)
    return core_error_set(err, 0, "'%s --version' failed (exit %d): %s", binary, status, core_spawn_last_line(&errout));
  if ((*out = core_kvm_first_line((const char *)text.data, text.len)) == NULL)
    return core_error_set(err, 0, "'%s --version' printed nothing", binary);
  return 0;
}

int core_kvm_key_get(const char *binary, core_kvm_key *out, core_error **err) {
  cleanup_close int fd = open(BOOT_ID_PATH, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return core_error_set(err, errno, "opening '%s'", BOOT_ID_PATH);
  char text[128];
  ssize_t n = read(fd, text, sizeof text - 1);
  if (n < 0) return core_error_set(err, errno, "reading '%s'", BOOT_ID_PATH);
  core_kvm_key k = {0};
  if ((k.boot_id = core_kvm_first_line(text, (size_t)n)) == NULL)
    return core_error_set(err, 0, "'%s' is empty", BOOT_ID_PATH);
  if (qemu_version(binary, &k.qemu_version, err) < 0) {
    core_kvm_key_release(&k);
    return -1;
  }
  *out = k;
  return 0;
}

int core_kvm_verdict_path(char **out, core_error **err) {
  cleanup_free char *home = NULL;
  if (core_home_dir(&home, err) < 0) return -1;
  if ((*out = core_path_join(home, "kvm-verdict")) == NULL) return core_error_set(err, ENOMEM, "allocating a path");
  return 0;
}

int core_kvm_verdict_format(const core_kvm_key *key, const char *reason, core_buf *out, core_error **err) {
  cleanup_free char *line = strdup(reason);
  if (line == NULL) return core_error_set(err, ENOMEM, "allocating");
  for (char *p = line; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = ' ';
  cleanup_free char *text = NULL;
  int n = asprintf(&text, VERDICT_MAGIC "\nboot-id %s\nqemu %s\nunusable %s\n", key->boot_id, key->qemu_version, line);
  if (n < 0) {
    text = NULL;
    return core_error_set(err, ENOMEM, "allocating");
  }
  return core_buf_append(out, text, (size_t)n, err);
}

/* Matches one "NAME VALUE\n" line at *p; the value is returned in [*value, *value_len). */
static int take_line(const char **p, const char *end, const char *name, const char **value, size_t *value_len) {
  size_t nl = strlen(name);
  const char *eol = memchr(*p, '\n', (size_t)(end - *p));
  if (eol == NULL || (size_t)(eol - *p) < nl + 2 || memcmp(*p, name, nl) != 0 || (*p)[nl] != ' ') return -1;
  *value = *p + nl + 1;
  *value_len = (size_t)(eol - *value);
  *p = eol + 1;
  return 0;
}

static int value_is(const char *v, size_t len, const char *want) { return strlen(want) == len && memcmp(v, want, len) == 0; }

int core_kvm_verdict_parse(const char *text, size_t len, const core_kvm_key *key, char **reason) {
  const char *p = text, *end = text + len, *v;
  size_t vlen;
  if (len > VERDICT_MAX || memchr(text, 0, len)) return 0;
  if (len < sizeof VERDICT_MAGIC || memcmp(p, VERDICT_MAGIC "\n", sizeof VERDICT_MAGIC) != 0) return 0;
  p += sizeof VERDICT_MAGIC;
  if (take_line(&p, end, "boot-id", &v, &vlen) < 0 || !value_is(v, vlen, key->boot_id)) return 0;
  if (take_line(&p, end, "qemu", &v, &vlen) < 0 || !value_is(v, vlen, key->qemu_version)) return 0;
  if (take_line(&p, end, "unusable", &v, &vlen) < 0 || p != end) return 0;
  if ((*reason = strndup(v, vlen)) == NULL) return 0;
  return 1;
}

int core_kvm_verdict_load(const char *path, const core_kvm_key *key, char **reason) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return 0;
  char text[VERDICT_MAX + 1];
  size_t got = 0;
  ssize_t n;
  while (got < sizeof text && (n = read(fd, text + got, sizeof text - got)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return 0;
    got += (size_t)n;
  }
  return core_kvm_verdict_parse(text, got, key, reason);
}

int core_kvm_verdict_save(const char *path, const core_kvm_key *key, const char *reason, core_error **err) {
  cleanup_buf core_buf text = CORE_BUF_INIT;
  cleanup_free char *dir = core_path_dirname(path);
  if (dir == NULL) return core_error_set(err, ENOMEM, "allocating a path");
  if (core_mkdir_p(dir, 0700, err) < 0 || core_kvm_verdict_format(key, reason, &text, err) < 0 ||
      core_write_file_atomic(path, text.data, text.len, 0644, err) < 0)
    return core_error_wrap(err, "remembering the KVM verdict in '%s'", path);
  return 0;
}

int core_kvm_probe_seconds_parse(const char *text, unsigned *out, core_error **err) {
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (end == text || *end || errno || v < 1 || v > CORE_KVM_PROBE_SECONDS_MAX)
    return core_error_set(err, 0, "CORE_KVM_PROBE_SECONDS '%s': give whole seconds from 1 to %d", text,
                          CORE_KVM_PROBE_SECONDS_MAX);
  *out = (unsigned)v;
  return 0;
}
