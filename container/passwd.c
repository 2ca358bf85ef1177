/* Names of users and groups resolved in the image's own /etc/passwd and /etc/group: the
 * caller's libc would read the caller's files (and musl's and glibc's may consult NSS), so
 * the library reads the image's text itself, bounded in size and line length. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container.h"

/* A uid or gid field: decimal, below 2^32-1 ((uid_t)-1 means "unchanged" to the kernel). */
static bool ctr_id_field(const char *s, size_t len, uint32_t *out) {
  uint64_t v = 0;
  if (len == 0 || len > 10) return false;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (v >= UINT32_MAX) return false;
  *out = (uint32_t)v;
  return true;
}

/* Looks for the line whose first field is name; fields[] gets up to nfields of its fields.
 * Returns 1 found, 0 not, -1 error. */
static int ctr_id_find(const char *what, const char *text, size_t len, const char *name,
                       const char *fields[], size_t lens[], size_t nfields, ctr_error *err) {
  size_t name_len = strlen(name);
  if (len > CTR_ID_FILE_MAX)
    return ctr_error_set(err, 0, "%s is larger than %u bytes", what, CTR_ID_FILE_MAX);
  size_t lineno = 0;
  for (size_t at = 0; at < len;) {
    const char *line = text + at;
    const char *nl = memchr(line, '\n', len - at);
    size_t line_len = nl ? (size_t)(nl - line) : len - at;
    at += line_len + 1;
    lineno++;
    if (line_len > CTR_ID_LINE_MAX)
      return ctr_error_set(err, 0, "%s line %zu is longer than %u bytes", what, lineno,
                           CTR_ID_LINE_MAX);
    if (line_len <= name_len || memcmp(line, name, name_len) != 0 || line[name_len] != ':')
      continue;
    size_t nf = 0;
    const char *start = line;
    for (size_t i = 0; i <= line_len && nf < nfields; i++) {
      if (i == line_len || line[i] == ':') {
        fields[nf] = start;
        lens[nf] = (size_t)(line + i - start);
        nf++;
        start = line + i + 1;
      }
    }
    if (nf < nfields)
      return ctr_error_set(err, 0, "%s line %zu ('%s'): has %zu fields, expected at least %zu",
                           what, lineno, name, nf, nfields);
    return 1;
  }
  return 0;
}

int ctr_passwd_find(const char *text, size_t len, const char *name, uint32_t *uid, uint32_t *gid,
                    ctr_error *err) {
  /* name:password:UID:GID:gecos:home:shell; only the first four are needed. */
  const char *f[4];
  size_t l[4];
  int found = ctr_id_find("/etc/passwd", text, len, name, f, l, 4, err);
  if (found <= 0) return found;
  uint32_t u, g;
  if (!ctr_id_field(f[2], l[2], &u) || !ctr_id_field(f[3], l[3], &g))
    return ctr_error_set(err, 0, "/etc/passwd entry '%s': uid '%.*s' or gid '%.*s' is not a "
                                 "number below 4294967295",
                         name, (int)(l[2] > 16 ? 16 : l[2]), f[2], (int)(l[3] > 16 ? 16 : l[3]),
                         f[3]);
  *uid = u;
  *gid = g;
  return 1;
}

int ctr_group_find(const char *text, size_t len, const char *name, uint32_t *gid, ctr_error *err) {
  /* name:password:GID:members */
  const char *f[3];
  size_t l[3];
  int found = ctr_id_find("/etc/group", text, len, name, f, l, 3, err);
  if (found <= 0) return found;
  uint32_t g;
  if (!ctr_id_field(f[2], l[2], &g))
    return ctr_error_set(err, 0, "/etc/group entry '%s': gid '%.*s' is not a number below "
                                 "4294967295",
                         name, (int)(l[2] > 16 ? 16 : l[2]), f[2]);
  *gid = g;
  return 1;
}
