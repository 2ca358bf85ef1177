/* Hand-built YAML trees: nodes registered in their document's list so that core_yaml_doc_free
 * frees them like parsed ones, and a canonical printer for tests and debugging. */
#include "yaml_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

/* Registers a zeroed node first, so that whatever happens next the document can free it. */
static core_yaml_node *node_new(core_yaml_doc *doc, core_yaml_kind kind, const core_pos *pos) {
  core_pos at = pos ? *pos : (core_pos){0};
  at.file = doc->file;
  return core_yaml_node_new(doc, kind, at);
}

static core_yaml_node *scalar_n(core_yaml_doc *doc, const core_pos *pos, int len, core_yaml_style style,
                                const char *value, size_t value_len) {
  core_yaml_node *n = node_new(doc, CORE_YAML_SCALAR, pos);
  if (n == NULL || (n->value = malloc(value_len + 1)) == NULL) return NULL;
  memcpy(n->value, value, value_len);
  n->value[value_len] = 0;
  n->value_len = value_len;
  n->style = style;
  n->len = len;
  return n;
}

core_yaml_node *core_yb_scalar(core_yaml_doc *doc, const core_pos *pos, int len, core_yaml_style style,
                               const char *value) {
  return scalar_n(doc, pos, len, style, value, strlen(value));
}

core_yaml_node *core_yb_mapping(core_yaml_doc *doc, const core_pos *pos) {
  return node_new(doc, CORE_YAML_MAPPING, pos);
}

core_yaml_node *core_yb_sequence(core_yaml_doc *doc, const core_pos *pos) {
  return node_new(doc, CORE_YAML_SEQUENCE, pos);
}

core_yaml_node *core_yb_copy(core_yaml_doc *doc, const core_yaml_node *src) {
  if (src == NULL) return NULL;
  core_yaml_node *n;
  switch (src->kind) {
    case CORE_YAML_SCALAR:
      n = scalar_n(doc, &src->pos, src->len, src->style, src->value, src->value_len);
      if (n) n->tagged_str = src->tagged_str;
      return n;
    case CORE_YAML_SEQUENCE:
      if ((n = core_yb_sequence(doc, &src->pos)) == NULL) return NULL;
      n->len = src->len;
      for (size_t i = 0; i < src->n_items; i++)
        if (core_yb_append(n, core_yb_copy(doc, src->items[i])) < 0) return NULL;
      return n;
    case CORE_YAML_MAPPING:
      if ((n = core_yb_mapping(doc, &src->pos)) == NULL) return NULL;
      n->len = src->len;
      for (size_t i = 0; i < src->n_pairs; i++) {
        const core_yaml_node *k = src->pairs[i].key;
        if (core_yb_put(doc, n, k->value, &k->pos, k->len, core_yb_copy(doc, src->pairs[i].value)) < 0) return NULL;
      }
      return n;
  }
  return NULL;
}

/* Arrays grow one element at a time: the trees built here are small, and the parser's
 * capacity bookkeeping lives outside the node, where a builder cannot see it. */
int core_yb_append(core_yaml_node *seq, core_yaml_node *item) {
  if (seq == NULL || item == NULL || seq->kind != CORE_YAML_SEQUENCE) return -1;
  core_yaml_node **items = realloc(seq->items, (seq->n_items + 1) * sizeof *items);
  if (items == NULL) return -1;
  seq->items = items;
  seq->items[seq->n_items++] = item;
  seq->weight += item->weight;
  return 0;
}

int core_yb_put(core_yaml_doc *doc, core_yaml_node *map, const char *key, const core_pos *key_pos, int key_len,
                core_yaml_node *value) {
  if (map == NULL || value == NULL || map->kind != CORE_YAML_MAPPING) return -1;
  core_yaml_node *k = core_yb_scalar(doc, key_pos, key_len, CORE_YAML_PLAIN, key);
  if (k == NULL) return -1;
  core_yaml_pair *pairs = realloc(map->pairs, (map->n_pairs + 1) * sizeof *pairs);
  if (pairs == NULL) return -1;
  map->pairs = pairs;
  map->pairs[map->n_pairs++] = (core_yaml_pair){k, value};
  map->weight += 1 + value->weight;
  return 0;
}

/* --- printing --- */

static void print_scalar(FILE *f, const core_yaml_node *n) {
  if (n->style == CORE_YAML_PLAIN && !n->tagged_str && n->value_len > 0 && strlen(n->value) == n->value_len) {
    fputs(n->value, f);
    return;
  }
  fputc('"', f);
  for (size_t i = 0; i < n->value_len; i++) {
    unsigned char ch = (unsigned char)n->value[i];
    switch (ch) {
      case '"': fputs("\\\"", f); break;
      case '\\': fputs("\\\\", f); break;
      case '\n': fputs("\\n", f); break;
      case '\t': fputs("\\t", f); break;
      case '\r': fputs("\\r", f); break;
      default:
        if (ch < 0x20 || ch == 0x7f) fprintf(f, "\\x%02x", ch);
        else fputc(ch, f);
    }
  }
  fputc('"', f);
}

static void print_pos(FILE *f, bool with_pos, const core_pos *key, const core_pos *value) {
  if (with_pos && key) fprintf(f, "  # %d:%d %d:%d", key->line, key->col, value->line, value->col);
  else if (with_pos) fprintf(f, "  # %d:%d", value->line, value->col);
  fputc('\n', f);
}

static void print_node(FILE *f, const core_yaml_node *n, int indent, bool with_pos);

/* The rest of a line that introduced n ("key:" or "-"), then n's children below it. */
static void print_value(FILE *f, const core_yaml_node *n, const core_pos *key_pos, int indent, bool with_pos) {
  bool empty = (n->kind == CORE_YAML_SEQUENCE && n->n_items == 0) || (n->kind == CORE_YAML_MAPPING && n->n_pairs == 0);
  if (n->kind == CORE_YAML_SCALAR) {
    fputc(' ', f);
    print_scalar(f, n);
  } else if (empty) {
    fputs(n->kind == CORE_YAML_SEQUENCE ? " []" : " {}", f);
  }
  print_pos(f, with_pos, key_pos, &n->pos);
  if (n->kind != CORE_YAML_SCALAR && !empty) print_node(f, n, indent + 2, with_pos);
}

static void print_node(FILE *f, const core_yaml_node *n, int indent, bool with_pos) {
  if (n->kind == CORE_YAML_SEQUENCE) {
    for (size_t i = 0; i < n->n_items; i++) {
      fprintf(f, "%*s-", indent, "");
      print_value(f, n->items[i], NULL, indent, with_pos);
    }
  } else if (n->kind == CORE_YAML_MAPPING) {
    for (size_t i = 0; i < n->n_pairs; i++) {
      fprintf(f, "%*s", indent, "");
      print_scalar(f, n->pairs[i].key);
      fputc(':', f);
      print_value(f, n->pairs[i].value, &n->pairs[i].key->pos, indent, with_pos);
    }
  } else {
    fprintf(f, "%*s", indent, "");
    print_scalar(f, n);
    print_pos(f, with_pos, NULL, &n->pos);
  }
}

char *core_yb_print(const core_yaml_node *root, bool with_pos) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (f == NULL) return NULL;
  if (root) print_node(f, root, 0, with_pos);
  if (fclose(f) != 0) {
    free(text);
    return NULL;
  }
  return text;
}
