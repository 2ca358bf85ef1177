/* Linking an app: kernel + module closure + merged rootfs + coreinit -> initramfs -> manifest. */
#include "link.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "cleanup.h"
#include "diag.h"
#include "init_config.h"
#include "initramfs.h"
#include "json.h"
#include "kernel.h"
#include "oci_layer.h"
#include "oci.h"
#include "provenance.h"
#include "rootfs.h"
#include "sbom.h"
#include "tim_format.h"
#include "users.h"
#include "fsutil.h"

extern const unsigned char core_coreinit_start[];
extern const unsigned char core_coreinit_end[];

const void *core_coreinit_bytes(size_t *len) {
  *len = (size_t)(core_coreinit_end - core_coreinit_start);
  return core_coreinit_start;
}

void core_linked_app_release(core_linked_app *app) {
  core_blob_set_release(&app->blobs);
  free(app->name);
  app->name = NULL;
}

static int add_dir(core_rootfs *fs, const char *path, mode_t mode, core_error **err) {
  return core_rootfs_add(fs, path, CORE_NODE_DIR, mode, 0, 0, NULL, NULL, err);
}

static int add_bytes(core_rootfs *fs, const char *path, const void *data, size_t len, mode_t mode, core_error **err) {
  cleanup_buf core_buf b = CORE_BUF_INIT;
  if (core_buf_append(&b, data, len, err) < 0) return -1;
  return core_rootfs_add(fs, path, CORE_NODE_FILE, mode, 0, 0, NULL, &b, err);
}

/* What every guest needs whatever its layers hold: mount points, the console, PID 1. */
static int add_guest_skeleton(core_rootfs *fs, core_error **err) {
  fs->origin = CORE_ORIGIN_OWNED; /* see CORE_ORIGIN_OWNED: nothing else may be here */
  static const struct {
    const char *path;
    mode_t mode;
  } dirs[] = {{"dev", 0755}, {"proc", 0555}, {"sys", 0555}, {"run", 0755}, {"tmp", 01777},
              {"root", 0700}, {"etc", 0755}, {"etc/core", 0755}};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    if (add_dir(fs, dirs[i].path, dirs[i].mode, err) < 0) return -1;
  /* The kernel opens /dev/console for PID 1 before anything is mounted, so it must be in the archive. */
  if (core_rootfs_add(fs, "dev/console", CORE_NODE_CHAR, 0600, 0, 0, NULL, NULL, err) < 0) return -1;
  fs->nodes[fs->n - 1].rdev_major = 5;
  fs->nodes[fs->n - 1].rdev_minor = 1;
  size_t len;
  const void *init = core_coreinit_bytes(&len);
  fs->origin = CORE_ORIGIN_OWNED_REPLACES; /* a LinuxKit init image's /init gives way, with a warning */
  int rc = add_bytes(fs, "init", init, len, 0755, err);
  fs->origin = CORE_ORIGIN_OWNED;
  return rc;
}

/* Modules the app asked for, plus the drivers its devices need: virtio-net for networking,
 * virtio-blk for volumes (both on virtio-pci). */
static int wanted_modules(const core_app_config *cfg, char ***out, core_pos **pos, size_t *n, core_error **err) {
  int net = cfg->net_mode == CORE_NET_USER, disks = 0;
  for (size_t i = 0; i < cfg->n_mounts; i++) disks |= cfg->mounts[i].type == CORE_MOUNT_VOLUME;
  size_t cap = cfg->n_modules + 5; /* room for the device drivers and the power button */
  char **names = calloc(cap, sizeof *names);
  core_pos *where = calloc(cap, sizeof *where);
  if (names == NULL || where == NULL) {
    free(names);
    free(where);
    return core_error_set(err, ENOMEM, "allocating");
  }
  size_t k = 0;
  for (size_t i = 0; i < cfg->n_modules; i++, k++) {
    names[k] = cfg->modules[i].name;
    where[k] = cfg->modules[i].pos;
  }
  if (net || disks) where[k] = cfg->kernel.pos, names[k++] = "virtio_pci";
  if (net) where[k] = cfg->kernel.pos, names[k++] = "virtio_net";
  if (disks) where[k] = cfg->kernel.pos, names[k++] = "virtio_blk";
  *out = names;
  *pos = where;
  *n = k;
  return 0;
}

static int link_modules(const core_app_config *cfg, const core_kernel *k, core_rootfs *fs, core_buf *conf,
                        json_t *loaded, core_error **err) {
  cleanup_free char **names = NULL;
  cleanup_free core_pos *pos = NULL;
  size_t n_names = 0;
  if (wanted_modules(cfg, &names, &pos, &n_names, err) < 0) return -1;
  /* The power button, so a launcher can ask the guest to stop cleanly; taken when the
   * kernel package has it, and not an error when it does not (a bare bzImage). */
  if (k->version && core_kernel_find_module(k, "button") && core_kernel_find_module(k, "evdev")) {
    names[n_names++] = "button";
    names[n_names++] = "evdev";
  }
  if (n_names == 0) return 0;
  if (k->version == NULL)
    return core_error_at(err, &pos[0], "take the kernel from its Debian package (linux-image-*.deb)",
                         "this app needs kernel modules ('%s'%s), but the kernel source is a bare bzImage", names[0],
                         n_names > 1 ? ", ..." : "");
  cleanup_free const core_kmod **order = NULL;
  size_t n = 0;
  long missing = -1;
  if (core_kernel_module_closure(k, names, n_names, &order, &n, &missing, err) < 0) {
    if (missing < 0) return -1;
    core_error_freep(err);
    return core_error_at(err, &pos[missing], "module names are file names without '.ko', as modprobe takes them",
                         "kernel module '%s' is neither in the kernel package (%s) nor built into it", names[missing],
                         k->version);
  }
  for (size_t i = 0; i < n; i++) {
    if (add_bytes(fs, order[i]->path, order[i]->data.data, order[i]->data.len, 0644, err) < 0) return -1;
    cleanup_free char *guest_path = NULL;
    if (asprintf(&guest_path, "/%s", order[i]->path) < 0) return core_error_set(err, ENOMEM, "allocating");
    if (core_init_config_module(guest_path, conf, err) < 0) return -1;
    json_array_append_new(loaded, json_string(order[i]->name));
  }
  return 0;
}

static json_t *strv_json(char *const *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(v[i]));
  return a;
}

/* What the launcher needs to know: resources, the kernel command line, ports, volumes. */
static int runtime_config(const core_app_config *c, json_t *modules, core_buf *out, core_error **err) {
  json_t *ports = json_array(), *volumes = json_array();
  for (size_t i = 0; i < c->n_ports; i++)
    json_array_append_new(ports, json_pack("{s:i, s:i, s:s}", "host", c->ports[i].host ? c->ports[i].host : c->ports[i].guest,
                                           "guest", c->ports[i].guest, "protocol", c->ports[i].protocol));
  for (size_t i = 0; i < c->n_mounts; i++)
    if (c->mounts[i].type == CORE_MOUNT_VOLUME)
      json_array_append_new(volumes, json_pack("{s:s, s:s}", "name", c->mounts[i].volume, "path", c->mounts[i].path));
  cleanup_json json_t *cfg = json_pack(
      "{s:i, s:s, s:{s:s, s:O}, s:o, s:{s:I, s:i}, s:{s:s, s:o}, s:o}", "version", 1, "name", c->name, "kernel",
      "cmdline", c->cmdline ? c->cmdline : "", "modules", modules, "main", strv_json(c->main_argv, c->main_argc),
      "resources", "memory_mib", (json_int_t)(c->memory_bytes >> 20), "cpus", (int)c->cpus, "network", "mode",
      c->net_mode == CORE_NET_USER ? "user" : "none", "ports", ports, "volumes", volumes);
  if (cfg == NULL) return core_error_set(err, ENOMEM, "building the runtime config");
  return core_json_dump(cfg, out, err);
}

static json_t *titled(json_t *desc, const char *title) {
  json_object_set_new(desc, "annotations", json_pack("{s:s}", OCI_ANN_TITLE, title));
  return desc;
}

/* The kernel from a package or bzImage, or from an image's layers (LinuxKit). */
static int core_link_kernel(const core_resolved *res, core_kernel *kernel, core_error **err) {
  if (res->kind != CORE_SOURCE_OCI) return core_kernel_load(res->parts[0].path, kernel, err);
  cleanup_free const char **paths = calloc(res->n_parts + 1, sizeof *paths);
  if (paths == NULL) return core_error_set(err, ENOMEM, "allocating");
  for (size_t i = 0; i < res->n_parts; i++) paths[i] = res->parts[i].path;
  return core_kernel_load_image_layers(paths, res->n_parts, kernel, err);
}

static void progress_bytes(void *ctx, uint64_t done, uint64_t total) { core_progress_update(ctx, done, total); }

/* One resolved layer source: every part in order (an image has several), each reported as
 * a task whose bytes are those unpacked. */
static int add_layer(core_rootfs *fs, const core_resolved *res, const core_layer *layer, core_reporter *reporter,
                     core_error **err) {
  const char *dest = layer->dest ? layer->dest : "";
  for (size_t i = 0; i < res->n_parts; i++) {
    char label[160]; /* room for the longest label below, so nothing is cut */
    if (res->n_parts > 1)
      snprintf(label, sizeof label, "unpacking %.80s (%zu/%zu)", core_source_label(&layer->source), i + 1, res->n_parts);
    else
      snprintf(label, sizeof label, "unpacking %.80s", core_source_label(&layer->source));
    /* A directory is read in place: nothing to count. */
    cleanup_progress core_progress progress =
        core_progress_begin(res->parts[i].format != CORE_LAYER_DIR ? reporter : NULL, label);
    fs->on_bytes = progress.reporter ? progress_bytes : NULL;
    fs->on_bytes_ctx = &progress;
    /* Image layers carry whiteouts that delete what earlier layers put there. */
    int rc = res->parts[i].media_type ? core_rootfs_add_oci_layer(fs, res->parts[i].path, dest, err)
                                      : core_rootfs_add_layer(fs, res->parts[i].path, dest, err);
    fs->on_bytes = NULL;
    fs->on_bytes_ctx = NULL;
    if (rc < 0) return -1;
    core_progress_done(&progress);
  }
  return 0;
}

/* Rewrites an error about one node of the tree as a diagnostic at what app.yml says put it
 * there: a rootfs entry (origin = its index) or a files: entry (after the layers). */
static int blame(const core_app_config *cfg, int origin, core_error **err) {
  cleanup_error core_error *cause = TAKE_PTR(*err);
  if (origin >= 0 && (size_t)origin < cfg->n_layers) {
    const core_layer *l = &cfg->layers[origin];
    return core_error_at(err, &l->pos, NULL, "rootfs layer '%s': %s", core_source_label(&l->source), cause->msg);
  }
  if (origin >= 0 && (size_t)origin < cfg->n_layers + cfg->n_files) {
    const core_file *f = &cfg->files[(size_t)origin - cfg->n_layers];
    return core_error_at(err, &f->pos, NULL, "files entry '%s': %s", f->path, cause->msg);
  }
  *err = TAKE_PTR(cause);
  return -1;
}

/* files: entries, applied after every layer. */
static int add_files(const core_plan *plan, core_rootfs *fs, core_error **err) {
  const core_app_config *cfg = plan->cfg;
  for (size_t i = 0; i < cfg->n_files; i++) {
    const core_file *f = &cfg->files[i];
    fs->origin = (int)(cfg->n_layers + i);
    const char *path = f->path[0] == '/' ? f->path + 1 : f->path;
    mode_t mode = f->mode >= 0 ? (mode_t)f->mode : f->type == CORE_FILE_DIRECTORY ? 0755 : 0644;
    cleanup_buf core_buf data = CORE_BUF_INIT;
    switch (f->type) {
      case CORE_FILE_DIRECTORY:
        if (core_rootfs_add(fs, path, CORE_NODE_DIR, mode, f->uid, f->gid, NULL, NULL, err) < 0) return -1;
        break;
      case CORE_FILE_SYMLINK: {
        char *target = strdup(f->target);
        if (target == NULL) return core_error_set(err, ENOMEM, "allocating");
        if (core_rootfs_add(fs, path, CORE_NODE_SYMLINK, 0777, f->uid, f->gid, target, NULL, err) < 0) return -1;
        break;
      }
      case CORE_FILE_CONTENTS:
        if (core_rootfs_reserve(fs, NULL, f->contents_len, err) < 0) return blame(cfg, fs->origin, err);
        if (core_buf_append(&data, f->contents, f->contents_len, err) < 0 ||
            core_rootfs_add(fs, path, CORE_NODE_FILE, mode, f->uid, f->gid, NULL, &data, err) < 0)
          return -1;
        break;
      case CORE_FILE_SOURCE:
        if (plan->files[i].n_parts == 0) break; /* optional and missing */
        if (plan->files[i].parts[0].format == CORE_LAYER_DIR)
          return core_error_at(err, &f->pos, "use a rootfs layer with 'dest' for a directory",
                               "file source for '%s' is a directory", f->path);
        struct stat st;
        if (stat(plan->files[i].parts[0].path, &st) < 0)
          return core_error_set(err, errno, "'%s'", plan->files[i].parts[0].path);
        if (core_rootfs_reserve(fs, NULL, (uint64_t)st.st_size, err) < 0) return blame(cfg, fs->origin, err);
        if (core_read_file(plan->files[i].parts[0].path, &data, err) < 0 ||
            core_rootfs_add(fs, path, CORE_NODE_FILE, mode, f->uid, f->gid, NULL, &data, err) < 0)
          return -1;
        break;
    }
  }
  return 0;
}

/* One warning per layer entry coreinit replaced, at the layer that brought it. */
static int replaced_warnings(const core_app_config *cfg, const core_rootfs *fs, char **out, core_error **err) {
  if (fs->n_replaced == 0) return 0;
  cleanup_diag core_diag *d = core_diag_new(cfg->layers[0].pos.file ? cfg->layers[0].pos.file : "app.yml");
  if (d == NULL) return core_error_set(err, ENOMEM, "allocating");
  for (size_t i = 0; i < fs->n_replaced; i++) {
    const core_replaced *r = &fs->replaced[i];
    if ((size_t)r->origin >= cfg->n_layers) continue; /* files: at /init are refused by the check */
    const core_layer *l = &cfg->layers[r->origin];
    core_diag_warning(d, &l->pos, 0, "leave it out of the layer to silence this",
                      "rootfs layer '%s': its '/%s' is replaced by coreinit, the PID 1 of every core guest",
                      core_source_label(&l->source), r->path);
  }
  if (core_diag_warning_count(d) && (*out = core_diag_render(d)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  return 0;
}

/* A size from the environment ("512M", "4G"), or 0 (the default) when unset. */
static int env_size(const char *name, uint64_t *out, core_error **err) {
  const char *v = getenv(name);
  *out = 0;
  if (v == NULL || v[0] == 0) return 0;
  if (core_parse_size(v, out) < 0 || *out == 0)
    return core_error_set(err, 0, "%s='%s' is not a size; write a whole number with an optional unit K, M, G or T (e.g. %s=8G)",
                          name, v, name);
  return 0;
}

/* Kernel, modules, layers, files and coreinit into one tree, and that tree into the initramfs;
 * the packages the tree's package databases list into PKGS, read while the tree is at hand.
 * The initramfs goes to an unlinked temporary file (*fd), its digest and size computed as it
 * is written: file data is spooled, never held (spec/tim.md, "Memory"). */
static int link_initramfs(const core_plan *plan, core_reporter *reporter, core_kernel *kernel, int *fd,
                          core_digest *digest, uint64_t *size, json_t *modules, core_pkg_list *pkgs, char **warnings,
                          core_error **err) {
  const core_app_config *cfg = plan->cfg;
  cleanup_rootfs core_rootfs fs = CORE_ROOTFS_INIT;
  cleanup_buf core_buf conf = CORE_BUF_INIT;
  if (env_size(CORE_ROOTFS_MAX_ENTRY_ENV, &fs.max_entry, err) < 0 ||
      env_size(CORE_ROOTFS_MAX_TOTAL_ENV, &fs.max_total, err) < 0 || core_rootfs_use_spool(&fs, err) < 0)
    return -1;
  if (core_link_kernel(&plan->kernel, kernel, err) < 0) return -1;
  for (size_t i = 0; i < cfg->n_layers; i++) {
    fs.origin = (int)i;
    if (add_layer(&fs, &plan->layers[i], &cfg->layers[i], reporter, err) < 0)
      return blame(cfg, (int)i, err);
  }
  if (add_files(plan, &fs, err) < 0) return -1;
  fs.origin = CORE_ORIGIN_LINKER;
  if (core_link_users(cfg, &fs, err) < 0) return -1;
  if (core_init_config_head(cfg, &conf, err) < 0 || link_modules(cfg, kernel, &fs, &conf, modules, err) < 0 ||
      core_init_config_body(cfg, &conf, err) < 0)
    return -1;
  /* The modules the app loads are in the tree now; the package's others (some 100 MiB for a
   * distribution kernel) go before the compressor takes its own memory. */
  for (size_t i = 0; i < kernel->n_mods; i++) core_buf_release(&kernel->mods[i].data);
  malloc_trim(0); /* most were small heap blocks: without this the process would keep their pages */
  if (add_guest_skeleton(&fs, err) < 0 || add_bytes(&fs, "etc/core/init.conf", conf.data, conf.len, 0644, err) < 0)
    return -1;
  if (core_rootfs_finish(&fs, err) < 0) return blame(cfg, fs.error_origin, err);
  if (core_sbom_scan_rootfs(&fs, pkgs, err) < 0) return -1;
  if (replaced_warnings(cfg, &fs, warnings, err) < 0) return -1;
  /* The sources must be what the plan pinned: a file changed mid-build is refused. */
  if (core_plan_recheck(plan, err) < 0) return -1;
  cleanup_close int out = -1;
  if (core_tmpfile_open(&out, "the initramfs", err) < 0 ||
      core_initramfs_write(&fs, plan->source_date_epoch, out, digest, size, err) < 0)
    return -1;
  *fd = TAKE_FD(out);
  return 0;
}

/* Adds a blob (taking data, as core_blob_set_add does) and notes its size for the manifest. */
static int add_blob(core_blob_set *set, core_buf *data, core_digest *d, uint64_t *size, core_error **err) {
  *size = data->len;
  return core_blob_set_add(set, data, d, err);
}

/* The initramfs's layer descriptor: in the clear, or as age ciphertext naming its plaintext. */
static json_t *initramfs_descriptor(const core_digest *d, uint64_t size, const core_digest *plain, uint64_t plain_size,
                                    core_error **err) {
  json_t *desc = titled(core_oci_descriptor(plain ? TIM_MT_INITRAMFS_AGE : TIM_MT_INITRAMFS, d, size), "initramfs");
  if (desc == NULL) return core_error_set(err, ENOMEM, "building the manifest"), NULL;
  if (plain && core_encrypted_annotate(desc, plain, plain_size, err) < 0) return json_decref(desc), NULL;
  return desc;
}

/* The SBOM and the provenance (spec/sbom.md), added as blobs with their layer descriptors. Both
 * are made from the plan, the tree's packages and the digests of the other blobs, and from
 * nothing about the output: an encrypted initramfs is named by its plaintext. */
static int link_documents(const core_plan *plan, core_pkg_list *pkgs, const core_provenance_subjects *subjects,
                          core_blob_set *blobs, json_t *layers, core_error **err) {
  cleanup_buf core_buf sbom = CORE_BUF_INIT, provenance = CORE_BUF_INIT;
  core_digest d_sbom, d_prov;
  uint64_t sbom_size, prov_size;
  if (core_sbom_scan_debs(plan, pkgs, err) < 0 || core_sbom_write(plan, pkgs, &sbom, err) < 0 ||
      core_provenance_write(plan, pkgs, subjects, &provenance, err) < 0)
    return -1;
  /* Readers load them whole, as they do manifests: no larger than one may be. */
  if (sbom.len > CORE_TIM_MAX_JSON || provenance.len > CORE_TIM_MAX_JSON)
    return core_error_set(err, EFBIG, "the SBOM (%zu bytes, %zu packages) or the provenance (%zu bytes) is larger than "
                          "the %u bytes an artifact's JSON documents may have", sbom.len, pkgs->n, provenance.len,
                          CORE_TIM_MAX_JSON);
  if (add_blob(blobs, &sbom, &d_sbom, &sbom_size, err) < 0 || add_blob(blobs, &provenance, &d_prov, &prov_size, err) < 0)
    return -1;
  if (json_array_append_new(layers, titled(core_oci_descriptor(TIM_MT_SBOM, &d_sbom, sbom_size), CORE_SBOM_TITLE)) < 0 ||
      json_array_append_new(layers, titled(core_oci_descriptor(TIM_MT_PROVENANCE, &d_prov, prov_size),
                                           CORE_PROVENANCE_TITLE)) < 0)
    return core_error_set(err, ENOMEM, "building the manifest");
  return 0;
}

int core_link(const core_plan *plan, core_reporter *reporter, const core_encryption *enc, core_linked_app *out,
              core_error **err) {
  cleanup_linked_app core_linked_app app = {0};
  cleanup_kernel core_kernel kernel = {0};
  cleanup_json json_t *modules = json_array();
  cleanup_json json_t *manifest = NULL;
  /* Each is taken by add_blob; the cleanup covers a failure before that. */
  cleanup_buf core_buf config = CORE_BUF_INIT, manifest_text = CORE_BUF_INIT;
  cleanup_close int initramfs = -1; /* taken by core_blob_set_add_fd */
  core_digest d_kernel, d_initramfs, d_config, d_plain;
  uint64_t kernel_size, initramfs_size, config_size, plain_size = 0;
  cleanup_free char *warnings = NULL;
  cleanup_pkg_list core_pkg_list pkgs = {0};
  if ((app.name = strdup(plan->cfg->name)) == NULL || modules == NULL) return core_error_set(err, ENOMEM, "allocating");

  /* Only the initramfs is encrypted: the kernel is the distribution's public build, the
   * runtime config is what the launcher must read to set the machine up, and the SBOM and
   * provenance describe the artifact to whoever holds it (spec/trust.md). */
  if (link_initramfs(plan, reporter, &kernel, &initramfs, &d_initramfs, &initramfs_size, modules, &pkgs, &warnings,
                     err) < 0 ||
      (enc && core_encrypt_fd(enc, &initramfs, &d_initramfs, &initramfs_size, &d_plain, &plain_size, err) < 0) ||
      add_blob(&app.blobs, &kernel.image, &d_kernel, &kernel_size, err) < 0 ||
      core_blob_set_add_fd(&app.blobs, TAKE_FD(initramfs), initramfs_size, &d_initramfs, err) < 0 ||
      runtime_config(plan->cfg, modules, &config, err) < 0 || add_blob(&app.blobs, &config, &d_config, &config_size, err) < 0)
    return -1;
  json_t *initramfs_desc = initramfs_descriptor(&d_initramfs, initramfs_size, enc ? &d_plain : NULL, plain_size, err);
  if (initramfs_desc == NULL) return -1;
  json_t *layers = json_pack("[o, o]", titled(core_oci_descriptor(TIM_MT_KERNEL, &d_kernel, kernel_size), "vmlinuz"),
                             initramfs_desc);
  core_provenance_subjects subjects = {.kernel = d_kernel, .initramfs = enc ? d_plain : d_initramfs, .config = d_config};
  if (layers == NULL) return core_error_set(err, ENOMEM, "building the manifest");
  if (link_documents(plan, &pkgs, &subjects, &app.blobs, layers, err) < 0) return json_decref(layers), -1;
  manifest = json_pack("{s:i, s:s, s:s, s:o, s:o, s:{s:s}}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST,
                       "artifactType", TIM_ARTIFACT_TYPE, "config",
                       core_oci_descriptor(TIM_MT_CONFIG, &d_config, config_size), "layers", layers, "annotations",
                       "dev.core.app.name", plan->cfg->name);
  if (manifest == NULL) return core_error_set(err, ENOMEM, "building the manifest");
  /* app.yml's version, signed with the manifest: a trust policy's rollback rule reads it. */
  if (plan->cfg->version &&
      json_object_set_new(json_object_get(manifest, "annotations"), OCI_ANN_VERSION, json_string(plan->cfg->version)) < 0)
    return core_error_set(err, ENOMEM, "building the manifest");
  if (core_json_dump(manifest, &manifest_text, err) < 0 ||
      add_blob(&app.blobs, &manifest_text, &app.manifest, &app.manifest_size, err) < 0)
    return -1;
  core_report_notice(reporter, warnings);
  *out = app;
  memset(&app, 0, sizeof app); /* handed on */
  return 0;
}
