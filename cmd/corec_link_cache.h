/* The link cache: a linked app (its blobs and manifest) kept in the content store under a
 * key that covers everything the linker reads, so building an unchanged app again skips
 * linking and only signs and writes. Layout and rules: spec/store.md, "The link cache". */
#ifndef CORE_LINK_CACHE_H
#define CORE_LINK_CACHE_H

#include "digest.h"
#include "error.h"
#include "link.h"
#include "load.h"
#include "plan.h"
#include "store.h"

/* Bumped whenever what an entry holds or what the key covers changes: old entries then
 * simply stop matching. */
#define CORE_LINK_CACHE_FORMAT 1

/* The key: a digest over the cache format, this corec's own bytes (/proc/self/exe: its code
 * and the coreinit it embeds), the plan, the bytes of every file the config was read from,
 * the --var values, the environment variables the app may read, the environment the linker
 * reads, and the contents of every directory source (directories carry no digest in the
 * plan). LO are the load options the config was loaded with. */
int core_link_cache_key(const core_plan *plan, const core_load_opts *lo, core_digest *key, core_error **err);

/* 1 with *out filled from the entry of KEY (every blob re-hashed against its digest as it
 * is read) and *warnings (NULL or the link's notices, to report again); 0 when there is no
 * usable entry: none, or one that is damaged (then *why says what, and the entry is
 * removed). -1 only for errors that are not about the entry (out of memory). */
int core_link_cache_load(core_store *s, const core_digest *key, const char *name, core_linked_app *out,
                         char **warnings, char **why, core_error **err);

/* Stores APP's blobs and an entry naming them under KEY, atomically. Call it before sealing:
 * signatures are not part of an entry. */
int core_link_cache_save(core_store *s, const core_digest *key, const core_linked_app *app, const char *warnings,
                         core_error **err);

/* For 'corec cache': how many entries there are, and removing those that name a blob the
 * store no longer has (gc removed it) or that cannot be read. Hold the exclusive lock. */
int core_link_cache_count(core_store *s, size_t *n, core_error **err);
int core_link_cache_prune(core_store *s, size_t *removed, core_error **err);

/* Parses an entry's text (hostile: sizes, counts and digests are checked) into the blob
 * digests it lists, in order, the manifest's digest and the warnings (may be NULL). */
typedef struct core_link_entry {
  core_digest manifest;
  core_digest *blobs;
  uint64_t *sizes;
  size_t n_blobs;
  char *warnings;
} core_link_entry;
#define CORE_LINK_ENTRY_MAX_BLOBS 4096
#define CORE_LINK_ENTRY_MAX_BYTES (1u << 20)
int core_link_entry_parse(const void *text, size_t len, core_link_entry *out, core_error **err);
void core_link_entry_release(core_link_entry *e);

/* A reporter that forwards everything to INNER and keeps a copy of the notices (the link's
 * warnings, stored with the entry). */
typedef struct core_capture_reporter {
  core_reporter base;
  core_reporter *inner;
  core_buf notices;
} core_capture_reporter;
void core_capture_reporter_init(core_capture_reporter *r, core_reporter *inner);
void core_capture_reporter_release(core_capture_reporter *r);
#define cleanup_capture_reporter __attribute__((cleanup(core_capture_reporter_release)))

#endif
