/* The devices a run gives the guest: user-mode networking with published ports, and
 * volumes as virtio-blk disk images. Planned from the artifact's runtime config and the
 * command line first, then turned into QEMU arguments and run.conf lines. */
#ifndef CORE_DEVICES_H
#define CORE_DEVICES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

typedef struct core_port_map {
  uint16_t host, guest;
  char protocol[4]; /* "tcp" or "udp" */
} core_port_map;

typedef struct core_volume_bind {
  char *name;
  char *guest_path;
  char *image;   /* the disk image on the host */
  int ephemeral; /* made for this run, removed after it */
  int created;   /* made (and formatted) by this run */
} core_volume_bind;

typedef struct core_run_devices {
  int network;              /* user-mode networking on */
  char *publish_address;    /* where published ports listen; default 127.0.0.1 */
  core_port_map *ports;
  size_t n_ports;
  core_volume_bind *volumes;
  size_t n_volumes;
} core_run_devices;

/* What the command line adds to the artifact's own settings. */
typedef struct core_device_flags {
  const char **publish; /* "HOST:GUEST[/udp]" */
  size_t n_publish;
  const char **volumes; /* "NAME=IMAGE" */
  size_t n_volumes;
  const char *publish_address;
  uint64_t volume_size_mib; /* size of images this run creates; 0 = 1024 */
  int no_network;
  int quiet;
} core_device_flags;

int core_run_devices_plan(const json_t *config, const core_device_flags *flags, core_run_devices *out, core_error **err);
/* Creates missing volume images (sparse, ext4 via mkfs.ext4). */
int core_run_devices_prepare(core_run_devices *d, const core_device_flags *flags, core_error **err);
/* Appends QEMU arguments (strings owned by *args_storage) for the planned devices. */
int core_run_devices_qemu_args(const core_run_devices *d, char ***args, size_t *n_args, core_error **err);
/* Appends the run.conf lines coreinit needs: the interface and the volume devices. */
int core_run_devices_conf(const core_run_devices *d, core_buf *conf, core_error **err);
/* Removes ephemeral images; frees everything. */
void core_run_devices_release(core_run_devices *d);

/* "8080:80", "53:53/udp", "80" -> a port map. */
int core_parse_port_map(const char *s, core_port_map *out);

#endif
