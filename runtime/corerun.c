/* corerun: boots only artifacts it can verify, and returns the guest's exit status.
 * Exit status: the guest main command's, or 125 when corerun itself fails or refuses. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accel.h"
#include "cleanup.h"
#include "decrypt.h"
#include "devices.h"
#include "json.h"
#include "policy.h"
#include "qemu.h"
#include "run_overlay.h"
#include "tim_verify.h"
#include "trust.h"

#define CORERUN_VERSION "0.1.0"
#define CORERUN_FAILED 125
#define MAX_TRUST_FILES 16
#define MAX_POLICY_FILES 8
#define MAX_DEVICE_FLAGS 64
#define MAX_IDENTITY_FILES 16

static const char run_help[] =
    "usage: corerun [run] [OPTIONS] ARTIFACT [-- COMMAND [ARG...]]\n"
    "       corerun verify [--trust FILE] [--policy FILE] [--identity FILE] ARTIFACT\n"
    "\n"
    "Verifies ARTIFACT (signature by a trusted key, then every blob digest) and boots it under\n"
    "QEMU, streaming the guest console. ARTIFACT is any form corec writes: .tim, or a raw disk,\n"
    "qcow2 or ISO, of which every byte is checked against the signed digest; QEMU gets verified\n"
    "memory copies of the kernel and initramfs, never the file. Exits with the exit status of\n"
    "the guest's main command, or 125 when the artifact is refused or corerun fails.\n"
    "'-- COMMAND' replaces the main command.\n"
    "\n"
    "  --trust FILE       also trust this Ed25519 public key (PEM); may be repeated\n"
    "  --policy FILE      also apply this trust policy (spec/trust.md); may be repeated\n"
    "  -i, --identity FILE\n"
    "                     age identity file (as age-keygen writes it) to decrypt an encrypted\n"
    "                     artifact with; may be repeated (also: CORE_IDENTITY_FILE)\n"
    "  --passphrase-file FILE\n"
    "                     the passphrase of an artifact encrypted to one, on FILE's first line\n"
    "                     (without it, corerun asks on the terminal, with echo off)\n"
    "  --memory SIZE      guest memory, e.g. 512M or 1G (default: the artifact's)\n"
    "  --cpus N           guest CPUs (default: the artifact's)\n"
    "  --accel MODE       auto (default): KVM if /dev/kvm opens and the guest shows a sign of life\n"
    "                     within CORE_KVM_PROBE_SECONDS (default 5), else TCG; a failed probe is\n"
    "                     remembered for this host boot and QEMU version in $CORE_HOME/kvm-verdict\n"
    "                     (delete it to probe again). kvm: KVM or fail, never TCG. tcg: TCG only\n"
    "  --qemu PATH        QEMU binary (default qemu-system-x86_64, or $CORE_QEMU)\n"
    "  -p, --publish HOST:GUEST[/udp]\n"
    "                     publish a guest port (adds to, or re-maps, the app's own ports)\n"
    "  --publish-address ADDR\n"
    "                     host address published ports listen on (default 127.0.0.1)\n"
    "  --network none     no network, even if the app has one\n"
    "  -v, --volume NAME=IMAGE\n"
    "                     keep the app's volume NAME in the disk image IMAGE (created and\n"
    "                     formatted ext4 when missing); unbound volumes last one run only\n"
    "  --volume-size SIZE size of volume images corerun creates (default 1G)\n"
    "  --stop-timeout SEC when corerun is told to stop (SIGINT, SIGTERM, SIGHUP), the guest gets\n"
    "                     this long to power off cleanly before QEMU is ended (default 30)\n"
    "  -q, --quiet        no notices from corerun on stderr\n"
    "  -h, --help         show this help\n"
    "      --version      show the version\n"
    "\n"
    "Trusted keys: $CORE_HOME/trust.d/*.pub (CORE_HOME defaults to ~/.core; CORE_CONFIG_DIR\n"
    "overrides it), /etc/core/trust.d/*.pub, and --trust files. There is no way to boot an\n"
    "artifact that does not verify; a signature that claims a trusted key but does not verify\n"
    "refuses it, whatever other signatures say.\n"
    "\n"
    "Policy: /etc/core/policy.json, $CORE_HOME/policy.json and --policy files; each that exists\n"
    "must pass. A policy requires N of M named keys by artifact name (the first rule whose names\n"
    "match decides; no match is a refusal) and can refuse versions lower than the last booted\n"
    "(state in $CORE_HOME/rollback.json, recorded by a boot, never by 'verify'). A malformed\n"
    "policy refuses every run. See spec/trust.md.\n"
    "\n"
    "Encrypted artifacts: the initramfs is decrypted only after the signature, every digest and the\n"
    "policy passed, into memory (never a file), and checked against the signed plaintext digest.\n"
    "'verify' decrypts and checks it too when given a key, else it checks the ciphertext only.\n"
    "\n"
    "Environment: CORE_QEMU (the QEMU binary), CORE_HOME, CORE_CONFIG_DIR (see above),\n"
    "CORE_IDENTITY_FILE (an age identity file, as --identity),\n"
    "CORE_KVM_PROBE_SECONDS (how long a KVM guest has to say it is alive, 1 to 600 s, default 5),\n"
    "CORE_KVM_DEVICE (the KVM device, default /dev/kvm; an override for testing).\n";

typedef struct run_args {
  const char *artifact;
  const char *trust_files[MAX_TRUST_FILES];
  size_t n_trust;
  const char *policy_files[MAX_POLICY_FILES];
  size_t n_policy;
  const char *identity_files[MAX_IDENTITY_FILES];
  size_t n_identity;
  const char *passphrase_file;
  uint64_t memory_mib;
  unsigned cpus;
  core_accel accel;
  const char *qemu;
  int quiet;
  char **command;
  size_t command_argc;
  unsigned stop_timeout;
  const char *kvm_device;
  unsigned probe_seconds;
  const char *publish[MAX_DEVICE_FLAGS];
  const char *volumes[MAX_DEVICE_FLAGS];
  core_device_flags devices;
  int asked; /* 'h' (--help) or 'V' (--version) when that is all that was asked */
} run_args;

static void free_strv(char ***v) {
  for (char **p = *v; p && *p; p++) free(*p);
  free(*v);
}

static int parse_mib(const char *s, uint64_t *out) {
  char *end = NULL;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s) return -1;
  if (*end == 'G' && end[1] == 0) v *= 1024;
  else if (!(*end == 0 || (*end == 'M' && end[1] == 0))) return -1;
  if (v < 64 || v > (1ull << 20)) return -1;
  *out = v;
  return 0;
}

/* Fills a from the command line. Returns 0 to go on, 1 when --help or --version asked only for
 * text (a->asked says which; the caller prints it and exits 0), -1 with *err on bad usage.
 * It never prints or exits itself: what to do is the caller's. */
static int parse_run_args(int argc, char **argv, run_args *a, core_error **err) {
  static const struct option opts[] = {{"trust", required_argument, NULL, 't'},  {"policy", required_argument, NULL, 'P'},  {"memory", required_argument, NULL, 'm'},
                                       {"cpus", required_argument, NULL, 'c'},   {"accel", required_argument, NULL, 'a'},
                                       {"qemu", required_argument, NULL, 'Q'},   {"quiet", no_argument, NULL, 'q'},
                                       {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
                                       {"publish", required_argument, NULL, 'p'},
                                       {"publish-address", required_argument, NULL, 'A'},
                                       {"network", required_argument, NULL, 'N'},
                                       {"volume", required_argument, NULL, 'v'},
                                       {"volume-size", required_argument, NULL, 'S'},
                                       {"stop-timeout", required_argument, NULL, 'T'},
                                       {"identity", required_argument, NULL, 'i'},
                                       {"passphrase-file", required_argument, NULL, 'F'},
                                       {0, 0, 0, 0}};
  memset(a, 0, sizeof *a);
  a->qemu = getenv("CORE_QEMU");
  a->kvm_device = getenv("CORE_KVM_DEVICE");
  if (a->kvm_device && *a->kvm_device == 0) a->kvm_device = NULL;
  const char *probe = getenv("CORE_KVM_PROBE_SECONDS");
  if (probe && *probe && core_kvm_probe_seconds_parse(probe, &a->probe_seconds, err) < 0) return -1;
  int c;
  optind = 1;
  /* "+" stops at the first operand, so the guest command's own flags are left alone. */
  a->devices.publish = a->publish;
  a->devices.volumes = a->volumes;
  while ((c = getopt_long(argc, argv, "+qhp:v:i:", opts, NULL)) != -1) {
    switch (c) {
      case 'p':
        if (a->devices.n_publish == MAX_DEVICE_FLAGS) return core_error_set(err, 0, "too many --publish flags");
        a->publish[a->devices.n_publish++] = optarg;
        break;
      case 'v':
        if (a->devices.n_volumes == MAX_DEVICE_FLAGS) return core_error_set(err, 0, "too many --volume flags");
        a->volumes[a->devices.n_volumes++] = optarg;
        break;
      case 'A': a->devices.publish_address = optarg; break;
      case 'T': {
        char *end = NULL;
        long v = strtol(optarg, &end, 10);
        if (*end || v < 1 || v > 3600) return core_error_set(err, 0, "--stop-timeout '%s': give seconds from 1 to 3600", optarg);
        a->stop_timeout = (unsigned)v;
        break;
      }
      case 'N':
        if (strcmp(optarg, "none") != 0) return core_error_set(err, 0, "--network '%s': only 'none' can be chosen here", optarg);
        a->devices.no_network = 1;
        break;
      case 'S':
        if (parse_mib(optarg, &a->devices.volume_size_mib) < 0)
          return core_error_set(err, 0, "--volume-size '%s': give a size from 64M to 1024G, e.g. 512M or 4G", optarg);
        break;
      case 't':
        if (a->n_trust == MAX_TRUST_FILES) return core_error_set(err, 0, "at most %d --trust files", MAX_TRUST_FILES);
        a->trust_files[a->n_trust++] = optarg;
        break;
      case 'i':
        if (a->n_identity == MAX_IDENTITY_FILES)
          return core_error_set(err, 0, "at most %d --identity files", MAX_IDENTITY_FILES);
        a->identity_files[a->n_identity++] = optarg;
        break;
      case 'F': a->passphrase_file = optarg; break;
      case 'P':
        if (a->n_policy == MAX_POLICY_FILES) return core_error_set(err, 0, "at most %d --policy files", MAX_POLICY_FILES);
        a->policy_files[a->n_policy++] = optarg;
        break;
      case 'm':
        if (parse_mib(optarg, &a->memory_mib) < 0)
          return core_error_set(err, 0, "--memory '%s': give a size from 64M to 1024G, e.g. 512M or 2G", optarg);
        break;
      case 'c': {
        char *end = NULL;
        long v = strtol(optarg, &end, 10);
        if (*end || v < 1 || v > 255) return core_error_set(err, 0, "--cpus '%s': give a number from 1 to 255", optarg);
        a->cpus = (unsigned)v;
        break;
      }
      case 'a':
        if (strcmp(optarg, "auto") == 0) a->accel = CORE_ACCEL_AUTO;
        else if (strcmp(optarg, "kvm") == 0) a->accel = CORE_ACCEL_KVM;
        else if (strcmp(optarg, "tcg") == 0) a->accel = CORE_ACCEL_TCG;
        else return core_error_set(err, 0, "--accel '%s': choose auto, kvm or tcg", optarg);
        break;
      case 'Q': a->qemu = optarg; break;
      case 'q': a->quiet = a->devices.quiet = 1; break;
      case 'h':
      case 'V': a->asked = c; return 1;
      default: return core_error_set(err, 0, "see 'corerun --help'");
    }
  }
  const char *env_identity = getenv("CORE_IDENTITY_FILE");
  if (env_identity && *env_identity) {
    if (a->n_identity == MAX_IDENTITY_FILES)
      return core_error_set(err, 0, "at most %d --identity files", MAX_IDENTITY_FILES);
    a->identity_files[a->n_identity++] = env_identity;
  }
  if (optind >= argc) return core_error_set(err, 0, "no artifact given; usage: corerun [OPTIONS] ARTIFACT [-- COMMAND]");
  a->artifact = argv[optind++];
  if (optind < argc) {
    if (strcmp(argv[optind], "--") != 0)
      return core_error_set(err, 0, "unexpected '%s'; put the command after '--': corerun ARTIFACT -- COMMAND", argv[optind]);
    optind++;
    if (optind >= argc) return core_error_set(err, 0, "'--' must be followed by a command");
    a->command = argv + optind;
    a->command_argc = (size_t)(argc - optind);
  }
  return 0;
}

/* "key 1a2b… (file), key 3c4d… (file)": every key that signed. */
static void print_signers(FILE *f, const core_verified_app *app) {
  for (size_t i = 0; i < app->n_signers; i++)
    fprintf(f, "%skey %.16s (%s)", i ? ", " : "", app->signers[i].id, app->signers[i].origin);
}

/* Verified, then judged by every policy in force. The policies are read first: a malformed
 * one refuses the run whatever the artifact, rather than being skipped. */
static int open_verified(const run_args *a, core_verified_app **app, core_policies *policies, core_error **err) {
  cleanup_trust core_trust trust = {0};
  if (core_policies_load(a->policy_files, a->n_policy, policies, err) < 0) return -1;
  if (core_trust_load(a->trust_files, a->n_trust, &trust, err) < 0) return -1;
  if (core_tim_open_verified(a->artifact, &trust, app, err) < 0) return -1;
  core_policy_subject subject = core_policy_subject_of(*app);
  cleanup_free char *state = NULL;
  if (core_policies_rollback(policies) && core_rollback_state_path(&state, err) < 0) return -1;
  if (core_policies_check(policies, &subject, state, err) < 0) return core_error_wrap(err, "'%s' is refused", a->artifact);
  if (!a->quiet) {
    fprintf(stderr, "corerun: verified %s (%s), signed by ", (*app)->name ? (*app)->name : "?", (*app)->manifest.str);
    print_signers(stderr, *app);
    fprintf(stderr, "%s\n", policies->n ? ", as the policy requires" : "");
  }
  return 0;
}

/* The age identities given, read before any artifact is: a bad identity file fails first. */
static int load_decrypt_keys(const run_args *a, core_decrypt_keys *k, core_error **err) {
  for (size_t i = 0; i < a->n_identity; i++)
    if (core_decrypt_keys_add_file(k, a->identity_files[i], err) < 0) return -1;
  k->passphrase_file = a->passphrase_file;
  return 0;
}

/* Only a boot moves an app's recorded version up: checked again under the state's lock, as
 * another corerun may have booted a higher version since the policy check. */
static int record_boot(const core_policies *policies, const core_verified_app *app, core_error **err) {
  if (!core_policies_rollback(policies)) return 0;
  cleanup_free char *state = NULL;
  core_policy_subject subject = core_policy_subject_of(app);
  if (core_rollback_state_path(&state, err) < 0 || core_rollback_record(state, &subject, err) < 0) return -1;
  return 0;
}

/* What --help and --version print. */
static int show_asked(const run_args *a, int *exit_status) {
  if (a->asked == 'h')
    fputs(run_help, stdout);
  else
    printf("corerun %s\n", CORERUN_VERSION);
  *exit_status = 0;
  return 0;
}

static int cmd_run(int argc, char **argv, int *exit_status, core_error **err) {
  run_args a;
  int parsed = parse_run_args(argc, argv, &a, err);
  if (parsed < 0) return -1;
  if (parsed > 0) return show_asked(&a, exit_status);
  cleanup_verified_app core_verified_app *app = NULL;
  cleanup_policies core_policies policies = {0};
  cleanup_decrypt_keys core_decrypt_keys keys = {0};
  if (load_decrypt_keys(&a, &keys, err) < 0 || open_verified(&a, &app, &policies, err) < 0 ||
      core_app_decrypt(app, a.artifact, &keys, err) < 0)
    return -1;
  json_t *res = json_object_get(app->config, "resources");
  core_qemu_opts q = {
      .binary = a.qemu,
      .accel = a.accel,
      .memory_mib = a.memory_mib ? a.memory_mib : (uint64_t)json_integer_value(json_object_get(res, "memory_mib")),
      .cpus = a.cpus ? a.cpus : (unsigned)json_integer_value(json_object_get(res, "cpus")),
      .cmdline = json_string_value(json_object_get(json_object_get(app->config, "kernel"), "cmdline")),
      .quiet = a.quiet,
      .stop_timeout = a.stop_timeout,
      .kvm_device = a.kvm_device,
      .probe_seconds = a.probe_seconds,
  };
  if (q.memory_mib < 64 || q.cpus < 1) return core_error_set(err, 0, "the artifact's runtime config has no valid resources");
  /* Devices are planned and prepared before QEMU starts: a bad --volume fails nothing half-way. */
  __attribute__((cleanup(core_run_devices_release))) core_run_devices devices = {0};
  cleanup_buf core_buf device_conf = CORE_BUF_INIT;
  __attribute__((cleanup(free_strv))) char **device_args = NULL;
  size_t n_device_args = 0;
  if (core_run_devices_plan(app->config, &a.devices, &devices, err) < 0 ||
      core_run_devices_prepare(&devices, &a.devices, err) < 0 ||
      core_run_devices_qemu_args(&devices, &device_args, &n_device_args, err) < 0 ||
      core_run_devices_conf(&devices, &device_conf, err) < 0)
    return -1;
  q.device_args = device_args;
  core_run_settings settings = {.argv = a.command, .argc = a.command_argc, .status_device = CORE_QEMU_STATUS_DEVICE,
                                .extra = &device_conf};
  cleanup_buf core_buf overlay = CORE_BUF_INIT;
  cleanup_close int initrd_fd = -1;
  if (core_run_overlay(&settings, &overlay, err) < 0 || core_run_initrd(&overlay, app->initramfs->fd, &initrd_fd, err) < 0)
    return -1;
  if (!a.quiet)
    for (size_t i = 0; i < devices.n_ports; i++)
      fprintf(stderr, "corerun: guest port %u/%s is published on %s:%u\n", devices.ports[i].guest,
              devices.ports[i].protocol, devices.publish_address, devices.ports[i].host);
  if (record_boot(&policies, app, err) < 0) return core_error_wrap(err, "'%s' is refused", a.artifact);
  return core_qemu_run(&q, app->kernel->fd, initrd_fd, exit_status, err);
}

static int cmd_verify(int argc, char **argv, int *exit_status, core_error **err) {
  run_args a;
  int parsed = parse_run_args(argc, argv, &a, err);
  if (parsed < 0) return -1;
  if (parsed > 0) return show_asked(&a, exit_status);
  if (a.command) return core_error_set(err, 0, "verify takes no command");
  cleanup_verified_app core_verified_app *app = NULL;
  cleanup_policies core_policies policies = {0};
  cleanup_decrypt_keys core_decrypt_keys keys = {0};
  a.quiet = 1;
  /* Judged as a boot would be, but the rollback state is left alone: only a boot records. */
  if (load_decrypt_keys(&a, &keys, err) < 0 || open_verified(&a, &app, &policies, err) < 0) return -1;
  /* With a key, the plaintext is checked as a boot would check it; without, the ciphertext. */
  if (app->encrypted && core_decrypt_keys_given(&keys) && core_app_decrypt(app, a.artifact, &keys, err) < 0) return -1;
  printf("%s\n", app->manifest.str);
  fprintf(stderr, "corerun: %s: verified, signed by ", a.artifact);
  print_signers(stderr, app);
  fprintf(stderr, "%s\n", policies.n ? "; the policy admits it" : "");
  if (app->encrypted)
    fprintf(stderr, "corerun: %s: its initramfs is encrypted; %s\n", a.artifact,
            app->decrypted ? "decrypted and checked against the signed plaintext digest"
                           : "its ciphertext verified, the plaintext not checked (give --identity to check it)");
  *exit_status = 0;
  return 0;
}

static const struct {
  const char *name;
  int (*fn)(int argc, char **argv, int *exit_status, core_error **err);
} commands[] = {{"run", cmd_run}, {"verify", cmd_verify}};

/* With fd 0, 1 or 2 closed, a memfd could take its number and QEMU would read the guest's
 * console input from verified kernel bytes: give each a /dev/null first. */
static void ensure_std_fds(void) {
  for (int fd = 0; fd < 3; fd++)
    if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) < 0) _exit(CORERUN_FAILED);
}

int main(int argc, char **argv) {
  ensure_std_fds();
  core_error *err = NULL;
  int status = CORERUN_FAILED;
  int rc = -2;
  if (argc >= 2) {
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
      if (strcmp(argv[1], commands[i].name) == 0) rc = commands[i].fn(argc - 1, argv + 1, &status, &err);
  }
  /* Without a command name, the arguments are those of "run": corerun app.tim. */
  if (rc == -2) rc = cmd_run(argc, argv, &status, &err);
  if (rc < 0) {
    core_error_print("corerun", err);
    core_error_free(err);
    return CORERUN_FAILED;
  }
  return status;
}
