/* The configuration coreinit runs from: /etc/core/init.conf (from the build) merged with
 * /etc/core/run.conf (from the launcher). The format is described in spec/init.md. */
#ifndef INIT_CONF_H
#define INIT_CONF_H

#include <stddef.h>

#include "error.h"

#define INIT_CONF_PATH "/etc/core/init.conf"
#define INIT_RUN_CONF_PATH "/etc/core/run.conf"

/* A list of strings, kept NULL-terminated so it can be passed to execve as it is. */
typedef struct init_strv {
  char **v; /* NULL while empty */
  size_t n;
  size_t cap;
} init_strv;

typedef struct init_conf {
  char *hostname;      /* NULL: keep the kernel's */
  char *status_device; /* NULL: report on the console only */
  init_strv modules;   /* absolute .ko paths, in load order */
  init_strv env;       /* "NAME=VALUE" in file order; after init_conf_finish, the full
                        * environment of the main command, one entry per name */
  init_strv argv;      /* the main command */
} init_conf;

#define INIT_CONF_INIT \
  { 0 }

/* Parses one file held in buf (len bytes, need not be NUL-terminated) into *out, which
 * must be empty. file is only used in messages ("file:line: problem"). On failure *out is
 * left empty. */
int init_conf_parse(init_conf *out, const char *file, const char *buf, size_t len, init_error *err);

/* Lays a later file over an earlier one: its arg lines, if any, replace the whole argv;
 * its env and module lines come after the earlier ones; its hostname and status-device
 * win. over is left empty; on failure base is unchanged. */
int init_conf_merge(init_conf *base, init_conf *over, init_error *err);

/* Checks the merged result and gives the main command its environment: the defaults
 * (PATH, HOME, TERM) overridden by the env lines, later lines winning. file names the
 * configuration in messages. */
int init_conf_finish(init_conf *c, const char *file, init_error *err);

void init_conf_free(init_conf *c);

/* Reads both files from disk, merges and finishes them. In conffile.c, not conf.c, so
 * that the parser stays free of I/O. */
int init_conf_load(init_conf *out, init_error *err);

#endif
