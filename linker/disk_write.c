/* The disk forms' write path (spec/formats.md, "Writing"). */
#include "disk_write.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"
#include "disk_layout.h"
#include "fsutil.h"
#include "json.h"
#include "oci.h"
#include "qcow2_write.h"
#include "seal.h"

#define MIB (1u << 20)

static core_blob *find_blob(core_blob_set *set, const char *digest) {
  for (size_t i = 0; i < set->n; i++)
    if (strcmp(set->blobs[i].digest.str, digest) == 0) return &set->blobs[i];
  return NULL;
}

/* A boot file from the build host: its path may be moved by an environment variable. */
static int read_boot_file(const char *var, const char *fallback, const char *package, core_buf *out, core_error **err) {
  const char *path = getenv(var);
  if (path == NULL || *path == 0) path = fallback;
  if (core_read_file(path, out, err) < 0)
    return core_error_wrap(err, "reading the boot file %s (install Debian's %s package, or set %s)", path, package, var);
  return 0;
}

static const char *layer_digest(json_t *manifest, const char *media_type) {
  size_t i;
  json_t *d;
  json_array_foreach(json_object_get(manifest, "layers"), i, d) {
    const char *mt = json_string_value(json_object_get(d, "mediaType"));
    if (mt && strcmp(mt, media_type) == 0) return json_string_value(json_object_get(d, "digest"));
  }
  return NULL;
}

static int set_number(json_t *obj, const char *key, uint64_t v) {
  char s[24];
  snprintf(s, sizeof s, "%" PRIu64, v);
  return json_object_set_new(obj, key, json_string(s));
}

/* Hashes the image's content as a raw file holds it (holes as zeros), without writing it. */
static int hash_image(const core_image *img, core_digest *out, core_error **err) {
  cleanup_hasher core_hasher *h = NULL;
  cleanup_free uint8_t *buf = malloc(MIB);
  if (buf == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (core_hasher_new(&h, err) < 0) return -1;
  for (uint64_t at = 0; at < img->size; at += MIB) {
    size_t n = img->size - at < MIB ? (size_t)(img->size - at) : MIB;
    if (core_image_read(img, at, buf, n, err) < 0 || core_hasher_update(h, buf, n, err) < 0) return -1;
  }
  return core_hasher_final(h, out, err);
}

/* The digests the manifest signs, one per file form of this layout. */
typedef struct form_digest {
  const char *form; /* raw, qcow2, iso */
  core_digest digest;
  uint64_t size;
} form_digest;

static int set_form_digest(json_t *ann, const form_digest *d) {
  char key[64];
  snprintf(key, sizeof key, CORE_ANN_IMAGE_PREFIX "%s.digest", d->form);
  if (json_object_set_new(ann, key, json_string(d->digest.str)) < 0) return -1;
  snprintf(key, sizeof key, CORE_ANN_IMAGE_PREFIX "%s.size", d->form);
  return set_number(ann, key, d->size);
}

/* The app manifest of the disk form: the TIM's, plus what ties it to the files. */
static int disk_manifest(json_t *tim_manifest, const char *format, const form_digest *digests, size_t n_digests,
                         const core_disk_layout *l, uint64_t meta_size, core_buf *out, core_error **err) {
  cleanup_json json_t *m = json_deep_copy(tim_manifest);
  if (m == NULL) return core_error_set(err, ENOMEM, "copying the manifest");
  size_t i;
  json_t *d;
  json_array_foreach(json_object_get(m, "layers"), i, d) {
    /* Only the kernel and initramfs are on the disk; the rest (SBOM, provenance) stays in the
     * metadata, where write_meta keeps every blob but those two. */
    const char *mt = json_string_value(json_object_get(d, "mediaType"));
    int kernel = strcmp(mt, TIM_MT_KERNEL) == 0;
    if (!kernel && strcmp(mt, TIM_MT_INITRAMFS) != 0 && strcmp(mt, TIM_MT_INITRAMFS_AGE) != 0) continue;
    uint64_t at = kernel ? l->kernel_at : l->initrd_at;
    if (set_number(json_object_get(d, "annotations"), CORE_ANN_BLOB_OFFSET, at) < 0)
      return core_error_set(err, ENOMEM, "building the manifest");
  }
  json_t *ann = json_object_get(m, "annotations");
  if (json_object_set_new(ann, CORE_ANN_IMAGE_FORMAT, json_string(format)) < 0 ||
      set_number(ann, CORE_ANN_META_OFFSET, l->meta_at) < 0 || set_number(ann, CORE_ANN_META_SIZE, meta_size) < 0)
    return core_error_set(err, ENOMEM, "building the manifest");
  for (size_t k = 0; k < n_digests; k++)
    if (set_form_digest(ann, &digests[k]) < 0) return core_error_set(err, ENOMEM, "building the manifest");
  return core_json_dump(m, out, err);
}

/* Writes the qcow2 of the layout into FD and hashes it. */
static int write_qcow2(const core_image *img, int fd, form_digest *d, core_error **err) {
  if (core_qcow2_write(img, fd, err) < 0) return -1;
  return core_digest_fd(fd, "the qcow2", &d->digest, &d->size, err);
}

/* Writes the output file with the metadata region empty; fills DIGESTS (the files' digests)
 * and *META_FILE_AT (where the region is in the output file). */
static int write_forms(core_form form, const core_disk_layout *l, int out_fd, form_digest *digests, size_t *n_digests,
                       uint64_t *meta_file_at, core_error **err) {
  *meta_file_at = l->meta_at;
  if (form == CORE_FORM_ISO) {
    digests[0] = (form_digest){.form = "iso"};
    *n_digests = 1;
    if (core_image_write_raw(&l->image, out_fd, err) < 0) return -1;
    return core_digest_fd(out_fd, "the ISO", &digests[0].digest, &digests[0].size, err);
  }
  /* A raw disk and its qcow2 are one artifact: both digests, whichever file is wanted. */
  digests[0] = (form_digest){.form = "raw", .size = l->image.size};
  digests[1] = (form_digest){.form = "qcow2"};
  *n_digests = 2;
  if (hash_image(&l->image, &digests[0].digest, err) < 0) return -1;
  if (form == CORE_FORM_RAW) {
    cleanup_close int scratch = memfd_create("core-qcow2", MFD_CLOEXEC);
    if (scratch < 0) return core_error_set(err, errno, "creating a memfd");
    if (write_qcow2(&l->image, scratch, &digests[1], err) < 0) return -1;
    return core_image_write_raw(&l->image, out_fd, err);
  }
  int allocated = 0;
  if (write_qcow2(&l->image, out_fd, &digests[1], err) < 0 ||
      core_qcow2_file_offset(&l->image, l->meta_at, meta_file_at, &allocated, err) < 0)
    return -1;
  if (!allocated) return core_error_set(err, 0, "internal: the metadata region is not allocated in the qcow2");
  return 0;
}

/* The signed metadata: the TIM layout of every blob but the two the disk holds elsewhere (the
 * SBOM and provenance included: they have no place on the disk but here). */
static int write_meta(core_linked_app *app, const core_buf *index_json, const char *kernel, const char *initrd,
                      const char *unused_manifest, core_buf *out, core_error **err) {
  cleanup_free core_blob *kept = calloc(app->blobs.n, sizeof *kept);
  if (kept == NULL) return core_error_set(err, ENOMEM, "allocating");
  core_blob_set view = {kept, 0};
  for (size_t i = 0; i < app->blobs.n; i++) {
    const char *d = app->blobs.blobs[i].digest.str;
    if (strcmp(d, kernel) && strcmp(d, initrd) && strcmp(d, unused_manifest)) kept[view.n++] = app->blobs.blobs[i];
  }
  cleanup_close int fd = memfd_create("core-meta", MFD_CLOEXEC);
  if (fd < 0) return core_error_set(err, errno, "creating a memfd");
  if (core_tim_write_fd(fd, index_json, &view, err) < 0) return -1;
  off_t len = lseek(fd, 0, SEEK_CUR);
  if (len < 0 || core_buf_reserve(out, (size_t)len, err) < 0) return core_error_set(err, errno, "reading the metadata");
  if (core_pread_exact(fd, out->data, (size_t)len, 0, "the metadata", err) < 0) return -1;
  out->len = (size_t)len;
  return 0;
}

int core_disk_write(core_linked_app *app, EVP_PKEY *const *keys, size_t n_keys, const core_disk_opts *o, const char *out_path,
                    core_error **err) {
  core_blob *mblob = find_blob(&app->blobs, app->manifest.str);
  cleanup_json json_t *manifest = NULL, *config = NULL;
  cleanup_buf core_buf mtext = CORE_BUF_INIT, ctext = CORE_BUF_INIT;
  if (mblob == NULL || core_blob_read(mblob, &mtext, err) < 0 || core_json_parse(mtext.data, mtext.len, &manifest, err) < 0)
    return core_error_set(err, 0, "internal: the linked app has no manifest");
  const char *kd = layer_digest(manifest, TIM_MT_KERNEL), *id = layer_digest(manifest, TIM_MT_INITRAMFS);
  int encrypted = id == NULL && (id = layer_digest(manifest, TIM_MT_INITRAMFS_AGE)) != NULL;
  const char *cd = json_string_value(json_object_get(json_object_get(manifest, "config"), "digest"));
  core_blob *kernel = kd ? find_blob(&app->blobs, kd) : NULL, *initrd = id ? find_blob(&app->blobs, id) : NULL;
  core_blob *cblob = cd ? find_blob(&app->blobs, cd) : NULL;
  if (!kernel || !initrd || !cblob || kernel->fd >= 0 || core_blob_read(cblob, &ctext, err) < 0 ||
      core_json_parse(ctext.data, ctext.len, &config, err) < 0)
    return core_error_set(err, 0, "internal: the linked app lacks its kernel (in memory), initramfs or config");

  /* The launcher's part of the command line (as corerun gives it under QEMU), then the app's. */
  const char *app_cmdline = json_string_value(json_object_get(json_object_get(config, "kernel"), "cmdline"));
  cleanup_free char *cmdline = NULL;
  if (asprintf(&cmdline, "console=ttyS0 panic=-1%s%s", app_cmdline && *app_cmdline ? " " : "", app_cmdline ? app_cmdline : "") < 0)
    return core_error_set(err, ENOMEM, "allocating");

  cleanup_buf core_buf stub = CORE_BUF_INIT, isolinux = CORE_BUF_INIT, ldlinux = CORE_BUF_INIT;
  /* An encrypted app has no firmware boot path: no loader is read. */
  if (!encrypted && read_boot_file("CORE_EFI_STUB", CORE_EFI_STUB_DEFAULT, "systemd-boot-efi", &stub, err) < 0) return -1;
  if (!encrypted && o->form == CORE_FORM_ISO &&
      (read_boot_file("CORE_ISOLINUX_BIN", CORE_ISOLINUX_BIN_DEFAULT, "isolinux", &isolinux, err) < 0 ||
       read_boot_file("CORE_LDLINUX_C32", CORE_LDLINUX_C32_DEFAULT, "syslinux-common", &ldlinux, err) < 0))
    return -1;

  /* Room for the metadata: its blobs, and signatures added later (key rotation). */
  uint64_t small = 0;
  for (size_t i = 0; i < app->blobs.n; i++)
    if (&app->blobs.blobs[i] != kernel && &app->blobs.blobs[i] != initrd) small += app->blobs.blobs[i].size;
  uint64_t meta_size = (small + 256 * 1024 + MIB - 1) / MIB * MIB;

  core_disk_content content = {.name = app->name, .cmdline = cmdline, .kernel = {kernel->data.data, -1, kernel->size},
                               .initrd = {initrd->fd >= 0 ? NULL : initrd->data.data, initrd->fd, initrd->size},
                               .efi_stub = &stub, .isolinux_bin = &isolinux, .ldlinux_c32 = &ldlinux,
                               .seed = &app->manifest, .mtime = o->mtime, .meta_size = meta_size,
                               .disk_size = o->disk_size, .encrypted = encrypted};
  cleanup_disk_layout core_disk_layout layout = {.image = CORE_IMAGE_INIT};
  if (core_disk_layout_build(o->form, &content, &layout, err) < 0) return -1;

  cleanup_atomic_file core_atomic_file f = {.fd = -1};
  if (core_atomic_open(&f, out_path, 0644, err) < 0) return -1;
  form_digest digests[2];
  size_t n_digests = 0;
  uint64_t meta_file_at;
  if (write_forms(o->form, &layout, f.fd, digests, &n_digests, &meta_file_at, err) < 0)
    return core_error_wrap(err, "writing '%s'", out_path);

  cleanup_buf core_buf text = CORE_BUF_INIT, index_json = CORE_BUF_INIT, meta = CORE_BUF_INIT;
  core_digest tim_manifest = app->manifest;
  const char *format = o->form == CORE_FORM_ISO ? CORE_FORMAT_ISO : CORE_FORMAT_DISK;
  if (disk_manifest(manifest, format, digests, n_digests, &layout, meta_size, &text, err) < 0) return -1;
  app->manifest_size = text.len;
  if (core_blob_set_add(&app->blobs, &text, &app->manifest, err) < 0) return -1;
  if (core_seal(app, keys, n_keys, &index_json, err) < 0) return -1;
  if (write_meta(app, &index_json, kd, id, tim_manifest.str, &meta, err) < 0) return -1;
  if (meta.len > meta_size)
    return core_error_set(err, 0, "the signed metadata (%zu bytes) does not fit the %llu bytes reserved for it", meta.len,
                          (unsigned long long)meta_size);
  if (core_pwrite_all(f.fd, meta.data, meta.len, meta_file_at, err) < 0) return core_error_wrap(err, "writing '%s'", out_path);
  return core_atomic_commit(&f, err);
}
