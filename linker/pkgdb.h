/* Package databases read for the SBOM (spec/sbom.md): dpkg's status file and a .deb's control
 * file (both RFC 822-like stanzas, "Field: value"), and Alpine's installed database ("P:name"
 * lines). Bounded: the text, the packages and every kept value have a limit, checked before
 * anything grows with what the input claims. */
#ifndef CORE_PKGDB_H
#define CORE_PKGDB_H

#include <stddef.h>

#include "error.h"

/* The most text one database may hold (a full Debian system's status is a few MiB). */
#define CORE_PKGDB_MAX_BYTES (64u << 20)
/* The most packages one database may list. */
#define CORE_PKGDB_MAX_PACKAGES 100000u
/* The longest package name, version or architecture kept; a longer one is not a package. */
#define CORE_PKGDB_MAX_VALUE 255u

typedef enum core_pkgdb_kind {
  CORE_PKGDB_DPKG_STATUS, /* var/lib/dpkg/status: only "Status: ... installed" stanzas count */
  CORE_PKGDB_DEB_CONTROL, /* a .deb's control file: one stanza, no Status */
  CORE_PKGDB_APK,         /* lib/apk/db/installed */
} core_pkgdb_kind;

typedef struct core_pkg {
  char *name, *version, *arch; /* arch may be NULL (apk without A:) */
  const char *type;            /* "deb" or "apk": the package URL type (spec/sbom.md) */
  int source;                  /* which source brought it (the caller's numbering), -1: none */
  int is_source;               /* it is that source itself (a .deb's control data), not inside it */
} core_pkg;

typedef struct core_pkg_list {
  core_pkg *v;
  size_t n, cap;
} core_pkg_list;

/* Appends the packages of TEXT[0..LEN) to OUT, each with SOURCE. A stanza without a name or
 * version, or whose name, version or architecture is too long or holds bytes a package manager
 * would not write (controls, spaces, non-ASCII), is no package and is skipped; so are lines that
 * are not fields. Fails only past the limits above. */
int core_pkgdb_parse(core_pkgdb_kind kind, const char *text, size_t len, int source, core_pkg_list *out,
                     core_error **err);

/* Sorts by name, architecture, version, source and drops exact repeats (same four). */
void core_pkg_list_sort(core_pkg_list *l);
void core_pkg_list_release(core_pkg_list *l);
#define cleanup_pkg_list __attribute__((cleanup(core_pkg_list_release)))

#endif
