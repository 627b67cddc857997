/* broker.c - libmosquitto on the libuv loop (see broker.h). */
#define _GNU_SOURCE
#include "broker.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include <mqtt_protocol.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sodium.h>

#include "log.h"

#define BACKOFF_MIN_MS	      1000u
#define BACKOFF_MAX_MS	      60000u
#define STABLE_MS	      30000u  /* a session this long resets the backoff */
#define CONFLICT_CLEAR_MS     120000u /* ... and, this long, ends a suspected conflict */
#define CONFLICT_SHORT_CLOSES 3u      /* sessions closed by the broker within STABLE_MS */
#define TIMEOUT_DOUBLINGS     3u      /* the connect timeout grows up to 8 times */
#define FALLBACK_DELAY_MS     100u    /* retry in MQTT 3.1.1 at once */
#define READS_PER_WAKE	      256
#define MISC_PERIOD_MS	      1000
#define PROBE_STEP	      64u /* the size probe stops when it knows the limit this closely */

static int ssl_ex_index = -1;

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

static struct broker_endpoint *ep_now(struct broker *b)
{
	return &b->ep[b->cur];
}

const struct broker_endpoint *broker_current(const struct broker *b)
{
	return &b->ep[b->cur];
}

/* ---- causes ------------------------------------------------------------------------------ */

/* Records why an attempt or a session ended, for `mqttip status`, and logs it unless it was
 * logged since the last session (a broker that stays unreachable is one line, not one per
 * retry). */
__attribute__((format(printf, 2, 3))) static void set_cause(struct broker *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->last_error, sizeof(b->last_error), fmt, ap);
	va_end(ap);
	b->last_error_unix = (uint64_t)time(NULL);
	for (unsigned i = 0; i < b->n_logged && i < BROKER_CAUSES_KEPT; i++) {
		if (!strcmp(b->logged[i], b->last_error))
			return;
	}
	log_warn("broker %s: %s", ep_now(b)->url, b->last_error);
	snprintf(b->logged[b->n_logged++ % BROKER_CAUSES_KEPT], BROKER_CAUSE_MAX, "%s",
		 b->last_error);
}

static const char *after_last_colon(const char *s)
{
	const char *c = strrchr(s, ':');

	return c ? c + 1 : s;
}

/* The broker's certificate failed our verification: say why in words. */
static int verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl;
	struct broker *b;
	int e;
	const char *host;

	if (ok)
		return ok;
	ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	b = ssl ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ssl_ex_index) : NULL;
	if (!b || b->tls_verify[0])
		return ok;
	e = X509_STORE_CTX_get_error(x);
	host = ep_now(b)->host;
	switch (e) {
	case X509_V_ERR_HOSTNAME_MISMATCH:
		snprintf(b->tls_verify, sizeof(b->tls_verify),
			 "TLS: the broker's certificate does not name %s (hostname mismatch): its "
			 "subjectAltName must list the name the URL uses",
			 host);
		break;
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		snprintf(b->tls_verify, sizeof(b->tls_verify),
			 "TLS: the broker's certificate does not contain IP %s (IP address "
			 "mismatch): its subjectAltName must list the address the URL uses",
			 host);
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		snprintf(b->tls_verify, sizeof(b->tls_verify),
			 "TLS: the broker's certificate is not signed by this node's broker CA "
			 "(%s): is the bundle from another PKI?",
			 X509_verify_cert_error_string(e));
		break;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		snprintf(b->tls_verify, sizeof(b->tls_verify),
			 "TLS: the broker's certificate is outside its validity (%s): check it "
			 "and this host's clock",
			 X509_verify_cert_error_string(e));
		break;
	default:
		snprintf(b->tls_verify, sizeof(b->tls_verify),
			 "TLS: the broker's certificate was refused: %s",
			 X509_verify_cert_error_string(e));
		break;
	}
	return ok;
}

/* libmosquitto reports TLS failures only as log lines ("OpenSSL Error[0]: error:...:SSL
 * routines::tlsv1 alert unknown ca"): the broker's alerts say why it refused us. */
static void mosq_on_log(struct mosquitto *m, void *obj, int level, const char *str)
{
	struct broker *b = obj;
	const char *what;

	(void)m;
	if (level != MOSQ_LOG_ERR || strncmp(str, "OpenSSL Error", 13) || b->tls_error[0])
		return;
	what = after_last_colon(str);
	if (strstr(what, "alert unknown ca"))
		snprintf(b->tls_error, sizeof(b->tls_error),
			 "TLS: the broker does not trust this node's certificate (%s): is the "
			 "bundle from another PKI?",
			 what);
	else if (strstr(what, "alert certificate revoked"))
		snprintf(b->tls_error, sizeof(b->tls_error),
			 "TLS: the broker refused this node's certificate as revoked (%s)", what);
	else if (strstr(what, "alert certificate expired"))
		snprintf(b->tls_error, sizeof(b->tls_error),
			 "TLS: the broker refused this node's certificate as expired (%s)", what);
	else if (strstr(what, "alert"))
		snprintf(b->tls_error, sizeof(b->tls_error),
			 "TLS: the broker refused the handshake (%s)", what);
	else
		snprintf(b->tls_error, sizeof(b->tls_error), "TLS: %s", what);
}

/* ---- sizes ------------------------------------------------------------------------------- */

static void update_max_payload(struct broker *b)
{
	size_t m = b->max_message;

	if (b->broker_max_packet) {
		/* 1, not 0 (which means no limit), when not even the headers fit: every message is
		 * then an oversize drop in the engine, whatever libmosquitto would have done */
		size_t room = b->broker_max_packet > BROKER_PUBLISH_ROOM
				  ? b->broker_max_packet - BROKER_PUBLISH_ROOM
				  : 1;
		if (room < m)
			m = room;
	}
	if (b->probe_bad) {
		size_t ok = b->probe_ok ? b->probe_ok : BROKER_PROBE_MIN;

		if (ok < m)
			m = ok;
	}
	b->max_payload = m;
}

size_t broker_max_payload(const struct broker *b)
{
	return b->max_payload;
}

static void send_probe(struct broker *b, size_t size)
{
	int mid = 0;

	if (mosquitto_publish(b->mosq, &mid, b->probe_topic, (int)size, b->probe_buf, 1, false) !=
	    MOSQ_ERR_SUCCESS)
		return;
	b->probe_size = size;
	b->probe_mid = mid;
}

static void probe_done(struct broker *b)
{
	update_max_payload(b);
	if (b->probe_bad)
		log_warn("broker %s: refuses messages of %zu bytes and takes %zu (mosquitto's "
			 "message_size_limit?): messages limited to %zu bytes",
			 ep_now(b)->url, b->probe_bad, b->probe_ok, b->max_payload);
	if (b->max_payload < b->min_message)
		log_warn("broker %s: messages of at most %zu bytes are below the %zu that one "
			 "packet of the interface MTU needs: larger packets are dropped (counted "
			 "as oversize); lower --mtu or raise the broker's limit",
			 ep_now(b)->url, b->max_payload, b->min_message);
}

/* PUBACK of a size probe: bisect between the largest payload accepted and the smallest refused
 * ("packet too large", 0x95) until they are PROBE_STEP apart. */
static void probe_result(struct broker *b, int reason)
{
	size_t size = b->probe_size;

	b->probe_size = 0;
	if (reason == MQTT_RC_PACKET_TOO_LARGE) {
		b->probe_bad = size;
	} else if (reason < 0x80) {
		b->probe_ok = size;
	} else {
		log_debug("broker: size probe refused (%s): no size limit learnt",
			  mosquitto_reason_string(reason));
		b->probe_bad = 0;
		probe_done(b);
		return;
	}
	update_max_payload(b);
	if (!b->probe_bad) {
		probe_done(b); /* the first probe, at the full size, went through */
		return;
	}
	if (!b->probe_ok) {
		if (b->probe_bad <= BROKER_PROBE_MIN) {
			probe_done(b);
			return;
		}
		send_probe(b, b->probe_bad / 2 > BROKER_PROBE_MIN ? b->probe_bad / 2
								  : BROKER_PROBE_MIN);
	} else if (b->probe_bad - b->probe_ok <= PROBE_STEP) {
		probe_done(b);
		return;
	} else {
		send_probe(b, (b->probe_ok + b->probe_bad) / 2);
	}
	if (!b->probe_size)
		probe_done(b);
}

static void start_probe(struct broker *b)
{
	b->probe_ok = b->probe_bad = b->probe_size = 0;
	update_max_payload(b);
	if (b->protocol != 5 || !b->probe_topic[0] || b->max_payload < BROKER_PROBE_MIN) {
		probe_done(b);
		return;
	}
	send_probe(b, b->max_payload);
	if (!b->probe_size)
		probe_done(b);
}

/* ---- connection -------------------------------------------------------------------------- */

static void schedule_retry(struct broker *b, unsigned delay);
static void on_poll(uv_poll_t *h, int status, int events);

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

static unsigned next_backoff(struct broker *b)
{
	unsigned delay = b->backoff_ms;

	b->backoff_ms = b->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b->backoff_ms * 2;
	return delay;
}

static void next_endpoint(struct broker *b)
{
	b->cur = (b->cur + 1) % b->n_ep;
}

static const char *error_text(const struct broker *b, int rc)
{
	return rc == MOSQ_ERR_ERRNO ? strerror(b->sys_errno) : mosquitto_strerror(rc);
}

/* The session that had its CONNACK ended. */
static void session_lost(struct broker *b, int rc)
{
	uint64_t lasted = uv_now(b->loop) - b->session_started_ms;
	bool by_broker = b->disconnect_rc >= 0x80 || rc == MOSQ_ERR_CONN_LOST;

	b->losses++;
	if (b->disconnect_rc >= 0x80)
		set_cause(b, "the broker closed the session: %s (reason 0x%02x)",
			  mosquitto_reason_string(b->disconnect_rc), (unsigned)b->disconnect_rc);
	else if (b->tls_error[0])
		set_cause(b, "session lost: %s", b->tls_error);
	else if (rc == MOSQ_ERR_CONN_LOST)
		set_cause(b, "the broker closed the connection");
	else if (rc == MOSQ_ERR_KEEPALIVE)
		set_cause(b, "session lost: no answer to the keepalive (link or broker stalled)");
	else
		set_cause(b, "session lost: %s", error_text(b, rc));

	if (lasted >= CONFLICT_CLEAR_MS) {
		b->short_closes = 0;
		if (b->conflict)
			log_info("broker %s: the session stayed up %llu s: no other client of node "
				 "%s seen any more",
				 ep_now(b)->url, (unsigned long long)(lasted / 1000), b->identity);
		b->conflict = false;
	} else if (lasted < STABLE_MS && by_broker) {
		b->short_closes++;
	}
	if (!b->conflict && (b->disconnect_rc == MQTT_RC_SESSION_TAKEN_OVER ||
			     b->short_closes >= CONFLICT_SHORT_CLOSES)) {
		b->conflict = true;
		log_warn("broker %s: another client uses node name %s (this certificate): %s; "
			 "retrying with backoff up to %u s",
			 ep_now(b)->url, b->identity,
			 b->disconnect_rc == MQTT_RC_SESSION_TAKEN_OVER
			     ? "the broker says its session took ours over (reason 0x8e)"
			     : "the broker closed our session soon after accepting it, again and "
			       "again",
			 BACKOFF_MAX_MS / 1000);
	}
	if (lasted >= (b->conflict ? CONFLICT_CLEAR_MS : STABLE_MS))
		b->backoff_ms = BACKOFF_MIN_MS;
	/* a 3.1.1 guessed from a silent close lasts one session: the close may have had another
	 * cause (a connection limit, a broker going down), and v5 brings the broker's limits */
	if (ep_now(b)->v311_guess)
		ep_now(b)->v311 = false;
	next_endpoint(b);
	schedule_retry(b, next_backoff(b));
}

/* TCP connected and, for TLS, the handshake done: what follows is MQTT. Noted while the
 * socket is open (libmosquitto frees the TLS state when it closes it). */
static void note_transport(struct broker *b)
{
	SSL *ssl;

	if (b->transport_up || !b->tcp_up || !b->mosq)
		return;
	ssl = ep_now(b)->tls ? mosquitto_ssl_get(b->mosq) : NULL;
	b->transport_up = !ep_now(b)->tls || (ssl && SSL_is_init_finished(ssl));
}

/* The broker ended the connection without a word: a clean close, or over TLS a reset
 * (libmosquitto reports that as EPROTO; an OpenSSL error or alert, in tls_error, is a word). */
static bool closed_without_answer(const struct broker *b, const struct broker_endpoint *e, int rc)
{
	return rc == MOSQ_ERR_CONN_LOST ||
	       (e->tls && rc == MOSQ_ERR_ERRNO && b->sys_errno == EPROTO && !b->tls_error[0]);
}

/* The attempt ended without a session. */
static void attempt_failed(struct broker *b, int rc, int sock_err)
{
	struct broker_endpoint *e = ep_now(b);
	bool v5 = !e->v311;

	b->failures++;
	log_debug("broker %s: attempt ended: %s, TCP %s, %s, CONNACK %d", e->url,
		  mosquitto_strerror(rc), b->tcp_up ? "up" : "not up",
		  b->transport_up ? "transport up" : "transport not up", b->connack_rc);
	if (b->tls_verify[0]) {
		set_cause(b, "%s", b->tls_verify);
	} else if (b->connack_rc > 0) {
		if (v5 && (b->connack_rc == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION ||
			   b->connack_rc == CONNACK_REFUSED_PROTOCOL_VERSION)) {
			e->v311 = true;
			e->v311_guess = false;
			log_info("broker %s does not speak MQTT v5: using 3.1.1", e->url);
			schedule_retry(b, FALLBACK_DELAY_MS);
			return;
		}
		set_cause(b, "the broker refused the connection: %s (%s 0x%02x)",
			  v5 ? mosquitto_reason_string(b->connack_rc)
			     : mosquitto_connack_string(b->connack_rc),
			  v5 ? "reason" : "return code", (unsigned)b->connack_rc);
	} else if (b->tls_error[0]) {
		set_cause(b, "%s", b->tls_error);
	} else if (sock_err) {
		set_cause(b, "TCP: %s", strerror(sock_err));
	} else if (b->transport_up && v5 && rc == MOSQ_ERR_CONN_LOST) {
		/* closed after our CONNECT without a word: perhaps a broker that does not know v5
		 */
		e->v311 = true;
		if (!e->v311_guess)
			log_info("broker %s closed the connection without answering an MQTT v5 "
				 "CONNECT: trying 3.1.1",
				 e->url);
		e->v311_guess = true;
		schedule_retry(b, FALLBACK_DELAY_MS);
		return;
	} else if (!v5 && b->transport_up && e->v311_guess && closed_without_answer(b, e, rc)) {
		/* 3.1.1 closed too (cleanly, or by a reset: with TLS 1.3 a refused client
		 * certificate can look so when the reset swallows the alert): the broker closes on
		 * this client, not on v5; staying on 3.1.1 would cost a v5 broker its limits and
		 * reason codes. v311_guess stays set: the next v5 close is not announced again. */
		e->v311 = false;
		set_cause(b,
			  "the broker closed the connection after the CONNECT without an answer, "
			  "in MQTT v5 and in 3.1.1: it refuses this client (%s)",
			  e->tls ? "its certificate? check it with `mqttip pki verify`"
				 : "its client id or address?");
	} else if (rc == MOSQ_ERR_CONN_LOST) {
		set_cause(b, "the broker closed the connection before accepting it");
	} else if (e->tls && rc == MOSQ_ERR_ERRNO && b->sys_errno == EPROTO) {
		/* libmosquitto says EPROTO for any TLS failure; with no OpenSSL error it was a
		 * reset, which can swallow the broker's alert */
		set_cause(b, "TLS: the broker reset the connection during the handshake without a "
			     "reason (it may refuse this node's certificate)");
	} else {
		set_cause(b, "cannot connect: %s", error_text(b, rc));
	}
	next_endpoint(b);
	schedule_retry(b, next_backoff(b));
}

/* Every end of a connection or an attempt comes here, exactly once. */
static void connection_ended(struct broker *b, int rc, int sock_err)
{
	bool was_connected = b->connected, was_congested = b->congested;

	close_poll(b);
	b->connected = false;
	b->congested = false;
	b->protocol = 0;
	b->probe_size = 0;
	if (b->stopping)
		return;
	if (was_congested && b->cb.on_drained)
		b->cb.on_drained(b->ctx); /* nothing will drain now: the producer must not wait */
	if (was_connected)
		session_lost(b, rc);
	else
		attempt_failed(b, rc, sock_err);
}

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

/* The socket's pending error (a refused or unreachable TCP connection), 0 none. */
static int socket_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 ? err : 0;
}

/* Before the first readable/writable event the TCP state is unknown: was the connection
 * refused, or made and then reset or closed by the broker (fast enough that we never saw it
 * up)? Returns the socket error that refused it, 0 when it was (or is) up. */
static int settle_tcp(struct broker *b, int events)
{
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	int err;

	if (b->tcp_up)
		return 0; /* every wake-up of a session comes here: no system call for it */
	err = socket_error(b->poll_fd);
	/* a reset or a hang-up needs a connection that was made */
	b->tcp_up = err == ECONNRESET || err == EPIPE ||
		    (!err && getpeername(b->poll_fd, (struct sockaddr *)&sa, &sl) == 0);
	note_transport(b);
	if (b->tcp_up)
		return 0;
	/* Under TLS libmosquitto writes the ClientHello at once, and that write may already have
	 * taken the socket's error: a hang-up before the connection was up is a refusal. */
	return err ? err : (events & UV_DISCONNECT) ? ECONNREFUSED : 0;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct broker *b = h->data;
	int rc = MOSQ_ERR_SUCCESS;
	int err = settle_tcp(b, status < 0 ? UV_DISCONNECT : events);

	/* libuv reports POLLERR (a reset, a refusal) as a status */
	if (status < 0 || err) {
		connection_ended(b, MOSQ_ERR_CONN_LOST, b->tcp_up ? 0 : err ? err : ECONNREFUSED);
		return;
	}
	note_transport(b);
	if (events & UV_WRITABLE) {
		/* During the TLS handshake only loop_read advances it. */
		rc = b->connected ? mosquitto_loop_write(b->mosq, 1)
				  : mosquitto_loop_read(b->mosq, 1);
		if (rc == MOSQ_ERR_SUCCESS && !b->connected && b->poll &&
		    mosquitto_socket(b->mosq) == b->poll_fd)
			rc = mosquitto_loop_write(b->mosq, 1);
	}
	if (rc == MOSQ_ERR_SUCCESS && b->poll && (events & UV_READABLE)) {
		for (int i = 0; i < READS_PER_WAKE; i++) {
			rc = mosquitto_loop_read(b->mosq, 1);
			if (rc != MOSQ_ERR_SUCCESS || !b->poll ||
			    mosquitto_socket(b->mosq) != b->poll_fd ||
			    !socket_has_bytes(b->poll_fd))
				break;
		}
	}
	if (rc == MOSQ_ERR_SUCCESS && b->poll && mosquitto_socket(b->mosq) == b->poll_fd &&
	    mosquitto_want_write(b->mosq))
		rc = mosquitto_loop_write(b->mosq, 1); /* what the callbacks queued */
	if (rc == MOSQ_ERR_ERRNO)
		b->sys_errno = errno;
	if (!b->poll)
		return;
	note_transport(b);
	/* An error; a DISCONNECT from the broker (libmosquitto closed the socket); or the peer's
	 * FIN with nothing left to read, which libmosquitto 2.0 under TLS reports as "try again"
	 * while connecting, and which would spin. */
	if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(b->mosq) != b->poll_fd ||
	    ((events & UV_DISCONNECT) && !socket_has_bytes(b->poll_fd))) {
		connection_ended(b, rc != MOSQ_ERR_SUCCESS ? rc : MOSQ_ERR_CONN_LOST, 0);
		return;
	}
	arm_poll(b);
	if (b->congested && !mosquitto_want_write(b->mosq)) {
		b->congested = false;
		if (b->cb.on_drained)
			b->cb.on_drained(b->ctx);
	}
}

static void mosq_on_connect(struct mosquitto *m, void *obj, int rc, int flags,
			    const mosquitto_property *props)
{
	struct broker *b = obj;
	struct broker_endpoint *e = ep_now(b);
	uint32_t mps = 0;

	(void)m;
	(void)flags;
	if (rc != 0) {
		b->connack_rc = rc; /* loop_read returns an error next: attempt_failed says why */
		return;
	}
	b->connack_rc = 0;
	b->connected = true;
	if (!e->v311)
		e->v311_guess = false; /* v5 works here */
	b->connects++;
	b->protocol = e->v311 ? 4 : 5;
	b->session_started_ms = uv_now(b->loop);
	b->timeouts_in_row = 0;
	b->connect_timeout_ms = b->timeout_base_ms;
	b->n_logged = 0;
	b->broker_max_packet = props && mosquitto_property_read_int32(
					    props, MQTT_PROP_MAXIMUM_PACKET_SIZE, &mps, false)
				   ? mps
				   : 0;
	if (b->conflict)
		log_debug("broker %s: connected", e->url);
	else
		log_info("broker %s: connected (%s, MQTT %s)", e->url, e->tls ? "TLS" : "plain TCP",
			 e->v311 ? "3.1.1" : "v5");
	update_max_payload(b);
	if (b->broker_max_packet)
		log_info("broker %s: maximum packet size %u bytes: messages up to %zu bytes",
			 e->url, (unsigned)b->broker_max_packet, b->max_payload);
	start_probe(b);
	if (b->cb.on_connect)
		b->cb.on_connect(b->ctx);
}

static void mosq_on_disconnect(struct mosquitto *m, void *obj, int rc,
			       const mosquitto_property *props)
{
	struct broker *b = obj;

	(void)m;
	(void)props;
	/* rc is a DISCONNECT reason code from the broker (>= 0x80) or a MOSQ_ERR_* (small) */
	if (rc >= 0x80)
		b->disconnect_rc = rc;
}

static void mosq_on_publish(struct mosquitto *m, void *obj, int mid, int reason,
			    const mosquitto_property *props)
{
	struct broker *b = obj;

	(void)m;
	(void)props;
	if (b->probe_size && mid == b->probe_mid)
		probe_result(b, reason);
}

static void mosq_on_subscribe(struct mosquitto *m, void *obj, int mid, int count,
			      const int *granted, const mosquitto_property *props)
{
	struct broker *b = obj;

	(void)m;
	(void)props;
	for (size_t i = 0; i < sizeof(b->subs) / sizeof(b->subs[0]); i++) {
		if (b->subs[i].mid != mid)
			continue;
		if (count >= 1 && granted[0] >= 0x80)
			log_warn("broker %s refused the subscription to %s (%s)", ep_now(b)->url,
				 b->subs[i].filter,
				 b->protocol == 5 ? mosquitto_reason_string(granted[0])
						  : "failure");
		b->subs[i].mid = 0;
		break;
	}
}

static void mosq_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
			    const mosquitto_property *props)
{
	struct broker *b = obj;

	(void)m;
	(void)props;
	if (msg->payloadlen < 0)
		return;
	b->cb.on_message(b->ctx, msg->topic, msg->payload, (size_t)msg->payloadlen, msg->retain);
}

/* A fresh client per attempt: libmosquitto keeps a learnt Maximum Packet Size and a TLS context
 * across reconnections, and each endpoint may need its own. */
static int make_client(struct broker *b)
{
	struct broker_endpoint *e = ep_now(b);

	if (b->mosq)
		mosquitto_destroy(b->mosq);
	b->mosq = mosquitto_new(b->client_id, true, b);
	if (!b->mosq)
		return MOSQ_ERR_NOMEM;
	mosquitto_int_option(b->mosq, MOSQ_OPT_PROTOCOL_VERSION,
			     e->v311 ? MQTT_PROTOCOL_V311 : MQTT_PROTOCOL_V5);
	mosquitto_int_option(b->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	if (e->tls) {
		if (!e->ssl_ctx)
			return MOSQ_ERR_TLS;
		mosquitto_void_option(b->mosq, MOSQ_OPT_SSL_CTX, e->ssl_ctx); /* own reference */
		mosquitto_int_option(b->mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
	}
	if (b->user[0] && mosquitto_username_pw_set(b->mosq, b->user, b->pass[0] ? b->pass : NULL))
		return MOSQ_ERR_INVAL;
	mosquitto_connect_v5_callback_set(b->mosq, mosq_on_connect);
	mosquitto_disconnect_v5_callback_set(b->mosq, mosq_on_disconnect);
	mosquitto_publish_v5_callback_set(b->mosq, mosq_on_publish);
	mosquitto_subscribe_v5_callback_set(b->mosq, mosq_on_subscribe);
	mosquitto_message_v5_callback_set(b->mosq, mosq_on_message);
	mosquitto_log_callback_set(b->mosq, mosq_on_log);
	return MOSQ_ERR_SUCCESS;
}

static void start_poll(struct broker *b)
{
	int fd = mosquitto_socket(b->mosq);

	b->poll = fd < 0 ? NULL : malloc(sizeof(*b->poll));
	if (!b->poll || uv_poll_init(b->loop, b->poll, fd) < 0) {
		free(b->poll);
		b->poll = NULL;
		attempt_failed(b, MOSQ_ERR_NO_CONN, 0);
		return;
	}
	b->poll->data = b;
	b->poll_fd = fd;
	b->poll_events = 0;
	arm_poll(b);
}

static void connect_now(struct broker *b)
{
	struct broker_endpoint *e = ep_now(b);
	int rc;

	b->attempt_started_ms = uv_now(b->loop);
	b->tcp_up = b->transport_up = false;
	b->connack_rc = -1;
	b->disconnect_rc = -1;
	b->tls_verify[0] = b->tls_error[0] = '\0';
	b->broker_max_packet = 0;
	memset(b->subs, 0, sizeof(b->subs)); /* message ids start again with the new client */
	rc = make_client(b);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_connect_async(b->mosq, e->host, e->port, (int)b->keepalive);
	if (rc == MOSQ_ERR_ERRNO)
		b->sys_errno = errno;
	if (rc != MOSQ_ERR_SUCCESS) {
		attempt_failed(b, rc, 0);
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

static void schedule_retry(struct broker *b, unsigned delay)
{
	unsigned jitter = delay / 2;

	delay = delay - delay / 4 + (jitter ? randombytes_uniform(jitter + 1) : 0);
	log_debug("broker %s: next attempt in %.1f s", ep_now(b)->url, delay / 1000.0);
	uv_timer_start(&b->retry_timer, on_retry, delay, 0);
}

static void attempt_timed_out(struct broker *b)
{
	SSL *ssl = ep_now(b)->tls ? mosquitto_ssl_get(b->mosq) : NULL;
	unsigned secs = b->connect_timeout_ms / 1000;

	close_poll(b);
	b->failures++;
	if (!b->tcp_up)
		set_cause(b, "no TCP connection within %u s", secs);
	else if (ssl && !SSL_is_init_finished(ssl))
		set_cause(b, "TLS handshake not finished within %u s", secs);
	else
		set_cause(b, "no CONNACK within %u s", secs);
	if (b->timeouts_in_row < TIMEOUT_DOUBLINGS)
		b->timeouts_in_row++;
	b->connect_timeout_ms = b->timeout_base_ms << b->timeouts_in_row;
	log_info("broker %s: next connect timeout %u s", ep_now(b)->url,
		 b->connect_timeout_ms / 1000);
	next_endpoint(b);
	schedule_retry(b, next_backoff(b));
}

static void on_misc(uv_timer_t *t)
{
	struct broker *b = t->data;
	int rc;

	if (!b->poll)
		return;
	if (!b->connected && uv_now(b->loop) - b->attempt_started_ms >= b->connect_timeout_ms) {
		attempt_timed_out(b);
		return;
	}
	rc = mosquitto_loop_misc(b->mosq);
	if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(b->mosq) != b->poll_fd) {
		connection_ended(
		    b, rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_NO_CONN ? MOSQ_ERR_KEEPALIVE : rc,
		    0);
		return;
	}
	arm_poll(b);
}

int broker_init(struct broker *b, uv_loop_t *loop, const struct broker_options *o,
		const struct broker_callbacks *cb, void *ctx, char *err, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->loop = loop;
	b->poll_fd = -1;
	if (!o->n_urls || o->n_urls > BROKER_MAX_URLS)
		return set_error(err, cap, "between 1 and %d broker URLs, not %zu", BROKER_MAX_URLS,
				 o->n_urls);
	for (size_t i = 0; i < o->n_urls; i++) {
		struct broker_endpoint *e = &b->ep[i];

		if (strlen(o->urls[i]) >= sizeof(e->url))
			return set_error(err, cap, "broker URL too long: %s", o->urls[i]);
		if (broker_parse_url(o->urls[i], &e->tls, e->host, sizeof(e->host), &e->port, err,
				     cap))
			return -1;
		snprintf(e->url, sizeof(e->url), "%s", o->urls[i]);
	}
	b->n_ep = o->n_urls;
	if (ssl_ex_index < 0)
		ssl_ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	b->keepalive = o->keepalive_s;
	b->timeout_base_ms = b->connect_timeout_ms = o->connect_timeout_ms;
	b->max_message = b->max_payload = o->max_message;
	b->min_message = o->min_message;
	b->cb = *cb;
	b->ctx = ctx;
	b->backoff_ms = BACKOFF_MIN_MS;
	snprintf(b->client_id, sizeof(b->client_id), "%s", o->client_id);
	snprintf(b->user, sizeof(b->user), "%s", o->user ? o->user : "");
	snprintf(b->pass, sizeof(b->pass), "%s", o->pass ? o->pass : "");
	snprintf(b->identity, sizeof(b->identity), "%s", o->identity ? o->identity : "?");
	snprintf(b->probe_topic, sizeof(b->probe_topic), "%s",
		 o->probe_topic ? o->probe_topic : "");
	if (b->probe_topic[0] && !(b->probe_buf = calloc(1, o->max_message)))
		return set_error(err, cap, "out of memory");
	uv_timer_init(loop, &b->retry_timer);
	uv_timer_init(loop, &b->misc_timer);
	b->retry_timer.data = b;
	b->misc_timer.data = b;
	return 0;
}

int broker_set_tls(struct broker *b, SSL_CTX *const *ctxs, char *err, size_t cap)
{
	for (size_t i = 0; i < b->n_ep; i++) {
		if (b->ep[i].tls && !ctxs[i])
			return set_error(err, cap,
					 "a TLS broker needs the node's client certificate "
					 "(--bundle or --cert/--key/--cafile)");
	}
	for (size_t i = 0; i < b->n_ep; i++) {
		SSL_CTX_free(b->ep[i].ssl_ctx);
		b->ep[i].ssl_ctx = NULL;
		b->ep[i].v311 = false; /* new credentials: v5 gets another chance */
		b->ep[i].v311_guess = false;
		if (!b->ep[i].tls)
			continue;
		SSL_CTX_up_ref(ctxs[i]);
		b->ep[i].ssl_ctx = ctxs[i];
		SSL_CTX_set_ex_data(ctxs[i], ssl_ex_index, b);
		SSL_CTX_set_verify(ctxs[i], SSL_VERIFY_PEER, verify_cb);
	}
	/* A live session keeps its TLS connection: the broker accepted it, and a renewal (same
	 * name, same addresses: node_reload refuses others) must not cost a packet. The new
	 * contexts serve the next connection. */
	if (!b->started || b->stopping || b->connected)
		return 0;
	close_poll(b);
	if (b->congested) {
		b->congested = false;
		if (b->cb.on_drained)
			b->cb.on_drained(
			    b->ctx); /* the old queue is gone: the producer must not wait */
	}
	b->backoff_ms = BACKOFF_MIN_MS;
	uv_timer_stop(&b->retry_timer);
	connect_now(b);
	return 0;
}

void broker_start(struct broker *b)
{
	b->started = true;
	uv_timer_start(&b->misc_timer, on_misc, MISC_PERIOD_MS, MISC_PERIOD_MS);
	connect_now(b);
}

int broker_publish(struct broker *b, const char *topic, const void *payload, size_t len, int qos,
		   bool retain)
{
	int rc;

	if (!b->connected)
		return BROKER_ERR_DOWN;
	if (len > b->max_payload) {
		b->publish_refused++;
		return BROKER_ERR_OVERSIZE;
	}
	rc = mosquitto_publish(b->mosq, NULL, topic, (int)len, payload, qos, retain);
	if (rc == MOSQ_ERR_OVERSIZE_PACKET) {
		b->publish_refused++;
		return BROKER_ERR_OVERSIZE;
	}
	if (rc != MOSQ_ERR_SUCCESS) {
		b->publish_errors++;
		return BROKER_ERR_DOWN;
	}
	if (mosquitto_want_write(b->mosq))
		b->congested = true;
	return BROKER_OK;
}

int broker_subscribe(struct broker *b, const char *filter, int qos)
{
	int mid = 0;
	int rc = mosquitto_subscribe_v5(b->mosq, &mid, filter, qos,
					b->protocol == 5 ? MQTT_SUB_OPT_NO_LOCAL : 0, NULL);

	if (rc != MOSQ_ERR_SUCCESS) {
		log_warn("cannot subscribe to %s: %s", filter, mosquitto_strerror(rc));
		return -1;
	}
	for (size_t i = 0; i < sizeof(b->subs) / sizeof(b->subs[0]); i++) {
		if (!b->subs[i].mid) {
			b->subs[i].mid = mid;
			snprintf(b->subs[i].filter, sizeof(b->subs[i].filter), "%s", filter);
			break;
		}
	}
	return 0;
}

int broker_unsubscribe(struct broker *b, const char *filter)
{
	if (!b->connected)
		return -1;
	return mosquitto_unsubscribe(b->mosq, NULL, filter) == MOSQ_ERR_SUCCESS ? 0 : -1;
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
	for (size_t i = 0; i < b->n_ep; i++) {
		SSL_CTX_free(b->ep[i].ssl_ctx);
		b->ep[i].ssl_ctx = NULL;
	}
	free(b->probe_buf);
	b->probe_buf = NULL;
}
