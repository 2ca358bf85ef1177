/* Changing YAML trees after parsing: documents that gather nodes from several files, deep
 * copies that turn aliases into plain nodes, and the rule-driven merge used by includes. */
#include "yaml_edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

core_yaml_doc *core_yaml_doc_new(const char *file) {
  core_yaml_doc *doc = calloc(1, sizeof *doc);
  if (doc == NULL) return NULL;
  if ((doc->file = strdup(file)) == NULL) {
    free(doc);
    return NULL;
  }
  return doc;
}

const core_yaml_source *core_yaml_doc_find_source(const core_yaml_doc *doc, const char *name) {
  for (size_t i = 0; i < doc->n_sources; i++)
    if (strcmp(doc->sources[i].name, name) == 0) return &doc->sources[i];
  return NULL;
}

const char *core_yaml_doc_add_source(core_yaml_doc *doc, const char *name, const char *text, size_t len) {
  core_yaml_source *s = (core_yaml_source *)core_yaml_doc_find_source(doc, name);
  if (s == NULL) {
    core_yaml_source *v = realloc(doc->sources, (doc->n_sources + 1) * sizeof *v);
    if (v == NULL) return NULL;
    doc->sources = v;
    s = &v[doc->n_sources];
    *s = (core_yaml_source){.name = strdup(name)};
    if (s->name == NULL) return NULL;
    doc->n_sources++;
  }
  if (s->text == NULL && text != NULL) {
    if ((s->text = malloc(len + 1)) == NULL) return NULL;
    memcpy(s->text, text, len);
    s->text[len] = 0;
    s->len = len;
  }
  return s->name;
}

typedef struct copier {
  core_yaml_doc *dst;
  size_t max_nodes;
  const char *last_in, *last_out; /* most nodes share a file: skip the lookup for them */
} copier;

static const char *file_in_dst(copier *c, const char *file) {
  if (file == NULL) return NULL;
  if (file == c->last_in) return c->last_out;
  const char *out = core_yaml_doc_add_source(c->dst, file, NULL, 0);
  if (out == NULL) return NULL;
  c->last_in = file;
  c->last_out = out;
  return out;
}

static core_yaml_node *copy_node(copier *c, const core_yaml_node *src) {
  if (c->dst->n_all >= c->max_nodes) return NULL;
  core_pos pos = src->pos;
  if (pos.file && (pos.file = file_in_dst(c, pos.file)) == NULL) return NULL;
  core_yaml_node *n = core_yaml_node_new(c->dst, src->kind, pos);
  if (n == NULL) return NULL;
  n->len = src->len;
  n->weight = src->weight;
  switch (src->kind) {
    case CORE_YAML_SCALAR:
      if ((n->value = malloc(src->value_len + 1)) == NULL) return NULL;
      memcpy(n->value, src->value, src->value_len + 1);
      n->value_len = src->value_len;
      n->style = src->style;
      n->tagged_str = src->tagged_str;
      return n;
    case CORE_YAML_SEQUENCE:
      if (src->n_items && (n->items = calloc(src->n_items, sizeof *n->items)) == NULL) return NULL;
      for (size_t i = 0; i < src->n_items; i++) {
        if ((n->items[i] = copy_node(c, src->items[i])) == NULL) return NULL;
        n->n_items++;
      }
      return n;
    case CORE_YAML_MAPPING:
      if (src->n_pairs && (n->pairs = calloc(src->n_pairs, sizeof *n->pairs)) == NULL) return NULL;
      for (size_t i = 0; i < src->n_pairs; i++) {
        core_yaml_node *k = copy_node(c, src->pairs[i].key);
        core_yaml_node *v = k ? copy_node(c, src->pairs[i].value) : NULL;
        if (v == NULL) return NULL;
        n->pairs[n->n_pairs++] = (core_yaml_pair){k, v};
      }
      return n;
  }
  return NULL;
}

core_yaml_node *core_yaml_copy(core_yaml_doc *dst, const core_yaml_node *src, size_t max_nodes) {
  copier c = {.dst = dst, .max_nodes = max_nodes};
  return copy_node(&c, src);
}

bool core_yaml_remove(core_yaml_node *map, const char *key) {
  if (map == NULL || map->kind != CORE_YAML_MAPPING) return false;
  for (size_t i = 0; i < map->n_pairs; i++) {
    if (strcmp(map->pairs[i].key->value, key) != 0) continue;
    memmove(&map->pairs[i], &map->pairs[i + 1], (map->n_pairs - i - 1) * sizeof *map->pairs);
    map->n_pairs--;
    return true;
  }
  return false;
}

/* --- merging --- */

static const core_yaml_merge_rule *rule_for(const core_yaml_merge_rule *rules, const char *path) {
  for (; rules && rules->path; rules++)
    if (strcmp(rules->path, path) == 0) return rules;
  return NULL;
}

/* The scalar value naming an item, or NULL when it has none to compare. */
static const char *identity_of(const core_yaml_node *item, const char *key) {
  const core_yaml_node *v = core_yaml_get(item, key);
  return v && v->kind == CORE_YAML_SCALAR ? v->value : NULL;
}

static core_yaml_node *merge_list(core_yaml_node *base, core_yaml_node *over, const core_yaml_merge_rule *rule) {
  size_t n_base = base->n_items;
  core_yaml_node **items = realloc(base->items, (n_base + over->n_items + 1) * sizeof *items);
  bool *replaced = calloc(n_base + 1, sizeof *replaced);
  if (items == NULL || replaced == NULL) {
    if (items) base->items = items;
    free(replaced);
    return NULL;
  }
  base->items = items;
  for (size_t i = 0; i < over->n_items; i++) {
    core_yaml_node *item = over->items[i];
    const char *id = rule->identity ? identity_of(item, rule->identity) : NULL;
    size_t j = n_base;
    /* Only items of earlier files are candidates, each at most once: two items of the same
     * file with one identity are both kept, for the checker to report. */
    if (id)
      for (j = 0; j < n_base; j++)
        if (!replaced[j] && identity_of(items[j], rule->identity) && strcmp(identity_of(items[j], rule->identity), id) == 0)
          break;
    if (j < n_base) {
      items[j] = item;
      replaced[j] = true;
    } else {
      items[base->n_items++] = item;
    }
    base->weight += item->weight;
  }
  free(replaced);
  return base;
}

static core_yaml_node *merge_at(core_yaml_node *base, core_yaml_node *over, const core_yaml_merge_rule *rules, char *path,
                                size_t path_len, size_t path_cap) {
  if (base->kind == CORE_YAML_SEQUENCE && over->kind == CORE_YAML_SEQUENCE) {
    const core_yaml_merge_rule *rule = rule_for(rules, path);
    return rule ? merge_list(base, over, rule) : over;
  }
  if (base->kind != CORE_YAML_MAPPING || over->kind != CORE_YAML_MAPPING) return over;
  /* The merged mapping is where the later file wrote it: a key missing from it is reported
   * in the file that is being built, not in a template. */
  base->pos = over->pos;
  base->len = over->len;
  for (size_t i = 0; i < over->n_pairs; i++) {
    core_yaml_pair *op = &over->pairs[i];
    size_t j = 0;
    while (j < base->n_pairs && strcmp(base->pairs[j].key->value, op->key->value) != 0) j++;
    if (j == base->n_pairs) {
      core_yaml_pair *pairs = realloc(base->pairs, (base->n_pairs + 1) * sizeof *pairs);
      if (pairs == NULL) return NULL;
      base->pairs = pairs;
      base->pairs[base->n_pairs++] = *op;
      base->weight += op->key->weight + op->value->weight;
      continue;
    }
    /* Path of the child: "key" at the root, "parent.key" below; a path too long for the
     * buffer matches no rule (an empty string). */
    size_t klen = strlen(op->key->value), child_len = path_len ? path_len + 1 + klen : klen;
    core_yaml_node *merged;
    if (child_len < path_cap) {
      if (path_len) path[path_len] = '.';
      memcpy(path + (path_len ? path_len + 1 : 0), op->key->value, klen + 1);
      merged = merge_at(base->pairs[j].value, op->value, rules, path, child_len, path_cap);
      path[path_len] = 0;
    } else {
      char none[1] = "";
      merged = merge_at(base->pairs[j].value, op->value, NULL, none, 0, 1);
    }
    if (merged == NULL) return NULL;
    base->pairs[j].value = merged;
  }
  return base;
}

core_yaml_node *core_yaml_merge(core_yaml_node *base, core_yaml_node *over, const core_yaml_merge_rule *rules) {
  char path[256] = "";
  return merge_at(base, over, rules, path, 0, sizeof path);
}
