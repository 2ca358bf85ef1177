/* corec inspect: what a verified artifact holds, as text or one JSON object (spec/inspect.md).
 * The report is built as JSON first and the text is printed from it, so the two cannot say
 * different things. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "corec.h"
#include "corec_artifact.h"
#include "dsse.h"
#include "json.h"
#include "oci.h"

static const char inspect_help[] =
    "usage: corec inspect [--json] [--trust FILE ...] [--identity FILE ...] ARTIFACT\n"
    "\n"
    "Verifies ARTIFACT (.tim, raw disk, qcow2 or ISO) exactly as 'corec verify' does, and\n"
    "refuses it with the same message (exit 1) when it does not verify; then prints its digest,\n"
    "form, name, version, every signature (trusted here or not), every blob with its role, size,\n"
    "media type and encryption, the pinned sources (from the signed provenance) and the runtime\n"
    "config. The keys of --json are in spec/inspect.md.\n"
    "\n"
    "  --json            one JSON object on stdout\n"
    "  --trust FILE      also trust this Ed25519 public key (PEM); may be repeated (at most 16)\n"
    "  --identity FILE   age identity file to decrypt an encrypted initramfs with, so its\n"
    "                    plaintext is checked against the signed digest; may be repeated (also:\n"
    "                    CORE_IDENTITY_FILE). Not needed to inspect an encrypted artifact.\n"
    "  -h, --help        show this help\n";

#define INSPECT_VERSION 1

/* Adds one blob to the list, once: signature manifests share the empty config blob. */
static int add_blob(json_t *blobs, const char *role, const json_t *desc, core_error **err) {
  const char *mt;
  core_digest d;
  uint64_t size;
  if (core_oci_descriptor_parse(desc, &mt, &d, &size, err) < 0) return -1;
  size_t i;
  json_t *b;
  json_array_foreach(blobs, i, b) if (strcmp(json_string_value(json_object_get(b, "digest")), d.str) == 0) return 0;
  const json_t *ann = json_object_get(desc, "annotations");
  int encrypted = strcmp(mt, TIM_MT_INITRAMFS_AGE) == 0;
  json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:b}", "role", role, "digest", d.str, "size", (json_int_t)size,
                        "media_type", mt, "encrypted", encrypted);
  const char *offset = json_string_value(json_object_get(ann, CORE_ANN_BLOB_OFFSET));
  if (o && offset) json_object_set_new(o, "offset", json_integer((json_int_t)strtoull(offset, NULL, 10)));
  if (o == NULL || json_array_append_new(blobs, o) < 0) return core_error_set(err, ENOMEM, "allocating");
  return 0;
}

static int load_json(core_tim *tim, const json_t *desc, json_t **out, core_error **err) {
  core_digest d;
  uint64_t size;
  cleanup_buf core_buf text = CORE_BUF_INIT;
  if (core_oci_descriptor_parse(desc, NULL, &d, &size, err) < 0 || core_tim_blob_load(tim, &d, size, &text, err) < 0)
    return -1;
  return core_json_parse(text.data, text.len, out, err);
}

/* One signature of the app manifest: which key, and whether it is trusted here. The verifier
 * already refused any that claims a trusted key without verifying, so a signature here either
 * verified with a trusted key or is by a key not trusted here. */
static int add_signature(corec_artifact *a, const json_t *desc, json_t *sigs, json_t *blobs, core_error **err) {
  cleanup_json json_t *m = NULL;
  core_digest subject, env;
  uint64_t size, env_size;
  if (load_json(a->app->tim, desc, &m, err) < 0) return -1;
  if (core_oci_descriptor_parse(json_object_get(m, "subject"), NULL, &subject, &size, err) < 0) {
    core_error_freep(err);
    return 0; /* a signature of something else, as the verifier skips it */
  }
  if (strcmp(subject.str, a->app->manifest.str) != 0) return 0;
  const json_t *layer = json_array_get(json_object_get(m, "layers"), 0);
  if (core_oci_descriptor_parse(layer, NULL, &env, &env_size, err) < 0) return -1;
  cleanup_buf core_buf envelope = CORE_BUF_INIT, payload = CORE_BUF_INIT;
  char keyid[CORE_KEYID_LEN + 1] = "";
  core_dsse_result result;
  if (core_tim_blob_load(a->app->tim, &env, env_size, &envelope, err) < 0 ||
      core_dsse_verify(envelope.data, envelope.len, CORE_INTOTO_PAYLOAD_TYPE, a->trust.keys, a->trust.n_keys, &payload,
                       keyid, &result, err) < 0)
    return -1;
  if (!keyid[0]) {
    const char *claimed = json_string_value(json_object_get(json_object_get(m, "annotations"), "dev.core.signature.keyid"));
    snprintf(keyid, sizeof keyid, "%s", claimed ? claimed : "");
  }
  const char *origin = NULL;
  if (result == CORE_DSSE_VERIFIED)
    for (size_t k = 0; k < a->trust.n_keys; k++)
      if (strcmp(a->trust.keys[k].id, keyid) == 0) origin = a->trust.keys[k].origin;
  core_digest md;
  if (core_oci_descriptor_parse(desc, NULL, &md, &size, err) < 0) return -1;
  json_t *o = json_pack("{s:s, s:b, s:s?, s:s, s:s}", "keyid", keyid, "trusted", result == CORE_DSSE_VERIFIED,
                        "key_file", origin, "manifest", md.str, "envelope", env.str);
  if (o == NULL || json_array_append_new(sigs, o) < 0) return core_error_set(err, ENOMEM, "allocating");
  if (add_blob(blobs, "signature-manifest", desc, err) < 0 ||
      add_blob(blobs, "signature-config", json_object_get(m, "config"), err) < 0 ||
      add_blob(blobs, "signature", layer, err) < 0)
    return -1;
  return 0;
}

/* The layout's own documents, then the app's blobs, then each signature's. */
static int collect(corec_artifact *a, json_t *sigs, json_t *blobs, core_error **err) {
  cleanup_json json_t *index = NULL, *top = NULL;
  core_verified_app *app = a->app;
  if (core_json_parse(app->tim->index_json.data, app->tim->index_json.len, &index, err) < 0) return -1;
  const json_t *top_desc = json_array_get(json_object_get(index, "manifests"), 0);
  if (load_json(app->tim, top_desc, &top, err) < 0 || add_blob(blobs, "index", top_desc, err) < 0) return -1;
  size_t i;
  json_t *desc;
  json_array_foreach(json_object_get(top, "manifests"), i, desc) {
    const char *at = json_string_value(json_object_get(desc, "artifactType"));
    if (at && strcmp(at, TIM_ARTIFACT_TYPE) == 0 && add_blob(blobs, "manifest", desc, err) < 0) return -1;
  }
  if (add_blob(blobs, "config", json_object_get(a->manifest, "config"), err) < 0) return -1;
  json_array_foreach(json_object_get(a->manifest, "layers"), i, desc) {
    const char *mt = json_string_value(json_object_get(desc, "mediaType"));
    const char *role = mt && strcmp(mt, TIM_MT_KERNEL) == 0 ? "kernel"
                       : mt && strncmp(mt, TIM_MT_INITRAMFS, strlen(TIM_MT_INITRAMFS)) == 0 ? "initramfs"
                       : mt && strcmp(mt, TIM_MT_SBOM) == 0 ? "sbom"
                       : mt && strcmp(mt, TIM_MT_PROVENANCE) == 0 ? "provenance"
                                                                  : "layer";
    if (add_blob(blobs, role, desc, err) < 0) return -1;
  }
  json_array_foreach(json_object_get(top, "manifests"), i, desc) {
    const char *at = json_string_value(json_object_get(desc, "artifactType"));
    if (at && strcmp(at, CORE_DSSE_MEDIA_TYPE) == 0 && add_signature(a, desc, sigs, blobs, err) < 0) return -1;
  }
  return 0;
}

/* The initramfs blob's plaintext, when it is stored encrypted. */
static void add_plaintext(const corec_artifact *a, json_t *blobs) {
  size_t i;
  json_t *b;
  json_array_foreach(blobs, i, b) {
    if (!json_is_true(json_object_get(b, "encrypted"))) continue;
    json_object_set_new(b, "plaintext",
                        json_pack("{s:s, s:I, s:b}", "digest", a->app->plain_digest.str, "size",
                                  (json_int_t)a->app->plain_size, "checked", a->app->decrypted));
  }
}

/* The pinned sources, as the signed provenance lists them: {name, uri, digest}. Empty for an
 * artifact without one. */
static int sources(const corec_artifact *a, json_t **out, core_error **err) {
  cleanup_json json_t *prov = NULL;
  if (corec_artifact_document(a, 1, &prov, err) < 0) return -1;
  json_t *deps = json_object_get(json_object_get(json_object_get(prov, "predicate"), "buildDefinition"),
                                 "resolvedDependencies");
  *out = json_is_array(deps) ? json_incref(deps) : json_array();
  if (*out == NULL) return core_error_set(err, ENOMEM, "allocating");
  return 0;
}

static int build_report(const char *path, corec_artifact *a, json_t **out, core_error **err) {
  cleanup_json json_t *sigs = json_array(), *blobs = json_array(), *srcs = NULL;
  if (sigs == NULL || blobs == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (collect(a, sigs, blobs, err) < 0 || sources(a, &srcs, err) < 0) return core_error_wrap(err, "'%s'", path);
  add_plaintext(a, blobs);
  core_verified_app *app = a->app;
  *out = json_pack("{s:i, s:s, s:s, s:s, s:s?, s:o?, s:b, s:b, s:O, s:O, s:O, s:O}", "inspect_version", INSPECT_VERSION,
                   "artifact", path, "digest", app->manifest.str, "form", core_form_name(a->form), "name", app->name,
                   "version", app->version ? json_string(app->version) : json_null(), "encrypted", app->encrypted,
                   "plaintext_checked", app->decrypted, "signatures", sigs, "blobs", blobs, "sources", srcs, "config",
                   app->config);
  if (*out == NULL) return core_error_set(err, ENOMEM, "allocating");
  return 0;
}

/* Text output ----------------------------------------------------------------------------- */


static void print_config(const json_t *c) {
  const json_t *kernel = json_object_get(c, "kernel"), *net = json_object_get(c, "network"),
               *res = json_object_get(c, "resources");
  size_t i;
  json_t *v;
  printf("config:\n  main:      ");
  corec_print_json(json_object_get(c, "main"), "(none)");
  printf("\n  cmdline:   %s\n  modules:  ", json_string_value(json_object_get(kernel, "cmdline"))
                                                   ? json_string_value(json_object_get(kernel, "cmdline"))
                                                   : "");
  json_array_foreach(json_object_get(kernel, "modules"), i, v) printf(" %s", json_string_value(v) ? json_string_value(v) : "?");
  printf("\n  network:   %s", json_string_value(json_object_get(net, "mode")) ? json_string_value(json_object_get(net, "mode")) : "(none)");
  json_array_foreach(json_object_get(net, "ports"), i, v) {
    const char *proto = json_string_value(json_object_get(v, "protocol"));
    printf("%s%lld:%lld/%s", i == 0 ? ", ports " : " ", (long long)json_integer_value(json_object_get(v, "host")),
           (long long)json_integer_value(json_object_get(v, "guest")), proto ? proto : "tcp");
  }
  printf("\n  volumes:  ");
  json_array_foreach(json_object_get(c, "volumes"), i, v) {
    const char *n = json_string_value(json_object_get(v, "name")), *p = json_string_value(json_object_get(v, "path"));
    printf(" %s at %s", n ? n : "?", p ? p : "?");
  }
  if (json_array_size(json_object_get(c, "volumes")) == 0) printf(" (none)");
  printf("\n  resources: memory ");
  corec_print_json(json_object_get(res, "memory_mib"), "(none)");
  printf(" MiB, cpus ");
  corec_print_json(json_object_get(res, "cpus"), "(none)");
  printf("\n");
}

static void print_text(const json_t *r) {
  printf("artifact:  %s\ndigest:    %s\nform:      %s\nname:      %s\nversion:   %s\n",
         json_string_value(json_object_get(r, "artifact")), json_string_value(json_object_get(r, "digest")),
         json_string_value(json_object_get(r, "form")),
         json_string_value(json_object_get(r, "name")) ? json_string_value(json_object_get(r, "name")) : "(none)",
         json_string_value(json_object_get(r, "version")) ? json_string_value(json_object_get(r, "version")) : "(none)");
  size_t i;
  json_t *v;
  printf("signatures:\n");
  json_array_foreach(json_object_get(r, "signatures"), i, v) {
    if (json_is_true(json_object_get(v, "trusted")))
      printf("  %s  trusted (%s)\n", json_string_value(json_object_get(v, "keyid")),
             json_string_value(json_object_get(v, "key_file")) ? json_string_value(json_object_get(v, "key_file")) : "?");
    else
      printf("  %s  UNTRUSTED here (not counted)\n", json_string_value(json_object_get(v, "keyid")));
  }
  printf("blobs:\n");
  json_array_foreach(json_object_get(r, "blobs"), i, v) {
    printf("  %-18s %s %10lld %s", json_string_value(json_object_get(v, "role")),
           json_string_value(json_object_get(v, "digest")), (long long)json_integer_value(json_object_get(v, "size")),
           json_string_value(json_object_get(v, "media_type")));
    const json_t *plain = json_object_get(v, "plaintext");
    if (plain)
      printf("\n  %-18s encrypted; plaintext %s %lld bytes (%s)", "", json_string_value(json_object_get(plain, "digest")),
             (long long)json_integer_value(json_object_get(plain, "size")),
             json_is_true(json_object_get(plain, "checked")) ? "decrypted and checked" : "not checked: no --identity");
    printf("\n");
  }
  printf("sources:\n");
  json_array_foreach(json_object_get(r, "sources"), i, v) {
    const char *key;
    json_t *value;
    printf("  %s", json_string_value(json_object_get(v, "name")) ? json_string_value(json_object_get(v, "name")) : "?");
    json_object_foreach(json_object_get(v, "digest"), key, value) printf("  %s:%s", key, json_string_value(value));
    printf("\n");
  }
  if (json_array_size(json_object_get(r, "sources")) == 0) printf("  (none recorded)\n");
  print_config(json_object_get(r, "config"));
}

int corec_inspect(int argc, char **argv, core_error **err) {
  corec_artifact_flags flags = {0};
  int json = 0;
  int parsed = corec_artifact_args(argc, argv, inspect_help, &flags, &json, err);
  if (parsed != 0) return parsed == 1 ? 0 : parsed;
  if (optind != argc - 1) return core_error_set(err, 0, "inspect takes one artifact; see 'corec inspect --help'");
  const char *path = argv[optind];
  cleanup_corec_artifact corec_artifact a = {0};
  cleanup_json json_t *report = NULL;
  if (corec_artifact_open(path, &flags, 0, &a, err) < 0 || build_report(path, &a, &report, err) < 0) return -1;
  if (!json) {
    print_text(report);
    return 0;
  }
  cleanup_buf core_buf out = CORE_BUF_INIT;
  if (core_json_dump_pretty(report, &out, err) < 0) return -1;
  fwrite(out.data, 1, out.len, stdout);
  return 0;
}
