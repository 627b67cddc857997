/* tun_echo - the floor of a ping through any TUN tunnel: a TUN device whose reader answers every
 * ICMP echo request itself (source and destination swapped, type 0, checksums fixed) and writes
 * the reply back, at once, from one blocking read loop. A ping to an address behind it pays what
 * every TUN tunnel adds to its transport: the kernel hands the request to a process it must wake,
 * and hands the reply to the ping it must wake again. Run it in a network namespace; it creates
 * IFNAME, and the caller addresses it and brings it up (ip addr/link) and pings an address of its
 * subnet. Runs until killed.
 * Usage: tun_echo IFNAME */
#define _GNU_SOURCE
#include <fcntl.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t sum16(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

int main(int argc, char **argv)
{
	uint8_t pkt[2048], addr[4];
	struct ifreq ifr;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: tun_echo IFNAME\n");
		return 2;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", argv[1]);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
		perror("tun_echo: /dev/net/tun");
		return 1;
	}
	for (;;) {
		ssize_t n = read(fd, pkt, sizeof(pkt));
		size_t ihl;
		uint16_t c;

		if (n < 0)
			return 1;
		ihl = (size_t)(pkt[0] & 15) * 4;
		if (n < 28 || pkt[0] >> 4 != 4 || pkt[9] != 1 || (size_t)n < ihl + 8 ||
		    pkt[ihl] != 8)
			continue;
		memcpy(addr, pkt + 12, 4);
		memcpy(pkt + 12, pkt + 16, 4);
		memcpy(pkt + 16, addr, 4);
		pkt[ihl] = 0; /* echo reply */
		pkt[ihl + 2] = pkt[ihl + 3] = 0;
		c = (uint16_t)~fold(sum16(pkt + ihl, (size_t)n - ihl));
		pkt[ihl + 2] = (uint8_t)(c >> 8);
		pkt[ihl + 3] = (uint8_t)c;
		if (write(fd, pkt, (size_t)n) < 0)
			return 1;
	}
}
