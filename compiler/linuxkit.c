/* LinuxKit image YAML -> app.yml tree: detection, and the lowering of the file as a whole
 * (name, kernel, init, trust); the sections of images and files have their own files. */
#include "linuxkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "linuxkit_internal.h"
#include "yaml_edit.h"

#define APP_NAME_MAX 63

int core_linuxkit_detect(const core_yaml_node *root) {
  if (root == NULL || root->kind != CORE_YAML_MAPPING) return 0;
  /* app.yml's required keys, and the one that says where its files come from. */
  static const char *const app_keys[] = {"name", "main", "rootfs", NULL};
  for (const char *const *k = app_keys; *k; k++)
    if (core_yaml_get(root, *k)) return 0;
  const core_yaml_node *kernel = core_yaml_get(root, "kernel");
  bool kernel_map = kernel && kernel->kind == CORE_YAML_MAPPING;
  if (kernel_map && core_yaml_get(kernel, "source")) return 0;
  if (core_yaml_get(root, "init")) return 1;
  return kernel_map && core_yaml_get(kernel, "image") != NULL;
}

static const core_yaml_node *key_of(const core_yaml_node *map, const char *key) {
  for (size_t i = 0; i < map->n_pairs; i++)
    if (strcmp(map->pairs[i].key->value, key) == 0) return map->pairs[i].key;
  return NULL;
}

/* The app is named after the file ("sshd.yml" -> "sshd"): LinuxKit files carry no name. */
static void lower_name(lk *l, const char *path) {
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  const char *dot = strrchr(base, '.');
  size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
  bool ok = len > 0 && len <= APP_NAME_MAX && strchr("abcdefghijklmnopqrstuvwxyz0123456789", base[0]) &&
            strspn(base, "abcdefghijklmnopqrstuvwxyz0123456789._-") >= len;
  core_pos whole = {.file = l->out->file, .line = 0, .col = 0};
  if (!ok) {
    char vb[80];
    core_diag_error(l->d, &whole, 0,
                    "rename the file: its name without the extension must be 1 to 63 lowercase letters, digits, "
                    "'.', '_' or '-', starting with a letter or a digit",
                    "cannot name the app after the file '%s'; a LinuxKit file names its app by its file name",
                    core_diag_excerpt(base, vb, sizeof vb));
    return;
  }
  cleanup_free char *name = strndup(base, len);
  if (name == NULL) {
    l->oom = true;
    return;
  }
  lk_put(l, l->root, "name", NULL, lk_str(l, NULL, CORE_YAML_DOUBLE_QUOTED, name));
}

/* A LinuxKit kernel image holds /kernel and /kernel.tar (its modules); app.yml's kernel
 * source {oci: IMAGE} names the same image, and the planner takes both files from it. */
static void lower_kernel(lk *l, const core_yaml_node *key, const core_yaml_node *n) {
  if (!lk_mapping(l, n, "kernel")) return;
  lk_keys(l, n, lk_kernel_keys, "kernel");
  core_yaml_node *out = lk_map(l, n);
  const core_yaml_node *v;
  if ((v = core_yaml_get(n, "image")) == NULL) {
    core_diag_error(l->d, &n->pos, 0, "for example 'image: linuxkit/kernel:TAG'",
                    "missing required key 'image' in 'kernel'");
  } else if (lk_string(l, v, "kernel.image")) {
    if (*v->value == 0)
      core_diag_error(l->d, &v->pos, v->len, NULL, "'kernel.image' must not be empty");
    else
      lk_put(l, out, "source", key_of(n, "image"), lk_oci(l, v));
  }
  if ((v = core_yaml_get(n, "cmdline")) && lk_string(l, v, "kernel.cmdline"))
    lk_put(l, out, "cmdline", key_of(n, "cmdline"), lk_copy(l, v));
  /* Other file names in the kernel image: the defaults are what core reads, anything else not. */
  static const struct {
    const char *key, *deflt, *hint;
  } names[] = {
      {"binary", "kernel", "core boots the file 'kernel' of the kernel image"},
      {"tar", "kernel.tar", "core unpacks the file 'kernel.tar' of the kernel image into the root"},
  };
  for (size_t i = 0; i < 2; i++) {
    if ((v = core_yaml_get(n, names[i].key)) == NULL) continue;
    char what[32];
    snprintf(what, sizeof what, "kernel.%s", names[i].key);
    const char *s = lk_string(l, v, what);
    if (s == NULL || strcmp(s, names[i].deflt) == 0 || (i == 0 && *s == 0)) continue;
    char vb[80];
    core_diag_error(l->d, &v->pos, v->len, names[i].hint,
                    "LinuxKit's '%s: %s' in 'kernel' is not supported by core yet", names[i].key,
                    core_diag_excerpt(s, vb, sizeof vb));
  }
  lk_put(l, l->root, "kernel", key, out);
}

/* init images are unpacked straight into the root, in order: layers at '/'. */
static void lower_init(lk *l, const core_yaml_node *n) {
  if (!lk_strings(l, n, "init")) return;
  for (size_t i = 0; i < n->n_items; i++) {
    const core_yaml_node *v = n->items[i];
    if (*v->value == 0) {
      core_diag_error(l->d, &v->pos, v->len, NULL, "'init[%zu]' must not be empty", i);
      continue;
    }
    lk_layer(l, v, v, v, NULL, NULL);
  }
}

int core_linuxkit_lower(const core_yaml_doc *doc, const char *path, core_diag *diag, core_yaml_doc **out) {
  size_t errors_before = core_diag_error_count(diag);
  const core_yaml_node *root = doc->root;
  if (root == NULL || root->kind != CORE_YAML_MAPPING) {
    char found[96] = "nothing";
    if (root) core_yaml_describe(root, found, sizeof found);
    core_pos at = root ? root->pos : (core_pos){.file = doc->file, .line = 0, .col = 0};
    core_diag_error(diag, &at, root ? root->len : 0, NULL,
                    "a LinuxKit image must be a mapping with keys such as 'kernel', 'init' and 'services', found %s",
                    found);
    return -1;
  }
  lk l = {.d = diag, .out = core_yaml_doc_new(path)};
  if (l.out == NULL || (l.root = l.out->root = core_yb_mapping(l.out, &root->pos)) == NULL) {
    core_yaml_doc_free(l.out);
    core_diag_error(diag, NULL, 0, NULL, "out of memory while reading the LinuxKit image");
    return -1;
  }
  lk_keys(&l, root, lk_top_keys, NULL);
  lower_name(&l, path);
  const core_yaml_node *v;
  if ((v = core_yaml_get(root, "kernel")))
    lower_kernel(&l, key_of(root, "kernel"), v);
  else
    core_diag_error(diag, &(core_pos){.file = doc->file}, 0,
                    "add 'kernel:' with 'image:' naming a LinuxKit kernel image, such as linuxkit/kernel",
                    "the image has no 'kernel'; core boots it as a virtual machine, which needs one");
  if ((v = core_yaml_get(root, "init"))) lower_init(&l, v);
  static const char *const sections[] = {"onboot", "onshutdown", "services"};
  for (size_t i = 0; i < 3; i++)
    if ((v = core_yaml_get(root, sections[i]))) lk_images(&l, key_of(root, sections[i]), v);
  if ((v = core_yaml_get(root, "files"))) lk_files(&l, key_of(root, "files"), v);
  /* A LinuxKit machine runs its services until it is shut down: they are its main program. */
  static const char run_hint[] = "core runs a LinuxKit image's services until the machine shuts down; add one "
                                 "under 'services:'";
  if ((v = core_yaml_get(root, "services")) == NULL)
    core_diag_error(diag, &(core_pos){.file = doc->file}, 0, run_hint, "nothing to run: the image has no services");
  else if (v->kind == CORE_YAML_SEQUENCE && v->n_items == 0)
    core_diag_error(diag, &v->pos, v->len, run_hint, "nothing to run: 'services' is empty");
  if (l.oom) core_diag_error(diag, NULL, 0, NULL, "out of memory while lowering the LinuxKit image");
  if (core_diag_error_count(diag) > errors_before) {
    core_yaml_doc_free(l.out);
    return -1;
  }
  *out = l.out;
  return 0;
}
