/* tun.c - TUN device set-up with ioctls on /dev/net/tun and AF_INET/AF_INET6 sockets. */
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

int tun_open(const char *ifname, char *err, size_t cap)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return set_error(
		    err, cap, "cannot open /dev/net/tun: %s%s", strerror(errno),
		    errno == EACCES || errno == EPERM ? " (needs root or CAP_NET_ADMIN)" : "");
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;

		close(fd);
		return set_error(err, cap, "cannot create TUN interface %s: %s%s", ifname,
				 strerror(e), e == EPERM ? " (needs root or CAP_NET_ADMIN)" : "");
	}
	return fd;
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
