/* libFuzzer target for the app.yml front end: the text is written to a file and loaded through
 * core_app_load, as corec loads an app (includes, variables with a few --var values, LinuxKit
 * lowering, the check); and it goes through the variable expander alone (as a string and as a
 * whole document). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "expand.h"
#include "load.h"
#include "yaml_edit.h"

static const char *lookup(void *ctx, const char *name, size_t len) {
  (void)ctx;
  if (len == 4 && memcmp(name, "PORT", 4) == 0) return "8080";
  if (len == 5 && memcmp(name, "EMPTY", 5) == 0) return "";
  return NULL;
}

static void expand_string(const uint8_t *data, size_t size) {
  core_expand_hooks h = {.lookup = lookup};
  core_expand_problem first;
  char *out = NULL;
  size_t out_len = 0;
  if (core_expand_string((const char *)data, size, &h, &out, &out_len, &first) == 1) {
    if (out[out_len] != 0) abort(); /* the result is always NUL-terminated */
    free(out);
  } else if (out != NULL) {
    abort(); /* nothing is handed out on failure */
  }
}

/* Parse, copy into a plain tree (as includes do), expand with a few --var values. */
static void expand_doc(const uint8_t *data, size_t size) {
  core_diag *d = core_diag_new("fuzz.yml");
  core_yaml_doc *doc = NULL, *plain = core_yaml_doc_new("fuzz.yml");
  if (d == NULL || plain == NULL) goto out;
  if (core_yaml_parse("fuzz.yml", (const char *)data, size, d, &doc) < 0) goto out;
  if (core_yaml_doc_add_source(plain, "fuzz.yml", (const char *)data, size) == NULL) goto out;
  if (doc->root && (plain->root = core_yaml_copy(plain, doc->root, 400000)) == NULL) goto out;
  static const char *const vars[] = {"PORT=80", "NAME=fuzz", "UNUSED=1"};
  static const char *const env_vars[] = {"HOME"};
  core_expand_opts o = {vars, 3, env_vars, 1};
  core_expand_doc(plain, &o, d);
  free(core_diag_render(d));
out:
  core_yaml_doc_free(doc);
  core_yaml_doc_free(plain);
  core_diag_free(d);
}

/* One directory for the run, holding app.yml (rewritten per input) and inc.yml, a file an
 * input may include ("include: [inc.yml]") to reach merging; the stdlib: templates are there
 * too. The loader reads the file by path as corec does, so its hostile-file rules run as well. */
static char dir[] = "/tmp/core-fuzz-app-XXXXXX", app_path[64], inc[64];

static void remove_dir(void) {
  unlink(app_path);
  unlink(inc);
  rmdir(dir);
}

static void setup_dir(void) {
  if (app_path[0]) return;
  if (mkdtemp(dir) == NULL) abort();
  snprintf(inc, sizeof inc, "%s/inc.yml", dir);
  FILE *f = fopen(inc, "w");
  if (f == NULL) abort();
  fputs("variables: {PORT: \"80\"}\nname: inc\nkernel: {source: k}\nfiles: [{path: /a, contents: x}]\n"
        "services: [{name: s, run: [\"/bin/s\", \"${PORT}\"]}]\n",
        f);
  if (fclose(f) != 0) abort();
  snprintf(app_path, sizeof app_path, "%s/app.yml", dir);
  atexit(remove_dir);
}

static void load(const uint8_t *data, size_t size) {
  setup_dir();
  FILE *f = fopen(app_path, "w");
  if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) abort();
  static const char *vars[] = {"PORT=8080", "NAME=fuzz"};
  static const char *env_vars[] = {"HOME"};
  char *warnings = NULL;
  core_load_opts o = {.vars = vars, .n_vars = 2, .env_vars = env_vars, .n_env_vars = 1, .warnings = &warnings};
  core_app_config *cfg = NULL;
  core_error *err = NULL;
  if (core_app_load(app_path, &o, &cfg, &err) == 0) {
    if (cfg == NULL || err != NULL) abort(); /* success hands out a config and no error */
    core_app_config_free(cfg);
    free(warnings);
  } else if (cfg != NULL || err == NULL || err->msg == NULL) {
    abort(); /* failure leaves *out alone and says why */
  } else {
    core_error_free(err);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  load(data, size);
  expand_string(data, size);
  expand_doc(data, size);
  return 0;
}
