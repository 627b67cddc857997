/* mcastcat - one UDP datagram to or from an IPv4 multicast group, for the multicast tests.
 *   mcastcat send IFADDR GROUP PORT TEXT    sends TEXT from the interface with address IFADDR
 *   mcastcat recv IFADDR GROUP PORT SECONDS joins GROUP on the interface with address IFADDR
 *                                           (the kernel reports the membership: IGMP and
 *                                           /proc/net/igmp), prints the first datagram and exits
 *                                           0, or exits 1 after SECONDS without one.
 * "joined" is printed on stderr once the membership is in place. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: mcastcat send|recv IFADDR GROUP PORT TEXT|SECONDS\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct in_addr ifaddr;
	int s, one = 1;

	if (argc != 6 || inet_pton(AF_INET, argv[2], &ifaddr) != 1 ||
	    inet_pton(AF_INET, argv[3], &sa.sin_addr) != 1)
		return usage();
	sa.sin_port = htons((uint16_t)atoi(argv[4]));
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return 1;
	if (!strcmp(argv[1], "send")) {
		if (setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr, sizeof(ifaddr)) < 0 ||
		    sendto(s, argv[5], strlen(argv[5]), 0, (struct sockaddr *)&sa, sizeof(sa)) <
			0) {
			perror("mcastcat send");
			return 1;
		}
		return 0;
	}
	if (!strcmp(argv[1], "recv")) {
		struct ip_mreq mreq = {.imr_multiaddr = sa.sin_addr, .imr_interface = ifaddr};
		struct pollfd pfd = {.fd = s, .events = POLLIN};
		char buf[1500];
		ssize_t n;

		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) < 0) {
			perror("mcastcat recv");
			return 1;
		}
		fprintf(stderr, "joined\n");
		if (poll(&pfd, 1, atoi(argv[5]) * 1000) != 1)
			return 1;
		n = recv(s, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			return 1;
		buf[n] = '\0';
		printf("%s\n", buf);
		return 0;
	}
	return usage();
}
