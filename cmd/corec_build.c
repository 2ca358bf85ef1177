/* corec build: the whole pipeline, readable in one place. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "load.h"
#include "load_flags.h"
#include "cleanup.h"
#include "corec.h"
#include "corec_fetch_flags.h"
#include "corec_reporter.h"
#include "json.h"
#include "keys.h"
#include "link.h"
#include "corec_kernel_cache.h"
#include "corec_link_cache.h"
#include "plan.h"
#include "check.h"
#include "disk_form.h"
#include "disk_write.h"
#include "seal.h"
#include "corec_encrypt_flags.h"

static const char build_help[] =
    "usage: corec build [OPTIONS] APP.yml\n"
    "\n"
    "Compiles APP.yml into a signed artifact and prints its digest (sha256:...). The format follows\n"
    "the output's extension: .tim (corerun's own), .img or .raw (a GPT disk that boots with UEFI),\n"
    ".qcow2 (the same disk as qcow2), .iso (boots from a CD with BIOS or UEFI). Every format is\n"
    "signed and verified by corerun; spec/formats.md describes them.\n"
    "\n"
    "  -o, --output FILE     where to write the artifact (default: NAME.tim, or NAME.<format>)\n"
    "      --format FORMAT   tim, raw, qcow2 or iso, whatever the output's name\n"
    "      --disk-size SIZE  size of a raw or qcow2 disk (e.g. 1G; default: what the app needs); the\n"
    "                        space past the partitions stays unallocated\n"
    "      --sign-key FILE   Ed25519 private key (PEM) to sign with (default: the default key in\n"
    "                        $CORE_HOME/keys/, created and trusted on first use); repeat it for\n"
    "                        one signature per key, in the order given (at most 16)\n"
    "      --sign-passphrase-file FILE\n"
    "                        the passphrase of encrypted signing keys, on FILE's first line\n"
    "                        (else $CORE_SIGN_PASSPHRASE_FILE, else asked on the terminal)\n"
    "      --encrypt-to RECIPIENT\n"
    "                        encrypt the initramfs to this age recipient (age1..., as age-keygen\n"
    "                        prints it); repeatable; corerun then needs a matching --identity\n"
    "      --encrypt-recipients-file FILE\n"
    "                        encrypt to every age1... line of FILE ('#' comments, as age -R)\n"
    "      --encrypt-passphrase-file FILE\n"
    "                        encrypt to the passphrase on FILE's first line instead (scrypt,\n"
    "                        work factor 2^18); not together with recipients, as in age\n"
    "                        An encrypted raw, qcow2 or ISO holds no boot loader: only corerun\n"
    "                        runs it (spec/trust.md, \"Encryption\")\n"
    "      --locked          fail if app.lock would change (CI); with --update-lock: fail if upstream moved\n"
    "      --offline         use only the content store and app.lock; never touch the network\n"
    "      --update-lock     re-resolve refs, tags and package versions and rewrite app.lock\n"
    "      --no-cache        link from scratch, neither using nor filling the link cache (by\n"
    "                        default an unchanged app's linked blobs are reused from it: the same\n"
    "                        bytes, sooner). Encrypted builds never use it; the kernel cache is\n"
    "                        used either way (spec/store.md, \"The link cache\")\n"
    COREC_FETCH_FLAGS_HELP
    CORE_LOAD_FLAGS_HELP
    "  -h, --help            show this help\n"
    "\n"
    "Environment:\n"
    "  CORE_MAX_FILE_SIZE    largest file a rootfs layer may hold (default 1G; units K, M, G, T)\n"
    "  CORE_MAX_ROOTFS_SIZE  most file data all layers together may hold (default 4G)\n"
    "  CORE_EFI_STUB         systemd's EFI stub for disk forms (default " CORE_EFI_STUB_DEFAULT ")\n"
    "  CORE_ISOLINUX_BIN     ISOLINUX for ISOs (default " CORE_ISOLINUX_BIN_DEFAULT ")\n"
    "  CORE_LDLINUX_C32      its ldlinux.c32 (default " CORE_LDLINUX_C32_DEFAULT ")\n"
    "  CORE_ZSTD_WORKERS     threads compressing the initramfs (default: the CPUs, at most 4;\n"
    "                        the bytes are the same whatever the number)\n"
    "  TMPDIR                where file data is spooled while linking (default /tmp; needs room\n"
    "                        for the root file system)\n"
    "  SOURCE_DATE_EPOCH     every timestamp written (default 0)\n";

/* core_link, or its result from the link cache when this exact link was done before. An
 * encrypted build never uses the cache: its ciphertext is new on every build (a fresh file
 * key), and a passphrase or recipient must never become part of a key kept on disk. */
static int link_or_reuse(const core_plan *plan, const core_load_opts *lo, const corec_fetch_flags *ff,
                         core_reporter *reporter, int no_cache, const core_encryption *enc, core_linked_app *app,
                         core_error **err) {
  /* The kernel package's files are cached in the same store (kernel_cache.h), --no-cache or not. */
  corec_kernel_cache_install(ff->resolve.store_dir);
  if (no_cache || enc) return core_link(plan, reporter, enc, app, err);
  cleanup_store core_store *store = NULL;
  core_digest key;
  if (core_store_open(ff->resolve.store_dir, &store, err) < 0 || core_link_cache_key(plan, lo, &key, err) < 0)
    return -1;
  cleanup_free char *warnings = NULL, *why = NULL;
  int hit = core_link_cache_load(store, &key, plan->cfg->name, app, &warnings, &why, err);
  if (hit < 0) return -1;
  core_report_notice(reporter, why);
  if (hit) {
    core_report_notice(reporter, warnings); /* the same warnings as the link that made it */
    return 0;
  }
  cleanup_capture_reporter core_capture_reporter capture;
  core_capture_reporter_init(&capture, reporter);
  core_buf *notices = &capture.notices;
  if (core_link(plan, &capture.base, enc, app, err) < 0) return -1;
  if (core_buf_append(notices, "", 1, err) < 0) return -1;
  /* A build that cannot fill the cache (a full disk) still succeeds: the cache only saves time. */
  cleanup_error core_error *cause = NULL;
  if (core_link_cache_save(store, &key, app, notices->len > 1 ? (const char *)notices->data : NULL, &cause) < 0) {
    cleanup_free char *text = NULL;
    if (asprintf(&text, "corec: warning: the link cache was not updated: %s", cause->msg) >= 0)
      core_report_notice(reporter, text);
  }
  return 0;
}

int corec_build(int argc, char **argv, core_error **err) {
  static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                       {"sign-key", required_argument, NULL, 'k'},
                                       {"sign-passphrase-file", required_argument, NULL, 'P'},
                                       {"help", no_argument, NULL, 'h'},
                                       {"locked", no_argument, NULL, 'L'},
                                       {"offline", no_argument, NULL, 'O'},
                                       {"update-lock", no_argument, NULL, 'U'},
                                       {"format", required_argument, NULL, 'F'},
                                       {"disk-size", required_argument, NULL, 'D'},
                                       {"encrypt-to", required_argument, NULL, 'E'},
                                       {"encrypt-recipients-file", required_argument, NULL, 'R'},
                                       {"encrypt-passphrase-file", required_argument, NULL, 'W'},
                                       {"no-cache", no_argument, NULL, 'N'},
                                       COREC_FETCH_OPTIONS,
                                       CORE_LOAD_OPTIONS,
                                       {0, 0, 0, 0}};
  const char *output = NULL, *format = NULL, *disk_size = NULL, *passphrase_file = NULL;
  const char *sign_keys[COREC_MAX_KEYS];
  size_t n_sign_keys = 0;
  cleanup_corec_encryption corec_encryption enc = {0};
  corec_fetch_flags ff = {0};
  cleanup_load_opts core_load_opts lo = CORE_LOAD_OPTS_INIT;
  int c, no_cache = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
    switch (c) {
      case 'o': output = optarg; break;
      case 'k':
        if (n_sign_keys == COREC_MAX_KEYS) return core_error_set(err, 0, "at most %d --sign-key", COREC_MAX_KEYS);
        sign_keys[n_sign_keys++] = optarg;
        break;
      case 'P': passphrase_file = optarg; break;
      case 'h': fputs(build_help, stdout); return 0;
      case 'L': ff.resolve.locked = 1; break;
      case 'O': ff.resolve.offline = 1; break;
      case 'U': ff.resolve.update_lock = 1; break;
      case 'F': format = optarg; break;
      case 'D': disk_size = optarg; break;
      case 'N': no_cache = 1; break;
      case 'E':
      case 'R':
      case 'W':
        if (corec_encryption_flag(&enc, c, optarg, err) < 0) return -1;
        break;
      default: {
        if (corec_fetch_flag_set(&ff, c, optarg)) break;
        int r = core_load_opts_set(&lo, c, optarg, err);
        if (r < 0) return -1;
        if (r == 0) return fputs(build_help, stderr), 2;
      }
    }
  }
  if (optind != argc - 1) return core_error_set(err, 0, "build takes one app.yml; see 'corec build --help'");
  /* Everything about the output is checked before any work is done. */
  core_disk_opts disk = {.form = CORE_FORM_TIM};
  if (format ? core_form_parse(format, &disk.form, err) < 0
             : output && core_form_from_path(output, &disk.form, err) < 0)
    return -1;
  if (disk_size) {
    if (disk.form != CORE_FORM_RAW && disk.form != CORE_FORM_QCOW2)
      return core_error_set(err, 0, "--disk-size applies to raw and qcow2 disks, not to a %s", core_form_name(disk.form));
    if (core_parse_size(disk_size, &disk.disk_size) < 0 || disk.disk_size == 0 || disk.disk_size % 512)
      return core_error_set(err, 0, "--disk-size '%s' is not a size in bytes that is a multiple of 512 (e.g. 1G, 512M)", disk_size);
  }

  if (corec_encryption_finish(&enc, err) < 0) return -1;

  /* parse + check -> plan (resolve, pin) -> link -> seal (sign) -> write */
  cleanup_app_config core_app_config *cfg = NULL;
  cleanup_plan core_plan *plan = NULL;
  cleanup_linked_app core_linked_app app = {0};
  cleanup_corec_keys corec_keys keys = {.n = 0};
  /* The one reporter of this build: downloads, unpacking and warnings all go through it. */
  cleanup_corec_reporter core_reporter *reporter = NULL;
  if (corec_load_and_plan(argv[optind], &lo, &ff, &reporter, &cfg, &plan, err) < 0) return -1;
  cleanup_free char *default_output = NULL;
  if (output == NULL) {
    const char *ext = disk.form == CORE_FORM_RAW ? "img" : core_form_name(disk.form);
    if (asprintf(&default_output, "%s.%s", cfg->name, ext) < 0) return core_error_set(err, 0, "out of memory");
    output = default_output;
  }
  if (corec_keys_load(&keys, sign_keys, n_sign_keys, passphrase_file, err) < 0) return -1;
  if (link_or_reuse(plan, &lo, &ff, reporter, no_cache, enc.wanted ? &enc.spec : NULL, &app, err) < 0) return -1;
  disk.mtime = plan->source_date_epoch;
  if (disk.form == CORE_FORM_TIM ? core_seal_and_write(&app, keys.keys, keys.n, output, err) < 0
                                 : core_disk_write(&app, keys.keys, keys.n, &disk, output, err) < 0)
    return -1;
  printf("%s\n", app.manifest.str);
  return 0;
}
