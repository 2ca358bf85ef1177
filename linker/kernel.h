/* The kernel an artifact boots, and the modules it can load: read from a Debian kernel
 * package (vmlinuz and lib/modules/VERSION) or taken as a bare bzImage file. */
#ifndef CORE_KERNEL_H
#define CORE_KERNEL_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

typedef struct core_kmod {
  char *name;     /* "virtio_net" ('-' normalised to '_') */
  char *path;     /* path in the package: lib/modules/VER/kernel/... */
  char **depends; /* names from .modinfo "depends=" */
  size_t n_depends;
  core_buf data;
} core_kmod;

typedef struct core_kernel {
  core_buf image;   /* the bzImage */
  char *version;    /* "6.1.0-56-cloud-amd64"; NULL for a bare image */
  char *modules_version; /* the lib/modules/VERSION seen while reading modules */
  core_kmod *mods;
  size_t n_mods;
  char **builtin;   /* modules.builtin: names that need no loading */
  size_t n_builtin;
} core_kernel;

int core_kernel_load(const char *source, core_kernel *out, core_error **err);
void core_kernel_release(core_kernel *k);
#define cleanup_kernel __attribute__((cleanup(core_kernel_release)))

/* A kernel from an OCI image's layers (LinuxKit's convention: /kernel and /kernel.tar). */
int core_kernel_load_image_layers(const char *const *layers, size_t n_layers, core_kernel *out, core_error **err);

const core_kmod *core_kernel_find_module(const core_kernel *k, const char *name);
int core_kernel_is_builtin(const core_kernel *k, const char *name);

/* Reads "name=" and "depends=" from a module's .modinfo ELF section (libelf). */
int core_kmod_parse_modinfo(const void *ko, size_t len, char **name, char ***depends, size_t *n_depends, core_error **err);

/* The modules to load, dependencies first, each once; built-in ones left out. `wanted`
 * names that are not found are reported by the index of the name in *missing (-1 if none). */
int core_kernel_module_closure(const core_kernel *k, char *const *wanted, size_t n_wanted, const core_kmod ***out,
                               size_t *n_out, long *missing, core_error **err);

/* "virtio-net" -> "virtio_net", in place. */
void core_kmod_normalize_name(char *name);

#endif
