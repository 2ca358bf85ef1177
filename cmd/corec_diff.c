/* corec diff: what differs between two verified artifacts (spec/inspect.md): the runtime
 * config, the kernel, the module list, the initramfs's files, the sources and the packages. Exit 0 the same, 1 different,
 * 2 an error (corec.c), as diff(1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "corec.h"
#include "corec_artifact.h"
#include "corec_initramfs.h"
#include "corec_json_diff.h"
#include "json.h"

static const char diff_help[] =
    "usage: corec diff [--json] [--trust FILE ...] [--identity FILE ...] A B\n"
    "\n"
    "Verifies both artifacts (.tim, raw disk, qcow2 or ISO, in any mix) exactly as 'corec verify'\n"
    "does, then compares what they run: the runtime config (each differing key as a dotted path\n"
    "with both values), the kernel (by digest), the kernel modules list, and every file of the\n"
    "initramfs (path, mode, owner, size, SHA-256 of a regular file's content, link target,\n"
    "device numbers): added, removed, changed; the pinned sources (from the signed provenance:\n"
    "added, removed, another digest) and the packages (from the signed SBOM: name and version).\n"
    "Digests, forms and signatures are not compared.\n"
    "Exits 0 when nothing differs, 1 when something does, 2 on an error (an artifact that does\n"
    "not verify included). The keys of --json are in spec/inspect.md.\n"
    "\n"
    "  --json            one JSON object on stdout\n"
    "  --trust FILE      also trust this Ed25519 public key (PEM); may be repeated (at most 16)\n"
    "  --identity FILE   age identity file for encrypted artifacts; may be repeated (also:\n"
    "                    CORE_IDENTITY_FILE)\n"
    "  -h, --help        show this help\n";

#define DIFF_VERSION 1
/* Both file lists are held in memory to be compared: their names together may take at most
 * this much (an entry count alone would allow 1M paths of 4 KiB). */
#define DIFF_MAX_NAME_BYTES (256u << 20)

typedef struct file_rec {
  char *path, *target; /* target: a symlink's, else NULL */
  char mode[11];
  unsigned perm;
  long long uid, gid, size;
  unsigned long rmajor, rminor;
  int is_file;
  core_digest sha256; /* regular files */
} file_rec;

typedef struct file_list {
  file_rec *v;
  size_t n, cap, name_bytes;
} file_list;

static void file_list_release(file_list *l) {
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].path);
    free(l->v[i].target);
  }
  free(l->v);
}
#define cleanup_file_list __attribute__((cleanup(file_list_release)))

static int collect(void *ctx, struct archive *a, struct archive_entry *e, const char *path, core_error **err) {
  file_list *l = ctx;
  const char *target = archive_entry_symlink(e);
  l->name_bytes += strlen(path) + (target ? strlen(target) : 0) + sizeof(file_rec);
  if (l->name_bytes > DIFF_MAX_NAME_BYTES)
    return core_error_set(err, 0, "the initramfs's file list exceeds %u MiB, the most corec diff holds",
                          DIFF_MAX_NAME_BYTES >> 20);
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 256;
    file_rec *grown = realloc(l->v, cap * sizeof *grown);
    if (grown == NULL) return core_error_set(err, ENOMEM, "allocating");
    l->v = grown;
    l->cap = cap;
  }
  file_rec *r = &l->v[l->n];
  memset(r, 0, sizeof *r);
  if ((r->path = strdup(path)) == NULL || (target && (r->target = strdup(target)) == NULL)) {
    free(r->path);
    return core_error_set(err, ENOMEM, "allocating");
  }
  l->n++;
  corec_initramfs_mode(e, r->mode);
  r->perm = archive_entry_perm(e);
  r->uid = archive_entry_uid(e);
  r->gid = archive_entry_gid(e);
  r->size = archive_entry_size(e);
  mode_t type = archive_entry_filetype(e);
  if (type == AE_IFCHR || type == AE_IFBLK) {
    r->rmajor = archive_entry_rdevmajor(e);
    r->rminor = archive_entry_rdevminor(e);
  }
  r->is_file = type == AE_IFREG;
  return r->is_file ? corec_initramfs_hash(a, path, &r->sha256, err) : 0;
}

static int cmp_rec(const void *x, const void *y) { return strcmp(((const file_rec *)x)->path, ((const file_rec *)y)->path); }

static int list_files(corec_artifact *a, const char *path, file_list *l, core_error **err) {
  if (corec_initramfs_walk(a->app->initramfs, collect, l, err) < 0) return core_error_wrap(err, "'%s'", path);
  qsort(l->v, l->n, sizeof *l->v, cmp_rec);
  return 0;
}

static json_t *rec_json(const file_rec *r) {
  json_t *o = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I}", "path", r->path, "mode", r->mode, "perm", (int)r->perm, "uid",
                        (json_int_t)r->uid, "gid", (json_int_t)r->gid, "size", (json_int_t)r->size);
  if (o && r->is_file) json_object_set_new(o, "sha256", json_string(r->sha256.str));
  if (o && r->target) json_object_set_new(o, "target", json_string(r->target));
  if (o && r->mode[0] != '-' && r->mode[0] != 'd' && r->mode[0] != 'l')
    json_object_set_new(o, "rdev", json_pack("[I,I]", (json_int_t)r->rmajor, (json_int_t)r->rminor));
  return o;
}

/* Which of a file's properties differ, by the names rec_json uses. */
static json_t *changed_fields(const file_rec *x, const file_rec *y) {
  json_t *f = json_array();
  if (f == NULL) return NULL;
  if (strcmp(x->mode, y->mode) != 0) json_array_append_new(f, json_string("mode"));
  if (x->uid != y->uid) json_array_append_new(f, json_string("uid"));
  if (x->gid != y->gid) json_array_append_new(f, json_string("gid"));
  if (x->size != y->size) json_array_append_new(f, json_string("size"));
  if (x->is_file && y->is_file && strcmp(x->sha256.str, y->sha256.str) != 0)
    json_array_append_new(f, json_string("sha256"));
  if ((x->target || y->target) && (!x->target || !y->target || strcmp(x->target, y->target) != 0))
    json_array_append_new(f, json_string("target"));
  if (x->rmajor != y->rmajor || x->rminor != y->rminor) json_array_append_new(f, json_string("rdev"));
  return f;
}

static int diff_files(const file_list *la, const file_list *lb, json_t *out, core_error **err) {
  json_t *added = json_array(), *removed = json_array(), *changed = json_array();
  if (json_object_set_new(out, "added", added) < 0 || json_object_set_new(out, "removed", removed) < 0 ||
      json_object_set_new(out, "changed", changed) < 0)
    return core_error_set(err, ENOMEM, "allocating");
  size_t i = 0, j = 0;
  while (i < la->n || j < lb->n) {
    int c = i == la->n ? 1 : j == lb->n ? -1 : strcmp(la->v[i].path, lb->v[j].path);
    int rc = 0;
    if (c < 0) rc = json_array_append_new(removed, rec_json(&la->v[i++]));
    else if (c > 0) rc = json_array_append_new(added, rec_json(&lb->v[j++]));
    else {
      json_t *fields = changed_fields(&la->v[i], &lb->v[j]);
      if (fields && json_array_size(fields) > 0)
        rc = json_array_append_new(changed, json_pack("{s:s, s:o, s:o, s:o}", "path", la->v[i].path, "fields", fields,
                                                      "a", rec_json(&la->v[i]), "b", rec_json(&lb->v[j])));
      else
        json_decref(fields);
      i++, j++;
    }
    if (rc < 0) return core_error_set(err, ENOMEM, "allocating");
  }
  return 0;
}

static int has_string(const json_t *arr, const json_t *s) {
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) if (json_equal(v, (json_t *)s)) return 1;
  return 0;
}

/* Modules as sets: what B loads that A does not, and the reverse (order shows in the config). */
static json_t *diff_modules(const json_t *ca, const json_t *cb) {
  const json_t *ma = json_object_get(json_object_get(ca, "kernel"), "modules"),
               *mb = json_object_get(json_object_get(cb, "kernel"), "modules");
  json_t *added = json_array(), *removed = json_array();
  size_t i;
  json_t *v;
  json_array_foreach(mb, i, v) if (!has_string(ma, v)) json_array_append(added, v);
  json_array_foreach(ma, i, v) if (!has_string(mb, v)) json_array_append(removed, v);
  return json_pack("{s:o, s:o}", "added", added, "removed", removed);
}

/* Sources by name -> {uri, digest}, from the signed provenance (empty without one). */
static int source_map(const corec_artifact *a, json_t **out, core_error **err) {
  cleanup_json json_t *prov = NULL;
  if (corec_artifact_document(a, 1, &prov, err) < 0) return -1;
  if ((*out = json_object()) == NULL) return core_error_set(err, ENOMEM, "allocating");
  size_t i;
  json_t *d;
  json_array_foreach(json_object_get(json_object_get(json_object_get(prov, "predicate"), "buildDefinition"),
                                     "resolvedDependencies"), i, d) {
    const char *name = json_string_value(json_object_get(d, "name"));
    json_t *v = json_object();
    if (v == NULL) return core_error_set(err, ENOMEM, "allocating");
    if (json_object_get(d, "uri")) json_object_set(v, "uri", json_object_get(d, "uri"));
    if (json_object_get(d, "digest")) json_object_set(v, "digest", json_object_get(d, "digest"));
    if (json_object_set_new(*out, name ? name : "?", v) < 0) return core_error_set(err, ENOMEM, "allocating");
  }
  return 0;
}

static int cmp_str(const void *x, const void *y) { return strcmp(*(const char *const *)x, *(const char *const *)y); }

/* A name's versions, sorted, without repeats, joined by ", ". */
static json_t *joined_versions(const json_t *versions) {
  size_t n = json_array_size(versions), k = 0;
  cleanup_free const char **v = calloc(n ? n : 1, sizeof *v);
  if (v == NULL) return NULL;
  for (size_t i = 0; i < n; i++) v[i] = json_string_value(json_array_get(versions, i));
  qsort(v, n, sizeof *v, cmp_str);
  cleanup_buf core_buf b = CORE_BUF_INIT;
  core_error *err = NULL;
  for (size_t i = 0; i < n; i++) {
    if (i && strcmp(v[i], v[i - 1]) == 0) continue;
    if ((k++ && core_buf_append(&b, ", ", 2, &err) < 0) || core_buf_append(&b, v[i], strlen(v[i]), &err) < 0) {
      core_error_free(err);
      return NULL;
    }
  }
  return json_stringn(b.data ? (const char *)b.data : "", b.len);
}

/* Packages by name -> version, from the signed SBOM: the packages with a package URL (found in
 * a package database or a .deb's control data). A name listed with several versions (another
 * architecture, a .deb over a database entry) has them sorted and joined by ", ". */
static int package_map(const corec_artifact *a, json_t **out, core_error **err) {
  cleanup_json json_t *sbom = NULL, *all = json_object();
  if (all == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (corec_artifact_document(a, 0, &sbom, err) < 0) return -1;
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(sbom, "packages"), i, p) {
    const json_t *ref = json_array_get(json_object_get(p, "externalRefs"), 0);
    const char *type = json_string_value(json_object_get(ref, "referenceType"));
    const char *name = json_string_value(json_object_get(p, "name"));
    json_t *version = json_object_get(p, "versionInfo");
    if (!type || strcmp(type, "purl") != 0 || !name || !json_is_string(version)) continue;
    json_t *versions = json_object_get(all, name);
    if (versions == NULL && json_object_set_new(all, name, versions = json_array()) < 0)
      return core_error_set(err, ENOMEM, "allocating");
    if (json_array_append(versions, version) < 0) return core_error_set(err, ENOMEM, "allocating");
  }
  if ((*out = json_object()) == NULL) return core_error_set(err, ENOMEM, "allocating");
  const char *name;
  json_t *versions;
  json_object_foreach(all, name, versions) {
    json_t *joined = joined_versions(versions);
    if (joined == NULL || json_object_set_new(*out, name, joined) < 0) return core_error_set(err, ENOMEM, "allocating");
  }
  return 0;
}

/* "sources" and "packages" of the report. */
static int diff_documents(const corec_artifact *a, const corec_artifact *b, json_t *r, core_error **err) {
  cleanup_json json_t *sa = NULL, *sb = NULL, *pa = NULL, *pb = NULL;
  json_t *sources = json_object(), *packages = json_object();
  if (json_object_set_new(r, "sources", sources) < 0 || json_object_set_new(r, "packages", packages) < 0)
    return core_error_set(err, ENOMEM, "allocating");
  if (source_map(a, &sa, err) < 0 || source_map(b, &sb, err) < 0 || package_map(a, &pa, err) < 0 ||
      package_map(b, &pb, err) < 0)
    return -1;
  if (corec_json_diff_maps(sa, sb, "name", "value", sources, err) < 0 ||
      corec_json_diff_maps(pa, pb, "name", "version", packages, err) < 0)
    return -1;
  return 0;
}

static int no_changes(const json_t *d) {
  return json_array_size(json_object_get(d, "added")) == 0 && json_array_size(json_object_get(d, "removed")) == 0 &&
         json_array_size(json_object_get(d, "changed")) == 0;
}

static json_t *side(const char *path, const corec_artifact *a) {
  return json_pack("{s:s, s:s, s:s, s:s?}", "artifact", path, "digest", a->app->manifest.str, "form",
                   core_form_name(a->form), "name", a->app->name);
}

static int build_report(const char *pa, corec_artifact *a, const char *pb, corec_artifact *b, json_t **out,
                        core_error **err) {
  cleanup_file_list file_list la = {0}, lb = {0};
  if (list_files(a, pa, &la, err) < 0 || list_files(b, pb, &lb, err) < 0) return -1;
  cleanup_json json_t *r = json_pack("{s:i, s:o, s:o, s:[], s:o, s:{}}", "diff_version", DIFF_VERSION, "a", side(pa, a),
                                     "b", side(pb, b), "config", "modules", diff_modules(a->app->config, b->app->config),
                                     "files");
  if (r == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (corec_json_diff(a->app->config, b->app->config, "", json_object_get(r, "config"), err) < 0 ||
      diff_files(&la, &lb, json_object_get(r, "files"), err) < 0 || diff_documents(a, b, r, err) < 0)
    return -1;
  const char *ka = a->app->kernel->digest.str, *kb = b->app->kernel->digest.str;
  json_object_set_new(r, "kernel", strcmp(ka, kb) == 0 ? json_null() : json_pack("{s:s, s:s}", "a", ka, "b", kb));
  const json_t *m = json_object_get(r, "modules"), *f = json_object_get(r, "files");
  int identical = json_array_size(json_object_get(r, "config")) == 0 && strcmp(ka, kb) == 0 &&
                  json_array_size(json_object_get(m, "added")) == 0 && json_array_size(json_object_get(m, "removed")) == 0 &&
                  json_array_size(json_object_get(f, "added")) == 0 && json_array_size(json_object_get(f, "removed")) == 0 &&
                  json_array_size(json_object_get(f, "changed")) == 0 && no_changes(json_object_get(r, "sources")) &&
                  no_changes(json_object_get(r, "packages"));
  json_object_set_new(r, "identical", json_boolean(identical));
  *out = TAKE_PTR(r);
  return 0;
}

/* Text output ----------------------------------------------------------------------------- */


static void print_rec(const json_t *r) {
  printf("%s %lld/%lld %lld", json_string_value(json_object_get(r, "mode")),
         (long long)json_integer_value(json_object_get(r, "uid")), (long long)json_integer_value(json_object_get(r, "gid")),
         (long long)json_integer_value(json_object_get(r, "size")));
  if (json_object_get(r, "target")) printf(" -> %s", json_string_value(json_object_get(r, "target")));
}

/* A source's pin as text: "sha256:HEX" or "gitCommit:HEX". */
static void print_pin(const json_t *source) {
  const char *key;
  json_t *v;
  int first = 1;
  json_object_foreach(json_object_get(source, "digest"), key, v) {
    printf("%s%s:%s", first ? "" : " ", key, json_string_value(v) ? json_string_value(v) : "?");
    first = 0;
  }
  if (first) printf("(no digest)");
}

static void print_documents(const json_t *r) {
  size_t i;
  json_t *v;
  const json_t *s = json_object_get(r, "sources"), *p = json_object_get(r, "packages");
  json_array_foreach(json_object_get(s, "added"), i, v) {
    printf("source + %s (", json_string_value(json_object_get(v, "name")));
    print_pin(v);
    printf(")\n");
  }
  json_array_foreach(json_object_get(s, "removed"), i, v) {
    printf("source - %s (", json_string_value(json_object_get(v, "name")));
    print_pin(v);
    printf(")\n");
  }
  json_array_foreach(json_object_get(s, "changed"), i, v) {
    printf("source ~ %s: ", json_string_value(json_object_get(v, "name")));
    print_pin(json_object_get(v, "a"));
    printf(" -> ");
    print_pin(json_object_get(v, "b"));
    printf("\n");
  }
  json_array_foreach(json_object_get(p, "added"), i, v)
    printf("package + %s %s\n", json_string_value(json_object_get(v, "name")), json_string_value(json_object_get(v, "version")));
  json_array_foreach(json_object_get(p, "removed"), i, v)
    printf("package - %s %s\n", json_string_value(json_object_get(v, "name")), json_string_value(json_object_get(v, "version")));
  json_array_foreach(json_object_get(p, "changed"), i, v)
    printf("package ~ %s: %s -> %s\n", json_string_value(json_object_get(v, "name")), json_string_value(json_object_get(v, "a")),
           json_string_value(json_object_get(v, "b")));
}

static void print_text(const json_t *r) {
  size_t i, k;
  json_t *v, *f;
  json_array_foreach(json_object_get(r, "config"), i, v) {
    printf("config %s: ", json_string_value(json_object_get(v, "path")));
    corec_print_json(json_object_get(v, "a"), "(absent)");
    printf(" -> ");
    corec_print_json(json_object_get(v, "b"), "(absent)");
    putchar('\n');
  }
  const json_t *kernel = json_object_get(r, "kernel");
  if (json_is_object(kernel))
    printf("kernel: %s -> %s\n", json_string_value(json_object_get(kernel, "a")), json_string_value(json_object_get(kernel, "b")));
  json_array_foreach(json_object_get(json_object_get(r, "modules"), "added"), i, v) printf("module + %s\n", json_string_value(v));
  json_array_foreach(json_object_get(json_object_get(r, "modules"), "removed"), i, v) printf("module - %s\n", json_string_value(v));
  const json_t *files = json_object_get(r, "files");
  json_array_foreach(json_object_get(files, "added"), i, v) {
    printf("file + %s (", json_string_value(json_object_get(v, "path")));
    print_rec(v);
    printf(")\n");
  }
  json_array_foreach(json_object_get(files, "removed"), i, v) {
    printf("file - %s (", json_string_value(json_object_get(v, "path")));
    print_rec(v);
    printf(")\n");
  }
  json_array_foreach(json_object_get(files, "changed"), i, v) {
    printf("file ~ %s:", json_string_value(json_object_get(v, "path")));
    json_array_foreach(json_object_get(v, "fields"), k, f) {
      const char *name = json_string_value(f);
      printf("%s %s ", k ? "," : "", name);
      corec_print_json(json_object_get(json_object_get(v, "a"), name), "(absent)");
      printf(" -> ");
      corec_print_json(json_object_get(json_object_get(v, "b"), name), "(absent)");
    }
    putchar('\n');
  }
  print_documents(r);
}

int corec_diff(int argc, char **argv, core_error **err) {
  corec_artifact_flags flags = {0};
  int json = 0;
  int parsed = corec_artifact_args(argc, argv, diff_help, &flags, &json, err);
  if (parsed != 0) return parsed == 1 ? 0 : parsed;
  if (optind != argc - 2) return core_error_set(err, 0, "diff takes two artifacts; see 'corec diff --help'");
  const char *pa = argv[optind], *pb = argv[optind + 1];
  cleanup_corec_artifact corec_artifact a = {0}, b = {0};
  cleanup_json json_t *report = NULL;
  if (corec_artifact_open(pa, &flags, 1, &a, err) < 0 || corec_artifact_open(pb, &flags, 1, &b, err) < 0 ||
      build_report(pa, &a, pb, &b, &report, err) < 0)
    return -1;
  if (json) {
    cleanup_buf core_buf out = CORE_BUF_INIT;
    if (core_json_dump_pretty(report, &out, err) < 0) return -1;
    fwrite(out.data, 1, out.len, stdout);
  } else {
    print_text(report);
  }
  return json_is_true(json_object_get(report, "identical")) ? 0 : 1;
}
