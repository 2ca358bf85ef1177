/* corec ls: the initramfs's root file system of a verified artifact, like 'tar tv'. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "corec.h"
#include "corec_artifact.h"
#include "corec_initramfs.h"

static const char ls_help[] =
    "usage: corec ls [--trust FILE ...] [--identity FILE ...] ARTIFACT [PATH]\n"
    "\n"
    "Verifies ARTIFACT (.tim, raw disk, qcow2 or ISO) exactly as 'corec verify' does (refusing\n"
    "it with the same message, exit 1), then lists the root file system in its initramfs, one\n"
    "entry a line, like 'tar tv':\n"
    "\n"
    "  MODE UID/GID SIZE DATE TIME PATH        e.g. -rwxr-xr-x 0/0 2048 1970-01-01 00:00 bin/busybox\n"
    "\n"
    "SIZE is MAJOR,MINOR for a device; a symlink ends in '-> TARGET'; dates are UTC; paths are\n"
    "as stored (relative to the root). With PATH (with or without a leading '/'), only PATH and\n"
    "what is below it; exit 1 when nothing is there. See spec/inspect.md.\n"
    "\n"
    "  --trust FILE      also trust this Ed25519 public key (PEM); may be repeated (at most 16)\n"
    "  --identity FILE   age identity file to decrypt an encrypted initramfs with (needed for an\n"
    "                    encrypted artifact); may be repeated (also: CORE_IDENTITY_FILE)\n"
    "  -h, --help        show this help\n";

typedef struct ls_ctx {
  const char *prefix; /* "" for everything */
  size_t prefix_len;
  unsigned long shown;
} ls_ctx;

/* PATH itself or something below it: "etc" matches "etc" and "etc/motd", not "etcetera". */
static int under(const ls_ctx *c, const char *path) {
  if (c->prefix_len == 0) return 1;
  return strncmp(path, c->prefix, c->prefix_len) == 0 && (path[c->prefix_len] == '\0' || path[c->prefix_len] == '/');
}

static int print_entry(void *ctx, struct archive *a, struct archive_entry *e, const char *path, core_error **err) {
  (void)a;
  (void)err;
  ls_ctx *c = ctx;
  if (!under(c, path)) return 0;
  char mode[11], size[48], when[32];
  corec_initramfs_mode(e, mode);
  mode_t type = archive_entry_filetype(e);
  if (type == AE_IFCHR || type == AE_IFBLK)
    snprintf(size, sizeof size, "%lu,%lu", (unsigned long)archive_entry_rdevmajor(e),
             (unsigned long)archive_entry_rdevminor(e));
  else
    snprintf(size, sizeof size, "%lld", (long long)archive_entry_size(e));
  time_t t = archive_entry_mtime(e);
  struct tm tm;
  if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm) == 0)
    snprintf(when, sizeof when, "%lld", (long long)t);
  printf("%s %lld/%lld %8s %s %s", mode, (long long)archive_entry_uid(e), (long long)archive_entry_gid(e), size, when,
         path);
  const char *target = archive_entry_symlink(e), *hard = archive_entry_hardlink(e);
  if (target) printf(" -> %s", target);
  else if (hard) printf(" link to %s", hard);
  putchar('\n');
  c->shown++;
  return 0;
}

int corec_ls(int argc, char **argv, core_error **err) {
  corec_artifact_flags flags = {0};
  int parsed = corec_artifact_args(argc, argv, ls_help, &flags, NULL, err);
  if (parsed != 0) return parsed == 1 ? 0 : parsed;
  if (optind != argc - 1 && optind != argc - 2)
    return core_error_set(err, 0, "ls takes one artifact and optionally a path; see 'corec ls --help'");
  const char *path = argv[optind];
  ls_ctx ctx = {.prefix = optind == argc - 2 ? argv[optind + 1] : ""};
  while (ctx.prefix[0] == '/') ctx.prefix++;
  ctx.prefix_len = strlen(ctx.prefix);
  while (ctx.prefix_len > 0 && ctx.prefix[ctx.prefix_len - 1] == '/') ctx.prefix_len--;
  cleanup_corec_artifact corec_artifact a = {0};
  if (corec_artifact_open(path, &flags, 1, &a, err) < 0) return -1;
  if (corec_initramfs_walk(a.app->initramfs, print_entry, &ctx, err) < 0) return core_error_wrap(err, "'%s'", path);
  if (ctx.prefix_len > 0 && ctx.shown == 0)
    return core_error_set(err, 0, "'%s': its initramfs has nothing at '/%.*s'", path, (int)ctx.prefix_len, ctx.prefix);
  return 0;
}
