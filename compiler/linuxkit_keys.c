/* LinuxKit's image schema, key by key (src/cmd/linuxkit/moby/schema.go upstream): what core
 * lowers, what it refuses and why, and the report for keys LinuxKit does not know either. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check_util.h"
#include "linuxkit_internal.h"

#define PRIVS "core runs a service as root with the guest's capabilities; it cannot change them yet"
#define MOUNTS "core runs a container as a chroot into its image's files and cannot set up its mounts yet"
#define NS "core runs every process in the guest's own namespaces"
#define LIMITS "core does not set per-container limits yet"

const lk_key lk_top_keys[] = {
    {"kernel", LK_LOWER, NULL},
    {"init", LK_LOWER, NULL},
    {"onboot", LK_LOWER, NULL},
    {"onshutdown", LK_LOWER, NULL},
    {"services", LK_LOWER, NULL},
    {"files", LK_LOWER, NULL},
    {"trust", LK_IGNORED,
     "LinuxKit itself no longer verifies images (Docker Content Trust was removed in 2021); core signs the "
     "artifact it builds, and an image pinned by '@sha256:' digest cannot change"},
    {"volumes", LK_UNSUPPORTED, "core cannot create LinuxKit's named volumes yet, nor bind them into services"},
    {NULL, LK_LOWER, NULL},
};

const lk_key lk_kernel_keys[] = {
    {"image", LK_LOWER, NULL},
    {"cmdline", LK_LOWER, NULL},
    /* binary and tar are checked by value: the defaults are what core reads anyway. */
    {"binary", LK_LOWER, NULL},
    {"tar", LK_LOWER, NULL},
    {"ucode", LK_UNSUPPORTED, "core cannot prepend CPU microcode to the initramfs yet"},
    {NULL, LK_LOWER, NULL},
};

const lk_key lk_image_keys[] = {
    {"name", LK_LOWER, NULL},
    {"image", LK_LOWER, NULL},
    {"command", LK_LOWER, NULL},
    {"env", LK_LOWER, NULL},
    {"cwd", LK_LOWER, NULL},
    {"uid", LK_LOWER, NULL},
    {"gid", LK_LOWER, NULL},
    /* The namespaces are checked by value: "host" and "root" are what core does. */
    {"net", LK_LOWER, NULL},
    {"pid", LK_LOWER, NULL},
    {"ipc", LK_LOWER, NULL},
    {"uts", LK_LOWER, NULL},
    {"capabilities", LK_UNSUPPORTED, PRIVS},
    {"capabilities.add", LK_UNSUPPORTED, PRIVS},
    {"ambient", LK_UNSUPPORTED, PRIVS},
    {"noNewPrivileges", LK_UNSUPPORTED, PRIVS},
    {"mounts", LK_UNSUPPORTED, MOUNTS},
    {"binds", LK_UNSUPPORTED, MOUNTS},
    {"binds.add", LK_UNSUPPORTED, MOUNTS},
    {"tmpfs", LK_UNSUPPORTED, MOUNTS},
    {"devices", LK_UNSUPPORTED, MOUNTS},
    {"readonly", LK_UNSUPPORTED, MOUNTS},
    {"maskedPaths", LK_UNSUPPORTED, MOUNTS},
    {"readonlyPaths", LK_UNSUPPORTED, MOUNTS},
    {"rootfsPropagation", LK_UNSUPPORTED, MOUNTS},
    {"userns", LK_UNSUPPORTED, NS},
    {"uidMappings", LK_UNSUPPORTED, NS},
    {"gidMappings", LK_UNSUPPORTED, NS},
    {"hostname", LK_UNSUPPORTED, NS "; set the guest's host name with app.yml's 'hostname'"},
    {"additionalGids", LK_UNSUPPORTED, "core runs a service with one uid and one gid"},
    {"oomScoreAdj", LK_UNSUPPORTED, LIMITS},
    {"cgroupsPath", LK_UNSUPPORTED, LIMITS},
    {"resources", LK_UNSUPPORTED, LIMITS},
    {"rlimits", LK_UNSUPPORTED, LIMITS},
    {"sysctl", LK_UNSUPPORTED, NS "; set guest-wide values with app.yml's 'sysctl'"},
    {"annotations", LK_UNSUPPORTED, "core writes no OCI runtime spec to annotate"},
    {"runtime", LK_UNSUPPORTED, "core has no equivalent of LinuxKit's start-up actions (cgroups, mounts, mkdir, "
                                "interfaces, bindNS, namespace)"},
    {NULL, LK_LOWER, NULL},
};

const lk_key lk_file_keys[] = {
    {"path", LK_LOWER, NULL},
    {"contents", LK_LOWER, NULL},
    {"source", LK_LOWER, NULL},
    {"directory", LK_LOWER, NULL},
    {"symlink", LK_LOWER, NULL},
    {"optional", LK_LOWER, NULL},
    {"mode", LK_LOWER, NULL},
    {"uid", LK_LOWER, NULL},
    {"gid", LK_LOWER, NULL},
    {"metadata", LK_UNSUPPORTED, "core does not write the build's own YAML into the image; write the file with "
                                 "'contents' or 'source'"},
    {NULL, LK_LOWER, NULL},
};

/* Keys of app.yml that a LinuxKit file has no business holding: a hint says why. */
static const char *const app_only_keys[] = {"name", "main", "rootfs", "resources", "network", "ports",
                                            "env",  "include", "hostname", "sysctl", "mounts", "users",
                                            "groups", NULL};

/* The known key closest in spelling, when close enough to be a typo: the checker's rule. */
static const char *closest(const char *key, const lk_key *keys) {
  const char *names[128];
  size_t n = 0;
  for (const lk_key *k = keys; k->name && n < sizeof names / sizeof names[0]; k++) names[n++] = k->name;
  return check_closest(key, names, n);
}

static void unknown_key(lk *l, const core_yaml_node *k, const lk_key *keys, const char *in) {
  char kb[80];
  const char *ks = core_diag_excerpt(k->value, kb, sizeof kb);
  const char *s = closest(k->value, keys);
  if (s) {
    core_diag_error(l->d, &k->pos, k->len, NULL, "unknown key '%s'%s (did you mean '%s'?)", ks, in, s);
    return;
  }
  /* Only the keys core lowers: the whole list of an image's keys is too long to read. */
  char hint[512] = "the keys core lowers here are ";
  for (const lk_key *p = keys; p->name; p++) {
    if (p->use != LK_LOWER) continue;
    size_t len = strlen(hint);
    snprintf(hint + len, sizeof hint - len, "%s'%s'", p == keys ? "" : ", ", p->name);
  }
  if (keys == lk_top_keys)
    for (const char *const *a = app_only_keys; *a; a++)
      if (strcmp(*a, k->value) == 0)
        snprintf(hint, sizeof hint, "'%s' is an app.yml key: this file is read as a LinuxKit image; "
                 "write it as app.yml throughout, or as LinuxKit throughout", ks);
  core_diag_error(l->d, &k->pos, k->len, hint, "unknown key '%s'%s", ks, in);
}

void lk_keys(lk *l, const core_yaml_node *map, const lk_key *keys, const char *where) {
  char in[96] = "";
  if (where) snprintf(in, sizeof in, " in '%s'", where);
  for (size_t i = 0; i < map->n_pairs; i++) {
    const core_yaml_node *k = map->pairs[i].key;
    const lk_key *found = NULL;
    for (const lk_key *p = keys; p->name && !found; p++)
      if (strcmp(p->name, k->value) == 0) found = p;
    if (found == NULL) {
      unknown_key(l, k, keys, in);
    } else if (found->use == LK_UNSUPPORTED) {
      core_diag_error(l->d, &k->pos, k->len, found->why, "LinuxKit's '%s'%s is not supported by core yet",
                      found->name, in);
    } else if (found->use == LK_IGNORED) {
      core_diag_add(l->d, CORE_DIAG_WARNING, &k->pos, k->len, found->why, "LinuxKit's '%s'%s is ignored",
                    found->name, in);
    }
  }
}
