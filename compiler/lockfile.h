/* app.lock: the pins of an app's remote sources, kept next to app.yml so that a build
 * months later fetches exactly the same bytes. Format and rules: spec/lock.md. */
#ifndef CORE_LOCKFILE_H
#define CORE_LOCKFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "app_config.h"
#include "buf.h"
#include "error.h"
#include "json.h"

#define CORE_LOCKFILE_VERSION 1
/* A lock naming more sources than this is refused before its entries are matched. */
#define CORE_LOCKFILE_MAX_ENTRIES 10000

typedef struct core_lockfile core_lockfile;

/* The one reader of app.lock, for every command (build, lock, cache gc): a missing file is an
 * empty lock; anything else must be a regular file of at most CORE_INPUT_MAX_BYTES holding a
 * valid lock (duplicate JSON keys refused), else the error names the file and the problem. */
int core_lockfile_load(const char *path, core_lockfile **out, core_error **err);
void core_lockfile_free(core_lockfile *l);
void core_lockfile_freep(core_lockfile **l);
#define cleanup_lockfile __attribute__((cleanup(core_lockfile_freep)))
const char *core_lockfile_path(const core_lockfile *l);

/* The entries, in the file's order then this run's: i < core_lockfile_count. *pin is the one
 * this run recorded, else the file's. Borrowed. */
size_t core_lockfile_count(const core_lockfile *l);
void core_lockfile_entry(const core_lockfile *l, size_t i, const char **kind, const json_t **source,
                         const json_t **pin);

/* Entry i as one line for people: "KIND SOURCE: PIN", SOURCE and PIN in canonical JSON
 * ("deb {"deb":"busybox-static"}: {...}"). The caller frees *out. */
int core_lockfile_entry_text(const core_lockfile *l, size_t i, char **out, core_error **err);

/* Calls fn(ctx, digest) for every sha256 digest the pins name (cache gc keeps those blobs);
 * a digest may come more than once. Stops at fn's first -1 and returns it. */
int core_lockfile_digests(const core_lockfile *l, int (*fn)(void *ctx, const char *digest, core_error **err),
                          void *ctx, core_error **err);

/* The source as the lock names it: its kind ("url", "git", "oci", "deb") and the canonical
 * JSON of what app.yml wrote ({"url":...}, {"git":...,"ref":...}, ...). Local files are not
 * locked: *kind is NULL and *out NULL for them. */
int core_lock_source_of(const core_source *src, const char **kind, json_t **out, core_error **err);

/* The pin recorded for a source: by this run (core_lockfile_put) when there is one, else,
 * unless fresh_only, the one read from the file. Borrowed; NULL when there is none. */
const json_t *core_lockfile_find(const core_lockfile *l, const char *kind, const json_t *source, bool fresh_only);

/* Records the pin a source resolved to in this run. Entries of the file that no run records
 * are dropped when the lock is written. The JSON is copied. */
int core_lockfile_put(core_lockfile *l, const char *kind, const json_t *source, const json_t *pin, core_error **err);

/* What writing the lock would change, one line per entry ("add deb {"deb":"x"}: {...}",
 * "change ...: OLD -> NEW", "remove ..."), sorted; "" when the pins are the same. The caller
 * frees it. */
int core_lockfile_changes(const core_lockfile *l, char **out, core_error **err);

/* The lock's text: entries recorded by this run, sorted, keys sorted, 2-space indented. */
int core_lockfile_render(const core_lockfile *l, core_buf *out, core_error **err);

/* Writes the file atomically when its content would differ (and, with no file yet, only
 * when there is something to lock). *written says whether it did. */
int core_lockfile_write(const core_lockfile *l, bool *written, core_error **err);

#endif
