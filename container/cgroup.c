/* The container's cgroup v2: made under the cgroup root with the controllers its limits
 * need enabled on the way down, the limits written, and the child moved in before it
 * makes its cgroup namespace (so that namespace is rooted at its own cgroup). Runs in the
 * caller: a child that could write its own limits could also lift them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static const char *ctr_cgroup_root(const ctr_spec *spec) {
  return spec->cgroup_root ? spec->cgroup_root : "/sys/fs/cgroup";
}

/* Writes "+controller" to each cgroup.subtree_control from the root down to the parent of
 * the container's cgroup: a controller's files appear in a cgroup only then. */
static int ctr_controller_enable(const char *root, const char *rel, const char *controller,
                                 const char *field, ctr_error *err) {
  char text[64];
  snprintf(text, sizeof text, "+%s", controller);
  /* The root itself, then rel[0..i) for each '/' in rel: every ancestor of the cgroup. */
  for (size_t i = 0;; i++) {
    bool ancestor = i == 0 || rel[i] == '/';
    if (ancestor) {
      char sub[CTR_PATH_MAX], dir[CTR_PATH_MAX], path[CTR_PATH_MAX];
      snprintf(sub, sizeof sub, "%.*s", (int)i, rel);
      if (ctr_path_join(dir, sizeof dir, root, sub, err) < 0 ||
          ctr_path_join(path, sizeof path, dir, "cgroup.subtree_control", err) < 0)
        return -1;
      if (ctr_write_file(path, text, err) < 0)
        return ctr_error_prefix(err,
                                "%s: enabling the cgroup controller '%s' (is it listed in "
                                "cgroup.controllers?)",
                                field, controller);
    }
    if (rel[i] == '\0') break;
  }
  return 0;
}

static int ctr_limit_write(const char *dir, const char *file, const char *value,
                           const char *field, ctr_error *err) {
  char path[CTR_PATH_MAX];
  if (ctr_path_join(path, sizeof path, dir, file, err) < 0) return -1;
  if (ctr_write_file(path, value, err) < 0) return ctr_error_prefix(err, "%s", field);
  return 0;
}

static void ctr_limit_text(char *out, size_t size, long long v) {
  if (v == CTR_LIMIT_MAX)
    snprintf(out, size, "max");
  else
    snprintf(out, size, "%lld", v);
}

int ctr_cgroup_create(const ctr_spec *spec, ctr_error *err) {
  if (!spec->cgroups_path) return 0;
  const char *root = ctr_cgroup_root(spec);
  const char *rel = spec->cgroups_path;
  while (*rel == '/') rel++;
  char dir[CTR_PATH_MAX];
  if (ctr_path_join(dir, sizeof dir, root, rel, err) < 0) return -1;
  if (ctr_mkdir_p(dir, 0755, err) < 0)
    return ctr_error_prefix(err, "cgroupsPath '%s'", spec->cgroups_path);
  const ctr_resources *r = &spec->resources;
  char v[64];
  if (r->memory_max) {
    if (ctr_controller_enable(root, rel, "memory", "resources.memory", err) < 0) return -1;
    ctr_limit_text(v, sizeof v, r->memory_max);
    if (ctr_limit_write(dir, "memory.max", v, "resources.memory", err) < 0) return -1;
  }
  if (r->pids_max) {
    if (ctr_controller_enable(root, rel, "pids", "resources.pids", err) < 0) return -1;
    ctr_limit_text(v, sizeof v, r->pids_max);
    if (ctr_limit_write(dir, "pids.max", v, "resources.pids", err) < 0) return -1;
  }
  if (r->cpu_quota || r->cpu_weight) {
    if (ctr_controller_enable(root, rel, "cpu", "resources.cpu", err) < 0) return -1;
  }
  if (r->cpu_quota) {
    char q[32];
    ctr_limit_text(q, sizeof q, r->cpu_quota);
    snprintf(v, sizeof v, "%s %lld", q, r->cpu_period ? r->cpu_period : 100000);
    if (ctr_limit_write(dir, "cpu.max", v, "resources.cpu.max", err) < 0) return -1;
  }
  if (r->cpu_weight) {
    snprintf(v, sizeof v, "%lu", r->cpu_weight);
    if (ctr_limit_write(dir, "cpu.weight", v, "resources.cpu.weight", err) < 0) return -1;
  }
  return 0;
}

int ctr_cgroup_enter(const ctr_spec *spec, pid_t pid, ctr_error *err) {
  if (!spec->cgroups_path) return 0;
  char dir[CTR_PATH_MAX], v[32];
  if (ctr_path_join(dir, sizeof dir, ctr_cgroup_root(spec), spec->cgroups_path, err) < 0)
    return -1;
  snprintf(v, sizeof v, "%ld", (long)pid);
  return ctr_limit_write(dir, "cgroup.procs", v, "cgroupsPath", err);
}

int ctr_runtime_cgroups(const ctr_spec *spec, ctr_error *err) {
  for (const char *const *c = spec->runtime.cgroups; c && *c; c++) {
    char dir[CTR_PATH_MAX];
    if (ctr_path_join(dir, sizeof dir, ctr_cgroup_root(spec), *c, err) < 0) return -1;
    if (ctr_mkdir_p(dir, 0755, err) < 0) return ctr_error_prefix(err, "runtime.cgroups '%s'", *c);
  }
  return 0;
}
