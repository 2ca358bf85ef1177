/* The check stage's entry point and the top of app.yml: which keys it holds, the name, the
 * main command, and the rule that something must run. The parts live in check_*.c. */
#include "check.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "cleanup.h"
#include "fsutil.h"

#define MIB (UINT64_C(1) << 20)
#define NAME_MAX_LEN 63

static const field top_fields[] = {
    {"name", true, "name: hello"},
    {"version", false, NULL},
    {"kernel", true, "kernel: {source: ./vmlinuz}"},
    {"rootfs", false, NULL},
    {"files", false, NULL},
    {"onboot", false, NULL},
    {"onshutdown", false, NULL},
    {"services", false, NULL},
    {"main", false, NULL},
    {"env", false, NULL},
    {"hostname", false, NULL},
    {"sysctl", false, NULL},
    {"mounts", false, NULL},
    {"resources", false, NULL},
    {"network", false, NULL},
    {"users", false, NULL},
    {"groups", false, NULL},
    {NULL, false, NULL},
};

bool core_app_top_key(const char *key) {
  for (const field *f = top_fields; f->name; f++)
    if (strcmp(f->name, key) == 0) return true;
  return false;
}

static void check_name(checker *c, const core_yaml_node *n) {
  const char *s = check_string(c, n, "name");
  if (s == NULL) return;
  size_t len = strlen(s);
  if (len == 0) {
    core_diag_error(c->d, &n->pos, n->len, "for example 'name: hello'", "'name' must not be empty");
    return;
  }
  if (len > NAME_MAX_LEN) {
    core_diag_error(c->d, &n->pos, n->len, NULL, "'name' is %zu characters long; at most %d are allowed", len,
                    NAME_MAX_LEN);
    return;
  }
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || (i > 0 && strchr("._-", ch));
    if (ok) continue;
    size_t clen = 1;
    while (ch >= 0xC0 && ((unsigned char)s[i + clen] & 0xC0) == 0x80) clen++;
    char hint[128] = "";
    if (ch >= 'A' && ch <= 'Z') {
      char lower[NAME_MAX_LEN + 1];
      for (size_t k = 0; k <= len; k++) lower[k] = (char)tolower((unsigned char)s[k]);
      snprintf(hint, sizeof hint, "names are lowercase: '%s'", lower);
    }
    int plen;
    core_pos p = check_char_pos(n, i, 1, &plen);
    if (ch < 0x20 || ch == 0x7f)
      core_diag_error(c->d, &p, plen, NULL, "'name' must not contain control characters, found 0x%02x", ch);
    else if (i == 0)
      core_diag_error(c->d, &p, plen, hint[0] ? hint : NULL,
                      "'name' must start with a lowercase letter or a digit, found '%.*s'", (int)clen, s);
    else
      core_diag_error(c->d, &p, plen, hint[0] ? hint : NULL,
                      "'name' may contain only lowercase letters, digits, '.', '_' and '-', found '%.*s'",
                      (int)clen, s + i);
    return;
  }
  if ((c->cfg->name = check_strdup(c, s)) == NULL) return;
  c->cfg->name_pos = check_pos(c, n);
}

static void check_version(checker *c, const core_yaml_node *n) {
  const char *s = check_nonempty(c, n, "version");
  if (s == NULL) return;
  for (const char *p = s; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) {
      core_diag_error(c->d, &n->pos, n->len, NULL, "'version' must not contain control characters");
      return;
    }
  c->cfg->version = check_strdup(c, s);
}

static void check_main(checker *c, const core_yaml_node *n) {
  core_command cmd = {0};
  bool ok = check_command(c, n, "main", &cmd);
  c->cfg->main_argv = cmd.argv;
  c->cfg->main_argc = cmd.argc;
  c->cfg->main_pos = cmd.pos;
  (void)ok; /* a bad main was reported; the config is not used then */
}

static bool is_empty_doc(const core_yaml_node *root) {
  return root == NULL || (root->kind == CORE_YAML_SCALAR && core_yaml_scalar_type(root) == CORE_YAML_NULL);
}

static void check_top(checker *c, const core_yaml_node *root) {
  check_fields(c, root, top_fields, NULL);
  const core_yaml_node *v;
  if ((v = core_yaml_get(root, "name"))) check_name(c, v);
  if ((v = core_yaml_get(root, "version"))) check_version(c, v);
  if ((v = core_yaml_get(root, "kernel"))) check_kernel(c, v);
  if ((v = core_yaml_get(root, "rootfs"))) check_rootfs(c, v);
  if ((v = core_yaml_get(root, "files"))) check_files(c, v);
  if ((v = core_yaml_get(root, "onboot"))) check_steps(c, v, "onboot", &c->cfg->onboot, &c->cfg->n_onboot);
  if ((v = core_yaml_get(root, "onshutdown")))
    check_steps(c, v, "onshutdown", &c->cfg->onshutdown, &c->cfg->n_onshutdown);
  if ((v = core_yaml_get(root, "services"))) check_services(c, v);
  check_service_graph(c);
  const core_yaml_node *main = core_yaml_get(root, "main");
  if (main) check_main(c, main);
  const core_yaml_node *services = core_yaml_get(root, "services");
  bool has_services = services && services->kind == CORE_YAML_SEQUENCE && services->n_items > 0;
  if (main == NULL && !has_services)
    core_diag_error(c->d, &root->pos, 0, "add the program to run, for example 'main: [\"/bin/app\"]'",
                    "nothing to run: give 'main' or at least one service");
  if ((v = core_yaml_get(root, "env"))) check_env(c, v, "env", &c->cfg->env, &c->cfg->n_env);
  check_hostname(c, core_yaml_get(root, "hostname"));
  if ((v = core_yaml_get(root, "sysctl"))) check_sysctl(c, v);
  if ((v = core_yaml_get(root, "mounts"))) check_mounts(c, v);
  if ((v = core_yaml_get(root, "resources"))) check_resources(c, v);
  check_network(c, core_yaml_get(root, "network"));
  check_users(c, core_yaml_get(root, "users"), core_yaml_get(root, "groups"));
}

core_app_config *core_app_check_doc(const core_yaml_doc *doc, const char *path, core_diag *diag) {
  core_app_config *cfg = calloc(1, sizeof *cfg);
  if (cfg == NULL || (cfg->file = strdup(path)) == NULL || (cfg->dir = core_path_dirname(path)) == NULL ||
      (cfg->cmdline = strdup("")) == NULL) {
    core_app_config_free(cfg);
    core_diag_error(diag, NULL, 0, NULL, "out of memory while checking");
    return NULL;
  }
  cfg->memory_bytes = 256 * MIB;
  cfg->cpus = 1;
  cfg->net_mode = CORE_NET_NONE;
  checker c = {.d = diag, .cfg = cfg};
  const core_yaml_node *root = doc->root;
  if (is_empty_doc(root)) {
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    core_pos whole = {.file = cfg->file, .line = 0, .col = 0};
    core_diag_error(diag, &whole, 0, "start from examples/hello/app.yml",
                    "%s is empty; it needs at least 'name', 'kernel' and 'main'", base);
    return cfg;
  }
  if (root->kind != CORE_YAML_MAPPING) {
    char found[96];
    core_diag_error(diag, &root->pos, root->len, NULL,
                    "the top level must be a mapping with keys such as 'name', 'kernel' and 'main', found %s",
                    core_yaml_describe(root, found, sizeof found));
    return cfg;
  }
  check_top(&c, root);
  free(c.named);
  return cfg;
}
