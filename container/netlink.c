/* runtime.interfaces: network interfaces for the container's network namespace, through
 * rtnetlink. An existing interface of the caller is moved and renamed with one RTM_NEWLINK
 * (IFLA_NET_NS_PID and IFLA_IFNAME), so it never shows up inside under its old name; a new
 * one (LinuxKit's `add`, with `peer` for a veth pair) is created right in the container's
 * namespace, or in the caller's and then moved (`createInRoot`). */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "internal.h"

typedef struct ctr_nl_req {
  struct nlmsghdr h;
  struct ifinfomsg ifi;
  char attrs[512];
} ctr_nl_req;

/* Appends an attribute at the end of the message; returns it (for nesting). */
static struct rtattr *ctr_nl_attr(ctr_nl_req *r, unsigned short type, const void *data,
                                  size_t len) {
  struct rtattr *a = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->h.nlmsg_len));
  a->rta_type = type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}

/* Closes a nested attribute opened with ctr_nl_attr(r, type, NULL, 0). */
static void ctr_nl_nest_end(ctr_nl_req *r, struct rtattr *nest) {
  nest->rta_len = (unsigned short)((char *)r + r->h.nlmsg_len - (char *)nest);
}

static void ctr_nl_init(ctr_nl_req *r, unsigned short flags, int index) {
  memset(r, 0, sizeof *r);
  r->h.nlmsg_len = NLMSG_LENGTH(sizeof r->ifi);
  r->h.nlmsg_type = RTM_NEWLINK;
  r->h.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags);
  r->h.nlmsg_seq = 1;
  r->ifi.ifi_family = AF_UNSPEC;
  r->ifi.ifi_index = index;
}

/* Sends r and reads the kernel's acknowledgement: 0, or -errno. */
static int ctr_nl_talk(ctr_nl_req *r, int *kernel_error) {
  *kernel_error = 0;
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -1;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t n = sendto(fd, r, r->h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  union {
    struct nlmsghdr h;
    char buf[1024];
  } reply;
  if (n >= 0) do
      n = recv(fd, &reply, sizeof reply, 0);
    while (n < 0 && errno == EINTR);
  int e = errno;
  close(fd);
  errno = e;
  if (n < 0) return -1;
  if ((size_t)n < NLMSG_LENGTH(sizeof(struct nlmsgerr)) || reply.h.nlmsg_type != NLMSG_ERROR) {
    errno = EPROTO;
    return -1;
  }
  const struct nlmsgerr *ne = NLMSG_DATA(&reply.h);
  *kernel_error = -ne->error;
  return 0;
}

static int ctr_iface_names_check(const ctr_iface *in, ctr_error *err) {
  const char *names[] = {in->name, in->new_name, in->peer};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (names[i] && (strlen(names[i]) >= IFNAMSIZ || !names[i][0]))
      return ctr_error_set(err, 0, "runtime.interfaces '%.64s': '%.64s' is not an interface name "
                                   "(1 to %d bytes)",
                           in->name, names[i], IFNAMSIZ - 1);
  return 0;
}

/* Moves the caller's interface name into pid's network namespace as target. */
static int ctr_iface_move(const char *name, const char *target, pid_t pid, ctr_error *err) {
  unsigned index = if_nametoindex(name);
  if (index == 0) return ctr_error_set(err, errno, "runtime.interfaces '%s'", name);
  ctr_nl_req r;
  ctr_nl_init(&r, 0, (int)index);
  uint32_t p = (uint32_t)pid;
  ctr_nl_attr(&r, IFLA_NET_NS_PID, &p, sizeof p);
  ctr_nl_attr(&r, IFLA_IFNAME, target, strlen(target) + 1);
  int kerr;
  if (ctr_nl_talk(&r, &kerr) < 0)
    return ctr_error_set(err, errno, "runtime.interfaces '%s': netlink", name);
  if (kerr)
    return ctr_error_set(err, kerr, "runtime.interfaces: moving '%s' into the container as '%s'",
                         name, target);
  return 0;
}

/* Creates an interface of kind add named name, in pid's namespace or (pid 0) the caller's;
 * a veth's peer stays in the caller's. */
static int ctr_iface_create(const ctr_iface *in, pid_t pid, ctr_error *err) {
  ctr_nl_req r;
  ctr_nl_init(&r, NLM_F_CREATE | NLM_F_EXCL, 0);
  ctr_nl_attr(&r, IFLA_IFNAME, in->name, strlen(in->name) + 1);
  if (pid) {
    uint32_t p = (uint32_t)pid;
    ctr_nl_attr(&r, IFLA_NET_NS_PID, &p, sizeof p);
  }
  struct rtattr *info = ctr_nl_attr(&r, IFLA_LINKINFO, NULL, 0);
  ctr_nl_attr(&r, IFLA_INFO_KIND, in->add, strlen(in->add));
  if (strcmp(in->add, "veth") == 0) {
    struct rtattr *data = ctr_nl_attr(&r, IFLA_INFO_DATA, NULL, 0);
    /* VETH_INFO_PEER holds an ifinfomsg and then the peer's own attributes. */
    struct ifinfomsg peer_ifi = {.ifi_family = AF_UNSPEC};
    struct rtattr *peer = ctr_nl_attr(&r, VETH_INFO_PEER, &peer_ifi, sizeof peer_ifi);
    ctr_nl_attr(&r, IFLA_IFNAME, in->peer, strlen(in->peer) + 1);
    ctr_nl_nest_end(&r, peer);
    ctr_nl_nest_end(&r, data);
  }
  ctr_nl_nest_end(&r, info);
  int kerr;
  if (ctr_nl_talk(&r, &kerr) < 0)
    return ctr_error_set(err, errno, "runtime.interfaces '%s': netlink", in->name);
  if (kerr)
    return ctr_error_set(err, kerr, "runtime.interfaces: creating '%s' (%s%s%s)", in->name,
                         in->add, in->peer ? ", peer " : "", in->peer ? in->peer : "");
  return 0;
}

int ctr_iface_setup(const ctr_iface *in, pid_t pid, ctr_error *err) {
  if (ctr_iface_names_check(in, err) < 0) return -1;
  const char *target = in->new_name ? in->new_name : in->name;
  if (!in->add) return ctr_iface_move(in->name, target, pid, err);
  if (strcmp(in->add, "veth") == 0 && !in->peer)
    return ctr_error_set(err, 0, "runtime.interfaces '%s': a veth needs a peer", in->name);
  if (!in->create_in_root && !in->new_name) return ctr_iface_create(in, pid, err);
  if (ctr_iface_create(in, 0, err) < 0) return -1;
  return ctr_iface_move(in->name, target, pid, err);
}
