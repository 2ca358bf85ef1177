/* Who the entry runs as: ids resolved in the image's /etc/passwd and /etc/group (read
 * after pivot_root, so they are the image's), then the bounding set, the user switch and
 * the capability sets, in the one order in which each step still has the privilege the
 * next needs. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "internal.h"

/* Reads at most CTR_ID_FILE_MAX bytes of path; *text NULL and 0 when it does not exist. */
static int ctr_id_file_read(const char *path, char **text, size_t *len, ctr_error *err) {
  *text = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return errno == ENOENT ? 0 : ctr_error_set(err, errno, "reading the image's '%s'", path);
  char *buf = malloc(CTR_ID_FILE_MAX + 1);
  if (!buf) {
    close(fd);
    return ctr_error_set(err, ENOMEM, "reading the image's '%s'", path);
  }
  size_t n = 0;
  ssize_t r;
  while (n <= CTR_ID_FILE_MAX && (r = read(fd, buf + n, CTR_ID_FILE_MAX + 1 - n)) != 0) {
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      close(fd);
      free(buf);
      return ctr_error_set(err, e, "reading the image's '%s'", path);
    }
    n += (size_t)r;
  }
  close(fd);
  if (n > CTR_ID_FILE_MAX) {
    free(buf);
    return ctr_error_set(err, 0, "the image's '%s' is larger than %u bytes", path, CTR_ID_FILE_MAX);
  }
  *text = buf;
  *len = n;
  return 0;
}

static int ctr_user_lookup(const char *name, uint32_t *uid, uint32_t *gid, ctr_error *err) {
  char *text;
  size_t len;
  if (ctr_id_file_read("/etc/passwd", &text, &len, err) < 0) return ctr_error_prefix(err, "uid '%s'", name);
  if (!text) return ctr_error_set(err, 0, "uid '%s': the image has no /etc/passwd", name);
  int found = ctr_passwd_find(text, len, name, uid, gid, err);
  free(text);
  if (found < 0) return ctr_error_prefix(err, "uid '%s'", name);
  if (!found) return ctr_error_set(err, 0, "uid '%s': no such user in the image's /etc/passwd", name);
  return 0;
}

static int ctr_group_lookup(const char *field, const char *name, uint32_t *gid, ctr_error *err) {
  char *text;
  size_t len;
  if (ctr_id_file_read("/etc/group", &text, &len, err) < 0) return ctr_error_prefix(err, "%s '%s'", field, name);
  if (!text) return ctr_error_set(err, 0, "%s '%s': the image has no /etc/group", field, name);
  int found = ctr_group_find(text, len, name, gid, err);
  free(text);
  if (found < 0) return ctr_error_prefix(err, "%s '%s'", field, name);
  if (!found) return ctr_error_set(err, 0, "%s '%s': no such group in the image's /etc/group", field, name);
  return 0;
}

int ctr_ids_resolve(const ctr_spec *spec, ctr_ids *ids, ctr_error *err) {
  uint32_t primary = 0;
  ids->uid = spec->uid.id;
  if (spec->uid.name && ctr_user_lookup(spec->uid.name, &ids->uid, &primary, err) < 0) return -1;
  ids->gid = spec->gid.id;
  if (spec->gid.name && ctr_group_lookup("gid", spec->gid.name, &ids->gid, err) < 0) return -1;
  if (spec->n_additional_gids > CTR_GROUPS_MAX)
    return ctr_error_set(err, 0, "additionalGids: more than %d", CTR_GROUPS_MAX);
  ids->n_groups = 0;
  for (size_t i = 0; i < spec->n_additional_gids; i++) {
    const ctr_id *g = &spec->additional_gids[i];
    uint32_t id = g->id;
    if (g->name && ctr_group_lookup("additionalGids", g->name, &id, err) < 0) return -1;
    ids->groups[ids->n_groups++] = id;
  }
  return 0;
}

/* The highest capability the running kernel knows: sets given to it must not name more. */
static int ctr_cap_last(void) {
  int last = 0;
  while (last < 63 && prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0) last++;
  return last;
}

/* The caller's bounding set: no set can grow beyond it, so `all` means all of these. */
static uint64_t ctr_caps_held(int last) {
  uint64_t held = 0;
  for (int c = 0; c <= last; c++)
    if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1) held |= UINT64_C(1) << c;
  return held;
}

int ctr_identity_apply(const ctr_spec *spec, const ctr_ids *ids, ctr_error *err) {
  ctr_caps caps = spec->caps;
  if (spec->caps_set) {
    int last = ctr_cap_last();
    uint64_t known = ctr_caps_held(last);
    caps.bounding &= known, caps.effective &= known, caps.permitted &= known;
    caps.inheritable &= known, caps.ambient &= known;
    /* The bounding set first, while CAP_SETPCAP is still held. */
    for (int c = 0; c <= last; c++)
      if (!(caps.bounding >> c & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
        return ctr_error_set(err, errno, "capabilities: dropping %s from the bounding set",
                             ctr_cap_name(c) ? ctr_cap_name(c) : "?");
    /* Keeps the permitted set across setuid; capset below decides what stays. */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
      return ctr_error_set(err, errno, "capabilities: PR_SET_KEEPCAPS");
  }
  gid_t groups[CTR_GROUPS_MAX];
  for (size_t i = 0; i < ids->n_groups; i++) groups[i] = (gid_t)ids->groups[i];
  if (setgroups(ids->n_groups, ids->n_groups ? groups : NULL) < 0)
    return ctr_error_set(err, errno, "additionalGids: setgroups");
  if (setgid((gid_t)ids->gid) < 0) return ctr_error_set(err, errno, "gid: setgid(%u)", ids->gid);
  if (setuid((uid_t)ids->uid) < 0) return ctr_error_set(err, errno, "uid: setuid(%u)", ids->uid);
  if (!spec->caps_set) return 0;
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return ctr_error_set(err, errno, "capabilities: PR_SET_KEEPCAPS");
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  for (int i = 0; i < 2; i++) {
    data[i].effective = (uint32_t)(caps.effective >> (32 * i));
    data[i].permitted = (uint32_t)(caps.permitted >> (32 * i));
    data[i].inheritable = (uint32_t)(caps.inheritable >> (32 * i));
  }
  if (syscall(SYS_capset, &hdr, data) < 0)
    return ctr_error_set(err, errno, "capabilities: capset (effective must be within permitted)");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return ctr_error_set(err, errno, "capabilities: clearing the ambient set");
  for (int c = 0; c < 64; c++)
    if (caps.ambient >> c & 1 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      return ctr_error_set(err, errno,
                           "capabilities: raising %s in the ambient set (it must be permitted "
                           "and inheritable)",
                           ctr_cap_name(c) ? ctr_cap_name(c) : "?");
  return 0;
}
