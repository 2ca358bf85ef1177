/* The check stage: walks the YAML tree against the schema of spec/app.yml.md, fills a
 * core_app_config, and reports every problem it finds rather than stopping at the first. */
#include "check.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cleanup.h"
#include "fsutil.h"

#define MIB (UINT64_C(1) << 20)
#define MEMORY_DEFAULT (256 * MIB)
#define MEMORY_MIN (64 * MIB)
#define MEMORY_MAX (UINT64_C(1) << 40)
#define CPUS_MAX 255
#define NAME_MAX_LEN 63

typedef struct checker {
  core_diag *d;
  core_app_config *cfg;
} checker;

/* The keys a mapping may hold. */
typedef struct field {
  const char *name;
  bool required;
  const char *example; /* shown when it is missing */
} field;

static const field top_fields[] = {
    {"name", true, "name: hello"},
    {"kernel", true, "kernel: {source: ./vmlinuz}"},
    {"rootfs", false, NULL},
    {"main", true, "main: [\"/bin/app\"]"},
    {"resources", false, NULL},
    {NULL, false, NULL},
};
static const field kernel_fields[] = {
    {"source", true, "source: ./vmlinuz"},
    {"cmdline", false, NULL},
    {"modules", false, NULL},
    {NULL, false, NULL},
};
static const field layer_fields[] = {
    {"source", true, "source: ./rootfs.tar"},
    {"dest", false, NULL},
    {NULL, false, NULL},
};
static const field resources_fields[] = {
    {"memory", false, NULL},
    {"cpus", false, NULL},
    {NULL, false, NULL},
};
/* Keys of later versions: named so that using one says "not yet" rather than "unknown". */
static const char *const top_planned[] = {"services", "files", "onboot", "onshutdown", "network", "ports",
                                          "volumes", "env", "include", NULL};

/* --- helpers --- */

static void oom(checker *c) { core_diag_error(c->d, NULL, 0, NULL, "out of memory while checking"); }

static char *xstrdup(checker *c, const char *s) {
  char *copy = strdup(s);
  if (copy == NULL) oom(c);
  return copy;
}

static core_pos pos_in_cfg(const checker *c, const core_yaml_node *n) {
  core_pos p = n->pos;
  p.file = c->cfg->file;
  return p;
}

static bool is_ascii_alnum(unsigned char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* Optimal string alignment distance, ignoring case; both strings are short. */
static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  size_t rows[3][65];
  if (la > 64 || lb > 64) return SIZE_MAX;
  size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
  for (size_t j = 0; j <= lb; j++) prev[j] = j;
  for (size_t i = 1; i <= la; i++) {
    cur[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
      size_t cost = ca != cb;
      size_t best = prev[j - 1] + cost;
      if (prev[j] + 1 < best) best = prev[j] + 1;
      if (cur[j - 1] + 1 < best) best = cur[j - 1] + 1;
      if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) && tolower((unsigned char)a[i - 2]) == cb &&
          prev2[j - 2] + 1 < best)
        best = prev2[j - 2] + 1;
      cur[j] = best;
    }
    size_t *t = prev2;
    prev2 = prev;
    prev = cur;
    cur = t;
  }
  return prev[lb];
}

static const char *closest(const char *key, const char *const *names, size_t n) {
  const char *best = NULL;
  size_t best_d = SIZE_MAX;
  for (size_t i = 0; i < n; i++) {
    size_t d = edit_distance(key, names[i]);
    size_t limit = strlen(names[i]) / 3 > 1 ? strlen(names[i]) / 3 : 1;
    if (d <= limit && d < best_d) {
      best = names[i];
      best_d = d;
    }
  }
  return best;
}

static const char *suggest(const char *key, const field *fields, const char *const *planned) {
  const char *names[16];
  size_t n = 0;
  for (const field *f = fields; f->name && n < 16; f++) names[n++] = f->name;
  const char *s = closest(key, names, n);
  if (s || planned == NULL) return s;
  n = 0;
  for (const char *const *p = planned; *p && n < 16; p++) names[n++] = *p;
  return closest(key, names, n);
}

static bool in_list(const char *s, const char *const *list) {
  for (; list && *list; list++)
    if (strcmp(s, *list) == 0) return true;
  return false;
}

/* Reports keys the schema does not know and required keys that are missing. where is
 * the mapping's path ("kernel", "rootfs[0]"), NULL at the top. */
static void check_fields(checker *c, const core_yaml_node *map, const field *fields, const char *const *planned,
                         const char *where) {
  char in[160] = "";
  if (where) snprintf(in, sizeof in, " in '%s'", where);
  for (size_t i = 0; i < map->n_pairs; i++) {
    const core_yaml_node *k = map->pairs[i].key;
    bool known = false;
    for (const field *f = fields; f->name && !known; f++) known = strcmp(f->name, k->value) == 0;
    if (known) continue;
    char kb[80];
    const char *ks = core_diag_excerpt(k->value, kb, sizeof kb);
    if (in_list(k->value, planned)) {
      core_diag_error(c->d, &k->pos, k->len, "spec/app.yml.md lists what this version reads",
                      "'%s' is not supported yet; it is planned for a later version", ks);
      continue;
    }
    const char *s = suggest(k->value, fields, planned);
    if (s && in_list(s, planned)) {
      char hint[160];
      snprintf(hint, sizeof hint, "'%s' is planned for a later version and not supported yet", s);
      core_diag_error(c->d, &k->pos, k->len, hint, "unknown key '%s'%s (did you mean '%s'?)", ks, in, s);
    } else if (s) {
      core_diag_error(c->d, &k->pos, k->len, NULL, "unknown key '%s'%s (did you mean '%s'?)", ks, in, s);
    } else {
      char hint[256] = "the keys allowed here are ";
      for (const field *f = fields; f->name; f++) {
        size_t len = strlen(hint);
        snprintf(hint + len, sizeof hint - len, "%s'%s'", f == fields ? "" : ", ", f->name);
      }
      if (k->value[0] == '<' && k->value[1] == '<' && k->value[2] == 0)
        snprintf(hint, sizeof hint, "YAML merge keys ('<<') are not supported; write the keys out");
      core_diag_error(c->d, &k->pos, k->len, hint, "unknown key '%s'%s", ks, in);
    }
  }
  for (const field *f = fields; f->name; f++) {
    if (!f->required || core_yaml_get(map, f->name)) continue;
    char hint[160];
    snprintf(hint, sizeof hint, "add it, for example '%s'", f->example);
    core_diag_error(c->d, &map->pos, 0, hint, "missing required key '%s'%s", f->name, in);
  }
}

/* Says what was expected and what was found instead. */
static void type_error(checker *c, const core_yaml_node *n, const char *what, const char *expected,
                       const char *hint) {
  char found[96];
  core_yaml_describe(n, found, sizeof found);
  char hb[160];
  if (hint == NULL && n->kind == CORE_YAML_SCALAR) {
    core_yaml_type t = core_yaml_scalar_type(n);
    if (t == CORE_YAML_BOOL || (t == CORE_YAML_NULL && is_ascii_alnum((unsigned char)n->value[0]))) {
      snprintf(hb, sizeof hb, "put it in quotes if it is meant as text: \"%s\"", n->value);
      hint = hb;
    } else if (t == CORE_YAML_NULL) {
      hint = "give it a value";
    }
  }
  core_diag_error(c->d, &n->pos, n->len, hint, "'%s' must be %s, found %s", what, expected, found);
}

static bool want_kind(checker *c, const core_yaml_node *n, core_yaml_kind kind, const char *what,
                      const char *expected, const char *hint) {
  if (n->kind == kind) return true;
  type_error(c, n, what, expected, hint);
  return false;
}

/* The text of a scalar that can stand for a string: anything but null and booleans.
 * Numbers are kept as written ("main: [sleep, 10]"). */
static const char *get_string(checker *c, const core_yaml_node *n, const char *what) {
  if (n->kind == CORE_YAML_SCALAR) {
    core_yaml_type t = core_yaml_scalar_type(n);
    if (t != CORE_YAML_NULL && t != CORE_YAML_BOOL) {
      if (strlen(n->value) != n->value_len) {
        core_diag_error(c->d, &n->pos, n->len, NULL, "'%s' must not contain NUL characters", what);
        return NULL;
      }
      return n->value;
    }
  }
  type_error(c, n, what, "a string", NULL);
  return NULL;
}

static const char *get_nonempty_string(checker *c, const core_yaml_node *n, const char *what) {
  const char *s = get_string(c, n, what);
  if (s && *s == 0) {
    core_diag_error(c->d, &n->pos, n->len, NULL, "'%s' must not be empty", what);
    return NULL;
  }
  return s;
}

/* Where bytes [i, i + span) of a scalar's value are in the file, when the value is written
 * as-is on one line (plain, or quoted without escapes); else the scalar's own position. */
static core_pos char_pos(const core_yaml_node *n, size_t i, size_t span, int *len) {
  core_pos p = n->pos;
  int quote = n->style == CORE_YAML_SINGLE_QUOTED || n->style == CORE_YAML_DOUBLE_QUOTED;
  size_t chars = 0; /* node lengths count characters */
  for (size_t k = 0; k < n->value_len; k++) chars += ((unsigned char)n->value[k] & 0xC0) != 0x80;
  bool verbatim = !n->alias && !n->tagged_str && (n->style == CORE_YAML_PLAIN || quote) &&
                  (size_t)n->len == chars + 2 * (size_t)quote;
  for (size_t k = 0; verbatim && k < i; k++) verbatim = (unsigned char)n->value[k] < 0x80;
  if (!verbatim) {
    *len = n->len;
    return p;
  }
  p.col += (int)i + quote;
  *len = (int)span;
  return p;
}

/* --- the schema --- */

static void check_name(checker *c, const core_yaml_node *n) {
  const char *s = get_string(c, n, "name");
  if (s == NULL) return;
  size_t len = strlen(s);
  if (len == 0) {
    core_diag_error(c->d, &n->pos, n->len, "for example 'name: hello'", "'name' must not be empty");
    return;
  }
  if (len > NAME_MAX_LEN) {
    core_diag_error(c->d, &n->pos, n->len, NULL, "'name' is %zu characters long; at most %d are allowed", len,
                    NAME_MAX_LEN);
    return;
  }
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || (i > 0 && strchr("._-", ch));
    if (ok) continue;
    size_t clen = 1;
    while (ch >= 0xC0 && ((unsigned char)s[i + clen] & 0xC0) == 0x80) clen++;
    char hint[128] = "";
    if (ch >= 'A' && ch <= 'Z') {
      char lower[NAME_MAX_LEN + 1];
      for (size_t k = 0; k <= len; k++) lower[k] = (char)tolower((unsigned char)s[k]);
      snprintf(hint, sizeof hint, "names are lowercase: '%s'", lower);
    }
    int plen;
    core_pos p = char_pos(n, i, 1, &plen);
    if (ch < 0x20 || ch == 0x7f)
      core_diag_error(c->d, &p, plen, NULL, "'name' must not contain control characters, found 0x%02x", ch);
    else if (i == 0)
      core_diag_error(c->d, &p, plen, hint[0] ? hint : NULL,
                      "'name' must start with a lowercase letter or a digit, found '%.*s'", (int)clen, s);
    else
      core_diag_error(c->d, &p, plen, hint[0] ? hint : NULL,
                      "'name' may contain only lowercase letters, digits, '.', '_' and '-', found '%.*s'",
                      (int)clen, s + i);
    return;
  }
  if ((c->cfg->name = xstrdup(c, s)) == NULL) return;
  c->cfg->name_pos = pos_in_cfg(c, n);
}

static bool fill_source(checker *c, const core_yaml_node *n, const char *what, core_source *dst) {
  const char *s = get_nonempty_string(c, n, what);
  if (s == NULL) return false;
  dst->path = strdup(s);
  dst->resolved = core_path_join(c->cfg->dir, s);
  if (dst->path == NULL || dst->resolved == NULL) {
    oom(c);
    return false;
  }
  dst->pos = pos_in_cfg(c, n);
  return true;
}

static bool module_name_ok(const char *s) {
  if (*s == 0) return false;
  for (; *s; s++)
    if (!is_ascii_alnum((unsigned char)*s) && *s != '_' && *s != '-') return false;
  return true;
}

typedef struct module_seen {
  const char *name; /* normalised */
  const core_yaml_node *node;
  size_t index;
} module_seen;

static int module_cmp(const void *a, const void *b) {
  const module_seen *x = a, *y = b;
  int r = strcmp(x->name, y->name);
  if (r) return r;
  return x->index < y->index ? -1 : x->index > y->index;
}

static void check_modules(checker *c, const core_yaml_node *n) {
  if (!want_kind(c, n, CORE_YAML_SEQUENCE, "kernel.modules", "a sequence of module names",
                 "for example 'modules: [virtio_net, virtio_blk]'"))
    return;
  core_app_config *cfg = c->cfg;
  if (n->n_items == 0) return;
  cfg->modules = calloc(n->n_items, sizeof *cfg->modules);
  module_seen *seen = calloc(n->n_items, sizeof *seen);
  if (cfg->modules == NULL || seen == NULL) {
    free(seen);
    oom(c);
    return;
  }
  size_t n_seen = 0;
  for (size_t i = 0; i < n->n_items; i++) {
    const core_yaml_node *item = n->items[i];
    char what[64];
    snprintf(what, sizeof what, "kernel.modules[%zu]", i);
    const char *s = get_nonempty_string(c, item, what);
    if (s == NULL) continue;
    if (!module_name_ok(s)) {
      char vb[80];
      size_t len = strlen(s);
      const char *hint = len > 3 && strcmp(s + len - 3, ".ko") == 0
                             ? "give the name without '.ko', as modprobe takes it"
                             : "module names are made of letters, digits, '_' and '-', as modprobe takes them";
      core_diag_error(c->d, &item->pos, item->len, hint, "'%s' is not a valid module name: '%s'", what,
                      core_diag_excerpt(s, vb, sizeof vb));
      continue;
    }
    /* modprobe treats '-' and '_' alike; keep the form the kernel reports. */
    char *name = xstrdup(c, s);
    if (name == NULL) break;
    for (char *p = name; *p; p++)
      if (*p == '-') *p = '_';
    cfg->modules[cfg->n_modules++] = (core_module_ref){name, pos_in_cfg(c, item)};
    seen[n_seen++] = (module_seen){name, item, i};
  }
  qsort(seen, n_seen, sizeof *seen, module_cmp);
  for (size_t i = 1, first = 0; i < n_seen; i++) {
    if (strcmp(seen[i].name, seen[first].name) != 0) {
      first = i;
      continue;
    }
    const core_yaml_node *a = seen[first].node, *b = seen[i].node;
    bool differ = strcmp(a->value, b->value) != 0;
    core_diag_error(c->d, &b->pos, b->len, differ ? "'-' and '_' are the same in module names" : NULL,
                    "module '%s' is listed twice", b->value);
    core_diag_note(c->d, &a->pos, a->len, "'%s' first listed here", a->value);
  }
  free(seen);
}

static void check_kernel(checker *c, const core_yaml_node *n) {
  char hint[160] = "for example:  kernel: {source: ./vmlinuz}";
  char vb[80];
  if (n->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(n) == CORE_YAML_STR)
    snprintf(hint, sizeof hint, "write it as:  kernel: {source: %s}", core_diag_excerpt(n->value, vb, sizeof vb));
  if (!want_kind(c, n, CORE_YAML_MAPPING, "kernel", "a mapping", hint)) return;
  check_fields(c, n, kernel_fields, NULL, "kernel");
  const core_yaml_node *v;
  if ((v = core_yaml_get(n, "source"))) fill_source(c, v, "kernel.source", &c->cfg->kernel);
  if ((v = core_yaml_get(n, "cmdline"))) {
    const char *s = get_string(c, v, "kernel.cmdline");
    if (s) {
      free(c->cfg->cmdline);
      c->cfg->cmdline = xstrdup(c, s);
    }
  }
  if ((v = core_yaml_get(n, "modules"))) check_modules(c, v);
}

/* "/opt/app" -> "opt/app", "/" -> "": absolute, no empty, '.' or '..' components. */
static char *check_dest(checker *c, const core_yaml_node *n, const char *what) {
  const char *s = get_string(c, n, what);
  if (s == NULL) return NULL;
  char vb[80];
  if (*s == 0) {
    core_diag_error(c->d, &n->pos, n->len, "use '/' for the root", "'%s' must not be empty", what);
    return NULL;
  }
  if (*s != '/') {
    char hint[128];
    snprintf(hint, sizeof hint, "write '/%s'", core_diag_excerpt(s, vb, sizeof vb));
    core_diag_error(c->d, &n->pos, n->len, hint, "'%s' must be an absolute path (starting with '/'), found '%s'",
                    what, core_diag_excerpt(s, vb, sizeof vb));
    return NULL;
  }
  const char *dbl = strstr(s, "//");
  if (dbl) {
    int plen;
    core_pos p = char_pos(n, (size_t)(dbl - s), 2, &plen);
    core_diag_error(c->d, &p, plen, NULL, "'%s' must not contain '//', found '%s'", what, core_diag_excerpt(s, vb, sizeof vb));
    return NULL;
  }
  size_t len = strlen(s);
  if (len > 1 && s[len - 1] == '/') len--; /* a trailing slash says the same */
  for (size_t start = 1; start < len;) {
    size_t clen = strcspn(s + start, "/");
    if ((clen == 1 && s[start] == '.') || (clen == 2 && s[start] == '.' && s[start + 1] == '.')) {
      int plen;
      core_pos p = char_pos(n, start, clen, &plen);
      core_diag_error(c->d, &p, plen, "write the path without '.' and '..'",
                      "'%s' must not contain '%.*s' components, found '%s'", what, (int)clen, s + start,
                      core_diag_excerpt(s, vb, sizeof vb));
      return NULL;
    }
    start += clen + 1;
  }
  char *out = strndup(s + 1, len - 1);
  if (out == NULL) oom(c);
  return out;
}

static void check_rootfs(checker *c, const core_yaml_node *n) {
  if (!want_kind(c, n, CORE_YAML_SEQUENCE, "rootfs", "a sequence of layers",
                 "write each layer on its own line as '- source: PATH'"))
    return;
  if (n->n_items == 0) return;
  core_app_config *cfg = c->cfg;
  cfg->layers = calloc(n->n_items, sizeof *cfg->layers);
  if (cfg->layers == NULL) {
    oom(c);
    return;
  }
  for (size_t i = 0; i < n->n_items; i++) {
    const core_yaml_node *item = n->items[i];
    char where[64], what[80];
    snprintf(where, sizeof where, "rootfs[%zu]", i);
    char hint[160] = "write it as '- source: PATH', with 'dest: /DIR' on the next line if needed";
    char vb[80];
    if (item->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(item) == CORE_YAML_STR)
      snprintf(hint, sizeof hint, "write it as '- source: %s'", core_diag_excerpt(item->value, vb, sizeof vb));
    if (!want_kind(c, item, CORE_YAML_MAPPING, where, "a mapping with 'source' and optionally 'dest'", hint))
      continue;
    check_fields(c, item, layer_fields, NULL, where);
    core_layer *layer = &cfg->layers[cfg->n_layers++];
    layer->pos = pos_in_cfg(c, item);
    const core_yaml_node *v;
    if ((v = core_yaml_get(item, "source"))) {
      snprintf(what, sizeof what, "%s.source", where);
      fill_source(c, v, what, &layer->source);
    }
    if ((v = core_yaml_get(item, "dest"))) {
      snprintf(what, sizeof what, "%s.dest", where);
      layer->dest = check_dest(c, v, what);
    } else {
      layer->dest = xstrdup(c, "");
    }
  }
}

static void check_main(checker *c, const core_yaml_node *n) {
  core_app_config *cfg = c->cfg;
  static const char expected[] = "a command: a sequence of strings, or a string for /bin/sh -c";
  const char *example = "for example 'main: [\"/bin/app\", \"--flag\"]'";
  if (n->kind == CORE_YAML_MAPPING) {
    type_error(c, n, "main", expected, example);
    return;
  }
  if (n->kind == CORE_YAML_SCALAR) {
    core_yaml_type t = core_yaml_scalar_type(n);
    if (t == CORE_YAML_NULL || t == CORE_YAML_BOOL) {
      type_error(c, n, "main", expected, NULL);
      return;
    }
    const char *s = get_nonempty_string(c, n, "main");
    if (s == NULL) return;
    cfg->main_argv = calloc(4, sizeof *cfg->main_argv);
    if (cfg->main_argv == NULL) {
      oom(c);
      return;
    }
    cfg->main_argc = 3;
    cfg->main_argv[0] = xstrdup(c, "/bin/sh");
    cfg->main_argv[1] = xstrdup(c, "-c");
    cfg->main_argv[2] = xstrdup(c, s);
    cfg->main_pos = pos_in_cfg(c, n);
    return;
  }
  if (n->n_items == 0) {
    core_diag_error(c->d, &n->pos, n->len, example, "'main' must not be empty; it is the program to run");
    return;
  }
  cfg->main_argv = calloc(n->n_items + 1, sizeof *cfg->main_argv);
  if (cfg->main_argv == NULL) {
    oom(c);
    return;
  }
  cfg->main_argc = n->n_items;
  cfg->main_pos = pos_in_cfg(c, n);
  for (size_t i = 0; i < n->n_items; i++) {
    char what[48];
    snprintf(what, sizeof what, "main[%zu]", i);
    const char *s = get_string(c, n->items[i], what);
    if (s == NULL) continue;
    if (i == 0 && *s == 0) {
      core_diag_error(c->d, &n->items[i]->pos, n->items[i]->len, NULL,
                      "'main[0]' must not be empty; it is the program to run");
      continue;
    }
    cfg->main_argv[i] = xstrdup(c, s);
  }
}

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

static void check_memory(checker *c, const core_yaml_node *n) {
  static const char expected[] = "a size such as 256M or 1G";
  if (n->kind != CORE_YAML_SCALAR) {
    type_error(c, n, "resources.memory", expected, NULL);
    return;
  }
  if (n->style != CORE_YAML_PLAIN || n->tagged_str) {
    char hint[128], vb[64];
    snprintf(hint, sizeof hint, "write it without quotes: memory: %s", core_diag_excerpt(n->value, vb, sizeof vb));
    core_diag_error(c->d, &n->pos, n->len, hint, "'resources.memory' must be %s, found a quoted string", expected);
    return;
  }
  core_yaml_type t = core_yaml_scalar_type(n);
  if (t == CORE_YAML_NULL || t == CORE_YAML_BOOL) {
    type_error(c, n, "resources.memory", expected, NULL);
    return;
  }
  char vb[80];
  const char *vs = core_diag_excerpt(n->value, vb, sizeof vb);
  uint64_t v;
  if (core_parse_size(n->value, &v) < 0) {
    size_t digits = strspn(n->value, "0123456789");
    if (digits > 0 && (n->value[digits] == 0 || (strchr("KMGT", n->value[digits]) && n->value[digits + 1] == 0))) {
      core_diag_error(c->d, &n->pos, n->len, NULL, "'resources.memory' must be at most 1T, found '%s'", vs);
      return;
    }
    char hint[160];
    size_hint(n->value, hint, sizeof hint);
    core_diag_error(c->d, &n->pos, n->len, hint, "'resources.memory' must be %s, found '%s'", expected, vs);
    return;
  }
  if (v % MIB) {
    core_diag_error(c->d, &n->pos, n->len, "1M = 1024K = 1048576 bytes",
                    "'resources.memory' must be a whole number of MiB, found '%s'", vs);
    return;
  }
  if (v < MEMORY_MIN) {
    core_diag_error(c->d, &n->pos, n->len, NULL, "'resources.memory' must be at least 64M, found '%s'", vs);
    return;
  }
  if (v > MEMORY_MAX) {
    core_diag_error(c->d, &n->pos, n->len, NULL, "'resources.memory' must be at most 1T, found '%s'", vs);
    return;
  }
  c->cfg->memory_bytes = v;
}

static void check_cpus(checker *c, const core_yaml_node *n) {
  static const char expected[] = "an integer from 1 to 255";
  if (n->kind != CORE_YAML_SCALAR) {
    type_error(c, n, "resources.cpus", expected, NULL);
    return;
  }
  core_yaml_type t = core_yaml_scalar_type(n);
  const char *s = n->value;
  if (t != CORE_YAML_INT) {
    bool quoted_number = t == CORE_YAML_STR && n->style != CORE_YAML_PLAIN && *s && strspn(s, "0123456789") == strlen(s);
    if (quoted_number) {
      char hint[96];
      snprintf(hint, sizeof hint, "write it without quotes: cpus: %.32s", s);
      core_diag_error(c->d, &n->pos, n->len, hint, "'resources.cpus' must be an integer, found the string \"%.32s\"",
                      s);
    } else {
      type_error(c, n, "resources.cpus", expected, NULL);
    }
    return;
  }
  const char *digits = s + (*s == '-' || *s == '+');
  if (strspn(digits, "0123456789") != strlen(digits)) {
    core_diag_error(c->d, &n->pos, n->len, NULL, "'resources.cpus' must be a decimal integer, found %.32s", s);
    return;
  }
  bool negative = *s == '-';
  size_t nd = strlen(digits);
  while (nd > 1 && *digits == '0') digits++, nd--;
  unsigned long v = nd > 4 ? 100000 : strtoul(digits, NULL, 10);
  if (negative || v < 1 || v > CPUS_MAX) {
    core_diag_error(c->d, &n->pos, n->len, NULL, "'resources.cpus' must be between 1 and %d, found %.32s", CPUS_MAX, s);
    return;
  }
  c->cfg->cpus = (unsigned)v;
}

static void check_resources(checker *c, const core_yaml_node *n) {
  if (!want_kind(c, n, CORE_YAML_MAPPING, "resources", "a mapping", "for example 'resources: {memory: 512M, cpus: 2}'"))
    return;
  check_fields(c, n, resources_fields, NULL, "resources");
  const core_yaml_node *v;
  if ((v = core_yaml_get(n, "memory"))) check_memory(c, v);
  if ((v = core_yaml_get(n, "cpus"))) check_cpus(c, v);
}

static bool is_empty_doc(const core_yaml_node *root) {
  return root == NULL || (root->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(root) == CORE_YAML_NULL);
}

core_app_config *core_app_check_doc(const core_yaml_doc *doc, const char *path, core_diag *diag) {
  core_app_config *cfg = calloc(1, sizeof *cfg);
  if (cfg == NULL || (cfg->file = strdup(path)) == NULL || (cfg->dir = core_path_dirname(path)) == NULL ||
      (cfg->cmdline = strdup("")) == NULL) {
    core_app_config_free(cfg);
    core_diag_error(diag, NULL, 0, NULL, "out of memory while checking");
    return NULL;
  }
  cfg->memory_bytes = MEMORY_DEFAULT;
  cfg->cpus = 1;
  checker c = {diag, cfg};
  const core_yaml_node *root = doc->root;
  if (is_empty_doc(root)) {
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    core_pos whole = {.file = cfg->file, .line = 0, .col = 0};
    core_diag_error(diag, &whole, 0, "start from examples/hello/app.yml",
                    "%s is empty; it needs at least 'name', 'kernel' and 'main'", base);
    return cfg;
  }
  if (root->kind != CORE_YAML_MAPPING) {
    char found[96];
    core_diag_error(diag, &root->pos, root->len, NULL,
                    "the top level must be a mapping with keys such as 'name', 'kernel' and 'main', found %s",
                    core_yaml_describe(root, found, sizeof found));
    return cfg;
  }
  check_fields(&c, root, top_fields, top_planned, NULL);
  const core_yaml_node *v;
  if ((v = core_yaml_get(root, "name"))) check_name(&c, v);
  if ((v = core_yaml_get(root, "kernel"))) check_kernel(&c, v);
  if ((v = core_yaml_get(root, "rootfs"))) check_rootfs(&c, v);
  if ((v = core_yaml_get(root, "main"))) check_main(&c, v);
  if ((v = core_yaml_get(root, "resources"))) check_resources(&c, v);
  return cfg;
}

int core_app_check_text(const char *path, const char *text, size_t len, core_app_config **out, core_error **err) {
  cleanup_diag core_diag *d = core_diag_new(path);
  if (d == NULL) return core_error_set(err, ENOMEM, "checking '%s'", path);
  core_diag_set_source(d, path, text, len);
  cleanup_yaml_doc core_yaml_doc *doc = NULL;
  core_app_config *cfg = NULL;
  if (core_yaml_parse(path, text, len, d, &doc) == 0) cfg = core_app_check_doc(doc, path, d);
  if (cfg == NULL || core_diag_error_count(d) > 0) {
    core_app_config_free(cfg);
    if (core_diag_to_error(d, err) == 0) return core_error_set(err, 0, "'%s': checking failed", path);
    return -1;
  }
  *out = cfg;
  return 0;
}

int core_app_check(const char *path, core_app_config **out, core_error **err) {
  __attribute__((cleanup(core_buf_release))) core_buf b = CORE_BUF_INIT;
  if (core_read_file(path, &b, err) < 0) return -1;
  return core_app_check_text(path, (const char *)b.data, b.len, out, err);
}
