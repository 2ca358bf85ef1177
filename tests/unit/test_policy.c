/* Unit tests for runtime/policy.c: parsing policy.json (and refusing malformed ones), first-match
 * name globs, N-of-M signers, version order, and the rollback state file under concurrent writers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "tmpdir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "json.h"
#include "policy.h"
#include "sign.h"

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static const char two_rules[] =
    "{\"version\": 1, \"keys\": {\"release\": \"" ID_A "\", \"qa\": \"" ID_B "\"},\n"
    " \"rules\": [{\"names\": [\"web-*\", \"db\"], \"require\": 2, \"of\": [\"release\", \"qa\"]},\n"
    "           {\"names\": [\"*\"], \"require\": 1, \"of\": [\"release\"]}],\n"
    " \"rollback\": true}\n";

static void parse_ok(const char *text, core_policy *p) {
  core_error *err = NULL;
  int rc = core_policy_parse("policy.json", text, strlen(text), p, &err);
  if (rc < 0) fail_msg("%s", err->msg);
}

/* Parses text that must be refused, and checks the message names the file and the fault. */
static void parse_refused(const char *text, const char *want) {
  core_policy p = {0};
  core_error *err = NULL;
  assert_int_equal(core_policy_parse("policy.json", text, strlen(text), &p, &err), -1);
  assert_non_null(err);
  if (strstr(err->msg, want) == NULL || strstr(err->msg, "policy 'policy.json'") == NULL)
    fail_msg("for %s: got '%s', want '%s'", text, err->msg, want);
  assert_null(p.rules); /* untouched on failure */
  core_error_free(err);
}

static void test_parse(void **state) {
  (void)state;
  core_policy p = {0};
  parse_ok(two_rules, &p);
  assert_string_equal(p.path, "policy.json");
  assert_true(p.rollback);
  assert_int_equal(p.n_keys, 2);
  assert_int_equal(p.n_rules, 2);
  assert_int_equal(p.rules[0].n_names, 2);
  assert_string_equal(p.rules[0].names[1], "db");
  assert_int_equal(p.rules[0].require, 2);
  assert_int_equal(p.rules[0].n_of, 2);
  assert_int_equal(p.rules[1].require, 1);
  assert_string_equal(p.keys[p.rules[1].of[0]].id, ID_A);
  core_policy_release(&p);
  /* rollback defaults to off; keys may be left out when a rule asks for no named key. */
  parse_ok("{\"version\":1,\"rules\":[{\"names\":[\"*\"],\"require\":0}]}", &p);
  assert_false(p.rollback);
  assert_int_equal(p.n_keys, 0);
  core_policy_release(&p);
}

static void test_key_files(void **state) {
  const char *dir = *state;
  char prefix[512], policy[512], text[1024];
  snprintf(prefix, sizeof prefix, "%s/keys/qa", dir);
  snprintf(policy, sizeof policy, "%s/policy.json", dir);
  core_error *err = NULL;
  EVP_PKEY *key = NULL;
  char id[CORE_KEYID_LEN + 1];
  assert_int_equal(core_key_generate(&key, &err), 0);
  assert_int_equal(core_key_save_pair(key, prefix, 0, &err), 0);
  assert_int_equal(core_key_id(key, id, &err), 0);
  core_key_freep(&key);
  /* A relative key file is read beside the policy, not from the working directory. */
  snprintf(text, sizeof text, "{\"version\":1,\"keys\":{\"qa\":\"keys/qa.pub\"},"
                              "\"rules\":[{\"names\":[\"*\"],\"require\":1,\"of\":[\"qa\"]}]}");
  assert_int_equal(core_write_file_atomic(policy, text, strlen(text), 0644, &err), 0);
  core_policy p = {0};
  assert_int_equal(core_policy_load(policy, &p, &err), 0);
  assert_string_equal(p.keys[0].id, id);
  core_policy_release(&p);
  /* The private half is refused, as --trust refuses it. */
  snprintf(text, sizeof text, "{\"version\":1,\"keys\":{\"qa\":\"keys/qa.key\"},"
                              "\"rules\":[{\"names\":[\"*\"],\"require\":1,\"of\":[\"qa\"]}]}");
  assert_int_equal(core_write_file_atomic(policy, text, strlen(text), 0644, &err), 0);
  assert_int_equal(core_policy_load(policy, &p, &err), -1);
  assert_non_null(strstr(err->msg, "keys.qa"));
  core_error_freep(&err);
}

static void test_malformed(void **state) {
  (void)state;
  parse_refused("{\"version\":1,", "invalid JSON at line 1");
  parse_refused("[]", "a policy is a JSON object");
  parse_refused("{\"version\":2,\"rules\":[{\"names\":[\"*\"],\"require\":0}]}", "'version' must be 1");
  parse_refused("{\"rules\":[{\"names\":[\"*\"],\"require\":0}]}", "'version' must be 1");
  parse_refused("{\"version\":1,\"rollbak\":true,\"rules\":[{\"names\":[\"*\"],\"require\":0}]}",
                "unknown field 'rollbak'");
  parse_refused("{\"version\":1,\"rollback\":\"yes\",\"rules\":[{\"names\":[\"*\"],\"require\":0}]}",
                "'rollback' must be true or false");
  parse_refused("{\"version\":1,\"rules\":[]}", "'rules' must be a non-empty array");
  parse_refused("{\"version\":1}", "'rules' must be a non-empty array");
  parse_refused("{\"version\":1,\"rules\":[{\"names\":[],\"require\":0}]}", "rules[0].names must be a non-empty array");
  parse_refused("{\"version\":1,\"rules\":[{\"names\":[\"\"],\"require\":0}]}", "rules[0].names[0] must be a non-empty");
  parse_refused("{\"version\":1,\"rules\":[{\"names\":[\"*\"],\"require\":0,\"from\":[]}]}",
                "rules[0]: unknown field 'from'");
  parse_refused("{\"version\":1,\"keys\":{\"a\":\"" ID_A "\"},\"rules\":[{\"names\":[\"*\"],\"require\":2,\"of\":[\"a\"]}]}",
                "rules[0].require must be an integer from 0 to 1");
  parse_refused("{\"version\":1,\"rules\":[{\"names\":[\"*\"],\"require\":-1}]}", "rules[0].require must be an integer");
  parse_refused("{\"version\":1,\"rules\":[{\"names\":[\"*\"],\"require\":\"1\"}]}", "rules[0].require must be an integer");
  parse_refused("{\"version\":1,\"keys\":{\"a\":\"" ID_A "\"},\"rules\":[{\"names\":[\"*\"],\"require\":1,\"of\":[\"b\"]}]}",
                "rules[0].of[0]: no key named 'b'");
  parse_refused("{\"version\":1,\"keys\":{\"a\":\"" ID_A "\"},\"rules\":[{\"names\":[\"*\"],\"require\":1,\"of\":[\"a\",\"a\"]}]}",
                "rules[0].of lists 'a' twice");
  parse_refused("{\"version\":1,\"keys\":{\"a\":\"" ID_A "\",\"b\":\"" ID_A "\"},\"rules\":[{\"names\":[\"*\"],\"require\":0}]}",
                "keys 'a' and 'b' are the same key");
  parse_refused("{\"version\":1,\"keys\":{\"a\":7},\"rules\":[{\"names\":[\"*\"],\"require\":0}]}", "keys.a: give a key id");
  parse_refused("{\"version\":1,\"keys\":{\"a\":\"AAAA\"},\"rules\":[{\"names\":[\"*\"],\"require\":0}]}",
                "keys.a: 'AAAA' is neither a key id");
  parse_refused("{\"version\":1,\"version\":1,\"rules\":[{\"names\":[\"*\"],\"require\":0}]}", "duplicate");
}

static core_error *judge(const core_policy *p, const char *name, const char *const *ids, size_t n) {
  core_signer signers[4];
  for (size_t i = 0; i < n; i++) {
    snprintf(signers[i].id, sizeof signers[i].id, "%s", ids[i]);
    signers[i].origin = (char *)"test";
  }
  core_policy_subject s = {.name = name, .digest = "sha256:00", .signers = signers, .n_signers = n};
  core_error *err = NULL;
  if (core_policy_check(p, &s, &err) == 0) assert_null(err);
  return err;
}

static void expect_refusal(core_error *err, const char *want) {
  assert_non_null(err);
  if (strstr(err->msg, want) == NULL) fail_msg("got '%s', want '%s'", err->msg, want);
  core_error_free(err);
}

static void test_rules(void **state) {
  (void)state;
  core_policy p = {0};
  parse_ok(two_rules, &p);
  const char *a[] = {ID_A}, *b[] = {ID_B}, *ab[] = {ID_A, ID_B}, *ac[] = {ID_A, ID_C}, *c[] = {ID_C};
  /* web-* needs both; the first matching rule decides, so "*" after it does not let one pass. */
  assert_null(judge(&p, "web-1", ab, 2));
  assert_null(judge(&p, "db", ab, 2));
  expect_refusal(judge(&p, "web-1", a, 1),
                 "policy rule 1 (names web-*, db) requires 2 of release, qa; signed by: release (policy 'policy.json')");
  /* A key the policy does not name counts for nothing, and shows by its id. */
  expect_refusal(judge(&p, "web-1", ac, 2), "signed by: release, key cccccccccccccccc (not named in the policy)");
  /* Anything else falls to rule 2: release alone passes, qa alone does not. */
  assert_null(judge(&p, "hello", a, 1));
  assert_null(judge(&p, "db2", ab, 2));
  expect_refusal(judge(&p, "hello", b, 1), "policy rule 2 (names *) requires 1 of release; signed by: qa");
  expect_refusal(judge(&p, "hello", c, 1), "requires 1 of release; signed by: key cccc");
  core_policy_release(&p);

  /* No catch-all: a name no rule matches is refused, naming what the rules do match. */
  parse_ok("{\"version\":1,\"keys\":{\"qa\":\"" ID_B "\"},"
           "\"rules\":[{\"names\":[\"web-?\",\"api-[0-9]\"],\"require\":1,\"of\":[\"qa\"]}]}",
           &p);
  assert_null(judge(&p, "web-1", b, 1));
  assert_null(judge(&p, "api-7", b, 1));
  expect_refusal(judge(&p, "web-10", b, 1), "no rule of policy 'policy.json' names 'web-10' (its rules name: web-?, api-[0-9])");
  expect_refusal(judge(&p, "hello", b, 1), "names 'hello'");
  core_policy_release(&p);
}

static void test_version_compare(void **state) {
  (void)state;
  static const struct {
    const char *a, *b;
    int want;
  } cases[] = {
      {"1.4.0", "1.4.0", 0},   {"1.3.9", "1.4.0", -1}, {"1.10.0", "1.9.0", 1}, {"2", "10", -1},
      {"1.4", "1.4.0", -1},    {"1.04", "1.4", 0},     {"1.4.0", "1.4.0-rc1", -1},
      {"1.4.0-rc1", "1.4.0-rc2", -1},                  {"1.4.0-rc10", "1.4.0-rc9", 1},
      {"99999999999999999999999", "100000000000000000000000", -1}, {"1.a", "1.b", -1},
      {"1.a", "1.1", 1},       {"2024.11.29", "2024.2.1", 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int got = core_version_compare(cases[i].a, cases[i].b), back = core_version_compare(cases[i].b, cases[i].a);
    if ((got > 0) - (got < 0) != cases[i].want || (back > 0) - (back < 0) != -cases[i].want)
      fail_msg("%s vs %s: got %d and %d, want %d", cases[i].a, cases[i].b, got, back, cases[i].want);
  }
}

static core_policy_subject subject(const char *name, const char *version, const char *digest) {
  return (core_policy_subject){.name = name, .version = version, .digest = digest};
}

static int record(const char *path, const char *name, const char *version, const char *digest, core_error **err) {
  core_policy_subject s = subject(name, version, digest);
  return core_rollback_record(path, &s, err);
}

static int check(const char *path, const char *name, const char *version, core_error **err) {
  core_policy_subject s = subject(name, version, "sha256:new");
  return core_rollback_check(path, &s, err);
}

/* Only the state, its lock, and no temporary files left next to them. */
static void assert_dir_clean(const char *dir) {
  cleanup_closedir DIR *d = opendir(dir);
  assert_non_null(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      fail_msg("left behind: %s", e->d_name);
}

static void test_rollback_state(void **state) {
  const char *dir = *state;
  char path[512];
  snprintf(path, sizeof path, "%s/home/rollback.json", dir); /* home/ does not exist yet */
  core_error *err = NULL;
  assert_int_equal(check(path, "web", "1.0", &err), 0); /* no state: nothing booted yet */
  assert_int_equal(record(path, "web", "1.4.0", "sha256:one", &err), 0);
  assert_int_equal(record(path, "db", "2", "sha256:db", &err), 0);

  /* Read back: written whole, as JSON a person can read. */
  cleanup_buf core_buf text = CORE_BUF_INIT;
  cleanup_json json_t *doc = NULL;
  assert_int_equal(core_read_file(path, &text, &err), 0);
  assert_int_equal(core_json_parse(text.data, text.len, &doc, &err), 0);
  json_t *web = json_object_get(json_object_get(doc, "apps"), "web");
  assert_string_equal(json_string_value(json_object_get(web, "version")), "1.4.0");
  assert_string_equal(json_string_value(json_object_get(web, "digest")), "sha256:one");
  assert_int_equal(json_integer_value(json_object_get(doc, "version")), 1);

  assert_int_equal(check(path, "web", "1.4.0", &err), 0); /* the same version again */
  assert_int_equal(check(path, "web", "1.10", &err), 0);
  assert_int_equal(check(path, "other", "0.1", &err), 0);
  assert_int_equal(check(path, "web", "1.3.9", &err), -1);
  expect_refusal(err, "rollback: web is at 1.4.0 here (sha256:one), this artifact is 1.3.9");
  err = NULL;
  /* Recording re-checks under the lock: a lower version is refused there too, and not written. */
  assert_int_equal(record(path, "web", "1.3.9", "sha256:old", &err), -1);
  expect_refusal(err, "rollback: web is at 1.4.0 here");
  err = NULL;
  assert_int_equal(record(path, "web", "1.5", "sha256:two", &err), 0);
  assert_int_equal(check(path, "web", "1.4.0", &err), -1);
  expect_refusal(err, "web is at 1.5 here (sha256:two)");
  err = NULL;

  /* Without a version there is nothing to compare: refused, never let through. */
  assert_int_equal(check(path, "web", NULL, &err), -1);
  expect_refusal(err, "rollback: 'web' has no version");
  err = NULL;
  assert_int_equal(record(path, "web", "", "sha256:x", &err), -1);
  core_error_freep(&err);
  assert_int_equal(check(path, "web", "1.5\n", &err), -1);
  expect_refusal(err, "control characters");
  err = NULL;

  snprintf(path, sizeof path, "%s/home", dir);
  assert_dir_clean(path);
}

static void test_damaged_state(void **state) {
  const char *dir = *state;
  char path[512];
  snprintf(path, sizeof path, "%s/rollback.json", dir);
  core_error *err = NULL;
  static const char *const damaged[] = {"{", "[]", "{\"version\":1}", "{\"version\":1,\"apps\":{\"web\":{\"version\":1}}}"};
  for (size_t i = 0; i < sizeof damaged / sizeof damaged[0]; i++) {
    assert_int_equal(core_write_file_atomic(path, damaged[i], strlen(damaged[i]), 0644, &err), 0);
    assert_int_equal(check(path, "web", "1", &err), -1);
    expect_refusal(err, "is damaged");
    err = NULL;
    /* And not overwritten with a fresh state that forgets every version. */
    assert_int_equal(record(path, "web", "1", "sha256:x", &err), -1);
    core_error_freep(&err);
    cleanup_buf core_buf text = CORE_BUF_INIT;
    assert_int_equal(core_read_file(path, &text, &err), 0);
    assert_int_equal(text.len, strlen(damaged[i]));
  }
}

/* Writers in several processes, each raising its own app's version many times: every write is
 * whole (the file always parses) and none is lost (each app ends at its last version). */
static void test_concurrent_writers(void **state) {
  const char *dir = *state;
  char path[512];
  snprintf(path, sizeof path, "%s/rollback.json", dir);
  enum { WRITERS = 6, ROUNDS = 25 };
  pid_t pids[WRITERS];
  for (int w = 0; w < WRITERS; w++) {
    pids[w] = fork();
    assert_true(pids[w] >= 0);
    if (pids[w] > 0) continue;
    char name[16], version[16];
    snprintf(name, sizeof name, "app%d", w);
    for (int r = 1; r <= ROUNDS; r++) {
      core_error *err = NULL;
      snprintf(version, sizeof version, "1.%d", r);
      /* Everyone also pushes a shared app; the highest version must win whatever the order. */
      if (record(path, name, version, "sha256:x", &err) < 0) _exit(1);
      snprintf(version, sizeof version, "%d.%d", r, w);
      if (record(path, "shared", version, "sha256:y", &err) < 0) core_error_freep(&err); /* lower: refused */
    }
    _exit(0);
  }
  for (int w = 0; w < WRITERS; w++) {
    int status;
    assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  core_error *err = NULL;
  cleanup_buf core_buf text = CORE_BUF_INIT;
  cleanup_json json_t *doc = NULL;
  assert_int_equal(core_read_file(path, &text, &err), 0);
  assert_int_equal(core_json_parse(text.data, text.len, &doc, &err), 0);
  json_t *apps = json_object_get(doc, "apps");
  assert_int_equal(json_object_size(apps), WRITERS + 1);
  for (int w = 0; w < WRITERS; w++) {
    char name[16];
    snprintf(name, sizeof name, "app%d", w);
    assert_string_equal(json_string_value(json_object_get(json_object_get(apps, name), "version")), "1.25");
  }
  const char *shared = json_string_value(json_object_get(json_object_get(apps, "shared"), "version"));
  assert_string_equal(shared, "25.5"); /* never lowered, so the highest attempt stands */
  assert_dir_clean(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse),
      cmocka_unit_test_setup_teardown(test_key_files, make_tmpdir, remove_tmpdir),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_rules),
      cmocka_unit_test(test_version_compare),
      cmocka_unit_test_setup_teardown(test_rollback_state, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_damaged_state, make_tmpdir, remove_tmpdir),
      cmocka_unit_test_setup_teardown(test_concurrent_writers, make_tmpdir, remove_tmpdir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
