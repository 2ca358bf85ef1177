/* Sources (kernel.source, rootfs[].source, files[].source): a path or URL written as a string,
 * or a one-kind mapping (file, url, git, oci, deb) whose pins are checked for syntax here, so
 * that a typo fails before anything is downloaded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "cleanup.h"
#include "fsutil.h"

#define HEX_LOWER "0123456789abcdef"

static const char *const kinds[] = {"file", "url", "git", "oci", "deb", NULL};

static const field file_fields[] = {{"file", true, NULL}, {NULL, false, NULL}};
static const field url_fields[] = {{"url", true, NULL}, {"sha256", false, NULL}, {NULL, false, NULL}};
static const field git_fields[] = {{"git", true, NULL}, {"commit", false, NULL}, {"ref", false, NULL},
                                   {"path", false, NULL}, {NULL, false, NULL}};
static const field oci_fields[] = {{"oci", true, NULL}, {NULL, false, NULL}};
static const field deb_fields[] = {{"deb", true, NULL}, {"version", false, NULL}, {NULL, false, NULL}};
static const field *const kind_fields[] = {file_fields, url_fields, git_fields, oci_fields, deb_fields};

static const char forms_hint[] =
    "a source is a path, or one of {file: PATH}, {url: URL, sha256: HEX}, {git: URL, commit: SHA}, "
    "{oci: IMAGE}, {deb: PACKAGE}";

static bool has_prefix(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static bool is_http_url(const char *s) { return has_prefix(s, "https://") || has_prefix(s, "http://"); }

/* Reports the first white-space or control character; URLs and refs have none. */
static bool no_blanks(checker *c, const core_yaml_node *n, const char *s, const char *what) {
  for (size_t i = 0; s[i]; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch > 0x20 && ch != 0x7f) continue;
    int plen;
    core_pos p = check_char_pos(n, i, 1, &plen);
    core_diag_error(c->d, &p, plen, ch == ' ' ? "write a space in a URL as %20" : NULL,
                    "'%s' must not contain white space or control characters", what);
    return false;
  }
  return true;
}

static bool check_http_url(checker *c, const core_yaml_node *n, const char *s, const char *what) {
  char vb[80];
  if (!is_http_url(s)) {
    core_diag_error(c->d, &n->pos, n->len, "only https:// and http:// URLs can be downloaded",
                    "'%s' must be an http(s) URL, found '%s'", what, core_diag_excerpt(s, vb, sizeof vb));
    return false;
  }
  const char *host = strstr(s, "://") + 3;
  if (*host == 0 || *host == '/') {
    core_diag_error(c->d, &n->pos, n->len, NULL, "'%s' has no host name after '://', found '%s'", what,
                    core_diag_excerpt(s, vb, sizeof vb));
    return false;
  }
  return no_blanks(c, n, s, what);
}

/* "sha256:<64 hex>" or the bare hex; stored as "sha256:<lowercase hex>". */
static char *check_sha256(checker *c, const core_yaml_node *n, const char *what) {
  const char *s = check_nonempty(c, n, what);
  if (s == NULL) return NULL;
  size_t off = has_prefix(s, "sha256:") ? 7 : 0;
  const char *colon = strchr(s, ':');
  char vb[80];
  if (off == 0 && colon) {
    core_diag_error(c->d, &n->pos, n->len, "write the SHA-256 of the file: 'sha256:' and 64 hex digits (sha256sum prints them)",
                    "'%s' must be a SHA-256 digest; only 'sha256:' digests are supported, found '%.*s'", what,
                    (int)(colon - s > 16 ? 16 : colon - s), s);
    return NULL;
  }
  const char *hex = s + off;
  size_t len = strlen(hex);
  for (size_t i = 0; i < len; i++) {
    if (strchr(HEX_LOWER "ABCDEF", hex[i]) && hex[i]) continue;
    int plen;
    core_pos p = check_char_pos(n, off + i, 1, &plen);
    core_diag_error(c->d, &p, plen, NULL, "'%s' must be 64 hex digits, found the character '%c' in '%s'", what,
                    (unsigned char)hex[i] >= 0x20 ? hex[i] : '?', core_diag_excerpt(s, vb, sizeof vb));
    return NULL;
  }
  if (len != 64) {
    core_diag_error(c->d, &n->pos, n->len, "sha256sum FILE prints the 64 digits",
                    "'%s' must be 64 hex digits, found %zu digits", what, len);
    return NULL;
  }
  char *out = malloc(7 + 64 + 1);
  if (out == NULL) {
    check_oom(c);
    return NULL;
  }
  memcpy(out, "sha256:", 7);
  for (size_t i = 0; i <= 64; i++) out[7 + i] = (char)((hex[i] >= 'A' && hex[i] <= 'F') ? hex[i] + 32 : hex[i]);
  return out;
}

/* Relative paths are relative to the file that names them, which for an included file is
 * not the app.yml. */
static char *resolve(checker *c, const core_yaml_node *n, const char *path) {
  cleanup_free char *dir = n && n->pos.file ? core_path_dirname(n->pos.file) : NULL;
  char *r = core_path_join(dir ? dir : c->cfg->dir, path);
  if (r == NULL) check_oom(c);
  return r;
}

static void fill_file(checker *c, const core_yaml_node *n, const char *what, core_source *dst) {
  const char *s = check_nonempty(c, n, what);
  if (s == NULL) return;
  dst->kind = CORE_SOURCE_FILE;
  if ((dst->path = check_strdup(c, s))) dst->resolved = resolve(c, n, s);
}

/* Where a git repository can be: URLs git clones, or scp-like "user@host:path". */
static bool check_git_url(checker *c, const core_yaml_node *n, const char *s, const char *what) {
  static const char *const schemes[] = {"https://", "http://", "ssh://", "git://", "file://", NULL};
  bool ok = false;
  for (const char *const *p = schemes; *p && !ok; p++) ok = has_prefix(s, *p) && s[strlen(*p)] != 0;
  const char *colon = strchr(s, ':');
  if (!ok && colon && colon > s && !strstr(s, "://") && strchr(s, '/') > colon) ok = true; /* host:path */
  if (!ok) {
    char vb[80];
    core_diag_error(c->d, &n->pos, n->len,
                    "use https://, ssh://, git://, file:// or user@host:path; for a repository on this machine, "
                    "file:///abs/path",
                    "'%s' is not a git repository URL: '%s'", what, core_diag_excerpt(s, vb, sizeof vb));
    return false;
  }
  return no_blanks(c, n, s, what);
}

/* The rules of git check-ref-format that a written name can break. */
static bool check_git_ref(checker *c, const core_yaml_node *n, const char *s, const char *what) {
  if (!no_blanks(c, n, s, what)) return false;
  const char *bad = NULL;
  size_t len = strlen(s);
  for (size_t i = 0; s[i] && bad == NULL; i++)
    if (strchr("~^:?*[\\", s[i])) bad = "the characters ~ ^ : ? * [ \\";
  if (bad == NULL && (strstr(s, "..") || strstr(s, "@{") || strstr(s, "//"))) bad = "'..', '@{' or '//'";
  if (bad == NULL && (s[0] == '-' || s[0] == '/' || s[len - 1] == '/' || s[len - 1] == '.' ||
                      (len >= 5 && strcmp(s + len - 5, ".lock") == 0)))
    bad = "a leading '-' or '/', or a trailing '/', '.' or '.lock'";
  if (bad == NULL) return true;
  char vb[80];
  core_diag_error(c->d, &n->pos, n->len, "git check-ref-format --branch NAME tells what git accepts",
                  "'%s' is not a valid git ref name: '%s' (it must not contain %s)", what,
                  core_diag_excerpt(s, vb, sizeof vb), bad);
  return false;
}

/* A directory inside a repository: relative, without empty, '.' or '..' components; a trailing
 * '/' is dropped. "" is the whole tree. */
static char *check_subdir(checker *c, const core_yaml_node *n, const char *s, const char *what) {
  char vb[80];
  if (s[0] == '/') {
    core_diag_error(c->d, &n->pos, n->len, "write it relative to the top of the repository",
                    "'%s' must be relative to the repository, found '%s'", what, core_diag_excerpt(s, vb, sizeof vb));
    return NULL;
  }
  size_t len = strlen(s);
  if (len > 0 && s[len - 1] == '/') len--;
  for (size_t start = 0; start < len;) {
    size_t clen = strcspn(s + start, "/");
    if (start + clen > len) clen = len - start;
    if (clen == 0 || (clen == 1 && s[start] == '.') || (clen == 2 && s[start] == '.' && s[start + 1] == '.')) {
      int plen;
      core_pos p = check_char_pos(n, start, clen ? clen : 1, &plen);
      core_diag_error(c->d, &p, plen, "write the directory without '.', '..' and '//'",
                      "'%s' must not contain empty, '.' or '..' components, found '%s'", what,
                      core_diag_excerpt(s, vb, sizeof vb));
      return NULL;
    }
    start += clen + 1;
  }
  char *out = strndup(s, len);
  if (out == NULL) check_oom(c);
  return out;
}

static void fill_git(checker *c, const core_yaml_node *map, const char *what, core_source *dst) {
  char w[160];
  dst->kind = CORE_SOURCE_GIT;
  const core_yaml_node *v = core_yaml_get(map, "git");
  snprintf(w, sizeof w, "%s.git", what);
  const char *s = check_nonempty(c, v, w);
  if (s && check_git_url(c, v, s, w)) dst->url = check_strdup(c, s);
  const core_yaml_node *commit = core_yaml_get(map, "commit"), *ref = core_yaml_get(map, "ref");
  if (commit && ref) {
    const core_yaml_node *second = commit->pos.line > ref->pos.line ||
                                           (commit->pos.line == ref->pos.line && commit->pos.col > ref->pos.col)
                                       ? commit
                                       : ref;
    core_diag_error(c->d, &second->pos, second->len, "a commit pins the tree exactly; a ref is resolved and pinned in app.lock",
                    "'%s' gives both 'commit' and 'ref'; give one of them", what);
  } else if (commit == NULL && ref == NULL) {
    core_diag_error(c->d, &map->pos, 0, "add 'commit: <sha>' (exact), or 'ref: main' (pinned in app.lock at the first build)",
                    "'%s' needs a pin: 'commit' or 'ref'", what);
  }
  if (commit) {
    snprintf(w, sizeof w, "%s.commit", what);
    if ((s = check_nonempty(c, commit, w))) {
      size_t len = strlen(s), hex = strspn(s, HEX_LOWER "ABCDEF");
      if (hex != len || len < 7 || len > 40) {
        char vb[80];
        core_diag_error(c->d, &commit->pos, commit->len, "git rev-parse HEAD prints a full commit id",
                        "'%s' must be a commit id of 7 to 40 hex digits, found '%s'", w, core_diag_excerpt(s, vb, sizeof vb));
      } else if ((dst->commit = check_strdup(c, s))) {
        for (char *p = dst->commit; *p; p++)
          if (*p >= 'A' && *p <= 'F') *p = (char)(*p + 32);
      }
    }
  }
  if (ref) {
    snprintf(w, sizeof w, "%s.ref", what);
    if ((s = check_nonempty(c, ref, w)) && check_git_ref(c, ref, s, w)) dst->ref = check_strdup(c, s);
  }
  const core_yaml_node *path = core_yaml_get(map, "path");
  if (path) {
    snprintf(w, sizeof w, "%s.path", what);
    if ((s = check_string(c, path, w))) dst->path = check_subdir(c, path, s, w);
  } else {
    dst->path = check_strdup(c, "");
  }
}

/* --- OCI references --- */

static bool in_set(char ch, const char *set) { return ch && strchr(set, ch); }

/* A path component of an image name: [a-z0-9]+ joined by '.', '_', '__' or runs of '-'. */
static const char *name_component_problem(const char *s, size_t len, size_t *at) {
  if (len == 0) {
    *at = 0;
    return "an empty name component";
  }
  for (size_t i = 0; i < len; i++) {
    char ch = s[i];
    if (in_set(ch, CHECK_LOWER CHECK_DIGIT)) continue;
    *at = i;
    if (ch >= 'A' && ch <= 'Z') return "an upper-case letter; image names are lowercase";
    if (!in_set(ch, "._-")) return "a character not allowed in image names";
    bool prev_ok = i > 0 && in_set(s[i - 1], CHECK_LOWER CHECK_DIGIT);
    size_t run = 1;
    while (i + run < len && s[i + run] == ch) run++;
    bool next_ok = i + run < len && in_set(s[i + run], CHECK_LOWER CHECK_DIGIT);
    bool run_ok = ch == '-' || (ch == '_' && run <= 2) || (ch == '.' && run == 1);
    if (!prev_ok || !next_ok || !run_ok) return "a separator ('.', '_' or '-') that does not sit between letters or digits";
    i += run - 1;
  }
  return NULL;
}

/* host[:port]: dot-separated labels of letters, digits and '-', then an optional port. */
static const char *domain_problem(const char *s, size_t len, size_t *at) {
  const char *colon = memchr(s, ':', len);
  size_t hlen = colon ? (size_t)(colon - s) : len;
  for (size_t i = 0, start = 0; i <= hlen; i++) {
    if (i < hlen && s[i] != '.') {
      if (!in_set(s[i], CHECK_LOWER CHECK_UPPER CHECK_DIGIT "-")) {
        *at = i;
        return "a character not allowed in a registry host name";
      }
      continue;
    }
    if (i == start || s[start] == '-' || s[i - 1] == '-') {
      *at = start;
      return "an empty label, or one that starts or ends with '-', in the registry host name";
    }
    start = i + 1;
  }
  if (colon) {
    size_t plen = len - hlen - 1;
    if (plen == 0 || plen > 5 || strspn(colon + 1, CHECK_DIGIT) < plen) {
      *at = hlen + 1;
      return "a registry port that is not a number";
    }
  }
  return NULL;
}

static bool tag_ok(const char *s, size_t len) {
  if (len == 0 || len > 128 || !in_set(s[0], CHECK_LOWER CHECK_UPPER CHECK_DIGIT "_")) return false;
  for (size_t i = 1; i < len; i++)
    if (!in_set(s[i], CHECK_LOWER CHECK_UPPER CHECK_DIGIT "_.-")) return false;
  return true;
}

/* [registry/]name[:tag][@sha256:64hex]; on a problem, *at and *span locate it in s. */
static const char *registry_ref_problem(const char *s, size_t *at, size_t *span) {
  size_t len = strlen(s);
  const char *atsign = strchr(s, '@');
  size_t end = atsign ? (size_t)(atsign - s) : len;
  *span = 1;
  if (atsign) {
    const char *d = atsign + 1;
    size_t dl = strlen(d);
    *at = end + 1;
    *span = dl ? dl : 1;
    if (!has_prefix(d, "sha256:")) return "a digest that is not 'sha256:' and 64 hex digits";
    if (dl != 7 + 64 || strspn(d + 7, HEX_LOWER) != 64) return "a digest that is not 'sha256:' and 64 lowercase hex digits";
  }
  const char *last_slash = NULL;
  for (size_t i = 0; i < end; i++)
    if (s[i] == '/') last_slash = s + i;
  const char *colon = NULL;
  for (size_t i = last_slash ? (size_t)(last_slash - s) : 0; i < end; i++)
    if (s[i] == ':') colon = s + i;
  if (colon) {
    size_t tl = end - (size_t)(colon - s) - 1;
    if (!tag_ok(colon + 1, tl)) {
      *at = (size_t)(colon - s) + 1;
      *span = tl ? tl : 1;
      return "a tag that is not 1 to 128 letters, digits, '_', '.' or '-' (not starting with '.' or '-')";
    }
    end = (size_t)(colon - s);
  }
  if (end == 0) {
    *at = 0;
    return "no image name";
  }
  if (end > 255) {
    *at = 0;
    *span = end;
    return "a name longer than 255 characters";
  }
  size_t start = 0;
  const char *first_slash = memchr(s, '/', end);
  if (first_slash) {
    size_t fl = (size_t)(first_slash - s);
    bool domain = memchr(s, '.', fl) || memchr(s, ':', fl) || (fl == 9 && strncmp(s, "localhost", 9) == 0);
    if (domain) {
      const char *p = domain_problem(s, fl, at);
      if (p) return p;
      start = fl + 1;
    }
  }
  while (start <= end) {
    const char *slash = memchr(s + start, '/', end - start);
    size_t cl = slash ? (size_t)(slash - (s + start)) : end - start;
    size_t off = 0;
    const char *p = name_component_problem(s + start, cl, &off);
    if (p) {
      *at = start + off;
      return p;
    }
    start += cl + 1;
    if (!slash) break;
  }
  return NULL;
}

static void fill_oci(checker *c, const core_yaml_node *v, const char *what, core_source *dst) {
  dst->kind = CORE_SOURCE_OCI;
  const char *s = check_nonempty(c, v, what);
  if (s == NULL || !no_blanks(c, v, s, what)) return;
  char vb[80];
  static const char *const local[] = {"oci-layout:", "oci-archive:", "docker-archive:", NULL};
  for (const char *const *t = local; *t; t++) {
    if (!has_prefix(s, *t)) continue;
    const char *rest = s + strlen(*t);
    size_t plen = strlen(rest);
    if (t == local) { /* oci-layout:DIR[:tag] */
      const char *colon = strrchr(rest, ':');
      if (colon && !strchr(colon, '/')) {
        size_t tl = strlen(colon + 1);
        if (!tag_ok(colon + 1, tl)) {
          int len;
          core_pos p = check_char_pos(v, (size_t)(colon + 1 - s), tl ? tl : 1, &len);
          core_diag_error(c->d, &p, len, NULL, "'%s' has a tag that is not 1 to 128 letters, digits, '_', '.' or '-': '%s'",
                          what, core_diag_excerpt(s, vb, sizeof vb));
          return;
        }
        plen = (size_t)(colon - rest);
      }
    }
    if (plen == 0) {
      char hint[96];
      snprintf(hint, sizeof hint, "write '%s' followed by a path, relative to app.yml's directory", *t);
      core_diag_error(c->d, &v->pos, v->len, hint, "'%s' names no path after '%s'", what, *t);
      return;
    }
    cleanup_free char *path = strndup(rest, plen);
    if (path == NULL) {
      check_oom(c);
      return;
    }
    dst->path = check_strdup(c, path);
    dst->resolved = resolve(c, v, path);
    dst->image = check_strdup(c, s);
    return;
  }
  if (strstr(s, "://")) {
    core_diag_error(c->d, &v->pos, v->len, "write the reference as docker pull takes it: 'registry.example.com/app:1.0'",
                    "'%s' must be an image reference, not a URL: '%s'", what, core_diag_excerpt(s, vb, sizeof vb));
    return;
  }
  size_t at = 0, span = 1;
  const char *problem = registry_ref_problem(s, &at, &span);
  if (problem) {
    int len;
    core_pos p = check_char_pos(v, at, span, &len);
    core_diag_error(c->d, &p, len,
                    "an image is [REGISTRY/]NAME[:TAG][@sha256:DIGEST], or oci-layout:DIR[:TAG], oci-archive:FILE, "
                    "docker-archive:FILE",
                    "'%s' is not a valid image reference: '%s' has %s", what, core_diag_excerpt(s, vb, sizeof vb),
                    problem);
    return;
  }
  dst->image = check_strdup(c, s);
}

static const word_rule deb_package_rule = {
    CHECK_LOWER CHECK_DIGIT, CHECK_LOWER CHECK_DIGIT "+.-", "a lowercase letter or a digit",
    "lowercase letters, digits, '+', '.' and '-'", 0, true,
};
static const word_rule deb_version_rule = {
    CHECK_DIGIT, CHECK_LOWER CHECK_UPPER CHECK_DIGIT ".+~:-", "a digit",
    "letters, digits, '.', '+', '~', ':' and '-'", 0, false,
};

static void fill_deb(checker *c, const core_yaml_node *map, const char *what, core_source *dst) {
  char w[160];
  dst->kind = CORE_SOURCE_DEB;
  const core_yaml_node *v = core_yaml_get(map, "deb");
  snprintf(w, sizeof w, "%s.deb", what);
  const char *s = check_nonempty(c, v, w);
  if (s && check_word(c, v, s, w, &deb_package_rule)) {
    if (strlen(s) < 2)
      core_diag_error(c->d, &v->pos, v->len, NULL, "'%s' must be at least 2 characters long, as Debian package names are", w);
    else
      dst->package = check_strdup(c, s);
  }
  if ((v = core_yaml_get(map, "version"))) {
    snprintf(w, sizeof w, "%s.version", what);
    s = check_nonempty(c, v, w);
    if (s && check_word(c, v, s, w, &deb_version_rule)) {
      const char *colon = strchr(s, ':');
      if (colon && strspn(s, CHECK_DIGIT) != (size_t)(colon - s)) {
        int len;
        core_pos p = check_char_pos(v, (size_t)(colon - s), 1, &len);
        core_diag_error(c->d, &p, len, "apt-cache policy PACKAGE lists the versions apt knows",
                        "'%s' has a ':' that does not follow an epoch number", w);
      } else {
        dst->version = check_strdup(c, s);
      }
    }
  }
}

static void check_source_map(checker *c, const core_yaml_node *n, const char *what, core_source *dst) {
  int kind = -1;
  const core_yaml_node *kind_key = NULL;
  for (size_t i = 0; i < n->n_pairs; i++) {
    const core_yaml_node *k = n->pairs[i].key;
    for (int j = 0; kinds[j]; j++) {
      if (strcmp(k->value, kinds[j]) != 0) continue;
      if (kind >= 0) {
        core_diag_error(c->d, &k->pos, k->len, "a source has exactly one kind; write another source for the other",
                        "'%s' names two kinds of source, '%s' and '%s'", what, kind_key->value, k->value);
        return;
      }
      kind = j;
      kind_key = k;
    }
  }
  if (kind < 0) {
    if (n->n_pairs == 0) {
      core_diag_error(c->d, &n->pos, n->len, forms_hint, "'%s' is an empty mapping; it needs a kind of source", what);
      return;
    }
    const core_yaml_node *k = n->pairs[0].key;
    char kb[64];
    const char *s = check_closest(k->value, kinds, 5);
    if (s)
      core_diag_error(c->d, &k->pos, k->len, forms_hint, "unknown source kind '%s' in '%s' (did you mean '%s'?)",
                      core_diag_excerpt(k->value, kb, sizeof kb), what, s);
    else
      core_diag_error(c->d, &k->pos, k->len, forms_hint,
                      "unknown source kind '%s' in '%s'; the kinds are 'file', 'url', 'git', 'oci' and 'deb'",
                      core_diag_excerpt(k->value, kb, sizeof kb), what);
    return;
  }
  char where[160];
  snprintf(where, sizeof where, "%s (a %s source)", what, kinds[kind]);
  check_fields(c, n, kind_fields[kind], where);
  const core_yaml_node *v = core_yaml_get(n, kinds[kind]);
  char w[160];
  snprintf(w, sizeof w, "%s.%s", what, kinds[kind]);
  switch (kind) {
    case 0: fill_file(c, v, w, dst); break;
    case 1: {
      dst->kind = CORE_SOURCE_URL;
      const char *s = check_nonempty(c, v, w);
      if (s && check_http_url(c, v, s, w)) dst->url = check_strdup(c, s);
      const core_yaml_node *sha = core_yaml_get(n, "sha256");
      snprintf(w, sizeof w, "%s.sha256", what);
      if (sha) dst->sha256 = check_sha256(c, sha, w);
      break;
    }
    case 2: fill_git(c, n, what, dst); break;
    case 3: fill_oci(c, v, w, dst); break;
    default: fill_deb(c, n, what, dst); break;
  }
}

void check_source(checker *c, const core_yaml_node *n, const char *what, core_source *dst) {
  dst->pos = check_pos(c, n);
  if (n->kind == CORE_YAML_MAPPING) {
    check_source_map(c, n, what, dst);
    return;
  }
  if (n->kind == CORE_YAML_SEQUENCE) {
    check_type_error(c, n, what, "a path, a URL or a source mapping", forms_hint);
    return;
  }
  const char *s = check_nonempty(c, n, what);
  if (s == NULL) return;
  if (is_http_url(s)) {
    dst->kind = CORE_SOURCE_URL;
    if (check_http_url(c, n, s, what)) dst->url = check_strdup(c, s);
    return;
  }
  fill_file(c, n, what, dst);
}
