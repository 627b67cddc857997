/* tcpcat.c - a minimal TCP copier for the agent tests (netcat is not on a fresh Debian):
 *   tcpcat listen ADDR PORT OUTFILE      accepts one connection, writes what arrives to OUTFILE
 *   tcpcat send ADDR PORT INFILE [KBPS]  connects, sends INFILE (at most KBPS KiB/s), closes
 * ADDR is IPv4 or IPv6. Exit 0 when the whole stream went through. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int make_addr(const char *host, const char *port, struct sockaddr_storage *ss,
		     socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	int p = atoi(port);

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p);
		*len = sizeof(*v4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*v6);
		return AF_INET6;
	}
	return -1;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int copy(int in, int out, long kbps)
{
	static char buf[65536];
	double start = now_s();
	long long total = 0;
	ssize_t n;

	while ((n = read(in, buf, kbps ? 16384 : sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0) {
				if (errno == EINTR)
					continue;
				perror("tcpcat: write");
				return 1;
			}
			off += w;
		}
		total += n;
		if (kbps) {
			double due = start + (double)total / (kbps * 1024.0);
			double wait = due - now_s();

			if (wait > 0)
				usleep((useconds_t)(wait * 1e6));
		}
	}
	if (n < 0) {
		perror("tcpcat: read");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam, s, fd, one = 1, rc;

	if (argc < 5 || (fam = make_addr(argv[2], argv[3], &ss, &len)) < 0) {
		fprintf(stderr, "usage: tcpcat listen|send ADDR PORT FILE [KBPS]\n");
		return 2;
	}
	s = socket(fam, SOCK_STREAM, 0);
	if (s < 0) {
		perror("tcpcat: socket");
		return 1;
	}
	if (!strcmp(argv[1], "listen")) {
		int c;

		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, (struct sockaddr *)&ss, len) < 0 || listen(s, 1) < 0) {
			perror("tcpcat: bind/listen");
			return 1;
		}
		fd = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		c = accept(s, NULL, NULL);
		if (fd < 0 || c < 0) {
			perror("tcpcat: accept/open");
			return 1;
		}
		rc = copy(c, fd, 0);
		close(c);
		if (close(fd) < 0)
			rc = 1;
		return rc;
	}
	fd = open(argv[4], O_RDONLY);
	if (fd < 0) {
		perror("tcpcat: open");
		return 1;
	}
	for (int i = 0; connect(s, (struct sockaddr *)&ss, len) < 0; i++) {
		if (i == 50) {
			perror("tcpcat: connect");
			return 1;
		}
		close(s);
		usleep(100000);
		s = socket(fam, SOCK_STREAM, 0);
	}
	rc = copy(fd, s, argc > 5 ? atol(argv[5]) : 0);
	if (shutdown(s, SHUT_WR) == 0) {
		char b[64];

		while (read(s, b, sizeof(b)) > 0)
			;
	}
	close(s);
	close(fd);
	return rc;
}
