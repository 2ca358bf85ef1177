/* Building core_yaml_node trees by hand, for front ends that translate another YAML dialect
 * into app.yml and must keep the source positions of what they translate. */
#ifndef CORE_YAML_BUILD_H
#define CORE_YAML_BUILD_H

#include <stdbool.h>

#include "yaml_ast.h"

/* Documents to build into are made with core_yaml_doc_new (yaml_edit.h). */

/* New nodes, owned by doc (freed with it). pos may be NULL (line 0: the whole file); its file
 * is replaced by doc->file. value is copied. NULL when out of memory. */
core_yaml_node *core_yb_scalar(core_yaml_doc *doc, const core_pos *pos, int len, core_yaml_style style,
                               const char *value);
core_yaml_node *core_yb_mapping(core_yaml_doc *doc, const core_pos *pos);
core_yaml_node *core_yb_sequence(core_yaml_doc *doc, const core_pos *pos);

/* A deep copy of a node of any document (aliases become ordinary nodes), positions kept. */
core_yaml_node *core_yb_copy(core_yaml_doc *doc, const core_yaml_node *src);

/* Appends item to a sequence; adds key (a new scalar at key_pos) and value to a mapping, which
 * must not hold key yet. Both return -1, changing nothing, when out of memory or given NULL
 * (so that a failed constructor can be passed straight in). */
int core_yb_append(core_yaml_node *seq, core_yaml_node *item);
int core_yb_put(core_yaml_doc *doc, core_yaml_node *map, const char *key, const core_pos *key_pos, int key_len,
                core_yaml_node *value);

/* Canonical text of a tree, one node a line: plain scalars as written, every other scalar
 * double-quoted with C escapes, mappings in the order built. With positions, each line ends
 * in "# L:C" (the node's) or "# L:C L:C" (a pair: key, then value). NULL when out of memory. */
char *core_yb_print(const core_yaml_node *root, bool with_pos);

#endif
