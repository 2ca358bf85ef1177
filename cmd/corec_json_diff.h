/* The differences between two JSON documents as dotted paths ("kernel.cmdline"), for corec
 * diff's config comparison. Objects are compared key by key, recursively; anything else
 * (arrays included: their order matters, e.g. module load order) is one value. */
#ifndef CORE_COREC_JSON_DIFF_H
#define CORE_COREC_JSON_DIFF_H

#include <jansson.h>

#include "error.h"

/* Appends to OUT (an array) one object per difference, in key order: {"path": P, "a": VALUE,
 * "b": VALUE}, where a side on which the key is absent has no "a" (or "b"). PREFIX is the path
 * of A and B themselves ("" at the top). */
int corec_json_diff(const json_t *a, const json_t *b, const char *prefix, json_t *out, core_error **err);

/* Two maps (objects: key -> value) compared as sets of keys, for corec diff's sources (name ->
 * {uri, digest}) and packages (name -> version). Sets OUT's "added" and "removed" (one entry per
 * key of one side only: the value's fields, or {VALUE_NAME: value} when it is not an object, with
 * KEY_NAME: key) and "changed" ({KEY_NAME: key, "a": value, "b": value} for a key whose values
 * differ), each in key order. */
int corec_json_diff_maps(const json_t *a, const json_t *b, const char *key_name, const char *value_name, json_t *out,
                         core_error **err);

#endif
