/* libFuzzer target for the app.yml front end: the text goes through the schema check as it
 * is, and through the variable expander (as a string and as a whole document). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "diag.h"
#include "expand.h"
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  core_app_config *cfg = NULL;
  core_error *err = NULL;
  if (core_app_check_text("fuzz.yml", (const char *)data, size, &cfg, &err) == 0)
    core_app_config_free(cfg);
  else
    core_error_free(err);
  expand_string(data, size);
  expand_doc(data, size);
  return 0;
}
