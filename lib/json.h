/* JSON through jansson, with the one canonical output form used for every digest. */
#ifndef CORE_JSON_H
#define CORE_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"
#include "error.h"

static inline void core_json_decrefp(json_t **j) {
  json_decref(*j);
  *j = NULL;
}
#define cleanup_json __attribute__((cleanup(core_json_decrefp)))

/* Canonical form: keys sorted, no insignificant white space, no trailing newline. Two equal
 * documents always give the same bytes, and so the same digest. */
int core_json_dump(const json_t *j, core_buf *out, core_error **err);
/* Pretty form for people (sorted, indented, trailing newline). */
int core_json_dump_pretty(const json_t *j, core_buf *out, core_error **err);
int core_json_parse(const void *data, size_t len, json_t **out, core_error **err);

#endif
