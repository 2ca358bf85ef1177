/* Trust for a TIM: index -> app manifest digest -> every DSSE signature of it, at least one by
 * a trusted key -> manifest -> config, kernel and initramfs blobs (already hashed by the reader). */
#include "tim_verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "disk_verify.h"
#include "json.h"
#include "oci.h"

void core_verified_app_free(core_verified_app *app) {
  if (app == NULL) return;
  core_tim_free(app->tim);
  json_decref(app->config);
  free(app->signer_origin);
  for (size_t i = 0; i < app->n_signers; i++) free(app->signers[i].origin);
  free(app->signers);
  free(app->name);
  free(app->version);
  free(app);
}

void core_verified_app_freep(core_verified_app **app) {
  core_verified_app_free(*app);
  *app = NULL;
}

static int load_json_blob(core_tim *tim, const json_t *desc, const char *want_type, json_t **out, core_error **err) {
  const char *mt;
  core_digest d;
  uint64_t size;
  if (core_oci_descriptor_parse(desc, &mt, &d, &size, err) < 0) return -1;
  if (want_type && strcmp(mt, want_type) != 0)
    return core_error_set(err, 0, "%s has media type '%s', expected '%s'", d.str, mt, want_type);
  cleanup_buf core_buf text = CORE_BUF_INIT;
  if (core_tim_blob_load(tim, &d, size, &text, err) < 0) return -1;
  if (core_json_parse(text.data, text.len, out, err) < 0) return core_error_wrap(err, "blob %s", d.str);
  return 0;
}

/* An image index or manifest as corec writes it: an object with schemaVersion 2 and its
 * media type. A reader that skips these would accept documents other tools read differently. */
static int check_document(const json_t *doc, const char *media_type, const char *what, core_error **err) {
  if (!json_is_object(doc)) return core_error_set(err, 0, "%s is not a JSON object", what);
  json_t *version = json_object_get(doc, "schemaVersion");
  if (!json_is_integer(version) || json_integer_value(version) != 2)
    return core_error_set(err, 0, "%s must have schemaVersion 2 (an integer)", what);
  const char *mt = json_string_value(json_object_get(doc, "mediaType"));
  if (mt == NULL || strcmp(mt, media_type) != 0)
    return core_error_set(err, 0, "%s has media type '%s', expected '%s'", what, mt ? mt : "(none)", media_type);
  return 0;
}

/* The single entry of index.json: an image index holding the app and its signatures. */
static int load_top_index(core_tim *tim, json_t **out, core_error **err) {
  cleanup_json json_t *index = NULL;
  if (core_json_parse(tim->index_json.data, tim->index_json.len, &index, err) < 0)
    return core_error_wrap(err, "index.json");
  if (check_document(index, OCI_MT_INDEX, "index.json", err) < 0) return -1;
  json_t *manifests = json_object_get(index, "manifests");
  if (!json_is_array(manifests) || json_array_size(manifests) != 1)
    return core_error_set(err, 0, "index.json must list exactly one image index, not %zu (this is not a TIM artifact)",
                          json_array_size(manifests));
  if (load_json_blob(tim, json_array_get(manifests, 0), OCI_MT_INDEX, out, err) < 0)
    return core_error_wrap(err, "index.json");
  if (check_document(*out, OCI_MT_INDEX, "the image index", err) < 0) return core_error_wrap(err, "index.json");
  if (!json_is_array(json_object_get(*out, "manifests")))
    return core_error_set(err, 0, "index.json: the image index has no manifests array");
  return 0;
}

/* Checks the in-toto statement names exactly the app manifest. */
static int check_statement(const core_buf *payload, const core_digest *manifest, core_error **err) {
  cleanup_json json_t *st = NULL;
  if (core_json_parse(payload->data, payload->len, &st, err) < 0) return core_error_wrap(err, "signed statement");
  const char *type = json_string_value(json_object_get(st, "_type"));
  const char *pred = json_string_value(json_object_get(st, "predicateType"));
  json_t *subjects = json_object_get(st, "subject");
  if (!type || strcmp(type, INTOTO_STATEMENT_TYPE) != 0 || !pred || strcmp(pred, TIM_PREDICATE_TYPE) != 0 ||
      !json_is_array(subjects) || json_array_size(subjects) != 1)
    return core_error_set(err, 0, "the signed statement is not a core artifact statement");
  const char *hex = json_string_value(json_object_get(json_object_get(json_array_get(subjects, 0), "digest"), "sha256"));
  if (!hex || strcmp(hex, core_digest_hex(manifest)) != 0)
    return core_error_set(err, 0, "the signature is valid but for another artifact (sha256:%s), not this manifest",
                          hex ? hex : "?");
  return 0;
}

/* What one signature manifest in the top index says about the app manifest. */
typedef struct sig_check {
  int about_app;               /* its subject is the app manifest */
  core_dsse_result result;
  char keyid[CORE_KEYID_LEN + 1]; /* the verifying key, or the key id the signature claims */
} sig_check;

static int check_one_signature(const char *path, core_tim *tim, json_t *desc, const core_digest *manifest,
                               const core_trust *trust, sig_check *out, core_error **err) {
  memset(out, 0, sizeof *out);
  cleanup_json json_t *sig_manifest = NULL;
  if (load_json_blob(tim, desc, OCI_MT_MANIFEST, &sig_manifest, err) < 0 ||
      check_document(sig_manifest, OCI_MT_MANIFEST, "a signature manifest", err) < 0)
    return core_error_wrap(err, "'%s'", path);
  core_digest subject;
  uint64_t subject_size;
  json_t *subj = json_object_get(sig_manifest, "subject");
  if (subj == NULL || core_oci_descriptor_parse(subj, NULL, &subject, &subject_size, err) < 0) {
    core_error_freep(err);
    return 0; /* a signature of something else */
  }
  if (strcmp(subject.str, manifest->str) != 0) return 0;
  out->about_app = 1;
  json_t *layers = json_object_get(sig_manifest, "layers");
  if (!json_is_array(layers) || json_array_size(layers) != 1)
    return core_error_set(err, 0, "'%s': signature manifest must have exactly one layer", path);
  const char *mt;
  core_digest env_digest;
  uint64_t env_size;
  if (core_oci_descriptor_parse(json_array_get(layers, 0), &mt, &env_digest, &env_size, err) < 0) return -1;
  cleanup_buf core_buf envelope = CORE_BUF_INIT;
  if (core_tim_blob_load(tim, &env_digest, env_size, &envelope, err) < 0) return core_error_wrap(err, "'%s'", path);
  cleanup_buf core_buf payload = CORE_BUF_INIT;
  if (core_dsse_verify(envelope.data, envelope.len, CORE_INTOTO_PAYLOAD_TYPE, trust->keys, trust->n_keys, &payload,
                       out->keyid, &out->result, err) < 0)
    return core_error_wrap(err, "'%s': signature", path);
  /* A trusted key vouching for another artifact is no vote for this one: refuse, not skip. */
  if (out->result == CORE_DSSE_VERIFIED && check_statement(&payload, manifest, err) < 0)
    return core_error_wrap(err, "'%s'", path);
  return 0;
}

static const char *trusted_origin(const core_trust *trust, const char *id) {
  for (size_t k = 0; k < trust->n_keys; k++)
    if (strcmp(trust->keys[k].id, id) == 0) return trust->keys[k].origin;
  return NULL;
}

/* Counts a key once however many signature manifests it made: N-of-M means N keys. */
static int add_signer(core_verified_app *app, const core_trust *trust, const char *id, core_error **err) {
  for (size_t i = 0; i < app->n_signers; i++)
    if (strcmp(app->signers[i].id, id) == 0) return 0;
  core_signer *grown = realloc(app->signers, (app->n_signers + 1) * sizeof *grown);
  if (grown == NULL) return core_error_set(err, ENOMEM, "allocating");
  app->signers = grown;
  core_signer *s = &app->signers[app->n_signers];
  snprintf(s->id, sizeof s->id, "%s", id);
  const char *origin = trusted_origin(trust, id);
  if ((s->origin = strdup(origin ? origin : "?")) == NULL) return core_error_set(err, ENOMEM, "allocating");
  app->n_signers++;
  return 0;
}

/* Why nothing trusted signed: unsigned, or signed only by keys not trusted here. */
static int refuse_untrusted(const char *path, size_t n_sigs, const char *untrusted, const core_trust *trust,
                            core_error **err) {
  if (n_sigs == 0)
    return core_error_set(err, 0,
                          "'%s' is not signed: corerun boots only signed artifacts; build it with 'corec build', "
                          "which signs it", path);
  if (trust->n_keys == 0)
    return core_error_set(err, 0,
                          "'%s' is signed by key %.16s, but no key is trusted (looked in %s); add the publisher's "
                          "public key there or pass --trust KEY.pub", path, untrusted[0] ? untrusted : "?",
                          trust->n_searched ? trust->searched[0] : "trust.d");
  return core_error_set(err, 0,
                        "'%s' is signed by key %.16s, which is not trusted; if you trust its publisher, pass --trust "
                        "KEY.pub or put the key in %s", path, untrusted[0] ? untrusted : "?",
                        trust->n_searched ? trust->searched[0] : "trust.d");
}

/* Every signature of the app manifest is checked, not only the first that verifies: a policy
 * counts the keys that signed, and one bad signature among good ones is still an attack. */
static int verify_signatures(const char *path, core_tim *tim, json_t *entries, const core_digest *manifest,
                             const core_trust *trust, core_verified_app *app, core_error **err) {
  size_t i, n_sigs = 0;
  json_t *desc;
  char untrusted[CORE_KEYID_LEN + 1] = "";
  json_array_foreach(entries, i, desc) {
    const char *at = json_string_value(json_object_get(desc, "artifactType"));
    if (!at || strcmp(at, CORE_DSSE_MEDIA_TYPE) != 0) continue;
    sig_check c;
    if (check_one_signature(path, tim, desc, manifest, trust, &c, err) < 0) return -1;
    if (!c.about_app) continue;
    n_sigs++;
    if (c.result == CORE_DSSE_INVALID) {
      const char *origin = trusted_origin(trust, c.keyid);
      /* The key id is outside what is signed, so anyone can claim one. Every blob already
       * hashed to its name, so the signature itself is what does not fit the key. */
      return core_error_set(err, 0,
                            "'%s': its signature names trusted key %.16s (%s) but does not verify with that key: it "
                            "was made by a different key claiming that key's id, or its signature bytes were altered; "
                            "do not run it, and get the artifact again from its publisher", path, c.keyid,
                            origin ? origin : "?");
    }
    if (c.result == CORE_DSSE_UNTRUSTED && c.keyid[0] && !untrusted[0]) memcpy(untrusted, c.keyid, sizeof untrusted);
    if (c.result == CORE_DSSE_VERIFIED && add_signer(app, trust, c.keyid, err) < 0) return -1;
  }
  if (app->n_signers == 0) return refuse_untrusted(path, n_sigs, untrusted, trust, err);
  memcpy(app->signer, app->signers[0].id, sizeof app->signer);
  if ((app->signer_origin = strdup(app->signers[0].origin)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  return 0;
}

static int find_layer(core_tim *tim, json_t *layers, const char *media_type, core_tim_blob **out, core_error **err) {
  size_t i;
  json_t *desc;
  json_array_foreach(layers, i, desc) {
    const char *mt;
    core_digest d;
    uint64_t size;
    if (core_oci_descriptor_parse(desc, &mt, &d, &size, err) < 0) return -1;
    if (strcmp(mt, media_type) != 0) continue;
    core_tim_blob *b = core_tim_find(tim, &d);
    if (b == NULL) return core_error_set(err, 0, "blob %s (%s) is missing from the artifact", d.str, media_type);
    if (b->size != size)
      return core_error_set(err, 0, "blob %s has %llu bytes but the manifest says %llu", d.str,
                            (unsigned long long)b->size, (unsigned long long)size);
    *out = b;
    return 0;
  }
  return core_error_set(err, 0, "the manifest has no %s layer", media_type);
}

/* The initramfs layer, in the clear or as an age file: exactly one. An encrypted one must name
 * its plaintext (digest, size), which can be no larger than the ciphertext holding it. */
static int find_initramfs(core_tim *tim, json_t *layers, core_verified_app *app, core_error **err) {
  size_t i, found = 0;
  json_t *desc, *which = NULL;
  json_array_foreach(layers, i, desc) {
    const char *mt = json_string_value(json_object_get(desc, "mediaType"));
    if (mt && (strcmp(mt, TIM_MT_INITRAMFS) == 0 || strcmp(mt, TIM_MT_INITRAMFS_AGE) == 0)) {
      found++;
      which = desc;
    }
  }
  if (found != 1)
    return core_error_set(err, 0, "the manifest must list exactly one initramfs layer (%s or %s), not %zu", TIM_MT_INITRAMFS,
                          TIM_MT_INITRAMFS_AGE, found);
  const char *mt = json_string_value(json_object_get(which, "mediaType"));
  if (find_layer(tim, layers, mt, &app->initramfs, err) < 0) return -1;
  if (strcmp(mt, TIM_MT_INITRAMFS_AGE) != 0) return 0;
  const json_t *ann = json_object_get(which, "annotations");
  const char *digest = json_string_value(json_object_get(ann, CORE_ANN_PLAINTEXT_DIGEST));
  const char *size = json_string_value(json_object_get(ann, CORE_ANN_PLAINTEXT_SIZE));
  char *end = NULL;
  unsigned long long n = size && size[0] >= '1' && size[0] <= '9' ? strtoull(size, &end, 10) : 0;
  if (!core_digest_is_valid(digest) || n == 0 || end == NULL || *end || strlen(size) > 19 || n >= app->initramfs->size)
    return core_error_set(err, 0, "the encrypted initramfs layer must name its plaintext: %s (sha256:<64 hex>) and %s "
                          "(a decimal byte count below the ciphertext's %llu)", CORE_ANN_PLAINTEXT_DIGEST,
                          CORE_ANN_PLAINTEXT_SIZE, (unsigned long long)app->initramfs->size);
  app->encrypted = 1;
  snprintf(app->plain_digest.str, sizeof app->plain_digest.str, "%s", digest);
  app->plain_size = n;
  return 0;
}

/* The layers corec writes, each at most once: a manifest naming anything else was made by
 * something that is not corec (or a later corec), and is refused rather than half understood. */
static int check_layer_types(json_t *layers, core_error **err) {
  static const char *const known[] = {TIM_MT_KERNEL, TIM_MT_INITRAMFS, TIM_MT_INITRAMFS_AGE, TIM_MT_SBOM,
                                      TIM_MT_PROVENANCE};
  size_t seen[sizeof known / sizeof known[0]] = {0};
  size_t i;
  json_t *desc;
  json_array_foreach(layers, i, desc) {
    const char *mt = json_string_value(json_object_get(desc, "mediaType"));
    size_t k = 0;
    while (k < sizeof known / sizeof known[0] && (mt == NULL || strcmp(mt, known[k]) != 0)) k++;
    if (k == sizeof known / sizeof known[0])
      return core_error_set(err, 0, "the manifest lists a layer of unknown media type '%s' (corec writes only the kernel, "
                            "initramfs, SBOM and provenance)", mt ? mt : "(none)");
    if (seen[k]++)
      return core_error_set(err, 0, "the manifest lists more than one %s layer", mt);
  }
  return 0;
}

/* An optional layer (the SBOM, the provenance): absent in older artifacts, checked like the
 * others when present (in the tim, of the signed size; the reader hashed it). */
static int find_optional(core_tim *tim, json_t *layers, const char *media_type, core_tim_blob **out, core_error **err) {
  size_t i;
  json_t *desc;
  json_array_foreach(layers, i, desc) {
    const char *mt = json_string_value(json_object_get(desc, "mediaType"));
    if (mt && strcmp(mt, media_type) == 0) return find_layer(tim, layers, media_type, out, err);
  }
  *out = NULL;
  return 0;
}

/* The name and version a policy judges, both from signed bytes: the manifest's annotations (the
 * config's name when the manifest has none). */
static int take_identity(core_verified_app *app, const json_t *manifest, core_error **err) {
  const json_t *ann = json_object_get(manifest, "annotations");
  const char *name = json_string_value(json_object_get(ann, CORE_ANN_APP_NAME));
  if (name == NULL) name = json_string_value(json_object_get(app->config, "name"));
  const char *version = json_string_value(json_object_get(ann, CORE_ANN_VERSION));
  if ((name && (app->name = strdup(name)) == NULL) || (version && (app->version = strdup(version)) == NULL))
    return core_error_set(err, ENOMEM, "allocating");
  return 0;
}

/* index.json is the one file of the layout no digest covers, so it must be exactly what corec
 * writes: the verified top index, named by the signed app name. Otherwise other OCI tools
 * would call the image something its signer never said. */
static int check_index_json(const char *path, core_tim *tim, const char *name, core_error **err) {
  cleanup_json json_t *index = NULL;
  core_digest top;
  uint64_t size;
  if (core_json_parse(tim->index_json.data, tim->index_json.len, &index, err) < 0 ||
      core_oci_descriptor_parse(json_array_get(json_object_get(index, "manifests"), 0), NULL, &top, &size, err) < 0)
    return core_error_wrap(err, "'%s': index.json", path);
  cleanup_buf core_buf want = CORE_BUF_INIT;
  if (core_tim_index_json(&top, size, name ? name : "", &want, err) < 0) return -1;
  if (want.len != tim->index_json.len || memcmp(want.data, tim->index_json.data, want.len) != 0)
    return core_error_set(err, 0,
                          "'%s': index.json is not the one corec writes for this artifact (one entry, named '%s' as "
                          "its signed manifest says): it was altered; get the artifact again from its publisher",
                          path, name ? name : "");
  return 0;
}

int core_tim_open_verified(const char *path, const core_trust *trust, core_verified_app **out, core_error **err) {
  core_verified_app *app = calloc(1, sizeof *app);
  __attribute__((cleanup(core_verified_app_freep))) core_verified_app *owned = app;
  if (app == NULL) return core_error_set(err, ENOMEM, "allocating");
  /* A disk form (raw, qcow2, ISO) carries the same layout in a region of its own; anything
   * else goes to the TIM reader, which refuses what is not a TIM. */
  core_form form = CORE_FORM_TIM;
  core_disk_meta meta;
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && core_form_detect(fd, &form, err) < 0) return -1;
  if (form == CORE_FORM_TIM) {
    if (core_tim_read(path, &app->tim, err) < 0) return -1;
  } else if (core_disk_read_meta(path, fd, form, &app->tim, &meta, err) < 0) {
    return -1;
  }
  cleanup_json json_t *top = NULL;
  if (load_top_index(app->tim, &top, err) < 0) return core_error_wrap(err, "'%s'", path);
  json_t *entries = json_object_get(top, "manifests");

  const json_t *app_desc = NULL;
  size_t i;
  json_t *desc;
  json_array_foreach(entries, i, desc) {
    const char *at = json_string_value(json_object_get(desc, "artifactType"));
    if (!at || strcmp(at, TIM_ARTIFACT_TYPE) != 0) continue;
    if (app_desc) return core_error_set(err, 0, "'%s' holds more than one app manifest", path);
    app_desc = desc;
  }
  if (app_desc == NULL) return core_error_set(err, 0, "'%s' holds no core app manifest (is it a TIM?)", path);
  uint64_t size;
  if (core_oci_descriptor_parse(app_desc, NULL, &app->manifest, &size, err) < 0) return core_error_wrap(err, "'%s'", path);

  /* Trust first: nothing of the manifest is interpreted before its signature checks out. */
  if (verify_signatures(path, app->tim, entries, &app->manifest, trust, app, err) < 0) return -1;

  cleanup_json json_t *manifest = NULL;
  if (load_json_blob(app->tim, app_desc, OCI_MT_MANIFEST, &manifest, err) < 0 ||
      check_document(manifest, OCI_MT_MANIFEST, "the app manifest", err) < 0)
    return core_error_wrap(err, "'%s'", path);
  const char *at = json_string_value(json_object_get(manifest, "artifactType"));
  if (at == NULL || strcmp(at, TIM_ARTIFACT_TYPE) != 0)
    return core_error_set(err, 0, "'%s': the app manifest has artifactType '%s', expected '%s'", path, at ? at : "(none)",
                          TIM_ARTIFACT_TYPE);
  json_t *layers = json_object_get(manifest, "layers");
  if (!json_is_array(layers)) return core_error_set(err, 0, "'%s': the manifest lists no layers", path);
  const char *described = json_string_value(json_object_get(json_object_get(manifest, "annotations"), CORE_ANN_IMAGE_FORMAT));
  if (form == CORE_FORM_TIM && described != NULL)
    return core_error_set(err, 0, "'%s' is a TIM, but its signed manifest describes %s: it is the metadata of that "
                          "artifact taken out of it; run the %s itself", path,
                          strcmp(described, CORE_FORMAT_ISO) == 0 ? "an ISO" : "a raw or qcow2 disk",
                          strcmp(described, CORE_FORMAT_ISO) == 0 ? "ISO" : "disk");
  if (form != CORE_FORM_TIM && core_disk_check(path, fd, manifest, &meta, app->tim, err) < 0) return -1;
  if (load_json_blob(app->tim, json_object_get(manifest, "config"), TIM_MT_CONFIG, &app->config, err) < 0 ||
      check_layer_types(layers, err) < 0 || find_layer(app->tim, layers, TIM_MT_KERNEL, &app->kernel, err) < 0 ||
      find_initramfs(app->tim, layers, app, err) < 0 ||
      find_optional(app->tim, layers, TIM_MT_SBOM, &app->sbom, err) < 0 ||
      find_optional(app->tim, layers, TIM_MT_PROVENANCE, &app->provenance, err) < 0)
    return core_error_wrap(err, "'%s'", path);
  if (take_identity(app, manifest, err) < 0 || check_index_json(path, app->tim, app->name, err) < 0) return -1;
  *out = TAKE_PTR(owned);
  return 0;
}
