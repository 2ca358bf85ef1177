/* corec init (a starter app.yml from stdlib templates) and corec templates (what the
 * standard library holds). */
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "corec.h"
#include "starter.h"
#include "templates.h"

static const char init_help[] =
    "usage: corec init [--template NAME] [DIR]\n"
    "\n"
    "Writes DIR/app.yml (DIR defaults to the current directory and is made when missing): an\n"
    "appliance named after DIR that includes stdlib:kernel-cloud, stdlib:busybox and, with\n"
    "--template, stdlib:NAME. An existing app.yml is never overwritten. 'corec templates' lists\n"
    "the templates.\n";

int corec_init(int argc, char **argv, core_error **err) {
  const char *dir = NULL, *template_name = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(init_help, stdout);
      return 0;
    }
    if (strcmp(argv[i], "--template") == 0 && i + 1 < argc) {
      template_name = argv[++i];
    } else if (strncmp(argv[i], "--template=", 11) == 0) {
      template_name = argv[i] + 11;
    } else if (argv[i][0] != '-' && dir == NULL) {
      dir = argv[i];
    } else {
      fputs(init_help, stderr);
      return 2;
    }
  }
  cleanup_free char *path = NULL;
  if (core_starter_write(dir ? dir : ".", template_name, NULL, &path, err) < 0) return -1;
  fprintf(stderr, "corec: wrote %s; build it with: corec build %s -o app.tim\n", path, path);
  return 0;
}

static const char templates_help[] =
    "usage: corec templates\n"
    "\n"
    "Lists the standard library of app.yml templates, used as 'include: [stdlib:NAME]'. They are\n"
    "read from $CORE_STDLIB_DIR when set, else from the directory corec was built with.\n";

int corec_templates(int argc, char **argv, core_error **err) {
  if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    fputs(templates_help, stdout);
    return 0;
  }
  if (argc != 1) {
    fputs(templates_help, stderr);
    return 2;
  }
  const char *dir = core_stdlib_dir(NULL);
  core_stdlib_entry *v = NULL;
  size_t n = 0;
  if (core_stdlib_list(dir, &v, &n, err) < 0) return -1;
  for (size_t i = 0; i < n; i++) printf("%-16s %s\n", v[i].name, v[i].description);
  if (n == 0) fprintf(stderr, "corec: no templates in %s\n", dir);
  core_stdlib_list_free(v, n);
  return 0;
}
