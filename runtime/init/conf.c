/* The init.conf / run.conf parser: text in, init_conf out. No I/O, so it runs in the host's
 * unit tests; conffile.c does the reading. */
#include "conf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INIT_HOSTNAME_MAX 64 /* the kernel's limit (__NEW_UTS_LEN) */

static const char *const init_env_defaults[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME=/root",
    "TERM=linux",
};

static void init_strv_free(init_strv *s) {
  for (size_t i = 0; i < s->n; i++) free(s->v[i]);
  free(s->v);
  *s = (init_strv){0};
}

/* Makes room for `extra` more strings and the NULL that follows them. */
static int init_strv_reserve(init_strv *s, size_t extra) {
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
static int init_strv_push(init_strv *s, char *str) {
  if (init_strv_reserve(s, 1) < 0) {
    free(str);
    return -1;
  }
  s->v[s->n++] = str;
  s->v[s->n] = NULL;
  return 0;
}

void init_conf_free(init_conf *c) {
  free(c->hostname);
  free(c->status_device);
  init_strv_free(&c->modules);
  init_strv_free(&c->env);
  init_strv_free(&c->argv);
  *c = (init_conf)INIT_CONF_INIT;
}

/* Where the parser is, so every message can say "file:line:". */
typedef struct init_parser {
  const char *file;
  int line;
  init_error *err;
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

/* Returns the value with its escapes resolved, or NULL (message set). */
static char *init_unescape(init_parser *p, const char *s, size_t n) {
  char *out = malloc(n + 1);
  if (!out) {
    init_parse_fail(p, "out of memory");
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

/* Each directive takes ownership of value, also when it fails. */
typedef int (*init_directive_fn)(init_conf *c, char *value, init_parser *p);

static int init_set_string(char **slot, char *value) {
  free(*slot);
  *slot = value;
  return 0;
}

static int init_push(init_strv *s, char *value, init_parser *p) {
  if (init_strv_push(s, value) < 0) return init_parse_fail(p, "out of memory");
  return 0;
}

static int init_do_hostname(init_conf *c, char *value, init_parser *p) {
  size_t n = strlen(value);
  if (n == 0 || n > INIT_HOSTNAME_MAX) {
    free(value);
    return init_parse_fail(p, "hostname must be 1 to %d bytes long, not %zu", INIT_HOSTNAME_MAX, n);
  }
  return init_set_string(&c->hostname, value);
}

static int init_do_module(init_conf *c, char *value, init_parser *p) {
  if (value[0] != '/') {
    init_parse_fail(p, "module path '%s' is not absolute", value);
    free(value);
    return -1;
  }
  return init_push(&c->modules, value, p);
}

static int init_do_env(init_conf *c, char *value, init_parser *p) {
  char *eq = strchr(value, '=');
  if (!eq || eq == value) {
    init_parse_fail(p, "env value '%s' is not NAME=VALUE", value);
    free(value);
    return -1;
  }
  return init_push(&c->env, value, p);
}

static int init_do_arg(init_conf *c, char *value, init_parser *p) {
  return init_push(&c->argv, value, p);
}

static int init_do_status_device(init_conf *c, char *value, init_parser *p) {
  if (value[0] != '/') {
    init_parse_fail(p, "status device '%s' is not an absolute path", value);
    free(value);
    return -1;
  }
  return init_set_string(&c->status_device, value);
}

static const struct {
  const char *keyword;
  init_directive_fn apply;
} init_directives[] = {
    {"hostname", init_do_hostname},
    {"module", init_do_module},
    {"env", init_do_env},
    {"arg", init_do_arg},
    {"status-device", init_do_status_device},
};

#define INIT_KNOWN_DIRECTIVES "hostname, module, env, arg, status-device"

static bool init_is_blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t') return false;
  return true;
}

static bool init_word_is(const char *s, size_t n, const char *word) {
  return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* One line, without its '\n'. *versioned records whether `version 1` has been seen. */
static int init_parse_line(init_conf *c, init_parser *p, bool *versioned, const char *s, size_t n) {
  /* Values become C strings, so a NUL would silently cut one short. */
  if (memchr(s, '\0', n)) return init_parse_fail(p, "NUL byte in line");
  if (init_is_blank(s, n) || s[0] == '#') return 0;

  const char *space = memchr(s, ' ', n);
  size_t klen = space ? (size_t)(space - s) : n;
  const char *value = space ? space + 1 : NULL;
  size_t vlen = space ? n - klen - 1 : 0;
  if (klen == 0) return init_parse_fail(p, "line starts with a space");

  if (init_word_is(s, klen, "version")) {
    if (*versioned)
      return init_parse_fail(p, "'version' may appear only once, as the first directive");
    /* CR is an ordinary byte in values (the writer passes it through), so a file saved
     * with CRLF line ends is caught here, on its first directive. */
    if (value && init_word_is(value, vlen, "1\r"))
      return init_parse_fail(p,
                             "'version 1' followed by a carriage return (lines must end "
                             "with LF alone)");
    if (!value || !init_word_is(value, vlen, "1"))
      return init_parse_fail(p, "unsupported version '%.*s' (this coreinit reads version 1)",
                             (int)vlen, value ? value : "");
    *versioned = true;
    return 0;
  }
  if (!*versioned) return init_parse_fail(p, "the first directive must be 'version 1'");

  for (size_t i = 0; i < sizeof init_directives / sizeof init_directives[0]; i++) {
    if (!init_word_is(s, klen, init_directives[i].keyword)) continue;
    if (!value)
      return init_parse_fail(p, "'%s' needs a value after one space", init_directives[i].keyword);
    char *v = init_unescape(p, value, vlen);
    if (!v) return -1;
    return init_directives[i].apply(c, v, p);
  }
  return init_parse_fail(p, "unknown directive '%.*s' (known: " INIT_KNOWN_DIRECTIVES ")",
                         (int)klen, s);
}

int init_conf_parse(init_conf *out, const char *file, const char *buf, size_t len,
                    init_error *err) {
  init_conf c = INIT_CONF_INIT;
  init_parser p = {file, 0, err};
  bool versioned = false;
  const char *end = buf + len;

  for (const char *line = buf; line < end;) {
    const char *nl = memchr(line, '\n', (size_t)(end - line));
    const char *eol = nl ? nl : end;
    p.line++;
    if (init_parse_line(&c, &p, &versioned, line, (size_t)(eol - line)) < 0) {
      init_conf_free(&c);
      return -1;
    }
    line = nl ? nl + 1 : end;
  }
  if (!versioned) {
    /* Point just past the last line: that is where 'version 1' was still missing. */
    p.line++;
    return init_parse_fail(&p, "no 'version 1' line (the file has no directives)");
  }
  *out = c;
  return 0;
}

int init_conf_merge(init_conf *base, init_conf *over, init_error *err) {
  /* Reserve first, so that once strings start moving nothing can fail half-way. */
  if (init_strv_reserve(&base->modules, over->modules.n) < 0 ||
      init_strv_reserve(&base->env, over->env.n) < 0)
    return init_error_set(err, ENOMEM, "merging " INIT_RUN_CONF_PATH);

  for (size_t i = 0; i < over->modules.n; i++)
    base->modules.v[base->modules.n++] = over->modules.v[i];
  if (base->modules.v) base->modules.v[base->modules.n] = NULL;
  for (size_t i = 0; i < over->env.n; i++) base->env.v[base->env.n++] = over->env.v[i];
  if (base->env.v) base->env.v[base->env.n] = NULL;
  over->modules.n = over->env.n = 0; /* the strings now belong to base */

  /* Any arg line replaces the whole command: `corerun app.tim -- CMD ARGS` must not
   * inherit arguments meant for the app's own main command. */
  if (over->argv.n > 0) {
    init_strv_free(&base->argv);
    base->argv = over->argv;
    over->argv = (init_strv){0};
  }
  if (over->hostname) {
    free(base->hostname);
    base->hostname = over->hostname;
    over->hostname = NULL;
  }
  if (over->status_device) {
    free(base->status_device);
    base->status_device = over->status_device;
    over->status_device = NULL;
  }
  init_conf_free(over);
  return 0;
}

/* Sets entry ("NAME=VALUE", owned) in env, replacing an earlier entry with the same NAME
 * in place so the order stays that of first appearance. */
static int init_env_set(init_strv *env, char *entry) {
  size_t name_len = (size_t)(strchr(entry, '=') - entry) + 1; /* with the '=' */
  for (size_t i = 0; i < env->n; i++) {
    if (strncmp(env->v[i], entry, name_len) == 0) {
      free(env->v[i]);
      env->v[i] = entry;
      return 0;
    }
  }
  return init_strv_push(env, entry);
}

int init_conf_finish(init_conf *c, const char *file, init_error *err) {
  if (c->argv.n == 0)
    return init_error_set(err, 0, "%s: no 'arg' line, so there is no main command to run", file);
  if (c->argv.v[0][0] == '\0')
    return init_error_set(err, 0, "%s: the first 'arg' (the program to run) is empty", file);

  init_strv env = {0};
  size_t n_defaults = sizeof init_env_defaults / sizeof init_env_defaults[0];
  for (size_t i = 0; i < n_defaults + c->env.n; i++) {
    const char *src = i < n_defaults ? init_env_defaults[i] : c->env.v[i - n_defaults];
    char *copy = strdup(src);
    if (!copy || init_env_set(&env, copy) < 0) {
      init_strv_free(&env);
      return init_error_set(err, ENOMEM, "building the environment");
    }
  }
  init_strv_free(&c->env);
  c->env = env;
  return 0;
}
