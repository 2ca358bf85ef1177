/* Whether KVM can run a guest on this host: the key that names a host boot and a QEMU, and
 * the verdict remembered under $CORE_HOME once KVM has failed its probe (README, "Accelerators"). */
#ifndef CORE_ACCEL_H
#define CORE_ACCEL_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

/* How long a guest under KVM has to say "alive" on the status device before TCG takes over. */
#define CORE_KVM_PROBE_SECONDS_DEFAULT 5
#define CORE_KVM_PROBE_SECONDS_MAX 600

/* A verdict holds for one host boot and one QEMU: a reboot may load another kvm module or
 * change nesting, and another QEMU may set the CPU up differently. */
typedef struct core_kvm_key {
  char *boot_id;      /* /proc/sys/kernel/random/boot_id */
  char *qemu_version; /* the first line of `QEMU --version` */
} core_kvm_key;

/* Reads the boot id and runs `binary --version` (bounded: a QEMU that does not answer within
 * a few seconds gives an error, and no verdict is read or written). */
int core_kvm_key_get(const char *binary, core_kvm_key *out, core_error **err);
void core_kvm_key_release(core_kvm_key *k);
#define cleanup_kvm_key __attribute__((cleanup(core_kvm_key_release)))

/* The first line of text that is not blank, without surrounding blanks; NULL when there is
 * none or memory runs out. The caller frees it. */
char *core_kvm_first_line(const char *text, size_t len);

/* $CORE_HOME/kvm-verdict. The caller frees it. */
int core_kvm_verdict_path(char **out, core_error **err);

/* The verdict file's text for key: KVM cannot run guests, because of reason (control
 * characters in it become spaces, so it stays one line). */
int core_kvm_verdict_format(const core_kvm_key *key, const char *reason, core_buf *out, core_error **err);

/* 1 with *reason set (the caller frees it) when text is a well-formed verdict for exactly this
 * key; 0 for anything else: another key, another format, damage. Never an error, so a stale or
 * foreign file only costs one probe. */
int core_kvm_verdict_parse(const char *text, size_t len, const core_kvm_key *key, char **reason);

/* core_kvm_verdict_parse on the file at path; a missing or unreadable file is 0 too. */
int core_kvm_verdict_load(const char *path, const core_kvm_key *key, char **reason);

/* Writes the verdict atomically (temporary name, rename), creating $CORE_HOME if needed. */
int core_kvm_verdict_save(const char *path, const core_kvm_key *key, const char *reason, core_error **err);

/* CORE_KVM_PROBE_SECONDS: whole seconds from 1 to CORE_KVM_PROBE_SECONDS_MAX. */
int core_kvm_probe_seconds_parse(const char *text, unsigned *out, core_error **err);

#endif
