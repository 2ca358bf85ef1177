/* http:// and https:// sources: libcurl downloads streamed into the content store, with
 * retries, resume after a broken body, and timeouts that tests can shorten. */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "error_curl.h"
#include "fetch.h"

static void curl_easy_cleanupp(CURL **h) {
  if (*h) curl_easy_cleanup(*h);
  *h = NULL;
}
static void curl_slist_freep(struct curl_slist **l) {
  curl_slist_free_all(*l);
  *l = NULL;
}
static void curl_url_cleanupp(CURLU **u) {
  curl_url_cleanup(*u);
  *u = NULL;
}
static void curl_freep(char **s) {
  curl_free(*s);
  *s = NULL;
}
#define cleanup_curl __attribute__((cleanup(curl_easy_cleanupp)))
#define cleanup_curl_slist __attribute__((cleanup(curl_slist_freep)))
#define cleanup_curl_url __attribute__((cleanup(curl_url_cleanupp)))
#define cleanup_curl_free __attribute__((cleanup(curl_freep)))

/* Timeouts and attempts, each overridable so tests need not wait a minute for a stall. */
typedef struct fetch_limits {
  long connect_timeout; /* s, CORE_FETCH_CONNECT_TIMEOUT */
  long stall_timeout;   /* s under 1 byte/s before giving up, CORE_FETCH_STALL_TIMEOUT */
  long attempts;        /* 1 + CORE_FETCH_RETRIES */
} fetch_limits;

static int env_long(const char *name, long def, long min, long max, long *out, core_error **err) {
  const char *s = getenv(name);
  if (s == NULL || *s == '\0') {
    *out = def;
    return 0;
  }
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end != '\0' || v < min || v > max)
    return core_error_set(err, 0, "environment variable %s='%s': expected a whole number from %ld to %ld", name, s,
                          min, max);
  *out = v;
  return 0;
}

static int read_limits(fetch_limits *l, core_error **err) {
  long retries = 0;
  if (env_long("CORE_FETCH_CONNECT_TIMEOUT", 30, 1, 3600, &l->connect_timeout, err) < 0 ||
      env_long("CORE_FETCH_STALL_TIMEOUT", 60, 1, 3600, &l->stall_timeout, err) < 0 ||
      env_long("CORE_FETCH_RETRIES", 3, 0, 100, &retries, err) < 0)
    return -1;
  l->attempts = retries + 1;
  return 0;
}

static CURLcode global_init_rc = CURLE_OK;
static void global_init(void) { global_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

/* libcurl's own implicit init is not thread-safe; fetchers may run in parallel. */
static int curl_ready(core_error **err) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, global_init);
  if (global_init_rc != CURLE_OK) return core_error_curl(err, global_init_rc, NULL, "initialising libcurl");
  return 0;
}

/* Refused before any I/O: libcurl speaks file://, ftp:// and more, and a source that reads
 * the builder's disk or an unauthenticated channel must be written as such, not as a URL. */
static int check_scheme(const char *url, core_error **err) {
  cleanup_curl_url CURLU *u = curl_url();
  if (u == NULL) return core_error_set(err, ENOMEM, "fetching '%s'", url);
  CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
  if (uc != CURLUE_OK) return core_error_set(err, 0, "fetching '%s': not a valid URL: %s", url, curl_url_strerror(uc));
  cleanup_curl_free char *scheme = NULL;
  if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || scheme == NULL)
    return core_error_set(err, 0, "fetching '%s': the URL has no scheme; use https://", url);
  if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
    return core_error_set(err, 0, "fetching '%s': only http:// and https:// URLs can be fetched, not %s://", url, scheme);
  return 0;
}

/* What the headers of the response being received said. Reset at each status line, since
 * redirects and retries bring several responses through one handle. */
typedef struct response_info {
  int64_t content_length; /* -1 unknown */
  int64_t range_start;    /* from Content-Range, -1 none */
  int64_t range_total;    /* the full size from Content-Range, -1 unknown */
  char validator[256];    /* strong ETag, else Last-Modified: what If-Range needs */
} response_info;

typedef struct transfer {
  CURL *h;
  core_store_writer *w;
  core_progress *progress;
  core_error *write_err; /* the store refused bytes: not a network problem, never retried */
  uint64_t offset;       /* the Range start this attempt asked for, 0 = whole body */
  int body_started;      /* this attempt's body has been checked against what was asked */
  int range_broken;      /* the server answered a Range with bytes from elsewhere */
  int64_t expect_total;  /* the full size once the body started, -1 unknown */
  response_info resp;
  char validator[256]; /* from the first full response; sent as If-Range when resuming */
} transfer;

static int writer_restart(core_store_writer *w, core_error **err) {
  int fd = core_store_writer_fd(w);
  if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
    return core_error_set(err, errno, "discarding a partial download");
  return core_store_writer_rehash(w, err);
}

static int header_is(const char *line, size_t len, const char *name, const char **value, size_t *vlen) {
  size_t n = strlen(name);
  if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':') return 0;
  const char *v = line + n + 1;
  const char *end = line + len;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
  *value = v;
  *vlen = (size_t)(end - v);
  return 1;
}

static size_t on_header(char *line, size_t size, size_t n, void *userdata) {
  transfer *t = userdata;
  size_t len = size * n;
  const char *v;
  size_t vlen;
  char tmp[128];
  if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
    t->resp = (response_info){.content_length = -1, .range_start = -1, .range_total = -1};
  } else if (header_is(line, len, "Content-Length", &v, &vlen) && vlen < sizeof tmp) {
    memcpy(tmp, v, vlen);
    tmp[vlen] = '\0';
    char *end = NULL;
    long long cl = strtoll(tmp, &end, 10);
    if (end != tmp && *end == '\0' && cl >= 0) t->resp.content_length = cl;
  } else if (header_is(line, len, "Content-Range", &v, &vlen) && vlen < sizeof tmp) {
    memcpy(tmp, v, vlen);
    tmp[vlen] = '\0';
    long long a, b;
    char total[32];
    if (sscanf(tmp, "bytes %lld-%lld/%31s", &a, &b, total) == 3) {
      t->resp.range_start = a;
      if (strcmp(total, "*") != 0) t->resp.range_total = strtoll(total, NULL, 10);
    }
  } else if (header_is(line, len, "ETag", &v, &vlen) && vlen < sizeof t->resp.validator) {
    /* A weak ETag may not be used with If-Range (RFC 9110 13.1.5). */
    if (!(vlen >= 2 && v[0] == 'W' && v[1] == '/')) {
      memcpy(t->resp.validator, v, vlen);
      t->resp.validator[vlen] = '\0';
    }
  } else if (header_is(line, len, "Last-Modified", &v, &vlen) && vlen < sizeof t->resp.validator &&
             t->resp.validator[0] == '\0') {
    memcpy(t->resp.validator, v, vlen);
    t->resp.validator[vlen] = '\0';
  }
  return len;
}

/* Runs once per attempt, before the first byte of the final response's body is kept:
 * decides whether the body continues what the writer holds or replaces it. */
static int begin_body(transfer *t) {
  long code = 0;
  curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &code);
  t->body_started = 1;
  if (t->offset > 0 && code == 206 && t->resp.range_start == (int64_t)t->offset) {
    t->expect_total = t->resp.range_total >= 0 ? t->resp.range_total
                      : t->resp.content_length >= 0 ? (int64_t)t->offset + t->resp.content_length
                                                   : -1;
    return 0;
  }
  if (code == 206) {
    /* Bytes from somewhere other than where the writer stops: useless, and appending them
     * would store garbage. Start over without Range. */
    t->range_broken = 1;
    return -1;
  }
  /* A full body: the server ignores Range, or the resource changed (If-Range). */
  if (core_store_writer_size(t->w) > 0 && writer_restart(t->w, &t->write_err) < 0) return -1;
  t->expect_total = t->resp.content_length;
  if (t->validator[0] == '\0') memcpy(t->validator, t->resp.validator, sizeof t->validator);
  return 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *userdata) {
  transfer *t = userdata;
  size_t len = size * n;
  if (!t->body_started && begin_body(t) < 0) return 0; /* 0 makes libcurl stop: CURLE_WRITE_ERROR */
  if (core_store_writer_write(t->w, data, len, &t->write_err) < 0) return 0;
  return len;
}

static int on_xferinfo(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
  (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
  transfer *t = userdata;
  /* The writer's size, not dlnow: a resumed download counts what earlier attempts kept. */
  core_progress_update(t->progress, core_store_writer_size(t->w), t->expect_total > 0 ? (uint64_t)t->expect_total : 0);
  return 0;
}

/* Worth another attempt: the network or an overloaded server, not a wrong URL. */
static int is_transient(CURLcode rc, long code) {
  switch (rc) {
    case CURLE_HTTP_RETURNED_ERROR:
      return code == 408 || code == 429 || code == 500 || code == 502 || code == 503 || code == 504;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return 1;
    default:
      return 0;
  }
}

static void backoff(long attempt) {
  /* 0.5 s, 1 s, 2 s, ... capped so a large CORE_FETCH_RETRIES cannot sleep for hours. */
  double s = 0.5 * (double)(1L << (attempt - 1 < 6 ? attempt - 1 : 6));
  struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

static int setup_handle(CURL *h, transfer *t, const fetch_limits *lim, char *errbuf) {
  /* Proxies are left alone on purpose: libcurl reads http_proxy, https_proxy and
   * no_proxy from the environment by itself. */
  if (curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_USERAGENT, "corec") != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, lim->connect_timeout) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, lim->stall_timeout) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_HEADERDATA, t) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_WRITEDATA, t) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xferinfo) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_XFERINFODATA, t) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) != CURLE_OK)
    return -1;
  return 0;
}

/* The message for a failure that ends the fetch. */
static int report_failure(core_error **err, const char *url, CURL *h, CURLcode rc, long code, const char *errbuf,
                          long attempt, const fetch_limits *lim) {
  char tries[64] = "";
  if (attempt > 1) snprintf(tries, sizeof tries, " (gave up after %ld attempts)", attempt);
  if (rc == CURLE_HTTP_RETURNED_ERROR) {
    const char *eff = NULL;
    curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
    if (eff && strcmp(eff, url) != 0)
      return core_error_set(err, 0, "fetching '%s': HTTP %ld from '%s' after redirects%s", url, code, eff, tries);
    return core_error_set(err, 0, "fetching '%s': HTTP %ld%s", url, code, tries);
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    curl_off_t connected = 0;
    curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected);
    if (connected == 0)
      return core_error_curl(err, rc, errbuf,
                             "fetching '%s': no connection within %ld s (CORE_FETCH_CONNECT_TIMEOUT sets the "
                             "limit)%s",
                             url, lim->connect_timeout, tries);
    return core_error_curl(err, rc, errbuf,
                           "fetching '%s': the download stalled, under 1 byte/s for %ld s "
                           "(CORE_FETCH_STALL_TIMEOUT sets the limit)%s",
                           url, lim->stall_timeout, tries);
  }
  return core_error_curl(err, rc, errbuf, "fetching '%s'%s", url, tries);
}

/* Downloads url into w; the writer holds exactly the body on success. */
static int download(const char *url, core_store_writer *w, core_progress *progress, const fetch_limits *lim,
                    core_error **err) {
  cleanup_curl CURL *h = curl_easy_init();
  if (h == NULL) return core_error_set(err, ENOMEM, "fetching '%s': creating a libcurl handle", url);
  char errbuf[CURL_ERROR_SIZE] = "";
  transfer t = {.h = h, .w = w, .progress = progress, .expect_total = -1};
  if (setup_handle(h, &t, lim, errbuf) < 0 || curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK)
    return core_error_set(err, 0, "fetching '%s': setting up libcurl failed (is libcurl older than 7.85?)", url);
  int can_resume = 1;
  for (long attempt = 1;; attempt++) {
    uint64_t have = core_store_writer_size(w);
    if (have > 0 && !can_resume && writer_restart(w, err) < 0) return core_error_wrap(err, "fetching '%s'", url);
    t.offset = can_resume ? have : 0;
    t.body_started = 0;
    t.range_broken = 0;
    t.expect_total = -1;
    char range[32];
    snprintf(range, sizeof range, "%" PRIu64 "-", t.offset);
    curl_easy_setopt(h, CURLOPT_RANGE, t.offset > 0 ? range : NULL);
    /* If-Range: should the resource have changed since the first response, the server
     * sends it whole instead of a tail that would not fit the head already kept. */
    cleanup_curl_slist struct curl_slist *headers = NULL;
    if (t.offset > 0 && t.validator[0]) {
      char hdr[300];
      snprintf(hdr, sizeof hdr, "If-Range: %s", t.validator);
      headers = curl_slist_append(NULL, hdr);
      if (headers == NULL) return core_error_set(err, ENOMEM, "fetching '%s'", url);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    errbuf[0] = '\0';

    CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL); /* headers is freed at the end of this pass */
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK && !t.body_started) begin_body(&t); /* an empty body still has to be judged */
    if (t.write_err) {
      *err = TAKE_PTR(t.write_err);
      return core_error_wrap(err, "fetching '%s'", url);
    }
    if (rc == CURLE_OK && !t.range_broken) {
      uint64_t got = core_store_writer_size(w);
      if (t.expect_total < 0 || got == (uint64_t)t.expect_total) return 0;
      /* libcurl checks Content-Length itself; this catches the rest (a short 206). */
      rc = CURLE_PARTIAL_FILE;
      snprintf(errbuf, CURL_ERROR_SIZE, "the body ended after %" PRIu64 " of %" PRId64 " bytes", got, t.expect_total);
    }
    int transient = is_transient(rc, code);
    if (t.range_broken || (rc == CURLE_HTTP_RETURNED_ERROR && code == 416 && t.offset > 0)) {
      /* The server cannot continue where we stopped; the next attempt asks for everything. */
      can_resume = 0;
      transient = 1;
      if (t.range_broken) snprintf(errbuf, CURL_ERROR_SIZE, "the server answered a Range request with other bytes");
    }
    if (!transient || attempt >= lim->attempts) return report_failure(err, url, h, rc, code, errbuf, attempt, lim);
    backoff(attempt);
  }
}

int core_fetch_url(core_fetch_ctx *ctx, const char *url, const char *want_sha256, core_digest *out, core_error **err) {
  if (check_scheme(url, err) < 0) return -1;
  core_digest want;
  if (want_sha256) {
    if (!core_digest_is_valid(want_sha256))
      return core_error_set(err, 0, "fetching '%s': '%s' is not a digest of the form sha256:<64 lowercase hex>", url,
                            want_sha256);
    memcpy(want.str, want_sha256, sizeof want.str);
    if (core_store_has(ctx->store, &want)) {
      *out = want;
      return 0;
    }
  }
  if (ctx->offline) {
    if (want_sha256)
      return core_error_set(err, 0,
                            "fetching '%s': the store lacks %s and --offline forbids downloading it; build once "
                            "without --offline",
                            url, want_sha256);
    return core_error_set(err, 0,
                          "fetching '%s': no digest is pinned for it, so the store cannot supply it and --offline "
                          "forbids downloading it; build once without --offline",
                          url);
  }
  fetch_limits lim;
  if (read_limits(&lim, err) < 0 || curl_ready(err) < 0) return core_error_wrap(err, "fetching '%s'", url);

  cleanup_store_writer core_store_writer *w = NULL;
  if (core_store_writer_begin(ctx->store, &w, err) < 0) return core_error_wrap(err, "fetching '%s'", url);
  cleanup_progress core_progress progress = core_progress_begin(ctx->reporter, url);
  if (download(url, w, &progress, &lim, err) < 0) return -1;
  core_progress_update(&progress, core_store_writer_size(w), core_store_writer_size(w));
  core_progress_done(&progress);

  core_digest got;
  /* commit checks the digest and stores nothing on a mismatch. Like core_atomic_file, the
   * writer's cleanup still runs afterwards and only frees what commit left. */
  if (core_store_writer_commit(w, want_sha256 ? &want : NULL, &got, err) < 0)
    return core_error_wrap(err, "fetching '%s'", url);
  *out = got;
  return 0;
}
