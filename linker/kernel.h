/* The kernel an artifact boots, and the modules it can load: read from a Debian kernel
 * package (vmlinuz and lib/modules/VERSION) or taken as a bare bzImage file.
 *
 * Modules are indexed lazily: reading a package records every module's name (its file name)
 * and where its bytes are; a module's bytes are copied out and its .modinfo read only when a
 * closure needs it. A package's files are cached in the content store by the package's
 * digest (kernel_cache.h), so a later build reads them without decompressing the package. */
#ifndef CORE_KERNEL_H
#define CORE_KERNEL_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

typedef struct core_kmod {
  char *name;     /* "virtio_net" ('-' normalised to '_'): the file name without ".ko" */
  char *path;     /* path in the package: lib/modules/VER/kernel/... */
  char **depends; /* names from modules.dep or .modinfo "depends=", once known */
  size_t n_depends;
  int depends_known; /* depends is filled (modules.dep, the cache, or .modinfo read) */
  core_buf data;     /* the module's bytes: filled for the modules of a closure */
  uint64_t offset, size; /* where the bytes are in the kernel's pack */
} core_kmod;

typedef struct core_kernel {
  core_buf image;   /* the bzImage */
  char *version;    /* "6.1.0-56-cloud-amd64"; NULL for a bare image */
  char *modules_version; /* the lib/modules/VERSION seen while reading modules */
  core_kmod *mods;
  size_t n_mods;
  char **builtin;   /* modules.builtin: names that need no loading */
  size_t n_builtin;
  /* The image and every module, one after another: a read-only mapping of the kernel
   * cache's pack blob, or of a temporary file when there is no store to cache in. */
  const uint8_t *pack;
  size_t pack_len;
  uint64_t image_offset, image_size; /* the bzImage in the pack (packages only) */
} core_kernel;

int core_kernel_load(const char *source, core_kernel *out, core_error **err);
/* Where core_kernel_load keeps the packages it has read, given by the program (corec's is
 * in the content store, cmd/corec_kernel_cache.c; without one, every build reads the
 * package). Called on the loading thread, one load at a time. A cache only saves time: its
 * hooks never fail a build. */
typedef struct core_kernel_cache_hooks {
  /* 1 with K filled (its index; its pack mapped, image and modules in it) when the cache
   * holds the package at PATH; 0, K untouched, when it does not. */
  int (*load)(void *ctx, const char *path, core_kernel *k);
  /* A file the pack of the package at PATH is being written to (kernel.c maps it to read the
   * modules), or -1 (not cached). The pack's bytes come through pack_write, in order. */
  int (*pack_begin)(void *ctx, const char *path);
  int (*pack_write)(void *ctx, const void *data, size_t len, core_error **err);
  /* The pack is complete (LEN bytes, indexed by K) when OK, else abandoned. */
  void (*pack_end)(void *ctx, const core_kernel *k, uint64_t len, int ok);
  void *ctx;
} core_kernel_cache_hooks;
/* HOOKS (borrowed) for the loads that follow; NULL for none. */
void core_kernel_cache_set(const core_kernel_cache_hooks *hooks);
/* How many kernel packages this process has read from their archive rather than from the
 * cache: what the tests check the cache by. */
unsigned long core_kernel_archive_reads(void);
void core_kernel_release(core_kernel *k);
#define cleanup_kernel __attribute__((cleanup(core_kernel_release)))

/* A kernel from an OCI image's layers (LinuxKit's convention: /kernel and /kernel.tar). */
int core_kernel_load_image_layers(const char *const *layers, size_t n_layers, core_kernel *out, core_error **err);

const core_kmod *core_kernel_find_module(const core_kernel *k, const char *name);
int core_kernel_is_builtin(const core_kernel *k, const char *name);

/* Reads "name=" and "depends=" from a module's .modinfo ELF section (libelf). */
int core_kmod_parse_modinfo(const void *ko, size_t len, char **name, char ***depends, size_t *n_depends, core_error **err);

/* Makes M's bytes and dependencies available (copied from the pack; .modinfo read when the
 * package had no modules.dep). The closure does this for every module it returns. */
int core_kernel_module_read(const core_kernel *k, const core_kmod *m, core_error **err);

/* The modules to load, dependencies first, each once; built-in ones left out. `wanted`
 * names that are not found are reported by the index of the name in *missing (-1 if none). */
int core_kernel_module_closure(const core_kernel *k, char *const *wanted, size_t n_wanted, const core_kmod ***out,
                               size_t *n_out, long *missing, core_error **err);

/* "virtio-net" -> "virtio_net", in place. */
void core_kmod_normalize_name(char *name);

#endif
