/* Writing passwd and group: existing lines are kept unless a declared entry has the same
 * name, and a root entry is always there. */
#include "users.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cleanup.h"

/* Appends the lines of an existing file whose first field is not in the names list. */
static int keep_lines(const core_rootfs *fs, const core_node *old, char *const *names, size_t n_names, core_buf *out,
                      core_error **err) {
  if (old == NULL || old->type != CORE_NODE_FILE) return 0;
  cleanup_buf core_buf text = CORE_BUF_INIT;
  if (core_rootfs_node_read(fs, old, &text, err) < 0) return -1;
  const char *p = (const char *)text.data, *end = p + text.len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    const char *colon = memchr(p, ':', len);
    int replaced = 0;
    for (size_t i = 0; colon && i < n_names; i++)
      if (strlen(names[i]) == (size_t)(colon - p) && memcmp(names[i], p, (size_t)(colon - p)) == 0) replaced = 1;
    if (len && !replaced && (core_buf_append(out, p, len, err) < 0 || core_buf_append(out, "\n", 1, err) < 0)) return -1;
    p += len + 1;
  }
  return 0;
}

static int has_line_for(const core_buf *b, const char *name) {
  size_t n = strlen(name);
  for (size_t i = 0; i + n < b->len; i++)
    if ((i == 0 || b->data[i - 1] == '\n') && memcmp(b->data + i, name, n) == 0 && b->data[i + n] == ':') return 1;
  return 0;
}

static uint32_t group_of(const core_app_config *cfg, const core_user *u) {
  for (size_t i = 0; i < cfg->n_groups; i++)
    if (strcmp(cfg->groups[i].name, u->name) == 0) return cfg->groups[i].gid;
  return u->gid;
}

static int add_file(core_rootfs *fs, const char *path, core_buf *data, core_error **err) {
  return core_rootfs_add(fs, path, CORE_NODE_FILE, 0644, 0, 0, NULL, data, err);
}

int core_link_users(const core_app_config *cfg, core_rootfs *fs, core_error **err) {
  if (cfg->n_users == 0 && cfg->n_groups == 0) return 0;
  cleanup_free char **user_names = calloc(cfg->n_users + 1, sizeof *user_names);
  cleanup_free char **group_names = calloc(cfg->n_groups + 1, sizeof *group_names);
  if (user_names == NULL || group_names == NULL) return core_error_set(err, ENOMEM, "allocating");
  for (size_t i = 0; i < cfg->n_users; i++) user_names[i] = cfg->users[i].name;
  for (size_t i = 0; i < cfg->n_groups; i++) group_names[i] = cfg->groups[i].name;

  cleanup_buf core_buf passwd = CORE_BUF_INIT;
  cleanup_buf core_buf group = CORE_BUF_INIT;
  if (keep_lines(fs, core_rootfs_find(fs, "etc/passwd"), user_names, cfg->n_users, &passwd, err) < 0 ||
      keep_lines(fs, core_rootfs_find(fs, "etc/group"), group_names, cfg->n_groups, &group, err) < 0)
    return -1;
  if (!has_line_for(&passwd, "root") && core_buf_appendf(&passwd, err, "root:x:0:0:root:/root:/bin/sh\n") < 0) return -1;
  if (!has_line_for(&group, "root") && core_buf_appendf(&group, err, "root:x:0:\n") < 0) return -1;
  for (size_t i = 0; i < cfg->n_users; i++) {
    const core_user *u = &cfg->users[i];
    cleanup_free char *home = NULL;
    if (u->home == NULL && asprintf(&home, u->uid == 0 ? "/root" : "/home/%s", u->name) < 0)
      return core_error_set(err, ENOMEM, "allocating");
    if (core_buf_appendf(&passwd, err, "%s:x:%u:%u:%s:%s:%s\n", u->name, u->uid, group_of(cfg, u), u->name,
                u->home ? u->home : home, u->shell ? u->shell : "/bin/sh") < 0)
      return -1;
  }
  for (size_t i = 0; i < cfg->n_groups; i++) {
    const core_group *g = &cfg->groups[i];
    if (core_buf_appendf(&group, err, "%s:x:%u:", g->name, g->gid) < 0) return -1;
    for (size_t m = 0; m < g->n_members; m++)
      if (core_buf_appendf(&group, err, "%s%s", m ? "," : "", g->members[m]) < 0) return -1;
    if (core_buf_append(&group, "\n", 1, err) < 0) return -1;
  }
  return add_file(fs, "etc/passwd", &passwd, err) < 0 ? -1 : add_file(fs, "etc/group", &group, err);
}
