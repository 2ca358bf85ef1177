/* The machine's network identity: its hostname, the loopback interface, and the
 * interfaces run.conf configures (address, default route, name servers). */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "init.h"

/* virtio_net registers its interface while its module loads, but a driver may probe
 * asynchronously; this long is worth waiting before calling the interface missing. */
#define INIT_IFACE_WAIT_MS 5000

int init_hostname_set(const char *name, init_error *err) {
  if (sethostname(name, strlen(name)) < 0)
    return init_error_set(err, errno, "setting hostname '%s'", name);
  return 0;
}

static int init_iface_flags_up(int fd, const char *name) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) return -1;
  ifr.ifr_flags |= IFF_UP;
  return ioctl(fd, SIOCSIFFLAGS, &ifr);
}

int init_loopback_up(init_error *err) {
  /* Any socket will do for interface ioctls; the kernel gives lo 127.0.0.1 itself when it
   * comes up. */
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return init_error_set(err, errno, "bringing up 'lo': socket");
  int r = init_iface_flags_up(fd, "lo");
  int e = errno;
  close(fd);
  if (r < 0) return init_error_set(err, e, "bringing up 'lo'");
  return 0;
}

static void init_sockaddr_in(struct sockaddr *sa, uint32_t addr) {
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = addr};
  memcpy(sa, &sin, sizeof sin);
}

static int init_iface_setup(int fd, const init_iface *f, init_error *err) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", f->name);

  long long deadline = init_now_ms() + INIT_IFACE_WAIT_MS;
  while (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
    if (errno != ENODEV) return init_error_set(err, errno, "interface '%s'", f->name);
    if (init_now_ms() >= deadline)
      return init_error_set(err, 0,
                            "interface '%s' does not exist (the launcher must give the VM a "
                            "network device, and the build must load its driver module, "
                            "e.g. virtio_net)",
                            f->name);
    init_sleep_ms(20);
  }
  if (f->has_address) {
    init_sockaddr_in(&ifr.ifr_addr, f->address);
    if (ioctl(fd, SIOCSIFADDR, &ifr) < 0)
      return init_error_set(err, errno, "setting the address of interface '%s'", f->name);
    uint32_t mask = f->prefix ? htonl(~0u << (32 - f->prefix)) : 0;
    init_sockaddr_in(&ifr.ifr_netmask, mask);
    if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
      return init_error_set(err, errno, "setting the netmask of interface '%s'", f->name);
  }
  if (init_iface_flags_up(fd, f->name) < 0)
    return init_error_set(err, errno, "bringing up interface '%s'", f->name);
  if (f->has_gateway) {
    struct rtentry rt;
    char dev[IFNAMSIZ];
    memset(&rt, 0, sizeof rt);
    snprintf(dev, sizeof dev, "%s", f->name);
    init_sockaddr_in(&rt.rt_dst, INADDR_ANY);
    init_sockaddr_in(&rt.rt_genmask, INADDR_ANY);
    init_sockaddr_in(&rt.rt_gateway, f->gateway);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    rt.rt_dev = dev;
    /* EEXIST: a second interface with a gateway; the first default route stays. */
    if (ioctl(fd, SIOCADDRT, &rt) < 0 && errno != EEXIST)
      return init_error_set(err, errno, "adding the default route through interface '%s'", f->name);
  }
  return 0;
}

int init_ifaces_setup(const init_conf *c, init_error *err) {
  if (c->ifaces.n == 0) return 0;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return init_error_set(err, errno, "configuring the network: socket");
  for (size_t i = 0; i < c->ifaces.n; i++) {
    if (init_iface_setup(fd, &c->ifaces.v[i], err) < 0) {
      close(fd);
      return -1;
    }
  }
  close(fd);
  return init_resolv_conf_write(c, "/etc/resolv.conf", err);
}

int init_resolv_conf_write(const init_conf *c, const char *path, init_error *err) {
  char text[1024];
  size_t n = 0;
  for (size_t i = 0; i < c->ifaces.n; i++)
    for (size_t k = 0; k < c->ifaces.v[i].dns.n; k++) {
      int w = snprintf(text + n, sizeof text - n, "nameserver %s\n", c->ifaces.v[i].dns.v[k]);
      if (w < 0 || (size_t)w >= sizeof text - n) break; /* resolvers read only 3 anyway */
      n += (size_t)w;
    }
  if (n == 0) return 0;
  /* Written aside and renamed: an image's resolv.conf is often a symlink into a /run
   * that is empty here, and rename replaces the link instead of following it. */
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.coreinit", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return init_error_set(err, errno, "writing '%s'", tmp);
  ssize_t w = write(fd, text, n);
  int e = w < 0 ? errno : EIO;
  close(fd);
  if (w != (ssize_t)n || rename(tmp, path) < 0) {
    if (w == (ssize_t)n) e = errno;
    unlink(tmp);
    return init_error_set(err, e, "writing '%s'", path);
  }
  return 0;
}
