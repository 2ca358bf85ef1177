/* Parsing image references with the rules of Docker's reference grammar. */
#include "oci_ref.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "digest.h"

#define DOCKER_HUB "docker.io"
#define DOCKER_HUB_API "registry-1.docker.io"

void core_oci_ref_release(core_oci_ref *ref) {
  free(ref->registry);
  free(ref->api_host);
  free(ref->name);
  free(ref->tag);
  free(ref->digest);
  free(ref->path);
  memset(ref, 0, sizeof *ref);
}

/* Path components: lowercase letters and digits, separated by '.', '_', '__' or '-'s. */
static int valid_name(const char *s) {
  if (*s == 0 || strlen(s) > 255) return 0;
  for (const char *c = s; *c; c++) {
    int alnum = islower((unsigned char)*c) || isdigit((unsigned char)*c);
    if (alnum) continue;
    if (!strchr("._-/", *c)) return 0;
    int at_edge = c == s || c[1] == 0 || c[-1] == '/' || c[1] == '/';
    if (at_edge) return 0;
  }
  return strstr(s, "//") == NULL;
}

static int valid_tag(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 128 || s[0] == '.' || s[0] == '-') return 0;
  for (const char *c = s; *c; c++)
    if (!isalnum((unsigned char)*c) && !strchr("._-", *c)) return 0;
  return 1;
}

static int dup_into(char **dst, const char *src, size_t len, core_error **err) {
  if ((*dst = strndup(src, len)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  return 0;
}

/* "PATH[:rest]": skopeo splits at the first ':', so paths cannot hold one either. */
static int parse_local(core_oci_ref_kind kind, const char *text, const char *rest, core_oci_ref *out, core_error **err) {
  const char *colon = strchr(rest, ':');
  size_t plen = colon ? (size_t)(colon - rest) : strlen(rest);
  if (plen == 0) return core_error_set(err, 0, "image reference '%s' names no path", text);
  out->kind = kind;
  if (dup_into(&out->path, rest, plen, err) < 0) return -1;
  if (colon == NULL) return 0;
  const char *tag = colon + 1;
  if (kind == CORE_OCI_REF_DOCKER_ARCHIVE) {
    if (*tag == 0) return core_error_set(err, 0, "image reference '%s' ends in ':'; write FILE or FILE:name:tag", text);
  } else if (!valid_tag(tag)) {
    return core_error_set(err, 0, "image reference '%s': '%s' is not a valid tag (letters, digits, '.', '_', '-')", text,
                          tag);
  }
  return dup_into(&out->tag, tag, strlen(tag), err);
}

static int parse_registry(const char *text, const char *rest, core_oci_ref *out, core_error **err) {
  out->kind = CORE_OCI_REF_REGISTRY;
  cleanup_free char *s = strdup(rest);
  if (s == NULL) return core_error_set(err, ENOMEM, "allocating");
  char *at = strchr(s, '@');
  if (at) {
    *at = 0;
    if (!core_digest_is_valid(at + 1))
      return core_error_set(err, 0, "image reference '%s': '%s' is not a digest of the form sha256:<64 hex digits>", text,
                            at + 1);
    if (dup_into(&out->digest, at + 1, strlen(at + 1), err) < 0) return -1;
  }
  char *last_slash = strrchr(s, '/');
  char *colon = strchr(last_slash ? last_slash : s, ':');
  if (colon) {
    *colon = 0;
    if (!valid_tag(colon + 1))
      return core_error_set(err, 0, "image reference '%s': '%s' is not a valid tag (letters, digits, '.', '_', '-')",
                            text, colon + 1);
    if (dup_into(&out->tag, colon + 1, strlen(colon + 1), err) < 0) return -1;
  }
  /* The first component is a registry only when it looks like a host: Docker's rule. */
  char *slash = strchr(s, '/');
  const char *name = s;
  if (slash && (memchr(s, '.', (size_t)(slash - s)) || memchr(s, ':', (size_t)(slash - s)) ||
                (slash - s == 9 && strncmp(s, "localhost", 9) == 0))) {
    *slash = 0;
    name = slash + 1;
    int hub = strcmp(s, DOCKER_HUB) == 0 || strcmp(s, "index.docker.io") == 0 || strcmp(s, DOCKER_HUB_API) == 0;
    if (dup_into(&out->registry, hub ? DOCKER_HUB : s, strlen(hub ? DOCKER_HUB : s), err) < 0) return -1;
  } else if (dup_into(&out->registry, DOCKER_HUB, strlen(DOCKER_HUB), err) < 0) {
    return -1;
  }
  int hub = strcmp(out->registry, DOCKER_HUB) == 0;
  const char *api = hub ? DOCKER_HUB_API : out->registry;
  if (dup_into(&out->api_host, api, strlen(api), err) < 0) return -1;
  if (hub && strchr(name, '/') == NULL) {
    if (asprintf(&out->name, "library/%s", name) < 0) return core_error_set(err, ENOMEM, "allocating");
  } else if (dup_into(&out->name, name, strlen(name), err) < 0) {
    return -1;
  }
  if (!valid_name(out->name))
    return core_error_set(err, 0,
                          "image reference '%s': '%s' is not a valid repository name (lowercase letters, digits and "
                          "'.', '_', '-' between them, components separated by '/')",
                          text, out->name);
  if (out->tag == NULL && out->digest == NULL && dup_into(&out->tag, "latest", 6, err) < 0) return -1;
  return 0;
}

int core_oci_ref_parse(const char *text, core_oci_ref *out, core_error **err) {
  core_oci_ref ref = {0};
  static const struct {
    const char *prefix;
    core_oci_ref_kind kind;
  } transports[] = {
      {"oci-layout:", CORE_OCI_REF_LAYOUT},
      {"oci-archive:", CORE_OCI_REF_ARCHIVE},
      {"docker-archive:", CORE_OCI_REF_DOCKER_ARCHIVE},
  };
  int rc = 1;
  for (size_t i = 0; i < sizeof transports / sizeof *transports; i++) {
    size_t n = strlen(transports[i].prefix);
    if (strncmp(text, transports[i].prefix, n) == 0) rc = parse_local(transports[i].kind, text, text + n, &ref, err);
  }
  if (rc == 1) {
    const char *rest = strncmp(text, "docker://", 9) == 0 ? text + 9 : text;
    if (*rest == 0) rc = core_error_set(err, 0, "empty image reference");
    else rc = parse_registry(text, rest, &ref, err);
  }
  if (rc < 0) {
    core_oci_ref_release(&ref);
    return -1;
  }
  *out = ref;
  return 0;
}
