/* runtime.interfaces: moving a network interface of the caller into the container's
 * network namespace, renamed on the way, with one RTM_NEWLINK (IFLA_NET_NS_PID and
 * IFLA_IFNAME) so the interface never shows up in the container under its old name. */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "internal.h"

typedef struct ctr_nl_req {
  struct nlmsghdr h;
  struct ifinfomsg ifi;
  char attrs[64];
} ctr_nl_req;

static void ctr_nl_attr(ctr_nl_req *r, unsigned short type, const void *data, size_t len) {
  struct rtattr *a = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->h.nlmsg_len));
  a->rta_type = type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  memcpy(RTA_DATA(a), data, len);
  r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

int ctr_iface_move(const char *name, const char *new_name, pid_t pid, ctr_error *err) {
  const char *target = new_name ? new_name : name;
  if (strlen(name) >= IFNAMSIZ || strlen(target) >= IFNAMSIZ)
    return ctr_error_set(err, 0, "runtime.interfaces '%s': names are at most %d bytes", name,
                         IFNAMSIZ - 1);
  unsigned index = if_nametoindex(name);
  if (index == 0) return ctr_error_set(err, errno, "runtime.interfaces '%s'", name);
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return ctr_error_set(err, errno, "runtime.interfaces '%s': netlink socket", name);
  ctr_nl_req r;
  memset(&r, 0, sizeof r);
  r.h.nlmsg_len = NLMSG_LENGTH(sizeof r.ifi);
  r.h.nlmsg_type = RTM_NEWLINK;
  r.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  r.h.nlmsg_seq = 1;
  r.ifi.ifi_family = AF_UNSPEC;
  r.ifi.ifi_index = (int)index;
  uint32_t p = (uint32_t)pid;
  ctr_nl_attr(&r, IFLA_NET_NS_PID, &p, sizeof p);
  ctr_nl_attr(&r, IFLA_IFNAME, target, strlen(target) + 1);
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t n = sendto(fd, &r, r.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  if (n < 0) {
    int e = errno;
    close(fd);
    return ctr_error_set(err, e, "runtime.interfaces '%s': sending to netlink", name);
  }
  /* The answer is one NLMSG_ERROR: error 0 is the acknowledgement. */
  union {
    struct nlmsghdr h;
    char buf[1024];
  } reply;
  do n = recv(fd, &reply, sizeof reply, 0);
  while (n < 0 && errno == EINTR);
  int e = errno;
  close(fd);
  if (n < 0) return ctr_error_set(err, e, "runtime.interfaces '%s': reading netlink", name);
  if ((size_t)n < NLMSG_LENGTH(sizeof(struct nlmsgerr)) || reply.h.nlmsg_type != NLMSG_ERROR)
    return ctr_error_set(err, EPROTO, "runtime.interfaces '%s': netlink answer", name);
  const struct nlmsgerr *ne = NLMSG_DATA(&reply.h);
  if (ne->error != 0)
    return ctr_error_set(err, -ne->error, "runtime.interfaces: moving '%s' into the container as '%s'",
                         name, target);
  return 0;
}
