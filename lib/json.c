/* JSON helpers over jansson. */
#include "json.h"

#include <errno.h>
#include <string.h>

static int dump(const json_t *j, size_t flags, core_buf *out, core_error **err) {
  char *s = json_dumps(j, flags);
  if (s == NULL) return core_error_set(err, ENOMEM, "encoding JSON");
  core_buf b = {(uint8_t *)s, strlen(s), strlen(s) + 1};
  *out = b;
  return 0;
}

int core_json_dump(const json_t *j, core_buf *out, core_error **err) {
  return dump(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY, out, err);
}

int core_json_dump_pretty(const json_t *j, core_buf *out, core_error **err) {
  if (dump(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY, out, err) < 0) return -1;
  return core_buf_append(out, "\n", 1, err);
}

int core_json_parse(const void *data, size_t len, json_t **out, core_error **err) {
  json_error_t jerr;
  /* Duplicate keys are refused: two readers must never see two different documents. */
  json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
  if (j == NULL) return core_error_set(err, 0, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
  *out = j;
  return 0;
}
