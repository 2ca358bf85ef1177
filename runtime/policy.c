/* The trust policy: parsing policy.json strictly (a typo must not weaken it), judging a verified
 * artifact by its first matching rule, and the rollback state file. */
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "cleanup.h"
#include "fsutil.h"
#include "json.h"
#include "keys.h"

/* ---- versions ---- */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* The length of the run at s: all digits, or all not digits. */
static size_t run_length(const char *s, size_t len) {
  size_t n = 0;
  int digits = len > 0 && is_digit(s[0]);
  while (n < len && is_digit(s[n]) == digits) n++;
  return n;
}

static int sign_of(int c) { return (c > 0) - (c < 0); }

static int compare_bytes(const char *a, size_t la, const char *b, size_t lb) {
  int c = memcmp(a, b, la < lb ? la : lb);
  if (c) return sign_of(c);
  return (la > lb) - (la < lb);
}

/* Numbers of any length compare by value: without leading zeros, the longer is the larger. */
static int compare_number(const char *a, size_t la, const char *b, size_t lb) {
  while (la > 1 && *a == '0') a++, la--;
  while (lb > 1 && *b == '0') b++, lb--;
  if (la != lb) return la < lb ? -1 : 1;
  return sign_of(memcmp(a, b, la));
}

/* Run by run, so rc10 comes after rc9; a segment that ends first sorts first. */
static int compare_segment(const char *a, size_t la, const char *b, size_t lb) {
  while (la > 0 && lb > 0) {
    size_t ra = run_length(a, la), rb = run_length(b, lb);
    int c = is_digit(*a) && is_digit(*b) ? compare_number(a, ra, b, rb) : compare_bytes(a, ra, b, rb);
    if (c) return c;
    a += ra, la -= ra, b += rb, lb -= rb;
  }
  return (la > 0) - (lb > 0);
}

int core_version_compare(const char *a, const char *b) {
  for (;;) {
    size_t la = strcspn(a, "."), lb = strcspn(b, ".");
    int c = compare_segment(a, la, b, lb);
    if (c) return c;
    a += la, b += lb;
    if (*a == 0 && *b == 0) return 0;
    /* A missing segment is empty, and empty sorts first: 1.4 < 1.4.0. */
    if (*a) a++;
    if (*b) b++;
  }
}

static int check_version_text(const char *v, core_error **err) {
  size_t len = strlen(v);
  if (len == 0 || len > CORE_VERSION_MAX)
    return core_error_set(err, 0, "the version must have 1 to %d characters, not %zu", CORE_VERSION_MAX, len);
  for (const char *p = v; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) return core_error_set(err, 0, "the version has control characters");
  return 0;
}

/* ---- parsing ---- */

void core_policy_release(core_policy *p) {
  for (size_t i = 0; i < p->n_keys; i++) free(p->keys[i].name);
  free(p->keys);
  for (size_t i = 0; i < p->n_rules; i++) {
    for (size_t j = 0; j < p->rules[i].n_names; j++) free(p->rules[i].names[j]);
    free(p->rules[i].names);
    free(p->rules[i].of);
  }
  free(p->rules);
  free(p->path);
  memset(p, 0, sizeof *p);
}

static void policy_releasep(core_policy *p) { core_policy_release(p); }
#define cleanup_policy __attribute__((cleanup(policy_releasep)))

/* Every field of an object must be one of known (NULL-terminated): "rollbak": true must not
 * silently leave rollback protection off. */
static int check_fields(const json_t *obj, const char *const *known, const char *where, core_error **err) {
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)obj, key, value) {
    size_t i = 0;
    while (known[i] && strcmp(known[i], key) != 0) i++;
    if (known[i]) continue;
    cleanup_buf core_buf list = CORE_BUF_INIT;
    for (i = 0; known[i]; i++)
      if (core_buf_appendf(&list, err, "%s%s", i ? ", " : "", known[i]) < 0) return -1;
    return core_error_set(err, 0, "%s: unknown field '%s' (known: %.*s)", where, key, (int)list.len, (char *)list.data);
  }
  return 0;
}

static int is_key_id(const char *s) {
  size_t n = 0;
  for (; s[n]; n++)
    if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'))) return 0;
  return n == CORE_KEYID_LEN;
}

/* A key is given by its id, or by a public key file (relative to the policy's directory). */
static int key_id_of(const char *policy_path, const char *value, char id[CORE_KEYID_LEN + 1], core_error **err) {
  if (is_key_id(value)) {
    memcpy(id, value, CORE_KEYID_LEN + 1);
    return 0;
  }
  cleanup_free char *dir = core_path_dirname(policy_path);
  cleanup_free char *file = dir ? core_path_join(dir, value) : NULL;
  if (file == NULL) return core_error_set(err, ENOMEM, "allocating");
  cleanup_key EVP_PKEY *key = NULL;
  if (core_key_load_public(file, &key, err) < 0 || core_key_id(key, id, err) < 0)
    return core_error_wrap(err, "'%s' is neither a key id (64 lowercase hex digits) nor a public key file", value);
  return 0;
}

static int parse_keys(core_policy *p, const json_t *keys, core_error **err) {
  if (keys == NULL) return 0;
  if (!json_is_object(keys))
    return core_error_set(err, 0, "'keys' must be an object of names to key ids or public key files");
  p->keys = calloc(json_object_size(keys) + 1, sizeof *p->keys);
  if (p->keys == NULL) return core_error_set(err, ENOMEM, "allocating");
  const char *name;
  json_t *value;
  json_object_foreach((json_t *)keys, name, value) {
    core_policy_key *k = &p->keys[p->n_keys];
    if (!json_is_string(value) || name[0] == 0)
      return core_error_set(err, 0, "keys.%s: give a key id or a public key file (a string)", name);
    if (key_id_of(p->path, json_string_value(value), k->id, err) < 0) return core_error_wrap(err, "keys.%s", name);
    if ((k->name = strdup(name)) == NULL) return core_error_set(err, ENOMEM, "allocating");
    p->n_keys++;
    /* Two names for one key would let one signature count twice toward "require". */
    for (size_t i = 0; i + 1 < p->n_keys; i++)
      if (strcmp(p->keys[i].id, k->id) == 0)
        return core_error_set(err, 0, "keys '%s' and '%s' are the same key (%.16s); name each key once", p->keys[i].name,
                              name, k->id);
  }
  return 0;
}

static int parse_names(core_policy_rule *r, const json_t *names, const char *where, core_error **err) {
  if (!json_is_array(names) || json_array_size(names) == 0)
    return core_error_set(err, 0, "%s.names must be a non-empty array of artifact name globs, e.g. [\"web-*\"]", where);
  if ((r->names = calloc(json_array_size(names), sizeof *r->names)) == NULL)
    return core_error_set(err, ENOMEM, "allocating");
  size_t i;
  json_t *v;
  json_array_foreach(names, i, v) {
    const char *glob = json_string_value(v);
    if (glob == NULL || glob[0] == 0) return core_error_set(err, 0, "%s.names[%zu] must be a non-empty string", where, i);
    if ((r->names[r->n_names++] = strdup(glob)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  }
  return 0;
}

static int find_key(const core_policy *p, const char *name, size_t *out) {
  for (size_t i = 0; i < p->n_keys; i++) {
    if (strcmp(p->keys[i].name, name) != 0) continue;
    *out = i;
    return 1;
  }
  return 0;
}

static int parse_of(const core_policy *p, core_policy_rule *r, const json_t *of, const char *where, core_error **err) {
  if (of == NULL) return 0;
  if (!json_is_array(of)) return core_error_set(err, 0, "%s.of must be an array of key names from 'keys'", where);
  if ((r->of = calloc(json_array_size(of) + 1, sizeof *r->of)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  size_t i;
  json_t *v;
  json_array_foreach(of, i, v) {
    const char *name = json_string_value(v);
    size_t k;
    if (name == NULL) return core_error_set(err, 0, "%s.of[%zu] must be a key name (a string)", where, i);
    if (!find_key(p, name, &k))
      return core_error_set(err, 0, "%s.of[%zu]: no key named '%s' in 'keys'", where, i, name);
    for (size_t j = 0; j < r->n_of; j++)
      if (r->of[j] == k) return core_error_set(err, 0, "%s.of lists '%s' twice", where, name);
    r->of[r->n_of++] = k;
  }
  return 0;
}

static int parse_rule(core_policy *p, const json_t *rule, size_t index, core_error **err) {
  static const char *const fields[] = {"names", "require", "of", NULL};
  char where[32];
  snprintf(where, sizeof where, "rules[%zu]", index);
  if (!json_is_object(rule)) return core_error_set(err, 0, "%s must be an object with names, require and of", where);
  if (check_fields(rule, fields, where, err) < 0) return -1;
  core_policy_rule *r = &p->rules[p->n_rules++];
  if (parse_names(r, json_object_get(rule, "names"), where, err) < 0 ||
      parse_of(p, r, json_object_get(rule, "of"), where, err) < 0)
    return -1;
  json_t *require = json_object_get(rule, "require");
  if (!json_is_integer(require) || json_integer_value(require) < 0 ||
      (size_t)json_integer_value(require) > r->n_of)
    return core_error_set(err, 0, "%s.require must be an integer from 0 to %zu (the number of keys in 'of')", where,
                          r->n_of);
  r->require = (size_t)json_integer_value(require);
  return 0;
}

static int parse_document(core_policy *p, const json_t *doc, core_error **err) {
  static const char *const fields[] = {"version", "keys", "rules", "rollback", NULL};
  if (!json_is_object(doc)) return core_error_set(err, 0, "a policy is a JSON object");
  if (check_fields(doc, fields, "the policy", err) < 0) return -1;
  json_t *version = json_object_get(doc, "version");
  if (!json_is_integer(version) || json_integer_value(version) != 1)
    return core_error_set(err, 0, "'version' must be 1 (the only policy format there is)");
  json_t *rollback = json_object_get(doc, "rollback");
  if (rollback && !json_is_boolean(rollback)) return core_error_set(err, 0, "'rollback' must be true or false");
  p->rollback = json_is_true(rollback);
  if (parse_keys(p, json_object_get(doc, "keys"), err) < 0) return -1;
  json_t *rules = json_object_get(doc, "rules");
  /* No rule would refuse every artifact: surely not what the author meant. */
  if (!json_is_array(rules) || json_array_size(rules) == 0)
    return core_error_set(err, 0, "'rules' must be a non-empty array (an artifact no rule names is refused)");
  if ((p->rules = calloc(json_array_size(rules), sizeof *p->rules)) == NULL)
    return core_error_set(err, ENOMEM, "allocating");
  size_t i;
  json_t *rule;
  json_array_foreach(rules, i, rule) if (parse_rule(p, rule, i, err) < 0) return -1;
  return 0;
}

int core_policy_parse(const char *path, const void *text, size_t len, core_policy *out, core_error **err) {
  cleanup_policy core_policy p = {0};
  if ((p.path = strdup(path)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  cleanup_json json_t *doc = NULL;
  if (core_json_parse(text, len, &doc, err) < 0 || parse_document(&p, doc, err) < 0)
    return core_error_wrap(err, "policy '%s'", path);
  *out = p;
  memset(&p, 0, sizeof p); /* handed on */
  return 0;
}

int core_policy_load(const char *path, core_policy *out, core_error **err) {
  cleanup_buf core_buf text = CORE_BUF_INIT;
  if (core_read_file(path, &text, err) < 0) return core_error_wrap(err, "policy");
  if (text.len > CORE_POLICY_MAX_SIZE)
    return core_error_set(err, 0, "policy '%s' has %zu bytes; a policy is at most %u", path, text.len,
                          CORE_POLICY_MAX_SIZE);
  return core_policy_parse(path, text.data, text.len, out, err);
}

void core_policies_release(core_policies *ps) {
  for (size_t i = 0; i < ps->n; i++) core_policy_release(&ps->items[i]);
  free(ps->items);
  memset(ps, 0, sizeof *ps);
}

static int add_policy_file(core_policies *ps, const char *path, int optional, core_error **err) {
  if (optional && access(path, F_OK) < 0 && errno == ENOENT) return 0;
  core_policy *grown = realloc(ps->items, (ps->n + 1) * sizeof *grown);
  if (grown == NULL) return core_error_set(err, ENOMEM, "allocating");
  ps->items = grown;
  if (core_policy_load(path, &ps->items[ps->n], err) < 0) return -1;
  ps->n++;
  return 0;
}

int core_policies_load(const char *const *extra, size_t n_extra, core_policies *out, core_error **err) {
  core_policies ps = {0};
  cleanup_free char *config = NULL;
  cleanup_free char *user = NULL;
  if (core_config_dir(&config, err) < 0) goto fail;
  if ((user = core_path_join(config, CORE_POLICY_FILE)) == NULL) {
    core_error_set(err, ENOMEM, "allocating");
    goto fail;
  }
  if (add_policy_file(&ps, CORE_POLICY_SYSTEM_FILE, 1, err) < 0 || add_policy_file(&ps, user, 1, err) < 0) goto fail;
  for (size_t i = 0; i < n_extra; i++)
    if (add_policy_file(&ps, extra[i], 0, err) < 0) goto fail;
  *out = ps;
  return 0;
fail:
  core_policies_release(&ps);
  return -1;
}

/* ---- judging ---- */

core_policy_subject core_policy_subject_of(const core_verified_app *app) {
  return (core_policy_subject){.name = app->name, .version = app->version, .digest = app->manifest.str,
                               .signers = app->signers, .n_signers = app->n_signers};
}

static int signed_by(const core_policy_subject *s, const char *id) {
  for (size_t i = 0; i < s->n_signers; i++)
    if (strcmp(s->signers[i].id, id) == 0) return 1;
  return 0;
}

static int rule_matches(const core_policy_rule *r, const char *name) {
  for (size_t j = 0; j < r->n_names; j++)
    if (fnmatch(r->names[j], name, 0) == 0) return 1;
  return 0;
}

/* The first rule decides, so a specific rule placed before a catch-all "*" overrides it. */
static const core_policy_rule *first_match(const core_policy *p, const char *name, size_t *index) {
  for (size_t i = 0; i < p->n_rules; i++) {
    if (!rule_matches(&p->rules[i], name)) continue;
    *index = i;
    return &p->rules[i];
  }
  return NULL;
}

/* Text for messages; a NUL is appended so the buffer reads as a string. */
static int finish_text(core_buf *b, core_error **err) { return core_buf_append(b, "", 1, err); }

static int rule_names_text(const core_policy_rule *r, core_buf *out, core_error **err) {
  for (size_t i = 0; i < r->n_names; i++)
    if (core_buf_appendf(out, err, "%s%s", i ? ", " : "", r->names[i]) < 0) return -1;
  return finish_text(out, err);
}

static int rule_keys_text(const core_policy *p, const core_policy_rule *r, core_buf *out, core_error **err) {
  for (size_t i = 0; i < r->n_of; i++)
    if (core_buf_appendf(out, err, "%s%s", i ? ", " : "", p->keys[r->of[i]].name) < 0) return -1;
  return finish_text(out, err);
}

/* The signers by their policy names; a key the policy does not name shows by its id. */
static int signers_text(const core_policy *p, const core_policy_subject *s, core_buf *out, core_error **err) {
  for (size_t i = 0; i < s->n_signers; i++) {
    const char *name = NULL;
    for (size_t k = 0; k < p->n_keys && !name; k++)
      if (strcmp(p->keys[k].id, s->signers[i].id) == 0) name = p->keys[k].name;
    int rc = name ? core_buf_appendf(out, err, "%s%s", i ? ", " : "", name)
                  : core_buf_appendf(out, err, "%skey %.16s (not named in the policy)", i ? ", " : "", s->signers[i].id);
    if (rc < 0) return -1;
  }
  if (s->n_signers == 0 && core_buf_appendf(out, err, "no trusted key") < 0) return -1;
  return finish_text(out, err);
}

static int refuse_unmatched(const core_policy *p, const char *name, core_error **err) {
  cleanup_buf core_buf all = CORE_BUF_INIT;
  for (size_t i = 0; i < p->n_rules; i++)
    for (size_t j = 0; j < p->rules[i].n_names; j++)
      if (core_buf_appendf(&all, err, "%s%s", all.len ? ", " : "", p->rules[i].names[j]) < 0) return -1;
  return core_error_set(err, 0,
                        "no rule of policy '%s' names '%s' (its rules name: %.*s); an artifact no rule names is "
                        "refused: add a rule for it", p->path, name, (int)all.len, (char *)all.data);
}

int core_policy_check(const core_policy *p, const core_policy_subject *s, core_error **err) {
  if (s->name == NULL)
    return core_error_set(err, 0, "the artifact has no name for policy '%s' to judge it by", p->path);
  size_t index;
  const core_policy_rule *r = first_match(p, s->name, &index);
  if (r == NULL) return refuse_unmatched(p, s->name, err);
  size_t have = 0;
  for (size_t i = 0; i < r->n_of; i++) have += signed_by(s, p->keys[r->of[i]].id);
  if (have >= r->require) return 0;
  cleanup_buf core_buf names = CORE_BUF_INIT;
  cleanup_buf core_buf keys = CORE_BUF_INIT;
  cleanup_buf core_buf signers = CORE_BUF_INIT;
  if (rule_names_text(r, &names, err) < 0 || rule_keys_text(p, r, &keys, err) < 0 ||
      signers_text(p, s, &signers, err) < 0)
    return -1;
  /* Rules count from 1 in messages, as a person reading the file counts them. */
  return core_error_set(err, 0, "policy rule %zu (names %s) requires %zu of %s; signed by: %s (policy '%s')", index + 1,
                        (char *)names.data, r->require, (char *)keys.data, (char *)signers.data, p->path);
}

bool core_policies_rollback(const core_policies *ps) {
  for (size_t i = 0; i < ps->n; i++)
    if (ps->items[i].rollback) return true;
  return false;
}

int core_policies_check(const core_policies *ps, const core_policy_subject *s, const char *state_path,
                        core_error **err) {
  for (size_t i = 0; i < ps->n; i++)
    if (core_policy_check(&ps->items[i], s, err) < 0) return -1;
  if (core_policies_rollback(ps)) return core_rollback_check(state_path, s, err);
  return 0;
}

/* ---- rollback state ---- */

int core_rollback_state_path(char **out, core_error **err) {
  cleanup_free char *home = NULL;
  if (core_home_dir(&home, err) < 0) return -1;
  if ((*out = core_path_join(home, CORE_ROLLBACK_FILE)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  return 0;
}

static int check_state(const json_t *state, core_error **err) {
  json_t *version = json_object_get(state, "version");
  json_t *apps = json_object_get(state, "apps");
  if (!json_is_object(state) || !json_is_integer(version) || json_integer_value(version) != 1 || !json_is_object(apps))
    return core_error_set(err, 0, "not a rollback state (an object with \"version\": 1 and \"apps\")");
  const char *name;
  json_t *entry;
  json_object_foreach(apps, name, entry) {
    if (!json_is_string(json_object_get(entry, "version")) || !json_is_string(json_object_get(entry, "digest")))
      return core_error_set(err, 0, "apps.%s must have a version and a digest (strings)", name);
  }
  return 0;
}

/* A missing file is an empty state; a damaged one is an error, never a silent fresh start
 * (that would forget every app's version and let an old one boot). */
static int state_read(const char *path, json_t **out, core_error **err) {
  cleanup_buf core_buf text = CORE_BUF_INIT;
  if (core_read_file(path, &text, err) < 0) {
    if ((*err)->errnum != ENOENT) return -1;
    core_error_freep(err);
    if ((*out = json_pack("{s:i, s:{}}", "version", 1, "apps")) == NULL) return core_error_set(err, ENOMEM, "allocating");
    return 0;
  }
  cleanup_json json_t *state = NULL;
  if (core_json_parse(text.data, text.len, &state, err) < 0 || check_state(state, err) < 0)
    return core_error_wrap(err, "rollback state '%s' is damaged (restore it, or delete it to forget every app's "
                           "version)", path);
  *out = TAKE_PTR(state);
  return 0;
}

static int need_identity(const core_policy_subject *s, core_error **err) {
  if (s->name == NULL) return core_error_set(err, 0, "rollback: the artifact has no name to record a version under");
  if (s->version == NULL)
    return core_error_set(err, 0,
                          "rollback: '%s' has no version, and the policy turns rollback protection on: the signed app "
                          "manifest needs the annotation " CORE_ANN_VERSION " (spec/trust.md)", s->name);
  if (check_version_text(s->version, err) < 0) return core_error_wrap(err, "rollback: '%s'", s->name);
  return 0;
}

/* Refuses when the state records a higher version for the name. */
static int compare_with_state(const json_t *state, const char *path, const core_policy_subject *s, core_error **err) {
  json_t *entry = json_object_get(json_object_get(state, "apps"), s->name);
  if (entry == NULL) return 0;
  const char *seen = json_string_value(json_object_get(entry, "version"));
  if (core_version_compare(s->version, seen) >= 0) return 0;
  return core_error_set(err, 0, "rollback: %s is at %s here (%s), this artifact is %s (state in '%s')", s->name, seen,
                        json_string_value(json_object_get(entry, "digest")), s->version, path);
}

int core_rollback_check(const char *state_path, const core_policy_subject *s, core_error **err) {
  if (need_identity(s, err) < 0) return -1;
  cleanup_json json_t *state = NULL;
  if (state_read(state_path, &state, err) < 0) return -1;
  return compare_with_state(state, state_path, s, err);
}

/* The lock is a file of its own: the state file is replaced by rename, so a lock on it would
 * be on an inode that is gone after the first write. */
static int lock_state(const char *state_path, int *out, core_error **err) {
  cleanup_free char *dir = core_path_dirname(state_path);
  cleanup_free char *lock_path = NULL;
  if (dir == NULL || asprintf(&lock_path, "%s.lock", state_path) < 0) {
    lock_path = NULL;
    return core_error_set(err, ENOMEM, "allocating");
  }
  if (core_mkdir_p(dir, 0700, err) < 0) return -1;
  cleanup_close int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return core_error_set(err, errno, "opening lock '%s'", lock_path);
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) return core_error_set(err, errno, "locking '%s'", lock_path);
  *out = TAKE_FD(fd);
  return 0;
}

static int state_write(const char *path, const json_t *state, core_error **err) {
  cleanup_buf core_buf text = CORE_BUF_INIT;
  if (core_json_dump_pretty(state, &text, err) < 0) return -1;
  if (core_write_file_atomic(path, text.data, text.len, 0644, err) < 0)
    return core_error_wrap(err, "writing rollback state");
  return 0;
}

int core_rollback_record(const char *state_path, const core_policy_subject *s, core_error **err) {
  if (need_identity(s, err) < 0) return -1;
  cleanup_close int lock = -1;
  if (lock_state(state_path, &lock, err) < 0) return -1;
  cleanup_json json_t *state = NULL;
  if (state_read(state_path, &state, err) < 0 || compare_with_state(state, state_path, s, err) < 0) return -1;
  json_t *entry = json_pack("{s:s, s:s}", "version", s->version, "digest", s->digest);
  if (entry == NULL || json_object_set_new(json_object_get(state, "apps"), s->name, entry) < 0)
    return core_error_set(err, ENOMEM, "allocating");
  return state_write(state_path, state, err);
}
