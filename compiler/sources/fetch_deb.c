/* Debian packages through the host's apt: apt-cache says which version and which SHA-256,
 * apt-get download brings the file, and the store keeps it only if the digest matches. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fetch.h"
#include "fsutil.h"
#include "spawn.h"

/* Package names and versions go on apt's command line: refusing anything outside Debian
 * policy's alphabets keeps a value from being read as an option or a second argument. */
static int valid_package(const char *s) {
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')) || strlen(s) < 2) return 0;
  return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789+-.") == strlen(s);
}

static int valid_version(const char *s) {
  return s[0] >= '0' && s[0] <= '9' &&
         strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+~-:") == strlen(s);
}

static int apt_cache(char *const argv[], core_buf *out, core_error **err) {
  cleanup_buf core_buf errout = CORE_BUF_INIT;
  int status;
  if (core_run_capture(argv, NULL, out, &errout, &status, err) < 0) return -1;
  if (status != 0 && status != 100)
    return core_error_set(err, 0, "'apt-cache %s %s' failed (exit %d): %s", argv[1], argv[2], status,
                          core_spawn_last_line(&errout));
  return status;
}

/* The value of "Field: value" on a line of text, or NULL. */
static char *field(const char *text, const char *name) {
  size_t nl = strlen(name);
  for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (strncmp(line, name, nl) != 0 || line[nl] != ':') continue;
    const char *v = line + nl + 1;
    while (*v == ' ') v++;
    return strndup(v, strcspn(v, "\n"));
  }
  return NULL;
}

/* Every version apt knows of the package, for the message about a version it does not. */
static char *available_versions(const char *package, core_error **err) {
  cleanup_buf core_buf out = CORE_BUF_INIT;
  char *argv[] = {"apt-cache", "madison", (char *)package, NULL};
  if (apt_cache(argv, &out, err) < 0) return NULL;
  cleanup_buf core_buf list = CORE_BUF_INIT;
  for (char *line = (char *)out.data; line && *line;) {
    char *next = strchr(line, '\n');
    if (next) *next++ = 0;
    /* "busybox-static | 1:1.35.0-4+deb12u1+b1 | http://... Packages" */
    char *bar = strchr(line, '|');
    if (bar) {
      char *v = bar + 1;
      while (*v == ' ') v++;
      size_t vl = strcspn(v, " |");
      cleanup_free char *ver = strndup(v, vl);
      if (ver && (list.len == 0 || strstr((char *)list.data, ver) == NULL)) {
        if ((list.len && core_buf_append(&list, ", ", 2, err) < 0) || core_buf_append(&list, ver, vl, err) < 0 ||
            core_buf_append(&list, "", 1, err) < 0)
          return NULL;
        list.len--;
      }
    }
    line = next;
  }
  if (list.len == 0) return strdup("");
  return (char *)core_buf_take(&list, NULL);
}

static int candidate(const char *package, char **out, core_error **err) {
  cleanup_buf core_buf text = CORE_BUF_INIT;
  char *argv[] = {"apt-cache", "policy", (char *)package, NULL};
  if (apt_cache(argv, &text, err) < 0) return -1;
  cleanup_free char *c = text.len ? field((char *)text.data, "  Candidate") : NULL;
  if (text.len == 0)
    return core_error_set(err, 0,
                          "apt does not know the package '%s'; check the name ('apt-cache search WORD'), or run "
                          "'apt-get update' if it is new",
                          package);
  if (c == NULL || strcmp(c, "(none)") == 0)
    return core_error_set(err, 0, "apt has no version of '%s' to install (no candidate); name a version with 'version:'",
                          package);
  *out = TAKE_PTR(c);
  return 0;
}

typedef struct deb_meta {
  char *filename;
  char *sha256; /* "sha256:<hex>" */
  uint64_t size; /* from apt's Size field; 0 when it gave none */
} deb_meta;

static void deb_meta_release(deb_meta *m) {
  free(m->filename);
  free(m->sha256);
}

/* apt's record of exactly PACKAGE=VERSION for this machine's architecture. */
static int show(const char *package, const char *version, deb_meta *m, core_error **err) {
  cleanup_free char *spec = NULL;
  if (asprintf(&spec, "%s=%s", package, version) < 0) return core_error_set(err, ENOMEM, "allocating");
  cleanup_buf core_buf text = CORE_BUF_INIT;
  char *argv[] = {"apt-cache", "show", spec, NULL};
  int status = apt_cache(argv, &text, err);
  if (status < 0) return -1;
  if (status != 0 || text.len == 0) {
    cleanup_free char *avail = available_versions(package, err);
    if (avail == NULL) return -1;
    if (avail[0] == 0)
      return core_error_set(err, 0,
                            "apt does not know the package '%s'; check the name ('apt-cache search WORD'), or run "
                            "'apt-get update' if it is new",
                            package);
    return core_error_set(err, 0, "apt has no version '%s' of '%s'; available: %s", version, package, avail);
  }
  /* Several stanzas when the package exists for more than one architecture: apt-get download
   * takes the native one, or "all". */
  cleanup_free char *native = NULL;
  {
    cleanup_buf core_buf arch = CORE_BUF_INIT;
    char *dargv[] = {"dpkg", "--print-architecture", NULL};
    int st;
    if (core_run_capture(dargv, NULL, &arch, NULL, &st, err) < 0) return -1;
    native = strndup(arch.len ? (char *)arch.data : "", arch.len ? strcspn((char *)arch.data, "\n") : 0);
  }
  for (char *stanza = (char *)text.data; stanza && *stanza;) {
    char *next = strstr(stanza, "\n\n");
    if (next) *next = 0, next += 2;
    cleanup_free char *arch = field(stanza, "Architecture");
    cleanup_free char *ver = field(stanza, "Version");
    if (arch && ver && strcmp(ver, version) == 0 && (strcmp(arch, "all") == 0 || (native && strcmp(arch, native) == 0))) {
      cleanup_free char *sha = field(stanza, "SHA256");
      m->filename = field(stanza, "Filename");
      if (sha == NULL || strlen(sha) != 64 || m->filename == NULL)
        return core_error_set(err, 0, "apt's record of %s has no SHA256 or Filename; run 'apt-get update'", spec);
      if (asprintf(&m->sha256, "sha256:%s", sha) < 0) return core_error_set(err, ENOMEM, "allocating");
      cleanup_free char *size = field(stanza, "Size");
      m->size = size ? strtoull(size, NULL, 10) : 0;
      return 0;
    }
    stanza = next;
  }
  return core_error_set(err, 0, "apt has %s, but not for this machine's architecture (%s)", spec, native ? native : "?");
}

/* A scratch directory for apt-get in the store's tmp/, so the finished file is on the same
 * file system as the blobs; removed with what is in it. */
static void remove_dir(char **dir) {
  if (*dir == NULL) return;
  DIR *d = opendir(*dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
  }
  rmdir(*dir);
  free(*dir);
  *dir = NULL;
}

/* apt writes the package into the scratch directory as it arrives: its size so far is the progress. */
typedef struct apt_watch {
  const char *dir;
  core_progress *progress;
  uint64_t total;
} apt_watch;

static void watch_download(void *ctx) {
  apt_watch *w = ctx;
  DIR *d = opendir(w->dir);
  if (d == NULL) return;
  uint64_t bytes = 0;
  struct dirent *e;
  struct stat st;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.' && fstatat(dirfd(d), e->d_name, &st, 0) == 0 && S_ISREG(st.st_mode))
      bytes += (uint64_t)st.st_size;
  closedir(d);
  core_progress_update(w->progress, bytes, w->total);
}

static int download(core_fetch_ctx *ctx, const char *package, const char *version, const deb_meta *m,
                    core_digest *out, core_error **err) {
  cleanup_free char *spec = NULL;
  if (asprintf(&spec, "%s=%s", package, version) < 0) return core_error_set(err, ENOMEM, "allocating");
  __attribute__((cleanup(remove_dir))) char *dir = NULL;
  if (asprintf(&dir, "%s/tmp/deb-XXXXXX", core_store_dir(ctx->store)) < 0) return core_error_set(err, ENOMEM, "allocating");
  if (mkdtemp(dir) == NULL) {
    int e = errno;
    free(dir);
    dir = NULL;
    return core_error_set(err, e, "creating a scratch directory in the store");
  }
  /* apt downloads as the unprivileged _apt user when it can reach the directory. */
  chmod(dir, 0755);
  char *argv[] = {"apt-get", "download", "-q", spec, NULL};
  cleanup_buf core_buf errout = CORE_BUF_INIT;
  int status;
  cleanup_progress core_progress progress = core_progress_begin(ctx->reporter, spec);
  apt_watch watch = {dir, &progress, m->size};
  if (core_run_capture_ticking(argv, dir, NULL, &errout, &status, watch_download, &watch, err) < 0) return -1;
  if (status == 0) {
    watch_download(&watch);
    core_progress_done(&progress);
  }
  if (status != 0)
    return core_error_set(err, 0, "'apt-get download %s' failed (exit %d): %s", spec, status,
                          core_spawn_last_line(&errout));
  const char *base = strrchr(m->filename, '/') ? strrchr(m->filename, '/') + 1 : m->filename;
  cleanup_free char *file = NULL;
  {
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
      if (file == NULL && strlen(e->d_name) > 4 && strcmp(e->d_name + strlen(e->d_name) - 4, ".deb") == 0)
        file = core_path_join(dir, e->d_name);
    if (d) closedir(d);
  }
  if (file == NULL)
    return core_error_set(err, 0, "'apt-get download %s' succeeded but left no %s", spec, base);
  core_digest want;
  snprintf(want.str, sizeof want.str, "%s", m->sha256);
  cleanup_store_writer core_store_writer *w = NULL;
  cleanup_close int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return core_error_set(err, errno, "opening '%s'", file);
  if (core_store_writer_begin(ctx->store, &w, err) < 0) return -1;
  for (;;) {
    char chunk[1 << 16];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core_error_set(err, errno, "reading '%s'", file);
    if (n == 0) break;
    if (core_store_writer_write(w, chunk, (size_t)n, err) < 0) return -1;
  }
  if (core_store_writer_commit(w, &want, out, err) < 0)
    return core_error_wrap(err, "the package apt downloaded for %s does not match apt's own SHA256", spec);
  return 0;
}

int core_deb_kernel_package(const char *package, char **concrete, core_error **err) {
  *concrete = NULL;
  if (strncmp(package, "linux-image-", 12) != 0 || (package[12] >= '0' && package[12] <= '9')) return 0;
  if (!valid_package(package)) return core_error_set(err, 0, "'%s' is not a Debian package name", package);
  cleanup_buf core_buf out = CORE_BUF_INIT;
  char *argv[] = {"apt-cache", "depends", "--important", (char *)package, NULL};
  int status = apt_cache(argv, &out, err);
  if (status < 0) return -1;
  if (status != 0 || out.len == 0)
    return core_error_set(err, 0, "apt knows no package '%s' (run 'apt-get update' if the lists are old)", package);
  /* "  Depends: linux-image-6.1.0-56-cloud-amd64": the first versioned kernel it depends on. */
  for (const char *line = (const char *)out.data; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    const char *dep = strstr(line, "Depends: linux-image-");
    const char *nl = strchr(line, '\n');
    if (dep == NULL || (nl && dep > nl)) continue;
    dep += 9;
    if (dep[12] < '0' || dep[12] > '9') continue;
    if ((*concrete = strndup(dep, strcspn(dep, " \n<"))) == NULL) return core_error_set(err, ENOMEM, "allocating");
    return 1;
  }
  return core_error_set(err, 0, "'%s' depends on no versioned linux-image package; name the kernel package itself", package);
}

int core_fetch_deb(core_fetch_ctx *ctx, const char *package, const char *version, const char *pinned_sha256,
                   char **resolved_version, core_digest *out, core_error **err) {
  if (!valid_package(package))
    return core_error_set(err, 0, "'%s' is not a Debian package name (lowercase letters, digits, '+', '-', '.')",
                          package);
  if (version && !valid_version(version))
    return core_error_set(err, 0, "'%s' is not a Debian version (as 'apt-cache madison %s' prints them)", version,
                          package);
  if (pinned_sha256 && !core_digest_is_valid(pinned_sha256))
    return core_error_set(err, 0, "the pin '%s' of deb '%s' is not a sha256 digest; run 'corec lock' again",
                          pinned_sha256, package);
  core_digest pin;
  if (pinned_sha256) snprintf(pin.str, sizeof pin.str, "%s", pinned_sha256);
  /* A pinned package already in the store needs nothing from apt: this is what makes a
   * locked build work offline and on a machine whose apt lists have moved on. */
  if (pinned_sha256 && version && core_store_has(ctx->store, &pin)) {
    if ((*resolved_version = strdup(version)) == NULL) return core_error_set(err, ENOMEM, "allocating");
    *out = pin;
    return 0;
  }
  if (ctx->offline)
    return core_error_set(err, 0,
                          "deb '%s'%s%s is not in the content store and --offline forbids downloading it; build once "
                          "without --offline (or run 'corec lock') to fetch it",
                          package, version ? " " : "", version ? version : "");
  cleanup_free char *ver = NULL;
  if (version) {
    if ((ver = strdup(version)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  } else if (candidate(package, &ver, err) < 0) {
    return -1;
  }
  __attribute__((cleanup(deb_meta_release))) deb_meta m = {0};
  if (show(package, ver, &m, err) < 0) return -1;
  if (pinned_sha256 && strcmp(m.sha256, pinned_sha256) != 0)
    return core_error_set(err, 0,
                          "apt offers %s %s with %s, but the lock pins %s: the archive's package changed; check why, "
                          "then run 'corec lock' to pin the new one",
                          package, ver, m.sha256, pinned_sha256);
  core_digest d;
  snprintf(d.str, sizeof d.str, "%s", m.sha256);
  if (!core_store_has(ctx->store, &d) && download(ctx, package, ver, &m, &d, err) < 0) return -1;
  *resolved_version = TAKE_PTR(ver);
  *out = d;
  return 0;
}
