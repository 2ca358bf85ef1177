/* The distribution API over libcurl: GET manifests and blobs, answering 401 challenges
 * with a Bearer token (anonymous or with credentials) or Basic credentials. */
#include "oci_registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "cleanup.h"
#include "error_curl.h"
#include "json.h"
#include "oci.h"
#include "store.h"

#define MANIFEST_ACCEPT                                                                                  \
  "Accept: " OCI_MT_INDEX ", " OCI_MT_MANIFEST ", " DOCKER_MT_LIST ", " DOCKER_MT_MANIFEST
#define MANIFEST_MAX (4u << 20) /* the distribution spec's own limit for manifests */
#define ERROR_BODY_MAX 2048

static inline void slist_freep(struct curl_slist **l) {
  curl_slist_free_all(*l);
  *l = NULL;
}
#define cleanup_slist __attribute__((cleanup(slist_freep)))

typedef struct response {
  long status;
  char *content_type, *www_auth, *digest;
  core_buf *body;         /* a 200 body goes here (manifests, tokens) */
  core_store_writer *w;   /* or here (blobs) */
  core_progress *progress; /* for blobs: bytes so far against total */
  uint64_t total;
  core_buf error_body;    /* the start of any other body, for messages */
  core_error *cb_err;     /* what failed inside a callback */
} response;

static void response_release(response *res) {
  free(res->content_type);
  free(res->www_auth);
  free(res->digest);
  core_buf_release(&res->error_body);
  core_error_free(res->cb_err);
  memset(res, 0, sizeof *res);
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx) {
  response *res = ctx;
  size_t len = size * n;
  /* Each response of a redirect chain starts with its status line; keep the last one's. */
  if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
    free(res->content_type), free(res->www_auth), free(res->digest);
    res->content_type = res->www_auth = res->digest = NULL;
    return len;
  }
  static const struct {
    const char *name;
    size_t off;
  } wanted[] = {
      {"content-type:", offsetof(response, content_type)},
      {"www-authenticate:", offsetof(response, www_auth)},
      {"docker-content-digest:", offsetof(response, digest)},
  };
  for (size_t i = 0; i < sizeof wanted / sizeof *wanted; i++) {
    size_t nl = strlen(wanted[i].name);
    if (len < nl || strncasecmp(data, wanted[i].name, nl) != 0) continue;
    const char *v = data + nl;
    const char *end = data + len;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    char **slot = (char **)((char *)res + wanted[i].off);
    free(*slot);
    *slot = strndup(v, (size_t)(end - v));
  }
  return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx) {
  response *res = ctx;
  size_t len = size * n;
  if (res->status != 200) {
    size_t room = ERROR_BODY_MAX - res->error_body.len;
    core_error *ignored = NULL;
    if (room && core_buf_append(&res->error_body, data, len < room ? len : room, &ignored) < 0) core_error_free(ignored);
    return len;
  }
  if (res->w) {
    if (core_store_writer_write(res->w, data, len, &res->cb_err) < 0) return 0;
    core_progress_update(res->progress, core_store_writer_size(res->w), res->total);
    return len;
  }
  if (res->body->len + len > MANIFEST_MAX) {
    core_error_set(&res->cb_err, EFBIG, "the response is larger than %u bytes, too large for a manifest", MANIFEST_MAX);
    return 0;
  }
  return core_buf_append(res->body, data, len, &res->cb_err) < 0 ? 0 : len;
}

/* The status is known once the headers are in, before the first body byte. */
static size_t on_header_status(char *data, size_t size, size_t n, void *ctx) {
  response *res = ctx;
  if (size * n >= 12 && strncmp(data, "HTTP/", 5) == 0) {
    const char *sp = memchr(data, ' ', size * n);
    if (sp) res->status = strtol(sp + 1, NULL, 10);
  }
  return on_header(data, size, n, ctx);
}


static int perform(core_registry *r, const char *url, const char *accept, const char *user, const char *pass,
                   response *res, core_error **err) {
  CURL *c = r->curl;
  curl_easy_reset(c);
  cleanup_slist struct curl_slist *headers = NULL;
  if (accept) headers = curl_slist_append(headers, accept);
  if (r->auth_header && user == NULL) headers = curl_slist_append(headers, r->auth_header);
  r->errbuf[0] = 0;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  /* A stalled transfer is an error, a slow but moving one is not. */
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "core-corec");
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header_status);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, res);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, res);
  if (user) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, user);
    curl_easy_setopt(c, CURLOPT_PASSWORD, pass);
  }
  CURLcode rc = curl_easy_perform(c);
  if (res->cb_err) {
    *err = TAKE_PTR(res->cb_err);
    return core_error_wrap(err, "'%s'", url);
  }
  if (rc != CURLE_OK) return core_error_curl(err, rc, r->errbuf, "'%s'", url);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
  return 0;
}

static const char *config_path(core_registry *r) {
  return r->creds.config_path ? r->creds.config_path : "~/.docker/config.json";
}

static int need_login(core_registry *r, core_error **err) {
  if (r->creds.helper)
    return core_error_set(err, 0, "registry '%s' needs credentials and '%s' delegates them to the credential helper "
                                  "'docker-credential-%s', which core does not support; put auths.\"%s\".auth "
                                  "(base64 of user:password) there instead",
                          r->registry, config_path(r), r->creds.helper, r->registry);
  return core_error_set(err, 0, "registry '%s' requires authentication and '%s' has no credentials for it; log in "
                                "(e.g. 'skopeo login --authfile %s %s') or set DOCKER_CONFIG",
                        r->registry, config_path(r), config_path(r), r->registry);
}

static int rejected(core_registry *r, long status, core_error **err) {
  return core_error_set(err, 0, "registry '%s' rejected the credentials of user '%s' from '%s' (HTTP %ld); fix "
                                "auths.\"%s\" there",
                        r->registry, r->creds.user, config_path(r), status, r->registry);
}

static int bearer_token(core_registry *r, const core_oci_challenge *ch, core_error **err) {
  if (ch->realm == NULL) return core_error_set(err, 0, "registry '%s' asked for a Bearer token without a realm", r->registry);
  cleanup_free char *scope_default = NULL;
  if (asprintf(&scope_default, "repository:%s:pull", r->name) < 0) return core_error_set(err, ENOMEM, "allocating");
  char *service = curl_easy_escape(r->curl, ch->service ? ch->service : "", 0);
  char *scope = curl_easy_escape(r->curl, ch->scope ? ch->scope : scope_default, 0);
  cleanup_free char *url = NULL;
  int rc = asprintf(&url, "%s%cservice=%s&scope=%s", ch->realm, strchr(ch->realm, '?') ? '&' : '?', service ? service : "",
                    scope ? scope : "");
  curl_free(service);
  curl_free(scope);
  if (rc < 0) return core_error_set(err, ENOMEM, "allocating");
  cleanup_buf core_buf body = CORE_BUF_INIT;
  response res = {.body = &body};
  /* The token being replaced is the registry's business, never the token server's. */
  free(r->auth_header);
  r->auth_header = NULL;
  if (perform(r, url, NULL, r->creds.user, r->creds.pass, &res, err) < 0) {
    response_release(&res);
    return core_error_wrap(err, "getting a token for registry '%s'", r->registry);
  }
  long status = res.status;
  response_release(&res);
  if ((status == 401 || status == 403) && r->creds.user) return rejected(r, status, err);
  if (status == 401 || status == 403) return need_login(r, err);
  if (status != 200)
    return core_error_set(err, 0, "the token service of registry '%s' answered HTTP %ld", r->registry, status);
  cleanup_json json_t *j = NULL;
  if (core_json_parse(body.data, body.len, &j, err) < 0) return core_error_wrap(err, "token from '%s'", ch->realm);
  const char *token = json_string_value(json_object_get(j, "token"));
  if (token == NULL) token = json_string_value(json_object_get(j, "access_token"));
  if (token == NULL) return core_error_set(err, 0, "the token service of registry '%s' sent no token", r->registry);
  free(r->auth_header);
  if (asprintf(&r->auth_header, "Authorization: Bearer %s", token) < 0) {
    r->auth_header = NULL;
    return core_error_set(err, ENOMEM, "allocating");
  }
  return 0;
}

/* Answers a 401: the challenge says which scheme; credentials only when one is needed. */
static int authenticate(core_registry *r, const char *www_auth, core_error **err) {
  if (!r->creds_loaded) {
    if (core_oci_creds_lookup(r->registry, &r->creds, err) < 0) return -1;
    r->creds_loaded = 1;
  }
  if (www_auth == NULL)
    return core_error_set(err, 0, "registry '%s' answered 401 without a WWW-Authenticate challenge", r->registry);
  core_oci_challenge ch = {0};
  if (core_oci_challenge_parse(www_auth, &ch, err) < 0) return core_error_wrap(err, "registry '%s'", r->registry);
  int rc;
  if (strcasecmp(ch.scheme, "Bearer") == 0) {
    rc = bearer_token(r, &ch, err);
  } else if (strcasecmp(ch.scheme, "Basic") == 0) {
    cleanup_free char *pair = NULL, *b64 = NULL;
    if (r->creds.user == NULL) rc = need_login(r, err);
    else if (asprintf(&pair, "%s:%s", r->creds.user, r->creds.pass) < 0) rc = core_error_set(err, ENOMEM, "allocating");
    else if ((rc = core_base64_encode(pair, strlen(pair), &b64, err)) == 0) {
      explicit_bzero(pair, strlen(pair));
      free(r->auth_header);
      if (asprintf(&r->auth_header, "Authorization: Basic %s", b64) < 0) {
        r->auth_header = NULL;
        rc = core_error_set(err, ENOMEM, "allocating");
      }
    }
  } else {
    rc = core_error_set(err, 0, "registry '%s' asks for authentication scheme '%s', which core does not support",
                        r->registry, ch.scheme);
  }
  core_oci_challenge_release(&ch);
  return rc;
}

/* A GET that answers one 401 with authentication and tries again. */
static int get(core_registry *r, const char *url, const char *accept, response *res, core_error **err) {
  if (perform(r, url, accept, NULL, NULL, res, err) < 0) return -1;
  if (res->status == 401) {
    cleanup_free char *challenge = TAKE_PTR(res->www_auth);
    int had_auth = r->auth_header != NULL;
    if (authenticate(r, challenge, err) < 0) return -1;
    core_buf_release(&res->error_body);
    if (perform(r, url, accept, NULL, NULL, res, err) < 0) return -1;
    if ((res->status == 401 || res->status == 403) && r->creds.user) return rejected(r, res->status, err);
    if (res->status == 401 && had_auth) return need_login(r, err);
  }
  if (res->status == 401 || res->status == 403) {
    if (r->creds.user) return rejected(r, res->status, err);
    return need_login(r, err);
  }
  if (res->status != 200) {
    core_error *ignored = NULL;
    if (core_buf_append(&res->error_body, "", 1, &ignored) < 0) core_error_free(ignored);
    const char *body = res->error_body.data ? (const char *)res->error_body.data : "";
    return core_error_set(err, 0, "'%s': HTTP %ld%s%.300s", url, res->status, *body ? ": " : "", body);
  }
  return 0;
}

int core_registry_get_manifest(core_registry *r, const char *reference, core_buf *body, char **content_type,
                               char **digest_header, core_error **err) {
  cleanup_free char *url = NULL;
  if (asprintf(&url, "%s/manifests/%s", r->base, reference) < 0) return core_error_set(err, ENOMEM, "allocating");
  core_buf b = CORE_BUF_INIT;
  response res = {.body = &b};
  int rc = get(r, url, MANIFEST_ACCEPT, &res, err);
  if (rc < 0 && res.status == 404)
    rc = core_error_wrap(err, "image '%s:%s' is not in registry '%s'", r->name, reference, r->registry);
  if (rc == 0) {
    *body = b;
    b = (core_buf)CORE_BUF_INIT;
    *content_type = TAKE_PTR(res.content_type);
    *digest_header = TAKE_PTR(res.digest);
  }
  core_buf_release(&b);
  response_release(&res);
  return rc;
}

static int registry_read(core_oci_source *src, const core_digest *d, core_buf *out, core_error **err) {
  core_registry *r = (core_registry *)src;
  cleanup_free char *ct = NULL, *dh = NULL;
  return core_registry_get_manifest(r, d->str, out, &ct, &dh, err);
}

static int registry_store(core_oci_source *src, const core_digest *d, uint64_t size, core_error **err) {
  core_registry *r = (core_registry *)src;
  cleanup_free char *url = NULL;
  if (asprintf(&url, "%s/blobs/%s", r->base, d->str) < 0) return core_error_set(err, ENOMEM, "allocating");
  cleanup_store_writer core_store_writer *w = NULL;
  char label[128];
  snprintf(label, sizeof label, "%s %.19s", src->what, d->str);
  if (core_store_writer_begin(r->store, &w, err) < 0) return -1;
  cleanup_progress core_progress progress = core_progress_begin(r->reporter, label);
  response res = {.w = w, .progress = &progress, .total = size};
  int rc = get(r, url, NULL, &res, err);
  response_release(&res);
  if (rc < 0) return -1;
  core_progress_done(&progress);
  if (core_store_writer_size(w) != size)
    return core_error_set(err, 0, "'%s': blob %s has %llu bytes, the manifest says %llu; the registry sent something "
                                  "else",
                          src->what, d->str, (unsigned long long)core_store_writer_size(w), (unsigned long long)size);
  if (core_store_writer_commit(w, d, NULL, err) < 0)
    return core_error_wrap(err, "'%s': blob from '%s' does not match its digest", src->what, url);
  return 0;
}

/* Loopback registries speak plain HTTP (tests, local mirrors); others only when listed. */
static int insecure(const char *registry) {
  const char *host_end = registry[0] == '[' ? strchr(registry, ']') : strchr(registry, ':');
  size_t hn = host_end ? (size_t)(host_end - registry) + (registry[0] == '[') : strlen(registry);
  static const char *const loopback[] = {"localhost", "127.0.0.1", "[::1]"};
  for (size_t i = 0; i < sizeof loopback / sizeof *loopback; i++)
    if (strlen(loopback[i]) == hn && strncmp(registry, loopback[i], hn) == 0) return 1;
  const char *list = getenv("CORE_INSECURE_REGISTRIES");
  for (const char *p = list; p && *p;) {
    size_t n = strcspn(p, ",");
    while (n && p[n - 1] == ' ') n--;
    if (n == strlen(registry) && strncmp(p, registry, n) == 0) return 1;
    p += strcspn(p, ",");
    while (*p == ',' || *p == ' ') p++;
  }
  return 0;
}

int core_registry_open(core_registry *r, core_store *store, const core_oci_ref *ref, const char *what,
                       core_error **err) {
  memset(r, 0, sizeof *r);
  r->src.what = what;
  r->src.read_manifest = registry_read;
  r->src.store_blob = registry_store;
  r->store = store;
  if ((r->registry = strdup(ref->registry)) == NULL || (r->name = strdup(ref->name)) == NULL)
    return core_error_set(err, ENOMEM, "allocating");
  if (asprintf(&r->base, "%s://%s/v2/%s", insecure(ref->registry) ? "http" : "https", ref->api_host, ref->name) < 0) {
    r->base = NULL;
    return core_error_set(err, ENOMEM, "allocating");
  }
  if ((r->curl = curl_easy_init()) == NULL) return core_error_set(err, ENOMEM, "starting libcurl");
  return 0;
}

void core_registry_release(core_registry *r) {
  if (r->curl) curl_easy_cleanup(r->curl);
  free(r->registry);
  free(r->name);
  free(r->base);
  if (r->auth_header) explicit_bzero(r->auth_header, strlen(r->auth_header));
  free(r->auth_header);
  core_oci_creds_release(&r->creds);
  memset(r, 0, sizeof *r);
}
