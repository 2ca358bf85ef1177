/* Switching a process to its user: the uid, gid and home from /etc/passwd, the
 * supplementary groups from /etc/group, as login would. Runs in the child, after chroot,
 * so a process in its own root gets that root's users. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

#define INIT_GROUPS_MAX 256
#define INIT_GROUP_FILE_MAX (1 << 20)

static bool init_member_of(const char *members, size_t len, const char *user) {
  size_t ulen = strlen(user);
  for (size_t i = 0; i < len;) {
    const char *comma = memchr(members + i, ',', len - i);
    size_t n = comma ? (size_t)(comma - (members + i)) : len - i;
    if (n == ulen && memcmp(members + i, user, n) == 0) return true;
    i += n + 1;
  }
  return false;
}

size_t init_groups_parse(const char *text, size_t len, const char *user, gid_t *groups, size_t n,
                         size_t max) {
  for (size_t at = 0; at < len && n < max;) {
    const char *nl = memchr(text + at, '\n', len - at);
    size_t line_len = nl ? (size_t)(nl - (text + at)) : len - at;
    const char *line = text + at;
    at += line_len + 1;
    /* name:password:gid:member,member,...; anything else is not a group line. */
    const char *f[4];
    size_t nf = 0;
    f[nf++] = line;
    for (size_t i = 0; i < line_len && nf < 4; i++)
      if (line[i] == ':') f[nf++] = line + i + 1;
    if (nf < 4 || f[2][0] < '0' || f[2][0] > '9') continue;
    char *end;
    unsigned long gid = strtoul(f[2], &end, 10);
    if (*end != ':' || gid >= UINT32_MAX) continue;
    if (!init_member_of(f[3], (size_t)(line + line_len - f[3]), user)) continue;
    bool have = false;
    for (size_t k = 0; k < n && !have; k++) have = groups[k] == (gid_t)gid;
    if (!have) groups[n++] = (gid_t)gid;
  }
  return n;
}

/* Adds the groups /etc/group gives user. A missing file means no extra groups. */
static size_t init_groups_read(const char *user, gid_t *groups, size_t n) {
  int fd = open("/etc/group", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return n;
  char *buf = malloc(INIT_GROUP_FILE_MAX);
  size_t len = 0;
  ssize_t r;
  while (buf && len < INIT_GROUP_FILE_MAX &&
         ((r = read(fd, buf + len, INIT_GROUP_FILE_MAX - len)) > 0 || (r < 0 && errno == EINTR)))
    if (r > 0) len += (size_t)r;
  close(fd);
  if (buf) n = init_groups_parse(buf, len, user, groups, n, INIT_GROUPS_MAX);
  free(buf);
  return n;
}

int init_user_become(const char *user, const char **home, init_error *err) {
  uid_t uid;
  gid_t gid;
  const char *name = NULL;
  struct passwd *pw;
  *home = "/";
  if (user[0] >= '0' && user[0] <= '9') {
    /* The parser checked the form: digits, optionally ':' and digits. */
    char *end;
    uid = (uid_t)strtoul(user, &end, 10);
    pw = getpwuid(uid);
    gid = *end == ':' ? (gid_t)strtoul(end + 1, NULL, 10) : pw ? pw->pw_gid : (gid_t)uid;
  } else {
    errno = 0;
    pw = getpwnam(user);
    if (!pw)
      return init_error_set(err, errno == ENOENT ? 0 : errno,
                            "unknown user '%s' (not in /etc/passwd)", user);
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
  if (pw) {
    name = pw->pw_name;
    if (pw->pw_dir && pw->pw_dir[0]) *home = pw->pw_dir;
  }
  gid_t groups[INIT_GROUPS_MAX];
  size_t n = 0;
  groups[n++] = gid;
  if (name) n = init_groups_read(name, groups, n);
  /* Groups first and uid last: once the uid is not 0 nothing else may change. */
  if (setgroups(n, groups) < 0) return init_error_set(err, errno, "user '%s': setgroups", user);
  if (setgid(gid) < 0)
    return init_error_set(err, errno, "user '%s': setgid(%u)", user, (unsigned)gid);
  if (setuid(uid) < 0)
    return init_error_set(err, errno, "user '%s': setuid(%u)", user, (unsigned)uid);
  return 0;
}
