/* The trust policy (spec/trust.md, "Policy"): which keys must have signed an artifact, chosen
 * by its name, and rollback protection with its state file. No policy file: no policy. */
#ifndef CORE_POLICY_H
#define CORE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "tim_verify.h"

#define CORE_POLICY_SYSTEM_FILE "/etc/core/policy.json"
#define CORE_POLICY_FILE "policy.json"     /* in the config directory, beside trust.d */
#define CORE_ROLLBACK_FILE "rollback.json" /* in the core home: state, not configuration */
#define CORE_POLICY_MAX_SIZE (1u << 20)
#define CORE_VERSION_MAX 128

typedef struct core_policy_key {
  char *name;
  char id[CORE_KEYID_LEN + 1];
} core_policy_key;

typedef struct core_policy_rule {
  char **names; /* fnmatch globs of artifact names */
  size_t n_names;
  size_t require; /* how many distinct keys of `of` must have signed */
  size_t *of;     /* indexes into the policy's keys */
  size_t n_of;
} core_policy_rule;

typedef struct core_policy {
  char *path; /* the file, for messages */
  core_policy_key *keys;
  size_t n_keys;
  core_policy_rule *rules;
  size_t n_rules;
  bool rollback;
} core_policy;

/* Every policy file in force; an artifact must pass each of them. */
typedef struct core_policies {
  core_policy *items;
  size_t n;
} core_policies;

/* What a policy judges: the verified artifact's signed identity and the keys that signed it. */
typedef struct core_policy_subject {
  const char *name;
  const char *version; /* NULL when the artifact has none */
  const char *digest;  /* "sha256:<hex>" of the app manifest */
  const core_signer *signers;
  size_t n_signers;
} core_policy_subject;

/* Parses policy text; path names the file in messages, and relative key files are read from
 * its directory. On failure *out is untouched. */
int core_policy_parse(const char *path, const void *text, size_t len, core_policy *out, core_error **err);
int core_policy_load(const char *path, core_policy *out, core_error **err);
void core_policy_release(core_policy *p);

/* Loads /etc/core/policy.json and the config directory's policy.json when they exist, and each
 * extra file (which must exist). None at all: out->n is 0 and nothing is checked. */
int core_policies_load(const char *const *extra, size_t n_extra, core_policies *out, core_error **err);
void core_policies_release(core_policies *ps);
#define cleanup_policies __attribute__((cleanup(core_policies_release)))

core_policy_subject core_policy_subject_of(const core_verified_app *app);

/* The signature rules of one policy: the first rule whose names match decides. */
int core_policy_check(const core_policy *p, const core_policy_subject *s, core_error **err);
bool core_policies_rollback(const core_policies *ps);
/* Every policy's rules, then (when one asks for it) rollback against the state file, read only:
 * `corerun verify` stops here. */
int core_policies_check(const core_policies *ps, const core_policy_subject *s, const char *state_path,
                        core_error **err);

/* $CORE_HOME/rollback.json. */
int core_rollback_state_path(char **out, core_error **err);
/* Refuses a version lower than the one recorded for the name. */
int core_rollback_check(const char *state_path, const core_policy_subject *s, core_error **err);
/* Before a boot: under a lock, checks again (another corerun may have booted a higher version
 * since) and records the version and digest when not lower than the recorded one. */
int core_rollback_record(const char *state_path, const core_policy_subject *s, core_error **err);

/* Dotted segments, each by its leading number then the rest bytewise (spec/trust.md);
 * <0, 0 or >0 like strcmp. */
int core_version_compare(const char *a, const char *b);

#endif
