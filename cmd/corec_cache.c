/* corec cache ls|gc|verify: look after the content store. Thin: the work is in compiler/store*.c,
 * and app.lock files are read by compiler/lockfile.c. */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "corec.h"
#include "fsutil.h"
#include "json.h"
#include "corec_kernel_cache.h"
#include "corec_link_cache.h"
#include "lockfile.h"
#include "store.h"
#include "store_admin.h"

static const char cache_help[] =
    "usage: corec cache [--store DIR] ls\n"
    "       corec cache [--store DIR] gc [--older-than DAYS] [ROOT...]\n"
    "       corec cache [--store DIR] verify\n"
    "\n"
    "Looks after the content store of fetched sources (spec/store.md).\n"
    "\n"
    "  ls       every blob: digest, size, and time since it was last used\n"
    "  gc       removes the blobs that no app.lock under ROOT (searched recursively; default the\n"
    "           current directory) refers to; with --older-than, only those also unused for DAYS\n"
    "           days. Waits for builds using the store to finish. Also removes temporary files\n"
    "           that interrupted downloads left (older than an hour). Each app.lock is read as\n"
    "           'corec build' reads it: one it refuses (invalid, a duplicate key, not a regular\n"
    "           file) stops gc before it removes anything (exit status 1)\n"
    "  verify   re-hashes every blob; corrupt ones are removed and listed (exit status 1)\n"
    "\n"
    "The link cache (what 'corec build' reuses for an unchanged app) and the kernel cache (a kernel\n"
    "package's files, unpacked once) keep their bytes as blobs that no app.lock refers to: gc\n"
    "removes them (with --older-than, those unused for DAYS days), and with them their entries.\n"
    "\n"
    "      --store DIR   the content store (default $CORE_STORE_DIR, else $CORE_HOME/store)\n"
    "  -h, --help        show this help\n";

static void human_size(uint64_t n, char *buf, size_t size) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)n;
  size_t u = 0;
  while (v >= 1024 && u < 4) v /= 1024, u++;
  if (u == 0)
    snprintf(buf, size, "%llu B", (unsigned long long)n);
  else
    snprintf(buf, size, "%.1f %s", v, units[u]);
}

static void human_age(time_t secs, char *buf, size_t size) {
  if (secs < 0) secs = 0;
  if (secs < 3600)
    snprintf(buf, size, "%lldm", (long long)secs / 60);
  else if (secs < 86400)
    snprintf(buf, size, "%lldh", (long long)secs / 3600);
  else
    snprintf(buf, size, "%lldd", (long long)secs / 86400);
}

static int cache_ls(core_store *s, core_error **err) {
  cleanup_free core_store_blob *blobs = NULL;
  size_t n = 0;
  if (core_store_list(s, &blobs, &n, err) < 0) return -1;
  uint64_t total = 0;
  time_t now = time(NULL);
  for (size_t i = 0; i < n; i++) {
    char size[32], age[32];
    human_size(blobs[i].size, size, sizeof size);
    human_age(now - blobs[i].last_used, age, sizeof age);
    printf("%s  %10s  %5s\n", blobs[i].digest.str, size, age);
    total += blobs[i].size;
  }
  char t[32];
  human_size(total, t, sizeof t);
  printf("%zu blobs, %s in %s\n", n, t, core_store_dir(s));
  size_t links = 0, kernels = 0;
  if (core_link_cache_count(s, &links, err) < 0 || core_kernel_cache_count(s, &kernels, err) < 0) return -1;
  printf("%zu link cache entries (linked apps an unchanged build reuses), %zu kernel cache entries (unpacked kernel "
         "packages); 'gc' removes them\n", links, kernels);
  return 0;
}

static int cache_verify(core_store *s, core_error **err) {
  cleanup_free core_store_blob *blobs = NULL;
  size_t n = 0, bad = 0;
  if (core_store_list(s, &blobs, &n, err) < 0) return -1;
  for (size_t i = 0; i < n; i++) {
    cleanup_free char *path = NULL;
    core_error *cause = NULL;
    if (core_store_get_verified(s, &blobs[i].digest, &path, &cause) == 0) continue;
    printf("corrupt: %s\n", cause->msg);
    core_error_free(cause);
    bad++;
  }
  printf("%zu blobs verified, %zu corrupt%s\n", n - bad, bad, bad ? " (removed; builds fetch them again)" : "");
  return bad ? 1 : 0;
}

/* The digests every app.lock under the roots refers to, gathered by nftw. */
static json_t *g_referenced;
static core_error **g_err;

static int keep_digest(void *ctx, const char *digest, core_error **err) {
  if (json_object_set_new(ctx, digest, json_true()) < 0) return core_error_set(err, ENOMEM, "allocating");
  return 0;
}

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  if (flag == FTW_D && path[ftw->base] == '.' && ftw->level > 0 && strcmp(path + ftw->base, ".") != 0)
    return FTW_SKIP_SUBTREE; /* .git and other hidden directories hold no app.lock of interest */
  /* FTW_F is anything but a directory or a link (a FIFO too); a link named app.lock is read
   * through, as a build reads it. The lock reader refuses what is not a regular file. */
  if ((flag != FTW_F && flag != FTW_SL) || strcmp(path + ftw->base, "app.lock") != 0) return FTW_CONTINUE;
  /* The reader 'corec build' uses: a lock a build refuses pins nothing gc can trust, and
   * guessing what it pins could delete what a build needs, so gc stops and removes nothing. */
  cleanup_lockfile core_lockfile *lock = NULL;
  if (core_lockfile_load(path, &lock, g_err) < 0) {
    core_error_wrap(g_err, "gc removed nothing: fix or remove the lock file '%s', then run gc again", path);
    return FTW_STOP;
  }
  if (core_lockfile_digests(lock, keep_digest, g_referenced, g_err) < 0) return FTW_STOP;
  return FTW_CONTINUE;
}

static int cache_gc(core_store *s, int argc, char **argv, core_error **err) {
  static const struct option opts[] = {{"older-than", required_argument, NULL, 'o'}, {0, 0, 0, 0}};
  long days = -1;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c != 'o') return fputs(cache_help, stderr), 2;
    char *end;
    days = strtol(optarg, &end, 10);
    if (*end || days < 0) return core_error_set(err, 0, "--older-than takes a whole number of days, found '%s'", optarg);
  }
  cleanup_json json_t *referenced = json_object();
  g_referenced = referenced;
  g_err = err;
  static char *const dot[] = {".", NULL};
  char *const *roots = optind < argc ? argv + optind : dot;
  for (; *roots; roots++) {
    int rc = nftw(*roots, visit, 32, FTW_PHYS | FTW_ACTIONRETVAL);
    if (*err) return -1;
    if (rc < 0) return core_error_set(err, errno, "searching '%s' for app.lock files", *roots);
  }
  int got = core_store_lock_exclusive(s, 0, err);
  if (got < 0) return -1;
  if (got == 0) {
    fprintf(stderr, "corec: waiting for the builds using %s to finish\n", core_store_dir(s));
    if (core_store_lock_exclusive(s, 1, err) < 0) return -1;
  }
  cleanup_free core_store_blob *blobs = NULL;
  size_t n = 0, removed = 0, kept = 0;
  uint64_t freed = 0;
  if (core_store_list(s, &blobs, &n, err) < 0) return -1;
  time_t now = time(NULL);
  for (size_t i = 0; i < n; i++) {
    if (json_object_get(referenced, blobs[i].digest.str) ||
        (days >= 0 && now - blobs[i].last_used < (time_t)days * 86400)) {
      kept++;
      continue;
    }
    if (core_store_remove(s, &blobs[i].digest, err) < 0) return -1;
    char size[32];
    human_size(blobs[i].size, size, sizeof size);
    printf("removed %s (%s)\n", blobs[i].digest.str, size);
    removed++;
    freed += blobs[i].size;
  }
  size_t tmp_removed = 0, links_removed = 0, kernels_removed = 0;
  if (core_store_clean_tmp(s, 3600, &tmp_removed, &freed, err) < 0) return -1;
  /* The caches' entries only name blobs: one whose blobs are gone is removed with them. */
  if (core_link_cache_prune(s, &links_removed, err) < 0 || core_kernel_cache_prune(s, &kernels_removed, err) < 0)
    return -1;
  char f[32];
  human_size(freed, f, sizeof f);
  printf("removed %zu blobs, %zu temporary files, %zu link and %zu kernel cache entries, freed %s; kept %zu blobs\n",
         removed, tmp_removed, links_removed, kernels_removed, f, kept);
  return core_store_lock_shared(s, err);
}

int corec_cache(int argc, char **argv, core_error **err) {
  const char *store_dir = NULL;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return fputs(cache_help, stdout), 0;
    if (strcmp(argv[i], "--store") == 0 && i + 1 < argc)
      store_dir = argv[++i];
    else if (strncmp(argv[i], "--store=", 8) == 0)
      store_dir = argv[i] + 8;
    else
      return fputs(cache_help, stderr), 2;
  }
  if (i >= argc) return fputs(cache_help, stderr), 2;
  const char *sub = argv[i];
  for (int j = i + 1; j < argc; j++)
    if (strcmp(argv[j], "-h") == 0 || strcmp(argv[j], "--help") == 0) return fputs(cache_help, stdout), 0;
  cleanup_store core_store *s = NULL;
  if (strcmp(sub, "ls") == 0 || strcmp(sub, "verify") == 0) {
    if (i + 1 != argc) return core_error_set(err, 0, "'corec cache %s' takes no arguments", sub);
    if (core_store_open(store_dir, &s, err) < 0) return -1;
    return strcmp(sub, "ls") == 0 ? cache_ls(s, err) : cache_verify(s, err);
  }
  if (strcmp(sub, "gc") == 0) {
    if (core_store_open(store_dir, &s, err) < 0) return -1;
    return cache_gc(s, argc - i, argv + i, err);
  }
  return core_error_set(err, 0, "unknown cache command '%s'; use ls, gc or verify (see 'corec cache --help')", sub);
}
