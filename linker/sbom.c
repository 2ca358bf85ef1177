/* The SPDX 2.3 document of an app (spec/sbom.md, "The SBOM"). */
#include "sbom.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "deb_control.h"
#include "diag.h"
#include "json.h"
#include "version.h"

size_t core_source_count(const core_plan *plan) { return 1 + plan->cfg->n_layers + plan->cfg->n_files; }

int core_source_get(const core_plan *plan, size_t k, core_source_ref *out) {
  const core_app_config *cfg = plan->cfg;
  if (k == 0) {
    *out = (core_source_ref){"kernel", &cfg->kernel, &plan->kernel, NULL};
    return 1;
  }
  if (k - 1 < cfg->n_layers) {
    *out = (core_source_ref){"rootfs", &cfg->layers[k - 1].source, &plan->layers[k - 1], NULL};
    return 1;
  }
  size_t j = k - 1 - cfg->n_layers;
  if (j >= cfg->n_files || cfg->files[j].type != CORE_FILE_SOURCE || plan->files[j].n_parts == 0) return 0;
  *out = (core_source_ref){"file", &cfg->files[j].source, &plan->files[j], cfg->files[j].path};
  return 1;
}

char *core_source_name(const core_source_ref *s) {
  char *out = NULL;
  int n = s->guest_path ? asprintf(&out, "file %s", s->guest_path)
          : strcmp(s->role, "kernel") == 0 ? asprintf(&out, "kernel")
                                          : asprintf(&out, "%s %s", s->role, core_source_label(s->src));
  return n < 0 ? NULL : out;
}

/* The one place the SBOM reads file data out of the tree: the rootfs may keep a node's bytes
 * elsewhere than in memory one day, and then only this changes. */
static int node_bytes(const core_rootfs *fs, const core_node *n, core_buf *out, core_error **err) {
  if (n->size > CORE_PKGDB_MAX_BYTES)
    return core_error_set(err, EFBIG, "'/%s' has %llu bytes; a package database of at most %u MiB is read", n->path,
                          (unsigned long long)n->size, CORE_PKGDB_MAX_BYTES >> 20);
  return core_rootfs_node_read(fs, n, out, err);
}

int core_sbom_scan_rootfs(const core_rootfs *fs, core_pkg_list *out, core_error **err) {
  static const struct {
    const char *path;
    core_pkgdb_kind kind;
  } dbs[] = {{"var/lib/dpkg/status", CORE_PKGDB_DPKG_STATUS}, {"lib/apk/db/installed", CORE_PKGDB_APK}};
  for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
    const core_node *n = core_rootfs_find(fs, dbs[i].path);
    if (n == NULL || n->type != CORE_NODE_FILE) continue;
    cleanup_buf core_buf text = CORE_BUF_INIT;
    /* Origins are layer indexes, then files entries: the source number is one more. */
    int source = n->origin >= 0 ? n->origin + 1 : -1;
    if (node_bytes(fs, n, &text, err) < 0 ||
        core_pkgdb_parse(dbs[i].kind, (const char *)text.data, text.len, source, out, err) < 0)
      return core_error_wrap(err, "reading the package database '/%s'", dbs[i].path);
  }
  return 0;
}

int core_sbom_scan_debs(const core_plan *plan, core_pkg_list *out, core_error **err) {
  for (size_t k = 0; k < core_source_count(plan); k++) {
    core_source_ref s;
    if (!core_source_get(plan, k, &s) || s.res->n_parts != 1 || s.res->parts[0].format != CORE_LAYER_DEB) continue;
    cleanup_buf core_buf control = CORE_BUF_INIT;
    size_t before = out->n;
    if (core_deb_control_read(s.res->parts[0].path, &control, err) < 0 ||
        core_pkgdb_parse(CORE_PKGDB_DEB_CONTROL, (const char *)control.data, control.len, (int)k, out, err) < 0) {
      cleanup_error core_error *cause = TAKE_PTR(*err);
      return core_error_at(err, &s.src->pos, NULL, "%s source '%s': %s", s.role, core_source_label(s.src), cause->msg);
    }
    for (size_t i = before; i < out->n; i++) out->v[i].is_source = 1;
  }
  return 0;
}

/* Percent-encodes everything but purl's unreserved characters. */
static int purl_part(core_buf *b, const char *s, core_error **err) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
               c == '_' || c == '~';
    if (keep ? core_buf_append(b, s, 1, err) < 0 : core_buf_appendf(b, err, "%%%02X", c) < 0) return -1;
  }
  return 0;
}

char *core_pkg_purl(const core_pkg *p) {
  cleanup_buf core_buf b = CORE_BUF_INIT;
  core_error *err = NULL;
  int deb = strcmp(p->type, "deb") == 0;
  if (core_buf_appendf(&b, &err, "pkg:%s/%s/", p->type, deb ? "debian" : "alpine") < 0 || purl_part(&b, p->name, &err) < 0 ||
      core_buf_append(&b, "@", 1, &err) < 0 || purl_part(&b, p->version, &err) < 0 ||
      (p->arch && (core_buf_append(&b, "?arch=", 6, &err) < 0 || purl_part(&b, p->arch, &err) < 0)) ||
      core_buf_append(&b, "", 1, &err) < 0) {
    core_error_free(err);
    return NULL;
  }
  size_t len;
  return (char *)core_buf_take(&b, &len);
}

/* SPDX 2.3 "created": the build's one timestamp, so the document is reproducible. */
static void spdx_time(int64_t epoch, char out[32]) {
  time_t t = (time_t)epoch;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *checksum(const core_digest *d) {
  return json_pack("[{s:s, s:s}]", "algorithm", "SHA256", "checksumValue", core_digest_hex(d));
}

static json_t *package(const char *id, const char *name, const char *purpose) {
  json_t *p = json_pack("{s:s, s:s, s:s, s:b}", "SPDXID", id, "name", name, "downloadLocation", "NOASSERTION",
                        "filesAnalyzed", 0);
  if (p && purpose) json_object_set_new(p, "primaryPackagePurpose", json_string(purpose));
  return p;
}

static int relate(json_t *rels, const char *from, const char *type, const char *to) {
  return json_array_append_new(rels, json_pack("{s:s, s:s, s:s}", "spdxElementId", from, "relationshipType", type,
                                               "relatedSpdxElement", to));
}

/* One source as an SPDX package: its pin as version and checksum, where it came from. */
static json_t *source_package(const core_source_ref *s, const char *id) {
  const core_resolved *r = s->res;
  const char *purpose = s->src->kind == CORE_SOURCE_OCI ? "CONTAINER" : s->guest_path ? "FILE" : "ARCHIVE";
  json_t *p = package(id, core_source_label(s->src), purpose);
  if (p == NULL) return NULL;
  if (r->pin) json_object_set_new(p, "versionInfo", json_string(r->pin));
  /* An image's one layer is a package of its own, below: the image has no single blob. */
  if (r->n_parts == 1 && r->parts[0].has_digest && s->src->kind != CORE_SOURCE_OCI)
    json_object_set_new(p, "checksums", checksum(&r->parts[0].digest));
  cleanup_free char *where = NULL, *comment = NULL;
  if (s->src->kind == CORE_SOURCE_URL) where = strdup(s->src->url);
  if (s->src->kind == CORE_SOURCE_GIT && r->pin && asprintf(&where, "git+%s@%s", s->src->url, r->pin) < 0) where = NULL;
  if (where) json_object_set_new(p, "downloadLocation", json_string(where));
  cleanup_free char *name = core_source_name(s);
  if (name && asprintf(&comment, "the %s source of app.yml (%s)", s->role, name) >= 0)
    json_object_set_new(p, "comment", json_string(comment));
  return p;
}

static int add_sources(const core_plan *plan, json_t *pkgs, json_t *rels, core_error **err) {
  for (size_t k = 0; k < core_source_count(plan); k++) {
    core_source_ref s;
    if (!core_source_get(plan, k, &s)) continue;
    char id[64];
    snprintf(id, sizeof id, "SPDXRef-source-%zu", k);
    json_t *p = source_package(&s, id);
    if (p == NULL || json_array_append_new(pkgs, p) < 0 || relate(rels, "SPDXRef-app", "CONTAINS", id) < 0)
      return core_error_set(err, ENOMEM, "building the SBOM");
    if (s.src->kind != CORE_SOURCE_OCI) continue;
    for (size_t i = 0; i < s.res->n_parts; i++) {
      const core_resolved_part *part = &s.res->parts[i];
      char lid[96], name[64];
      snprintf(lid, sizeof lid, "%s-layer-%zu", id, i);
      snprintf(name, sizeof name, "layer %zu of %zu", i + 1, s.res->n_parts);
      json_t *l = package(lid, name, "ARCHIVE");
      if (l && part->has_digest) json_object_set_new(l, "checksums", checksum(&part->digest));
      if (l && part->media_type) json_object_set_new(l, "comment", json_string(part->media_type));
      if (l == NULL || json_array_append_new(pkgs, l) < 0 || relate(rels, id, "CONTAINS", lid) < 0)
        return core_error_set(err, ENOMEM, "building the SBOM");
    }
  }
  return 0;
}

static int add_packages(const core_pkg_list *l, json_t *pkgs, json_t *rels, core_error **err) {
  for (size_t i = 0; i < l->n; i++) {
    const core_pkg *p = &l->v[i];
    char id[48], from[48];
    snprintf(id, sizeof id, "SPDXRef-package-%zu", i);
    if (p->source >= 0) snprintf(from, sizeof from, "SPDXRef-source-%d", p->source);
    else snprintf(from, sizeof from, "SPDXRef-app");
    cleanup_free char *purl = core_pkg_purl(p);
    json_t *o = package(id, p->name, NULL);
    if (o == NULL || purl == NULL) return json_decref(o), core_error_set(err, ENOMEM, "building the SBOM");
    json_object_set_new(o, "versionInfo", json_string(p->version));
    json_object_set_new(o, "externalRefs", json_pack("[{s:s, s:s, s:s}]", "referenceCategory", "PACKAGE-MANAGER",
                                                     "referenceType", "purl", "referenceLocator", purl));
    if (json_array_append_new(pkgs, o) < 0 || relate(rels, from, "CONTAINS", id) < 0)
      return core_error_set(err, ENOMEM, "building the SBOM");
  }
  return 0;
}

/* A namespace unique to this document without a random UUID: its own content's digest. */
static int set_namespace(json_t *doc, const char *name, core_error **err) {
  cleanup_buf core_buf text = CORE_BUF_INIT;
  core_digest d;
  if (core_json_dump(doc, &text, err) < 0 || core_digest_bytes(text.data, text.len, &d, err) < 0) return -1;
  cleanup_free char *ns = NULL;
  if (asprintf(&ns, "https://core.invalid/spdx/%s-%s", name, core_digest_hex(&d)) < 0 ||
      json_object_set_new(doc, "documentNamespace", json_string(ns)) < 0)
    return core_error_set(err, ENOMEM, "building the SBOM");
  return 0;
}

int core_sbom_write(const core_plan *plan, core_pkg_list *pkgs, core_buf *out, core_error **err) {
  const core_app_config *cfg = plan->cfg;
  char created[32];
  spdx_time(plan->source_date_epoch, created);
  core_pkg_list_sort(pkgs);
  json_t *app = package("SPDXRef-app", cfg->name, "OPERATING_SYSTEM");
  if (app && cfg->version) json_object_set_new(app, "versionInfo", json_string(cfg->version));
  json_t *packages = json_array(), *rels = json_array();
  cleanup_json json_t *doc = json_pack(
      "{s:s, s:s, s:s, s:s, s:{s:s, s:[s]}, s:o, s:o}", "spdxVersion", "SPDX-2.3", "dataLicense", "CC0-1.0", "SPDXID",
      "SPDXRef-DOCUMENT", "name", cfg->name, "creationInfo", "created", created, "creators",
      "Tool: corec-" CORE_COREC_VERSION, "packages", packages, "relationships", rels);
  if (doc == NULL || app == NULL || json_array_append_new(packages, app) < 0 ||
      relate(rels, "SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-app") < 0)
    return core_error_set(err, ENOMEM, "building the SBOM");
  if (add_sources(plan, packages, rels, err) < 0 || add_packages(pkgs, packages, rels, err) < 0 ||
      set_namespace(doc, cfg->name, err) < 0)
    return -1;
  return core_json_dump(doc, out, err);
}
