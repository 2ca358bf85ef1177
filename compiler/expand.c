/* Variables: the `variables:` declarations, where a value comes from (--var, the environment
 * when allowed, a declared default, an inline default), and ${...} replaced in every scalar
 * value, with problems reported at the '$' they are about. */
#include "expand.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cleanup.h"
#include "yaml_edit.h"

#define NAME_HINT "a name is letters, digits and '_', not starting with a digit"

bool core_var_name_valid(const char *name, size_t len) {
  if (len == 0 || (name[0] >= '0' && name[0] <= '9')) return false;
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

/* --- one string --- */

static void problem_at(const core_expand_hooks *h, core_expand_problem *first, int *n_problems,
                       core_expand_problem_kind kind, size_t offset, size_t ref_len, size_t index, const char *name,
                       size_t name_len) {
  core_expand_problem p = {.kind = kind, .offset = offset, .ref_len = ref_len, .index = index};
  if (name_len >= sizeof p.name) name_len = sizeof p.name - 1;
  memcpy(p.name, name, name_len);
  p.name[name_len] = 0;
  if (*n_problems == 0 && first) *first = p;
  (*n_problems)++;
  if (h->on_problem) h->on_problem(h->ctx, &p);
}

int core_expand_string(const char *in, size_t len, const core_expand_hooks *h, char **out, size_t *out_len,
                       core_expand_problem *first) {
  cleanup_buf core_buf b = CORE_BUF_INIT;
  int n_problems = 0;
  size_t refs = 0;
  size_t i = 0;
  while (i < len) {
    const char *dollar = memchr(in + i, '$', len - i);
    size_t stop = dollar ? (size_t)(dollar - in) : len;
    if (core_buf_append(&b, in + i, stop - i, NULL) < 0) return -1;
    i = stop;
    if (i == len) break;
    if (i + 1 < len && in[i + 1] == '$') { /* $$: one literal '$' */
      if (core_buf_append(&b, "$", 1, NULL) < 0) return -1;
      i += 2;
      continue;
    }
    if (i + 1 >= len || in[i + 1] != '{') { /* a '$' on its own is text: shell commands keep $HOME */
      if (core_buf_append(&b, "$", 1, NULL) < 0) return -1;
      i++;
      continue;
    }
    size_t start = i, index = refs++;
    const char *body = in + i + 2;
    const char *close = memchr(body, '}', len - i - 2);
    if (close == NULL) {
      size_t nl = 0; /* the name, for the message: up to what cannot be part of it */
      while (nl < len - i - 2 && body[nl] != ':' && body[nl] != '\n') nl++;
      problem_at(h, first, &n_problems, CORE_EXPAND_UNTERMINATED, start, len - start, index, body, nl);
      break;
    }
    size_t body_len = (size_t)(close - body);
    i = (size_t)(close - in) + 1;
    size_t name_len = 0;
    while (name_len < body_len && body[name_len] != ':') name_len++;
    if (!core_var_name_valid(body, name_len)) {
      problem_at(h, first, &n_problems, CORE_EXPAND_BAD_NAME, start, i - start, index, body, name_len);
      continue;
    }
    bool has_default = name_len < body_len;
    if (has_default && (body_len - name_len < 2 || body[name_len + 1] != '-')) {
      problem_at(h, first, &n_problems, CORE_EXPAND_BAD_OPERATOR, start, i - start, index, body, name_len);
      continue;
    }
    if (h->on_ref) h->on_ref(h->ctx, body, name_len);
    const char *value = h->lookup(h->ctx, body, name_len);
    if (value && (*value || !has_default)) {
      if (core_buf_append(&b, value, strlen(value), NULL) < 0) return -1;
    } else if (has_default) {
      if (core_buf_append(&b, body + name_len + 2, body_len - name_len - 2, NULL) < 0) return -1;
    } else {
      problem_at(h, first, &n_problems, CORE_EXPAND_UNDEFINED, start, i - start, index, body, name_len);
    }
  }
  if (n_problems) return 0;
  if (core_buf_append(&b, "", 1, NULL) < 0) return -1;
  size_t n = 0;
  *out = (char *)core_buf_take(&b, &n);
  *out_len = n - 1;
  return 1;
}

/* --- declarations and values --- */

typedef struct var_decl {
  const char *name; /* the key's text, owned by the tree */
  const char *def;  /* NULL: the variable must be given a value */
  bool env;         /* may be read from the environment */
} var_decl;

typedef struct expander {
  core_yaml_doc *doc;
  const core_expand_opts *opts;
  core_diag *diag;
  var_decl *decls;
  size_t n_decls;
  char **used; /* names referenced anywhere */
  size_t n_used;
  bool oom;
  const core_yaml_node *node; /* the scalar being expanded, for positions */
  char env_buf[256];
} expander;

static const var_decl *decl_find(const expander *x, const char *name, size_t len) {
  for (size_t i = 0; i < x->n_decls; i++)
    if (strlen(x->decls[i].name) == len && memcmp(x->decls[i].name, name, len) == 0) return &x->decls[i];
  return NULL;
}

static bool in_names(const char *const *names, size_t n, const char *name, size_t len) {
  for (size_t i = 0; i < n; i++)
    if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0) return true;
  return false;
}

/* The value of --var NAME=VALUE (the last one given), or NULL. */
static const char *var_given(const core_expand_opts *o, const char *name, size_t len) {
  for (size_t i = o->n_vars; i-- > 0;)
    if (strncmp(o->vars[i], name, len) == 0 && o->vars[i][len] == '=') return o->vars[i] + len + 1;
  return NULL;
}

/* --var first, then the environment (only for names allowed to come from it), then the
 * declared default. */
static const char *lookup(void *ctx, const char *name, size_t len) {
  expander *x = ctx;
  const char *v = var_given(x->opts, name, len);
  if (v) return v;
  const var_decl *d = decl_find(x, name, len);
  if (((d && d->env) || in_names(x->opts->env_vars, x->opts->n_env_vars, name, len)) && len < sizeof x->env_buf) {
    memcpy(x->env_buf, name, len);
    x->env_buf[len] = 0;
    if ((v = getenv(x->env_buf))) return v;
  }
  return d ? d->def : NULL;
}

static void on_ref(void *ctx, const char *name, size_t len) {
  expander *x = ctx;
  if (in_names((const char *const *)x->used, x->n_used, name, len)) return;
  char **used = realloc(x->used, (x->n_used + 1) * sizeof *used);
  if (used == NULL || (used[x->n_used] = strndup(name, len)) == NULL) {
    if (used) x->used = used;
    x->oom = true;
    return;
  }
  x->used = used;
  x->n_used++;
}

/* Byte offset in text of 1-based line and character column, or len when out of range. */
static size_t text_offset(const char *text, size_t len, int line, int col) {
  size_t i = 0;
  for (int l = 1; l < line && i < len; l++) {
    while (i < len && text[i] != '\n' && text[i] != '\r') i++;
    if (i < len && text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') i++;
    if (i < len) i++;
  }
  for (int c = 1; c < col && i < len && text[i] != '\n' && text[i] != '\r'; c++) {
    i++;
    while (i < len && ((unsigned char)text[i] & 0xC0) == 0x80) i++;
  }
  return i;
}

/* Where the index-th "${" of a scalar's value is written: found by scanning the file's text
 * from the node's start with the same rules ($$ is skipped), since quotes, escapes and line
 * folding make value offsets differ from text columns. *len is the characters of ${...} on
 * its line. Falls back to the node's own position. */
static core_pos ref_pos(const expander *x, const core_yaml_node *n, size_t index, int *len) {
  *len = n->len;
  const core_yaml_source *src = n->pos.file ? core_yaml_doc_find_source(x->doc, n->pos.file) : NULL;
  if (src == NULL || src->text == NULL) return n->pos;
  const char *t = src->text;
  size_t tlen = src->len, seen = 0;
  int line = n->pos.line, col = n->pos.col;
  for (size_t i = text_offset(t, tlen, line, col); i < tlen;) {
    if (t[i] == '\n' || t[i] == '\r') {
      i += t[i] == '\r' && i + 1 < tlen && t[i + 1] == '\n' ? 2 : 1;
      line++;
      col = 1;
    } else if (t[i] == '$' && i + 1 < tlen && t[i + 1] == '$') {
      i += 2;
      col += 2;
    } else if (t[i] == '$' && i + 1 < tlen && t[i + 1] == '{' && seen++ == index) {
      int chars = 0;
      size_t j = i;
      for (; j < tlen && t[j] != '\n' && t[j] != '\r'; j++) {
        if (((unsigned char)t[j] & 0xC0) != 0x80) chars++;
        if (t[j] == '}') break;
      }
      *len = j < tlen && t[j] == '}' ? chars : 2;
      return (core_pos){.file = n->pos.file, .line = line, .col = col};
    } else {
      i++;
      while (i < tlen && ((unsigned char)t[i] & 0xC0) == 0x80) i++;
      col++;
    }
  }
  return n->pos;
}

static void on_problem(void *ctx, const core_expand_problem *p) {
  expander *x = ctx;
  int len = 0;
  core_pos pos = ref_pos(x, x->node, p->index, &len);
  char hint[384];
  switch (p->kind) {
    case CORE_EXPAND_UNDEFINED: {
      const var_decl *d = decl_find(x, p->name, strlen(p->name));
      if (d && d->env)
        snprintf(hint, sizeof hint,
                 "'%s' is read from the environment, which does not set it: export %s=VALUE, pass --var %s=VALUE, "
                 "or give it a default in 'variables:'",
                 p->name, p->name, p->name);
      else if (d)
        snprintf(hint, sizeof hint, "'%s' is declared in 'variables:' without a default: pass --var %s=VALUE",
                 p->name, p->name);
      else
        snprintf(hint, sizeof hint,
                 "pass --var %s=VALUE, declare it with a default under 'variables:' (%s: VALUE), or write "
                 "${%s:-DEFAULT}",
                 p->name, p->name, p->name);
      core_diag_error(x->diag, &pos, len, hint, "undefined variable '%s'", p->name);
      return;
    }
    case CORE_EXPAND_UNTERMINATED:
      core_diag_error(x->diag, &pos, len, "close it with '}', or write '$$' for a literal '$'",
                      "'${' is not closed by '}'");
      return;
    case CORE_EXPAND_BAD_NAME:
      if (p->name[0])
        core_diag_error(x->diag, &pos, len, NAME_HINT "; write '$$' for a literal '$'", "invalid variable name '%s'",
                        p->name);
      else
        core_diag_error(x->diag, &pos, len, "write ${NAME}, or '$$' for a literal '$'", "empty variable name");
      return;
    case CORE_EXPAND_BAD_OPERATOR:
      core_diag_error(x->diag, &pos, len, "the forms are ${NAME} and ${NAME:-DEFAULT}",
                      "'${%s' must be followed by '}' or ':-DEFAULT'", p->name);
      return;
    case CORE_EXPAND_OK: return;
  }
}

static int expand_scalar(expander *x, core_yaml_node *n) {
  if (memchr(n->value, '$', n->value_len) == NULL) return 0;
  core_expand_hooks h = {.lookup = lookup, .on_ref = on_ref, .on_problem = on_problem, .ctx = x};
  x->node = n;
  char *out = NULL;
  size_t out_len = 0;
  int rc = core_expand_string(n->value, n->value_len, &h, &out, &out_len, NULL);
  if (rc < 0) return -1;
  if (rc == 1) {
    free(n->value);
    n->value = out;
    n->value_len = out_len;
  }
  return 0;
}

/* Values only: keys are names of the schema, not data. */
static int expand_tree(expander *x, core_yaml_node *n) {
  if (n->alias) {
    core_diag_error(x->diag, &n->pos, n->len, NULL, "internal error: variables expanded in a tree with aliases");
    return 0;
  }
  switch (n->kind) {
    case CORE_YAML_SCALAR: return expand_scalar(x, n);
    case CORE_YAML_SEQUENCE:
      for (size_t i = 0; i < n->n_items; i++)
        if (expand_tree(x, n->items[i]) < 0) return -1;
      return 0;
    case CORE_YAML_MAPPING:
      for (size_t i = 0; i < n->n_pairs; i++)
        if (expand_tree(x, n->pairs[i].value) < 0) return -1;
      return 0;
  }
  return 0;
}

static bool is_null(const core_yaml_node *n) {
  return n->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(n) == CORE_YAML_NULL;
}

/* One entry of `variables:`: NAME: DEFAULT, NAME: (no default), or NAME: {env: BOOL, default: DEFAULT}. */
static void read_decl(expander *x, const core_yaml_node *key, const core_yaml_node *v, var_decl *d) {
  char nb[80], found[96];
  const char *name = core_diag_excerpt(key->value, nb, sizeof nb);
  *d = (var_decl){.name = key->value};
  if (!core_var_name_valid(key->value, key->value_len))
    core_diag_error(x->diag, &key->pos, key->len, NAME_HINT, "invalid variable name '%s'", name);
  if (v->kind == CORE_YAML_SCALAR) {
    if (!is_null(v)) d->def = v->value;
    return;
  }
  if (v->kind == CORE_YAML_SEQUENCE) {
    core_diag_error(x->diag, &v->pos, v->len, "write NAME: DEFAULT, or NAME: {env: true, default: DEFAULT}",
                    "variable '%s' must be a default value or a mapping, found %s", name,
                    core_yaml_describe(v, found, sizeof found));
    return;
  }
  for (size_t i = 0; i < v->n_pairs; i++) {
    const core_yaml_node *k = v->pairs[i].key, *val = v->pairs[i].value;
    char kb[80];
    if (strcmp(k->value, "env") == 0) {
      if (val->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(val) == CORE_YAML_BOOL)
        d->env = strchr("tTyY", val->value[0]) || strcmp(val->value, "on") == 0 || strcmp(val->value, "On") == 0 ||
                 strcmp(val->value, "ON") == 0;
      else
        core_diag_error(x->diag, &val->pos, val->len, NULL, "'env' of variable '%s' must be true or false, found %s",
                        name, core_yaml_describe(val, found, sizeof found));
    } else if (strcmp(k->value, "default") == 0) {
      if (val->kind == CORE_YAML_SCALAR && !is_null(val))
        d->def = val->value;
      else
        core_diag_error(x->diag, &val->pos, val->len, "leave 'default' out to make the variable required",
                        "'default' of variable '%s' must be a string, found %s", name,
                        core_yaml_describe(val, found, sizeof found));
    } else {
      core_diag_error(x->diag, &k->pos, k->len, "the keys are 'env' (true or false) and 'default'",
                      "unknown key '%s' in variable '%s'", core_diag_excerpt(k->value, kb, sizeof kb), name);
    }
  }
}

static int read_decls(expander *x, const core_yaml_node *vars) {
  char found[96];
  if (is_null(vars)) return 0;
  if (vars->kind != CORE_YAML_MAPPING) {
    core_diag_error(x->diag, &vars->pos, vars->len, "for example 'variables: {PORT: \"8080\", TOKEN: {env: true}}'",
                    "'variables' must be a mapping of names to defaults, found %s",
                    core_yaml_describe(vars, found, sizeof found));
    return 0;
  }
  if (vars->n_pairs && (x->decls = calloc(vars->n_pairs, sizeof *x->decls)) == NULL) return -1;
  for (size_t i = 0; i < vars->n_pairs; i++) read_decl(x, vars->pairs[i].key, vars->pairs[i].value, &x->decls[x->n_decls++]);
  return 0;
}

static void check_given(expander *x) {
  for (size_t i = 0; i < x->opts->n_vars; i++) {
    const char *kv = x->opts->vars[i], *eq = strchr(kv, '=');
    char b[80];
    if (eq == NULL || !core_var_name_valid(kv, (size_t)(eq - kv))) {
      core_diag_error(x->diag, NULL, 0, "write --var NAME=VALUE; " NAME_HINT, "invalid --var '%s'",
                      core_diag_excerpt(kv, b, sizeof b));
      continue;
    }
    size_t len = (size_t)(eq - kv);
    bool later = false; /* warn once per name */
    for (size_t j = i + 1; j < x->opts->n_vars && !later; j++)
      later = strncmp(x->opts->vars[j], kv, len + 1) == 0;
    if (later || decl_find(x, kv, len) || in_names((const char *const *)x->used, x->n_used, kv, len)) continue;
    char name[80];
    snprintf(name, sizeof name, "%.*s", (int)(len < 64 ? len : 64), kv);
    core_diag_add(x->diag, CORE_DIAG_WARNING, NULL, 0, "check its spelling: names are case-sensitive",
                  "--var '%s' is not used: no ${%s} in the app or its includes", name, name);
  }
}

int core_expand_doc(core_yaml_doc *doc, const core_expand_opts *opts, core_diag *diag) {
  static const core_expand_opts none = {0};
  expander x = {.doc = doc, .opts = opts ? opts : &none, .diag = diag};
  int rc = 0;
  core_yaml_node *root = doc->root;
  if (root && root->kind == CORE_YAML_MAPPING) {
    const core_yaml_node *vars = core_yaml_get(root, "variables");
    if (vars) rc = read_decls(&x, vars);
    /* The declarations are for this stage only; the schema does not know the key. */
    core_yaml_remove(root, "variables");
  }
  if (rc == 0 && root) rc = expand_tree(&x, root);
  if (rc == 0 && !x.oom) check_given(&x);
  for (size_t i = 0; i < x.n_used; i++) free(x.used[i]);
  free(x.used);
  free(x.decls);
  if (rc < 0 || x.oom) {
    core_diag_error(diag, NULL, 0, NULL, "out of memory while expanding variables");
    return -1;
  }
  return 0;
}
