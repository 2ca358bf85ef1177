/* The standard library of app.yml templates (stdlib-templates/): where it is found, which
 * templates it holds and what each one says it is for. */
#ifndef CORE_TEMPLATES_H
#define CORE_TEMPLATES_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* The environment variable that moves the library; see core_stdlib_dir. */
#define CORE_STDLIB_ENV "CORE_STDLIB_DIR"

/* The directory `stdlib:NAME` is read from: explicit_dir when not NULL, else $CORE_STDLIB_DIR
 * when set and not empty, else the directory fixed when corec was built (the source tree's
 * stdlib-templates/, passed by the Makefile as CORE_STDLIB_DIR_BUILTIN). Never NULL. */
const char *core_stdlib_dir(const char *explicit_dir);

/* The directory fixed when corec was built. */
const char *core_stdlib_builtin_dir(void);

/* Template names are [a-z0-9][a-z0-9-]*, so a reference can never leave the directory. */
bool core_stdlib_name_valid(const char *name);

/* DIR/NAME.yml; NULL when out of memory. The caller frees it. */
char *core_stdlib_path(const char *dir, const char *name);

typedef struct core_stdlib_entry {
  char *name;        /* without ".yml" */
  char *description; /* the first line of the template's header comment, "" when it has none */
} core_stdlib_entry;

/* The templates in dir, sorted by name. *out is NULL when there are none. */
int core_stdlib_list(const char *dir, core_stdlib_entry **out, size_t *n, core_error **err);
void core_stdlib_list_free(core_stdlib_entry *v, size_t n);

/* The one-line description of a template: its first line, without the leading "# ". */
int core_stdlib_describe(const char *path, char **out, core_error **err);

#endif
