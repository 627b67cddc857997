/* broker.c - libmosquitto on the libuv loop (see broker.h). */
#define _GNU_SOURCE
#include "broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <sodium.h>

#include "log.h"

#define BACKOFF_MIN_MS	   1000u
#define BACKOFF_MAX_MS	   60000u
#define READS_PER_WAKE	   256
#define MISC_PERIOD_MS	   1000
#define CONNECT_TIMEOUT_MS 10000u

int broker_parse_url(const char *url, bool *tls, char *host, size_t host_cap, int *port, char *err,
		     size_t cap)
{
	const char *rest, *colon, *end;
	size_t hlen;

	if (!strncmp(url, "mqtts://", 8) || !strncmp(url, "ssl://", 6)) {
		*tls = true;
		*port = 8883;
	} else if (!strncmp(url, "mqtt://", 7) || !strncmp(url, "tcp://", 6)) {
		*tls = false;
		*port = 1883;
	} else {
		return set_error(
		    err, cap,
		    "broker URL '%s': expected mqtts://, ssl://, mqtt:// or tcp:// host:port", url);
	}
	rest = strstr(url, "://") + 3;
	if (*rest == '[') {
		end = strchr(rest, ']');
		if (!end)
			return set_error(err, cap, "broker URL '%s': missing ']'", url);
		rest++;
		hlen = (size_t)(end - rest);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon)
			return set_error(err, cap, "broker URL '%s': junk after ']'", url);
	} else {
		colon = strrchr(rest, ':');
		hlen = colon ? (size_t)(colon - rest) : strlen(rest);
	}
	if (!hlen || hlen >= host_cap)
		return set_error(err, cap, "broker URL '%s': bad host", url);
	memcpy(host, rest, hlen);
	host[hlen] = '\0';
	if (colon) {
		char *e;
		long p = strtol(colon + 1, &e, 10);

		if (*e == '/')
			e++;
		if (colon[1] < '0' || colon[1] > '9' || *e || p < 1 || p > 65535)
			return set_error(err, cap, "broker URL '%s': bad port", url);
		*port = (int)p;
	}
	return 0;
}

static void schedule_retry(struct broker *b);

static void poll_closed(uv_handle_t *h)
{
	free(h);
}

static void close_poll(struct broker *b)
{
	if (!b->poll)
		return;
	uv_close((uv_handle_t *)b->poll, poll_closed);
	b->poll = NULL;
	b->poll_fd = -1;
	b->poll_events = 0;
}

static void connection_lost(struct broker *b, int rc)
{
	bool was_connected = b->connected, was_congested = b->congested;

	close_poll(b);
	b->connected = false;
	b->congested = false;
	if (b->stopping)
		return;
	if (was_congested && b->cb.on_drained)
		b->cb.on_drained(b->ctx); /* nothing will drain now: the producer must not wait */
	b->losses++;
	if (was_connected)
		log_warn("broker %s:%d: connection lost (%s)", b->host, b->port,
			 mosquitto_strerror(rc));
	schedule_retry(b);
}

static void on_poll(uv_poll_t *h, int status, int events);

static void arm_poll(struct broker *b)
{
	int events;

	if (!b->poll)
		return;
	events = UV_READABLE | UV_DISCONNECT | (mosquitto_want_write(b->mosq) ? UV_WRITABLE : 0);
	if (events != b->poll_events) {
		b->poll_events = events;
		uv_poll_start(b->poll, events, on_poll);
	}
}

static bool socket_has_bytes(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) == 0 && n > 0;
}

/* While connecting, libmosquitto 2.0 reports a refused or reset TCP connection under TLS as
 * "try again" (SSL_ERROR_SYSCALL), which would spin: look at the socket ourselves. */
static bool connect_failed(struct broker *b, int events)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (events & UV_DISCONNECT)
		return true;
	return getsockopt(b->poll_fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct broker *b = h->data;
	int rc = MOSQ_ERR_SUCCESS;

	if (status < 0 || (!b->connected && connect_failed(b, events))) {
		connection_lost(b, MOSQ_ERR_CONN_REFUSED);
		return;
	}
	if (events & UV_WRITABLE) {
		/* During the TLS handshake only loop_read advances it. */
		rc = b->connected ? mosquitto_loop_write(b->mosq, 1)
				  : mosquitto_loop_read(b->mosq, 1);
		if (rc == MOSQ_ERR_SUCCESS && !b->connected)
			rc = mosquitto_loop_write(b->mosq, 1);
	}
	if (rc == MOSQ_ERR_SUCCESS && b->poll && (events & UV_READABLE)) {
		for (int i = 0; i < READS_PER_WAKE; i++) {
			rc = mosquitto_loop_read(b->mosq, 1);
			if (rc != MOSQ_ERR_SUCCESS || !b->poll || !socket_has_bytes(b->poll_fd))
				break;
		}
	}
	if (rc == MOSQ_ERR_SUCCESS && b->poll && mosquitto_want_write(b->mosq))
		rc = mosquitto_loop_write(b->mosq, 1); /* what the callbacks queued */
	if (rc != MOSQ_ERR_SUCCESS) {
		connection_lost(b, rc);
		return;
	}
	if (!b->poll)
		return;
	arm_poll(b);
	if (b->congested && !mosquitto_want_write(b->mosq)) {
		b->congested = false;
		if (b->cb.on_drained)
			b->cb.on_drained(b->ctx);
	}
}

static void start_poll(struct broker *b)
{
	int fd = mosquitto_socket(b->mosq);

	if (fd < 0) {
		schedule_retry(b);
		return;
	}
	b->poll = malloc(sizeof(*b->poll));
	if (!b->poll || uv_poll_init(b->loop, b->poll, fd) < 0) {
		free(b->poll);
		b->poll = NULL;
		schedule_retry(b);
		return;
	}
	b->poll->data = b;
	b->poll_fd = fd;
	b->connect_started_ms = uv_now(b->loop);
	b->poll_events = 0;
	arm_poll(b);
}

static void connect_now(struct broker *b)
{
	int rc = b->first_connect
		     ? mosquitto_connect_async(b->mosq, b->host, b->port, (int)b->keepalive)
		     : mosquitto_reconnect_async(b->mosq);

	b->first_connect = false;
	if (rc != MOSQ_ERR_SUCCESS) {
		log_warn("broker %s:%d: cannot connect: %s", b->host, b->port,
			 rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		schedule_retry(b);
		return;
	}
	start_poll(b);
}

static void on_retry(uv_timer_t *t)
{
	struct broker *b = t->data;

	if (!b->stopping)
		connect_now(b);
}

static void schedule_retry(struct broker *b)
{
	unsigned delay = b->backoff_ms;
	unsigned jitter = delay / 2;

	delay = delay - delay / 4 + (jitter ? randombytes_uniform(jitter + 1) : 0);
	log_info("broker %s:%d: retrying in %.1f s", b->host, b->port, delay / 1000.0);
	b->backoff_ms = b->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b->backoff_ms * 2;
	uv_timer_start(&b->retry_timer, on_retry, delay, 0);
}

static void on_misc(uv_timer_t *t)
{
	struct broker *b = t->data;
	int rc;

	if (!b->poll)
		return;
	if (!b->connected && uv_now(b->loop) - b->connect_started_ms >= CONNECT_TIMEOUT_MS) {
		log_warn("broker %s:%d: no answer within %u s", b->host, b->port,
			 CONNECT_TIMEOUT_MS / 1000);
		connection_lost(b, MOSQ_ERR_TLS_HANDSHAKE);
		return;
	}
	rc = mosquitto_loop_misc(b->mosq);
	if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
		connection_lost(b, rc);
		return;
	}
	if (rc == MOSQ_ERR_NO_CONN || mosquitto_socket(b->mosq) != b->poll_fd) {
		connection_lost(b, MOSQ_ERR_CONN_LOST);
		return;
	}
	arm_poll(b);
}

static void mosq_on_connect(struct mosquitto *m, void *obj, int rc)
{
	struct broker *b = obj;

	(void)m;
	if (rc != 0) {
		log_warn("broker %s:%d refused the connection: %s", b->host, b->port,
			 mosquitto_connack_string(rc));
		return; /* loop_read returns an error next: connection_lost retries */
	}
	b->connected = true;
	b->connects++;
	b->backoff_ms = BACKOFF_MIN_MS;
	log_info("broker %s:%d: connected (%s)", b->host, b->port, b->tls ? "TLS" : "plain TCP");
	if (b->cb.on_connect)
		b->cb.on_connect(b->ctx);
}

static void mosq_on_disconnect(struct mosquitto *m, void *obj, int rc)
{
	struct broker *b = obj;

	(void)m;
	if (b->connected && !b->stopping)
		log_warn("broker %s:%d: disconnected (%s)", b->host, b->port,
			 mosquitto_strerror(rc));
	b->connected = false;
}

static void mosq_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
	struct broker *b = obj;

	(void)m;
	if (msg->payloadlen < 0)
		return;
	b->cb.on_message(b->ctx, msg->topic, msg->payload, (size_t)msg->payloadlen, msg->retain);
}

static int create_client(struct broker *b, SSL_CTX *ssl_ctx, char *err, size_t cap)
{
	b->mosq = mosquitto_new(b->client_id, true, b);
	if (!b->mosq)
		return set_error(err, cap, "cannot create the MQTT client: %s", strerror(errno));
	mosquitto_int_option(b->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_int_option(b->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	if (b->tls) {
		if (!ssl_ctx)
			return set_error(err, cap,
					 "a TLS broker needs the node's client certificate "
					 "(--bundle or --cert/--key/--cafile)");
		/* libmosquitto takes its own reference */
		mosquitto_void_option(b->mosq, MOSQ_OPT_SSL_CTX, ssl_ctx);
		mosquitto_int_option(b->mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
	}
	if (b->user[0] && mosquitto_username_pw_set(b->mosq, b->user, b->pass[0] ? b->pass : NULL))
		return set_error(err, cap, "bad MQTT username or password");
	mosquitto_connect_callback_set(b->mosq, mosq_on_connect);
	mosquitto_disconnect_callback_set(b->mosq, mosq_on_disconnect);
	mosquitto_message_callback_set(b->mosq, mosq_on_message);
	b->first_connect = true;
	return 0;
}

int broker_init(struct broker *b, uv_loop_t *loop, const char *client_id, const char *user,
		const char *pass, SSL_CTX *ssl_ctx, const char *host, int port, bool tls,
		unsigned keepalive, const struct broker_callbacks *cb, void *ctx, char *err,
		size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->loop = loop;
	b->poll_fd = -1;
	b->tls = tls;
	b->port = port;
	b->keepalive = keepalive;
	b->cb = *cb;
	b->ctx = ctx;
	b->backoff_ms = BACKOFF_MIN_MS;
	snprintf(b->host, sizeof(b->host), "%s", host);
	snprintf(b->client_id, sizeof(b->client_id), "%s", client_id);
	snprintf(b->user, sizeof(b->user), "%s", user ? user : "");
	snprintf(b->pass, sizeof(b->pass), "%s", pass ? pass : "");
	uv_timer_init(loop, &b->retry_timer);
	uv_timer_init(loop, &b->misc_timer);
	b->retry_timer.data = b;
	b->misc_timer.data = b;
	return create_client(b, ssl_ctx, err, cap);
}

void broker_start(struct broker *b)
{
	uv_timer_start(&b->misc_timer, on_misc, MISC_PERIOD_MS, MISC_PERIOD_MS);
	connect_now(b);
}

int broker_reload_tls(struct broker *b, SSL_CTX *ssl_ctx, char *err, size_t cap)
{
	if (!b->tls)
		return 0;
	if (b->connected) {
		b->connected = false; /* a disconnection we want: not logged as a loss */
		mosquitto_disconnect(b->mosq);
	}
	close_poll(b);
	mosquitto_destroy(b->mosq);
	b->mosq = NULL;
	if (create_client(b, ssl_ctx, err, cap))
		return -1;
	b->backoff_ms = BACKOFF_MIN_MS;
	uv_timer_stop(&b->retry_timer);
	connect_now(b);
	return 0;
}

int broker_publish(struct broker *b, const char *topic, const void *payload, size_t len, int qos,
		   bool retain)
{
	int rc;

	if (!b->connected || len > INT32_MAX)
		return -1;
	rc = mosquitto_publish(b->mosq, NULL, topic, (int)len, payload, qos, retain);
	if (rc != MOSQ_ERR_SUCCESS) {
		b->publish_errors++;
		return -1;
	}
	if (mosquitto_want_write(b->mosq))
		b->congested = true;
	return 0;
}

int broker_subscribe(struct broker *b, const char *filter, int qos)
{
	int rc = mosquitto_subscribe(b->mosq, NULL, filter, qos);

	if (rc != MOSQ_ERR_SUCCESS)
		log_warn("cannot subscribe to %s: %s", filter, mosquitto_strerror(rc));
	return rc == MOSQ_ERR_SUCCESS ? 0 : -1;
}

int broker_unsubscribe(struct broker *b, const char *filter)
{
	int rc = mosquitto_unsubscribe(b->mosq, NULL, filter);

	if (rc != MOSQ_ERR_SUCCESS)
		log_warn("cannot unsubscribe from %s: %s", filter, mosquitto_strerror(rc));
	return rc == MOSQ_ERR_SUCCESS ? 0 : -1;
}

bool broker_congested(struct broker *b)
{
	return b->congested;
}

void broker_flush(struct broker *b)
{
	arm_poll(b);
}

void broker_stop(struct broker *b)
{
	b->stopping = true;
	if (b->connected) {
		mosquitto_disconnect(b->mosq);
		b->connected = false;
	}
	close_poll(b);
	uv_timer_stop(&b->retry_timer);
	uv_timer_stop(&b->misc_timer);
	uv_close((uv_handle_t *)&b->retry_timer, NULL);
	uv_close((uv_handle_t *)&b->misc_timer, NULL);
}

void broker_destroy(struct broker *b)
{
	if (b->mosq)
		mosquitto_destroy(b->mosq);
	b->mosq = NULL;
}
