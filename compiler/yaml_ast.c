/* YAML -> tree with positions, from libyaml's events. This file is the libyaml adapter of
 * the error type: libyaml's problem and mark become diagnostics. */
#include "yaml_ast.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cleanup.h"
#include "fsutil.h"
#include "input_file.h"

#define YAML_TAG_PREFIX "tag:yaml.org,2002:"

/* A collection being built: its node and what it has so far. */
typedef struct frame {
  core_yaml_node *node;
  char *anchor;        /* registered when the collection ends; aliases to it inside are cycles */
  size_t cap;          /* of node->items or node->pairs */
  core_yaml_node *key; /* mappings: a key waiting for its value */
  bool drop_value;     /* mappings: the key was not a scalar, so its value is dropped */
  bool flow;           /* written [..] or {..}: its extent is known */
  yaml_mark_t start;
} frame;

typedef struct anchor {
  char *name;
  core_yaml_node *node;
} anchor;

typedef struct parser {
  core_yaml_doc *doc;
  core_diag *diag;
  const char *text;
  size_t len;
  frame stack[CORE_YAML_MAX_DEPTH];
  size_t depth;
  anchor *anchors;
  size_t n_anchors, cap_anchors;
  size_t expanded; /* nodes so far, aliases counted as what they expand to */
  int n_docs;
} parser;

static void node_free(core_yaml_node *n) {
  if (!n->alias) {
    free(n->value);
    free(n->items);
    free(n->pairs);
  }
  free(n);
}

void core_yaml_doc_free(core_yaml_doc *doc) {
  if (doc == NULL) return;
  for (size_t i = 0; i < doc->n_all; i++) node_free(doc->all[i]);
  free(doc->all);
  for (size_t i = 0; i < doc->n_sources; i++) {
    free(doc->sources[i].name);
    free(doc->sources[i].text);
  }
  free(doc->sources);
  free(doc->file);
  free(doc);
}

static void parser_deletep(yaml_parser_t *p) { yaml_parser_delete(p); }
static void event_deletep(yaml_event_t *e) { yaml_event_delete(e); }

/* --- positions --- */

/* Byte offset of the start of line (0-based), or len when the text is shorter. */
static size_t line_offset(const char *text, size_t len, size_t line) {
  size_t i = 0;
  for (size_t l = 0; l < line && i < len; l++) {
    while (i < len && text[i] != '\n' && text[i] != '\r') i++;
    if (i < len && text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') i++;
    if (i < len) i++;
  }
  return i;
}

static core_pos pos_of(const parser *p, yaml_mark_t m) {
  return (core_pos){.file = p->doc->file, .line = (int)m.line + 1, .col = (int)m.column + 1};
}

/* Characters from the start mark to the end mark when both are on one line, else to the end
 * of the first line. */
static int span_len(const parser *p, yaml_mark_t start, yaml_mark_t end) {
  if (end.line == start.line) return (int)(end.column - start.column);
  size_t i = line_offset(p->text, p->len, start.line);
  int col = 0, n = 0;
  for (; i < p->len && p->text[i] != '\n' && p->text[i] != '\r'; i++) {
    if (((unsigned char)p->text[i] & 0xC0) == 0x80) continue;
    if (col++ >= (int)start.column) n++;
  }
  return n;
}

/* --- building --- */

core_yaml_node *core_yaml_node_new(core_yaml_doc *doc, core_yaml_kind kind, core_pos pos) {
  if (doc->n_all == doc->cap_all) {
    size_t cap = doc->cap_all ? doc->cap_all * 2 : 64;
    core_yaml_node **all = realloc(doc->all, cap * sizeof *all);
    if (all == NULL) return NULL;
    doc->all = all;
    doc->cap_all = cap;
  }
  core_yaml_node *n = calloc(1, sizeof *n);
  if (n == NULL) return NULL;
  doc->all[doc->n_all++] = n;
  n->kind = kind;
  n->pos = pos;
  n->weight = 1;
  return n;
}

static core_yaml_node *node_new(parser *p, core_yaml_kind kind, const yaml_event_t *e) {
  return core_yaml_node_new(p->doc, kind, pos_of(p, e->start_mark));
}

static int oom(parser *p) {
  core_diag_error(p->diag, NULL, 0, NULL, "out of memory while reading YAML");
  return -1;
}

static char *tag_short(const char *tag, char *buf, size_t size) {
  if (strncmp(tag, YAML_TAG_PREFIX, strlen(YAML_TAG_PREFIX)) == 0)
    snprintf(buf, size, "!!%s", tag + strlen(YAML_TAG_PREFIX));
  else
    snprintf(buf, size, "%s", tag);
  return buf;
}

/* Tags would change what a node means; only the ones that say what it already is pass. */
static int check_tag(parser *p, core_yaml_node *n, const yaml_char_t *tag_u) {
  const char *tag = (const char *)tag_u;
  if (tag == NULL) return 0;
  static const char *const expected[] = {
      [CORE_YAML_SCALAR] = YAML_TAG_PREFIX "str",
      [CORE_YAML_SEQUENCE] = YAML_TAG_PREFIX "seq",
      [CORE_YAML_MAPPING] = YAML_TAG_PREFIX "map",
  };
  if (strcmp(tag, expected[n->kind]) == 0 || strcmp(tag, "!") == 0) {
    n->tagged_str = n->kind == CORE_YAML_SCALAR;
    return 0;
  }
  char buf[128];
  core_diag_error(p->diag, &n->pos, n->len, "remove the tag; a value's type comes from the key it is given to",
                  "YAML tag '%s' is not supported here", tag_short(tag, buf, sizeof buf));
  core_diag_set_private(p->diag, "a YAML tag is not supported here");
  return 0; /* the tree stays usable: the tag is ignored */
}

static int count_nodes(parser *p, size_t n, const core_pos *pos, int len, const char *alias) {
  if (n <= CORE_YAML_MAX_NODES - p->expanded) {
    p->expanded += n;
    return 0;
  }
  if (alias)
    core_diag_error(p->diag, pos, len, "aliases that expand into aliases multiply; write the values out instead",
                    "alias '*%s' makes the document larger than %d nodes", alias, CORE_YAML_MAX_NODES);
  if (alias) core_diag_set_private(p->diag, "an alias makes the document too large");
  else
    core_diag_error(p->diag, pos, len, NULL, "the document has more than %d nodes", CORE_YAML_MAX_NODES);
  return -1;
}

static int register_anchor(parser *p, const char *name, core_yaml_node *n) {
  /* A later anchor of the same name replaces the earlier one for the aliases after it. */
  for (size_t i = 0; i < p->n_anchors; i++)
    if (strcmp(p->anchors[i].name, name) == 0) {
      p->anchors[i].node = n;
      return 0;
    }
  if (p->n_anchors == p->cap_anchors) {
    size_t cap = p->cap_anchors ? p->cap_anchors * 2 : 8;
    anchor *a = realloc(p->anchors, cap * sizeof *a);
    if (a == NULL) return oom(p);
    p->anchors = a;
    p->cap_anchors = cap;
  }
  char *copy = strdup(name);
  if (copy == NULL) return oom(p);
  p->anchors[p->n_anchors++] = (anchor){copy, n};
  return 0;
}

static int dup_key_cmp(const void *a, const void *b) {
  const core_yaml_pair *x = *(const core_yaml_pair *const *)a, *y = *(const core_yaml_pair *const *)b;
  size_t lx = x->key->value_len, ly = y->key->value_len;
  int c = memcmp(x->key->value, y->key->value, lx < ly ? lx : ly);
  if (c) return c;
  if (lx != ly) return lx < ly ? -1 : 1;
  return x < y ? -1 : x > y; /* equal keys stay in the order written */
}

/* Reports every key written twice (at the second, with a note at the first) and keeps only
 * the first. Sorting keeps this O(n log n) for large mappings. */
static int remove_duplicate_keys(parser *p, core_yaml_node *map) {
  if (map->n_pairs < 2) return 0;
  core_yaml_pair **sorted = malloc(map->n_pairs * sizeof *sorted);
  bool *drop = calloc(map->n_pairs, sizeof *drop);
  if (sorted == NULL || drop == NULL) {
    free(sorted);
    free(drop);
    return oom(p);
  }
  for (size_t i = 0; i < map->n_pairs; i++) sorted[i] = &map->pairs[i];
  qsort(sorted, map->n_pairs, sizeof *sorted, dup_key_cmp);
  bool any = false;
  for (size_t i = 1, first = 0; i < map->n_pairs; i++) {
    const core_yaml_node *a = sorted[first]->key, *b = sorted[i]->key;
    if (a->value_len != b->value_len || memcmp(a->value, b->value, a->value_len) != 0) {
      first = i;
      continue;
    }
    char kb[80];
    core_diag_excerpt(b->value, kb, sizeof kb);
    core_diag_error(p->diag, &b->pos, b->len, NULL, "duplicate key '%s'", kb);
    core_diag_set_private(p->diag, "duplicate key");
    core_diag_note(p->diag, &a->pos, a->len, "'%s' first given here", kb);
    core_diag_set_private(p->diag, "first given here");
    drop[sorted[i] - map->pairs] = true;
    any = true;
  }
  if (any) {
    size_t k = 0;
    for (size_t i = 0; i < map->n_pairs; i++)
      if (!drop[i]) map->pairs[k++] = map->pairs[i];
    map->n_pairs = k;
  }
  free(sorted);
  free(drop);
  return 0;
}

/* Hangs a finished node on the collection being built, or makes it the root. */
static int attach(parser *p, core_yaml_node *n) {
  if (p->depth == 0) {
    p->doc->root = n;
    return 0;
  }
  frame *f = &p->stack[p->depth - 1];
  core_yaml_node *parent = f->node;
  parent->weight += n->weight;
  if (parent->kind == CORE_YAML_SEQUENCE) {
    if (parent->n_items == f->cap) {
      size_t cap = f->cap ? f->cap * 2 : 4;
      core_yaml_node **items = realloc(parent->items, cap * sizeof *items);
      if (items == NULL) return oom(p);
      parent->items = items;
      f->cap = cap;
    }
    parent->items[parent->n_items++] = n;
    return 0;
  }
  if (f->key == NULL && !f->drop_value) {
    if (n->kind != CORE_YAML_SCALAR) {
      core_diag_error(p->diag, &n->pos, n->len, NULL, "mapping keys must be strings, not %s",
                      n->kind == CORE_YAML_MAPPING ? "mappings" : "sequences");
      f->drop_value = true;
    } else {
      f->key = n;
    }
    return 0;
  }
  if (f->drop_value) {
    f->drop_value = false;
    return 0;
  }
  if (parent->n_pairs == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 4;
    core_yaml_pair *pairs = realloc(parent->pairs, cap * sizeof *pairs);
    if (pairs == NULL) return oom(p);
    parent->pairs = pairs;
    f->cap = cap;
  }
  parent->pairs[parent->n_pairs++] = (core_yaml_pair){f->key, n};
  f->key = NULL;
  return 0;
}

static int on_scalar(parser *p, const yaml_event_t *e) {
  core_yaml_node *n = node_new(p, CORE_YAML_SCALAR, e);
  if (n == NULL) return oom(p);
  n->len = span_len(p, e->start_mark, e->end_mark);
  n->value_len = e->data.scalar.length;
  n->value = malloc(n->value_len + 1);
  if (n->value == NULL) return oom(p);
  memcpy(n->value, e->data.scalar.value, n->value_len);
  n->value[n->value_len] = 0;
  switch (e->data.scalar.style) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE: n->style = CORE_YAML_SINGLE_QUOTED; break;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: n->style = CORE_YAML_DOUBLE_QUOTED; break;
    case YAML_LITERAL_SCALAR_STYLE: n->style = CORE_YAML_LITERAL; break;
    case YAML_FOLDED_SCALAR_STYLE: n->style = CORE_YAML_FOLDED; break;
    default: n->style = CORE_YAML_PLAIN; break;
  }
  if (count_nodes(p, 1, &n->pos, n->len, NULL) < 0) return -1;
  if (check_tag(p, n, e->data.scalar.tag) < 0) return -1;
  if (e->data.scalar.anchor && register_anchor(p, (const char *)e->data.scalar.anchor, n) < 0) return -1;
  return attach(p, n);
}

static int on_alias(parser *p, const yaml_event_t *e) {
  const char *name = (const char *)e->data.alias.anchor;
  core_pos pos = pos_of(p, e->start_mark);
  int len = span_len(p, e->start_mark, e->end_mark);
  for (size_t i = 0; i < p->depth; i++)
    if (p->stack[i].anchor && strcmp(p->stack[i].anchor, name) == 0) {
      core_diag_error(p->diag, &pos, len, NULL, "alias '*%s' refers to a node that contains it", name);
      core_diag_set_private(p->diag, "an alias refers to a node that contains it");
      core_diag_note(p->diag, &p->stack[i].node->pos, 0, "anchor '&%s' is defined here", name);
      core_diag_set_private(p->diag, "its anchor is defined here");
      return -1;
    }
  core_yaml_node *target = NULL;
  for (size_t i = 0; i < p->n_anchors; i++)
    if (strcmp(p->anchors[i].name, name) == 0) target = p->anchors[i].node;
  if (target == NULL) {
    core_diag_error(p->diag, &pos, len, "define it first with '&' on an earlier node", "unknown anchor '%s'",
                    name);
    core_diag_set_private(p->diag, "an alias names an unknown anchor");
    return -1;
  }
  if (count_nodes(p, target->weight, &pos, len, name) < 0) return -1;
  core_yaml_node *n = node_new(p, target->kind, e);
  if (n == NULL) return oom(p);
  /* Shares the target's contents; only the position is the alias's own. */
  core_pos keep = n->pos;
  *n = *target;
  n->pos = keep;
  n->len = len;
  n->alias = true;
  return attach(p, n);
}

static int on_collection_start(parser *p, const yaml_event_t *e, core_yaml_kind kind) {
  const yaml_char_t *anchor_u = kind == CORE_YAML_MAPPING ? e->data.mapping_start.anchor : e->data.sequence_start.anchor;
  const yaml_char_t *tag = kind == CORE_YAML_MAPPING ? e->data.mapping_start.tag : e->data.sequence_start.tag;
  core_yaml_node *n = node_new(p, kind, e);
  if (n == NULL) return oom(p);
  if (p->depth == CORE_YAML_MAX_DEPTH) {
    core_diag_error(p->diag, &n->pos, 0, NULL, "collections are nested more than %d deep", CORE_YAML_MAX_DEPTH);
    return -1;
  }
  if (count_nodes(p, 1, &n->pos, 0, NULL) < 0) return -1;
  if (check_tag(p, n, tag) < 0) return -1;
  frame *f = &p->stack[p->depth++];
  *f = (frame){.node = n, .start = e->start_mark};
  f->flow = kind == CORE_YAML_MAPPING ? e->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
                                      : e->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
  if (anchor_u && (f->anchor = strdup((const char *)anchor_u)) == NULL) return oom(p);
  return 0;
}

static int on_collection_end(parser *p, const yaml_event_t *e) {
  frame *f = &p->stack[--p->depth];
  core_yaml_node *n = f->node;
  if (f->flow) n->len = span_len(p, f->start, e->end_mark);
  char *anchor_name = f->anchor;
  f->anchor = NULL;
  int rc = 0;
  if (n->kind == CORE_YAML_MAPPING) rc = remove_duplicate_keys(p, n);
  if (rc == 0 && anchor_name) rc = register_anchor(p, anchor_name, n);
  free(anchor_name);
  if (rc < 0) return -1;
  return attach(p, n);
}

/* libyaml says "found character that cannot start any token" or "found a tab character
 * that violates indentation" for tabs at the start of a line; say what to do instead. */
static bool report_tab(parser *p, yaml_mark_t mark) {
  size_t i = line_offset(p->text, p->len, mark.line);
  int col = 0;
  for (; i < p->len && (p->text[i] == ' ' || p->text[i] == '\t'); i++, col++) {
    if (p->text[i] != '\t') continue;
    core_pos pos = {.file = p->doc->file, .line = (int)mark.line + 1, .col = col + 1};
    core_diag_error(p->diag, &pos, 1, NULL, "tabs are not allowed for indentation; use spaces");
    return true;
  }
  return false;
}

static void report_libyaml(parser *p, const yaml_parser_t *y) {
  switch (y->error) {
    case YAML_MEMORY_ERROR:
      oom(p);
      return;
    case YAML_READER_ERROR: {
      /* Reader errors carry a byte offset, not a mark. */
      core_pos pos = {.file = p->doc->file, .line = 1, .col = 1};
      for (size_t i = 0; i < y->problem_offset && i < p->len; i++) {
        if (p->text[i] == '\n' || (p->text[i] == '\r' && (i + 1 >= p->len || p->text[i + 1] != '\n'))) {
          pos.line++;
          pos.col = 1;
        } else if (p->text[i] != '\r' && ((unsigned char)p->text[i] & 0xC0) != 0x80) {
          pos.col++;
        }
      }
      if (y->problem_value != -1)
        core_diag_error(p->diag, &pos, 1, "the file must be UTF-8 text", "%s (byte 0x%02x)", y->problem,
                        (unsigned)y->problem_value);
      else
        core_diag_error(p->diag, &pos, 1, "the file must be UTF-8 text", "%s", y->problem);
      return;
    }
    case YAML_SCANNER_ERROR:
      if (report_tab(p, y->problem_mark)) return;
      __attribute__((fallthrough));
    default: {
      core_pos pos = pos_of(p, y->problem_mark);
      core_diag_error(p->diag, &pos, 0, NULL, "%s", y->problem ? y->problem : "malformed YAML");
      if (y->context && (y->context_mark.line != y->problem_mark.line ||
                         y->context_mark.column != y->problem_mark.column)) {
        core_pos cpos = pos_of(p, y->context_mark);
        core_diag_note(p->diag, &cpos, 0, "%s", y->context);
      }
      return;
    }
  }
}

static int handle(parser *p, const yaml_event_t *e) {
  switch (e->type) {
    case YAML_DOCUMENT_START_EVENT:
      if (++p->n_docs > 1) {
        core_pos pos = pos_of(p, e->start_mark);
        core_diag_error(p->diag, &pos, span_len(p, e->start_mark, e->end_mark),
                        "keep one document: remove this '---' and what follows, or merge it into the first",
                        "a second YAML document starts here; the file must hold exactly one");
        return -1;
      }
      return 0;
    case YAML_SCALAR_EVENT: return on_scalar(p, e);
    case YAML_ALIAS_EVENT: return on_alias(p, e);
    case YAML_SEQUENCE_START_EVENT: return on_collection_start(p, e, CORE_YAML_SEQUENCE);
    case YAML_MAPPING_START_EVENT: return on_collection_start(p, e, CORE_YAML_MAPPING);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: return on_collection_end(p, e);
    default: return 0;
  }
}

int core_yaml_parse(const char *file, const char *text, size_t len, core_diag *diag, core_yaml_doc **out) {
  core_yaml_doc *doc = calloc(1, sizeof *doc);
  /* The text is kept with the tree: positions inside values are found in it later. */
  core_yaml_source *src = calloc(1, sizeof *src);
  if (doc == NULL || src == NULL || (doc->file = strdup(file)) == NULL || (src->name = strdup(file)) == NULL ||
      (src->text = malloc(len + 1)) == NULL) {
    if (src) free(src->name);
    free(src);
    if (doc) free(doc->file);
    free(doc);
    core_diag_error(diag, NULL, 0, NULL, "out of memory while reading YAML");
    return -1;
  }
  if (len) memcpy(src->text, text, len);
  src->text[len] = 0;
  src->len = len;
  doc->sources = src;
  doc->n_sources = 1;
  parser p = {.doc = doc, .diag = diag, .text = text, .len = len};
  __attribute__((cleanup(parser_deletep))) yaml_parser_t y;
  if (!yaml_parser_initialize(&y)) {
    core_yaml_doc_free(doc);
    core_diag_error(diag, NULL, 0, NULL, "out of memory while reading YAML");
    return -1;
  }
  yaml_parser_set_input_string(&y, (const unsigned char *)text, len);
  int rc = 0;
  for (bool done = false; !done && rc == 0;) {
    __attribute__((cleanup(event_deletep))) yaml_event_t e;
    if (!yaml_parser_parse(&y, &e)) {
      memset(&e, 0, sizeof e); /* nothing to delete: libyaml did not fill it */
      report_libyaml(&p, &y);
      rc = -1;
      break;
    }
    done = e.type == YAML_STREAM_END_EVENT;
    rc = handle(&p, &e);
  }
  for (size_t i = 0; i < p.depth; i++) free(p.stack[i].anchor);
  for (size_t i = 0; i < p.n_anchors; i++) free(p.anchors[i].name);
  free(p.anchors);
  if (rc < 0) {
    core_yaml_doc_free(doc);
    return -1;
  }
  *out = doc;
  return 0;
}

int core_yaml_load_file(const char *path, core_yaml_doc **out, core_error **err) {
  __attribute__((cleanup(core_buf_release))) core_buf b = CORE_BUF_INIT;
  if (core_read_input_file(path, CORE_INPUT_MAX_BYTES, &b, err) < 0) return -1;
  cleanup_diag core_diag *d = core_diag_new(path);
  if (d == NULL) return core_error_set(err, ENOMEM, "reading '%s'", path);
  core_diag_set_source(d, path, (const char *)b.data, b.len);
  core_yaml_doc *doc = NULL;
  int parsed = core_yaml_parse(path, (const char *)b.data, b.len, d, &doc);
  if (parsed < 0) core_diag_hide_source(d, path); /* not YAML: possibly anything, never echoed */
  if (parsed < 0 || core_diag_error_count(d) > 0) {
    core_yaml_doc_free(doc);
    return core_diag_to_error(d, err) < 0 ? -1 : core_error_set(err, 0, "'%s': cannot be read as YAML", path);
  }
  *out = doc;
  return 0;
}

/* --- reading the tree --- */

static bool in_list(const char *s, const char *const *list) {
  for (; *list; list++)
    if (strcmp(s, *list) == 0) return true;
  return false;
}

static bool all_digits(const char *s, int base) {
  if (*s == 0) return false;
  for (; *s; s++) {
    bool ok = base == 16 ? ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F'))
                         : (*s >= '0' && *s < '0' + base);
    if (!ok) return false;
  }
  return true;
}

static bool looks_int(const char *s) {
  if (strncmp(s, "0x", 2) == 0) return all_digits(s + 2, 16);
  if (strncmp(s, "0o", 2) == 0) return all_digits(s + 2, 8);
  if (*s == '-' || *s == '+') s++;
  return all_digits(s, 10);
}

static bool looks_float(const char *s) {
  static const char *const special[] = {".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", "+.inf", "+.Inf",
                                        "+.INF", ".nan", ".NaN", ".NAN", NULL};
  if (in_list(s, special)) return true;
  if (*s == '-' || *s == '+') s++;
  size_t int_digits = strspn(s, "0123456789");
  s += int_digits;
  size_t frac_digits = 0;
  if (*s == '.') {
    s++;
    frac_digits = strspn(s, "0123456789");
    s += frac_digits;
  } else if (*s != 'e' && *s != 'E') {
    return false;
  }
  if (int_digits + frac_digits == 0) return false;
  if (*s == 'e' || *s == 'E') {
    s++;
    if (*s == '-' || *s == '+') s++;
    if (!all_digits(s, 10)) return false;
    return true;
  }
  return *s == 0;
}

core_yaml_type core_yaml_scalar_type(const core_yaml_node *n) {
  static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
  static const char *const bools[] = {"true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES",
                                      "no",   "No",   "NO",   "on",    "On",    "Off",   "off", "ON",  "OFF", NULL};
  if (n->kind != CORE_YAML_SCALAR || n->style != CORE_YAML_PLAIN || n->tagged_str) return CORE_YAML_STR;
  if (in_list(n->value, nulls)) return CORE_YAML_NULL;
  if (in_list(n->value, bools)) return CORE_YAML_BOOL;
  if (looks_int(n->value)) return CORE_YAML_INT;
  if (looks_float(n->value)) return CORE_YAML_FLOAT;
  return CORE_YAML_STR;
}

const char *core_yaml_describe(const core_yaml_node *n, char *buf, size_t size) {
  const char *what = NULL;
  if (n->kind == CORE_YAML_MAPPING) what = "a mapping";
  else if (n->kind == CORE_YAML_SEQUENCE) what = "a sequence";
  if (what) {
    snprintf(buf, size, "%s", what);
    return buf;
  }
  switch (core_yaml_scalar_type(n)) {
    case CORE_YAML_NULL:
      snprintf(buf, size, "%s", n->value[0] ? "null" : "an empty value");
      break;
    case CORE_YAML_BOOL: snprintf(buf, size, "the boolean '%.32s'", n->value); break;
    case CORE_YAML_INT: snprintf(buf, size, "the integer %.32s", n->value); break;
    case CORE_YAML_FLOAT: snprintf(buf, size, "the number %.32s", n->value); break;
    case CORE_YAML_STR: snprintf(buf, size, "a string"); break;
  }
  return buf;
}

core_yaml_node *core_yaml_get(const core_yaml_node *map, const char *key) {
  if (map == NULL || map->kind != CORE_YAML_MAPPING) return NULL;
  for (size_t i = 0; i < map->n_pairs; i++)
    if (strcmp(map->pairs[i].key->value, key) == 0) return map->pairs[i].value;
  return NULL;
}
