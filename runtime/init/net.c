/* The machine's network identity: its hostname and the loopback interface. */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "init.h"

int init_hostname_set(const char *name, init_error *err) {
  if (sethostname(name, strlen(name)) < 0)
    return init_error_set(err, errno, "setting hostname '%s'", name);
  return 0;
}

int init_loopback_up(init_error *err) {
  /* Any socket will do for interface ioctls; the kernel gives lo 127.0.0.1 itself when it
   * comes up. */
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return init_error_set(err, errno, "bringing up 'lo': socket");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, "lo", 3);
  int r = ioctl(fd, SIOCGIFFLAGS, &ifr);
  if (r == 0) {
    ifr.ifr_flags |= IFF_UP;
    r = ioctl(fd, SIOCSIFFLAGS, &ifr);
  }
  int e = errno;
  close(fd);
  if (r < 0) return init_error_set(err, e, "bringing up 'lo'");
  return 0;
}
