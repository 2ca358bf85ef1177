/* The init.conf / run.conf parser: text in, init_conf out. No I/O, so it runs in the host's
 * unit tests; conffile.c does the reading and confmerge.c the merging and checking. */
#include "conf.h"

/* The keywords, shared with the writers on the host (lib/initconf.c). */
#include "../../lib/initconf_keys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INIT_HOSTNAME_MAX 64 /* the kernel's limit (__NEW_UTS_LEN) */
#define INIT_NAME_MAX 63     /* steps, services, volumes */
#define INIT_IFNAME_MAX 15   /* IFNAMSIZ - 1 */

/* ---- lists ---------------------------------------------------------------------------- */

/* Makes room in a vector of elem-sized items for one more (plus a spare slot, which keeps
 * string vectors NULL-terminated). Returns the possibly moved array, or NULL. */
void *init_vec_grow(void *v, size_t *cap, size_t n, size_t elem) {
  if (n + 2 <= *cap) return v;
  size_t c = *cap ? *cap * 2 : 4;
  void *nv = realloc(v, c * elem);
  if (!nv) return NULL;
  memset((char *)nv + *cap * elem, 0, (c - *cap) * elem);
  *cap = c;
  return nv;
}

void init_strv_free(init_strv *s) {
  for (size_t i = 0; i < s->n; i++) free(s->v[i]);
  free(s->v);
  *s = (init_strv){0};
}

/* Makes room for `extra` more strings and the NULL that follows them. */
int init_strv_reserve(init_strv *s, size_t extra) {
  if (s->n + extra + 1 <= s->cap) return 0;
  size_t cap = s->cap ? s->cap : 8;
  while (cap < s->n + extra + 1) cap *= 2;
  char **v = realloc(s->v, cap * sizeof *v);
  if (!v) return -1;
  s->v = v;
  s->cap = cap;
  return 0;
}

/* Takes ownership of str, also on failure (it is freed), so callers need no cleanup. */
int init_strv_push(init_strv *s, char *str) {
  if (init_strv_reserve(s, 1) < 0) {
    free(str);
    return -1;
  }
  s->v[s->n++] = str;
  s->v[s->n] = NULL;
  return 0;
}

void init_proc_free(init_proc *p) {
  free(p->name);
  init_strv_free(&p->argv);
  init_strv_free(&p->env);
  free(p->root);
  free(p->cwd);
  free(p->user);
  init_strv_free(&p->depends);
  free(p->depends_line);
  *p = (init_proc){0};
}

static void init_procv_free(init_procv *v) {
  for (size_t i = 0; i < v->n; i++) init_proc_free(&v->v[i]);
  free(v->v);
  *v = (init_procv){0};
}

void init_iface_free(init_iface *f) {
  free(f->name);
  init_strv_free(&f->dns);
  *f = (init_iface){0};
}

void init_conf_free(init_conf *c) {
  free(c->hostname);
  free(c->status_device);
  init_strv_free(&c->modules);
  init_strv_free(&c->env);
  init_strv_free(&c->argv);
  init_strv_free(&c->sysctls);
  for (size_t i = 0; i < c->mounts.n; i++) {
    free(c->mounts.v[i].path);
    free(c->mounts.v[i].volume);
  }
  free(c->mounts.v);
  for (size_t i = 0; i < c->volumes.n; i++) {
    free(c->volumes.v[i].name);
    free(c->volumes.v[i].device);
  }
  free(c->volumes.v);
  for (size_t i = 0; i < c->ifaces.n; i++) init_iface_free(&c->ifaces.v[i]);
  free(c->ifaces.v);
  init_procv_free(&c->onboot);
  init_procv_free(&c->services);
  init_procv_free(&c->onshutdown);
  init_strv_free(&c->warnings);
  *c = (init_conf)INIT_CONF_INIT;
}

/* ---- the parser's state ----------------------------------------------------------------- */

/* What indented lines belong to: the block the last top-level line started. */
typedef enum init_block {
  INIT_IN_DIRECTIVE = 0, /* a top-level line that starts no block ('version 1' too) */
  INIT_IN_SKIPPED,       /* an unknown top-level line of run.conf: its block is skipped too */
  INIT_IN_ONBOOT,
  INIT_IN_SERVICE,
  INIT_IN_ONSHUTDOWN,
  INIT_IN_MOUNT,
  INIT_IN_INTERFACE,
} init_block;

/* Where the parser is, so every message can say "file:line:". */
typedef struct init_parser {
  const char *file;
  int line;
  init_conf_kind kind;
  init_error *err;
  init_conf *c;
  bool versioned;
  init_block block;
  size_t index;     /* of the block's element in its vector (pointers move on growth) */
  char last_kw[24]; /* the last top-level keyword, for "does not start a block" */
  int last_line;
} init_parser;

__attribute__((format(printf, 2, 3))) static int init_parse_fail(init_parser *p, const char *fmt,
                                                                 ...) {
  char problem[sizeof p->err->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(problem, sizeof problem, fmt, ap);
  va_end(ap);
  return init_error_set(p->err, 0, "%s:%d: %s", p->file, p->line, problem);
}

/* run.conf only: records that a line was skipped. Failing to record it is not worth
 * failing the boot over, so out of memory just loses the warning. */
__attribute__((format(printf, 2, 3))) static int init_parse_warn(init_parser *p, const char *fmt,
                                                                 ...) {
  char problem[400], *line = NULL;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(problem, sizeof problem, fmt, ap);
  va_end(ap);
  size_t n = strlen(p->file) + strlen(problem) + 32;
  if ((line = malloc(n))) {
    snprintf(line, n, "%s:%d: %s", p->file, p->line, problem);
    init_strv_push(&p->c->warnings, line);
  }
  return 0;
}

static int init_oom(init_parser *p) { return init_parse_fail(p, "out of memory"); }

/* Returns the value with its escapes resolved, or NULL (message set). */
static char *init_unescape(init_parser *p, const char *s, size_t n) {
  char *out = malloc(n + 1);
  if (!out) {
    init_oom(p);
    return NULL;
  }
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '\\') {
      out[o++] = s[i];
      continue;
    }
    if (++i == n) {
      free(out);
      init_parse_fail(p, "backslash at end of line (write '\\\\' for a backslash)");
      return NULL;
    }
    switch (s[i]) {
    case '\\': out[o++] = '\\'; break;
    case 'n': out[o++] = '\n'; break;
    case 't': out[o++] = '\t'; break;
    default:
      free(out);
      init_parse_fail(p, "unknown escape '\\%c' (only '\\\\', '\\n' and '\\t' exist)", s[i]);
      return NULL;
    }
  }
  out[o] = '\0';
  return out;
}

/* ---- value checks --------------------------------------------------------------------- */

/* Names of steps, services and volumes end up in messages and (volumes) in the launcher's
 * file names, so they stay plain. */
static bool init_name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > INIT_NAME_MAX) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '-' || *s == '_' || *s == '.'))
      return false;
  return true;
}

/* An absolute path without empty, "." or ".." components, so that what is created and
 * mounted is exactly what was written. */
static bool init_clean_path_ok(const char *s) {
  if (s[0] != '/') return false;
  const char *c = s + 1;
  for (;;) {
    const char *end = strchr(c, '/');
    size_t n = end ? (size_t)(end - c) : strlen(c);
    if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) return false;
    if (!end) return true;
    c = end + 1;
  }
}

int init_sysctl_path(const char *key, size_t key_len, char *out, size_t out_size) {
  static const char prefix[] = "/proc/sys/";
  if (key_len == 0 || sizeof prefix + key_len > out_size) return -1;
  /* Like sysctl(8): dots separate components unless the key uses slashes, which lets a
   * component hold a dot (an interface called eth0.100). */
  bool slashes = memchr(key, '/', key_len) != NULL;
  memcpy(out, prefix, sizeof prefix - 1);
  char *o = out + sizeof prefix - 1, *comp = o;
  for (size_t i = 0; i <= key_len; i++) {
    char ch = i < key_len ? key[i] : '\0';
    if (ch == '/' || (!slashes && ch == '.') || ch == '\0') {
      size_t n = (size_t)(o - comp);
      /* No way out of /proc/sys, and no component that is not a file name. */
      if (n == 0 || (n == 1 && comp[0] == '.') || (n == 2 && comp[0] == '.' && comp[1] == '.'))
        return -1;
      *o++ = ch == '\0' ? '\0' : '/';
      comp = o;
      continue;
    }
    if (ch == ' ' || ch == '\t' || ch == '\n') return -1;
    *o++ = ch;
  }
  return 0;
}

/* "NAME" or "UID" or "UID:GID": checked here so a typo fails the boot at once, not in
 * a child process later. */
static bool init_user_ok(const char *s) {
  if (s[0] == '\0') return false;
  if (s[0] >= '0' && s[0] <= '9') {
    for (int part = 0; part < 2; part++) {
      char *end;
      errno = 0;
      unsigned long v = strtoul(s, &end, 10);
      if (end == s || errno || v >= UINT32_MAX || *s < '0' || *s > '9') return false;
      if (*end == '\0') return true;
      if (*end != ':' || part == 1) return false;
      s = end + 1;
    }
    return false;
  }
  return strpbrk(s, ":/ \t\n") == NULL;
}

/* Decimal digits only, above zero: the writer converts units, so "64M" is a mistake. */
static bool init_size_ok(const char *s, unsigned long long *out) {
  if (s[0] < '1' || s[0] > '9') return false;
  unsigned long long v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > (ULLONG_MAX - 9) / 10) return false;
    v = v * 10 + (unsigned)(*s - '0');
  }
  *out = v;
  return true;
}

static bool init_mode_ok(const char *s, int *out) {
  size_t n = strlen(s);
  if (n == 0 || n > 5) return false;
  int v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '7') return false;
    v = v * 8 + (*s - '0');
  }
  if (v > 07777) return false;
  *out = v;
  return true;
}

static bool init_env_ok(const char *s) {
  const char *eq = strchr(s, '=');
  return eq && eq != s;
}

/* ---- top-level directives ------------------------------------------------------------- */

/* Each directive takes ownership of value, also when it fails. */
typedef int (*init_directive_fn)(init_parser *p, char *value);

/* Frees value and fails with the message; for the checks below. */
#define INIT_REJECT(p, value, ...)                                                                 \
  do {                                                                                             \
    init_parse_fail(p, __VA_ARGS__);                                                               \
    free(value);                                                                                   \
    return -1;                                                                                     \
  } while (0)

static int init_push(init_parser *p, init_strv *s, char *value) {
  if (init_strv_push(s, value) < 0) return init_oom(p);
  return 0;
}

static int init_set_string(char **slot, char *value) {
  free(*slot);
  *slot = value;
  return 0;
}

static int init_do_hostname(init_parser *p, char *value) {
  size_t n = strlen(value);
  if (n == 0 || n > INIT_HOSTNAME_MAX)
    INIT_REJECT(p, value, "hostname must be 1 to %d bytes long, not %zu", INIT_HOSTNAME_MAX, n);
  return init_set_string(&p->c->hostname, value);
}

static int init_do_module(init_parser *p, char *value) {
  if (value[0] != '/') INIT_REJECT(p, value, "module path '%s' is not absolute", value);
  return init_push(p, &p->c->modules, value);
}

static int init_do_env(init_parser *p, char *value) {
  if (!init_env_ok(value)) INIT_REJECT(p, value, "env value '%s' is not NAME=VALUE", value);
  return init_push(p, &p->c->env, value);
}

static int init_do_arg(init_parser *p, char *value) { return init_push(p, &p->c->argv, value); }

static int init_do_status_device(init_parser *p, char *value) {
  if (value[0] != '/') INIT_REJECT(p, value, "status device '%s' is not an absolute path", value);
  return init_set_string(&p->c->status_device, value);
}

static int init_do_sysctl(init_parser *p, char *value) {
  char path[256];
  char *eq = strchr(value, '=');
  if (!eq) INIT_REJECT(p, value, "sysctl value '%s' is not KEY=VALUE", value);
  if (init_sysctl_path(value, (size_t)(eq - value), path, sizeof path) < 0)
    INIT_REJECT(p, value, "sysctl key '%.*s' is not a name under /proc/sys", (int)(eq - value),
                value);
  return init_push(p, &p->c->sysctls, value);
}

static int init_do_volume(init_parser *p, char *value) {
  char *space = strchr(value, ' ');
  if (!space) INIT_REJECT(p, value, "volume value '%s' is not NAME DEVICE", value);
  *space = '\0';
  const char *device = space + 1;
  if (!init_name_ok(value))
    INIT_REJECT(p, value, "volume name '%s' is not 1 to %d letters, digits, '-', '_' or '.'", value,
                INIT_NAME_MAX);
  if (device[0] != '/') INIT_REJECT(p, value, "volume device '%s' is not an absolute path", device);
  init_volumev *v = &p->c->volumes;
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(v->v[i].name, value) == 0) INIT_REJECT(p, value, "volume '%s' given twice", value);
  char *dev = strdup(device);
  init_volume *nv = dev ? init_vec_grow(v->v, &v->cap, v->n, sizeof *v->v) : NULL;
  if (!nv) {
    free(dev);
    free(value);
    return init_oom(p);
  }
  v->v = nv;
  v->v[v->n++] = (init_volume){value, dev};
  return 0;
}

/* Starts a step or service block. kind is the vector it goes in. */
static int init_start_proc(init_parser *p, char *value, init_procv *kind, init_block block,
                           const char *what) {
  if (!init_name_ok(value))
    INIT_REJECT(p, value, "%s name '%s' is not 1 to %d letters, digits, '-', '_' or '.'", what,
                value, INIT_NAME_MAX);
  /* One namespace for steps and services: messages name them without saying which. */
  init_procv *all[] = {&p->c->onboot, &p->c->services, &p->c->onshutdown};
  for (size_t k = 0; k < 3; k++)
    for (size_t i = 0; i < all[k]->n; i++)
      if (strcmp(all[k]->v[i].name, value) == 0)
        INIT_REJECT(p, value, "the name '%s' is already used on line %d", value, all[k]->v[i].line);
  init_proc *nv = init_vec_grow(kind->v, &kind->cap, kind->n, sizeof *kind->v);
  if (!nv) {
    free(value);
    return init_oom(p);
  }
  kind->v = nv;
  kind->v[kind->n] = (init_proc){.name = value, .line = p->line};
  p->index = kind->n++;
  p->block = block;
  return 0;
}

static int init_do_onboot(init_parser *p, char *value) {
  return init_start_proc(p, value, &p->c->onboot, INIT_IN_ONBOOT, "onboot step");
}
static int init_do_service(init_parser *p, char *value) {
  return init_start_proc(p, value, &p->c->services, INIT_IN_SERVICE, "service");
}
static int init_do_onshutdown(init_parser *p, char *value) {
  return init_start_proc(p, value, &p->c->onshutdown, INIT_IN_ONSHUTDOWN, "onshutdown step");
}

static int init_do_mount(init_parser *p, char *value) {
  if (!init_clean_path_ok(value) || strcmp(value, "/") == 0)
    INIT_REJECT(p, value,
                "mount path '%s' is not an absolute path below / without empty, '.' or '..' "
                "parts",
                value);
  init_mountv *v = &p->c->mounts;
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(v->v[i].path, value) == 0)
      INIT_REJECT(p, value, "'%s' is already mounted on line %d", value, v->v[i].line);
  init_mount *nv = init_vec_grow(v->v, &v->cap, v->n, sizeof *v->v);
  if (!nv) {
    free(value);
    return init_oom(p);
  }
  v->v = nv;
  v->v[v->n] = (init_mount){.path = value, .line = p->line, .mode = -1};
  p->index = v->n++;
  p->block = INIT_IN_MOUNT;
  return 0;
}

static int init_do_interface(init_parser *p, char *value) {
  size_t n = strlen(value);
  if (n == 0 || n > INIT_IFNAME_MAX || strpbrk(value, "/ \t\n:") || strcmp(value, ".") == 0 ||
      strcmp(value, "..") == 0)
    INIT_REJECT(p, value, "interface name '%s' is not a network interface name", value);
  init_ifacev *v = &p->c->ifaces;
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(v->v[i].name, value) == 0)
      INIT_REJECT(p, value, "interface '%s' is already configured on line %d", value, v->v[i].line);
  init_iface *nv = init_vec_grow(v->v, &v->cap, v->n, sizeof *v->v);
  if (!nv) {
    free(value);
    return init_oom(p);
  }
  v->v = nv;
  v->v[v->n] = (init_iface){.name = value, .line = p->line};
  p->index = v->n++;
  p->block = INIT_IN_INTERFACE;
  return 0;
}

/* Blocks of the app itself: the launcher has no business adding steps, services or
 * mounts to an artifact someone signed. */
#define INIT_BUILD_ONLY 1

static const struct {
  const char *keyword;
  init_directive_fn apply;
  int flags;
} init_directives[] = {
    {INITCONF_HOSTNAME, init_do_hostname, 0},
    {INITCONF_MODULE, init_do_module, 0},
    {INITCONF_ENV, init_do_env, 0},
    {INITCONF_ARG, init_do_arg, 0},
    {INITCONF_STATUS_DEVICE, init_do_status_device, 0},
    {INITCONF_SYSCTL, init_do_sysctl, 0},
    {INITCONF_VOLUME, init_do_volume, 0},
    {INITCONF_INTERFACE, init_do_interface, 0},
    {INITCONF_MOUNT, init_do_mount, INIT_BUILD_ONLY},
    {INITCONF_ONBOOT, init_do_onboot, INIT_BUILD_ONLY},
    {INITCONF_SERVICE, init_do_service, INIT_BUILD_ONLY},
    {INITCONF_ONSHUTDOWN, init_do_onshutdown, INIT_BUILD_ONLY},
};

#define INIT_KNOWN_DIRECTIVES                                                                      \
  INITCONF_HOSTNAME ", " INITCONF_MODULE ", " INITCONF_ENV ", " INITCONF_ARG ", "                  \
  INITCONF_STATUS_DEVICE ", " INITCONF_SYSCTL ", " INITCONF_VOLUME ", " INITCONF_INTERFACE ", "    \
  INITCONF_MOUNT ", " INITCONF_ONBOOT ", " INITCONF_SERVICE ", " INITCONF_ONSHUTDOWN

/* ---- lines inside blocks ----------------------------------------------------------------- */

/* Fails for a key given twice in one block: unlike top-level lines, nothing in a block
 * is meant to be overridden, so a second line is a writer's mistake. */
static int init_once(init_parser *p, bool already, const char *key, char *value) {
  if (!already) return 0;
  free(value);
  return init_parse_fail(p, "'%s' given twice in this block", key);
}

static int init_proc_key(init_parser *p, const char *key, char *value) {
  init_procv *kind = p->block == INIT_IN_ONBOOT    ? &p->c->onboot
                     : p->block == INIT_IN_SERVICE ? &p->c->services
                                                   : &p->c->onshutdown;
  init_proc *proc = &kind->v[p->index];

  if (strcmp(key, INITCONF_KEY_ARG) == 0) return init_push(p, &proc->argv, value);
  if (strcmp(key, INITCONF_KEY_ENV) == 0) {
    if (!init_env_ok(value)) INIT_REJECT(p, value, "env value '%s' is not NAME=VALUE", value);
    return init_push(p, &proc->env, value);
  }
  if (strcmp(key, INITCONF_KEY_ROOT) == 0 || strcmp(key, INITCONF_KEY_CWD) == 0) {
    char **slot = key[0] == INITCONF_KEY_ROOT[0] ? &proc->root : &proc->cwd; /* root or cwd */
    if (init_once(p, *slot != NULL, key, value) < 0) return -1;
    if (value[0] != '/') INIT_REJECT(p, value, "%s '%s' is not an absolute path", key, value);
    return init_set_string(slot, value);
  }
  if (strcmp(key, INITCONF_KEY_USER) == 0) {
    if (init_once(p, proc->user != NULL, key, value) < 0) return -1;
    if (!init_user_ok(value))
      INIT_REJECT(p, value, "user '%s' is not a user name, UID or UID:GID", value);
    return init_set_string(&proc->user, value);
  }
  if (strcmp(key, INITCONF_KEY_RESTART) == 0) {
    if (init_once(p, proc->restart_set, key, value) < 0) return -1;
    if (strcmp(value, INITCONF_RESTART_ALWAYS) == 0)
      proc->restart = INIT_RESTART_ALWAYS;
    else if (strcmp(value, INITCONF_RESTART_ON_FAILURE) == 0)
      proc->restart = INIT_RESTART_ON_FAILURE;
    else if (strcmp(value, INITCONF_RESTART_NEVER) == 0)
      proc->restart = INIT_RESTART_NEVER;
    else
      INIT_REJECT(p, value, "restart '%s' is not always, on-failure or never", value);
    proc->restart_set = true;
    free(value);
    return 0;
  }
  /* depends-on, the only key left: init_parse_indented let no other through */
  if (!init_name_ok(value)) INIT_REJECT(p, value, "depends-on '%s' is not a service name", value);
  int *lines = realloc(proc->depends_line, (proc->depends.n + 1) * sizeof *lines);
  if (!lines) {
    free(value);
    return init_oom(p);
  }
  proc->depends_line = lines;
  lines[proc->depends.n] = p->line;
  return init_push(p, &proc->depends, value);
}

static int init_mount_key(init_parser *p, const char *key, char *value) {
  init_mount *m = &p->c->mounts.v[p->index];
  if (strcmp(key, INITCONF_KEY_TYPE) == 0) {
    if (init_once(p, m->type != INIT_MOUNT_NONE, key, value) < 0) return -1;
    if (strcmp(value, INITCONF_TYPE_TMPFS) == 0)
      m->type = INIT_MOUNT_TMPFS;
    else if (strcmp(value, INITCONF_TYPE_VOLUME) == 0)
      m->type = INIT_MOUNT_VOLUME;
    else
      INIT_REJECT(p, value, "mount type '%s' is not tmpfs or volume", value);
    free(value);
    return 0;
  }
  if (strcmp(key, INITCONF_KEY_SIZE) == 0) {
    if (init_once(p, m->size != 0, key, value) < 0) return -1;
    if (!init_size_ok(value, &m->size))
      INIT_REJECT(p, value, "size '%s' is not a number of bytes above 0", value);
    free(value);
    return 0;
  }
  if (strcmp(key, INITCONF_KEY_MODE) == 0) {
    if (init_once(p, m->mode != -1, key, value) < 0) return -1;
    if (!init_mode_ok(value, &m->mode))
      INIT_REJECT(p, value, "mode '%s' is not an octal mode up to 07777", value);
    free(value);
    return 0;
  }
  /* volume */
  if (init_once(p, m->volume != NULL, key, value) < 0) return -1;
  if (!init_name_ok(value)) INIT_REJECT(p, value, "volume name '%s' is not a volume name", value);
  return init_set_string(&m->volume, value);
}

static int init_iface_key(init_parser *p, const char *key, char *value) {
  init_iface *f = &p->c->ifaces.v[p->index];
  if (strcmp(key, INITCONF_KEY_ADDRESS) == 0) {
    if (init_once(p, f->has_address, key, value) < 0) return -1;
    char *slash = strchr(value, '/'), *end = NULL;
    long prefix = slash ? strtol(slash + 1, &end, 10) : -1;
    if (slash) *slash = '\0';
    struct in_addr a;
    if (!slash || end == slash + 1 || *end || prefix < 0 || prefix > 32 ||
        (slash[1] < '0' || slash[1] > '9') || inet_pton(AF_INET, value, &a) != 1) {
      if (slash) *slash = '/';
      INIT_REJECT(p, value,
                  "address '%s' is not an IPv4 address with a prefix length (10.0.2.15/24)", value);
    }
    f->address = a.s_addr;
    f->prefix = (int)prefix;
    f->has_address = true;
    free(value);
    return 0;
  }
  if (strcmp(key, INITCONF_KEY_GATEWAY) == 0) {
    if (init_once(p, f->has_gateway, key, value) < 0) return -1;
    struct in_addr a;
    if (inet_pton(AF_INET, value, &a) != 1)
      INIT_REJECT(p, value, "gateway '%s' is not an IPv4 address", value);
    f->gateway = a.s_addr;
    f->has_gateway = true;
    free(value);
    return 0;
  }
  /* dns */
  unsigned char a[16];
  if (inet_pton(AF_INET, value, a) != 1 && inet_pton(AF_INET6, value, a) != 1)
    INIT_REJECT(p, value, "dns '%s' is not an IPv4 or IPv6 address", value);
  return init_push(p, &f->dns, value);
}

/* ---- lines -------------------------------------------------------------------------------- */

static bool init_is_blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t') return false;
  return true;
}

static bool init_word_is(const char *s, size_t n, const char *word) {
  return strlen(word) == n && memcmp(s, word, n) == 0;
}

static const char *const init_step_keys[] = {INITCONF_KEY_ARG, INITCONF_KEY_ENV, INITCONF_KEY_ROOT,
                                             INITCONF_KEY_CWD, INITCONF_KEY_USER, NULL};
static const char *const init_service_keys[] = {
    INITCONF_KEY_ARG,  INITCONF_KEY_ENV,     INITCONF_KEY_ROOT,       INITCONF_KEY_CWD,
    INITCONF_KEY_USER, INITCONF_KEY_RESTART, INITCONF_KEY_DEPENDS_ON, NULL};
static const char *const init_mount_keys[] = {INITCONF_KEY_TYPE, INITCONF_KEY_SIZE, INITCONF_KEY_MODE,
                                              INITCONF_KEY_VOLUME, NULL};
static const char *const init_iface_keys[] = {INITCONF_KEY_ADDRESS, INITCONF_KEY_GATEWAY,
                                              INITCONF_KEY_DNS, NULL};

static int init_parse_indented(init_parser *p, const char *key, size_t klen, const char *value,
                               size_t vlen) {
  const char *const *keys, *what, *name;
  switch (p->block) {
  case INIT_IN_SKIPPED: return 0;
  case INIT_IN_DIRECTIVE:
    /* A newer launcher may give a directive lines of its own; this coreinit ignores them
     * as it would an unknown directive. */
    if (p->kind == INIT_CONF_RUN)
      return init_parse_warn(p, "indented line skipped: '%s' on line %d starts no block",
                             p->last_kw, p->last_line);
    return init_parse_fail(p, "indented line, but '%s' on line %d does not start a block",
                           p->last_kw, p->last_line);
  case INIT_IN_ONBOOT:
    keys = init_step_keys, what = "onboot step", name = p->c->onboot.v[p->index].name;
    break;
  case INIT_IN_ONSHUTDOWN:
    keys = init_step_keys, what = "onshutdown step", name = p->c->onshutdown.v[p->index].name;
    break;
  case INIT_IN_SERVICE:
    keys = init_service_keys, what = "service", name = p->c->services.v[p->index].name;
    break;
  case INIT_IN_MOUNT:
    keys = init_mount_keys, what = "mount", name = p->c->mounts.v[p->index].path;
    break;
  default: /* INIT_IN_INTERFACE */
    keys = init_iface_keys, what = "interface", name = p->c->ifaces.v[p->index].name;
    break;
  }
  const char *known = NULL;
  for (size_t i = 0; keys[i] && !known; i++)
    if (init_word_is(key, klen, keys[i])) known = keys[i];
  if (!known) {
    if (p->kind == INIT_CONF_RUN)
      return init_parse_warn(p, "unknown key '%.*s' in %s '%s' skipped", (int)klen, key, what,
                             name);
    char list[128] = "";
    for (size_t i = 0; keys[i]; i++)
      snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", keys[i]);
    return init_parse_fail(p, "unknown key '%.*s' in %s '%s' (known: %s)", (int)klen, key, what,
                           name, list);
  }
  if (!value) return init_parse_fail(p, "'%s' needs a value after one space", known);
  char *v = init_unescape(p, value, vlen);
  if (!v) return -1;
  if (p->block == INIT_IN_MOUNT) return init_mount_key(p, known, v);
  if (p->block == INIT_IN_INTERFACE) return init_iface_key(p, known, v);
  return init_proc_key(p, known, v);
}

/* One line, without its '\n'. */
static int init_parse_line(init_parser *p, const char *s, size_t n) {
  /* Values become C strings, so a NUL would silently cut one short. */
  if (memchr(s, '\0', n)) return init_parse_fail(p, "NUL byte in line");
  if (init_is_blank(s, n)) return 0;
  size_t indent = 0;
  while (s[indent] == ' ' || s[indent] == '\t') indent++;
  if (s[indent] == '#') return 0;
  s += indent;
  n -= indent;

  const char *space = memchr(s, ' ', n);
  size_t klen = space ? (size_t)(space - s) : n;
  const char *value = space ? space + 1 : NULL;
  size_t vlen = space ? n - klen - 1 : 0;

  if (init_word_is(s, klen, INITCONF_VERSION) && indent == 0) {
    if (p->versioned)
      return init_parse_fail(p, "'version' may appear only once, as the first directive");
    /* CR is an ordinary byte in values (the writer passes it through), so a file saved
     * with CRLF line ends is caught here, on its first directive. */
    if (value && init_word_is(value, vlen, INITCONF_VERSION_VALUE "\r"))
      return init_parse_fail(p, "'version 1' followed by a carriage return (lines must end "
                                "with LF alone)");
    if (!value || !init_word_is(value, vlen, INITCONF_VERSION_VALUE))
      return init_parse_fail(p, "unsupported version '%.*s' (this coreinit reads version 1)",
                             (int)vlen, value ? value : "");
    p->versioned = true;
    p->block = INIT_IN_DIRECTIVE;
    snprintf(p->last_kw, sizeof p->last_kw, INITCONF_VERSION);
    p->last_line = p->line;
    return 0;
  }
  if (!p->versioned) return init_parse_fail(p, "the first directive must be 'version 1'");
  if (indent) return init_parse_indented(p, s, klen, value, vlen);

  snprintf(p->last_kw, sizeof p->last_kw, "%.*s", (int)klen, s);
  p->last_line = p->line;
  for (size_t i = 0; i < sizeof init_directives / sizeof init_directives[0]; i++) {
    if (!init_word_is(s, klen, init_directives[i].keyword)) continue;
    p->block = INIT_IN_DIRECTIVE;
    if ((init_directives[i].flags & INIT_BUILD_ONLY) && p->kind == INIT_CONF_RUN)
      return init_parse_fail(p, "'%s' belongs in init.conf (the app's build), not in run.conf",
                             init_directives[i].keyword);
    if (!value)
      return init_parse_fail(p, "'%s' needs a value after one space", init_directives[i].keyword);
    char *v = init_unescape(p, value, vlen);
    if (!v) return -1;
    return init_directives[i].apply(p, v);
  }
  if (p->kind == INIT_CONF_RUN) {
    /* Written by a newer launcher, for a newer coreinit: this one runs without it. */
    p->block = INIT_IN_SKIPPED;
    return init_parse_warn(p, "unknown directive '%.*s' skipped (known: " INIT_KNOWN_DIRECTIVES ")",
                           (int)klen, s);
  }
  return init_parse_fail(p, "unknown directive '%.*s' (known: " INIT_KNOWN_DIRECTIVES ")",
                         (int)klen, s);
}

/* What a block needs whatever order its lines came in, checked once the file is read. */
__attribute__((format(printf, 4, 5))) static int
init_block_fail(init_parser *p, int line, init_error *err, const char *fmt, ...) {
  char problem[sizeof err->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(problem, sizeof problem, fmt, ap);
  va_end(ap);
  return init_error_set(err, 0, "%s:%d: %s", p->file, line, problem);
}

static int init_check_blocks(init_parser *p) {
  static const char *const what[] = {"onboot step", "service", "onshutdown step"};
  init_procv *kinds[] = {&p->c->onboot, &p->c->services, &p->c->onshutdown};
  for (size_t k = 0; k < 3; k++) {
    for (size_t i = 0; i < kinds[k]->n; i++) {
      const init_proc *pr = &kinds[k]->v[i];
      if (pr->argv.n == 0)
        return init_block_fail(p, pr->line, p->err, "%s '%s' has no 'arg' line", what[k], pr->name);
      if (pr->argv.v[0][0] == '\0')
        return init_block_fail(p, pr->line, p->err,
                               "%s '%s': the first 'arg' (the program to run) is empty", what[k],
                               pr->name);
    }
  }
  for (size_t i = 0; i < p->c->mounts.n; i++) {
    const init_mount *m = &p->c->mounts.v[i];
    if (m->type == INIT_MOUNT_NONE)
      return init_block_fail(p, m->line, p->err, "mount '%s' has no 'type' line (tmpfs or volume)",
                             m->path);
    if (m->type == INIT_MOUNT_TMPFS && m->volume)
      return init_block_fail(p, m->line, p->err,
                             "mount '%s' is a tmpfs, so it takes no 'volume' line", m->path);
    if (m->type == INIT_MOUNT_VOLUME && m->size)
      return init_block_fail(p, m->line, p->err,
                             "mount '%s' is a volume, so it takes no 'size' line (the disk "
                             "image has its own)",
                             m->path);
    if (m->type == INIT_MOUNT_VOLUME && !m->volume)
      return init_block_fail(p, m->line, p->err, "mount '%s' of type volume has no 'volume' line",
                             m->path);
  }
  return 0;
}

int init_conf_parse(init_conf *out, const char *file, init_conf_kind kind, const char *buf,
                    size_t len, init_error *err) {
  init_conf c = INIT_CONF_INIT;
  init_parser p = {.file = file, .kind = kind, .err = err, .c = &c};
  const char *end = buf + len;

  for (const char *line = buf; line < end;) {
    const char *nl = memchr(line, '\n', (size_t)(end - line));
    const char *eol = nl ? nl : end;
    p.line++;
    if (init_parse_line(&p, line, (size_t)(eol - line)) < 0) {
      init_conf_free(&c);
      return -1;
    }
    line = nl ? nl + 1 : end;
  }
  if (!p.versioned) {
    /* Point just past the last line: that is where 'version 1' was still missing. */
    p.line++;
    init_conf_free(&c);
    return init_parse_fail(&p, "no 'version 1' line (the file has no directives)");
  }
  if (init_check_blocks(&p) < 0) {
    init_conf_free(&c);
    return -1;
  }
  *out = c;
  return 0;
}
