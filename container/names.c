/* The names a caller's text uses for kernel numbers: capabilities, resource limits and
 * mount options, and LinuxKit's "src:dst:opts" bind form. Unknown names are errors that
 * quote them, so a misspelling never silently grants or drops anything. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "container.h"

/* Names longer than this are not names of anything here; refusing them keeps messages
 * short and the copies below bounded. */
#define CTR_NAME_MAX 64

/* Indexed by number (linux/capability.h); written out so the set does not depend on the
 * age of the headers the library is built with. */
static const char *const ctr_cap_names[] = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",          "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",       "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",           "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
#define CTR_CAP_COUNT ((int)(sizeof ctr_cap_names / sizeof ctr_cap_names[0]))

uint64_t ctr_caps_all(void) { return (UINT64_C(1) << CTR_CAP_COUNT) - 1; }

uint64_t ctr_caps_default(void) {
  static const int caps[] = {0 /* CHOWN */,      1 /* DAC_OVERRIDE */, 3 /* FOWNER */,
                             4 /* FSETID */,     5 /* KILL */,         6 /* SETGID */,
                             7 /* SETUID */,     8 /* SETPCAP */,      10 /* NET_BIND_SERVICE */,
                             13 /* NET_RAW */,   18 /* SYS_CHROOT */,  27 /* MKNOD */,
                             29 /* AUDIT_WRITE */, 31 /* SETFCAP */};
  uint64_t m = 0;
  for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) m |= UINT64_C(1) << caps[i];
  return m;
}

const char *ctr_cap_name(int cap) {
  return cap >= 0 && cap < CTR_CAP_COUNT ? ctr_cap_names[cap] : NULL;
}

/* Compares name with a table entry "PREFIX_NAME", case-insensitive, prefix optional. */
static bool ctr_name_is(const char *name, const char *entry, const char *prefix) {
  size_t plen = strlen(prefix);
  if (strcasecmp(name, entry) == 0) return true;
  return strncasecmp(name, prefix, plen) != 0 && strcasecmp(name, entry + plen) == 0;
}

int ctr_cap_parse(const char *name, int *cap, ctr_error *err) {
  if (strlen(name) <= CTR_NAME_MAX)
    for (int i = 0; i < CTR_CAP_COUNT; i++)
      if (ctr_name_is(name, ctr_cap_names[i], "CAP_")) {
        *cap = i;
        return 0;
      }
  return ctr_error_set(err, 0, "unknown capability '%.*s' (expected a name like CAP_SYS_ADMIN, "
                               "or all)", CTR_NAME_MAX, name);
}

int ctr_caps_parse(const char *const *names, size_t n, uint64_t *mask, ctr_error *err) {
  uint64_t m = *mask;
  for (size_t i = 0; i < n; i++) {
    int cap;
    if (strcasecmp(names[i], "all") == 0) {
      m |= ctr_caps_all();
      continue;
    }
    if (ctr_cap_parse(names[i], &cap, err) < 0) return -1;
    m |= UINT64_C(1) << cap;
  }
  *mask = m;
  return 0;
}

void ctr_caps_set_all(ctr_caps *caps, uint64_t mask) {
  *caps = (ctr_caps){mask, mask, mask, mask, mask};
}

static const struct {
  const char *name;
  int resource;
} ctr_rlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

int ctr_rlimit_name_parse(const char *name, int *resource, ctr_error *err) {
  if (strlen(name) <= CTR_NAME_MAX)
    for (size_t i = 0; i < sizeof ctr_rlimits / sizeof ctr_rlimits[0]; i++)
      if (ctr_name_is(name, ctr_rlimits[i].name, "RLIMIT_")) {
        *resource = ctr_rlimits[i].resource;
        return 0;
      }
  return ctr_error_set(err, 0, "unknown resource limit '%.*s' (expected a name like RLIMIT_NOFILE)",
                       CTR_NAME_MAX, name);
}

/* A limit value: decimal digits only (no sign, no spaces), or unlimited/infinity. */
static int ctr_rlimit_value(const char *s, size_t len, const char *text, uint64_t *out,
                            ctr_error *err) {
  if ((len == 9 && strncasecmp(s, "unlimited", 9) == 0) ||
      (len == 8 && strncasecmp(s, "infinity", 8) == 0)) {
    *out = RLIM_INFINITY;
    return 0;
  }
  uint64_t v = 0;
  if (len == 0) goto bad;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') goto bad;
    unsigned d = (unsigned)(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) goto bad;
    v = v * 10 + d;
  }
  if (v == RLIM_INFINITY) goto bad;
  *out = v;
  return 0;
bad:
  return ctr_error_set(err, 0,
                       "rlimit '%.*s': '%.*s' is not a limit (a number below 2^64-1, or "
                       "unlimited)",
                       CTR_NAME_MAX * 2, text, (int)(len > CTR_NAME_MAX ? CTR_NAME_MAX : len), s);
}

int ctr_rlimit_parse(const char *text, ctr_rlimit *out, ctr_error *err) {
  const char *c1 = strchr(text, ',');
  const char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
  if (!c1 || !c2 || strchr(c2 + 1, ','))
    return ctr_error_set(err, 0, "rlimit '%.*s': expected NAME,SOFT,HARD", CTR_NAME_MAX * 2, text);
  char name[CTR_NAME_MAX + 1];
  size_t nlen = (size_t)(c1 - text);
  if (nlen > CTR_NAME_MAX)
    return ctr_error_set(err, 0, "rlimit '%.*s': unknown resource limit", CTR_NAME_MAX * 2, text);
  memcpy(name, text, nlen);
  name[nlen] = '\0';
  ctr_rlimit r;
  if (ctr_rlimit_name_parse(name, &r.resource, err) < 0) return -1;
  if (ctr_rlimit_value(c1 + 1, (size_t)(c2 - c1 - 1), text, &r.soft, err) < 0 ||
      ctr_rlimit_value(c2 + 1, strlen(c2 + 1), text, &r.hard, err) < 0)
    return -1;
  if (r.soft > r.hard)
    return ctr_error_set(err, 0, "rlimit '%.*s': the soft limit is above the hard one",
                         CTR_NAME_MAX * 2, text);
  *out = r;
  return 0;
}

/* The option words of runc/LinuxKit: what each sets or clears. */
static const struct {
  const char *name;
  bool clear;
  unsigned long flag;
} ctr_mount_flags[] = {
    {"defaults", false, 0},         {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},        {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},      {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},        {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},      {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS}, {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT}, {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},  {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME}, {"diratime", true, MS_NODIRATIME},
    {"nodiratime", false, MS_NODIRATIME}, {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME}, {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME}, {"bind", false, MS_BIND},
    {"rbind", false, MS_BIND | MS_REC},
};

static const struct {
  const char *name;
  unsigned long flag;
} ctr_mount_props[] = {
    {"private", MS_PRIVATE},           {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},             {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},               {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE},     {"runbindable", MS_UNBINDABLE | MS_REC},
};

int ctr_mount_options_parse(const char *type, const char *options, ctr_mount_opts *out,
                            ctr_error *err) {
  ctr_mount_opts o = {0};
  bool is_bind = type && strcmp(type, "bind") == 0;
  size_t dlen = 0;
  for (const char *p = options ? options : ""; *p;) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    char word[CTR_NAME_MAX + 1];
    bool known = false;
    if (n <= CTR_NAME_MAX) {
      memcpy(word, p, n);
      word[n] = '\0';
      for (size_t i = 0; i < sizeof ctr_mount_flags / sizeof ctr_mount_flags[0] && !known; i++)
        if (strcmp(word, ctr_mount_flags[i].name) == 0) {
          known = true;
          if (ctr_mount_flags[i].clear)
            o.flags &= ~ctr_mount_flags[i].flag;
          else if (ctr_mount_flags[i].flag == MS_BIND) /* "bind" after "rbind": not recursive */
            o.flags = (o.flags & ~(unsigned long)MS_REC) | MS_BIND;
          else
            o.flags |= ctr_mount_flags[i].flag;
          if (ctr_mount_flags[i].flag & MS_BIND) o.bind = true;
        }
      for (size_t i = 0; i < sizeof ctr_mount_props / sizeof ctr_mount_props[0] && !known; i++)
        if (strcmp(word, ctr_mount_props[i].name) == 0) {
          known = true;
          o.propagation = ctr_mount_props[i].flag;
        }
    }
    if (!known && n > 0) {
      if (is_bind)
        return ctr_error_set(err, 0, "unknown bind mount option '%.*s'", CTR_NAME_MAX, p);
      if (dlen + n + 2 > sizeof o.data)
        return ctr_error_set(err, 0, "mount options '%.*s...' are longer than %zu bytes",
                             CTR_NAME_MAX, options, sizeof o.data - 1);
      if (dlen) o.data[dlen++] = ',';
      memcpy(o.data + dlen, p, n);
      dlen += n;
      o.data[dlen] = '\0';
    }
    p += n;
    if (*p == ',') p++;
  }
  if (is_bind && !o.bind) o.flags |= MS_BIND;
  if (is_bind) o.bind = true;
  *out = o;
  return 0;
}

int ctr_bind_parse(const char *text, ctr_mount *out, char *buf, size_t bufsize, ctr_error *err) {
  /* buf holds the copy of text, then the options with LinuxKit's defaults in front. */
  static const char defaults[] = "rbind,rprivate";
  size_t len = strlen(text);
  if (2 * len + sizeof defaults + 2 > bufsize)
    return ctr_error_set(err, 0, "bind '%.64s...' is too long (at most %zu bytes)", text,
                         (bufsize - sizeof defaults - 2) / 2);
  memcpy(buf, text, len + 1);
  char *c1 = strchr(buf, ':');
  if (!c1 || c1 == buf || c1[1] == '\0' || c1[1] == ':')
    return ctr_error_set(err, 0, "bind '%s': expected SOURCE:DESTINATION[:OPTIONS]", text);
  *c1 = '\0';
  char *dst = c1 + 1;
  char *c2 = strchr(dst, ':');
  const char *given = "";
  if (c2) {
    *c2 = '\0';
    given = c2 + 1;
    if (strchr(given, ':'))
      return ctr_error_set(err, 0, "bind '%s': expected SOURCE:DESTINATION[:OPTIONS]", text);
  }
  if (buf[0] != '/' || dst[0] != '/')
    return ctr_error_set(err, 0, "bind '%s': source and destination must be absolute paths",
                         text);
  char *opts = buf + len + 1;
  snprintf(opts, bufsize - len - 1, "%s%s%s", defaults, *given ? "," : "", given);
  ctr_mount_opts o;
  if (ctr_mount_options_parse("bind", opts, &o, err) < 0)
    return ctr_error_prefix(err, "bind '%s'", text);
  *out = (ctr_mount){.type = "bind", .source = buf, .destination = dst, .options = opts};
  return 0;
}

int ctr_tmpfs_parse(const char *text, ctr_mount *out, char *buf, size_t bufsize, ctr_error *err) {
  size_t len = strlen(text);
  if (len + 1 > bufsize)
    return ctr_error_set(err, 0, "tmpfs '%.64s...' is too long (at most %zu bytes)", text,
                         bufsize - 1);
  memcpy(buf, text, len + 1);
  char *colon = strchr(buf, ':');
  const char *opts = NULL;
  if (colon) {
    *colon = '\0';
    opts = colon + 1;
  }
  if (buf[0] != '/')
    return ctr_error_set(err, 0, "tmpfs '%s': the destination must be an absolute path", text);
  ctr_mount_opts o;
  if (ctr_mount_options_parse("tmpfs", opts, &o, err) < 0)
    return ctr_error_prefix(err, "tmpfs '%s'", text);
  if (o.bind) return ctr_error_set(err, 0, "tmpfs '%s': bind options make no sense here", text);
  *out = (ctr_mount){.type = "tmpfs", .source = "tmpfs", .destination = buf, .options = opts};
  return 0;
}
