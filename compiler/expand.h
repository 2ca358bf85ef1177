/* Variables in app.yml: ${NAME} and ${NAME:-default} inside scalar values, $$ for a '$'.
 * The rules are written down in spec/composition.md. */
#ifndef CORE_EXPAND_H
#define CORE_EXPAND_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "yaml_ast.h"

/* Where values come from besides app.yml's own `variables:` defaults. Nothing is read from
 * the environment unless its name is listed here or declared with `env: true`. */
typedef struct core_expand_opts {
  const char *const *vars; /* "NAME=VALUE", as given to --var; a later one wins */
  size_t n_vars;
  const char *const *env_vars; /* names that may be read from the environment (--env-var) */
  size_t n_env_vars;
} core_expand_opts;

/* What is wrong with a string, for core_expand_string. */
typedef enum core_expand_problem_kind {
  CORE_EXPAND_OK = 0,
  CORE_EXPAND_UNDEFINED,    /* ${NAME} with no value and no default */
  CORE_EXPAND_UNTERMINATED, /* "${" with no "}" after it */
  CORE_EXPAND_BAD_NAME,     /* ${} or a name that is not [A-Za-z_][A-Za-z0-9_]* */
  CORE_EXPAND_BAD_OPERATOR, /* ${NAME?...}: only '}' or ":-" may follow the name */
} core_expand_problem_kind;

typedef struct core_expand_problem {
  core_expand_problem_kind kind;
  size_t offset;  /* of the '$' in the input */
  size_t ref_len; /* bytes of the whole ${...} (to the end when unterminated) */
  size_t index;   /* how many ${ came before this one in the input */
  char name[64];  /* the name as written, cut to fit */
} core_expand_problem;

/* How core_expand_string finds values and reports what it meets. */
typedef struct core_expand_hooks {
  /* The value of a variable, or NULL when it has none. */
  const char *(*lookup)(void *ctx, const char *name, size_t name_len);
  /* Optional: told every name referenced (for "--var X is never used"). */
  void (*on_ref)(void *ctx, const char *name, size_t name_len);
  /* Optional: told every problem, in the order of the input. */
  void (*on_problem)(void *ctx, const core_expand_problem *problem);
  void *ctx;
} core_expand_hooks;

/* Expands in[0..len): ${NAME} becomes the value, ${NAME:-default} the value unless it is
 * missing or empty, else the default (taken as written, up to the first '}'); $$ becomes $,
 * and any other '$' stays as it is. Values are inserted as they are, never expanded again.
 * Returns 1 with *out (NUL-terminated, *out_len bytes; the caller frees it); 0 when there
 * were problems (*out is NULL, *first, when not NULL, is the first one, and every one went to
 * on_problem; scanning goes on after each, so all are found); -1 when out of memory. */
int core_expand_string(const char *in, size_t len, const core_expand_hooks *hooks, char **out, size_t *out_len,
                       core_expand_problem *first);

/* Reads the top-level `variables:` mapping of doc (and removes it, so the schema never sees
 * it), then expands every scalar value (not keys) of the tree. The tree must be a plain one
 * made by core_yaml_copy (no aliases). Problems are reported to diag at the '$' they are
 * about, found in the text doc keeps for each file. Returns -1 only when out of memory. */
int core_expand_doc(core_yaml_doc *doc, const core_expand_opts *opts, core_diag *diag);

/* True for [A-Za-z_][A-Za-z0-9_]*, len bytes. */
bool core_var_name_valid(const char *name, size_t len);

#endif
