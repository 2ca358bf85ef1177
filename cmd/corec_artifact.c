/* Open, verify, and optionally decrypt: the one way inspect, ls and diff reach an artifact. */
#include "corec_artifact.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cleanup.h"
#include "json.h"

static int artifact_flag(corec_artifact_flags *f, int opt, const char *arg, core_error **err) {
  if (opt == 't') {
    if (f->n_trust == COREC_MAX_KEYS) return core_error_set(err, 0, "at most %d --trust files", COREC_MAX_KEYS);
    f->trust_files[f->n_trust++] = arg;
    return 0;
  }
  if (f->n_identity == COREC_MAX_KEYS) return core_error_set(err, 0, "at most %d --identity files", COREC_MAX_KEYS);
  f->identity_files[f->n_identity++] = arg;
  return 0;
}

int corec_artifact_args(int argc, char **argv, const char *help, corec_artifact_flags *f, int *json, core_error **err) {
  static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                       {"trust", required_argument, NULL, 't'},
                                       {"identity", required_argument, NULL, 'i'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
      case 'j':
        if (json == NULL) return fputs(help, stderr), 2;
        *json = 1;
        break;
      case 't':
      case 'i':
        if (artifact_flag(f, c, optarg, err) < 0) return -1;
        break;
      case 'h': fputs(help, stdout); return 1;
      default: fputs(help, stderr); return 2;
    }
  }
  return 0;
}

void corec_artifact_release(corec_artifact *a) {
  core_verified_app_freep(&a->app);
  json_decref(a->manifest);
  a->manifest = NULL;
  core_decrypt_keys_release(&a->keys);
  core_trust_release(&a->trust);
}

/* The form, by the same magic numbers the verifier went by; the file verified, so this only
 * names what it already is. */
static int detect_form(const char *path, core_form *out, core_error **err) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return core_error_set(err, errno, "opening '%s'", path);
  return core_form_detect(fd, out, err);
}

/* The app manifest again, from the verified blobs: the verifier does not keep it. */
static int load_manifest(corec_artifact *a, core_error **err) {
  core_tim_blob *b = core_tim_find(a->app->tim, &a->app->manifest);
  if (b == NULL) return core_error_set(err, 0, "the app manifest %s is missing", a->app->manifest.str);
  cleanup_buf core_buf text = CORE_BUF_INIT;
  if (core_tim_blob_load(a->app->tim, &a->app->manifest, b->size, &text, err) < 0) return -1;
  return core_json_parse(text.data, text.len, &a->manifest, err);
}

int corec_artifact_open(const char *path, const corec_artifact_flags *f, int want_plaintext, corec_artifact *out,
                        core_error **err) {
  memset(out, 0, sizeof *out);
  const char *env_identity = getenv("CORE_IDENTITY_FILE");
  if (core_trust_load(f->trust_files, f->n_trust, &out->trust, err) < 0) return -1;
  for (size_t i = 0; i < f->n_identity; i++)
    if (core_decrypt_keys_add_file(&out->keys, f->identity_files[i], err) < 0) return -1;
  if (f->n_identity == 0 && env_identity && *env_identity &&
      core_decrypt_keys_add_file(&out->keys, env_identity, err) < 0)
    return -1;
  if (core_tim_open_verified(path, &out->trust, &out->app, err) < 0) return -1;
  if (detect_form(path, &out->form, err) < 0 || load_manifest(out, err) < 0) return core_error_wrap(err, "'%s'", path);
  if (!out->app->encrypted) return 0;
  if (out->keys.n_ids == 0) {
    if (!want_plaintext) return 0;
    return core_error_set(err, 0,
                          "'%s' is encrypted (its initramfs %s is an age file): pass --identity FILE (the age identity "
                          "it was encrypted to, as age-keygen wrote it; or set CORE_IDENTITY_FILE) to read its files",
                          path, out->app->initramfs->digest.str);
  }
  return core_app_decrypt(out->app, path, &out->keys, err);
}

void corec_print_json(const json_t *v, const char *missing) {
  char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  fputs(s ? s : missing, stdout);
  free(s);
}

int corec_artifact_document(const corec_artifact *a, int provenance, json_t **out, core_error **err) {
  core_tim_blob *b = provenance ? a->app->provenance : a->app->sbom;
  *out = NULL;
  if (b == NULL) return 0;
  cleanup_buf core_buf text = CORE_BUF_INIT;
  if (core_tim_blob_load(a->app->tim, &b->digest, b->size, &text, err) < 0) return -1;
  if (core_json_parse(text.data, text.len, out, err) < 0)
    return core_error_wrap(err, "its %s %s", provenance ? "provenance" : "SBOM", b->digest.str);
  return 0;
}
