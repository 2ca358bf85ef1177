/* LinuxKit image YAML as a front end: recognises a LinuxKit file and lowers it into the
 * app.yml tree the checker reads, every node keeping the position of the LinuxKit text it
 * came from. spec/linuxkit.md says what is lowered how, and what is refused. */
#ifndef CORE_LINUXKIT_H
#define CORE_LINUXKIT_H

#include "diag.h"
#include "yaml_ast.h"

/* 1 when root is a LinuxKit image file, else 0. The rule: root is a mapping; it has none of
 * app.yml's keys 'name', 'main' and 'rootfs'; its 'kernel' (if any) has no 'source'; and it
 * has 'init', or a 'kernel' mapping with 'image'. Looks at nothing else, reports nothing. */
int core_linuxkit_detect(const core_yaml_node *root);

/* Lowers doc, the parsed LinuxKit file path, into a new app.yml document (free it with
 * core_yaml_doc_free) whose nodes point into path. The app's name is path's file name
 * without its extension. Every problem goes to diag, LinuxKit keys core cannot honour
 * included; warnings do not fail. Returns 0 with *out when no error was reported; -1
 * otherwise, *out untouched. Check the tree only on success: after a failure its problems
 * are already reported in LinuxKit's terms. */
int core_linuxkit_lower(const core_yaml_doc *doc, const char *path, core_diag *diag, core_yaml_doc **out);

#endif
