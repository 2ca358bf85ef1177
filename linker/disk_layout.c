/* GPT disk and ISO layouts for the disk forms. */
#include "disk_layout.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "fat.h"
#include "gpt.h"
#include "iso9660.h"
#include "uki.h"

#define MIB (1u << 20)
#define SECTOR 512u
/* The EFI system partition's type (UEFI specification, 5.3.3). */
#define GPT_TYPE_ESP "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
/* core's own partition type for the signed-metadata partition (spec/formats.md). */
#define GPT_TYPE_CORE_META "A516400A-7A6E-4F73-A732-A3C547AEA6B5"

static uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

void core_disk_layout_release(core_disk_layout *l) { core_image_release(&l->image); }

/* The UKI, as a file: EFI/BOOT/BOOTX64.EFI in a FAT file system. */
static int build_uki(const core_disk_content *c, core_image *uki, uint64_t *kernel_at, uint64_t *initrd_at,
                     core_error **err) {
  char osrel[256];
  snprintf(osrel, sizeof osrel, "ID=core\nNAME=\"%s\"\nPRETTY_NAME=\"%s (core)\"\n", c->name, c->name);
  core_uki_input in = {.stub = c->efi_stub->data, .stub_size = c->efi_stub->len, .stub_name = "the EFI stub",
                       .cmdline = c->cmdline, .osrel = osrel, .kernel = c->kernel.data, .kernel_size = c->kernel.size,
                       .initrd = c->initrd.data, .initrd_size = c->initrd.size, .initrd_fd = c->initrd.fd};
  return core_uki_build(&in, uki, kernel_at, initrd_at, err);
}

/* The FAT volume serial: the first 8 hex digits of the seed, so two builds agree. */
static uint32_t fat_serial(const core_digest *seed) {
  uint32_t serial = 0;
  for (int i = 0; i < 8; i++) {
    char h = seed->str[7 + i];
    serial = serial << 4 | (uint32_t)(isdigit((unsigned char)h) ? h - '0' : h - 'a' + 10);
  }
  return serial;
}

/* A FAT file system holding only the UKI. *uki_at: where the UKI's first byte is in it. */
static int build_esp(const core_disk_content *c, int fat_bits, core_image *fs, uint64_t *uki_at, uint64_t *kernel_at,
                     uint64_t *initrd_at, core_error **err) {
  cleanup_image core_image uki = CORE_IMAGE_INIT;
  if (build_uki(c, &uki, kernel_at, initrd_at, err) < 0) return -1;
  core_fat_file files[] = {{.path = "EFI/BOOT/BOOTX64.EFI", .content = &uki}};
  core_fat_opts o = {.size = 0, .fat_bits = fat_bits, .label = "CORE-EFI", .serial = fat_serial(c->seed), .mtime = c->mtime};
  if (core_fat_build(files, 1, &o, fs, uki_at, err) < 0) return core_error_wrap(err, "the EFI system partition");
  *kernel_at += *uki_at;
  *initrd_at += *uki_at;
  return 0;
}

static int image_of(const core_buf *b, core_image *img, core_error **err) {
  img->size = b->len;
  return core_image_add_ref(img, 0, b->data, b->len, err);
}

/* The kernel or initramfs as a file of the image: a reference to memory, or an fd extent. */
static int image_of_bytes(const core_disk_bytes *b, core_image *img, core_error **err) {
  img->size = b->size;
  if (b->data == NULL) return core_image_add_fd(img, 0, b->fd, 0, b->size, err);
  return core_image_add_ref(img, 0, b->data, b->size, err);
}

/* An encrypted app's partition: the kernel and the age file as plain files, no loader. Firmware
 * finds nothing to boot; corerun reads both from the signed offsets and decrypts. */
static int build_payload_fs(const core_disk_content *c, core_image *fs, uint64_t *kernel_at, uint64_t *initrd_at,
                            core_error **err) {
  cleanup_image core_image kernel = CORE_IMAGE_INIT, initrd = CORE_IMAGE_INIT;
  if (image_of_bytes(&c->kernel, &kernel, err) < 0 || image_of_bytes(&c->initrd, &initrd, err) < 0) return -1;
  core_fat_file files[] = {{.path = "CORE/VMLINUZ", .content = &kernel}, {.path = "CORE/INITRD.AGE", .content = &initrd}};
  uint64_t at[2];
  core_fat_opts o = {.size = 0, .fat_bits = 32, .label = "CORE-DATA", .serial = fat_serial(c->seed), .mtime = c->mtime};
  if (core_fat_build(files, 2, &o, fs, at, err) < 0) return core_error_wrap(err, "the payload partition");
  *kernel_at = at[0];
  *initrd_at = at[1];
  return 0;
}

static int build_gpt_disk(const core_disk_content *c, core_disk_layout *out, core_error **err) {
  cleanup_image core_image esp = CORE_IMAGE_INIT, meta = CORE_IMAGE_INIT;
  uint64_t uki_at, kernel_at, initrd_at;
  /* FAT32, as the UEFI specification asks of a disk's system partition. */
  if (c->encrypted ? build_payload_fs(c, &esp, &kernel_at, &initrd_at, err) < 0
                   : build_esp(c, 32, &esp, &uki_at, &kernel_at, &initrd_at, err) < 0)
    return -1;
  meta.size = c->meta_size;
  if (core_image_add_zero(&meta, 0, c->meta_size, err) < 0) return -1;
  uint64_t meta_lba = CORE_DISK_META_OFFSET / SECTOR, meta_sectors = c->meta_size / SECTOR;
  uint64_t esp_lba = round_up(meta_lba + meta_sectors, MIB / SECTOR), esp_sectors = round_up(esp.size, MIB) / SECTOR;
  /* A MiB after the last partition: room for the backup GPT (33 sectors), and alignment. */
  uint64_t needed = (esp_lba + esp_sectors) * SECTOR + MIB;
  uint64_t size = c->disk_size ? c->disk_size : needed;
  if (size < needed)
    return core_error_set(err, 0, "--disk-size %llu is too small: this app needs a disk of at least %llu bytes (%llu MiB)",
                          (unsigned long long)size, (unsigned long long)needed, (unsigned long long)(needed / MIB));
  if (size % SECTOR) return core_error_set(err, 0, "--disk-size must be a multiple of 512 bytes");
  core_gpt_partition parts[2] = {
      {.name = "core-metadata", .first_lba = meta_lba, .n_lba = meta_sectors, .content = &meta},
      {.name = "EFI System Partition", .first_lba = esp_lba, .n_lba = esp_sectors, .content = &esp},
  };
  if (core_guid_parse(GPT_TYPE_CORE_META, parts[0].type_guid, err) < 0 ||
      core_guid_parse(GPT_TYPE_ESP, parts[1].type_guid, err) < 0)
    return -1;
  if (core_gpt_build(size, parts, 2, c->seed, &out->image, err) < 0) return core_error_wrap(err, "the partition table");
  out->meta_at = meta_lba * SECTOR;
  out->kernel_at = esp_lba * SECTOR + kernel_at;
  out->initrd_at = esp_lba * SECTOR + initrd_at;
  return 0;
}

/* The ISO 9660 volume identifier: the app's name in d-characters (A-Z, 0-9, _). */
static void volume_id(const char *name, char out[33]) {
  size_t n = 0;
  for (; *name && n < 32; name++) out[n++] = isalnum((unsigned char)*name) ? (char)toupper((unsigned char)*name) : '_';
  out[n] = 0;
  if (n == 0) snprintf(out, 33, "CORE");
}

/* The ISO of FILES, whose first two are the kernel and the initramfs (their offsets are the
 * layout's); BIOS and EFI name the El Torito entries, or NULL for none. */
static int write_iso(const core_disk_content *c, const core_iso_file *files, size_t n, const char *bios, const char *efi,
                     core_disk_layout *out, core_error **err) {
  char vol[33];
  volume_id(c->name, vol);
  core_iso_opts o = {.volume_id = vol, .mtime = c->mtime, .bios_boot = bios, .efi_boot = efi,
                     .reserved_size = c->meta_size};
  uint64_t offsets[8], reserved_at;
  if (n > sizeof offsets / sizeof *offsets) return core_error_set(err, 0, "internal: too many ISO files");
  if (core_iso_build(files, n, &o, &out->image, offsets, &reserved_at, err) < 0) return core_error_wrap(err, "the ISO");
  if (reserved_at != CORE_ISO_META_OFFSET)
    return core_error_set(err, 0, "the ISO writer put the metadata at byte %llu, not at %llu", (unsigned long long)reserved_at,
                          (unsigned long long)CORE_ISO_META_OFFSET);
  out->meta_at = reserved_at;
  out->kernel_at = offsets[0];
  out->initrd_at = offsets[1];
  return 0;
}

/* An encrypted app's ISO: the kernel and the age file, no El Torito entries (nothing boots it
 * but corerun). */
static int build_payload_iso(const core_disk_content *c, core_disk_layout *out, core_error **err) {
  cleanup_image core_image kernel = CORE_IMAGE_INIT, initrd = CORE_IMAGE_INIT;
  if (image_of_bytes(&c->kernel, &kernel, err) < 0 || image_of_bytes(&c->initrd, &initrd, err) < 0) return -1;
  core_iso_file files[] = {{.path = "CORE/VMLINUZ", .content = &kernel}, {.path = "CORE/INITRD.AGE", .content = &initrd}};
  return write_iso(c, files, 2, NULL, NULL, out, err);
}

static int build_iso(const core_disk_content *c, core_disk_layout *out, core_error **err) {
  if (c->encrypted) return build_payload_iso(c, out, err);
  cleanup_image core_image efi = CORE_IMAGE_INIT, kernel = CORE_IMAGE_INIT, initrd = CORE_IMAGE_INIT,
                           isolinux = CORE_IMAGE_INIT, ldlinux = CORE_IMAGE_INIT, cfg = CORE_IMAGE_INIT;
  uint64_t uki_at, k, i;
  /* The El Torito image: the smallest FAT that holds the UKI. */
  if (build_esp(c, 0, &efi, &uki_at, &k, &i, err) < 0) return -1;
  cleanup_buf core_buf cfg_text = CORE_BUF_INIT;
  /* ISOLINUX reads the same kernel and initramfs as separate files: BIOS cannot run the UKI. */
  if (core_buf_appendf(&cfg_text, err,
                       "SERIAL 0 115200\nPROMPT 0\nTIMEOUT 0\nDEFAULT core\nLABEL core\n  KERNEL /CORE/VMLINUZ\n"
                       "  INITRD /CORE/INITRD\n  APPEND %s\n", c->cmdline) < 0 ||
      image_of_bytes(&c->kernel, &kernel, err) < 0 || image_of_bytes(&c->initrd, &initrd, err) < 0 ||
      image_of(c->isolinux_bin, &isolinux, err) < 0 || image_of(c->ldlinux_c32, &ldlinux, err) < 0 ||
      (cfg.size = cfg_text.len, core_image_add_copy(&cfg, 0, cfg_text.data, cfg_text.len, err)) < 0)
    return -1;
  core_iso_file files[] = {
      {.path = "CORE/VMLINUZ", .content = &kernel},          {.path = "CORE/INITRD", .content = &initrd},
      {.path = "EFI/BOOT/EFIBOOT.IMG", .content = &efi},     {.path = "ISOLINUX/ISOLINUX.BIN", .content = &isolinux},
      {.path = "ISOLINUX/LDLINUX.C32", .content = &ldlinux}, {.path = "ISOLINUX/ISOLINUX.CFG", .content = &cfg},
  };
  return write_iso(c, files, sizeof files / sizeof *files, "ISOLINUX/ISOLINUX.BIN", "EFI/BOOT/EFIBOOT.IMG", out, err);
}

int core_disk_layout_build(core_form form, const core_disk_content *c, core_disk_layout *out, core_error **err) {
  *out = (core_disk_layout){.image = CORE_IMAGE_INIT};
  int r;
  switch (form) {
    case CORE_FORM_RAW:
    case CORE_FORM_QCOW2: r = build_gpt_disk(c, out, err); break;
    case CORE_FORM_ISO: r = build_iso(c, out, err); break;
    default: return core_error_set(err, 0, "a TIM has no disk layout");
  }
  if (r < 0) return -1;
  return core_image_finish(&out->image, err);
}
