/* Finding the standard library of templates and reading what each template says it is. */
#include "templates.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fsutil.h"

#ifndef CORE_STDLIB_DIR_BUILTIN
#define CORE_STDLIB_DIR_BUILTIN "/usr/local/share/core/stdlib-templates"
#endif

const char *core_stdlib_builtin_dir(void) { return CORE_STDLIB_DIR_BUILTIN; }

const char *core_stdlib_dir(const char *explicit_dir) {
  if (explicit_dir) return explicit_dir;
  const char *env = getenv(CORE_STDLIB_ENV);
  if (env && *env) return env;
  return core_stdlib_builtin_dir();
}

bool core_stdlib_name_valid(const char *name) {
  if (!((*name >= 'a' && *name <= 'z') || (*name >= '0' && *name <= '9'))) return false;
  for (const char *s = name; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')) return false;
  return true;
}

char *core_stdlib_path(const char *dir, const char *name) {
  char *path = NULL;
  if (asprintf(&path, "%s/%s.yml", dir, name) < 0) return NULL;
  return path;
}

int core_stdlib_describe(const char *path, char **out, core_error **err) {
  cleanup_fclose FILE *f = fopen(path, "r");
  if (f == NULL) return core_error_set(err, errno, "cannot read template '%s'", path);
  char line[512] = "";
  if (fgets(line, sizeof line, f) == NULL) line[0] = 0;
  line[strcspn(line, "\r\n")] = 0;
  const char *text = strncmp(line, "# ", 2) == 0 ? line + 2 : line[0] == '#' ? line + 1 : "";
  if ((*out = strdup(text)) == NULL) return core_error_set(err, ENOMEM, "reading template '%s'", path);
  return 0;
}

void core_stdlib_list_free(core_stdlib_entry *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) {
    free(v[i].name);
    free(v[i].description);
  }
  free(v);
}

static int entry_cmp(const void *a, const void *b) {
  return strcmp(((const core_stdlib_entry *)a)->name, ((const core_stdlib_entry *)b)->name);
}

int core_stdlib_list(const char *dir, core_stdlib_entry **out, size_t *n_out, core_error **err) {
  cleanup_closedir DIR *d = opendir(dir);
  if (d == NULL)
    return core_error_set(err, errno, "cannot read the template library '%s'; set %s to where it is", dir,
                          CORE_STDLIB_ENV);
  core_stdlib_entry *v = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len <= 4 || strcmp(e->d_name + len - 4, ".yml") != 0) continue;
    cleanup_free char *name = strndup(e->d_name, len - 4);
    if (name == NULL) goto oom;
    if (!core_stdlib_name_valid(name)) continue; /* not reachable as stdlib:NAME */
    cleanup_free char *path = core_stdlib_path(dir, name);
    core_stdlib_entry *nv = path ? realloc(v, (n + 1) * sizeof *nv) : NULL;
    if (nv == NULL) goto oom;
    v = nv;
    v[n] = (core_stdlib_entry){.name = TAKE_PTR(name)};
    n++;
    if (core_stdlib_describe(path, &v[n - 1].description, err) < 0) {
      core_stdlib_list_free(v, n);
      return -1;
    }
  }
  if (n) qsort(v, n, sizeof *v, entry_cmp);
  *out = v;
  *n_out = n;
  return 0;
oom:
  core_stdlib_list_free(v, n);
  return core_error_set(err, ENOMEM, "listing the template library '%s'", dir);
}
