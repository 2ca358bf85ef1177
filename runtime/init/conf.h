/* The configuration coreinit runs from: /etc/core/init.conf (from the build) merged with
 * /etc/core/run.conf (from the launcher). The format is described in spec/init.md. */
#ifndef INIT_CONF_H
#define INIT_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define INIT_CONF_PATH "/etc/core/init.conf"
#define INIT_RUN_CONF_PATH "/etc/core/run.conf"

/* A list of strings, kept NULL-terminated so it can be passed to execve as it is. */
typedef struct init_strv {
  char **v; /* NULL while empty */
  size_t n;
  size_t cap;
} init_strv;

typedef enum init_restart {
  INIT_RESTART_ALWAYS = 0,
  INIT_RESTART_ON_FAILURE,
  INIT_RESTART_NEVER,
} init_restart;

/* A program coreinit starts: an onboot or onshutdown step, a service, or (built on the
 * fly from the top-level lines) the main command. */
typedef struct init_proc {
  char *name;
  int line; /* of its block's first line, for messages */
  init_strv argv;
  init_strv env; /* its own env lines; after init_conf_finish, its whole environment */
  char *root;    /* chroot into this first; NULL = / */
  char *cwd;     /* NULL = / */
  char *user;    /* a name, "UID" or "UID:GID"; NULL = root */
  bool home_set; /* after init_conf_finish: an env line set HOME, so the user's home
                  * from /etc/passwd must not replace it */
  /* services only */
  init_restart restart;
  bool restart_set;
  init_strv depends; /* names of services started before it */
  int *depends_line; /* the line of each */
} init_proc;

typedef struct init_procv {
  init_proc *v;
  size_t n, cap;
} init_procv;

typedef enum init_mount_type {
  INIT_MOUNT_NONE = 0,
  INIT_MOUNT_TMPFS,
  INIT_MOUNT_VOLUME
} init_mount_type;

typedef struct init_mount {
  char *path;
  int line;
  init_mount_type type;
  unsigned long long size; /* tmpfs bytes; 0 = the kernel's default */
  int mode;                /* -1 = default (0755 for tmpfs, left alone for volumes) */
  char *volume;            /* volume name */
  const char *device;      /* after init_conf_finish: the volume's device (owned by volumes) */
} init_mount;

typedef struct init_mountv {
  init_mount *v;
  size_t n, cap;
} init_mountv;

/* `volume NAME DEVICE`: which block device holds a volume in this run. */
typedef struct init_volume {
  char *name;
  char *device;
} init_volume;

typedef struct init_volumev {
  init_volume *v;
  size_t n, cap;
} init_volumev;

typedef struct init_iface {
  char *name;
  int line;
  bool has_address, has_gateway;
  uint32_t address; /* network byte order */
  int prefix;       /* 0..32 */
  uint32_t gateway; /* network byte order */
  init_strv dns;    /* name server addresses as written (IPv4 or IPv6) */
} init_iface;

typedef struct init_ifacev {
  init_iface *v;
  size_t n, cap;
} init_ifacev;

typedef struct init_conf {
  char *hostname;      /* NULL: keep the kernel's */
  char *status_device; /* NULL: report on the console only */
  init_strv modules;   /* absolute .ko paths, in load order */
  init_strv env;       /* "NAME=VALUE" in file order, for every process; after
                        * init_conf_finish, the full environment of the main command */
  init_strv argv;      /* the main command; empty = none (services only) */
  init_strv sysctls;   /* "key=value", key as written (dots or slashes) */
  init_mountv mounts;
  init_volumev volumes;
  init_ifacev ifaces;
  init_procv onboot;
  init_procv services; /* after init_conf_finish, in start order */
  init_procv onshutdown;
  init_strv warnings; /* "file:line: problem" for lines of run.conf that were skipped */
} init_conf;

#define INIT_CONF_INIT                                                                             \
  { 0 }

/* Which file a text is: the build's init.conf rejects anything unknown, the launcher's
 * run.conf (maybe written by a newer launcher) skips it with a warning, and may not hold
 * the app's own blocks. */
typedef enum init_conf_kind { INIT_CONF_BUILD = 0, INIT_CONF_RUN } init_conf_kind;

/* Parses one file held in buf (len bytes, need not be NUL-terminated) into *out, which
 * must be empty. file is only used in messages ("file:line: problem"). On failure *out is
 * left empty. */
int init_conf_parse(init_conf *out, const char *file, init_conf_kind kind, const char *buf,
                    size_t len, init_error *err);

/* Lays run.conf over init.conf: its arg lines, if any, replace the whole argv; its env,
 * module and sysctl lines come after the earlier ones; its hostname and status-device
 * win; its volumes and interfaces replace those of the same name. over is left empty; on
 * failure base is unchanged. */
int init_conf_merge(init_conf *base, init_conf *over, init_error *err);

/* Checks the merged result (something to run, a device for every volume mount, services
 * that depend on existing services without a cycle), puts the services in start order
 * and gives every process its environment: the defaults (PATH, HOME, TERM) overridden by
 * the global env lines, then by the block's own. file names init.conf in messages. */
int init_conf_finish(init_conf *c, const char *file, init_error *err);

void init_conf_free(init_conf *c);

/* Turns a sysctl key ("net.ipv4.ip_forward", or with slashes when a part holds a dot)
 * into its file under /proc/sys. Fails for keys that would leave /proc/sys. */
int init_sysctl_path(const char *key, size_t key_len, char *out, size_t out_size);

/* List helpers shared by conf.c and confmerge.c. Push takes ownership of str, also on
 * failure; grow returns the moved array, or NULL with the old one intact. */
void init_strv_free(init_strv *s);
int init_strv_reserve(init_strv *s, size_t extra);
int init_strv_push(init_strv *s, char *str);
void *init_vec_grow(void *v, size_t *cap, size_t n, size_t elem);
void init_proc_free(init_proc *p);
void init_iface_free(init_iface *f);

/* Reads both files from disk, merges and finishes them. In conffile.c, not conf.c, so
 * that the parser stays free of I/O. */
int init_conf_load(init_conf *out, init_error *err);

#endif
