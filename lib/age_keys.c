/* age keys as text: "age1..." recipients, "AGE-SECRET-KEY-1..." identities, and the files
 * that list them (age-keygen's output, age -R's input). */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "age_internal.h"
#include "bech32.h"
#include "cleanup.h"
#include "fsutil.h"

#define KEY_FILE_MAX (1024 * 1024) /* a key file is small; bound what is read */
#define KEY_FILE_MAX_KEYS 4096

int core_age_recipient_parse(const char *text, core_age_recipient *out, core_error **err) {
  char hrp[32];
  uint8_t data[32];
  size_t n = 0;
  cleanup_error core_error *why = NULL;
  if (strncmp(text, "age1", 4) != 0 && strncmp(text, "AGE1", 4) != 0) {
    if (strncmp(text, "ssh-", 4) == 0)
      return core_error_set(err, 0, "SSH recipients are not supported; use an age1... recipient (age-keygen -y KEYFILE)");
    if (strncmp(text, "AGE-SECRET-KEY-", 15) == 0)
      return core_error_set(err, 0, "that is a secret key, not a recipient; share its public half (age-keygen -y KEYFILE)");
    return core_error_set(err, 0, "'%.20s...' is not an age recipient (want 'age1...' as age-keygen prints it)", text);
  }
  if (core_bech32_decode(text, hrp, sizeof hrp, data, sizeof data, &n, &why) < 0)
    return core_error_set(err, 0, "invalid age recipient '%.70s': %s", text, why->msg);
  /* age writes recipients in lower case; an upper-case one is valid bech32 but not age's form. */
  if (strcmp(hrp, "age") != 0 || text[0] != 'a' || n != 32)
    return core_error_set(err, 0, "invalid age recipient '%.70s': want lowercase age1 and 32 bytes", text);
  memcpy(out->x25519, data, 32);
  return 0;
}

int core_age_recipient_format(const core_age_recipient *r, char out[128], core_error **err) {
  return core_bech32_encode("age", r->x25519, 32, 0, out, 128, err);
}

int core_age_identity_parse(const char *text, core_age_identity *out, core_error **err) {
  char hrp[32];
  uint8_t data[32];
  size_t n = 0;
  cleanup_error core_error *why = NULL;
  if (strncmp(text, "AGE-SECRET-KEY-1", 16) != 0)
    return core_error_set(err, 0, "not an age identity (want 'AGE-SECRET-KEY-1...' as age-keygen writes it)");
  int rc = core_bech32_decode(text, hrp, sizeof hrp, data, sizeof data, &n, &why);
  if (rc < 0 || strcmp(hrp, "age-secret-key-") != 0 || n != 32) {
    OPENSSL_cleanse(data, sizeof data);
    /* The secret is never repeated in a message. */
    return core_error_set(err, 0, "invalid age identity: %s", why ? why->msg : "want 32 bytes");
  }
  memcpy(out->secret, data, 32);
  OPENSSL_cleanse(data, sizeof data);
  return 0;
}

int core_age_identity_to_recipient(const core_age_identity *id, core_age_recipient *out, core_error **err) {
  return age_x25519_public(id->secret, out->x25519, err);
}

void core_age_identities_free(core_age_identity *ids, size_t n) {
  if (ids) OPENSSL_cleanse(ids, n * sizeof *ids);
  free(ids);
}

/* Calls FN on each line that is not blank or a '#' comment, with trailing whitespace (a CRLF
 * file) trimmed. The buffer is wiped afterwards: it may hold secret keys. */
typedef int (*line_fn)(const char *line, const char *path, size_t line_no, void *ctx, core_error **err);

static int for_each_key_line(const char *path, line_fn fn, void *ctx, core_error **err) {
  /* core_read_file reads a file under 64 KiB into one block, so no copy of a secret is left
   * behind by growing it; the one block is wiped below. */
  cleanup_buf core_buf b = CORE_BUF_INIT;
  if (core_read_file(path, &b, err) < 0) return -1;
  int rc = 0;
  if (b.len > KEY_FILE_MAX) {
    rc = core_error_set(err, 0, "'%s': over %d bytes; that is not a key file", path, KEY_FILE_MAX);
    goto out;
  }
  if (memchr(b.data, 0, b.len)) {
    rc = core_error_set(err, 0, "'%s': NUL byte; that is not a key file", path);
    goto out;
  }
  if (core_buf_append(&b, "", 1, err) < 0) goto fail;
  char *s = (char *)b.data, *end = s + b.len - 1;
  for (size_t line_no = 1; s < end; line_no++) {
    char *nl = memchr(s, '\n', (size_t)(end - s));
    if (nl) *nl = 0;
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = 0;
    if (n && s[0] != '#' && fn(s, path, line_no, ctx, err) < 0) goto fail;
    s = nl ? nl + 1 : end;
  }
  goto out;
fail:
  rc = -1;
out:
  if (b.data) OPENSSL_cleanse(b.data, b.cap);
  return rc;
}

typedef struct key_list {
  void *items;
  size_t n, cap, size;
} key_list;

static void *list_push(key_list *l, const char *path, core_error **err) {
  if (l->n == KEY_FILE_MAX_KEYS) {
    core_error_set(err, 0, "'%s': more than %d keys", path, KEY_FILE_MAX_KEYS);
    return NULL;
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 4;
    /* Grown by hand, not realloc: the old block may hold secrets and must be wiped. */
    void *p = calloc(cap, l->size);
    if (p == NULL) {
      core_error_set(err, 12, "out of memory");
      return NULL;
    }
    if (l->items) {
      memcpy(p, l->items, l->n * l->size);
      OPENSSL_cleanse(l->items, l->n * l->size);
    }
    free(l->items);
    l->items = p;
    l->cap = cap;
  }
  return (uint8_t *)l->items + l->n++ * l->size;
}

static int identity_line(const char *line, const char *path, size_t line_no, void *ctx, core_error **err) {
  core_age_identity *id = list_push(ctx, path, err);
  if (id == NULL) return -1;
  if (core_age_identity_parse(line, id, err) < 0) {
    if (strncmp(line, "age-encryption.org/", 19) == 0) {
      core_error_free(*err);
      *err = NULL;
      return core_error_set(err, 0, "'%s' is an age-encrypted file, not an identity file", path);
    }
    return core_error_wrap(err, "%s:%zu", path, line_no);
  }
  return 0;
}

int core_age_identities_load(const char *path, core_age_identity **out, size_t *n, core_error **err) {
  key_list l = {.size = sizeof(core_age_identity)};
  if (for_each_key_line(path, identity_line, &l, err) < 0) {
    core_age_identities_free(l.items, l.cap);
    return -1;
  }
  if (l.n == 0) {
    core_age_identities_free(l.items, l.cap);
    return core_error_set(err, 0, "'%s' holds no AGE-SECRET-KEY-1 line; make an identity with 'age-keygen -o FILE'", path);
  }
  *out = l.items;
  *n = l.n;
  return 0;
}

static int recipient_line(const char *line, const char *path, size_t line_no, void *ctx, core_error **err) {
  core_age_recipient *r = list_push(ctx, path, err);
  if (r == NULL) return -1;
  if (core_age_recipient_parse(line, r, err) < 0) return core_error_wrap(err, "%s:%zu", path, line_no);
  return 0;
}

int core_age_recipients_load(const char *path, core_age_recipient **out, size_t *n, core_error **err) {
  key_list l = {.size = sizeof(core_age_recipient)};
  if (for_each_key_line(path, recipient_line, &l, err) < 0) {
    free(l.items);
    return -1;
  }
  if (l.n == 0) {
    free(l.items);
    return core_error_set(err, 0, "'%s' holds no age1... recipient", path);
  }
  *out = l.items;
  *n = l.n;
  return 0;
}
