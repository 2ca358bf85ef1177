/* One container from a typed spec: namespaces, an image root entered with pivot_root,
 * mounts, masked and read-only paths, capabilities, user, limits, cgroup v2, devices and
 * LinuxKit's `runtime` section, then exec. Depends on libc and Linux UAPI headers only, so
 * coreinit (static, musl) and the host tools (glibc) share it. spec/container.md holds the
 * semantics and the order in which fields are applied. */
#ifndef CTR_CONTAINER_H
#define CTR_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The library's one error report: a fixed buffer, so reporting never needs memory (the
 * child reports through a pipe, and coreinit may be short of it). errnum is the errno of
 * the failed call (0: a problem of the spec or of the image's files); msg names the field
 * and the path, and ends with ": <strerror>" when errnum is set. */
typedef struct ctr_error {
  int errnum;
  char msg[512];
} ctr_error;

/* Fills *err and returns -1. */
__attribute__((format(printf, 3, 4))) int ctr_error_set(ctr_error *err, int errnum,
                                                        const char *fmt, ...);

/* Puts context in front of the message already in *err ("bind '/a:/b': " + it), keeping
 * errnum; returns -1. */
__attribute__((format(printf, 2, 3))) int ctr_error_prefix(ctr_error *err, const char *fmt, ...);

/* ---- namespaces ---- */

typedef enum ctr_ns_kind {
  CTR_NS_MNT = 0,
  CTR_NS_PID,
  CTR_NS_NET,
  CTR_NS_IPC,
  CTR_NS_UTS,
  CTR_NS_CGROUP,
  CTR_NS_COUNT
} ctr_ns_kind;

typedef enum ctr_ns_mode {
  CTR_NS_HOST = 0, /* stay in the caller's namespace (the zero value) */
  CTR_NS_NEW,      /* a new one */
  CTR_NS_PATH,     /* join the one at path (e.g. /proc/PID/ns/net or a bindNS file) */
} ctr_ns_mode;

typedef struct ctr_ns {
  ctr_ns_mode mode;
  const char *path; /* CTR_NS_PATH only */
} ctr_ns;

/* "mnt", "pid", "net", "ipc", "uts", "cgroup" */
const char *ctr_ns_name(ctr_ns_kind kind);

/* ---- mounts ---- */

/* A mount made inside the container before pivot_root. destination is inside the image
 * root; source of a bind is a path in the caller's root. options is LinuxKit's/OCI's list
 * joined by commas ("rbind,ro"): flag names (see ctr_mount_options_parse), the rest goes
 * to the file system as data ("mode=755,size=1m"). type "cgroup" means cgroup2. */
typedef struct ctr_mount {
  const char *type; /* bind, proc, sysfs, tmpfs, cgroup, cgroup2, mqueue, devpts, ... */
  const char *source;
  const char *destination;
  const char *options; /* NULL: none */
} ctr_mount;

/* What a mount option list means to mount(2). */
typedef struct ctr_mount_opts {
  unsigned long flags;       /* MS_RDONLY, MS_NOSUID, ..., MS_BIND, MS_REC */
  unsigned long propagation; /* MS_PRIVATE, MS_SHARED, ... | MS_REC; 0: none */
  bool bind;                 /* bind or rbind given */
  char data[256];            /* the file system's own options, comma-separated */
} ctr_mount_opts;

/* Parses a comma-separated option list for a mount of the given type. A bind takes flags
 * only: any other word is an error; for other types unknown words go to data. */
int ctr_mount_options_parse(const char *type, const char *options, ctr_mount_opts *out,
                            ctr_error *err);

/* Splits LinuxKit's bind form "src:dst[:opt,opt]" into *out (type "bind"; the default
 * options are "rbind"; LinuxKit's defaults). The strings point into buf. */
int ctr_bind_parse(const char *text, ctr_mount *out, char *buf, size_t bufsize, ctr_error *err);

/* Splits the tmpfs shortcut "dst[:opt,opt]" ("/run:size=10m,mode=755,noexec") into *out
 * (type and source "tmpfs"). The strings point into buf. */
int ctr_tmpfs_parse(const char *text, ctr_mount *out, char *buf, size_t bufsize, ctr_error *err);

/* A device node made in the container: mknod (type 'c' or 'b'), or, with bind_from set, a
 * bind of that node of the caller's /dev. */
typedef struct ctr_device {
  const char *path; /* inside the container, e.g. /dev/fuse */
  char type;        /* 'c' or 'b' (mknod only) */
  unsigned major, minor;
  unsigned mode; /* permission bits; 0: 0666 */
  uint32_t uid, gid;
  const char *bind_from; /* NULL: mknod */
} ctr_device;

/* ---- capabilities ---- */

/* Bit n of a mask is capability n (CAP_CHOWN = 0, ...). */
typedef struct ctr_caps {
  uint64_t bounding, effective, permitted, inheritable, ambient;
} ctr_caps;

/* Every capability this library knows by name. */
uint64_t ctr_caps_all(void);
/* Docker's (and LinuxKit's) default set for a container that names none. */
uint64_t ctr_caps_default(void);
/* "CAP_SYS_ADMIN", case-insensitive, "CAP_" optional; -1 and a message when unknown. */
int ctr_cap_parse(const char *name, int *cap, ctr_error *err);
/* The name of capability cap ("CAP_SYS_ADMIN"); NULL when unknown. */
const char *ctr_cap_name(int cap);
/* LinuxKit's list form: ORs each name (or "all") into *mask. For `capabilities` start from
 * 0; for an addition (capabilities.add) start from the set being added to. */
int ctr_caps_parse(const char *const *names, size_t n, uint64_t *mask, ctr_error *err);
/* Sets all five sets to mask, as LinuxKit does for its one list. */
void ctr_caps_set_all(ctr_caps *caps, uint64_t mask);

/* ---- user ---- */

/* A uid or gid: a name looked up in the image's /etc/passwd or /etc/group, or a number. */
typedef struct ctr_id {
  const char *name; /* non-NULL: look it up */
  uint32_t id;      /* otherwise this number */
} ctr_id;

/* Bounds on the image's files: a hostile image gets an error, never unbounded work. */
#define CTR_ID_FILE_MAX (1u << 20)
#define CTR_ID_LINE_MAX 4096

/* Finds name in the text of an /etc/passwd (uid, and primary gid) or /etc/group (gid).
 * Returns 1 when found, 0 when not; -1 with a message naming the line for a line that is
 * too long, or whose matching entry has a missing field or a bad number. */
int ctr_passwd_find(const char *text, size_t len, const char *name, uint32_t *uid, uint32_t *gid,
                    ctr_error *err);
int ctr_group_find(const char *text, size_t len, const char *name, uint32_t *gid, ctr_error *err);

/* ---- limits ---- */

typedef struct ctr_rlimit {
  int resource; /* RLIMIT_* */
  uint64_t soft, hard; /* RLIM_INFINITY for unlimited */
} ctr_rlimit;

/* "RLIMIT_NOFILE" (case-insensitive, "RLIMIT_" optional) -> RLIMIT_NOFILE. */
int ctr_rlimit_name_parse(const char *name, int *resource, ctr_error *err);
/* LinuxKit's form "RLIMIT_NOFILE,soft,hard"; a value may be "unlimited" or "infinity". */
int ctr_rlimit_parse(const char *text, ctr_rlimit *out, ctr_error *err);

typedef struct ctr_sysctl {
  const char *key; /* "net.ipv4.ip_forward" (dots or slashes) */
  const char *value;
} ctr_sysctl;

/* cgroup v2 limits; 0 leaves a limit alone, CTR_LIMIT_MAX writes "max". */
#define CTR_LIMIT_MAX (-1LL)
typedef struct ctr_resources {
  long long memory_max;    /* bytes -> memory.max */
  long long pids_max;      /* -> pids.max */
  long long cpu_quota;     /* microseconds per period -> cpu.max; CTR_LIMIT_MAX: "max" */
  long long cpu_period;    /* microseconds; 0: 100000 */
  unsigned long cpu_weight; /* 1..10000 -> cpu.weight */
} ctr_resources;

/* ---- LinuxKit's runtime section ---- */

/* Without add: the caller's interface name is moved into the container. With add (a link
 * kind: "veth", "dummy", "bridge", ...): a new interface name is created in the container's
 * namespace; a veth's peer (required) stays in the caller's. create_in_root creates it in
 * the caller's namespace first and then moves it (LinuxKit's createInRoot). */
typedef struct ctr_iface {
  const char *name;
  const char *new_name; /* its name in the container; NULL: name */
  const char *add;
  const char *peer;
  bool create_in_root;
} ctr_iface;

typedef struct ctr_runtime {
  const char *const *mkdir;   /* NULL-terminated; made (with parents) in the caller's root */
  const char *const *cgroups; /* NULL-terminated; made under the cgroup root */
  const ctr_iface *interfaces; /* moved into the container's network namespace */
  size_t n_interfaces;
  const char *bind_ns[CTR_NS_COUNT]; /* bindNS: the container's namespace file bound here */
  const char *namespace_path; /* the network namespace bound here too (LinuxKit's namespace) */
} ctr_runtime;

/* ---- the spec ---- */

/* Runs in the child first, before any other setup (e.g. stdio, setsid, a terminal).
 * Returns -1 with err filled to stop the start. */
typedef int (*ctr_child_hook)(void *arg, ctr_error *err);

typedef struct ctr_spec {
  char *const *argv; /* required; argv[0] is searched in PATH of env when it has no '/' */
  char *const *env;  /* the full environment, NULL-terminated; NULL: an empty one */
  const char *cwd;   /* NULL: / */

  ctr_ns ns[CTR_NS_COUNT];
  const char *hostname; /* needs a new uts namespace */

  const char *root;                /* the image root directory; NULL: no pivot_root */
  bool readonly;                   /* the root mounted read-only */
  unsigned long root_propagation;  /* rootfsPropagation; 0: MS_PRIVATE | MS_REC */
  const ctr_mount *mounts;         /* binds, mounts and tmpfs, in this order */
  size_t n_mounts;
  const ctr_device *devices;
  size_t n_devices;
  const char *const *masked_paths;   /* NULL-terminated */
  const char *const *readonly_paths; /* NULL-terminated */

  bool caps_set; /* false: keep the caller's capabilities */
  ctr_caps caps;
  bool no_new_privileges;
  ctr_id uid, gid;
  const ctr_id *additional_gids;
  size_t n_additional_gids;

  const ctr_sysctl *sysctls;
  size_t n_sysctls;
  const ctr_rlimit *rlimits;
  size_t n_rlimits;
  bool oom_score_adj_set;
  int oom_score_adj;

  const char *cgroup_root;  /* where cgroup2 is mounted; NULL: /sys/fs/cgroup */
  const char *cgroups_path; /* relative to cgroup_root; NULL: stay in the caller's cgroup */
  ctr_resources resources;  /* needs cgroups_path */

  ctr_runtime runtime;

  /* Descriptors 0-2 and 3 .. 3+pass_fds-1 are passed to the entry; every other one the
   * caller left open is closed at the exec. */
  unsigned pass_fds;

  ctr_child_hook child_hook;
  void *child_hook_arg;
} ctr_spec;

/* Checks the spec without starting anything: every field's form, and that combinations
 * make sense (a hostname needs a new uts namespace, ...). ctr_spawn calls it first. */
int ctr_spec_check(const ctr_spec *spec, ctr_error *err);

/* Starts the container: the child is made with the new namespaces (with a new pid
 * namespace it is pid 1 there), set up, and execs argv. Returns 0 once the exec has
 * happened, with *pid the child's pid (the caller waits for it); -1 when any step failed,
 * the child then reaped and err naming the field and path. Not thread-safe when the pid
 * namespace is a path (the caller's thread joins it for the clone). */
int ctr_spawn(const ctr_spec *spec, pid_t *pid, ctr_error *err);

/* The same setup applied to the calling process, which then execs argv: for a caller that
 * has forked already. A new pid namespace is refused (a process cannot enter one itself).
 * Returns only on failure, leaving the process part-way set up: the caller should _exit. */
int ctr_exec(const ctr_spec *spec, ctr_error *err);

#endif
