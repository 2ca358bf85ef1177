/* Networking and volumes for a run. */
#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "initconf.h"
#include "spawn.h"

/* QEMU's user-mode network (slirp) always hands out these addresses. */
#define GUEST_ADDRESS "10.0.2.15/24"
#define GUEST_GATEWAY "10.0.2.2"
#define GUEST_DNS "10.0.2.3"

int core_parse_port_map(const char *s, core_port_map *out) {
  unsigned long host = 0, guest = 0;
  char *end = NULL;
  memset(out, 0, sizeof *out);
  snprintf(out->protocol, sizeof out->protocol, "tcp");
  host = strtoul(s, &end, 10);
  if (end == s) return -1;
  if (*end == ':') {
    const char *g = end + 1;
    guest = strtoul(g, &end, 10);
    if (end == g) return -1;
  } else {
    guest = host;
  }
  if (*end == '/') {
    if (strcmp(end + 1, "tcp") != 0 && strcmp(end + 1, "udp") != 0) return -1;
    snprintf(out->protocol, sizeof out->protocol, "%s", end + 1);
  } else if (*end) {
    return -1;
  }
  if (host < 1 || host > 65535 || guest < 1 || guest > 65535) return -1;
  out->host = (uint16_t)host;
  out->guest = (uint16_t)guest;
  return 0;
}

static int add_port(core_run_devices *d, core_port_map p, core_error **err) {
  for (size_t i = 0; i < d->n_ports; i++)
    if (d->ports[i].guest == p.guest && strcmp(d->ports[i].protocol, p.protocol) == 0) {
      d->ports[i] = p; /* the command line re-maps a port the artifact publishes */
      return 0;
    }
  core_port_map *grown = realloc(d->ports, (d->n_ports + 1) * sizeof *grown);
  if (grown == NULL) return core_error_set(err, ENOMEM, "allocating");
  d->ports = grown;
  d->ports[d->n_ports++] = p;
  return 0;
}

static int plan_volumes(const json_t *config, const core_device_flags *f, core_run_devices *d, core_error **err) {
  json_t *vols = json_object_get(config, "volumes");
  size_t n = json_array_size(vols);
  d->volumes = calloc(n + 1, sizeof *d->volumes);
  if (d->volumes == NULL) return core_error_set(err, ENOMEM, "allocating");
  for (size_t i = 0; i < n; i++, d->n_volumes++) {
    const char *name = json_string_value(json_object_get(json_array_get(vols, i), "name"));
    const char *path = json_string_value(json_object_get(json_array_get(vols, i), "path"));
    if (name == NULL || path == NULL) return core_error_set(err, 0, "the artifact's runtime config has a malformed volume");
    core_volume_bind *v = &d->volumes[i];
    if ((v->name = strdup(name)) == NULL || (v->guest_path = strdup(path)) == NULL)
      return core_error_set(err, ENOMEM, "allocating");
    for (size_t k = 0; k < f->n_volumes; k++) {
      const char *eq = strchr(f->volumes[k], '=');
      if (eq && (size_t)(eq - f->volumes[k]) == strlen(name) && strncmp(f->volumes[k], name, strlen(name)) == 0)
        if ((v->image = strdup(eq + 1)) == NULL) return core_error_set(err, ENOMEM, "allocating");
    }
  }
  /* A --volume naming no declared volume is a mistake worth stopping for. */
  for (size_t k = 0; k < f->n_volumes; k++) {
    const char *eq = strchr(f->volumes[k], '=');
    if (eq == NULL || eq == f->volumes[k] || eq[1] == 0)
      return core_error_set(err, 0, "--volume '%s': write NAME=IMAGE, e.g. --volume data=./data.img", f->volumes[k]);
    int known = 0;
    for (size_t i = 0; i < d->n_volumes; i++)
      known |= strlen(d->volumes[i].name) == (size_t)(eq - f->volumes[k]) &&
               strncmp(d->volumes[i].name, f->volumes[k], (size_t)(eq - f->volumes[k])) == 0;
    if (!known)
      return core_error_set(err, 0, "--volume '%s': the app declares no volume '%.*s'%s", f->volumes[k],
                            (int)(eq - f->volumes[k]), f->volumes[k],
                            d->n_volumes ? " (see 'mounts' with type volume in its app.yml)" : "; it declares no volumes at all");
  }
  return 0;
}

int core_run_devices_plan(const json_t *config, const core_device_flags *f, core_run_devices *out, core_error **err) {
  core_run_devices d = {0};
  json_t *net = json_object_get(config, "network");
  const char *mode = json_string_value(json_object_get(net, "mode"));
  d.network = mode && strcmp(mode, "user") == 0 && !f->no_network;
  if ((d.publish_address = strdup(f->publish_address ? f->publish_address : "127.0.0.1")) == NULL) goto oom;
  if (d.network) {
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(net, "ports"), i, p) {
      core_port_map m = {0};
      m.host = (uint16_t)json_integer_value(json_object_get(p, "host"));
      m.guest = (uint16_t)json_integer_value(json_object_get(p, "guest"));
      snprintf(m.protocol, sizeof m.protocol, "%s", json_string_value(json_object_get(p, "protocol")) ?: "tcp");
      if (add_port(&d, m, err) < 0) goto fail;
    }
  }
  for (size_t i = 0; i < f->n_publish; i++) {
    core_port_map m;
    if (core_parse_port_map(f->publish[i], &m) < 0) {
      core_error_set(err, 0, "--publish '%s': write HOST:GUEST or HOST:GUEST/udp, ports 1 to 65535", f->publish[i]);
      goto fail;
    }
    if (!d.network) {
      core_error_set(err, 0, "--publish '%s': the app has no network (network.mode none%s)", f->publish[i],
                     f->no_network ? ", or --network none" : "; declare ports or network.mode user in its app.yml");
      goto fail;
    }
    if (add_port(&d, m, err) < 0) goto fail;
  }
  if (plan_volumes(config, f, &d, err) < 0) goto fail;
  *out = d;
  return 0;
oom:
  core_error_set(err, ENOMEM, "allocating");
fail:
  core_run_devices_release(&d);
  return -1;
}

static int run_mkfs(const char *image, core_error **err) {
  char *argv[] = {"mkfs.ext4", "-q", "-F", "-E", "root_owner=0:0", (char *)image, NULL};
  cleanup_buf core_buf errout = CORE_BUF_INIT;
  int status;
  if (core_spawn(argv, NULL, NULL, &errout, &status, err) < 0)
    return core_error_wrap(err, "formatting volume image '%s' (mkfs.ext4 is in e2fsprogs)", image);
  /* Its own words say why (no space left, a file it cannot write, ...). */
  if (status != 0)
    return core_error_set(err, 0, "mkfs.ext4 failed to format '%s' (exit %d): %s", image, status,
                          core_spawn_last_line(&errout));
  return 0;
}

int core_run_devices_prepare(core_run_devices *d, const core_device_flags *f, core_error **err) {
  uint64_t size_mib = f->volume_size_mib ? f->volume_size_mib : 1024;
  for (size_t i = 0; i < d->n_volumes; i++) {
    core_volume_bind *v = &d->volumes[i];
    if (v->image == NULL) {
      /* An unbound volume still works for this run, like an anonymous volume, but nothing survives it. */
      char tmpl[] = "/tmp/core-volume-XXXXXX";
      int fd = mkstemp(tmpl);
      if (fd < 0) return core_error_set(err, errno, "creating a temporary volume image");
      close(fd);
      if ((v->image = strdup(tmpl)) == NULL) return core_error_set(err, ENOMEM, "allocating");
      v->ephemeral = 1;
      if (!f->quiet)
        fprintf(stderr, "corerun: volume '%s' (%s) is not bound; using a temporary disk that is deleted after this run "
                        "(bind it with --volume %s=FILE.img)\n", v->name, v->guest_path, v->name);
    } else if (access(v->image, F_OK) == 0) {
      continue; /* an existing image is the user's data: used as it is */
    }
    cleanup_close int fd = open(v->image, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && !(v->ephemeral && errno == EEXIST))
      return core_error_set(err, errno, "creating volume image '%s'", v->image);
    if (fd < 0) fd = open(v->image, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)(size_mib << 20)) < 0)
      return core_error_set(err, errno, "sizing volume image '%s'", v->image);
    v->created = 1;
    if (run_mkfs(v->image, err) < 0) return -1;
    if (!f->quiet && !v->ephemeral)
      fprintf(stderr, "corerun: created volume '%s' in %s (%llu MiB, ext4)\n", v->name, v->image,
              (unsigned long long)size_mib);
  }
  return 0;
}

static int push(char ***args, size_t *n, char *s, core_error **err) {
  if (s == NULL) return core_error_set(err, ENOMEM, "allocating");
  char **grown = realloc(*args, (*n + 2) * sizeof *grown);
  if (grown == NULL) {
    free(s);
    return core_error_set(err, ENOMEM, "allocating");
  }
  grown[(*n)++] = s;
  grown[*n] = NULL;
  *args = grown;
  return 0;
}

int core_run_devices_qemu_args(const core_run_devices *d, char ***args, size_t *n, core_error **err) {
  if (d->network) {
    cleanup_free char *netdev = strdup("user,id=net0");
    for (size_t i = 0; netdev && i < d->n_ports; i++) {
      char *longer = NULL;
      if (asprintf(&longer, "%s,hostfwd=%s:%s:%u-:%u", netdev, d->ports[i].protocol, d->publish_address,
                   d->ports[i].host, d->ports[i].guest) < 0)
        longer = NULL;
      free(netdev);
      netdev = longer;
    }
    if (push(args, n, strdup("-netdev"), err) < 0 || push(args, n, TAKE_PTR(netdev), err) < 0 ||
        push(args, n, strdup("-device"), err) < 0 || push(args, n, strdup("virtio-net-pci,netdev=net0"), err) < 0)
      return -1;
  }
  for (size_t i = 0; i < d->n_volumes; i++) {
    char *drive = NULL, *dev = NULL;
    /* Commas in a path would split QEMU's option string: they are doubled to escape them. */
    cleanup_free char *escaped = calloc(2 * strlen(d->volumes[i].image) + 1, 1);
    if (escaped == NULL) return core_error_set(err, ENOMEM, "allocating");
    for (char *o = escaped, *p = d->volumes[i].image; *p; p++) {
      *o++ = *p;
      if (*p == ',') *o++ = ',';
    }
    if (asprintf(&drive, "file=%s,format=raw,if=none,id=vol%zu", escaped, i) < 0) drive = NULL;
    if (asprintf(&dev, "virtio-blk-pci,drive=vol%zu,serial=%.20s", i, d->volumes[i].name) < 0) dev = NULL;
    if (push(args, n, strdup("-drive"), err) < 0 || push(args, n, drive, err) < 0 ||
        push(args, n, strdup("-device"), err) < 0 || push(args, n, dev, err) < 0)
      return -1;
  }
  return 0;
}

int core_run_devices_conf(const core_run_devices *d, core_buf *conf, core_error **err) {
  if (d->network) {
    if (core_initconf_add(conf, INITCONF_INTERFACE, "eth0", err) < 0 ||
        core_initconf_field(conf, INITCONF_KEY_ADDRESS, GUEST_ADDRESS, err) < 0 ||
        core_initconf_field(conf, INITCONF_KEY_GATEWAY, GUEST_GATEWAY, err) < 0 ||
        core_initconf_field(conf, INITCONF_KEY_DNS, GUEST_DNS, err) < 0)
      return -1;
  }
  for (size_t i = 0; i < d->n_volumes; i++)
    /* virtio-blk disks appear as vda, vdb, ... in the order QEMU is given them. */
    if (core_initconf_addf(conf, INITCONF_VOLUME, err, "%s /dev/vd%c", d->volumes[i].name, (char)('a' + i)) < 0)
      return -1;
  return 0;
}

void core_run_devices_release(core_run_devices *d) {
  for (size_t i = 0; i < d->n_volumes; i++) {
    if (d->volumes[i].ephemeral && d->volumes[i].image) unlink(d->volumes[i].image);
    free(d->volumes[i].name);
    free(d->volumes[i].guest_path);
    free(d->volumes[i].image);
  }
  free(d->volumes);
  free(d->ports);
  free(d->publish_address);
  memset(d, 0, sizeof *d);
}
