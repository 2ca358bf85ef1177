/* YAML text -> a tree of mappings, sequences and scalars, every node with its file:line:col.
 * Built on libyaml's event API; problems are reported as diagnostics. */
#ifndef CORE_YAML_AST_H
#define CORE_YAML_AST_H

#include <stdbool.h>
#include <stddef.h>

#include "app_config.h"
#include "diag.h"
#include "error.h"

/* Limits that keep hostile input cheap: aliases are counted as the nodes they expand to. */
#define CORE_YAML_MAX_NODES 100000
#define CORE_YAML_MAX_DEPTH 256

typedef enum core_yaml_kind {
  CORE_YAML_SCALAR,
  CORE_YAML_SEQUENCE,
  CORE_YAML_MAPPING,
} core_yaml_kind;

typedef enum core_yaml_style {
  CORE_YAML_PLAIN,
  CORE_YAML_SINGLE_QUOTED,
  CORE_YAML_DOUBLE_QUOTED,
  CORE_YAML_LITERAL, /* | block */
  CORE_YAML_FOLDED,  /* > block */
} core_yaml_style;

/* What a scalar means. Only plain, untagged scalars can be anything but a string; the words
 * follow YAML 1.1 as people write it (yes/no/on/off are booleans, ~ is null). */
typedef enum core_yaml_type {
  CORE_YAML_NULL,
  CORE_YAML_BOOL,
  CORE_YAML_INT,
  CORE_YAML_FLOAT,
  CORE_YAML_STR,
} core_yaml_type;

typedef struct core_yaml_node core_yaml_node;

typedef struct core_yaml_pair {
  core_yaml_node *key; /* always a scalar */
  core_yaml_node *value;
} core_yaml_pair;

struct core_yaml_node {
  core_yaml_kind kind;
  core_pos pos; /* first character of the node, its anchor or its tag; pos.file is the doc's */
  int len;      /* characters the node spans on its first line; 0 when not known */
  bool alias;   /* written as "*name": shares its contents with the anchored node */

  /* CORE_YAML_SCALAR */
  char *value; /* NUL-terminated; value_len counts bytes, in case of an escaped NUL */
  size_t value_len;
  core_yaml_style style;
  bool tagged_str; /* "!!str" or "!": a string whatever it looks like */

  /* CORE_YAML_SEQUENCE */
  core_yaml_node **items;
  size_t n_items;

  /* CORE_YAML_MAPPING: in the order written; keys are unique */
  core_yaml_pair *pairs;
  size_t n_pairs;

  size_t weight; /* nodes in this subtree with aliases expanded */
};

/* A file whose nodes a document holds, with the text that was parsed: diagnostics show
 * lines from it, and positions inside values (a ${VAR} in a string) are found in it. */
typedef struct core_yaml_source {
  char *name;
  char *text; /* NULL when not known */
  size_t len;
} core_yaml_source;

typedef struct core_yaml_doc {
  char *file;           /* as given; the nodes parsed from it have pos.file pointing here */
  core_yaml_node *root; /* NULL when the text holds no document (empty, or only comments) */
  core_yaml_node **all; /* every node, for freeing: aliases make the tree a DAG */
  size_t n_all, cap_all;
  /* Every file the nodes came from (several after includes are merged, see yaml_edit.h);
   * nodes copied in from another document have pos.file pointing at one of these names. */
  core_yaml_source *sources;
  size_t n_sources;
} core_yaml_doc;

/* Parses text, the contents of file, and reports problems to diag. Returns 0 with a tree
 * when one could be built, even if it reported errors that leave the tree usable (a
 * duplicate key: the first one is kept); -1 when the text is not YAML it can read. */
int core_yaml_parse(const char *file, const char *text, size_t len, core_diag *diag, core_yaml_doc **out);

/* Reads and parses path; any problem becomes *err, rendered with the source lines. */
int core_yaml_load_file(const char *path, core_yaml_doc **out, core_error **err);

/* A new node owned by doc (freed with it); pos.file must be one of doc's sources or its
 * file. NULL when out of memory. */
core_yaml_node *core_yaml_node_new(core_yaml_doc *doc, core_yaml_kind kind, core_pos pos);

void core_yaml_doc_free(core_yaml_doc *doc);
static inline void core_yaml_doc_freep(core_yaml_doc **doc) { core_yaml_doc_free(*doc); }
#define cleanup_yaml_doc __attribute__((cleanup(core_yaml_doc_freep)))

core_yaml_type core_yaml_scalar_type(const core_yaml_node *n);

/* "a mapping", "a sequence", "a string", "the boolean 'yes'", "null", "the integer '3'"...
 * for messages that say what was found. Written into buf (64 bytes suffice with room for
 * a short value; longer values are cut). */
const char *core_yaml_describe(const core_yaml_node *n, char *buf, size_t size);

/* The value of key in a mapping, or NULL. */
core_yaml_node *core_yaml_get(const core_yaml_node *map, const char *key);

#endif
