/* Docker config.json credentials and WWW-Authenticate challenges. */
#include "oci_auth.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "cleanup.h"
#include "fsutil.h"
#include "json.h"

void core_oci_creds_release(core_oci_creds *c) {
  free(c->user);
  if (c->pass) explicit_bzero(c->pass, strlen(c->pass));
  free(c->pass);
  free(c->helper);
  free(c->config_path);
  memset(c, 0, sizeof *c);
}

/* "https://host/v1/" and "http://host" name the same registry as "host". */
static int key_matches(const char *key, const char *registry) {
  const char *k = strstr(key, "://");
  k = k ? k + 3 : key;
  size_t n = strcspn(k, "/");
  if (strlen(registry) == n && strncmp(k, registry, n) == 0) return 1;
  return strcmp(registry, "docker.io") == 0 && n == 15 && strncmp(k, "index.docker.io", 15) == 0;
}

static int from_entry(const json_t *entry, const char *registry, core_oci_creds *out, core_error **err) {
  const char *auth = json_string_value(json_object_get(entry, "auth"));
  const char *user = json_string_value(json_object_get(entry, "username"));
  const char *pass = json_string_value(json_object_get(entry, "password"));
  if (auth && *auth) {
    cleanup_buf core_buf raw = CORE_BUF_INIT;
    if (core_base64_decode(auth, &raw, err) < 0)
      return core_error_wrap(err, "'%s': auths.%s.auth", out->config_path, registry);
    char *colon = memchr(raw.data, ':', raw.len);
    if (colon == NULL)
      return core_error_set(err, 0, "'%s': auths.%s.auth is not base64 of \"user:password\"", out->config_path, registry);
    out->user = strndup((char *)raw.data, (size_t)(colon - (char *)raw.data));
    out->pass = strndup(colon + 1, raw.len - (size_t)(colon + 1 - (char *)raw.data));
    explicit_bzero(raw.data, raw.len);
  } else if (user && pass) {
    out->user = strdup(user);
    out->pass = strdup(pass);
  } else if (json_object_get(entry, "identitytoken")) {
    return core_error_set(err, 0, "'%s': auths.%s has only an identity token, which core does not support; store "
                                  "\"auth\" (base64 of user:password) instead",
                          out->config_path, registry);
  } else {
    return 0;
  }
  if (out->user == NULL || out->pass == NULL) return core_error_set(err, ENOMEM, "allocating");
  return 0;
}

int core_oci_creds_lookup(const char *registry, core_oci_creds *out, core_error **err) {
  core_oci_creds c = {0};
  const char *dir = getenv("DOCKER_CONFIG");
  const char *home = getenv("HOME");
  int rc = 0;
  if (dir && *dir) rc = asprintf(&c.config_path, "%s/config.json", dir);
  else if (home && *home) rc = asprintf(&c.config_path, "%s/.docker/config.json", home);
  else {
    *out = c;
    return 0;
  }
  if (rc < 0) return core_error_set(err, ENOMEM, "allocating");
  cleanup_buf core_buf text = CORE_BUF_INIT;
  core_error *read_err = NULL;
  if (core_read_file(c.config_path, &text, &read_err) < 0) {
    if (read_err->errnum != ENOENT) {
      *err = read_err;
      core_error_wrap(err, "reading Docker credentials");
      core_oci_creds_release(&c);
      return -1;
    }
    core_error_free(read_err);
    *out = c;
    return 0;
  }
  cleanup_json json_t *cfg = NULL;
  if (core_json_parse(text.data, text.len, &cfg, err) < 0) {
    core_error_wrap(err, "'%s'", c.config_path);
    core_oci_creds_release(&c);
    return -1;
  }
  const char *key;
  json_t *entry;
  json_object_foreach(json_object_get(cfg, "auths"), key, entry) {
    if (!key_matches(key, registry)) continue;
    if (from_entry(entry, registry, &c, err) < 0) {
      core_oci_creds_release(&c);
      return -1;
    }
    if (c.user) break;
  }
  /* Helpers run external programs; the config says one is meant, so do not guess. */
  const char *helper = NULL;
  json_object_foreach(json_object_get(cfg, "credHelpers"), key, entry)
    if (key_matches(key, registry)) helper = json_string_value(entry);
  if (helper == NULL && c.user == NULL) helper = json_string_value(json_object_get(cfg, "credsStore"));
  if (helper && c.user == NULL && (c.helper = strdup(helper)) == NULL) {
    core_oci_creds_release(&c);
    return core_error_set(err, ENOMEM, "allocating");
  }
  *out = c;
  return 0;
}

void core_oci_challenge_release(core_oci_challenge *c) {
  free(c->scheme);
  free(c->realm);
  free(c->service);
  free(c->scope);
  memset(c, 0, sizeof *c);
}

int core_oci_challenge_parse(const char *header, core_oci_challenge *out, core_error **err) {
  core_oci_challenge c = {0};
  const char *p = header;
  while (isspace((unsigned char)*p)) p++;
  size_t n = strcspn(p, " \t");
  if (n == 0) return core_error_set(err, 0, "empty WWW-Authenticate header");
  if ((c.scheme = strndup(p, n)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  p += n;
  while (*p) {
    while (*p == ' ' || *p == '\t' || *p == ',') p++;
    size_t kn = strcspn(p, "=");
    if (p[kn] != '=') break;
    const char *key = p;
    p += kn + 1;
    cleanup_free char *value = NULL;
    if (*p == '"') {
      /* A quoted string; backslash escapes one character. */
      core_buf v = CORE_BUF_INIT;
      core_error *e = NULL;
      for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1]) p++;
        if (core_buf_append(&v, p, 1, &e) < 0) break;
      }
      if (*p == '"') p++;
      if (e || core_buf_append(&v, "", 1, &e) < 0) {
        core_error_free(e);
        core_buf_release(&v);
        core_oci_challenge_release(&c);
        return core_error_set(err, ENOMEM, "allocating");
      }
      value = (char *)v.data;
    } else {
      size_t vn = strcspn(p, ", \t");
      value = strndup(p, vn);
      p += vn;
    }
    if (value == NULL) {
      core_oci_challenge_release(&c);
      return core_error_set(err, ENOMEM, "allocating");
    }
    char **slot = kn == 5 && strncasecmp(key, "realm", 5) == 0     ? &c.realm
                  : kn == 7 && strncasecmp(key, "service", 7) == 0 ? &c.service
                  : kn == 5 && strncasecmp(key, "scope", 5) == 0   ? &c.scope
                                                                   : NULL;
    if (slot && *slot == NULL) *slot = TAKE_PTR(value);
  }
  *out = c;
  return 0;
}
