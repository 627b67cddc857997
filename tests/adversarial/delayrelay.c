/* delayrelay - a TCP relay that delays every byte by a fixed time in each direction, for labs on
 * kernels without sch_netem (tc netem): the agents connect to it instead of the broker.
 *   delayrelay LISTEN_IP LISTEN_PORT TARGET_IP TARGET_PORT DELAY_MS
 * The delay starts off; SIGUSR1 turns it on (DELAY_MS one way, each direction), SIGUSR2 off.
 * Bytes read at time t are written at t + delay, in order (a per-direction queue and a writer
 * thread), so the relay adds latency without reordering or loss. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct chunk {
	struct chunk *next;
	uint64_t due_ns;
	size_t len; /* 0: end of stream */
	unsigned char data[];
};

struct conn;

struct pipe_dir {
	int from, to;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct chunk *head, *tail;
	struct conn *conn;
};

struct conn {
	struct pipe_dir dir[2];
	pthread_mutex_t lock;
	int done;
};

static volatile sig_atomic_t delay_on;
static uint64_t delay_ns;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_usr(int sig)
{
	delay_on = sig == SIGUSR1;
}

static void push(struct pipe_dir *p, struct chunk *c)
{
	pthread_mutex_lock(&p->lock);
	c->next = NULL;
	if (p->tail)
		p->tail->next = c;
	else
		p->head = c;
	p->tail = c;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

static void *reader(void *arg)
{
	struct pipe_dir *p = arg;
	unsigned char buf[65536];

	for (;;) {
		ssize_t n = read(p->from, buf, sizeof(buf));
		struct chunk *c = malloc(sizeof(*c) + (n > 0 ? (size_t)n : 0));

		if (!c)
			abort();
		c->len = n > 0 ? (size_t)n : 0;
		c->due_ns = now_ns() + (delay_on ? delay_ns : 0);
		if (n > 0)
			memcpy(c->data, buf, (size_t)n);
		push(p, c);
		if (n <= 0)
			return NULL;
	}
}

static void conn_release(struct conn *c)
{
	int last;

	pthread_mutex_lock(&c->lock);
	last = ++c->done == 2;
	pthread_mutex_unlock(&c->lock);
	if (last) {
		close(c->dir[0].from);
		close(c->dir[1].from);
	}
}

static void *writer(void *arg)
{
	struct pipe_dir *p = arg;
	for (;;) {
		struct chunk *c;
		uint64_t now;

		pthread_mutex_lock(&p->lock);
		while (!p->head)
			pthread_cond_wait(&p->cond, &p->lock);
		c = p->head;
		p->head = c->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);
		now = now_ns();
		if (c->due_ns > now) {
			struct timespec ts = {(time_t)((c->due_ns - now) / 1000000000u),
					      (long)((c->due_ns - now) % 1000000000u)};

			while (nanosleep(&ts, &ts) && errno == EINTR)
				;
		}
		if (!c->len) {
			free(c);
			shutdown(p->to, SHUT_WR);
			break;
		}
		for (size_t off = 0; off < c->len;) {
			ssize_t w = write(p->to, c->data + off, c->len - off);

			if (w <= 0) {
				/* The other side is gone: stop reading this direction too. */
				shutdown(p->from, SHUT_RD);
				break;
			}
			off += (size_t)w;
		}
		free(c);
	}
	conn_release(p->conn);
	return NULL;
}

static int tcp_connect(const char *ip, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	inet_pton(AF_INET, ip, &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int lfd, one = 1;

	if (argc != 6) {
		fprintf(stderr, "usage: delayrelay LISTEN_IP LISTEN_PORT TARGET_IP TARGET_PORT "
				"DELAY_MS (SIGUSR1 on, SIGUSR2 off)\n");
		return 2;
	}
	delay_ns = (uint64_t)atol(argv[5]) * 1000000u;
	signal(SIGUSR1, on_usr);
	signal(SIGUSR2, on_usr);
	signal(SIGPIPE, SIG_IGN);
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &sa.sin_addr);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 64)) {
		perror("delayrelay: listen");
		return 1;
	}
	for (;;) {
		int cfd = accept(lfd, NULL, NULL), tfd;
		struct conn *c;
		pthread_t t;

		if (cfd < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		tfd = tcp_connect(argv[3], atoi(argv[4]));
		if (tfd < 0) {
			close(cfd);
			continue;
		}
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c)
			return 1;
		pthread_mutex_init(&c->lock, NULL);
		c->dir[0].from = cfd;
		c->dir[0].to = tfd;
		c->dir[1].from = tfd;
		c->dir[1].to = cfd;
		for (int i = 0; i < 2; i++) {
			c->dir[i].conn = c;
			pthread_mutex_init(&c->dir[i].lock, NULL);
			pthread_cond_init(&c->dir[i].cond, NULL);
			pthread_create(&t, NULL, reader, &c->dir[i]);
			pthread_detach(t);
			pthread_create(&t, NULL, writer, &c->dir[i]);
			pthread_detach(t);
		}
	}
}
