/* Loading trusted public keys from the trust directories and from --trust files. */
#include "trust.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fsutil.h"

void core_trust_release(core_trust *t) {
  for (size_t i = 0; i < t->n_keys; i++) {
    core_key_freep(&t->keys[i].key);
    free(t->keys[i].origin);
  }
  free(t->keys);
  for (size_t i = 0; i < t->n_searched; i++) free(t->searched[i]);
  free(t->searched);
  memset(t, 0, sizeof *t);
}

int core_trust_add_file(core_trust *t, const char *path, core_error **err) {
  cleanup_key EVP_PKEY *key = NULL;
  if (core_key_load_public(path, &key, err) < 0) return -1;
  char id[CORE_KEYID_LEN + 1];
  if (core_key_id(key, id, err) < 0) return -1;
  for (size_t i = 0; i < t->n_keys; i++)
    if (strcmp(t->keys[i].id, id) == 0) return 0; /* the same key trusted twice is one key */
  core_trusted_key *grown = realloc(t->keys, (t->n_keys + 1) * sizeof *grown);
  if (grown == NULL) return core_error_set(err, ENOMEM, "allocating");
  t->keys = grown;
  core_trusted_key *k = &t->keys[t->n_keys];
  memcpy(k->id, id, sizeof id);
  k->origin = strdup(path);
  if (k->origin == NULL) return core_error_set(err, ENOMEM, "allocating");
  k->key = TAKE_PTR(key);
  t->n_keys++;
  return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static int add_dir(core_trust *t, const char *dir, core_error **err) {
  char **grown = realloc(t->searched, (t->n_searched + 1) * sizeof *grown);
  if (grown == NULL) return core_error_set(err, ENOMEM, "allocating");
  t->searched = grown;
  if ((t->searched[t->n_searched] = strdup(dir)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  t->n_searched++;
  struct dirent **names = NULL;
  int n = scandir(dir, &names, NULL, by_name);
  if (n < 0) return errno == ENOENT ? 0 : core_error_set(err, errno, "reading trust directory '%s'", dir);
  int rc = 0;
  for (int i = 0; i < n; i++) {
    const char *name = names[i]->d_name;
    size_t len = strlen(name);
    if (rc == 0 && len > 4 && strcmp(name + len - 4, ".pub") == 0) {
      cleanup_free char *path = core_path_join(dir, name);
      if (path == NULL) rc = core_error_set(err, ENOMEM, "allocating");
      else if (core_trust_add_file(t, path, err) < 0) rc = -1;
    }
    free(names[i]);
  }
  free(names);
  return rc;
}

int core_trust_load(const char *const *extra_files, size_t n_extra, core_trust *out, core_error **err) {
  core_trust t = {0};
  cleanup_free char *home = NULL;
  if (core_config_dir(&home, err) < 0) return -1;
  cleanup_free char *user_dir = core_path_join(home, "trust.d");
  if (user_dir == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (add_dir(&t, user_dir, err) < 0 || add_dir(&t, "/etc/core/trust.d", err) < 0) goto fail;
  for (size_t i = 0; i < n_extra; i++)
    if (core_trust_add_file(&t, extra_files[i], err) < 0) goto fail;
  *out = t;
  return 0;
fail:
  core_trust_release(&t);
  return -1;
}
