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
#include "tun.h"

#define TICK_MS 500
/* RFC 8200 section 5: an IPv6 link carries packets of 1280 bytes; Linux takes IPv6 off an
 * interface with a smaller MTU. */
#define IPV6_MIN_MTU 1280

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
	if (d->legacy)
		legacy_link_on_connect(d);
	if (d->secure) {
		snprintf(topic, sizeof(topic), "%s/cert/+", d->cfg.prefix);
		broker_subscribe(&d->broker, topic, 1);
	}
	directory_publish_own(d);
}

static void on_broker_message(void *ctx, const char *name, uint8_t *payload, size_t len,
			      bool retained)
{
	struct daemon *d = ctx;
	struct topic t;
	enum topic_kind kind = topic_parse(d->cfg.prefix, name, strlen(name), &t);

	/* PROTOCOL.md 3: only the directory is retained. Anything else retained on an inbox is
	 * stale, and would be acted on again at every restart. */
	if (retained && (kind == TOPIC_DATA || kind == TOPIC_KX || kind == TOPIC_LEGACY)) {
		daemon_drop(d, NULL, DROP_RETAINED);
		return;
	}
	switch (kind) {
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
	struct daemon *d = t->data;

	kx_tick(d);
	if (d->legacy)
		legacy_link_tick(d);
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

static bool any_tls(const struct daemon *d)
{
	for (size_t i = 0; i < d->broker.n_ep; i++) {
		if (d->broker.ep[i].tls)
			return true;
	}
	return false;
}

static void free_contexts(const struct daemon *d, SSL_CTX **ctxs)
{
	for (size_t i = 0; i < d->broker.n_ep; i++)
		SSL_CTX_free(ctxs[i]);
}

/* One TLS context per broker URL (each verifies its own host name); NULL for plain ones. */
static int tls_contexts(const struct daemon *d, const struct identity *id, SSL_CTX **ctxs,
			char *err, size_t cap)
{
	for (size_t i = 0; i < d->broker.n_ep; i++)
		ctxs[i] = NULL;
	for (size_t i = 0; i < d->broker.n_ep; i++) {
		if (!d->broker.ep[i].tls)
			continue;
		if (!id->client_cert) {
			set_error(err, cap,
				  "a TLS broker needs the node's client certificate: give --bundle "
				  "(or --cert --key --cafile)");
			free_contexts(d, ctxs);
			return -1;
		}
		if (!(ctxs[i] = identity_tls_context(id, d->broker.ep[i].host, err, cap))) {
			free_contexts(d, ctxs);
			return -1;
		}
	}
	return 0;
}

static void reload(struct daemon *d)
{
	struct config c;
	struct identity id;
	char err[512];
	SSL_CTX *ctxs[BROKER_MAX_URLS];
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
	if (tls_contexts(d, &id, ctxs, err, sizeof(err))) {
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
	if (any_tls(d)) {
		if (broker_set_tls(&d->broker, ctxs, err, sizeof(err)))
			log_error("reload: %s", err);
	} else {
		directory_publish_own(d);
	}
	free_contexts(d, ctxs);
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

/* Interface addresses: flags win; otherwise the certificate's first IPv4 and IPv6 address;
 * "none" leaves a family out. On a host without IPv6 the certificate's IPv6 address is left
 * out with one warning; an explicit -6 ADDR is then an error. Returns 0, or -1 (fatal) or -2
 * (a setting that cannot work: usage) with the reason in err. */
static int choose_addresses(struct daemon *d, char *err, size_t cap)
{
	struct config *c = &d->cfg;
	bool explicit6 = c->has_addr6;
	char why[160] = "", a6[NETADDR_STR_MAX];

	if (d->secure) {
		for (size_t i = 0; i < d->id.cert.n_addrs; i++) {
			const struct cert_prefix *a = &d->id.cert.addrs[i];

			if (a->addr.family == 4 && !c->has_addr4 && !c->no_addr4) {
				c->addr4 = a->addr;
				c->has_addr4 = true;
				if (!c->has_prefix4)
					c->prefix4 = a->len;
			} else if (a->addr.family == 6 && !c->has_addr6 && !c->no_addr6) {
				c->addr6 = a->addr;
				c->has_addr6 = true;
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
	if (c->has_addr6 && !tun_ipv6_available(why, sizeof(why))) {
		if (explicit6)
			return set_error(
			    err, cap,
			    "cannot give the interface IPv6 address %s: %s; enable IPv6 "
			    "or use -6 none (address6 = none)",
			    (netaddr_format(&c->addr6, a6, sizeof(a6)), a6), why);
		c->has_addr6 = false;
		if (c->has_addr4)
			log_warn(
			    "%s: the interface gets no IPv6 address (IPv4 only; -6 none says so "
			    "without this warning)",
			    why);
	}
	if (c->has_addr4)
		add_own(d, &c->addr4);
	if (c->has_addr6)
		add_own(d, &c->addr6);
	if (!c->has_addr4 && !c->has_addr6)
		return set_error(err, cap, "no interface address%s%s",
				 why[0] ? ": the IPv6 one is out: " : "", why);
	if (c->has_addr6 && c->mtu < IPV6_MIN_MTU) {
		netaddr_format(&c->addr6, a6, sizeof(a6));
		set_error(err, cap,
			  "mtu %u is below IPv6's minimum of %u bytes (RFC 8200) and the interface "
			  "gets IPv6 address %s: use --mtu %u or more, or -6 none for IPv4 only",
			  c->mtu, IPV6_MIN_MTU, a6, IPV6_MIN_MTU);
		return -2;
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
	identity_free(&d->id);
	config_wipe(&d->cfg);
	if (d->tun_fd >= 0)
		close(d->tun_fd);
}

/* Size of the largest message one packet of the interface MTU makes, in the modes in use. */
static size_t min_message(const struct daemon *d)
{
	size_t secure = d->cfg.mtu + MQTTIP_BATCH_RECORD_HEADER + MQTTIP_TRANSPORT_OVERHEAD;
	size_t legacy = d->cfg.mtu + MQTTIP_LEGACY_OVERHEAD;

	return d->legacy && legacy > secure ? legacy : secure;
}

static int start_broker(struct daemon *d, char *err, size_t cap)
{
	struct broker_callbacks cb = {on_broker_connect, on_broker_message, on_broker_drained};
	const char *urls[CONFIG_BROKERS_MAX];
	char client_id[CONFIG_STR_MAX], a4[NETADDR_STR_MAX] = "", probe[TOPIC_MAX] = "";
	SSL_CTX *ctxs[BROKER_MAX_URLS];
	struct broker_options o = {
	    .urls = urls,
	    .n_urls = d->cfg.n_brokers,
	    .client_id = client_id,
	    .user = d->cfg.username,
	    .pass = d->cfg.password,
	    .identity = d->secure ? d->id.cert.name : a4,
	    .probe_topic = probe,
	    .keepalive_s = d->cfg.mqtt_keepalive,
	    .connect_timeout_ms = (unsigned)d->cfg.connect_timeout_ms,
	    .max_message = d->cfg.max_message,
	    .min_message = min_message(d),
	};
	int rc;

	for (unsigned i = 0; i < d->cfg.n_brokers; i++)
		urls[i] = d->cfg.broker[i];
	if (d->cfg.has_addr4)
		netaddr_format(&d->cfg.addr4, a4, sizeof(a4));
	snprintf(client_id, sizeof(client_id), "%s", d->cfg.client_id);
	if (!client_id[0])
		snprintf(client_id, sizeof(client_id), "%s", d->secure ? d->id.cert.name : a4);
	/* size probes on our own inbox: nobody else reads it, and No Local keeps them from us */
	if (d->secure)
		topic_data(probe, sizeof(probe), d->cfg.prefix, &d->self, &d->self);
	else
		topic_legacy(probe, sizeof(probe), d->cfg.prefix, &d->self);
	if (broker_init(&d->broker, d->loop, &o, &cb, d, err, cap))
		return -1;
	if (tls_contexts(d, &d->id, ctxs, err, cap))
		return -1;
	rc = broker_set_tls(&d->broker, ctxs, err, cap);
	free_contexts(d, ctxs);
	return rc;
}

static int run(struct daemon *d)
{
	char err[512], a4[NETADDR_STR_MAX] = "", a6[NETADDR_STR_MAX] = "";
	int rc;

	if (sodium_init() < 0)
		return fatal("libsodium failed to initialise");
	if (identity_load(&d->id, &d->cfg, daemon_unix_now(), err, sizeof(err)))
		return fatal(err);
	d->secure = d->id.secure;
	d->legacy = d->cfg.legacy_psk[0] != '\0';
	if ((rc = choose_addresses(d, err, sizeof(err))) != 0) {
		fprintf(stderr, "mqttip up: %s\n", err);
		return rc == -2 ? MQTTIP_EXIT_USAGE : MQTTIP_EXIT_FAILED;
	}
	set_local(d);
	d->params = keypair_params_default();
	d->params.rekey_after_ms = d->cfg.rekey_after_ms;
	d->params.reject_after_ms = d->cfg.reject_after_ms;
	ratelimit_init(&d->ratelimit);
	if (d->legacy)
		legacy_link_init(d);
	d->loop = malloc(sizeof(*d->loop));
	if (!d->loop || uv_loop_init(d->loop)) {
		free(d->loop);
		d->loop = NULL;
		return fatal("cannot create the event loop");
	}
	if (start_broker(d, err, sizeof(err)))
		return fatal(err);
	for (unsigned i = 0; i < d->cfg.n_brokers; i++) {
		if (!d->broker.ep[i].tls)
			log_warn("plain MQTT to %s: the broker cannot authenticate this node (use "
				 "mqtts://)",
				 d->broker.ep[i].host);
	}
	if (allocate(d))
		return fatal("out of memory");
	if ((d->tun_fd = tun_open(d->cfg.ifname, err, sizeof(err))) < 0)
		return fatal(err);
	if (tun_configure(d->cfg.ifname, d->cfg.has_addr4 ? &d->cfg.addr4 : NULL, d->cfg.prefix4,
			  d->cfg.has_addr6 ? &d->cfg.addr6 : NULL, d->cfg.prefix6, d->cfg.mtu, err,
			  sizeof(err)))
		return fatal(err);
	if (d->cfg.has_addr4)
		netaddr_format(&d->cfg.addr4, a4, sizeof(a4));
	if (d->cfg.has_addr6)
		netaddr_format(&d->cfg.addr6, a6, sizeof(a6));
	if (status_server_start(d, err, sizeof(err)))
		log_warn("%s (mqttip status will not work)", err);
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
	log_info("up: interface %s%s%s%s%s, node %s, mode %s%s, broker %s%s", d->cfg.ifname,
		 a4[0] ? " " : "", a4, a6[0] ? " " : "", a6, d->secure ? d->id.cert.name : "-",
		 d->secure ? "secure" : "", d->legacy ? (d->secure ? "+legacy" : "legacy") : "",
		 d->cfg.broker[0], d->cfg.n_brokers > 1 ? " (and others in turn)" : "");
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
		uv_loop_close(d->loop);
		free(d->loop);
	}
	broker_destroy(&d->broker);
	release(d);
	mosquitto_lib_cleanup();
	sodium_memzero(d, sizeof(*d));
	free(d);
	if (rc == 0)
		log_info("stopped");
	return rc;
}
