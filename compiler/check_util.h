/* Private to the check stage (compiler/check*.c): the checker's state and the helpers every
 * part of the schema shares, so that one kind of mistake gets one wording everywhere. */
#ifndef CORE_CHECK_UTIL_H
#define CORE_CHECK_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app_config.h"
#include "diag.h"
#include "yaml_ast.h"

#define CHECK_LOWER "abcdefghijklmnopqrstuvwxyz"
#define CHECK_UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define CHECK_DIGIT "0123456789"

/* Ids up to 2^32-2: (uid_t)-1 means "no id" to the kernel's chown and setresuid. */
#define CHECK_ID_MAX UINT64_C(4294967294)

/* A step or service name, for checks across the three lists. */
typedef struct check_named {
  const char *name;           /* owned by the config */
  const core_yaml_node *node; /* where the name is written; NULL for a default step name */
  const core_yaml_node *item; /* the step or service */
  const char *list;           /* "onboot", "onshutdown" or "services" */
} check_named;

typedef struct checker {
  core_diag *d;
  core_app_config *cfg;
  check_named *named;
  size_t n_named, cap_named;
} checker;

/* The keys a mapping may hold. */
typedef struct field {
  const char *name;
  bool required;
  const char *example; /* shown when it is missing */
} field;

/* The alphabet of a kind of name, for check_word. */
typedef struct word_rule {
  const char *first, *rest; /* the characters allowed first and after it */
  const char *first_desc, *rest_desc;
  size_t max;               /* longest allowed, 0 = no limit */
  bool fold_upper;          /* upper-case letters get a "write it in lowercase" hint */
} word_rule;

/* User and group names, as useradd takes them: [a-z_][a-z0-9_-]{0,31}. */
extern const word_rule check_user_name_rule;

void check_oom(checker *c);
char *check_strdup(checker *c, const char *s);
/* calloc(n, size) reporting failure; n = 0 gives NULL without a report. */
void *check_calloc(checker *c, size_t n, size_t size);
const char *check_input_name(const checker *c, const char *file);
core_pos check_pos(const checker *c, const core_yaml_node *n);

/* The name in names closest in spelling to key, or NULL when none is close. */
const char *check_closest(const char *key, const char *const *names, size_t n);

/* Reports unknown keys (with did-you-mean) and missing required ones. where is the mapping's
 * path ("kernel", "services[0]"), NULL at the top. */
void check_fields(checker *c, const core_yaml_node *map, const field *fields, const char *where);

/* "'what' must be EXPECTED, found ..." with a hint for words YAML reads as non-strings. */
void check_type_error(checker *c, const core_yaml_node *n, const char *what, const char *expected,
                      const char *hint);
bool check_kind(checker *c, const core_yaml_node *n, core_yaml_kind kind, const char *what, const char *expected,
                const char *hint);

/* A scalar that can stand for a string (numbers as written); NULL after reporting. */
const char *check_string(checker *c, const core_yaml_node *n, const char *what);
const char *check_nonempty(checker *c, const core_yaml_node *n, const char *what);
/* Where bytes [i, i + span) of a scalar are in the file, when that is known; *len gets the span. */
core_pos check_char_pos(const core_yaml_node *n, size_t i, size_t span, int *len);

/* Only the plain words true and false. */
bool check_bool(checker *c, const core_yaml_node *n, const char *what, bool *out);
/* An unquoted decimal integer in [min, max]. */
bool check_uint(checker *c, const core_yaml_node *n, const char *what, uint64_t min, uint64_t max, uint64_t *out);
/* A permission mode written as a quoted octal string ("0644"). */
bool check_mode(checker *c, const core_yaml_node *n, const char *what, int *out);
/* An absolute path without empty, '.' or '..' components; a trailing '/' is dropped. Returns it
 * with its leading '/' ("/" only when allow_root), or NULL after reporting. */
char *check_abs_path(checker *c, const core_yaml_node *n, const char *what, bool allow_root);
/* s (the value of n, or of the key n) follows rule; reports the first bad character. */
bool check_word(checker *c, const core_yaml_node *n, const char *s, const char *what, const word_rule *rule);
/* The index of the value of n in values (NULL-terminated), or -1 after listing them. */
int check_enum(checker *c, const core_yaml_node *n, const char *what, const char *const *values);

/* Shared shapes: env mappings (NAME: string or number) and commands (sequence or string). */
void check_env(checker *c, const core_yaml_node *n, const char *what, core_env_var **out, size_t *n_out);
bool check_command(checker *c, const core_yaml_node *n, const char *what, core_command *out);

/* The parts of app.yml, one file each. */
void check_source(checker *c, const core_yaml_node *n, const char *what, core_source *dst);
void check_kernel(checker *c, const core_yaml_node *n);
void check_rootfs(checker *c, const core_yaml_node *n);
void check_files(checker *c, const core_yaml_node *n);
void check_steps(checker *c, const core_yaml_node *n, const char *key, core_step **out, size_t *n_out);
void check_services(checker *c, const core_yaml_node *n);
/* After steps and services: names unique across both, depends_on resolvable and acyclic. */
void check_name_add(checker *c, const char *name, const core_yaml_node *node, const core_yaml_node *item,
                    const char *list);
void check_service_graph(checker *c);
void check_hostname(checker *c, const core_yaml_node *n);
void check_sysctl(checker *c, const core_yaml_node *n);
void check_mounts(checker *c, const core_yaml_node *n);
void check_resources(checker *c, const core_yaml_node *n);
void check_network(checker *c, const core_yaml_node *n);
void check_users(checker *c, const core_yaml_node *users, const core_yaml_node *groups);

#endif
