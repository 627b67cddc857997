/* v311gate - a stand-in for a broker that does not speak MQTT v5 (such as RabbitMQ 3.10), for the
 * protocol fallback test: a plain-TCP relay in front of a real broker that reads each client's
 * CONNECT and, when its protocol level is 5, refuses it the way a 3.1.1 broker does (CONNACK
 * with return code 1, "unacceptable protocol version"), or with --silent closes the connection
 * without a word; any other CONNECT is passed on, and the connection relayed both ways.
 * With --mute N (N >= 1) it is instead a broker that refuses a client without a word for a while:
 * the first N accepted connections are closed after their CONNECT whatever its version, later
 * ones are relayed, v5 included.
 *   v311gate [--silent | --mute N] LISTEN_IP LISTEN_PORT TARGET_IP TARGET_PORT
 * One process per connection (fork). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in target;
static bool silent;
static long mute = -1; /* connections still to close after their CONNECT; -1: not muting */

static int read_full(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static void relay(int a, int b)
{
	struct pollfd p[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
	uint8_t buf[16384];

	for (;;) {
		if (poll(p, 2, -1) < 0)
			return;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0 || write(p[1 - i].fd, buf, (size_t)n) != n)
				return;
		}
	}
}

/* Reads the whole CONNECT (so that closing sends a FIN, not a reset that would discard the
 * CONNACK); refuses v5, else passes it on and relays. */
static void serve(int c)
{
	uint8_t pkt[4096];
	size_t n = 1, rem = 0, mult = 1;
	int up;

	if (read_full(c, pkt, 1) || pkt[0] != 0x10)
		return;
	do { /* remaining length, 1..4 bytes */
		if (n == 5 || read_full(c, pkt + n, 1))
			return;
		rem += (pkt[n] & 0x7fu) * mult;
		mult *= 128;
	} while (pkt[n++] & 0x80);
	/* name length (2), "MQTT" (4), level (1), ... */
	if (rem < 7 || n + rem > sizeof(pkt) || read_full(c, pkt + n, rem))
		return;
	if (mute > 0) {
		shutdown(c, SHUT_WR);
		return;
	}
	if (pkt[n + 6] == 5 && mute < 0) {
		static const uint8_t refuse[] = {0x20, 0x02, 0x00, 0x01};

		if (!silent && write(c, refuse, sizeof(refuse)) < 0)
			return;
		shutdown(c, SHUT_WR);
		return;
	}
	n += rem;
	up = socket(AF_INET, SOCK_STREAM, 0);
	if (up < 0 || connect(up, (struct sockaddr *)&target, sizeof(target)) < 0 ||
	    write(up, pkt, n) != (ssize_t)n)
		return;
	relay(c, up);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int s, one = 1, a = 1;

	if (argc > 1 && !strcmp(argv[1], "--silent")) {
		silent = true;
		a++;
	} else if (argc > 2 && !strcmp(argv[1], "--mute")) {
		char *end;

		mute = strtol(argv[2], &end, 10);
		if (*end || mute < 1)
			mute = 0; /* refused below */
		a += 2;
	}
	if (argc - a != 4 || inet_pton(AF_INET, argv[a], &sa.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[a + 2], &target.sin_addr) != 1 || mute == 0) {
		fprintf(stderr,
			"usage: v311gate [--silent | --mute N] LISTEN_IP PORT TARGET_IP PORT\n");
		return 2;
	}
	sa.sin_port = htons((uint16_t)atoi(argv[a + 1]));
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)atoi(argv[a + 3]));
	signal(SIGCHLD, SIG_IGN);
	s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 16) < 0) {
		perror("v311gate");
		return 1;
	}
	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c < 0)
			continue;
		if (fork() == 0) {
			close(s);
			serve(c);
			_exit(0);
		}
		close(c);
		if (mute > 0)
			mute--;
	}
}
