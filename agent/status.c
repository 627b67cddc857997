/* status.c - the daemon's status socket (server) and `mqttip status` (client); see status.h. The
 * JSON document is status_json.c's. */
#define _GNU_SOURCE
#include "status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "daemon.h"
#include "log.h"
#include "status_json.h"
#include "statuspath.h"

struct out {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf ? o->buf + o->len : NULL, o->buf ? o->cap - o->len : 0, fmt,
			      ap);
		va_end(ap);
		if (n < 0) {
			o->failed = true;
			return;
		}
		if (o->buf && (size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = (o->cap ? o->cap * 2 : 4096) + (size_t)n;
		char *nb = realloc(o->buf, cap);

		if (!nb) {
			o->failed = true;
			return;
		}
		o->buf = nb;
		o->cap = cap;
	}
}

static void conflict_text(const struct broker *b, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (b->conflict)
		snprintf(buf, cap, "another client uses node name %s (this certificate)",
			 b->identity);
}

static void broker_text(struct daemon *d, struct out *o)
{
	const struct broker *b = &d->broker;
	const struct broker_endpoint *e = broker_current(b);
	uint64_t unix_now = (uint64_t)time(NULL);
	char conflict[160];

	out_printf(o, "  broker: %s (%s%s), %s, %llu connects, %llu losses, %llu failed attempts\n",
		   e->url, e->tls ? "TLS" : "plain TCP",
		   b->connected ? (b->protocol == 5 ? ", MQTT v5" : ", MQTT 3.1.1") : "",
		   b->connected ? "connected" : "not connected", (unsigned long long)b->connects,
		   (unsigned long long)b->losses, (unsigned long long)b->failures);
	if (b->connected && (b->broker_max_packet || b->probe_bad))
		out_printf(o, "  broker limit: messages up to %zu bytes\n", b->max_payload);
	conflict_text(b, conflict, sizeof(conflict));
	if (conflict[0])
		out_printf(o, "  broker conflict: %s\n", conflict);
	if (b->last_error[0])
		out_printf(o, "  last broker error: %s (%llu s ago)\n", b->last_error,
			   (unsigned long long)(unix_now > b->last_error_unix
						    ? unix_now - b->last_error_unix
						    : 0));
}

static void out_piece(void *arg, const char *piece, size_t len)
{
	out_printf(arg, "%.*s", (int)len, piece);
}

static void drops_text(struct out *o, const uint64_t *drops)
{
	drop_list_text(drops, out_piece, o);
}

static void own_addresses(struct daemon *d, struct out *o)
{
	char a[NETADDR_STR_MAX];

	for (size_t i = 0; i < d->node.id.n_own; i++) {
		netaddr_format(&d->node.id.own[i], a, sizeof(a));
		out_printf(o, "%s%s", i ? ", " : "", a);
	}
}

static void text_status(struct daemon *d, struct out *o, uint64_t now)
{
	struct node *n = &d->node;

	out_printf(o, "interface: %s\n  node: %s\n  up: %llu s\n  addresses: ", d->cfg.ifname,
		   n->id.secure ? n->id.cert.name : "(legacy only)",
		   (unsigned long long)((now - d->start_ms) / 1000));
	own_addresses(d, o);
	out_printf(o, "\n");
	broker_text(d, o);
	if (n->legacy)
		out_printf(o, "  legacy: on, %llu packets received, %llu sent\n",
			   (unsigned long long)n->legacy->rx_packets,
			   (unsigned long long)n->legacy->tx_packets);
	if (n->offload)
		out_printf(o,
			   "  offload: on, %llu super-packets sent whole, %llu in parts, %llu cut "
			   "into packets; %llu received whole, %llu coalesced\n",
			   (unsigned long long)n->offload_stats.tx_super,
			   (unsigned long long)n->offload_stats.tx_split,
			   (unsigned long long)n->offload_stats.tx_segmented,
			   (unsigned long long)n->offload_stats.rx_super,
			   (unsigned long long)n->offload_stats.rx_merged);
	drops_text(o, n->drops);
	for (size_t i = 0; i < n->peers.cap; i++) {
		struct peer *p = &n->peers.peers[i];
		char a[NETADDR_STR_MAX];

		if (!p->used)
			continue;
		netaddr_format(&p->addr, a, sizeof(a));
		out_printf(o, "\npeer: %s\n  address: %s\n", p->cert.name, a);
		if (p->handshake_done_ms)
			out_printf(o, "  latest handshake: %llu seconds ago%s\n",
				   (unsigned long long)((now - p->handshake_done_ms) / 1000),
				   node_peer_has_session(n, p, now) ? "" : " (no usable keys)");
		out_printf(
		    o,
		    "  transfer: %llu B received, %llu B sent (%llu / %llu packets, %llu / "
		    "%llu messages)\n",
		    (unsigned long long)p->stats.rx_bytes, (unsigned long long)p->stats.tx_bytes,
		    (unsigned long long)p->stats.rx_packets,
		    (unsigned long long)p->stats.tx_packets, (unsigned long long)p->stats.rx_msgs,
		    (unsigned long long)p->stats.tx_msgs);
		if (p->queue.count)
			out_printf(o, "  queued: %u packets (handshake running)\n", p->queue.count);
		drops_text(o, p->stats.drops);
	}
}

struct status_conn {
	uv_pipe_t pipe;
	struct daemon *d;
	char req[16];
	size_t len;
	uv_write_t write;
	struct out out;
};

static void conn_closed(uv_handle_t *h)
{
	struct status_conn *c = h->data;

	free(c->out.buf);
	free(c);
}

static void conn_written(uv_write_t *w, int status)
{
	struct status_conn *c = w->data;

	(void)status;
	uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct status_conn *c = h->data;

	(void)suggested;
	*buf = uv_buf_init(c->req + c->len, (unsigned)(sizeof(c->req) - 1 - c->len));
}

static void conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct status_conn *c = s->data;
	uint64_t now = uv_now(c->d->loop);
	uv_buf_t b;

	(void)buf;
	if (n > 0)
		c->len += (size_t)n;
	c->req[c->len] = '\0';
	if (n >= 0 && !strchr(c->req, '\n') && c->len < sizeof(c->req) - 1)
		return;
	uv_read_stop(s);
	if (!strncmp(c->req, "json", 4)) {
		c->out.buf = status_json(c->d, now, &c->out.len);
		c->out.cap = c->out.len;
		c->out.failed = c->out.buf == NULL;
	} else {
		text_status(c->d, &c->out, now);
	}
	if (c->out.failed || !c->out.len) {
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
		return;
	}
	b = uv_buf_init(c->out.buf, (unsigned)c->out.len);
	c->write.data = c;
	if (uv_write(&c->write, s, &b, 1, conn_written))
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

static void on_status_connection(uv_stream_t *server, int status)
{
	struct daemon *d = server->data;
	struct status_conn *c;

	if (status < 0 || !(c = calloc(1, sizeof(*c))))
		return;
	c->d = d;
	uv_pipe_init(d->loop, &c->pipe, 0);
	c->pipe.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) ||
	    uv_read_start((uv_stream_t *)&c->pipe, conn_alloc, conn_read))
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

/* The socket is ours while we hold a write lock on PATH.lock: a second agent given the same path
 * (two namespaces, one interface name) is refused instead of taking the socket over, and only
 * the lock holder ever unlinks PATH. One daemon per process, so the lock and the identity of the
 * bound socket are process state. */
static int lock_fd = -1;
static struct stat bound;

static int make_parents(const char *path, char *err, size_t cap)
{
	char dir[CONFIG_PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return set_error(err, cap, "cannot create %s: %s", dir, strerror(errno));
		*p = '/';
	}
	return 0;
}

static int take_lock(const char *path, char *err, size_t cap)
{
	char lock[CONFIG_PATH_MAX + 8], comm[64] = "";
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	FILE *f;

	snprintf(lock, sizeof(lock), "%s.lock", path);
	lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd < 0)
		return set_error(err, cap, "cannot open %s: %s", lock, strerror(errno));
	if (fcntl(lock_fd, F_SETLK, &fl) == 0)
		return 0;
	if (fcntl(lock_fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
		fl.l_pid = 0;
	snprintf(lock, sizeof(lock), "/proc/%d/comm", (int)fl.l_pid);
	if ((f = fopen(lock, "r")) != NULL) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	close(lock_fd);
	lock_fd = -1;
	set_error(err, cap,
		  "status socket %s is in use by process %d%s%s%s: another agent with this "
		  "interface name (in another network namespace?); give this one "
		  "--status-socket PATH or another -i",
		  path, (int)fl.l_pid, comm[0] ? " (" : "", comm, comm[0] ? ")" : "");
	return STATUS_SOCKET_IN_USE;
}

/* The socket is bound here, not by uv_pipe_bind: libuv unlinks the path of a socket it bound
 * when the handle closes, whatever is at that path by then. */
static int bind_socket(const char *path, char *err, size_t cap)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return set_error(err, cap, "status socket %s: path too long", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		set_error(err, cap, "status socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	chmod(path, 0600);
	if (stat(path, &bound) < 0)
		memset(&bound, 0, sizeof(bound));
	return fd;
}

int status_server_start(struct daemon *d, char *err, size_t cap)
{
	int rc, fd;

	if (make_parents(d->cfg.status_socket, err, cap))
		return -1;
	if ((rc = take_lock(d->cfg.status_socket, err, cap)) != 0)
		return rc;
	/* Holding the lock, whatever is at the path is a leftover of a dead agent. */
	unlink(d->cfg.status_socket);
	if ((fd = bind_socket(d->cfg.status_socket, err, cap)) < 0)
		return -1;
	uv_pipe_init(d->loop, &d->status_server, 0);
	d->status_server.data = d;
	d->status_open = true;
	rc = uv_pipe_open(&d->status_server, fd);
	if (rc)
		close(fd);
	else
		rc = uv_listen((uv_stream_t *)&d->status_server, 8, on_status_connection);
	if (rc)
		return set_error(err, cap, "status socket %s: %s", d->cfg.status_socket,
				 uv_strerror(rc));
	return 0;
}

void status_server_stop(struct daemon *d)
{
	struct stat st;

	if (!d->status_open)
		return;
	d->status_open = false;
	uv_close((uv_handle_t *)&d->status_server, NULL);
	/* Only the socket we bound, never one that replaced it (which may reuse the inode
	 * number: the change time tells them apart). */
	if (stat(d->cfg.status_socket, &st) == 0 && bound.st_ino && st.st_dev == bound.st_dev &&
	    st.st_ino == bound.st_ino && st.st_ctim.tv_sec == bound.st_ctim.tv_sec &&
	    st.st_ctim.tv_nsec == bound.st_ctim.tv_nsec)
		unlink(d->cfg.status_socket);
	if (lock_fd >= 0) {
		close(lock_fd);
		lock_fd = -1;
	}
}

/* The default socket is missing: agents in other network namespaces (statuspath.h) are named,
 * so that the user finds them. */
static void hint_other_namespaces(const char *ifname)
{
	DIR *dir = opendir(STATUSPATH_DIR);
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir)) != NULL) {
		char path[CONFIG_PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s.sock", STATUSPATH_DIR, e->d_name, ifname);
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			fprintf(
			    stderr,
			    "mqttip status: an agent with interface %s in network namespace %s: "
			    "ip netns exec %s mqttip status -i %s\n",
			    ifname, e->d_name, e->d_name, ifname);
	}
	closedir(dir);
}

static void status_usage(FILE *f, const void *ctx)
{
	(void)ctx;
	fprintf(f, "Usage: mqttip status [-i IFNAME | --socket PATH] [--json]\n"
		   "Shows the running tunnel of IFNAME (default mqttip0): broker, peers, "
		   "handshakes, traffic, drops.\n");
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"interface", required_argument, NULL, 'i'},
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct cli c = {
	    .command = "status", .usage = status_usage, .shortopts = ":i:h", .longopts = opts};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *ifname = "mqttip0", *path = NULL;
	char def[CONFIG_PATH_MAX], buf[4096];
	bool json = false;
	int opt, fd;
	ssize_t n;

	cli_begin(&c, argc, argv);
	while ((opt = cli_next(&c)) != CLI_END) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		default:
			return cli_exit_status(opt);
		}
	}
	if (cli_arguments(&c, 0, 0, "") == CLI_BAD)
		return MQTTIP_EXIT_USAGE;
	if (!path) {
		if (statuspath_default(ifname, def, sizeof(def))) {
			return cli_value_error(&c, "interface name '%s' too long", ifname);
		}
		path = def;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		return cli_value_error(&c, "socket path too long (at most %zu bytes)",
				       sizeof(sa.sun_path) - 1);
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr,
			"mqttip status: cannot connect to %s: %s (is 'mqttip up' running?)\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		if (path == def)
			hint_other_namespaces(ifname);
		return MQTTIP_EXIT_FAILED;
	}
	if (write(fd, json ? "json\n" : "text\n", 5) != 5) {
		fprintf(stderr, "mqttip status: %s: %s\n", path, strerror(errno));
		close(fd);
		return MQTTIP_EXIT_FAILED;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			break;
	}
	close(fd);
	return n < 0 ? MQTTIP_EXIT_FAILED : 0;
}
