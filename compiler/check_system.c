/* The guest's system settings: global env, hostname, sysctl, mounts, resources (memory, CPUs)
 * and the network with its published ports. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check_util.h"
#include "cleanup.h"

#define MIB (UINT64_C(1) << 20)
#define TIB (UINT64_C(1) << 40)

static const field mount_fields[] = {
    {"path", true, "path: /data"},
    {"type", false, NULL},
    {"size", false, NULL},
    {"volume", false, NULL},
    {"mode", false, NULL},
    {NULL, false, NULL},
};
static const field resources_fields[] = {
    {"memory", false, NULL},
    {"cpus", false, NULL},
    {NULL, false, NULL},
};
static const field network_fields[] = {
    {"mode", false, NULL},
    {"ports", false, NULL},
    {NULL, false, NULL},
};
static const field port_fields[] = {
    {"host", false, NULL},
    {"guest", true, "guest: 80"},
    {"protocol", false, NULL},
    {NULL, false, NULL},
};

static const char *const mount_types[] = {"tmpfs", "volume", NULL};
static const char *const net_modes[] = {"user", "none", NULL};
static const char *const protocols[] = {"tcp", "udp", NULL};

static const word_rule volume_rule = {
    CHECK_LOWER CHECK_DIGIT, CHECK_LOWER CHECK_DIGIT "_.-", "a lowercase letter or a digit",
    "lowercase letters, digits, '_', '.' and '-'", 63, true,
};
static const word_rule sysctl_rule = {
    CHECK_LOWER CHECK_DIGIT "_", CHECK_LOWER CHECK_DIGIT "_.-/", "a lowercase letter, a digit or '_'",
    "lowercase letters, digits, '_', '.', '-' and '/'", 245, true, /* under /proc/sys, within PATH_MAX pieces */
};

/* --- hostname --- */

/* RFC 1123: dot-separated labels of 1 to 63 letters, digits and '-', not starting or ending
 * with '-'; 64 characters at most (the kernel's limit for a host name). Returns the offset of the first problem, or -1. */
static long hostname_problem(const char *s, const char **why) {
  size_t len = strlen(s);
  if (len > 64) {
    *why = "is longer than 64 characters (the kernel's limit)";
    return 0;
  }
  for (size_t i = 0, start = 0; i <= len; i++) {
    if (i < len && s[i] != '.') {
      if (!isalnum((unsigned char)s[i]) && s[i] != '-') {
        *why = "may contain only letters, digits, '-' and '.' between labels";
        return (long)i;
      }
      continue;
    }
    if (i == start) {
      *why = "has an empty label (two dots, or a dot at an end)";
      return (long)start;
    }
    if (i - start > 63) {
      *why = "has a label longer than 63 characters";
      return (long)start;
    }
    if (s[start] == '-' || s[i - 1] == '-') {
      *why = "has a label that starts or ends with '-'";
      return (long)(s[start] == '-' ? start : i - 1);
    }
    start = i + 1;
  }
  return -1;
}

/* The default: the app's name made a host name ('_' -> '-', labels trimmed of '-'). */
static char *hostname_from_name(const char *name) {
  char *h = calloc(strlen(name) + 10, 1);
  if (h == NULL) return NULL;
  size_t k = 0;
  for (const char *label = name; *label;) {
    size_t ll = strcspn(label, ".");
    size_t mark = k;
    for (size_t i = 0; i < ll && k - mark < 63; i++) {
      char ch = label[i] == '_' ? '-' : label[i];
      if (ch == '-' && k == mark) continue;
      h[k++] = ch;
    }
    while (k > mark && h[k - 1] == '-') k--;
    if (k > mark) h[k++] = '.';
    label += ll + (label[ll] == '.');
  }
  if (k > 0) k--; /* the last '.' */
  if (k == 0) strcpy(h, "localhost");
  else h[k] = 0;
  if (strlen(h) > 64) h[64] = 0;
  while (strlen(h) > 0 && strchr(".-", h[strlen(h) - 1])) h[strlen(h) - 1] = 0;
  return h;
}

void check_hostname(checker *c, const core_yaml_node *n) {
  core_app_config *cfg = c->cfg;
  if (n == NULL) {
    if (cfg->name && (cfg->hostname = hostname_from_name(cfg->name)) == NULL) check_oom(c);
    return;
  }
  const char *s = check_nonempty(c, n, "hostname");
  if (s == NULL) return;
  const char *why = NULL;
  long at = hostname_problem(s, &why);
  if (at >= 0) {
    int len;
    core_pos p = check_char_pos(n, (size_t)at, 1, &len);
    char vb[80];
    core_diag_error(c->d, &p, len, "a host name is labels of letters, digits and '-' joined by dots, e.g. 'web-1.example'",
                    "'hostname' %s: '%s'", why, core_diag_excerpt(s, vb, sizeof vb));
    return;
  }
  cfg->hostname = check_strdup(c, s);
}

/* --- sysctl --- */

void check_sysctl(checker *c, const core_yaml_node *n) {
  if (!check_kind(c, n, CORE_YAML_MAPPING, "sysctl", "a mapping of key: value",
                  "for example 'sysctl: {net.ipv4.ip_forward: 1}'"))
    return;
  core_app_config *cfg = c->cfg;
  if ((cfg->sysctls = check_calloc(c, n->n_pairs, sizeof *cfg->sysctls)) == NULL) return;
  for (size_t i = 0; i < n->n_pairs; i++) {
    const core_yaml_node *k = n->pairs[i].key, *v = n->pairs[i].value;
    char kb[80], w[128];
    snprintf(w, sizeof w, "sysctl.%s", core_diag_excerpt(k->value, kb, sizeof kb));
    bool ok = check_word(c, k, k->value, w, &sysctl_rule);
    size_t kl = strlen(k->value);
    if (ok && kl > 0 && strchr("./-", k->value[kl - 1])) {
      core_diag_error(c->d, &k->pos, k->len, "sysctl -a lists the keys", "'%s' is not a sysctl key: it ends with '%c'", w,
                      k->value[kl - 1]);
      ok = false;
    }
    /* "a..b" or "a/./b" would name a path outside the key it seems to be. */
    for (size_t j = 1; ok && j < kl; j++)
      if (strchr("./", k->value[j]) && strchr("./", k->value[j - 1])) {
        core_diag_error(c->d, &k->pos, k->len, "separate the parts with single dots: net.ipv4.ip_forward",
                        "'%s' is not a sysctl key: it has an empty part", w);
        ok = false;
      }
    const char *s = NULL;
    if (v->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(v) == CORE_YAML_BOOL)
      core_diag_error(c->d, &v->pos, v->len, "sysctl values are numbers or text: write 1 or 0",
                      "'%s' must be a string or a number, found the boolean '%.16s'", w, v->value);
    else if (v->kind != CORE_YAML_SCALAR)
      check_type_error(c, v, w, "a string or a number", NULL);
    else
      s = check_string(c, v, w);
    if (!ok || s == NULL) continue;
    core_sysctl *sc = &cfg->sysctls[cfg->n_sysctls];
    if ((sc->key = check_strdup(c, k->value)) == NULL || (sc->value = check_strdup(c, s)) == NULL) {
      free(sc->key);
      sc->key = NULL;
      return;
    }
    sc->pos = check_pos(c, k);
    cfg->n_sysctls++;
  }
}

/* --- sizes and resources --- */

int core_parse_size(const char *s, uint64_t *out) {
  uint64_t v = 0;
  const char *p = s;
  if (*p < '0' || *p > '9') return -1;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) return -1;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  int shift = 0;
  switch (*p) {
    case 0: break;
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    case 'T': shift = 40; break;
    default: return -1;
  }
  if (*p && p[1]) return -1;
  if (shift && v > (UINT64_MAX >> shift)) return -1;
  *out = v << shift;
  return 0;
}

/* A hint for sizes written in a way people often try: "3.5G", "512m", "1GiB", "2 GB". */
static void size_hint(const char *s, char *hint, size_t size) {
  snprintf(hint, size, "write a whole number with an optional unit K, M, G or T (binary: 1M = 1024K)");
  unsigned long long whole = 0, frac = 0, scale = 1;
  char unit = 0;
  int n = 0;
  if (sscanf(s, "%llu.%llu%c%n", &whole, &frac, &unit, &n) == 3 && s[n] == 0 && strchr(s, '.')) {
    const char *dot = strchr(s, '.');
    size_t fd = strspn(dot + 1, "0123456789");
    if (fd > 0 && fd <= 6 && whole < (1ULL << 20)) { /* no overflow below */
      for (size_t i = 0; i < fd; i++) scale *= 10;
      int shift = unit == 'K' ? 10 : unit == 'M' ? 20 : unit == 'G' ? 30 : unit == 'T' ? 40 : -1;
      if (shift >= 20) {
        unsigned long long mib_num = (whole * scale + frac) << (shift - 20);
        if (mib_num % scale == 0)
          snprintf(hint, size, "sizes are whole numbers; write %lluM", mib_num / scale);
        else
          snprintf(hint, size, "sizes are whole numbers; use a smaller unit, such as M");
      }
    }
    return;
  }
  size_t digits = strspn(s, "0123456789");
  const char *u = s + digits;
  while (*u == ' ') u++;
  if (digits && *u && strchr("kmgtKMGT", *u)) {
    const char *rest = u + 1;
    if (*rest == 0 || strcmp(rest, "i") == 0 || strcmp(rest, "iB") == 0 || strcmp(rest, "B") == 0 ||
        strcmp(rest, "b") == 0 || strcmp(rest, "ib") == 0)
      snprintf(hint, size, "write the unit as one capital letter: %.*s%c", (int)digits, s, toupper((unsigned char)*u));
  }
}

/* A size in [min, max], a whole number of MiB; key is how the user wrote it ("memory"). */
static bool check_size(checker *c, const core_yaml_node *n, const char *what, const char *key, uint64_t min,
                       uint64_t max, const char *range, uint64_t *out) {
  static const char expected[] = "a size such as 256M or 1G";
  if (n->kind != CORE_YAML_SCALAR) {
    check_type_error(c, n, what, expected, NULL);
    return false;
  }
  if (n->style != CORE_YAML_PLAIN || n->tagged_str) {
    char hint[128], vb[64];
    snprintf(hint, sizeof hint, "write it without quotes: %s: %s", key, core_diag_excerpt(n->value, vb, sizeof vb));
    core_diag_error(c->d, &n->pos, n->len, hint, "'%s' must be %s, found a quoted string", what, expected);
    return false;
  }
  core_yaml_type t = core_yaml_scalar_type(n);
  if (t == CORE_YAML_NULL || t == CORE_YAML_BOOL) {
    check_type_error(c, n, what, expected, NULL);
    return false;
  }
  char vb[80];
  const char *vs = core_diag_excerpt(n->value, vb, sizeof vb);
  uint64_t v;
  if (core_parse_size(n->value, &v) < 0) {
    size_t digits = strspn(n->value, "0123456789");
    if (digits > 0 && (n->value[digits] == 0 || (strchr("KMGT", n->value[digits]) && n->value[digits + 1] == 0))) {
      core_diag_error(c->d, &n->pos, n->len, NULL, "'%s' must be between %s, found '%s'", what, range, vs);
      return false;
    }
    char hint[160];
    size_hint(n->value, hint, sizeof hint);
    core_diag_error(c->d, &n->pos, n->len, hint, "'%s' must be %s, found '%s'", what, expected, vs);
    return false;
  }
  if (v % MIB) {
    core_diag_error(c->d, &n->pos, n->len, "1M = 1024K = 1048576 bytes", "'%s' must be a whole number of MiB, found '%s'",
                    what, vs);
    return false;
  }
  if (v < min || v > max) {
    core_diag_error(c->d, &n->pos, n->len, NULL, "'%s' must be between %s, found '%s'", what, range, vs);
    return false;
  }
  *out = v;
  return true;
}

void check_resources(checker *c, const core_yaml_node *n) {
  if (!check_kind(c, n, CORE_YAML_MAPPING, "resources", "a mapping", "for example 'resources: {memory: 512M, cpus: 2}'"))
    return;
  check_fields(c, n, resources_fields, "resources");
  const core_yaml_node *v;
  if ((v = core_yaml_get(n, "memory")))
    check_size(c, v, "resources.memory", "memory", 64 * MIB, TIB, "64M and 1T", &c->cfg->memory_bytes);
  uint64_t cpus;
  if ((v = core_yaml_get(n, "cpus")) && check_uint(c, v, "resources.cpus", 1, 255, &cpus)) c->cfg->cpus = (unsigned)cpus;
}

/* --- mounts --- */

static const core_yaml_node *pair_key(const core_yaml_node *map, const char *key) {
  for (size_t i = 0; i < map->n_pairs; i++)
    if (strcmp(map->pairs[i].key->value, key) == 0) return map->pairs[i].key;
  return NULL;
}

/* coreinit mounts these itself; a mount on or under them would hide what the kernel provides. */
static bool reserved_path(const char *p, const char **which) {
  static const char *const reserved[] = {"/proc", "/sys", "/dev", NULL};
  for (const char *const *r = reserved; *r; r++) {
    size_t rl = strlen(*r);
    if (strncmp(p, *r, rl) == 0 && (p[rl] == 0 || p[rl] == '/')) {
      *which = *r;
      return true;
    }
  }
  return false;
}

static void check_mount(checker *c, const core_yaml_node *item, const char *where, core_mount *m) {
  char w[96];
  const core_yaml_node *v;
  m->mode = -1;
  if ((v = core_yaml_get(item, "path"))) {
    snprintf(w, sizeof w, "%s.path", where);
    m->path = check_abs_path(c, v, w, false);
    const char *which;
    if (m->path && reserved_path(m->path, &which)) {
      core_diag_error(c->d, &v->pos, v->len, "mount somewhere else, such as /data or /var/lib/app",
                      "'%s' is %s%s, which the guest's init mounts itself", w,
                      strlen(m->path) == strlen(which) ? "" : "under ", which);
      free(m->path);
      m->path = NULL;
    }
  }
  if ((v = core_yaml_get(item, "type"))) {
    snprintf(w, sizeof w, "%s.type", where);
    int t = check_enum(c, v, w, mount_types);
    if (t >= 0) m->type = t == 0 ? CORE_MOUNT_TMPFS : CORE_MOUNT_VOLUME;
  }
  if ((v = core_yaml_get(item, "size"))) {
    snprintf(w, sizeof w, "%s.size", where);
    if (m->type != CORE_MOUNT_TMPFS) {
      const core_yaml_node *k = pair_key(item, "size");
      core_diag_error(c->d, &k->pos, k->len, "a volume's size is the size of the disk the launcher gives it",
                      "'%s' applies only to tmpfs mounts", w);
    } else {
      check_size(c, v, w, "size", MIB, TIB, "1M and 1T", &m->size_bytes);
    }
  }
  v = core_yaml_get(item, "volume");
  snprintf(w, sizeof w, "%s.volume", where);
  if (v && m->type != CORE_MOUNT_VOLUME) {
    const core_yaml_node *k = pair_key(item, "volume");
    core_diag_error(c->d, &k->pos, k->len, "add 'type: volume'", "'%s' applies only to mounts of type volume", w);
  } else if (v) {
    const char *s = check_string(c, v, w);
    if (s && check_word(c, v, s, w, &volume_rule)) m->volume = check_strdup(c, s);
  } else if (m->type == CORE_MOUNT_VOLUME) {
    core_diag_error(c->d, &item->pos, 0, "add the name the launcher binds it by, for example 'volume: data'",
                    "missing required key 'volume' in '%s' (type volume)", where);
  }
  if ((v = core_yaml_get(item, "mode"))) {
    snprintf(w, sizeof w, "%s.mode", where);
    check_mode(c, v, w, &m->mode);
  }
}

void check_mounts(checker *c, const core_yaml_node *n) {
  if (!check_kind(c, n, CORE_YAML_SEQUENCE, "mounts", "a sequence of mounts",
                  "write each mount on its own line as '- path: /data'"))
    return;
  core_app_config *cfg = c->cfg;
  if ((cfg->mounts = check_calloc(c, n->n_items, sizeof *cfg->mounts)) == NULL) return;
  cleanup_free const core_yaml_node **items = check_calloc(c, n->n_items, sizeof *items);
  if (items == NULL) return;
  for (size_t i = 0; i < n->n_items; i++) {
    const core_yaml_node *item = n->items[i];
    char where[48];
    snprintf(where, sizeof where, "mounts[%zu]", i);
    char hint[128] = "for example '- {path: /data, type: volume, volume: data}'";
    if (item->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(item) == CORE_YAML_STR)
      snprintf(hint, sizeof hint, "write it as '- path: %.64s'", item->value);
    if (!check_kind(c, item, CORE_YAML_MAPPING, where, "a mapping with 'path'", hint)) continue;
    check_fields(c, item, mount_fields, where);
    core_mount *m = &cfg->mounts[cfg->n_mounts];
    items[cfg->n_mounts++] = item;
    m->pos = check_pos(c, item);
    check_mount(c, item, where, m);
    for (size_t j = 0; j + 1 < cfg->n_mounts; j++) {
      const core_mount *o = &cfg->mounts[j];
      const core_yaml_node *a = core_yaml_get(items[j], "path"), *b = core_yaml_get(item, "path");
      if (m->path && o->path && strcmp(m->path, o->path) == 0) {
        core_diag_error(c->d, &b->pos, b->len, "mount each path once", "'%s' is mounted twice", m->path);
        core_diag_note(c->d, &a->pos, a->len, "'%s' first mounted here", o->path);
        break;
      }
      if (m->volume && o->volume && strcmp(m->volume, o->volume) == 0) {
        const core_yaml_node *va = core_yaml_get(items[j], "volume"), *vb = core_yaml_get(item, "volume");
        core_diag_error(c->d, &vb->pos, vb->len, "a volume can be mounted at one path; give this one another name",
                        "volume '%s' is used twice", m->volume);
        core_diag_note(c->d, &va->pos, va->len, "'%s' first used here", o->volume);
        break;
      }
    }
  }
}

/* --- network --- */

/* A port number in text: 1 to 65535, decimal. */
static long port_number(const char *s, size_t len) {
  if (len == 0 || len > 5 || strspn(s, "0123456789") < len) return -1;
  long v = 0;
  for (size_t i = 0; i < len; i++) v = v * 10 + (s[i] - '0');
  return v >= 1 && v <= 65535 ? v : -2;
}

/* "8080:80", "53:53/udp", "80", "80/udp". */
static bool parse_port_string(checker *c, const core_yaml_node *n, const char *what, core_port *p) {
  const char *s = n->value;
  const char *slash = strchr(s, '/');
  size_t spec_len = slash ? (size_t)(slash - s) : strlen(s);
  const char *colon = memchr(s, ':', spec_len);
  char vb[64];
  const char *form_hint = "write GUEST, HOST:GUEST or HOST:GUEST/udp, for example \"8080:80\" or \"53:53/udp\"";
  if (slash) {
    if (strcmp(slash + 1, "tcp") != 0 && strcmp(slash + 1, "udp") != 0) {
      int len;
      core_pos at = check_char_pos(n, spec_len + 1, strlen(slash + 1) ? strlen(slash + 1) : 1, &len);
      core_diag_error(c->d, &at, len, "the protocols are tcp (the default) and udp",
                      "'%s' has an unknown protocol '%s'", what, core_diag_excerpt(slash + 1, vb, sizeof vb));
      return false;
    }
  }
  size_t hl = colon ? (size_t)(colon - s) : 0;
  size_t goff = colon ? hl + 1 : 0;
  long host = colon ? port_number(s, hl) : 0, guest = port_number(s + goff, spec_len - goff);
  if (host == -1 || guest == -1) {
    core_diag_error(c->d, &n->pos, n->len, form_hint, "'%s' must be a port mapping such as \"8080:80\", found '%s'", what,
                    core_diag_excerpt(s, vb, sizeof vb));
    return false;
  }
  if (host == -2 || guest == -2) {
    size_t off = host == -2 ? 0 : goff, len = host == -2 ? hl : spec_len - goff;
    int plen;
    core_pos at = check_char_pos(n, off, len, &plen);
    core_diag_error(c->d, &at, plen, NULL, "'%s' must have ports between 1 and 65535, found %.*s", what, (int)len, s + off);
    return false;
  }
  p->guest = (uint16_t)guest;
  p->host = colon ? (uint16_t)host : (uint16_t)guest;
  p->protocol = check_strdup(c, slash ? slash + 1 : "tcp");
  return p->protocol != NULL;
}

static bool check_port(checker *c, const core_yaml_node *n, const char *what, core_port *p) {
  p->pos = check_pos(c, n);
  if (n->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(n) == CORE_YAML_INT) {
    uint64_t v;
    if (!check_uint(c, n, what, 1, 65535, &v)) return false;
    p->host = p->guest = (uint16_t)v;
    return (p->protocol = check_strdup(c, "tcp")) != NULL;
  }
  if (n->kind == CORE_YAML_MAPPING) {
    check_fields(c, n, port_fields, what);
    char w[128];
    uint64_t v;
    const core_yaml_node *g = core_yaml_get(n, "guest"), *h = core_yaml_get(n, "host"), *pr = core_yaml_get(n, "protocol");
    bool ok = g != NULL;
    snprintf(w, sizeof w, "%s.guest", what);
    if (g && check_uint(c, g, w, 1, 65535, &v)) p->guest = (uint16_t)v;
    else ok = false;
    p->host = p->guest;
    snprintf(w, sizeof w, "%s.host", what);
    if (h && check_uint(c, h, w, 1, 65535, &v)) p->host = (uint16_t)v;
    else if (h) ok = false;
    snprintf(w, sizeof w, "%s.protocol", what);
    int proto = pr ? check_enum(c, pr, w, protocols) : 0;
    if (proto < 0) return false;
    p->protocol = check_strdup(c, protocols[proto]);
    return ok && p->protocol;
  }
  if (n->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(n) == CORE_YAML_STR) return parse_port_string(c, n, what, p);
  check_type_error(c, n, what, "a port: 80, \"8080:80\", \"53:53/udp\" or {host: 8080, guest: 80}", NULL);
  return false;
}

void check_network(checker *c, const core_yaml_node *n) {
  core_app_config *cfg = c->cfg;
  if (n == NULL) return; /* no network */
  if (!check_kind(c, n, CORE_YAML_MAPPING, "network", "a mapping", "for example 'network: {ports: [\"8080:80\"]}'"))
    return;
  check_fields(c, n, network_fields, "network");
  const core_yaml_node *mode = core_yaml_get(n, "mode"), *ports = core_yaml_get(n, "ports");
  int m = mode ? check_enum(c, mode, "network.mode", net_modes) : -1;
  bool has_ports = false;
  if (ports && check_kind(c, ports, CORE_YAML_SEQUENCE, "network.ports", "a sequence of ports",
                          "for example 'ports: [\"8080:80\", \"53:53/udp\"]'")) {
    has_ports = ports->n_items > 0;
    if ((cfg->ports = check_calloc(c, ports->n_items, sizeof *cfg->ports)) == NULL && has_ports) return;
    cleanup_free const core_yaml_node **nodes = check_calloc(c, ports->n_items, sizeof *nodes);
    for (size_t i = 0; nodes && i < ports->n_items; i++) {
      char w[64];
      snprintf(w, sizeof w, "network.ports[%zu]", i);
      core_port *p = &cfg->ports[cfg->n_ports];
      if (!check_port(c, ports->items[i], w, p)) {
        free(p->protocol);
        *p = (core_port){0};
        continue;
      }
      nodes[cfg->n_ports++] = ports->items[i];
      for (size_t j = 0; j + 1 < cfg->n_ports; j++) {
        const core_port *o = &cfg->ports[j];
        if (o->host != p->host || strcmp(o->protocol, p->protocol) != 0) continue;
        const core_yaml_node *a = nodes[j], *b = ports->items[i];
        core_diag_error(c->d, &b->pos, b->len, "a host port can be published once per protocol",
                        "host port %u/%s is published twice", p->host, p->protocol);
        core_diag_note(c->d, &a->pos, a->len, "first published here");
        break;
      }
    }
  }
  if (m == 1 && has_ports) /* none */
    core_diag_error(c->d, &mode->pos, mode->len, "remove 'mode: none', or the ports",
                    "'network.mode' is none, but 'network.ports' publishes ports");
  if (m >= 0) cfg->net_mode = m == 0 ? CORE_NET_USER : CORE_NET_NONE;
  else cfg->net_mode = has_ports ? CORE_NET_USER : CORE_NET_NONE;
}
