/* ctr_spec_check: every field's form and the combinations that make sense, checked in the
 * caller before anything is created, so a bad spec fails with the field's name and never
 * half-starts a container. */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "internal.h"

static const char *const ctr_ns_names[CTR_NS_COUNT] = {"mnt", "pid", "net", "ipc", "uts", "cgroup"};

const char *ctr_ns_name(ctr_ns_kind kind) {
  return kind < CTR_NS_COUNT ? ctr_ns_names[kind] : "?";
}

static int ctr_id_check(const char *field, const ctr_id *id, ctr_error *err) {
  if (!id->name) {
    if (id->id == UINT32_MAX) return ctr_error_set(err, 0, "%s: 4294967295 is not an id", field);
    return 0;
  }
  if (!id->name[0] || strpbrk(id->name, ":\n") || strlen(id->name) > 256)
    return ctr_error_set(err, 0, "%s: '%.64s' is not a user or group name", field, id->name);
  return 0;
}

/* Which namespace a sysctl belongs to, by the kernel's list of namespaced keys; -1: none,
 * and then it would change the whole machine. */
static int ctr_sysctl_ns(const char *key) {
  if (strncmp(key, "net.", 4) == 0 || strncmp(key, "net/", 4) == 0) return CTR_NS_NET;
  static const char *const ipc[] = {"kernel.shmmax", "kernel.shmall", "kernel.shmmni",
                                    "kernel.shm_rmid_forced", "kernel.msgmax", "kernel.msgmni",
                                    "kernel.msgmnb", "kernel.sem", "kernel.auto_msgmni"};
  char dotted[256];
  size_t len = strlen(key);
  if (len >= sizeof dotted) return -1;
  for (size_t i = 0; i <= len; i++) dotted[i] = key[i] == '/' ? '.' : key[i];
  for (size_t i = 0; i < sizeof ipc / sizeof ipc[0]; i++)
    if (strcmp(dotted, ipc[i]) == 0) return CTR_NS_IPC;
  if (strncmp(dotted, "fs.mqueue.", 10) == 0) return CTR_NS_IPC;
  if (strcmp(dotted, "kernel.hostname") == 0 || strcmp(dotted, "kernel.domainname") == 0)
    return CTR_NS_UTS;
  return -1;
}

static int ctr_sysctl_check(const ctr_spec *spec, const ctr_sysctl *s, ctr_error *err) {
  const char *k = s->key;
  if (!k || !k[0] || !s->value || k[0] == '/' || k[0] == '.' || strstr(k, "..") ||
      strlen(k) > 200 || strpbrk(k, " \n"))
    return ctr_error_set(err, 0, "sysctl '%.64s': not a sysctl name", k ? k : "");
  int ns = ctr_sysctl_ns(k);
  if (ns < 0)
    return ctr_error_set(err, 0, "sysctl '%s': not in any namespace of a container (it would "
                                 "change the whole system)", k);
  if (spec->ns[ns].mode == CTR_NS_HOST)
    return ctr_error_set(err, 0, "sysctl '%s': needs the container's own %s namespace", k,
                         ctr_ns_name((ctr_ns_kind)ns));
  return 0;
}

int ctr_spec_check(const ctr_spec *spec, ctr_error *err) {
  if (!spec->argv || !spec->argv[0] || !spec->argv[0][0])
    return ctr_error_set(err, 0, "no command (argv is empty)");
  for (int k = 0; k < CTR_NS_COUNT; k++) {
    const ctr_ns *ns = &spec->ns[k];
    if (ns->mode == CTR_NS_PATH && (!ns->path || ns->path[0] != '/'))
      return ctr_error_set(err, 0, "namespaces.%s: a namespace to join needs an absolute path",
                           ctr_ns_names[k]);
    if (ns->mode > CTR_NS_PATH)
      return ctr_error_set(err, 0, "namespaces.%s: unknown mode %d", ctr_ns_names[k], ns->mode);
  }
  bool fs = spec->root || spec->readonly || spec->n_mounts || spec->n_devices ||
            (spec->masked_paths && spec->masked_paths[0]) ||
            (spec->readonly_paths && spec->readonly_paths[0]) || spec->root_propagation;
  if (fs && spec->ns[CTR_NS_MNT].mode != CTR_NS_NEW)
    return ctr_error_set(err, 0, "the root, mounts, devices and masked or read-only paths need a "
                                 "new mount namespace (namespaces.mnt: new)");
  if (spec->root) {
    struct stat st;
    if (stat(spec->root, &st) < 0) return ctr_error_set(err, errno, "root '%s'", spec->root);
    if (!S_ISDIR(st.st_mode)) return ctr_error_set(err, ENOTDIR, "root '%s'", spec->root);
  }
  for (size_t i = 0; i < spec->n_mounts; i++) {
    const ctr_mount *m = &spec->mounts[i];
    ctr_mount_opts o;
    const char *type = m->type ? m->type : "bind";
    if (!m->destination || m->destination[0] != '/')
      return ctr_error_set(err, 0, "mount '%s' on '%s': the destination must be an absolute path",
                           type, m->destination ? m->destination : "");
    if (ctr_mount_options_parse(type, m->options, &o, err) < 0)
      return ctr_error_prefix(err, "mount '%s' on '%s'", type, m->destination);
    if (o.bind && (!m->source || m->source[0] != '/'))
      return ctr_error_set(err, 0, "bind to '%s': the source must be an absolute path",
                           m->destination);
  }
  for (size_t i = 0; i < spec->n_devices; i++) {
    const ctr_device *d = &spec->devices[i];
    if (!d->path || d->path[0] != '/')
      return ctr_error_set(err, 0, "devices[%zu]: the path must be absolute", i);
    if (!d->bind_from && d->type != 'c' && d->type != 'b')
      return ctr_error_set(err, 0, "device '%s': type must be 'c' or 'b'", d->path);
  }
  if (spec->hostname) {
    if (spec->ns[CTR_NS_UTS].mode != CTR_NS_NEW)
      return ctr_error_set(err, 0, "hostname '%.64s': needs a new uts namespace", spec->hostname);
    if (!spec->hostname[0] || strlen(spec->hostname) > 64)
      return ctr_error_set(err, 0, "hostname '%.64s': must be 1 to 64 bytes", spec->hostname);
  }
  if (spec->caps_set) {
    const ctr_caps *c = &spec->caps;
    if (c->effective & ~c->permitted)
      return ctr_error_set(err, 0, "capabilities: the effective set must be within the permitted");
    if (c->ambient & ~(c->permitted & c->inheritable))
      return ctr_error_set(err, 0, "capabilities: the ambient set must be within the permitted "
                                   "and inheritable ones");
  }
  if (ctr_id_check("uid", &spec->uid, err) < 0 || ctr_id_check("gid", &spec->gid, err) < 0)
    return -1;
  if (spec->n_additional_gids > CTR_GROUPS_MAX)
    return ctr_error_set(err, 0, "additionalGids: more than %d", CTR_GROUPS_MAX);
  for (size_t i = 0; i < spec->n_additional_gids; i++)
    if (ctr_id_check("additionalGids", &spec->additional_gids[i], err) < 0) return -1;
  for (size_t i = 0; i < spec->n_sysctls; i++)
    if (ctr_sysctl_check(spec, &spec->sysctls[i], err) < 0) return -1;
  for (size_t i = 0; i < spec->n_rlimits; i++) {
    const ctr_rlimit *r = &spec->rlimits[i];
    if (r->resource < 0 || r->resource >= RLIMIT_NLIMITS || r->soft > r->hard)
      return ctr_error_set(err, 0, "rlimits[%zu]: unknown resource or soft limit above hard", i);
  }
  if (spec->oom_score_adj_set && (spec->oom_score_adj < -1000 || spec->oom_score_adj > 1000))
    return ctr_error_set(err, 0, "oomScoreAdj %d: must be within -1000..1000", spec->oom_score_adj);
  const ctr_resources *r = &spec->resources;
  bool limits = r->memory_max || r->pids_max || r->cpu_quota || r->cpu_weight;
  if (limits && !spec->cgroups_path)
    return ctr_error_set(err, 0, "resources: need a cgroupsPath to apply them to");
  if (spec->cgroups_path && (strstr(spec->cgroups_path, "..") || !spec->cgroups_path[0]))
    return ctr_error_set(err, 0, "cgroupsPath '%s': must not be empty or contain '..'",
                         spec->cgroups_path);
  if ((r->memory_max < 0 && r->memory_max != CTR_LIMIT_MAX) ||
      (r->pids_max < 0 && r->pids_max != CTR_LIMIT_MAX) ||
      (r->cpu_quota < 0 && r->cpu_quota != CTR_LIMIT_MAX) || r->cpu_period < 0)
    return ctr_error_set(err, 0, "resources: negative limit");
  if (r->cpu_weight > 10000)
    return ctr_error_set(err, 0, "resources.cpu.weight %lu: must be within 1..10000", r->cpu_weight);
  for (const char *const *c = spec->runtime.cgroups; c && *c; c++)
    if (!(*c)[0] || strstr(*c, ".."))
      return ctr_error_set(err, 0, "runtime.cgroups '%s': must not be empty or contain '..'", *c);
  for (const char *const *d = spec->runtime.mkdir; d && *d; d++)
    if ((*d)[0] != '/') return ctr_error_set(err, 0, "runtime.mkdir '%s': not an absolute path", *d);
  if (spec->runtime.n_interfaces && spec->ns[CTR_NS_NET].mode == CTR_NS_HOST)
    return ctr_error_set(err, 0, "runtime.interfaces: need the container's own network namespace");
  for (size_t i = 0; i < spec->runtime.n_interfaces; i++)
    if (!spec->runtime.interfaces[i].name || !spec->runtime.interfaces[i].name[0])
      return ctr_error_set(err, 0, "runtime.interfaces[%zu]: no name", i);
  for (int k = 0; k < CTR_NS_COUNT; k++)
    if (spec->runtime.bind_ns[k] && spec->runtime.bind_ns[k][0] != '/')
      return ctr_error_set(err, 0, "runtime.bindNS.%s '%s': not an absolute path", ctr_ns_names[k],
                           spec->runtime.bind_ns[k]);
  if (spec->runtime.namespace_path && spec->runtime.namespace_path[0] != '/')
    return ctr_error_set(err, 0, "runtime.namespace '%s': not an absolute path",
                         spec->runtime.namespace_path);
  return 0;
}
