/* The LinuxKit front end's shared pieces: LinuxKit's schema types, checked with messages in
 * LinuxKit's terms, and tree builders that remember running out of memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linuxkit_internal.h"

static void type_error(lk *l, const core_yaml_node *n, const char *what, const char *expected) {
  char found[96];
  core_yaml_describe(n, found, sizeof found);
  const char *hint = NULL;
  char hb[128];
  if (n->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(n) == CORE_YAML_BOOL) {
    snprintf(hb, sizeof hb, "put it in quotes if it is meant as text: \"%.64s\"", n->value);
    hint = hb;
  }
  core_diag_error(l->d, &n->pos, n->len, hint, "'%s' must be %s, found %s", what, expected, found);
}

const char *lk_string(lk *l, const core_yaml_node *n, const char *what) {
  if (n->kind == CORE_YAML_SCALAR) {
    core_yaml_type t = core_yaml_scalar_type(n);
    if (t != CORE_YAML_NULL && t != CORE_YAML_BOOL) {
      if (strlen(n->value) == n->value_len) return n->value;
      core_diag_error(l->d, &n->pos, n->len, NULL, "'%s' must not contain NUL characters", what);
      return NULL;
    }
  }
  type_error(l, n, what, "a string");
  return NULL;
}

bool lk_strings(lk *l, const core_yaml_node *n, const char *what) {
  if (n->kind != CORE_YAML_SEQUENCE) {
    type_error(l, n, what, "a sequence of strings");
    return false;
  }
  bool ok = true;
  for (size_t i = 0; i < n->n_items; i++) {
    char w[96];
    snprintf(w, sizeof w, "%s[%zu]", what, i);
    ok &= lk_string(l, n->items[i], w) != NULL;
  }
  return ok;
}

bool lk_mapping(lk *l, const core_yaml_node *n, const char *what) {
  if (n->kind == CORE_YAML_MAPPING) return true;
  type_error(l, n, what, "a mapping");
  return false;
}

bool lk_sequence(lk *l, const core_yaml_node *n, const char *what, const char *expected) {
  if (n->kind == CORE_YAML_SEQUENCE) return true;
  type_error(l, n, what, expected);
  return false;
}

bool lk_bool(lk *l, const core_yaml_node *n, const char *what, bool *out) {
  /* LinuxKit reads YAML 1.2, where yes/no/on/off are strings. */
  static const char *const words[] = {"true", "True", "TRUE", "false", "False", "FALSE"};
  if (n->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(n) == CORE_YAML_BOOL)
    for (size_t i = 0; i < 6; i++)
      if (strcmp(n->value, words[i]) == 0) {
        *out = i < 3;
        return true;
      }
  if (n->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(n) == CORE_YAML_BOOL) {
    core_diag_error(l->d, &n->pos, n->len, "LinuxKit reads YAML 1.2, where yes, no, on and off are strings",
                    "'%s' must be true or false, found '%.32s'", what, n->value);
    return false;
  }
  type_error(l, n, what, "true or false");
  return false;
}

bool lk_id(lk *l, const core_yaml_node *n, const char *what, unsigned long *out) {
  if (n->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(n) == CORE_YAML_INT) {
    const char *s = n->value;
    char *end;
    unsigned long v = s[0] == '-' ? 0 : strtoul(s, &end, 0);
    bool decimal = strspn(s, "0123456789") == strlen(s);
    if (!decimal || v > 4294967294UL || (s[0] == '0' && s[1])) {
      core_diag_error(l->d, &n->pos, n->len, NULL, "'%s' must be a decimal id from 0 to 4294967294, found %.32s",
                      what, s);
      return false;
    }
    *out = v;
    return true;
  }
  const char *s = lk_string(l, n, what);
  if (s == NULL) return false;
  if (*s == 0 || strcmp(s, "root") == 0) {
    *out = 0;
    return true;
  }
  char vb[64];
  core_diag_error(l->d, &n->pos, n->len, "write the number instead",
                  "'%s' names the id LinuxKit allocates to container '%s'; core allocates no ids per container",
                  what, core_diag_excerpt(s, vb, sizeof vb));
  return false;
}

core_pos lk_char_pos(const core_yaml_node *n, size_t i) {
  core_pos p = n->pos;
  int quote = n->style == CORE_YAML_SINGLE_QUOTED || n->style == CORE_YAML_DOUBLE_QUOTED;
  size_t chars = 0;
  for (size_t k = 0; k < n->value_len; k++) chars += ((unsigned char)n->value[k] & 0xC0) != 0x80;
  bool verbatim = !n->alias && !n->tagged_str && (n->style == CORE_YAML_PLAIN || quote) &&
                  (size_t)n->len == chars + 2 * (size_t)quote;
  for (size_t k = 0; verbatim && k < i; k++) verbatim = (unsigned char)n->value[k] < 0x80;
  if (verbatim) p.col += (int)i + quote;
  return p;
}

/* --- builders --- */

static core_yaml_node *took(lk *l, core_yaml_node *n) {
  if (n == NULL) l->oom = true;
  return n;
}

core_yaml_node *lk_str(lk *l, const core_yaml_node *at, core_yaml_style style, const char *value) {
  return took(l, core_yb_scalar(l->out, at ? &at->pos : NULL, at ? at->len : 0, style, value));
}

core_yaml_node *lk_copy(lk *l, const core_yaml_node *n) { return took(l, core_yb_copy(l->out, n)); }
core_yaml_node *lk_map(lk *l, const core_yaml_node *at) { return took(l, core_yb_mapping(l->out, at ? &at->pos : NULL)); }
core_yaml_node *lk_seq(lk *l, const core_yaml_node *at) { return took(l, core_yb_sequence(l->out, at ? &at->pos : NULL)); }

void lk_put(lk *l, core_yaml_node *map, const char *key, const core_yaml_node *key_at, core_yaml_node *value) {
  const core_pos *pos = key_at ? &key_at->pos : NULL;
  if (core_yb_put(l->out, map, key, pos, key_at ? key_at->len : 0, value) < 0) l->oom = true;
}

void lk_append(lk *l, core_yaml_node *seq, core_yaml_node *item) {
  if (core_yb_append(seq, item) < 0) l->oom = true;
}

core_yaml_node *lk_oci(lk *l, const core_yaml_node *image) {
  core_yaml_node *m = lk_map(l, image);
  lk_put(l, m, "oci", image, lk_copy(l, image));
  return m;
}

void lk_layer(lk *l, const core_yaml_node *item, const core_yaml_node *image_key, const core_yaml_node *image,
              const char *dest, const core_yaml_node *dest_at) {
  if (l->rootfs == NULL) {
    l->rootfs = lk_seq(l, NULL);
    lk_put(l, l->root, "rootfs", NULL, l->rootfs);
  }
  core_yaml_node *layer = lk_map(l, item);
  lk_put(l, layer, "source", image_key, lk_oci(l, image));
  if (dest) lk_put(l, layer, "dest", dest_at, lk_str(l, dest_at, CORE_YAML_DOUBLE_QUOTED, dest));
  lk_append(l, l->rootfs, layer);
}
