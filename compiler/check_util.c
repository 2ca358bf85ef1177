/* The check stage's shared helpers: keys, types, strings, paths, numbers and the shapes that
 * recur (env mappings, commands), each with one wording for its mistakes. */
#include "check_util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

const word_rule check_user_name_rule = {
    CHECK_LOWER "_", CHECK_LOWER CHECK_DIGIT "_-", "a lowercase letter or '_'", "lowercase letters, digits, '_' and '-'",
    32, true,
};

void check_oom(checker *c) { core_diag_error(c->d, NULL, 0, NULL, "out of memory while checking"); }

char *check_strdup(checker *c, const char *s) {
  char *copy = strdup(s);
  if (copy == NULL) check_oom(c);
  return copy;
}

void *check_calloc(checker *c, size_t n, size_t size) {
  if (n == 0) return NULL;
  void *p = calloc(n, size);
  if (p == NULL) check_oom(c);
  return p;
}

/* The config's own copy of a file name, so positions outlive the parsed documents. */
const char *check_input_name(const checker *c, const char *file) {
  core_app_config *cfg = c->cfg;
  if (file == NULL || strcmp(file, cfg->file) == 0) return cfg->file;
  for (size_t i = 0; i < cfg->n_inputs; i++)
    if (strcmp(cfg->inputs[i], file) == 0) return cfg->inputs[i];
  char **grown = realloc(cfg->inputs, (cfg->n_inputs + 1) * sizeof *grown);
  char *copy = strdup(file);
  if (grown == NULL || copy == NULL) {
    if (grown) cfg->inputs = grown;
    free(copy);
    check_oom((checker *)c);
    return cfg->file;
  }
  cfg->inputs = grown;
  cfg->inputs[cfg->n_inputs++] = copy;
  return copy;
}

core_pos check_pos(const checker *c, const core_yaml_node *n) {
  core_pos p = n->pos;
  p.file = check_input_name(c, n->pos.file);
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

const char *check_closest(const char *key, const char *const *names, size_t n) {
  const char *best = NULL;
  size_t best_d = SIZE_MAX;
  for (size_t i = 0; i < n; i++) {
    if (names[i] == NULL) continue;
    size_t d = edit_distance(key, names[i]);
    size_t limit = strlen(names[i]) / 3 > 1 ? strlen(names[i]) / 3 : 1;
    if (d <= limit && d < best_d) {
      best = names[i];
      best_d = d;
    }
  }
  return best;
}

/* Keys people carry over from other tools or older drafts, and where they belong now. */
static const struct {
  const char *key, *hint;
} moved_keys[] = {
    {"ports", "published ports are listed under 'network', as 'network: {ports: [\"8080:80\"]}'"},
    {"volumes", "volumes are mounts: 'mounts: [{path: /data, type: volume, volume: data}]'"},
    {"environment", "environment variables are given as 'env: {NAME: value}'"},
    {"command", "the program to run is 'main' (or 'run' in a service or step)"},
    {"init", "steps that run before the services are listed under 'onboot'"},
    {"memory", "memory is set under 'resources', as 'resources: {memory: 512M}'"},
    {"cpus", "the CPU count is set under 'resources', as 'resources: {cpus: 2}'"},
};

void check_fields(checker *c, const core_yaml_node *map, const field *fields, const char *where) {
  char in[160] = "";
  if (where) snprintf(in, sizeof in, " in '%s'", where);
  const char *names[32];
  size_t n_names = 0;
  for (const field *f = fields; f->name && n_names < 32; f++) names[n_names++] = f->name;
  for (size_t i = 0; i < map->n_pairs; i++) {
    const core_yaml_node *k = map->pairs[i].key;
    bool known = false;
    for (const field *f = fields; f->name && !known; f++) known = strcmp(f->name, k->value) == 0;
    if (known) continue;
    char kb[80];
    const char *ks = core_diag_excerpt(k->value, kb, sizeof kb);
    const char *s = check_closest(k->value, names, n_names);
    if (s) {
      core_diag_error(c->d, &k->pos, k->len, NULL, "unknown key '%s'%s (did you mean '%s'?)", ks, in, s);
      continue;
    }
    char hint[512] = "the keys allowed here are ";
    for (const field *f = fields; f->name; f++) {
      size_t len = strlen(hint);
      snprintf(hint + len, sizeof hint - len, "%s'%s'", f == fields ? "" : ", ", f->name);
    }
    for (size_t m = 0; where == NULL && m < sizeof moved_keys / sizeof moved_keys[0]; m++)
      if (strcmp(k->value, moved_keys[m].key) == 0) snprintf(hint, sizeof hint, "%s", moved_keys[m].hint);
    if (strcmp(k->value, "<<") == 0) snprintf(hint, sizeof hint, "YAML merge keys ('<<') are not supported; write the keys out");
    core_diag_error(c->d, &k->pos, k->len, hint, "unknown key '%s'%s", ks, in);
  }
  for (const field *f = fields; f->name; f++) {
    if (!f->required || core_yaml_get(map, f->name)) continue;
    char hint[160];
    snprintf(hint, sizeof hint, "add it, for example '%s'", f->example);
    core_diag_error(c->d, &map->pos, 0, hint, "missing required key '%s'%s", f->name, in);
  }
}

void check_type_error(checker *c, const core_yaml_node *n, const char *what, const char *expected,
                      const char *hint) {
  char found[96];
  core_yaml_describe(n, found, sizeof found);
  char hb[160];
  if (hint == NULL && n->kind == CORE_YAML_SCALAR) {
    core_yaml_type t = core_yaml_scalar_type(n);
    if (t == CORE_YAML_BOOL || (t == CORE_YAML_NULL && is_ascii_alnum((unsigned char)n->value[0]))) {
      snprintf(hb, sizeof hb, "put it in quotes if it is meant as text: \"%.64s\"", n->value);
      hint = hb;
    } else if (t == CORE_YAML_NULL) {
      hint = "give it a value";
    }
  }
  core_diag_error(c->d, &n->pos, n->len, hint, "'%s' must be %s, found %s", what, expected, found);
}

bool check_kind(checker *c, const core_yaml_node *n, core_yaml_kind kind, const char *what, const char *expected,
                const char *hint) {
  if (n->kind == kind) return true;
  check_type_error(c, n, what, expected, hint);
  return false;
}

const char *check_string(checker *c, const core_yaml_node *n, const char *what) {
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
  check_type_error(c, n, what, "a string", NULL);
  return NULL;
}

const char *check_nonempty(checker *c, const core_yaml_node *n, const char *what) {
  const char *s = check_string(c, n, what);
  if (s && *s == 0) {
    core_diag_error(c->d, &n->pos, n->len, NULL, "'%s' must not be empty", what);
    return NULL;
  }
  return s;
}

core_pos check_char_pos(const core_yaml_node *n, size_t i, size_t span, int *len) {
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

bool check_bool(checker *c, const core_yaml_node *n, const char *what, bool *out) {
  if (n->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(n) == CORE_YAML_BOOL) {
    if (strcmp(n->value, "true") == 0 || strcmp(n->value, "false") == 0) {
      *out = n->value[0] == 't';
      return true;
    }
    /* YAML 1.1 reads yes/no/on/off as booleans and YAML 1.2 as strings: say which is meant. */
    bool yes = strchr("tTyY", n->value[0]) || strcasecmp(n->value, "on") == 0;
    char hint[96];
    snprintf(hint, sizeof hint, "write %s; only true and false are booleans here", yes ? "true" : "false");
    core_diag_error(c->d, &n->pos, n->len, hint, "'%s' must be true or false, found '%.32s'", what, n->value);
    return false;
  }
  char hint[96] = "write true or false, without quotes";
  if (n->kind == CORE_YAML_SCALAR && n->style != CORE_YAML_PLAIN &&
      (strcmp(n->value, "true") == 0 || strcmp(n->value, "false") == 0))
    snprintf(hint, sizeof hint, "write it without quotes: %s", n->value);
  check_type_error(c, n, what, "true or false", hint);
  return false;
}

bool check_uint(checker *c, const core_yaml_node *n, const char *what, uint64_t min, uint64_t max, uint64_t *out) {
  char expected[96];
  snprintf(expected, sizeof expected, "an integer from %llu to %llu", (unsigned long long)min, (unsigned long long)max);
  if (n->kind != CORE_YAML_SCALAR) {
    check_type_error(c, n, what, expected, NULL);
    return false;
  }
  const char *s = n->value;
  core_yaml_type t = core_yaml_scalar_type(n);
  if (t != CORE_YAML_INT) {
    if (t == CORE_YAML_STR && n->style != CORE_YAML_PLAIN && *s && strspn(s, CHECK_DIGIT) == strlen(s)) {
      char hint[96];
      const char *key = strrchr(what, '.') ? strrchr(what, '.') + 1 : what;
      snprintf(hint, sizeof hint, "write it without quotes: %.32s: %.32s", key, s);
      core_diag_error(c->d, &n->pos, n->len, hint, "'%s' must be an integer, found the string \"%.32s\"", what, s);
    } else {
      check_type_error(c, n, what, expected, NULL);
    }
    return false;
  }
  const char *digits = s + (*s == '-' || *s == '+');
  if (strspn(digits, CHECK_DIGIT) != strlen(digits)) {
    core_diag_error(c->d, &n->pos, n->len, NULL, "'%s' must be a decimal integer, found %.32s", what, s);
    return false;
  }
  while (digits[0] == '0' && digits[1]) digits++;
  bool too_big = strlen(digits) > 19;
  uint64_t v = too_big ? UINT64_MAX : strtoull(digits, NULL, 10);
  if (*s == '-' && v > 0) too_big = true; /* below any minimum */
  if (too_big || v < min || v > max) {
    core_diag_error(c->d, &n->pos, n->len, NULL, "'%s' must be between %llu and %llu, found %.32s", what,
                    (unsigned long long)min, (unsigned long long)max, s);
    return false;
  }
  *out = v;
  return true;
}

bool check_mode(checker *c, const core_yaml_node *n, const char *what, int *out) {
  if (n->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(n) == CORE_YAML_INT) {
    /* YAML 1.1 reads 0644 as octal (420) and YAML 1.2 as decimal 644: only quotes are unambiguous. */
    char hint[96];
    snprintf(hint, sizeof hint, "write it in quotes: \"%s%.16s\" (YAML versions read an unquoted 0644 differently)",
             n->value[0] == '0' ? "" : "0", n->value);
    core_diag_error(c->d, &n->pos, n->len, hint, "'%s' must be an octal string such as \"0644\", found the integer %.32s",
                    what, n->value);
    return false;
  }
  const char *s = check_string(c, n, what);
  if (s == NULL) return false;
  size_t len = strlen(s);
  if (len < 3 || len > 4 || strspn(s, "01234567") != len) {
    char vb[40];
    core_diag_error(c->d, &n->pos, n->len, "a mode is 3 or 4 octal digits, as chmod takes it: \"0644\", \"0755\", \"1777\"",
                    "'%s' must be an octal mode such as \"0644\", found '%s'", what, core_diag_excerpt(s, vb, sizeof vb));
    return false;
  }
  *out = (int)strtol(s, NULL, 8);
  return true;
}

char *check_abs_path(checker *c, const core_yaml_node *n, const char *what, bool allow_root) {
  const char *s = check_string(c, n, what);
  if (s == NULL) return NULL;
  char vb[80];
  if (*s == 0) {
    core_diag_error(c->d, &n->pos, n->len, allow_root ? "use '/' for the root" : NULL, "'%s' must not be empty", what);
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
    core_pos p = check_char_pos(n, (size_t)(dbl - s), 2, &plen);
    core_diag_error(c->d, &p, plen, NULL, "'%s' must not contain '//', found '%s'", what,
                    core_diag_excerpt(s, vb, sizeof vb));
    return NULL;
  }
  size_t len = strlen(s);
  if (len > 1 && s[len - 1] == '/') len--; /* a trailing slash says the same */
  for (size_t start = 1; start < len;) {
    size_t clen = strcspn(s + start, "/");
    if ((clen == 1 && s[start] == '.') || (clen == 2 && s[start] == '.' && s[start + 1] == '.')) {
      int plen;
      core_pos p = check_char_pos(n, start, clen, &plen);
      core_diag_error(c->d, &p, plen, "write the path without '.' and '..'",
                      "'%s' must not contain '%.*s' components, found '%s'", what, (int)clen, s + start,
                      core_diag_excerpt(s, vb, sizeof vb));
      return NULL;
    }
    start += clen + 1;
  }
  if (len == 1 && !allow_root) {
    core_diag_error(c->d, &n->pos, n->len, NULL, "'%s' must name a path below '/', not the root itself", what);
    return NULL;
  }
  char *out = strndup(s, len);
  if (out == NULL) check_oom(c);
  return out;
}

bool check_word(checker *c, const core_yaml_node *n, const char *s, const char *what, const word_rule *rule) {
  size_t len = strlen(s);
  char vb[80];
  if (len == 0) {
    core_diag_error(c->d, &n->pos, n->len, NULL, "'%s' must not be empty", what);
    return false;
  }
  if (rule->max && len > rule->max) {
    core_diag_error(c->d, &n->pos, n->len, NULL, "'%s' is %zu characters long; at most %zu are allowed, found '%s'",
                    what, len, rule->max, core_diag_excerpt(s, vb, sizeof vb));
    return false;
  }
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (strchr(i == 0 ? rule->first : rule->rest, ch)) continue;
    size_t clen = 1;
    while (ch >= 0xC0 && ((unsigned char)s[i + clen] & 0xC0) == 0x80) clen++;
    char hint[128] = "";
    if (rule->fold_upper && ch >= 'A' && ch <= 'Z') {
      snprintf(hint, sizeof hint, "write it in lowercase: '%s'", core_diag_excerpt(s, vb, sizeof vb));
      for (char *p = hint; *p; p++) *p = (char)tolower((unsigned char)*p);
    }
    int plen;
    core_pos p = check_char_pos(n, i, 1, &plen);
    char shown[8];
    if (ch < 0x20 || ch == 0x7f)
      snprintf(shown, sizeof shown, "0x%02x", ch);
    else
      snprintf(shown, sizeof shown, "'%.*s'", (int)clen, s + i);
    if (i == 0)
      core_diag_error(c->d, &p, plen, hint[0] ? hint : NULL, "'%s' must start with %s, found %s", what,
                      rule->first_desc, shown);
    else
      core_diag_error(c->d, &p, plen, hint[0] ? hint : NULL, "'%s' may contain only %s, found %s", what,
                      rule->rest_desc, shown);
    return false;
  }
  return true;
}

int check_enum(checker *c, const core_yaml_node *n, const char *what, const char *const *values) {
  char allowed[160] = "";
  for (size_t i = 0; values[i]; i++) {
    size_t len = strlen(allowed);
    snprintf(allowed + len, sizeof allowed - len, "%s'%s'", i == 0 ? "" : values[i + 1] ? ", " : " or ", values[i]);
  }
  char expected[200];
  snprintf(expected, sizeof expected, "one of %s", allowed);
  if (n->kind != CORE_YAML_SCALAR || core_yaml_scalar_type(n) == CORE_YAML_NULL ||
      core_yaml_scalar_type(n) == CORE_YAML_BOOL) {
    check_type_error(c, n, what, expected, NULL);
    return -1;
  }
  for (int i = 0; values[i]; i++)
    if (strcmp(n->value, values[i]) == 0) return i;
  size_t n_values = 0;
  while (values[n_values]) n_values++;
  const char *s = check_closest(n->value, (const char *const *)values, n_values);
  char hint[64] = "";
  if (s) snprintf(hint, sizeof hint, "did you mean '%s'?", s);
  char vb[64];
  core_diag_error(c->d, &n->pos, n->len, s ? hint : NULL, "'%s' must be %s, found '%s'", what, expected,
                  core_diag_excerpt(n->value, vb, sizeof vb));
  return -1;
}

static const word_rule env_name_rule = {
    CHECK_LOWER CHECK_UPPER "_", CHECK_LOWER CHECK_UPPER CHECK_DIGIT "_", "a letter or '_'",
    "letters, digits and '_'", 0, false,
};

void check_env(checker *c, const core_yaml_node *n, const char *what, core_env_var **out, size_t *n_out) {
  char hint[128];
  snprintf(hint, sizeof hint, "for example '%s: {LANG: C.UTF-8, PORT: 8080}'", what);
  if (!check_kind(c, n, CORE_YAML_MAPPING, what, "a mapping of NAME: value", hint)) return;
  core_env_var *vars = check_calloc(c, n->n_pairs, sizeof *vars);
  if (vars == NULL) return;
  size_t count = 0;
  for (size_t i = 0; i < n->n_pairs; i++) {
    const core_yaml_node *k = n->pairs[i].key, *v = n->pairs[i].value;
    char kb[64], vw[160];
    snprintf(vw, sizeof vw, "%s.%s", what, core_diag_excerpt(k->value, kb, sizeof kb));
    bool ok = check_word(c, k, k->value, vw, &env_name_rule);
    const char *s = NULL;
    if (v->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(v) == CORE_YAML_NULL && v->value[0] == 0) {
      char eh[96];
      snprintf(eh, sizeof eh, "for an empty value write %s: \"\"", core_diag_excerpt(k->value, kb, sizeof kb));
      core_diag_error(c->d, &v->pos, v->len, eh, "'%s' has no value", vw);
    } else if (v->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(v) == CORE_YAML_BOOL) {
      char eh[96];
      snprintf(eh, sizeof eh, "environment values are text: write \"%.32s\"", v->value);
      core_diag_error(c->d, &v->pos, v->len, eh, "'%s' must be a string or a number, found the boolean '%.32s'", vw,
                      v->value);
    } else if (v->kind != CORE_YAML_SCALAR) {
      check_type_error(c, v, vw, "a string or a number", NULL);
    } else {
      s = check_string(c, v, vw);
    }
    if (!ok || s == NULL) continue;
    core_env_var *e = &vars[count];
    if ((e->name = check_strdup(c, k->value)) == NULL || (e->value = check_strdup(c, s)) == NULL) {
      free(e->name);
      e->name = NULL;
      break;
    }
    e->pos = check_pos(c, k);
    count++;
  }
  *out = vars;
  *n_out = count;
}

bool check_command(checker *c, const core_yaml_node *n, const char *what, core_command *out) {
  static const char expected[] = "a command: a sequence of strings, or a string for /bin/sh -c";
  char example[128];
  const char *key = strrchr(what, '.') ? strrchr(what, '.') + 1 : what;
  snprintf(example, sizeof example, "for example '%s: [\"/bin/app\", \"--flag\"]'", key);
  if (n->kind == CORE_YAML_MAPPING) {
    check_type_error(c, n, what, expected, example);
    return false;
  }
  if (n->kind == CORE_YAML_SCALAR) {
    core_yaml_type t = core_yaml_scalar_type(n);
    if (t == CORE_YAML_NULL || t == CORE_YAML_BOOL) {
      check_type_error(c, n, what, expected, NULL);
      return false;
    }
    const char *s = check_nonempty(c, n, what);
    if (s == NULL) return false;
    char **argv = check_calloc(c, 4, sizeof *argv);
    if (argv == NULL) return false;
    argv[0] = check_strdup(c, "/bin/sh");
    argv[1] = check_strdup(c, "-c");
    argv[2] = check_strdup(c, s);
    *out = (core_command){argv, 3, check_pos(c, n)};
    return argv[0] && argv[1] && argv[2];
  }
  if (n->n_items == 0) {
    core_diag_error(c->d, &n->pos, n->len, example, "'%s' must not be empty; it is the program to run", what);
    return false;
  }
  char **argv = check_calloc(c, n->n_items + 1, sizeof *argv);
  if (argv == NULL) return false;
  *out = (core_command){argv, n->n_items, check_pos(c, n)};
  bool ok = true;
  for (size_t i = 0; i < n->n_items; i++) {
    char iw[96];
    snprintf(iw, sizeof iw, "%s[%zu]", what, i);
    const char *s = check_string(c, n->items[i], iw);
    if (s == NULL) {
      ok = false;
      continue;
    }
    if (i == 0 && *s == 0) {
      core_diag_error(c->d, &n->items[i]->pos, n->items[i]->len, NULL, "'%s' must not be empty; it is the program to run",
                      iw);
      ok = false;
      continue;
    }
    if ((argv[i] = check_strdup(c, s)) == NULL) ok = false;
  }
  return ok;
}

void check_name_add(checker *c, const char *name, const core_yaml_node *node, const core_yaml_node *item,
                    const char *list) {
  if (c->n_named == c->cap_named) {
    size_t cap = c->cap_named ? c->cap_named * 2 : 16;
    check_named *nv = realloc(c->named, cap * sizeof *nv);
    if (nv == NULL) {
      check_oom(c);
      return;
    }
    c->named = nv;
    c->cap_named = cap;
  }
  c->named[c->n_named++] = (check_named){name, node, item, list};
}
