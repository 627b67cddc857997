/* broker.h - the MQTT connection, driven from the libuv loop without a second thread: the
 * socket sits in a uv_poll_t (readable always, writable while libmosquitto has output queued),
 * mosquitto_loop_read/write run from its callback and mosquitto_loop_misc from a 1 s timer.
 * A lost or refused connection is retried with exponential backoff (1 s doubling up to 60 s)
 * and +-25% jitter, forever; on every (re)connect the owner's on_connect callback subscribes
 * and publishes again. mosquitto_publish writes straight to the socket when called outside a
 * libmosquitto callback; what the socket cannot take stays queued, and broker_congested() tells
 * the owner to stop producing until on_drained is called. */
#ifndef MQTTIP_BROKER_H
#define MQTTIP_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mosquitto.h>
#include <openssl/ssl.h>
#include <uv.h>

struct broker_callbacks {
	void (*on_connect)(void *ctx);
	/* payload is writable (the engine opens transport messages in place); retained: the
	 * broker sent a stored message on subscription */
	void (*on_message)(void *ctx, const char *topic, uint8_t *payload, size_t len,
			   bool retained);
	void (*on_drained)(void *ctx);
};

struct broker {
	uv_loop_t *loop;
	struct mosquitto *mosq;
	uv_poll_t *poll; /* one per socket; freed in its close callback */
	int poll_fd;
	int poll_events;
	uv_timer_t retry_timer, misc_timer;
	unsigned backoff_ms;
	uint64_t connect_started_ms;
	bool connected, stopping, congested;
	bool tls;
	char host[256];
	int port;
	unsigned keepalive;
	char client_id[256], user[256], pass[256];
	bool first_connect;
	struct broker_callbacks cb;
	void *ctx;
	uint64_t connects, losses, publish_errors;
};

/* Parses scheme://host:port (mqtts, ssl: TLS, default port 8883; mqtt, tcp: plain, 1883);
 * IPv6 hosts in brackets. Returns 0 or -1 with a reason in err. */
int broker_parse_url(const char *url, bool *tls, char *host, size_t host_cap, int *port, char *err,
		     size_t cap);
/* ssl_ctx: NULL for plain TCP; libmosquitto keeps its own reference. */
int broker_init(struct broker *b, uv_loop_t *loop, const char *client_id, const char *user,
		const char *pass, SSL_CTX *ssl_ctx, const char *host, int port, bool tls,
		unsigned keepalive, const struct broker_callbacks *cb, void *ctx, char *err,
		size_t cap);
void broker_start(struct broker *b);
/* Makes a new client with this TLS context and reconnects (SIGHUP). */
int broker_reload_tls(struct broker *b, SSL_CTX *ssl_ctx, char *err, size_t cap);
/* QoS 0 or 1, never retained except for the directory. Returns 0 or -1 (not connected / error). */
int broker_publish(struct broker *b, const char *topic, const void *payload, size_t len, int qos,
		   bool retain);
int broker_subscribe(struct broker *b, const char *filter, int qos);
int broker_unsubscribe(struct broker *b, const char *filter);
/* True when the socket could not take everything published: stop producing until on_drained. */
bool broker_congested(struct broker *b);
/* Call after a burst of broker_publish outside the poll callback: arms the writable poll. */
void broker_flush(struct broker *b);
/* Disconnects and closes every handle; on_connect is never called again. */
void broker_stop(struct broker *b);
void broker_destroy(struct broker *b);

#endif
