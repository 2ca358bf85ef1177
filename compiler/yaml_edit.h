/* Building and changing YAML trees after parsing: new nodes, deep copies from one document
 * into another, removing keys, and merging one tree onto another by a table of rules.
 * Includes and variables are made of these. */
#ifndef CORE_YAML_EDIT_H
#define CORE_YAML_EDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "yaml_ast.h"

/* An empty document (no root) named file. NULL when out of memory. */
core_yaml_doc *core_yaml_doc_new(const char *file);

/* Registers a file the document's nodes come from, with its text (copied; text may be NULL).
 * A name already registered keeps its entry (the text is set if it had none). Returns the
 * name as the document stores it, for pos.file; NULL when out of memory. */
const char *core_yaml_doc_add_source(core_yaml_doc *doc, const char *name, const char *text, size_t len);

/* The registered file called name, or NULL. */
const core_yaml_source *core_yaml_doc_find_source(const core_yaml_doc *doc, const char *name);


/* Copies the tree under src into dst. Aliases become copies of what they stand for, so the
 * result is a plain tree whose nodes can be changed one by one. Every position keeps its
 * line, column and file (the file is registered in dst). Returns NULL when out of memory
 * or when dst would hold more than max_nodes nodes. */
core_yaml_node *core_yaml_copy(core_yaml_doc *dst, const core_yaml_node *src, size_t max_nodes);

/* Removes key from a mapping; true when it was there. The node stays owned by its doc. */
bool core_yaml_remove(core_yaml_node *map, const char *key);

/* How the sequence at a path merges (see core_yaml_merge). */
typedef struct core_yaml_merge_rule {
  const char *path;     /* keys from the root joined by '.': "services", "network.ports" */
  const char *identity; /* key naming an item ("name", "path"), or NULL: items are only added */
} core_yaml_merge_rule;

/* Merges over onto base, both plain trees of doc (made by core_yaml_copy), and returns the
 * result; base and over are reused, not copied. Mappings merge key by key, recursively, base
 * keys first. A sequence whose path has a rule (rules ends with {NULL, NULL}) keeps base's
 * items and appends over's, except that an over item whose identity key has the same
 * scalar value as a base item replaces that item where it stands. Everything else (other
 * sequences, scalars, a kind that differs) is replaced by over. NULL when out of memory. */
core_yaml_node *core_yaml_merge(core_yaml_node *base, core_yaml_node *over, const core_yaml_merge_rule *rules);

#endif
