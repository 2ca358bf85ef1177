/* Reading kernel packages and resolving module dependencies, as a linker resolves symbols. */
#include "kernel.h"

#include <archive_entry.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "cleanup.h"
#include "deb_xz.h"
#include "fsutil.h"
#include "layer_reader.h"
#include "oci_layer.h"
#include "rootfs.h"

void core_kmod_normalize_name(char *name) {
  for (; *name; name++)
    if (*name == '-') *name = '_';
}

static void free_strv(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

void core_kernel_release(core_kernel *k) {
  core_buf_release(&k->image);
  free(k->version);
  free(k->modules_version);
  for (size_t i = 0; i < k->n_mods; i++) {
    free(k->mods[i].name);
    free(k->mods[i].path);
    free_strv(k->mods[i].depends, k->mods[i].n_depends);
    core_buf_release(&k->mods[i].data);
  }
  free(k->mods);
  free_strv(k->builtin, k->n_builtin);
  if (k->pack) munmap((void *)k->pack, k->pack_len);
  memset(k, 0, sizeof *k);
}

static void elf_endp(Elf **e) {
  if (*e) elf_end(*e);
}

static int split_depends(const char *list, char ***out, size_t *n_out, core_error **err) {
  char **v = NULL;
  size_t n = 0;
  cleanup_free char *copy = strdup(list);
  if (copy == NULL) return core_error_set(err, ENOMEM, "allocating");
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char **grown = realloc(v, (n + 1) * sizeof *grown);
    if (grown == NULL || (grown[n] = strdup(tok)) == NULL) {
      free_strv(grown ? grown : v, n);
      return core_error_set(err, ENOMEM, "allocating");
    }
    v = grown;
    core_kmod_normalize_name(v[n++]);
  }
  *out = v;
  *n_out = n;
  return 0;
}

int core_kmod_parse_modinfo(const void *ko, size_t len, char **name, char ***depends, size_t *n_depends, core_error **err) {
  if (elf_version(EV_CURRENT) == EV_NONE) return core_error_set(err, 0, "libelf: %s", elf_errmsg(-1));
  __attribute__((cleanup(elf_endp))) Elf *elf = elf_memory((char *)ko, len);
  if (elf == NULL || elf_kind(elf) != ELF_K_ELF) return core_error_set(err, 0, "not an ELF object: %s", elf_errmsg(-1));
  size_t shstrndx;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) return core_error_set(err, 0, "libelf: %s", elf_errmsg(-1));
  *name = NULL;
  *depends = NULL;
  *n_depends = 0;
  for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == NULL) return core_error_set(err, 0, "libelf: %s", elf_errmsg(-1));
    const char *sname = elf_strptr(elf, shstrndx, sh.sh_name);
    if (sname == NULL || strcmp(sname, ".modinfo") != 0) continue;
    Elf_Data *d = elf_getdata(scn, NULL);
    if (d == NULL || d->d_buf == NULL) return core_error_set(err, 0, "empty .modinfo section");
    /* The section is a run of NUL-terminated "key=value" strings. */
    const char *p = d->d_buf, *end = p + d->d_size;
    while (p < end) {
      size_t l = strnlen(p, (size_t)(end - p));
      if (l == (size_t)(end - p)) break;
      if (strncmp(p, "name=", 5) == 0 && *name == NULL) {
        if ((*name = strdup(p + 5)) == NULL) return core_error_set(err, ENOMEM, "allocating");
        core_kmod_normalize_name(*name);
      } else if (strncmp(p, "depends=", 8) == 0 && *depends == NULL) {
        if (split_depends(p + 8, depends, n_depends, err) < 0) return -1;
      }
      p += l + 1;
    }
    break;
  }
  return 0;
}

/* A module seen in the package: its name is its file name (kbuild names every module after
 * its file, '-' read as '_'), its bytes are at OFFSET in the pack. */
static int add_module(core_kernel *k, const char *path, uint64_t offset, uint64_t size, core_error **err) {
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  core_kmod m = {.offset = offset, .size = size};
  core_kmod *grown = realloc(k->mods, (k->n_mods + 1) * sizeof *grown);
  if (grown) k->mods = grown;
  if (grown == NULL || (m.name = strndup(base, strlen(base) - 3)) == NULL || (m.path = strdup(path)) == NULL) {
    free(m.name);
    return core_error_set(err, ENOMEM, "allocating");
  }
  core_kmod_normalize_name(m.name);
  k->mods[k->n_mods++] = m;
  return 0;
}

int core_kernel_module_read(const core_kernel *kc, const core_kmod *mc, core_error **err) {
  /* The index is completed lazily: the kernel is logically unchanged (the same modules), so
   * its users hold it const while the bytes and dependencies of what they ask for are filled. */
  core_kmod *m = (core_kmod *)mc;
  if (m->data.len == 0 && m->size > 0) {
    if (kc->pack == NULL || m->offset > kc->pack_len || m->size > kc->pack_len - m->offset)
      return core_error_set(err, 0, "kernel module '%s' lies outside the kernel's files", m->path);
    if (core_buf_append(&m->data, kc->pack + m->offset, (size_t)m->size, err) < 0) return -1;
  }
  if (m->depends_known) return 0;
  cleanup_free char *name = NULL;
  if (core_kmod_parse_modinfo(m->data.data, m->data.len, &name, &m->depends, &m->n_depends, err) < 0)
    return core_error_wrap(err, "kernel module '%s'", m->path);
  m->depends_known = 1;
  return 0;
}

static int parse_builtin(core_kernel *k, const core_buf *list, core_error **err) {
  /* One path per line: kernel/fs/ext4/ext4.ko -> "ext4". */
  const char *p = (const char *)list->data, *end = p + list->len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL) nl = end;
    const char *base = p;
    for (const char *q = p; q < nl; q++)
      if (*q == '/') base = q + 1;
    size_t len = (size_t)(nl - base);
    if (len > 3 && strncmp(nl - 3, ".ko", 3) == 0) {
      char **grown = realloc(k->builtin, (k->n_builtin + 1) * sizeof *grown);
      if (grown == NULL) return core_error_set(err, ENOMEM, "allocating");
      k->builtin = grown;
      if ((k->builtin[k->n_builtin] = strndup(base, len - 3)) == NULL) return core_error_set(err, ENOMEM, "allocating");
      core_kmod_normalize_name(k->builtin[k->n_builtin++]);
    }
    p = nl + 1;
  }
  return 0;
}

/* modules.dep, as depmod writes it: "kernel/a/x.ko: kernel/b/y.ko kernel/c/z.ko" per line,
 * every dependency (transitively) of x. Lines for modules the package lacks are ignored; a
 * dependency the package lacks is kept by name, so the closure reports it as missing. */
static int parse_modules_dep(core_kernel *k, const core_buf *list, core_error **err) {
  const char *p = (const char *)list->data, *end = p + list->len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL) nl = end;
    const char *colon = memchr(p, ':', (size_t)(nl - p));
    core_kmod *m = NULL;
    if (colon) {
      for (size_t i = 0; i < k->n_mods && m == NULL; i++) {
        /* The module's path relative to lib/modules/VERSION/. */
        const char *rel = strchr(k->mods[i].path + 12, '/');
        if (rel && strlen(rel + 1) == (size_t)(colon - p) && memcmp(rel + 1, p, (size_t)(colon - p)) == 0) m = &k->mods[i];
      }
    }
    if (m && !m->depends_known) {
      char **deps = NULL;
      size_t n = 0;
      for (const char *q = colon + 1; q < nl;) {
        while (q < nl && *q == ' ') q++;
        const char *w = q;
        while (q < nl && *q != ' ') q++;
        if (q == w) continue;
        const char *base = w;
        for (const char *r = w; r < q; r++)
          if (*r == '/') base = r + 1;
        size_t len = (size_t)(q - base);
        if (len > 3 && memcmp(q - 3, ".ko", 3) == 0) len -= 3;
        char **grown = realloc(deps, (n + 1) * sizeof *grown);
        if (grown == NULL || (grown[n] = strndup(base, len)) == NULL) {
          free_strv(grown ? grown : deps, n);
          return core_error_set(err, ENOMEM, "allocating");
        }
        deps = grown;
        core_kmod_normalize_name(deps[n++]);
      }
      m->depends = deps;
      m->n_depends = n;
      m->depends_known = 1;
    }
    p = nl + 1;
  }
  return 0;
}

static int is_bzimage(const core_buf *b) {
  /* The x86 boot protocol puts "HdrS" at offset 0x202 of every bzImage. */
  return b->len > 0x206 && memcmp(b->data + 0x202, "HdrS", 4) == 0;
}

/* Where a package's entries come from: the layer reader (any package, any archive), or the
 * threaded xz reader (deb_xz.h) for the usual data.tar.xz. */
/* Where the pack's bytes go: the cache's writer, or a file. */
typedef struct sink {
  core_write_fn *write;
  void *ctx;
} sink;

static int write_fd(void *ctx, const void *data, size_t len, core_error **err) {
  return core_write_all(*(int *)ctx, data, len, err);
}

typedef struct entries {
  int (*next)(void *src, struct archive_entry **e, const char **path, core_error **err);
  int (*copy)(void *src, const sink *out, uint64_t max, uint64_t *len, core_error **err);
  int (*data)(void *src, uint64_t max, core_buf *out, core_error **err);
  void *src;
} entries;

static int reader_next(void *src, struct archive_entry **e, const char **path, core_error **err) {
  return core_layer_reader_next(src, e, path, err);
}
static int reader_data(void *src, uint64_t max, core_buf *out, core_error **err) {
  return core_layer_reader_data(src, max, out, err);
}
static int reader_copy(void *src, const sink *out, uint64_t max, uint64_t *len, core_error **err) {
  cleanup_buf core_buf data = CORE_BUF_INIT;
  if (core_layer_reader_data(src, max, &data, err) < 0 || out->write(out->ctx, data.data, data.len, err) < 0) return -1;
  *len = data.len;
  return 0;
}
static int xz_next(void *src, struct archive_entry **e, const char **path, core_error **err) {
  return core_deb_xz_next(src, e, path, err);
}
static int xz_data(void *src, uint64_t max, core_buf *out, core_error **err) { return core_deb_xz_data(src, max, out, err); }
static int xz_copy(void *src, const sink *out, uint64_t max, uint64_t *len, core_error **err) {
  return core_deb_xz_copy(src, out->write, out->ctx, max, len, err);
}

/* Reads vmlinuz (when there is one), modules, modules.builtin and modules.dep from a
 * package's tree. The image's and the modules' bytes go to PACK (a file) one after another;
 * nothing is kept in memory but the index. */
static int scan_package(const char *source, const entries *in, core_kernel *k, const sink *pack, uint64_t *pack_len,
                        core_error **err) {
  cleanup_buf core_buf dep = CORE_BUF_INIT;
  for (;;) {
    struct archive_entry *e;
    const char *path;
    int rc = in->next(in->src, &e, &path, err);
    if (rc < 0) return -1;
    if (rc == 0) break;
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    size_t len = strlen(path);
    int is_image = strncmp(path, "boot/vmlinuz-", 13) == 0;
    int is_module = strncmp(path, "lib/modules/", 12) == 0 && len > 3 && strcmp(path + len - 3, ".ko") == 0;
    if (is_image && k->version) return core_error_set(err, 0, "'%s' holds more than one kernel (boot/vmlinuz-*)", source);
    if (is_image || is_module) {
      uint64_t size = 0;
      if (in->copy(in->src, pack, CORE_ROOTFS_MAX_ENTRY_DEFAULT, &size, err) < 0) return -1;
      if (is_image) {
        if ((k->version = strdup(path + 13)) == NULL) return core_error_set(err, ENOMEM, "allocating");
        k->image_offset = *pack_len;
        k->image_size = size;
      } else {
        if (k->modules_version == NULL && (k->modules_version = strndup(path + 12, strcspn(path + 12, "/"))) == NULL)
          return core_error_set(err, ENOMEM, "allocating");
        if (add_module(k, path, *pack_len, size, err) < 0) return -1;
      }
      *pack_len += size;
    } else if (strncmp(path, "lib/modules/", 12) == 0 && len > 16 && strcmp(path + len - 16, "/modules.builtin") == 0) {
      cleanup_buf core_buf data = CORE_BUF_INIT;
      if (in->data(in->src, CORE_ROOTFS_MAX_ENTRY_DEFAULT, &data, err) < 0 || parse_builtin(k, &data, err) < 0) return -1;
    } else if (strncmp(path, "lib/modules/", 12) == 0 && len > 12 && strcmp(path + len - 12, "/modules.dep") == 0) {
      core_buf_release(&dep);
      if (in->data(in->src, CORE_ROOTFS_MAX_ENTRY_DEFAULT, &dep, err) < 0) return -1;
    }
  }
  /* After every module is known: the file may come before them in the archive. */
  return dep.len ? parse_modules_dep(k, &dep, err) : 0;
}

/* A package's entries into the pack: data.tar.xz on several threads, anything else through
 * the layer reader. */
static int scan_deb(const char *source, core_kernel *k, const sink *pack, uint64_t *pack_len, core_error **err) {
  cleanup_deb_xz core_deb_xz *xz = NULL;
  int rc = core_deb_xz_open(source, &xz, err);
  if (rc < 0) return -1;
  if (rc == 1) {
    entries in = {xz_next, xz_copy, xz_data, xz};
    return scan_package(source, &in, k, pack, pack_len, err);
  }
  cleanup_layer_reader core_layer_reader *r = NULL;
  if (core_layer_reader_open(source, &r, err) < 0) return -1;
  entries in = {reader_next, reader_copy, reader_data, r};
  return scan_package(source, &in, k, pack, pack_len, err);
}

/* Maps the pack read-only for the lazy reads of modules. */
static int map_pack(core_kernel *k, int fd, uint64_t len, core_error **err) {
  if (len == 0) return 0;
  if (len > SIZE_MAX) return core_error_set(err, EFBIG, "the kernel's files are too big to map");
  void *p = mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) return core_error_set(err, errno, "mapping the kernel's files");
  k->pack = p;
  k->pack_len = (size_t)len;
  return 0;
}

/* Asks for transparent huge pages under a big buffer about to be filled: on a virtual
 * machine every 4 KiB page fault is costly (filling 14 MiB took 60 ms in faults alone on the
 * build machine, 10 ms with huge pages). Only advice: nothing depends on it being taken. */
static void advise_huge_pages(void *p, size_t len) {
  const uintptr_t huge = (uintptr_t)2 << 20;
  uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1), end = ((uintptr_t)p + len) & ~(huge - 1);
  if (end > start) (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
}

/* The bzImage, copied out of the pack (the artifact's kernel blob takes its own buffer). */
static int take_image(core_kernel *k, core_error **err) {
  if (k->image_size == 0) return 0;
  if (k->image_offset > k->pack_len || k->image_size > k->pack_len - k->image_offset)
    return core_error_set(err, 0, "the kernel image lies outside the kernel's files");
  if (core_buf_reserve(&k->image, (size_t)k->image_size, err) < 0) return -1;
  advise_huge_pages(k->image.data, (size_t)k->image_size);
  return core_buf_append(&k->image, k->pack + k->image_offset, (size_t)k->image_size, err);
}

static int check_deb_kernel(const char *source, const core_kernel *k, core_error **err) {
  if (k->version == NULL)
    return core_error_set(err, 0, "'%s' is a Debian package without a kernel (no boot/vmlinuz-*); use a linux-image package", source);
  if (!is_bzimage(&k->image)) return core_error_set(err, 0, "'%s': boot/vmlinuz-%s is not an x86 bzImage", source, k->version);
  return 0;
}

static const core_kernel_cache_hooks *cache;
static unsigned long archive_reads;

void core_kernel_cache_set(const core_kernel_cache_hooks *hooks) { cache = hooks; }
unsigned long core_kernel_archive_reads(void) { return archive_reads; }

/* A package read from its archive: the pack goes to the cache's file or, without a cache,
 * to a temporary one. */
static int load_deb_archive(const char *source, core_kernel *k, core_error **err) {
  int fd = cache ? cache->pack_begin(cache->ctx, source) : -1;
  int cached = fd >= 0;
  cleanup_close int memfd = -1;
  if (!cached && (fd = memfd = memfd_create("core-kernel-pack", MFD_CLOEXEC)) < 0)
    return core_error_set(err, errno, "creating a memfd");
  /* The cache's writer hashes the bytes as they pass; a file of our own just takes them. */
  sink out = cached ? (sink){cache->pack_write, cache->ctx} : (sink){write_fd, &memfd};
  uint64_t len = 0;
  archive_reads++;
  int rc = scan_deb(source, k, &out, &len, err) < 0 ||
                   map_pack(k, fd, len, err) < 0 || take_image(k, err) < 0 || check_deb_kernel(source, k, err) < 0
               ? -1
               : 0;
  if (cached) cache->pack_end(cache->ctx, k, len, rc == 0);
  return rc;
}

static int load_deb(const char *source, core_kernel *k, core_error **err) {
  if (cache && cache->load(cache->ctx, source, k) == 1)
    return take_image(k, err) < 0 || check_deb_kernel(source, k, err) < 0 ? -1 : 0;
  return load_deb_archive(source, k, err);
}

int core_kernel_load(const char *source, core_kernel *out, core_error **err) {
  core_kernel k = {0};
  core_layer_kind kind;
  if (core_layer_kind_of(source, &kind, err) < 0) return -1;
  if (kind == CORE_LAYER_DEB) {
    if (load_deb(source, &k, err) < 0) goto fail;
  } else if (kind == CORE_LAYER_DIR) {
    return core_error_set(err, 0, "'%s' is a directory; the kernel source must be a kernel .deb or a bzImage file", source);
  } else {
    if (core_read_file(source, &k.image, err) < 0) goto fail;
    if (!is_bzimage(&k.image)) {
      core_error_set(err, 0, "'%s' is neither a kernel .deb nor an x86 bzImage", source);
      goto fail;
    }
  }
  *out = k;
  return 0;
fail:
  core_kernel_release(&k);
  return -1;
}

/* LinuxKit's kernel images: /kernel is the bzImage, /kernel.tar holds lib/modules. */
int core_kernel_load_image_layers(const char *const *layers, size_t n_layers, core_kernel *out, core_error **err) {
  core_kernel k = {0};
  cleanup_rootfs core_rootfs fs = CORE_ROOTFS_INIT;
  for (size_t i = 0; i < n_layers; i++)
    if (core_rootfs_add_oci_layer(&fs, layers[i], "", err) < 0) goto fail;
  if (core_rootfs_finish(&fs, err) < 0) goto fail;
  const core_node *image = core_rootfs_find(&fs, "kernel");
  if (image == NULL || image->type != CORE_NODE_FILE) {
    core_error_set(err, 0, "the kernel image has no /kernel file (a LinuxKit kernel image holds /kernel and /kernel.tar)");
    goto fail;
  }
  if (core_buf_append(&k.image, image->data.data, image->data.len, err) < 0) goto fail;
  if (!is_bzimage(&k.image)) {
    core_error_set(err, 0, "/kernel in the kernel image is not an x86 bzImage");
    goto fail;
  }
  const core_node *modules = core_rootfs_find(&fs, "kernel.tar");
  if (modules && modules->type == CORE_NODE_FILE) {
    /* The modules tar is read through a memfd so the usual package reader can take it. */
    cleanup_close int fd = memfd_create("core-kernel-tar", MFD_CLOEXEC);
    char path[64];
    if (fd < 0) {
      core_error_set(err, errno, "creating a memfd");
      goto fail;
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    cleanup_layer_reader core_layer_reader *r = NULL;
    cleanup_close int pack = memfd_create("core-kernel-pack", MFD_CLOEXEC);
    uint64_t len = 0;
    if (pack < 0) {
      core_error_set(err, errno, "creating a memfd");
      goto fail;
    }
    if (core_write_all(fd, modules->data.data, modules->data.len, err) < 0 || core_layer_reader_open(path, &r, err) < 0)
      goto fail;
    entries in = {reader_next, reader_copy, reader_data, r};
    sink out = {write_fd, &pack};
    if (scan_package("/kernel.tar", &in, &k, &out, &len, err) < 0 || map_pack(&k, pack, len, err) < 0) goto fail;
    /* /kernel is the image: a boot/vmlinuz-* in the tar is not used. */
    k.image_offset = k.image_size = 0;
    free(k.version);
    k.version = NULL;
  }
  /* The module tree names the kernel's release; without modules the image has none to give. */
  if (k.modules_version && (k.version = strdup(k.modules_version)) == NULL) {
    core_error_set(err, ENOMEM, "allocating");
    goto fail;
  }
  *out = k;
  return 0;
fail:
  core_kernel_release(&k);
  return -1;
}

const core_kmod *core_kernel_find_module(const core_kernel *k, const char *name) {
  for (size_t i = 0; i < k->n_mods; i++)
    if (strcmp(k->mods[i].name, name) == 0) return &k->mods[i];
  return NULL;
}

int core_kernel_is_builtin(const core_kernel *k, const char *name) {
  for (size_t i = 0; i < k->n_builtin; i++)
    if (strcmp(k->builtin[i], name) == 0) return 1;
  return 0;
}

typedef struct closure {
  const core_kernel *k;
  const core_kmod **order;
  size_t n;
  const core_kmod **visiting; /* the current chain, to catch dependency cycles */
  size_t depth;
} closure;

static int visit(closure *c, const char *name, core_error **err) {
  if (core_kernel_is_builtin(c->k, name)) return 0;
  const core_kmod *m = core_kernel_find_module(c->k, name);
  if (m == NULL) return core_error_set(err, 0, "kernel module '%s' is neither in the package nor built in", name);
  for (size_t i = 0; i < c->n; i++)
    if (c->order[i] == m) return 0;
  for (size_t i = 0; i < c->depth; i++)
    if (c->visiting[i] == m) return core_error_set(err, 0, "kernel modules depend on each other in a cycle through '%s'", name);
  if (core_kernel_module_read(c->k, m, err) < 0) return -1;
  c->visiting[c->depth++] = m;
  for (size_t i = 0; i < m->n_depends; i++)
    if (visit(c, m->depends[i], err) < 0) return core_error_wrap(err, "needed by '%s'", m->name);
  c->depth--;
  c->order[c->n++] = m; /* after its dependencies: load order */
  return 0;
}

int core_kernel_module_closure(const core_kernel *k, char *const *wanted, size_t n_wanted, const core_kmod ***out,
                               size_t *n_out, long *missing, core_error **err) {
  *missing = -1;
  closure c = {.k = k};
  c.order = calloc(k->n_mods + 1, sizeof *c.order);
  c.visiting = calloc(k->n_mods + 1, sizeof *c.visiting);
  if (c.order == NULL || c.visiting == NULL) {
    free(c.order);
    free(c.visiting);
    return core_error_set(err, ENOMEM, "allocating");
  }
  for (size_t i = 0; i < n_wanted; i++) {
    if (!core_kernel_is_builtin(k, wanted[i]) && core_kernel_find_module(k, wanted[i]) == NULL) {
      *missing = (long)i;
      free(c.order);
      free(c.visiting);
      return core_error_set(err, 0, "kernel module '%s' is neither in the kernel package nor built into the kernel",
                            wanted[i]);
    }
    if (visit(&c, wanted[i], err) < 0) {
      free(c.order);
      free(c.visiting);
      return -1;
    }
  }
  free(c.visiting);
  *out = c.order;
  *n_out = c.n;
  return 0;
}
