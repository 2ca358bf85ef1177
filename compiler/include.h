/* Includes: the top-level `include:` list of app.yml (paths and stdlib:NAME templates),
 * loaded recursively and merged into one tree. The rules are in spec/composition.md. */
#ifndef CORE_INCLUDE_H
#define CORE_INCLUDE_H

#include <stddef.h>

#include "diag.h"
#include "yaml_ast.h"
#include "yaml_edit.h"

/* An include chain may be this long (app.yml -> a.yml -> ... counts the includes). */
#define CORE_INCLUDE_MAX_DEPTH 16
/* Files loaded for one app, and nodes of the merged tree: bounds for hostile inputs. */
#define CORE_INCLUDE_MAX_FILES 256
#define CORE_INCLUDE_MAX_NODES (4 * CORE_YAML_MAX_NODES)
/* Every file read (the app and each include) must be a regular file of at most
 * CORE_INPUT_MAX_BYTES (lib/input_file.h); all of them together at most this. */
#define CORE_INCLUDE_MAX_TOTAL_BYTES (32u << 20)

/* How the lists of app.yml merge: which are joined, and by which key an item replaces an
 * earlier one. */
extern const core_yaml_merge_rule core_app_merge_rules[];

/* Loads path (or text[0..len) in its place, when text is not NULL), every file it includes,
 * and merges them: included files first, in the order listed, then the including file.
 * stdlib:NAME is read from stdlib_dir (NULL: see core_stdlib_dir). Every file read is
 * registered with diag and kept in the result, whose nodes keep their own file:line:col.
 * Problems are reported to diag. Returns 0 with *out (a plain tree without aliases and
 * without the `include` key) when the files could be parsed, even if it reported other
 * errors; -1 when there is no tree to go on with. */
int core_include_load(const char *path, const char *text, size_t len, const char *stdlib_dir, core_diag *diag,
                      core_yaml_doc **out);

#endif
