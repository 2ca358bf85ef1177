/* The checked app description: what `corec check` produces from app.yml and the
 * planner consumes. Plain data; every value keeps the position it came from. */
#ifndef CORE_APP_CONFIG_H
#define CORE_APP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef struct core_pos {
  const char *file; /* owned by the app_config (files[]) */
  int line;         /* 1-based */
  int col;          /* 1-based */
} core_pos;

/* A source is where bytes come from. Only local paths exist in this version; URLs, git,
 * OCI and Debian package names are separate kinds to come. */
typedef struct core_source {
  char *path;      /* as written in app.yml */
  char *resolved;  /* path joined to the directory of app.yml */
  core_pos pos;
} core_source;

typedef struct core_layer {
  core_source source; /* a .deb (its data archive), a tar archive, or a directory */
  char *dest;         /* directory in the root the layer is placed under; "" = the root */
  core_pos pos;
} core_layer;

typedef struct core_module_ref {
  char *name; /* module name as `modprobe` takes it ("virtio_net") */
  core_pos pos;
} core_module_ref;

typedef struct core_app_config {
  char *file;       /* the app.yml path as given */
  char *dir;        /* its directory: relative sources resolve against it */

  char *name;       /* [a-z0-9][a-z0-9._-]{0,62} */
  core_pos name_pos;

  core_source kernel;       /* a kernel .deb (vmlinuz + modules) or a bzImage file */
  char *cmdline;            /* extra kernel command line, "" when absent */
  core_module_ref *modules; /* to load at boot, in this order (dependencies added by the linker) */
  size_t n_modules;

  core_layer *layers; /* merged in order: later layers win */
  size_t n_layers;

  char **main_argv; /* NULL-terminated; a string `main` becomes {"/bin/sh", "-c", string} */
  size_t main_argc;
  core_pos main_pos;

  uint64_t memory_bytes; /* default 256 MiB */
  unsigned cpus;         /* default 1 */
} core_app_config;

void core_app_config_free(core_app_config *cfg);
static inline void core_app_config_freep(core_app_config **cfg) {
  core_app_config_free(*cfg);
  *cfg = NULL;
}
#define cleanup_app_config __attribute__((cleanup(core_app_config_freep)))

#endif
