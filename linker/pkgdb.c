/* dpkg status, .deb control and apk installed databases: stanzas to package records. */
#include "pkgdb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A value as it sits in the text: not yet copied, so a hostile stanza costs no memory. */
typedef struct span {
  const char *at;
  size_t len;
} span;

typedef struct stanza {
  span name, version, arch, status;
  int has_status;
} stanza;

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static span trim(const char *at, size_t len) {
  while (len && is_blank(*at)) at++, len--;
  while (len && is_blank(at[len - 1])) len--;
  return (span){at, len};
}

/* A name, version or architecture as package managers write them: printable ASCII, no space. */
static int plausible(span s) {
  if (s.len == 0 || s.len > CORE_PKGDB_MAX_VALUE) return 0;
  for (size_t i = 0; i < s.len; i++)
    if ((unsigned char)s.at[i] <= 0x20 || (unsigned char)s.at[i] >= 0x7f) return 0;
  return 1;
}

/* dpkg's Status is "want flag status": the package is there only when the last is "installed". */
static int installed(span s) {
  static const char word[] = "installed";
  size_t n = sizeof word - 1;
  return s.len >= n && memcmp(s.at + s.len - n, word, n) == 0 && (s.len == n || is_blank(s.at[s.len - n - 1]));
}

static char *copy(span s) {
  char *p = malloc(s.len + 1);
  if (p == NULL) return NULL;
  memcpy(p, s.at, s.len);
  p[s.len] = 0;
  return p;
}

static int emit(core_pkgdb_kind kind, const stanza *st, int source, core_pkg_list *out, size_t *count,
                core_error **err) {
  if (!plausible(st->name) || !plausible(st->version) || (st->arch.at && !plausible(st->arch))) return 0;
  if (kind == CORE_PKGDB_DPKG_STATUS && (!st->has_status || !installed(st->status))) return 0;
  if (++*count > CORE_PKGDB_MAX_PACKAGES)
    return core_error_set(err, 0, "more than %u packages in one package database", CORE_PKGDB_MAX_PACKAGES);
  if (out->n == out->cap) {
    size_t cap = out->cap ? out->cap * 2 : 64;
    core_pkg *grown = realloc(out->v, cap * sizeof *grown);
    if (grown == NULL) return core_error_set(err, ENOMEM, "allocating");
    out->v = grown;
    out->cap = cap;
  }
  core_pkg *p = &out->v[out->n];
  *p = (core_pkg){.type = kind == CORE_PKGDB_APK ? "apk" : "deb", .source = source};
  if ((p->name = copy(st->name)) == NULL || (p->version = copy(st->version)) == NULL ||
      (st->arch.at && (p->arch = copy(st->arch)) == NULL)) {
    free(p->name);
    free(p->version);
    return core_error_set(err, ENOMEM, "allocating");
  }
  out->n++;
  return 0;
}

/* One "Field: value" (dpkg, field names without case) or "X:value" (apk) line. */
static void take_field(core_pkgdb_kind kind, const char *line, size_t len, stanza *st) {
  const char *colon = memchr(line, ':', len);
  if (colon == NULL) return; /* not a field: skipped, as garbage is */
  size_t klen = (size_t)(colon - line);
  span v = trim(colon + 1, len - klen - 1);
  if (kind == CORE_PKGDB_APK) {
    if (klen != 1) return;
    if (line[0] == 'P') st->name = v;
    else if (line[0] == 'V') st->version = v;
    else if (line[0] == 'A') st->arch = v;
    return;
  }
#define IS(k) (klen == sizeof k - 1 && strncasecmp(line, k, klen) == 0)
  if (IS("Package")) st->name = v;
  else if (IS("Version")) st->version = v;
  else if (IS("Architecture")) st->arch = v;
  else if (IS("Status")) st->status = v, st->has_status = 1;
#undef IS
}

int core_pkgdb_parse(core_pkgdb_kind kind, const char *text, size_t len, int source, core_pkg_list *out,
                     core_error **err) {
  if (len > CORE_PKGDB_MAX_BYTES)
    return core_error_set(err, EFBIG, "a package database of %zu bytes; at most %u MiB are read", len,
                          CORE_PKGDB_MAX_BYTES >> 20);
  stanza st = {0};
  size_t count = 0, at = 0;
  while (at < len) {
    const char *nl = memchr(text + at, '\n', len - at);
    size_t end = nl ? (size_t)(nl - text) : len; /* the last line may lack its newline */
    const char *line = text + at;
    size_t llen = end - at;
    at = nl ? end + 1 : len;
    if (trim(line, llen).len == 0) {
      if (emit(kind, &st, source, out, &count, err) < 0) return -1;
      st = (stanza){0};
    } else if (!is_blank(line[0])) {
      take_field(kind, line, llen, &st); /* continuation lines (leading blank) hold nothing we keep */
    }
  }
  return emit(kind, &st, source, out, &count, err);
}

static int cmp_opt(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : ""); }

static int cmp_pkg(const void *x, const void *y) {
  const core_pkg *a = x, *b = y;
  int c = strcmp(a->name, b->name);
  if (c == 0) c = cmp_opt(a->arch, b->arch);
  if (c == 0) c = strcmp(a->version, b->version);
  if (c == 0) c = strcmp(a->type, b->type);
  if (c == 0) c = (a->source > b->source) - (a->source < b->source);
  if (c == 0) c = (a->is_source > b->is_source) - (a->is_source < b->is_source);
  return c;
}

static void pkg_release(core_pkg *p) {
  free(p->name);
  free(p->version);
  free(p->arch);
}

void core_pkg_list_sort(core_pkg_list *l) {
  if (l->n == 0) return;
  qsort(l->v, l->n, sizeof *l->v, cmp_pkg);
  size_t k = 1;
  for (size_t i = 1; i < l->n; i++) {
    if (cmp_pkg(&l->v[k - 1], &l->v[i]) == 0) pkg_release(&l->v[i]);
    else l->v[k++] = l->v[i];
  }
  l->n = k;
}

void core_pkg_list_release(core_pkg_list *l) {
  for (size_t i = 0; i < l->n; i++) pkg_release(&l->v[i]);
  free(l->v);
  *l = (core_pkg_list){0};
}
