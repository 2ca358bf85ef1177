/* The checked app description: what `corec check` produces from app.yml and the
 * planner consumes. Plain data; every value keeps the position it came from.
 * spec/app.yml.md is the reference of the language this holds. */
#ifndef CORE_APP_CONFIG_H
#define CORE_APP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"

typedef struct core_pos {
  const char *file; /* owned by the app_config (files[]) or the document it came from */
  int line;         /* 1-based */
  int col;          /* 1-based */
} core_pos;

/* Where bytes come from. A plain string in app.yml is a local path, or a URL when it
 * starts with https:// or http://; the other kinds are written as one-key mappings:
 *   {file: PATH} {url: URL, sha256: HEX} {git: URL, commit: SHA | ref: NAME, path: SUBDIR}
 *   {oci: REFERENCE} {deb: PACKAGE, version: VERSION}                                      */
typedef enum core_source_kind {
  CORE_SOURCE_FILE = 0, /* a local file or directory */
  CORE_SOURCE_URL,      /* an http(s) download, pinned by sha256 */
  CORE_SOURCE_GIT,      /* a tree of a git repository at a commit */
  CORE_SOURCE_OCI,      /* an OCI/Docker image (registry, layout directory or archive) */
  CORE_SOURCE_DEB,      /* a Debian package by name, resolved through the host's apt */
} core_source_kind;

typedef struct core_source {
  core_source_kind kind;
  char *path;     /* FILE: as written; GIT: subdirectory of the tree ("" = all) */
  char *resolved; /* FILE: path joined to the directory of the file that names it */
  char *url;      /* URL, GIT */
  char *sha256;   /* URL: "sha256:<hex>" pin, NULL when not given */
  char *commit;   /* GIT: full or abbreviated commit, NULL when ref is used */
  char *ref;      /* GIT: branch or tag to resolve and pin in the lock file */
  char *image;    /* OCI: reference as written (name[:tag][@sha256:...]) */
  char *package;  /* DEB */
  char *version;  /* DEB: NULL = the candidate version */
  core_pos pos;
} core_source;

typedef struct core_layer {
  core_source source; /* a .deb (its data archive), an archive, a directory, an image */
  char *dest;         /* directory in the root the layer is placed under; "" = the root */
  core_pos pos;
} core_layer;

typedef struct core_module_ref {
  char *name; /* module name as `modprobe` takes it ("virtio_net") */
  core_pos pos;
} core_module_ref;

typedef struct core_env_var {
  char *name;
  char *value;
  core_pos pos;
} core_env_var;

typedef enum core_file_type {
  CORE_FILE_CONTENTS = 0, /* contents: inline text */
  CORE_FILE_SOURCE,       /* source: bytes from a source */
  CORE_FILE_DIRECTORY,    /* directory: true */
  CORE_FILE_SYMLINK,      /* symlink: target */
} core_file_type;

typedef struct core_file {
  char *path; /* absolute in the guest, normalised, never escaping the root */
  core_file_type type;
  char *contents;
  size_t contents_len;
  core_source source;
  char *target;  /* symlink target as written */
  int mode;      /* -1 = default (0644 files, 0755 directories) */
  uint32_t uid, gid;
  bool optional; /* a missing source is skipped instead of failing */
  core_pos pos;
} core_file;

typedef struct core_command {
  char **argv; /* NULL-terminated; a string becomes {"/bin/sh", "-c", string} */
  size_t argc;
  core_pos pos;
} core_command;

/* One onboot or onshutdown step: runs to completion, must exit 0. */
typedef struct core_step {
  char *name; /* default "onboot-N" / "onshutdown-N" */
  core_command run;
  char *root; /* directory to chroot into before running (an image's own root); NULL = / */
  core_env_var *env;
  size_t n_env;
  core_pos pos;
} core_step;

typedef enum core_restart { CORE_RESTART_ALWAYS = 0, CORE_RESTART_ON_FAILURE, CORE_RESTART_NEVER } core_restart;

typedef struct core_service {
  char *name; /* unique among services and steps: [a-z0-9][a-z0-9-]{0,62} */
  core_command run;
  char *root;           /* directory to chroot into (an image's own root); NULL = / */
  core_restart restart; /* default always */
  core_env_var *env;
  size_t n_env;
  char *cwd;            /* default "/" */
  char *user;           /* a name from users/passwd, or "UID[:GID]"; NULL = root */
  char **depends_on;    /* services started before this one */
  core_pos *depends_pos;
  size_t n_depends;
  core_pos pos;
} core_service;

typedef enum core_mount_type { CORE_MOUNT_TMPFS = 0, CORE_MOUNT_VOLUME } core_mount_type;

typedef struct core_mount {
  char *path; /* absolute guest path */
  core_mount_type type;
  uint64_t size_bytes; /* tmpfs; 0 = the kernel's default (half of memory) */
  char *volume;        /* volume name the launcher binds */
  int mode;            /* -1 = default 0755 */
  core_pos pos;
} core_mount;

typedef struct core_port {
  uint16_t host;  /* 0 = same as guest */
  uint16_t guest;
  char *protocol; /* "tcp" or "udp" */
  core_pos pos;
} core_port;

typedef enum core_net_mode { CORE_NET_NONE = 0, CORE_NET_USER } core_net_mode;

typedef struct core_user {
  char *name;
  uint32_t uid, gid; /* gid defaults to the group of the same name, else uid */
  char *home;        /* default /home/NAME (/root for uid 0) */
  char *shell;       /* default /bin/sh */
  core_pos pos;
} core_user;

typedef struct core_group {
  char *name;
  uint32_t gid;
  char **members;
  size_t n_members;
  core_pos pos;
} core_group;

typedef struct core_sysctl {
  char *key;   /* "net.ipv4.ip_forward" */
  char *value;
  core_pos pos;
} core_sysctl;

/* A file the config was made from, and the digest of exactly the bytes that were parsed. */
typedef struct core_app_input {
  char *name; /* as read: app.yml as given, an include joined to its includer's directory */
  core_digest digest;
} core_app_input;

typedef struct core_app_config {
  char *file;       /* the app.yml path as given */
  char *dir;        /* its directory: the lock file goes there */
  char **inputs;    /* every file the config came from (includes): positions point at these */
  size_t n_inputs;
  char **vars;      /* the --var NAME=VALUE it was loaded with, as given (provenance: spec/sbom.md) */
  size_t n_vars;
  core_app_input *loaded; /* every file read to make it (app.yml, its includes), in load order */
  size_t n_loaded;

  char *name;       /* [a-z0-9][a-z0-9._-]{0,62} */
  core_pos name_pos;
  char *version;    /* free-form, NULL when absent */

  core_source kernel;       /* a kernel .deb (vmlinuz + modules) or a bzImage file */
  char *cmdline;            /* extra kernel command line, "" when absent */
  core_module_ref *modules; /* to load at boot, in this order (dependencies added by the linker) */
  size_t n_modules;

  core_layer *layers; /* merged in order: later layers win */
  size_t n_layers;

  core_file *files; /* applied after the layers, in order */
  size_t n_files;

  core_step *onboot;
  size_t n_onboot;
  core_step *onshutdown;
  size_t n_onshutdown;
  core_service *services;
  size_t n_services;

  char **main_argv; /* NULL-terminated, NULL when there is no main (services only) */
  size_t main_argc;
  core_pos main_pos;

  core_env_var *env; /* for every process the guest starts */
  size_t n_env;
  char *hostname;    /* default: name */
  core_sysctl *sysctls;
  size_t n_sysctls;
  core_mount *mounts;
  size_t n_mounts;

  uint64_t memory_bytes; /* default 256 MiB */
  unsigned cpus;         /* default 1 */

  core_net_mode net_mode; /* default: user when ports are published, else none */
  core_port *ports;
  size_t n_ports;

  core_user *users;
  size_t n_users;
  core_group *groups;
  size_t n_groups;
} core_app_config;

/* What app.yml wrote for a source (its path, URL, image or package), to name it in progress,
 * messages and the SBOM: never a path the build made up. */
const char *core_source_label(const core_source *s);

void core_app_config_free(core_app_config *cfg);
static inline void core_app_config_freep(core_app_config **cfg) {
  core_app_config_free(*cfg);
  *cfg = NULL;
}
#define cleanup_app_config __attribute__((cleanup(core_app_config_freep)))

#endif
