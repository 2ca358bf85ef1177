/* Private to the LinuxKit front end (compiler/linuxkit*.c): the lowering's state, LinuxKit's
 * key tables, and the checks of LinuxKit's own schema that every section shares. */
#ifndef CORE_LINUXKIT_INTERNAL_H
#define CORE_LINUXKIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "yaml_ast.h"
#include "yaml_build.h"

typedef struct lk {
  core_diag *d;
  core_yaml_doc *out;     /* the app.yml tree being built */
  core_yaml_node *root;   /* its top mapping */
  core_yaml_node *rootfs; /* its layers, NULL until the first one */
  bool oom;               /* a builder failed: reported once, at the end */
} lk;

/* What core does with a LinuxKit key. */
typedef enum lk_use {
  LK_LOWER,       /* lowered into app.yml */
  LK_UNSUPPORTED, /* in LinuxKit's schema, refused: core cannot honour it yet */
  LK_IGNORED,     /* in LinuxKit's schema, dropped with a warning */
} lk_use;

typedef struct lk_key {
  const char *name;
  lk_use use;
  const char *why; /* LK_UNSUPPORTED, LK_IGNORED: the hint */
} lk_key;

extern const lk_key lk_top_keys[], lk_kernel_keys[], lk_image_keys[], lk_file_keys[];

/* Reports every key of map not lowered: unknown ones (with did-you-mean among keys), the
 * unsupported ones as errors, the ignored ones as warnings. where names map ("services[0]"),
 * NULL at the top. */
void lk_keys(lk *l, const core_yaml_node *map, const lk_key *keys, const char *where);

/* LinuxKit's schema types. Each reports "'what' must be ..., found ..." and returns NULL/false.
 * Strings accept numbers as written, as app.yml does; booleans are YAML 1.2's true/false. */
const char *lk_string(lk *l, const core_yaml_node *n, const char *what);
bool lk_strings(lk *l, const core_yaml_node *n, const char *what);
bool lk_mapping(lk *l, const core_yaml_node *n, const char *what);
bool lk_sequence(lk *l, const core_yaml_node *n, const char *what, const char *expected);
bool lk_bool(lk *l, const core_yaml_node *n, const char *what, bool *out);
/* LinuxKit's uid/gid: an integer, or "root"/"" (0); other strings name the id LinuxKit
 * allocates to a container, which core does not do. */
bool lk_id(lk *l, const core_yaml_node *n, const char *what, unsigned long *out);

/* Where byte i of a one-line scalar's value is in the file, when it is written as is. */
core_pos lk_char_pos(const core_yaml_node *n, size_t i);

/* Builders that remember a failure in l->oom and accept NULL, so calls can nest. */
core_yaml_node *lk_str(lk *l, const core_yaml_node *at, core_yaml_style style, const char *value);
core_yaml_node *lk_copy(lk *l, const core_yaml_node *n);
core_yaml_node *lk_map(lk *l, const core_yaml_node *at);
core_yaml_node *lk_seq(lk *l, const core_yaml_node *at);
void lk_put(lk *l, core_yaml_node *map, const char *key, const core_yaml_node *key_at, core_yaml_node *value);
void lk_append(lk *l, core_yaml_node *seq, core_yaml_node *item);
/* {oci: IMAGE}, at the position of the image reference. */
core_yaml_node *lk_oci(lk *l, const core_yaml_node *image);
/* Appends a layer {source: {oci: IMAGE}[, dest: DEST]} to rootfs. */
void lk_layer(lk *l, const core_yaml_node *item, const core_yaml_node *image_key, const core_yaml_node *image,
              const char *dest, const core_yaml_node *dest_at);

/* The parts of a LinuxKit file, one file each. */
void lk_images(lk *l, const core_yaml_node *key, const core_yaml_node *n);
void lk_files(lk *l, const core_yaml_node *key, const core_yaml_node *n);

#endif
