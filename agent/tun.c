/* tun.c - TUN device set-up with ioctls on /dev/net/tun and AF_INET/AF_INET6 sockets, one
 * rtnetlink request for the super-packet size, and the virtio-net header of offloads. */
#define _GNU_SOURCE
#include "tun.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/virtio_net.h>

/* Newer than Debian 12's headers (Linux 6.2): UDP segmentation offload. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

_Static_assert(sizeof(struct virtio_net_hdr) == TUN_VNET_HDR_LEN, "virtio_net_hdr size");

/* linux/ipv6.h's struct in6_ifreq; that header clashes with netinet/in.h. */
struct tun_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

/* The first character of a sysctl file, 0 when it cannot be read. */
static char sysctl_char(const char *path)
{
	FILE *f = fopen(path, "r");
	int c;

	if (!f)
		return 0;
	c = fgetc(f);
	fclose(f);
	return c == EOF ? 0 : (char)c;
}

bool tun_ipv6_available(char *why, size_t cap)
{
	static const char *const knobs[] = {"all", "default"};

	if (access("/proc/net/if_inet6", F_OK)) {
		snprintf(why, cap, "the kernel has no IPv6 (no /proc/net/if_inet6)");
		return false;
	}
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", knobs[i]);
		if (sysctl_char(path) == '1') {
			snprintf(
			    why, cap,
			    "IPv6 is disabled on this host (net.ipv6.conf.%s.disable_ipv6 = 1)",
			    knobs[i]);
			return false;
		}
	}
	return true;
}

static int create(const char *ifname, short flags, char *err, size_t cap)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return set_error(
		    err, cap, "cannot open /dev/net/tun: %s%s", strerror(errno),
		    errno == EACCES || errno == EPERM ? " (needs root or CAP_NET_ADMIN)" : "");
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;

		close(fd);
		return set_error(err, cap, "cannot create TUN interface %s: %s%s", ifname,
				 strerror(e), e == EPERM ? " (needs root or CAP_NET_ADMIN)" : "");
	}
	return fd;
}

/* TCP segmentation both ways, UDP where the kernel has it (6.2), partial checksums. */
static int set_offloads(int fd, char *note, size_t cap)
{
	int hdr = TUN_VNET_HDR_LEN;

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		snprintf(note, cap, "TUNSETVNETHDRSZ: %s", strerror(errno));
		return -1;
	}
	if (ioctl(fd, TUNSETOFFLOAD,
		  TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6) == 0 ||
	    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) == 0)
		return 0;
	snprintf(note, cap, "TUNSETOFFLOAD: %s", strerror(errno));
	return -1;
}

int tun_open(const char *ifname, bool offload, bool *offloaded, char *note, char *err, size_t cap)
{
	int fd;

	*offloaded = false;
	note[0] = '\0';
	if (offload) {
		/* what fails here fails again without the header, and is reported then */
		fd = create(ifname, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, note, cap);
		if (fd >= 0 && set_offloads(fd, note, cap) == 0) {
			*offloaded = true;
			return fd;
		}
		if (fd >= 0)
			close(fd);
	}
	return create(ifname, IFF_TUN | IFF_NO_PI, err, cap);
}

int tun_set_gso_max(const char *ifname, unsigned max, char *err, size_t cap)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		struct rtattr attr;
		uint32_t value;
	} req;
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr e;
	} ack;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ssize_t n = -1;

	if (sock < 0)
		return set_error(err, cap, "rtnetlink socket: %s", strerror(errno));
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_NEWLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = (int)if_nametoindex(ifname);
	req.attr.rta_type = IFLA_GSO_MAX_SIZE;
	req.attr.rta_len = RTA_LENGTH(sizeof(uint32_t));
	req.value = max;
	if (req.ifi.ifi_index && sendto(sock, &req, sizeof(req), 0, (struct sockaddr *)&kernel,
					sizeof(kernel)) == (ssize_t)sizeof(req))
		n = recv(sock, &ack, sizeof(ack), 0);
	close(sock);
	if (n < (ssize_t)sizeof(ack) || ack.nh.nlmsg_type != NLMSG_ERROR)
		return set_error(err, cap, "%s: cannot set gso_max_size: no answer from the kernel",
				 ifname);
	if (ack.e.error)
		return set_error(err, cap, "%s: cannot set gso_max_size %u: %s", ifname, max,
				 strerror(-ack.e.error));
	return 0;
}

bool tun_vnet_read(const uint8_t *hdr, uint8_t *pkt, size_t len, struct gso_info *g)
{
	struct virtio_net_hdr h;

	memcpy(&h, hdr, sizeof(h));
	memset(g, 0, sizeof(*g));
	switch (h.gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		break;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		g->type = MQTTIP_GSO_TCP;
		break;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		g->type = MQTTIP_GSO_UDP;
		break;
	default:
		return false; /* UFO, ECN: not enabled */
	}
	if (g->type != MQTTIP_GSO_NONE)
		g->size = h.gso_size;
	if (!(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return true;
	g->flags = MQTTIP_GSO_FLAG_CSUM;
	if (g->type == MQTTIP_GSO_NONE && h.csum_offset != GSO_TCP_CSUM_OFFSET &&
	    h.csum_offset != GSO_UDP_CSUM_OFFSET) {
		/* not TCP or UDP: the Internet checksum from csum_start, finished here */
		size_t at = (size_t)h.csum_start + h.csum_offset;
		uint16_t c;

		if (h.csum_start >= len || at + 2 > len)
			return false;
		c = (uint16_t)~gso_fold(gso_sum(0, pkt + h.csum_start, len - h.csum_start));
		pkt[at] = (uint8_t)(c >> 8);
		pkt[at + 1] = (uint8_t)c;
		g->flags = 0;
	}
	return true;
}

void tun_vnet_write(const struct gso_info *g, uint8_t hdr[TUN_VNET_HDR_LEN])
{
	struct virtio_net_hdr h;

	memset(&h, 0, sizeof(h));
	if (g->flags & MQTTIP_GSO_FLAG_CSUM) {
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.csum_start = g->l4_off;
		h.csum_offset = g->csum_off;
	}
	if (g->type != MQTTIP_GSO_NONE && g->segments > 1) {
		if (g->type == MQTTIP_GSO_UDP)
			h.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
		else
			h.gso_type =
			    g->version == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
		h.gso_size = g->size;
		h.hdr_len = g->hdr_len;
	}
	memcpy(hdr, &h, sizeof(h));
}

static int set_flags_up(int sock, const char *ifname, char *err, size_t cap)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return set_error(err, cap, "%s: cannot read flags: %s", ifname, strerror(errno));
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return set_error(err, cap, "%s: cannot bring up: %s", ifname, strerror(errno));
	return 0;
}

static int set_v4(int sock, const char *ifname, const struct netaddr *a, uint8_t prefix, char *err,
		  size_t cap)
{
	struct ifreq ifr;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	uint32_t mask = prefix ? UINT32_MAX << (32 - prefix) : 0;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	memcpy(&sin.sin_addr, a->bytes, 4);
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	if (ioctl(sock, SIOCSIFADDR, &ifr) < 0)
		return set_error(err, cap, "%s: cannot set IPv4 address: %s", ifname,
				 strerror(errno));
	sin.sin_addr.s_addr = htonl(mask);
	memcpy(&ifr.ifr_netmask, &sin, sizeof(sin));
	if (ioctl(sock, SIOCSIFNETMASK, &ifr) < 0)
		return set_error(err, cap, "%s: cannot set IPv4 netmask: %s", ifname,
				 strerror(errno));
	if (prefix < 31) {
		/* a TUN device has no IFF_BROADCAST, so the kernel would not derive it; without it
		 * the subnet's broadcast address is not local and broadcasts from peers die */
		uint32_t host;

		memcpy(&host, a->bytes, 4);
		sin.sin_addr.s_addr = host | htonl(~mask);
		memcpy(&ifr.ifr_broadaddr, &sin, sizeof(sin));
		if (ioctl(sock, SIOCSIFBRDADDR, &ifr) < 0)
			return set_error(err, cap, "%s: cannot set IPv4 broadcast address: %s",
					 ifname, strerror(errno));
	}
	return 0;
}

static int set_v6(const char *ifname, const struct netaddr *a, uint8_t prefix, char *err,
		  size_t cap)
{
	struct tun_in6_ifreq req;
	int sock = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = 0;

	if (sock < 0)
		return set_error(err, cap, "IPv6 socket: %s", strerror(errno));
	memset(&req, 0, sizeof(req));
	memcpy(&req.addr, a->bytes, 16);
	req.prefixlen = prefix;
	req.ifindex = (int)if_nametoindex(ifname);
	if (!req.ifindex || ioctl(sock, SIOCSIFADDR, &req) < 0)
		rc =
		    set_error(err, cap, "%s: cannot set IPv6 address: %s", ifname, strerror(errno));
	close(sock);
	return rc;
}

/* The overlay has no link layer: a link-local address would only make the kernel send router
 * solicitations and neighbour discovery from an address no peer may accept (PROTOCOL.md 8.6).
 * Best effort: without IPv6 in the kernel there is nothing to switch off. */
static void disable_link_local(const char *ifname)
{
	char path[96];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/addr_gen_mode", ifname);
	f = fopen(path, "w");
	if (f) {
		fputs("1\n", f); /* IN6_ADDR_GEN_MODE_NONE */
		fclose(f);
	}
}

int tun_configure(const char *ifname, const struct netaddr *a4, uint8_t prefix4,
		  const struct netaddr *a6, uint8_t prefix6, unsigned mtu, char *err, size_t cap)
{
	struct ifreq ifr;
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	if (sock < 0)
		return set_error(err, cap, "socket: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	ifr.ifr_mtu = (int)mtu;
	if (ioctl(sock, SIOCSIFMTU, &ifr) < 0) {
		set_error(err, cap, "%s: cannot set MTU %u: %s", ifname, mtu, strerror(errno));
		goto out;
	}
	if (a4 && set_v4(sock, ifname, a4, prefix4, err, cap))
		goto out;
	disable_link_local(ifname);
	if (set_flags_up(sock, ifname, err, cap))
		goto out;
	if (a6 && set_v6(ifname, a6, prefix6, err, cap))
		goto out;
	rc = 0;
out:
	close(sock);
	return rc;
}
