/* The starter app.yml of `corec init`: a name from the directory, the stdlib templates to
 * include, and a main that proves the appliance boots. */
#include "starter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "diag.h"
#include "fsutil.h"
#include "include.h"
#include "templates.h"

/* What a template brings that decides the starter's main. */
static int template_shape(const char *name, const char *stdlib_dir, bool *has_main, bool *has_services,
                          core_error **err) {
  if (!core_stdlib_name_valid(name))
    return core_error_set(err, 0, "invalid template name '%s'; run 'corec templates' to list them", name);
  const char *dir = core_stdlib_dir(stdlib_dir);
  cleanup_free char *path = core_stdlib_path(dir, name);
  if (path == NULL) return core_error_set(err, ENOMEM, "reading template '%s'", name);
  if (access(path, R_OK) < 0)
    return core_error_set(err, errno, "unknown template '%s' (looked in %s); run 'corec templates' to list them", name,
                          dir);
  cleanup_diag core_diag *d = core_diag_new(path);
  cleanup_yaml_doc core_yaml_doc *doc = NULL;
  if (d == NULL) return core_error_set(err, ENOMEM, "reading template '%s'", name);
  if (core_include_load(path, NULL, 0, stdlib_dir, d, &doc) < 0 || core_diag_error_count(d) > 0) {
    core_diag_to_error(d, err);
    return core_error_wrap(err, "template '%s' is broken", name);
  }
  *has_main = core_yaml_get(doc->root, "main") != NULL;
  *has_services = core_yaml_get(doc->root, "services") != NULL;
  return 0;
}

int core_starter_text(const char *name, const char *template_name, const char *stdlib_dir, char **out,
                      core_error **err) {
  bool has_main = false, has_services = false;
  if (template_name && template_shape(template_name, stdlib_dir, &has_main, &has_services, err) < 0) return -1;
  bool extra = template_name && strcmp(template_name, "kernel-cloud") != 0 && strcmp(template_name, "busybox") != 0;
  const char *main_line = "";
  char main_buf[256];
  if (!has_main) {
    if (has_services)
      snprintf(main_buf, sizeof main_buf,
               "# The services run while main does: this one keeps the VM up until it is stopped.\n"
               "main: [\"/bin/sh\", \"-c\", \"echo '%s is up'; exec sleep 2147483647\"]\n",
               name);
    else
      snprintf(main_buf, sizeof main_buf, "main: [\"/bin/sh\", \"-c\", \"echo 'Hello from %s!'\"]\n", name);
    main_line = main_buf;
  }
  if (asprintf(out,
               "# %s: made by 'corec init'. The templates are listed by 'corec templates';\n"
               "# the language is described in spec/app.yml.md.\n"
               "# Build and boot:  corec build app.yml -o %s.tim && corerun %s.tim\n"
               "name: %s\n"
               "include:\n"
               "  - stdlib:kernel-cloud\n"
               "  - stdlib:busybox\n"
               "%s%s%s"
               "%s",
               name, name, name, name, extra ? "  - stdlib:" : "", extra ? template_name : "", extra ? "\n" : "",
               main_line) < 0)
    return core_error_set(err, ENOMEM, "making the starter app.yml");
  return 0;
}

/* An app name from a directory name: lowercase, other characters become '-'. */
static void name_from_dir(const char *dir, char *name, size_t size) {
  cleanup_free char *real = realpath(dir, NULL);
  const char *base = real ? strrchr(real, '/') : NULL;
  base = base && base[1] ? base + 1 : "app";
  size_t k = 0;
  for (; *base && k + 1 < size && k < 63; base++) {
    char c = *base >= 'A' && *base <= 'Z' ? (char)(*base - 'A' + 'a') : *base;
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (k > 0 && (c == '.' || c == '_' || c == '-'));
    if (ok || k > 0) name[k++] = ok ? c : '-';
  }
  name[k] = 0;
  if (k == 0) snprintf(name, size, "app");
}

int core_starter_write(const char *dir, const char *template_name, const char *stdlib_dir, char **path_out,
                       core_error **err) {
  if (core_mkdir_p(dir, 0755, err) < 0) return -1;
  cleanup_free char *path = core_path_join(dir, "app.yml");
  if (path == NULL) return core_error_set(err, ENOMEM, "making the starter app.yml");
  struct stat st;
  if (lstat(path, &st) == 0)
    return core_error_set(err, EEXIST, "'%s' already exists; remove it or choose another directory", path);
  char name[64];
  name_from_dir(dir, name, sizeof name);
  cleanup_free char *text = NULL;
  if (core_starter_text(name, template_name, stdlib_dir, &text, err) < 0) return -1;
  if (core_write_file_atomic(path, text, strlen(text), 0644, err) < 0) return -1;
  if (path_out) *path_out = TAKE_PTR(path);
  return 0;
}
