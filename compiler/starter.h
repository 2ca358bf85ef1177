/* `corec init`: the starter app.yml for a new appliance, made of stdlib templates. */
#ifndef CORE_STARTER_H
#define CORE_STARTER_H

#include "error.h"

/* The text of a starter app called name: it includes stdlib:kernel-cloud, stdlib:busybox
 * and, when template_name is not NULL, stdlib:TEMPLATE (checked to exist in stdlib_dir, NULL:
 * see core_stdlib_dir), and has a main that says hello unless the template brings one (a
 * template with services gets a main that keeps the VM up). The caller frees *out. */
int core_starter_text(const char *name, const char *template_name, const char *stdlib_dir, char **out,
                      core_error **err);

/* Writes DIR/app.yml (DIR is made when missing) from the starter, named after DIR. Refuses
 * to overwrite an existing app.yml. *path_out, when not NULL, receives the path written. */
int core_starter_write(const char *dir, const char *template_name, const char *stdlib_dir, char **path_out,
                       core_error **err);

#endif
