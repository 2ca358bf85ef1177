/* What the files of the library share and callers do not see. */
#ifndef CTR_INTERNAL_H
#define CTR_INTERNAL_H

#include "container.h"

#define CTR_PATH_MAX 4096

/* Writes the whole of text to path (opened without creating it). */
int ctr_write_file(const char *path, const char *text, ctr_error *err);
/* mkdir -p; mode for each directory made. */
int ctr_mkdir_p(const char *path, unsigned mode, ctr_error *err);
/* Joins a and b into out with one '/' between them; -1 when it does not fit. */
int ctr_path_join(char *out, size_t size, const char *a, const char *b, ctr_error *err);

/* cgroup.c: the container's cgroup (made, limited) and runtime.cgroups, in the caller. */
int ctr_cgroup_create(const ctr_spec *spec, ctr_error *err);
int ctr_cgroup_enter(const ctr_spec *spec, pid_t pid, ctr_error *err);
int ctr_runtime_cgroups(const ctr_spec *spec, ctr_error *err);

/* netlink.c: gives the network namespace of pid the interface in (moved, or created). */
int ctr_iface_setup(const ctr_iface *in, pid_t pid, ctr_error *err);

/* fs.c: in the child, the mounts, devices, masked and read-only paths, pivot_root and the
 * read-only root. */
int ctr_fs_setup(const ctr_spec *spec, ctr_error *err);

/* user.c: in the child after pivot_root, resolves the ids in the image's files. */
typedef struct ctr_ids {
  uint32_t uid, gid;
  uint32_t groups[64];
  size_t n_groups;
} ctr_ids;
#define CTR_GROUPS_MAX 64
int ctr_ids_resolve(const ctr_spec *spec, ctr_ids *ids, ctr_error *err);
/* Bounding set, user switch, capability sets and ambient ones, in the order that works. */
int ctr_identity_apply(const ctr_spec *spec, const ctr_ids *ids, ctr_error *err);

#endif
