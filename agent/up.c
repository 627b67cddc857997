/* up.c - `mqttip up`: reads the settings and credentials, opens the TUN interface and the
 * status socket, connects to the broker and runs the libuv loop until SIGTERM/SIGINT; SIGHUP
 * reloads credentials and the runtime settings of the config file. Exit status: 0 after a clean
 * shutdown, 1 fatal error, 2 usage error; each failure is one line on stderr. */
#define _GNU_SOURCE
#include "up.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <sodium.h>

#include "commands.h"
#include "daemon.h"
#include "log.h"
#include "status.h"
#include "tun.h"

#define TICK_MS 500

static int up_argc;
static char **up_argv;

uint64_t daemon_now_ms(const struct daemon *d)
{
	return uv_now(d->loop);
}

uint64_t daemon_unix_now(void)
{
	return (uint64_t)time(NULL);
}

void daemon_drop(struct daemon *d, struct peer *p, enum drop_reason why)
{
	if (p)
		peer_extra_of(d, p)->drops[why]++;
	else
		d->drops[why]++;
	log_debug("drop: %s%s%s", drop_names[why], p ? " from/to " : "", p ? p->cert.name : "");
}

bool daemon_is_own(const struct daemon *d, const struct netaddr *a)
{
	for (size_t i = 0; i < d->n_own; i++) {
		if (netaddr_equal(&d->own[i], a))
			return true;
	}
	return false;
}

static void add_own(struct daemon *d, const struct netaddr *a)
{
	if (!daemon_is_own(d, a) && d->n_own < sizeof(d->own) / sizeof(d->own[0]))
		d->own[d->n_own++] = *a;
}

static void on_broker_connect(void *ctx)
{
	struct daemon *d = ctx;
	char topic[TOPIC_MAX];

	for (size_t i = 0; i < d->n_own; i++) {
		if (d->secure && d->id.cert.n_addrs &&
		    cert_check_owns(&d->id.cert, &d->own[i]) == 0) {
			if (topic_data_inbox(topic, sizeof(topic), d->cfg.prefix, &d->own[i]))
				broker_subscribe(&d->broker, topic, 0);
			if (topic_kx_inbox(topic, sizeof(topic), d->cfg.prefix, &d->own[i]))
				broker_subscribe(&d->broker, topic, 1);
		}
		if (d->legacy && topic_legacy(topic, sizeof(topic), d->cfg.prefix, &d->own[i]))
			broker_subscribe(&d->broker, topic, 0);
	}
	if (d->secure) {
		snprintf(topic, sizeof(topic), "%s/cert/+", d->cfg.prefix);
		broker_subscribe(&d->broker, topic, 1);
	}
	directory_publish_own(d);
}

static void on_broker_message(void *ctx, const char *name, uint8_t *payload, size_t len)
{
	struct daemon *d = ctx;
	struct topic t;

	switch (topic_parse(d->cfg.prefix, name, strlen(name), &t)) {
	case TOPIC_DATA:
		if (daemon_is_own(d, &t.dst))
			tunnel_on_data(d, &t, payload, len);
		break;
	case TOPIC_KX:
		kx_on_message(d, &t, payload, len);
		break;
	case TOPIC_CERT:
		directory_on_cert(d, &t, payload, len);
		break;
	case TOPIC_LEGACY:
		if (d->legacy)
			legacy_link_on_message(d, &t, payload, len);
		break;
	default:
		break;
	}
}

static void on_broker_drained(void *ctx)
{
	tunnel_start_reading(ctx);
}

static void on_tick(uv_timer_t *t)
{
	kx_tick(t->data);
}

static void close_any(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void shutdown_daemon(struct daemon *d)
{
	if (d->stopping)
		return;
	log_info("shutting down");
	tunnel_stop_reading(d);
	d->stopping = true;
	broker_stop(&d->broker);
	status_server_stop(d);
	uv_close((uv_handle_t *)&d->tun_poll, NULL);
	uv_close((uv_handle_t *)&d->tick, NULL);
	uv_close((uv_handle_t *)&d->sig_term, NULL);
	uv_close((uv_handle_t *)&d->sig_int, NULL);
	uv_close((uv_handle_t *)&d->sig_hup, NULL);
}

void daemon_fatal(struct daemon *d)
{
	d->exit_status = MQTTIP_EXIT_FAILED;
	shutdown_daemon(d);
}

static void set_local(struct daemon *d)
{
	d->local.static_private = d->id.node_secret;
	memcpy(d->local.static_public, d->id.node_public, MQTTIP_KEY_LEN);
	d->local.network_id = d->id.network_id;
	d->local.cert = d->id.cert_bytes;
	d->local.cert_len = d->id.cert_len;
}

static void reload(struct daemon *d)
{
	struct config c;
	struct identity id;
	char err[512];
	SSL_CTX *ctx = NULL;
	bool new_key;

	config_defaults(&c);
	if (config_parse_args(&c, up_argc, up_argv, err, sizeof(err)) != CONFIG_OK ||
	    config_finish(&c, err, sizeof(err))) {
		log_error("reload refused, keeping the running settings: %s", err);
		config_wipe(&c);
		return;
	}
	if (identity_load(&id, &c, daemon_unix_now(), err, sizeof(err))) {
		log_error("reload refused, keeping the running credentials: %s", err);
		identity_free(&id);
		config_wipe(&c);
		return;
	}
	if (id.secure != d->secure ||
	    (d->secure && !netaddr_equal(&id.cert.addrs[0].addr, &d->self))) {
		log_error("reload refused: the node's addresses changed; restart the daemon");
		identity_free(&id);
		config_wipe(&c);
		return;
	}
	if (d->broker.tls && !(ctx = identity_tls_context(&id, d->broker.host, err, sizeof(err)))) {
		log_error("reload refused: %s", err);
		identity_free(&id);
		config_wipe(&c);
		return;
	}
	new_key = memcmp(id.node_public, d->id.node_public, MQTTIP_KEY_LEN) != 0;
	identity_free(&d->id);
	d->id = id;
	set_local(d);
	if (new_key) {
		for (size_t i = 0; i < d->peers.cap; i++) {
			if (d->peers.peers[i].used) {
				session_wipe(&d->peers.peers[i].session);
				handshake_wipe(&d->peers.peers[i].handshake);
			}
		}
	}
	d->cfg.debug = c.debug;
	d->cfg.broadcast_peers = c.broadcast_peers;
	d->cfg.queue_per_peer = c.queue_per_peer;
	d->params.rekey_after_ms = c.rekey_after_ms;
	d->params.reject_after_ms = c.reject_after_ms;
	log_set_debug(c.debug);
	config_wipe(&c);
	if (ctx) {
		if (broker_reload_tls(&d->broker, ctx, err, sizeof(err)))
			log_error("reload: %s", err);
		SSL_CTX_free(d->ssl_ctx);
		d->ssl_ctx = ctx;
	} else {
		directory_publish_own(d);
	}
	log_info("reloaded credentials and settings%s",
		 new_key ? " (new node key: sessions reset)" : "");
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	if (signum == SIGHUP)
		reload(d);
	else
		shutdown_daemon(d);
}

static int fatal(const char *msg)
{
	fprintf(stderr, "mqttip up: %s\n", msg);
	return MQTTIP_EXIT_FAILED;
}

/* Interface addresses: flags win; otherwise the certificate's first IPv4 and IPv6 address. */
static int choose_addresses(struct daemon *d, char *err, size_t cap)
{
	struct config *c = &d->cfg;

	if (d->secure) {
		for (size_t i = 0; i < d->id.cert.n_addrs; i++) {
			const struct cert_prefix *a = &d->id.cert.addrs[i];

			if (a->addr.family == 4 && !c->has_addr4) {
				c->addr4 = a->addr;
				c->has_addr4 = true;
				if (!c->has_prefix4)
					c->prefix4 = a->len;
			} else if (a->addr.family == 6 && !c->has_addr6) {
				c->addr6 = a->addr;
				c->has_addr6 = true;
				if (!c->has_prefix6)
					c->prefix6 = a->len;
			}
			add_own(d, &a->addr);
		}
		if (c->has_addr4 && cert_check_source(&d->id.cert, &c->addr4))
			log_warn("address %s is not in the node certificate: peers will drop "
				 "packets from it",
				 "-a");
		d->self = d->id.cert.addrs[0].addr;
	} else {
		d->self = c->addr4;
	}
	if (c->has_addr4)
		add_own(d, &c->addr4);
	if (c->has_addr6)
		add_own(d, &c->addr6);
	if (!c->has_addr4 && !c->has_addr6) {
		snprintf(err, cap, "no interface address");
		return -1;
	}
	return 0;
}

static int allocate(struct daemon *d)
{
	size_t n = d->cfg.max_peers;

	d->peer_storage = calloc(n, sizeof(*d->peer_storage));
	d->extra = calloc(n, sizeof(*d->extra));
	d->pool_size =
	    (uint32_t)(n * d->cfg.queue_per_peer < 4096 ? n * d->cfg.queue_per_peer : 4096);
	d->pool = calloc(d->pool_size, sizeof(*d->pool));
	d->batches = calloc(BATCH_SLOTS, sizeof(*d->batches));
	if (!d->peer_storage || !d->extra || !d->pool || !d->batches ||
	    peer_table_init(&d->peers, d->peer_storage, n))
		return -1;
	for (uint32_t i = 0; i < d->pool_size; i++)
		d->pool[i].next = i + 1 < d->pool_size ? i + 1 : NO_SLOT;
	d->pool_free = 0;
	for (uint32_t s = 0; s < BATCH_SLOTS; s++)
		d->batches[s].peer = NO_SLOT;
	return 0;
}

static void release(struct daemon *d)
{
	if (d->peer_storage) {
		for (size_t i = 0; i < d->peers.cap; i++) {
			if (d->peer_storage[i].used)
				peer_table_remove(&d->peers, &d->peer_storage[i]);
		}
	}
	free(d->peer_storage);
	free(d->extra);
	free(d->pool);
	free(d->batches);
	handshake_wipe(&d->responder);
	legacy_nonce_cache_wipe(&d->legacy_nonces);
	sodium_memzero(d->legacy_key, sizeof(d->legacy_key));
	if (d->ssl_ctx)
		SSL_CTX_free(d->ssl_ctx);
	identity_free(&d->id);
	config_wipe(&d->cfg);
	if (d->tun_fd >= 0)
		close(d->tun_fd);
}

static int run(struct daemon *d)
{
	char err[512], host[256], a4[NETADDR_STR_MAX] = "", a6[NETADDR_STR_MAX] = "";
	char client_id[CONFIG_STR_MAX];
	struct broker_callbacks cb = {on_broker_connect, on_broker_message, on_broker_drained};
	bool tls;
	int port;

	if (broker_parse_url(d->cfg.broker, &tls, host, sizeof(host), &port, err, sizeof(err))) {
		fprintf(stderr, "mqttip up: %s\n", err);
		return MQTTIP_EXIT_USAGE;
	}
	if (sodium_init() < 0)
		return fatal("libsodium failed to initialise");
	if (identity_load(&d->id, &d->cfg, daemon_unix_now(), err, sizeof(err)))
		return fatal(err);
	d->secure = d->id.secure;
	d->legacy = d->cfg.legacy_psk[0] != '\0';
	if (choose_addresses(d, err, sizeof(err)))
		return fatal(err);
	set_local(d);
	d->params = keypair_params_default();
	d->params.rekey_after_ms = d->cfg.rekey_after_ms;
	d->params.reject_after_ms = d->cfg.reject_after_ms;
	ratelimit_init(&d->ratelimit);
	if (d->legacy)
		legacy_link_init(d);
	if (tls) {
		if (!d->id.client_cert)
			return fatal(
			    "a TLS broker needs the node's client certificate: give --bundle "
			    "(or --cert --key --cafile)");
		if (!(d->ssl_ctx = identity_tls_context(&d->id, host, err, sizeof(err))))
			return fatal(err);
	} else {
		log_warn(
		    "plain MQTT to %s: the broker cannot authenticate this node (use mqtts://)",
		    host);
	}
	if (allocate(d))
		return fatal("out of memory");
	if ((d->tun_fd = tun_open(d->cfg.ifname, err, sizeof(err))) < 0)
		return fatal(err);
	if (tun_configure(d->cfg.ifname, d->cfg.has_addr4 ? &d->cfg.addr4 : NULL, d->cfg.prefix4,
			  d->cfg.has_addr6 ? &d->cfg.addr6 : NULL, d->cfg.prefix6, d->cfg.mtu, err,
			  sizeof(err)))
		return fatal(err);
	snprintf(client_id, sizeof(client_id), "%s", d->cfg.client_id);
	if (d->cfg.has_addr4)
		netaddr_format(&d->cfg.addr4, a4, sizeof(a4));
	if (d->cfg.has_addr6)
		netaddr_format(&d->cfg.addr6, a6, sizeof(a6));
	if (!client_id[0])
		snprintf(client_id, sizeof(client_id), "%s", d->secure ? d->id.cert.name : a4);

	d->loop = malloc(sizeof(*d->loop));
	if (!d->loop || uv_loop_init(d->loop))
		return fatal("cannot create the event loop");
	if (broker_init(&d->broker, d->loop, client_id, d->cfg.username, d->cfg.password,
			d->ssl_ctx, host, port, tls, d->cfg.mqtt_keepalive, &cb, d, err,
			sizeof(err)))
		return fatal(err);
	switch (status_server_start(d, err, sizeof(err))) {
	case 0:
		break;
	case STATUS_SOCKET_IN_USE:
		return fatal(err);
	default:
		log_warn("%s (mqttip status will not work)", err);
	}
	uv_poll_init(d->loop, &d->tun_poll, d->tun_fd);
	d->tun_poll.data = d;
	uv_timer_init(d->loop, &d->tick);
	d->tick.data = d;
	uv_timer_start(&d->tick, on_tick, TICK_MS, TICK_MS);
	uv_signal_init(d->loop, &d->sig_term);
	uv_signal_init(d->loop, &d->sig_int);
	uv_signal_init(d->loop, &d->sig_hup);
	d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
	uv_signal_start(&d->sig_term, on_signal, SIGTERM);
	uv_signal_start(&d->sig_int, on_signal, SIGINT);
	uv_signal_start(&d->sig_hup, on_signal, SIGHUP);
	d->start_ms = uv_now(d->loop);
	log_info("up: interface %s%s%s%s%s, node %s, mode %s%s, broker %s:%d (%s)", d->cfg.ifname,
		 a4[0] ? " " : "", a4, a6[0] ? " " : "", a6, d->secure ? d->id.cert.name : "-",
		 d->secure ? "secure" : "", d->legacy ? (d->secure ? "+legacy" : "legacy") : "",
		 host, port, tls ? "TLS" : "plain");
	tunnel_start_reading(d);
	broker_start(&d->broker);
	uv_run(d->loop, UV_RUN_DEFAULT);
	uv_walk(d->loop, close_any, NULL);
	uv_run(d->loop, UV_RUN_DEFAULT);
	return d->exit_status;
}

int cmd_up(int argc, char **argv)
{
	struct daemon *d = calloc(1, sizeof(*d));
	char err[512];
	int rc;

	if (!d)
		return fatal("out of memory");
	d->tun_fd = -1;
	config_defaults(&d->cfg);
	switch (config_parse_args(&d->cfg, argc, argv, err, sizeof(err))) {
	case CONFIG_HELP:
		free(d);
		return 0;
	case CONFIG_USAGE:
		fprintf(stderr, "mqttip up: %s\n\n", err);
		config_usage(stderr);
		free(d);
		return MQTTIP_EXIT_USAGE;
	case CONFIG_ERROR:
		fprintf(stderr, "mqttip up: %s\n", err);
		free(d);
		return MQTTIP_EXIT_USAGE;
	case CONFIG_FILE_ERROR:
		fprintf(stderr, "mqttip up: %s\n", err);
		free(d);
		return MQTTIP_EXIT_FAILED;
	case CONFIG_OK:
		break;
	}
	if (config_finish(&d->cfg, err, sizeof(err))) {
		fprintf(stderr, "mqttip up: %s\n", err);
		free(d);
		return MQTTIP_EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN); /* a broken broker connection is an error return, not a death */
	up_argc = argc;
	up_argv = argv;
	log_set_debug(d->cfg.debug);
	mosquitto_lib_init();
	rc = run(d);
	if (d->loop) {
		uv_walk(d->loop, close_any, NULL);
		uv_run(d->loop, UV_RUN_DEFAULT);
		if (d->broker.mosq)
			broker_destroy(&d->broker);
		uv_loop_close(d->loop);
		free(d->loop);
	}
	release(d);
	mosquitto_lib_cleanup();
	sodium_memzero(d, sizeof(*d));
	free(d);
	if (rc == 0)
		log_info("stopped");
	return rc;
}
