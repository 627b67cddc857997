/* broker.h - the MQTT connection, driven from the libuv loop without a second thread: the
 * socket sits in a uv_poll_t (readable always, writable while libmosquitto has output queued),
 * mosquitto_loop_read/write run from its callback and mosquitto_loop_misc from a 1 s timer.
 *
 * Protocol: MQTT v5 first; a broker that answers "unsupported protocol version" (or closes the
 * connection after the CONNECT without any CONNACK) is spoken to in 3.1.1 from the next attempt
 * on (per broker URL, until the process restarts or reloads its credentials). Under v5 the
 * CONNACK's Maximum Packet Size and the reason codes of CONNACK, DISCONNECT and PUBACK are read;
 * subscriptions carry No Local.
 *
 * Several broker URLs (a cluster): tried in turn, moving to the next after a failed attempt or
 * a lost session.
 *
 * Retry: a failed attempt is retried after a backoff of 1 s doubling up to 60 s (+-25% jitter);
 * a CONNACK alone does not reset the backoff: only a session that stayed up STABLE (30 s; 120 s
 * while a conflict is suspected) does. An attempt without a CONNACK after connect-timeout is
 * abandoned; each such timeout doubles the next attempt's timeout (up to 8 times). A session that
 * the broker closes within 30 s of accepting it, three times in a row (or once with v5 reason
 * 0x8E "session taken over"), means that another client uses this identity: one log line and
 * broker.conflict say so until a session lasts 120 s.
 *
 * Causes: every attempt or session that ends has a cause in words (TLS verification result,
 * the broker's TLS alert, CONNACK or DISCONNECT reason, timeout and its phase, socket error);
 * it is logged once per distinct cause, not at every retry, and kept with its time for
 * `mqttip status`.
 *
 * Message size: broker_max_payload() is the largest payload broker_publish accepts: the owner's
 * max_message, lowered to what the broker's Maximum Packet Size leaves after the PUBLISH header
 * of the longest topic, and, under v5, to what a size probe found (brokers such as mosquitto's
 * message_size_limit silently drop larger PUBLISHes and do not announce it: QoS 1 probes on
 * probe_topic, which only this node reads, find the largest accepted payload by bisection from
 * the PUBACK reason 0x95 "packet too large"). A larger publish is refused and counted
 * (BROKER_ERR_OVERSIZE), never sent: the broker would disconnect or drop it.
 *
 * On every (re)connect the owner's on_connect subscribes and publishes again. mosquitto_publish
 * writes straight to the socket when called outside a libmosquitto callback; what the socket
 * cannot take stays queued, and broker_congested() tells the owner to stop producing until
 * on_drained is called. */
#ifndef MQTTIP_BROKER_H
#define MQTTIP_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mosquitto.h>
#include <openssl/ssl.h>
#include <uv.h>

#define BROKER_MAX_URLS	    8
#define BROKER_URL_MAX	    256
#define BROKER_CAUSE_MAX    512
#define BROKER_CAUSES_KEPT  4
#define BROKER_PROBE_MIN    1024u /* the smallest payload a size probe tries */
#define BROKER_PUBLISH_ROOM 170u  /* PUBLISH header, properties and longest topic (TOPIC_MAX) */

enum broker_publish_result {
	BROKER_OK = 0,
	BROKER_ERR_DOWN = -1,	  /* not connected, or libmosquitto refused */
	BROKER_ERR_OVERSIZE = -2, /* above broker_max_payload(): never sent */
};

struct broker_callbacks {
	void (*on_connect)(void *ctx);
	/* retained: the broker served it from its store (on subscribing), not live. */
	void (*on_message)(void *ctx, const char *topic, uint8_t *payload, size_t len,
			   bool retained);
	void (*on_drained)(void *ctx);
};

struct broker_options {
	const char *const *urls; /* 1..BROKER_MAX_URLS broker URLs (broker_parse_url) */
	size_t n_urls;
	const char *client_id, *user, *pass; /* user/pass may be NULL */
	const char *identity;		     /* node name, for the conflict message */
	const char *probe_topic;	     /* size probes go here; NULL: no probe */
	unsigned keepalive_s;
	unsigned connect_timeout_ms; /* of a first attempt */
	size_t max_message;	     /* largest payload the owner publishes, bytes */
	size_t min_message;	     /* payload one MTU-size packet needs: warned about below it */
};

struct broker_endpoint {
	char url[BROKER_URL_MAX];
	char host[256];
	int port;
	bool tls;
	bool v311;	  /* speak 3.1.1: v5 refused (until a reload), or v311_guess */
	bool v311_guess;  /* v5 was closed without a word: 3.1.1 for the next session only */
	SSL_CTX *ssl_ctx; /* owned (one reference); NULL for plain TCP */
};

struct broker_sub {
	int mid;
	char filter[160];
};

struct broker {
	uv_loop_t *loop;
	struct mosquitto *mosq;
	uv_poll_t *poll; /* one per socket; freed in its close callback */
	int poll_fd;
	int poll_events;
	uv_timer_t retry_timer, misc_timer;
	struct broker_endpoint ep[BROKER_MAX_URLS];
	size_t n_ep, cur;
	char client_id[256], user[256], pass[256], identity[64], probe_topic[160];
	unsigned keepalive;
	size_t max_message, min_message;
	struct broker_callbacks cb;
	void *ctx;
	bool started, connected, stopping, congested;

	/* the attempt in progress */
	uint64_t attempt_started_ms;
	unsigned connect_timeout_ms, timeout_base_ms, timeouts_in_row;
	bool tcp_up, transport_up;
	int connack_rc;			   /* -1 none yet */
	int disconnect_rc;		   /* v5 DISCONNECT reason from the broker, -1 none */
	char tls_verify[BROKER_CAUSE_MAX]; /* our verification of the broker's certificate */
	char tls_error[BROKER_CAUSE_MAX];  /* libmosquitto's OpenSSL error line */

	/* the session */
	int protocol; /* 5 or 4 (3.1.1) while connected */
	uint64_t session_started_ms;
	uint32_t broker_max_packet; /* CONNACK Maximum Packet Size; 0 none */
	size_t probe_ok, probe_bad; /* largest accepted / smallest refused probe; 0 unknown */
	size_t probe_size;	    /* in flight, 0 none */
	int probe_mid;
	uint8_t *probe_buf;
	size_t max_payload;
	struct broker_sub subs[32];

	/* retry and diagnosis */
	unsigned backoff_ms;
	unsigned short_closes; /* sessions in a row closed by the broker within 30 s */
	bool conflict;
	/* causes logged since the last session (a ring): each is logged once, even when two
	 * alternate (a TLS alert, or a reset that swallowed it) */
	char logged[BROKER_CAUSES_KEPT][BROKER_CAUSE_MAX];
	unsigned n_logged;
	int sys_errno;			   /* errno of the last MOSQ_ERR_ERRNO, taken at once */
	char last_error[BROKER_CAUSE_MAX]; /* for status */
	uint64_t last_error_unix;

	uint64_t connects, losses, failures, publish_refused, publish_errors;
};

/* Parses scheme://host:port (mqtts, ssl: TLS, default port 8883; mqtt, tcp: plain, 1883);
 * IPv6 hosts in brackets. Returns 0 or -1 with a reason in err. */
int broker_parse_url(const char *url, bool *tls, char *host, size_t host_cap, int *port, char *err,
		     size_t cap);
/* Parses every URL; no connection yet. Returns 0, or -1 with a reason in err (a bad URL names
 * itself). */
int broker_init(struct broker *b, uv_loop_t *loop, const struct broker_options *o,
		const struct broker_callbacks *cb, void *ctx, char *err, size_t cap);
/* ctxs[i]: the TLS context for endpoint i (NULL for a plain one), made for ep[i].host; the broker
 * takes each reference. Before broker_start, or later (SIGHUP): a live session is kept and the
 * new contexts serve the next connection; without a session the client is remade and connects
 * at once (new credentials may be what it lacked). A TLS endpoint without a context fails with
 * a reason in err. */
int broker_set_tls(struct broker *b, SSL_CTX *const *ctxs, char *err, size_t cap);
void broker_start(struct broker *b);
/* QoS 0 or 1, never retained except for the directory. Returns an enum broker_publish_result. */
int broker_publish(struct broker *b, const char *topic, const void *payload, size_t len, int qos,
		   bool retain);
int broker_subscribe(struct broker *b, const char *filter, int qos);
int broker_unsubscribe(struct broker *b, const char *filter);
/* The largest payload broker_publish accepts now, bytes (see above). */
size_t broker_max_payload(const struct broker *b);
/* The endpoint of the connection (or of the next attempt). */
const struct broker_endpoint *broker_current(const struct broker *b);
/* True when the socket could not take everything published: stop producing until on_drained. */
bool broker_congested(struct broker *b);
/* Call after a burst of broker_publish outside the poll callback: arms the writable poll. */
void broker_flush(struct broker *b);
/* Disconnects and closes every handle; on_connect is never called again. */
void broker_stop(struct broker *b);
void broker_destroy(struct broker *b);

#endif
