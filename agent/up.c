/* up.c - `mqttip up`: reads the settings and credentials, opens the TUN interface and the
 * status socket, connects to the broker and runs the libuv loop until SIGTERM/SIGINT; SIGHUP
 * reloads credentials and the runtime settings of the config file. The node's behaviour is the
 * engine's (common/node.h); this file hosts it: the engine's callbacks (publish, subscribe,
 * deliver to TUN, wall clock, log) and the loop's events (TUN readable, broker connected and
 * messages, a NODE_TICK_MS timer). Exit status: 0 after a clean shutdown, 1 fatal error, 2 usage
 * error; each failure is one line on stderr. */
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

#include "cli.h"
#include "commands.h"
#include "daemon.h"
#include "igmp.h"
#include "log.h"
#include "state.h"
#include "status.h"
#include "tun.h"

/* RFC 8200 section 5: an IPv6 link carries packets of 1280 bytes; Linux takes IPv6 off an
 * interface with a smaller MTU. */
#define IPV6_MIN_MTU 1280

static int up_argc;
static char **up_argv;

/* ---- the engine's callbacks ---- */

static int node_publish_cb(void *ctx, const char *topic, const uint8_t *payload, size_t len,
			   int qos, bool retain)
{
	struct daemon *d = ctx;

	switch (broker_publish(&d->broker, topic, payload, len, qos, retain)) {
	case BROKER_OK:
		return 0;
	case BROKER_ERR_OVERSIZE:
		return NODE_PUBLISH_OVERSIZE;
	default:
		return -1;
	}
}

static int node_subscribe_cb(void *ctx, const char *filter, int qos)
{
	struct daemon *d = ctx;

	return broker_subscribe(&d->broker, filter, qos);
}

static int node_unsubscribe_cb(void *ctx, const char *filter)
{
	struct daemon *d = ctx;

	return broker_unsubscribe(&d->broker, filter);
}

static int node_deliver_cb(void *ctx, const uint8_t *pkt, size_t len)
{
	return tunnel_write(ctx, pkt, len);
}

static bool node_wall_clock_cb(void *ctx, uint64_t *sec, uint32_t *ns)
{
	struct timespec now;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &now);
	*sec = (uint64_t)now.tv_sec;
	*ns = (uint32_t)now.tv_nsec;
	return true;
}

static int node_persist_cb(void *ctx, const uint8_t *list, size_t len)
{
	struct daemon *d = ctx;
	char err[512];

	if (state_save(d->cfg.state_file, list, len, d->node.revocation->version, err,
		       sizeof(err))) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

static void node_log_cb(void *ctx, enum node_log_level level, const char *line)
{
	(void)ctx;
	switch (level) {
	case NODE_LOG_DEBUG:
		log_debug("%s", line);
		break;
	case NODE_LOG_INFO:
		log_info("%s", line);
		break;
	case NODE_LOG_WARN:
		log_warn("%s", line);
		break;
	default:
		log_error("%s", line);
	}
}

/* A super-packet the kernel hands over fits one message, so it is read once and sealed where
 * it was read (PROTOCOL.md 7.4.1): the device's gso_max_size follows the engine's message size,
 * which the max-message setting, the broker's Maximum Packet Size and its size probes lower. */
static void follow_message_size(struct daemon *d)
{
	const size_t over = MQTTIP_TRANSPORT_OVERHEAD + MQTTIP_OFFLOAD_RECORD_HEADER;
	size_t max = d->node.max_message;
	char note[256];

	if (!d->tun_offload)
		return;
	/* below one full packet no super-packet fits a message anyway (and too large a packet is
	 * an oversize drop): a floor keeps the kernel's segment arithmetic away from tiny sizes */
	max = max > over + MQTTIP_MAX_IP_PACKET ? max - over : MQTTIP_MAX_IP_PACKET;
	if (max > MQTTIP_OFFLOAD_MAX_PACKET)
		max = MQTTIP_OFFLOAD_MAX_PACKET;
	if (max == d->gso_max)
		return;
	if (tun_set_gso_max(d->cfg.ifname, (unsigned)max, note, sizeof(note))) {
		log_warn("%s: larger super-packets are cut in software", note);
	} else if (d->gso_max) {
		log_info("%s: super-packets up to %zu bytes (messages up to %zu bytes)",
			 d->cfg.ifname, max, d->node.max_message);
	}
	d->gso_max = (unsigned)max;
}

/* ---- the loop's events ---- */

static void on_broker_connect(void *ctx)
{
	struct daemon *d = ctx;

	node_set_broker_limit(&d->node, broker_max_payload(&d->broker));
	follow_message_size(d);
	node_connected(&d->node, uv_now(d->loop));
}

static void on_broker_message(void *ctx, const char *topic, uint8_t *payload, size_t len,
			      bool retained)
{
	struct daemon *d = ctx;

	node_input(&d->node, topic, strlen(topic), payload, len, retained, uv_now(d->loop));
	broker_flush(&d->broker);
}

static void start_reading(struct daemon *d);

static void on_broker_drained(void *ctx)
{
	start_reading(ctx);
}

static void on_tick(uv_timer_t *t)
{
	struct daemon *d = t->data;
	uint64_t now = uv_now(d->loop);

	/* a size probe may have lowered the broker's limit since the connect (broker.h) */
	node_set_broker_limit(&d->node, broker_max_payload(&d->broker));
	follow_message_size(d);
	if (d->node.legacy && now - d->igmp_polled_ms >= IGMP_POLL_MS) {
		struct netaddr groups[NODE_LEGACY_GROUPS];

		d->igmp_polled_ms = now;
		node_legacy_set_groups(&d->node, groups,
				       igmp_groups(d->cfg.ifname, groups, NODE_LEGACY_GROUPS));
	}
	node_tick(&d->node, now);
	broker_flush(&d->broker);
}

static void close_any(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void stop_reading(struct daemon *d)
{
	if (!d->tun_reading)
		return;
	uv_poll_stop(&d->tun_poll);
	d->tun_reading = false;
}

static void shutdown_daemon(struct daemon *d)
{
	if (d->stopping)
		return;
	log_info("shutting down");
	stop_reading(d);
	d->stopping = true;
	broker_stop(&d->broker);
	status_server_stop(d);
	uv_close((uv_handle_t *)&d->tun_poll, NULL);
	uv_close((uv_handle_t *)&d->tick, NULL);
	uv_close((uv_handle_t *)&d->sig_term, NULL);
	uv_close((uv_handle_t *)&d->sig_int, NULL);
	uv_close((uv_handle_t *)&d->sig_hup, NULL);
}

/* Stops the daemon after an unrecoverable runtime error: `mqttip up` then exits with status 1. */
static void fatal_stop(struct daemon *d)
{
	d->exit_status = MQTTIP_EXIT_FAILED;
	shutdown_daemon(d);
}

static void on_tun(uv_poll_t *h, int status, int events)
{
	struct daemon *d = h->data;

	(void)events;
	if (status < 0) {
		/* libuv reports the interface's removal (POLLERR) this way */
		log_error("TUN interface %s: %s (removed?)", d->cfg.ifname, uv_strerror(status));
		d->tun_reading = false;
		fatal_stop(d);
		return;
	}
	if (tunnel_read(d)) {
		fatal_stop(d);
		return;
	}
	if (broker_congested(&d->broker))
		stop_reading(d);
}

static void start_reading(struct daemon *d)
{
	if (d->tun_reading || d->stopping)
		return;
	d->tun_reading = uv_poll_start(&d->tun_poll, UV_READABLE, on_tun) == 0;
}

/* The engine's settings from the config (docs/AGENT.md names them). */
static struct node_settings settings_of(const struct config *c)
{
	struct node_settings s = node_settings_default();

	snprintf(s.prefix, sizeof(s.prefix), "%s", c->prefix);
	s.params.rekey_after_ms = c->rekey_after_ms;
	s.params.reject_after_ms = c->reject_after_ms;
	s.queue_per_peer = c->queue_per_peer;
	s.broadcast_peers = c->broadcast_peers;
	s.subscribe_qos = (int)c->subscribe_qos;
	s.debug = c->debug;
	return s;
}

/* The engine's credentials: they point into id and c, which must outlive the call. */
static struct node_credentials credentials_of(const struct identity *id, const struct config *c,
					      struct netaddr extra[2])
{
	struct node_credentials cred = {0};

	if (id->secure) {
		cred.cert = id->cert_bytes;
		cred.cert_len = id->cert_len;
		cred.static_private = id->node_secret;
		cred.network_id = id->network_id;
		cred.psk = id->has_psk ? id->psk : NULL;
	}
	if (c->legacy_psk[0]) {
		cred.legacy_password = c->legacy_psk;
		cred.legacy_password_len = strlen(c->legacy_psk);
	}
	if (c->has_addr4)
		extra[cred.n_extra_own++] = c->addr4;
	if (c->has_addr6)
		extra[cred.n_extra_own++] = c->addr6;
	cred.extra_own = extra;
	return cred;
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
			free_contexts(d, ctxs);
			return set_error(err, cap,
					 "a TLS broker needs the node's client certificate: give "
					 "--bundle (or --cert --key --cafile)");
		}
		if (!(ctxs[i] = identity_tls_context(id, d->broker.ep[i].host, err, cap))) {
			free_contexts(d, ctxs);
			return -1;
		}
	}
	return 0;
}

static bool any_tls(const struct daemon *d)
{
	for (size_t i = 0; i < d->broker.n_ep; i++) {
		if (d->broker.ep[i].tls)
			return true;
	}
	return false;
}

static void reload(struct daemon *d)
{
	struct node_credentials cred;
	struct node_settings set;
	struct netaddr extra[2];
	struct config c;
	struct identity id;
	char err[512];
	SSL_CTX *ctxs[BROKER_MAX_URLS];

	config_defaults(&c);
	if (config_parse_args(&c, up_argc, up_argv, err, sizeof(err)) != CONFIG_OK ||
	    config_finish(&c, err, sizeof(err))) {
		log_error("reload refused, keeping the running settings: %s", err);
		config_wipe(&c);
		return;
	}
	if (identity_load(&id, &c, (uint64_t)time(NULL), err, sizeof(err))) {
		log_error("reload refused, keeping the running credentials: %s", err);
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
	/* the interface keeps its addresses: the running ones count, not the file's */
	c.addr4 = d->cfg.addr4;
	c.has_addr4 = d->cfg.has_addr4;
	c.addr6 = d->cfg.addr6;
	c.has_addr6 = d->cfg.has_addr6;
	set = settings_of(&c);
	cred = credentials_of(&id, &c, extra);
	if (node_reload(&d->node, &set, &cred, uv_now(d->loop))) {
		free_contexts(d, ctxs);
		identity_free(&id);
		config_wipe(&c);
		return;
	}
	identity_free(&d->id);
	d->id = id;
	if (d->id.revocation_len &&
	    node_revocation_offer(&d->node, d->id.revocation, d->id.revocation_len,
				  uv_now(d->loop)) == REVOCATION_NEWER)
		log_info("reload: the bundle's revocation list %llu adopted",
			 (unsigned long long)d->revocation->version);
	d->cfg.debug = c.debug;
	d->cfg.broadcast_peers = c.broadcast_peers;
	d->cfg.queue_per_peer = c.queue_per_peer;
	d->cfg.rekey_after_ms = c.rekey_after_ms;
	d->cfg.reject_after_ms = c.reject_after_ms;
	log_set_debug(c.debug);
	config_wipe(&c);
	if (any_tls(d) && broker_set_tls(&d->broker, ctxs, err, sizeof(err)))
		log_error("reload: %s", err);
	free_contexts(d, ctxs);
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

	for (size_t i = 0; d->id.secure && i < d->id.cert.n_addrs; i++) {
		const struct cert_prefix *a = &d->id.cert.addrs[i];

		if (a->addr.family == 4 && !c->has_addr4 && !c->no_addr4) {
			c->addr4 = a->addr;
			c->has_addr4 = true;
			if (!c->has_prefix4)
				c->prefix4 = a->len;
		} else if (a->addr.family == 6 && !c->has_addr6 && !c->no_addr6) {
			c->addr6 = a->addr;
			c->has_addr6 = true;
			if (!c->has_prefix6)
				c->prefix6 = a->len;
		}
	}
	if (d->id.secure && c->has_addr4 && cert_check_source(&d->id.cert, &c->addr4))
		log_warn(
		    "address %s is not in the node certificate: peers will drop packets from it",
		    "-a");
	if (c->has_addr6 && !tun_ipv6_available(why, sizeof(why))) {
		netaddr_format(&c->addr6, a6, sizeof(a6));
		if (explicit6)
			return set_error(
			    err, cap,
			    "cannot give the interface IPv6 address %s: %s; enable IPv6 "
			    "or use -6 none (address6 = none)",
			    a6, why);
		c->has_addr6 = false;
		if (c->has_addr4)
			log_warn(
			    "%s: the interface gets no IPv6 address (IPv4 only; -6 none says so "
			    "without this warning)",
			    why);
	}
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

/* offer_revocation: a list from the state file or the bundle, with one line saying what came of
 * it. A list that does not verify stops the start: the files are damaged or another network's. */
static int offer_revocation(struct daemon *d, const uint8_t *list, size_t len, const char *from,
			    char *err, size_t cap)
{
	int rc = node_revocation_offer(&d->node, list, len, uv_now(d->loop));

	if (rc < 0 && rc != REVOCATION_ERR_OLDER)
		return set_error(err, cap, "%s: revocation list refused: %s", from,
				 revocation_strerror(rc));
	if (rc == REVOCATION_ERR_OLDER)
		log_info("%s: revocation list older than the one kept, ignored", from);
	return 0;
}

/* The newest VPN revocation list we know: the state file's (kept across restarts), then the
 * bundle's (which renew and revoke refresh). */
static int load_revocation(struct daemon *d, char *err, size_t cap)
{
	uint8_t *list = malloc(MQTTIP_REVOCATION_MAX_LEN);
	size_t len = 0;
	int rc = -1;

	if (!list)
		return set_error(err, cap, "out of memory");
	/* The state file is a cache: one that is damaged, or from another network (an interface
	 * name reused), is named and left for the next save to replace. The bundle must be sound.
	 */
	if (state_load(d->cfg.state_file, list, MQTTIP_REVOCATION_MAX_LEN, &len, err, cap) ||
	    (len && offer_revocation(d, list, len, d->cfg.state_file, err, cap)))
		log_warn("%s; starting from the bundle's revocation list", err);
	if (d->id.revocation_len == 0 ||
	    offer_revocation(d, d->id.revocation, d->id.revocation_len, "bundle", err, cap) == 0)
		rc = 0;
	free(list);
	if (rc == 0 && d->revocation->version)
		log_info("revocation list %llu (%u serials, %u keys)",
			 (unsigned long long)d->revocation->version, d->revocation->n_serials,
			 d->revocation->n_keys);
	return rc;
}

/* The TUN interface, with offloads unless the kernel or --no-offload says otherwise (before the
 * engine starts: offloads change what it announces). */
static int open_tun(struct daemon *d, char *err, size_t cap)
{
	char note[256];

	d->tun_fd = tun_open(d->cfg.ifname, !d->cfg.no_offload, &d->tun_offload, note, err, cap);
	if (d->tun_fd < 0)
		return -1;
	if (!d->cfg.no_offload && !d->tun_offload)
		log_info("TUN offloads not available (%s): one packet per read and write", note);
	if (tun_configure(d->cfg.ifname, d->cfg.has_addr4 ? &d->cfg.addr4 : NULL, d->cfg.prefix4,
			  d->cfg.has_addr6 ? &d->cfg.addr6 : NULL, d->cfg.prefix6, d->cfg.mtu, err,
			  cap))
		return -1;
	return 0;
}

/* The engine's storage: one allocation each, at start. */
static int start_node(struct daemon *d, char *err, size_t cap)
{
	size_t n = d->cfg.max_peers, pool = n * d->cfg.queue_per_peer;
	struct node_settings set = settings_of(&d->cfg);
	struct netaddr extra[2];
	struct node_credentials cred = credentials_of(&d->id, &d->cfg, extra);
	struct node_ops ops = {d,
			       node_publish_cb,
			       node_subscribe_cb,
			       node_unsubscribe_cb,
			       node_deliver_cb,
			       node_wall_clock_cb,
			       node_log_cb,
			       node_persist_cb};
	struct node_storage st = {0};

	if (pool > 4096)
		pool = 4096;
	d->peers = calloc(n, sizeof(*d->peers));
	d->handshakes = calloc(n + 1, sizeof(*d->handshakes)); /* one per peer and the responder */
	d->packets = calloc(pool ? pool : 1, sizeof(*d->packets));
	d->batch_mem = calloc(BATCH_SLOTS, MQTTIP_MAX_TRANSPORT_MSG);
	d->routes = calloc(ROUTE_CACHE_SIZE, sizeof(*d->routes));
	d->wanted = calloc(LOOKUPS, sizeof(*d->wanted));
	d->revocation = calloc(1, sizeof(*d->revocation));
	d->senders = calloc(RATELIMIT_SENDERS, sizeof(*d->senders));
	if (cred.legacy_password)
		d->legacy = calloc(1, sizeof(*d->legacy));
	if (!d->peers || !d->handshakes || !d->packets || !d->batch_mem || !d->routes ||
	    !d->wanted || !d->revocation || !d->senders || (cred.legacy_password && !d->legacy)) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	st.peers = d->peers;
	st.n_peers = n;
	st.handshakes = d->handshakes;
	st.n_handshakes = n + 1;
	st.packets = d->packets;
	st.n_packets = pool;
	st.batch_mem = d->batch_mem;
	st.batch_size = MQTTIP_MAX_TRANSPORT_MSG;
	st.n_batches = BATCH_SLOTS;
	st.routes = d->routes;
	st.n_routes = ROUTE_CACHE_SIZE;
	st.legacy = d->legacy;
	if (d->tun_offload) {
		d->offload.deliver = tunnel_write_gso;
		st.offload = &d->offload;
	}
	st.wanted = d->wanted;
	st.n_wanted = LOOKUPS;
	st.revocation = d->revocation;
	st.ratelimit_senders = d->senders;
	st.n_ratelimit_senders = RATELIMIT_SENDERS;
	if (node_init(&d->node, &set, &cred, &st, &ops, uv_now(d->loop))) {
		snprintf(err, cap, "cannot start the node (see the line above)");
		return -1;
	}
	return d->id.secure ? load_revocation(d, err, cap) : 0;
}

static void release(struct daemon *d)
{
	node_wipe(&d->node);
	free(d->peers);
	free(d->handshakes);
	free(d->packets);
	free(d->batch_mem);
	free(d->routes);
	free(d->legacy);
	free(d->wanted);
	free(d->revocation);
	free(d->senders);
	identity_free(&d->id);
	config_wipe(&d->cfg);
	if (d->tun_fd >= 0)
		close(d->tun_fd);
}

static int start_broker(struct daemon *d, char *err, size_t cap)
{
	struct broker_callbacks cb = {on_broker_connect, on_broker_message, on_broker_drained};
	const char *urls[CONFIG_BROKERS_MAX];
	char client_id[CONFIG_STR_MAX], a4[NETADDR_STR_MAX] = "", probe[TOPIC_MAX] = "";
	SSL_CTX *ctxs[BROKER_MAX_URLS];
	struct netaddr self = d->cfg.has_addr4 ? d->cfg.addr4 : d->cfg.addr6;
	struct broker_options o = {
	    .urls = urls,
	    .n_urls = d->cfg.n_brokers,
	    .client_id = client_id,
	    .user = d->cfg.username,
	    .pass = d->cfg.password,
	    .identity = d->id.secure ? d->id.cert.name : a4,
	    .probe_topic = probe,
	    .keepalive_s = d->cfg.mqtt_keepalive,
	    .connect_timeout_ms = (unsigned)d->cfg.connect_timeout_ms,
	    .max_message = d->cfg.max_message,
	    .min_message = config_min_message(&d->cfg),
	};
	int rc;

	for (unsigned i = 0; i < d->cfg.n_brokers; i++)
		urls[i] = d->cfg.broker[i];
	if (d->cfg.has_addr4)
		netaddr_format(&d->cfg.addr4, a4, sizeof(a4));
	snprintf(client_id, sizeof(client_id), "%s", d->cfg.client_id);
	if (!client_id[0])
		snprintf(client_id, sizeof(client_id), "%s", d->id.secure ? d->id.cert.name : a4);
	/* size probes on our own inbox: nobody else reads it, and No Local keeps them from us */
	if (d->id.secure)
		topic_data(probe, sizeof(probe), d->cfg.prefix, &self, &self);
	else
		topic_legacy(probe, sizeof(probe), d->cfg.prefix, &self);
	if (broker_init(&d->broker, d->loop, &o, &cb, d, err, cap))
		return -1;
	if (tls_contexts(d, &d->id, ctxs, err, cap))
		return -1;
	rc = broker_set_tls(&d->broker, ctxs, err, cap);
	free_contexts(d, ctxs);
	for (size_t i = 0; rc == 0 && i < d->broker.n_ep; i++) {
		if (!d->broker.ep[i].tls)
			log_warn("plain MQTT to %s: the broker cannot authenticate this node (use "
				 "mqtts://)",
				 d->broker.ep[i].host);
	}
	return rc;
}

static int run(struct daemon *d)
{
	char err[512], a4[NETADDR_STR_MAX] = "", a6[NETADDR_STR_MAX] = "";
	int rc;

	if (sodium_init() < 0)
		return fatal("libsodium failed to initialise");
	if (identity_load(&d->id, &d->cfg, (uint64_t)time(NULL), err, sizeof(err)))
		return fatal(err);
	if ((rc = choose_addresses(d, err, sizeof(err))) != 0) {
		fprintf(stderr, "mqttip up: %s\n", err);
		return rc == -2 ? MQTTIP_EXIT_USAGE : MQTTIP_EXIT_FAILED;
	}
	d->loop = malloc(sizeof(*d->loop));
	if (!d->loop || uv_loop_init(d->loop)) {
		free(d->loop);
		d->loop = NULL;
		return fatal("cannot create the event loop");
	}
	if (start_broker(d, err, sizeof(err)))
		return fatal(err);
	/* the interface first: without the right to make it nothing else matters (the node would
	 * write its state file before) */
	if (open_tun(d, err, sizeof(err)) || start_node(d, err, sizeof(err)))
		return fatal(err);
	follow_message_size(d);
	if (d->cfg.has_addr4)
		netaddr_format(&d->cfg.addr4, a4, sizeof(a4));
	if (d->cfg.has_addr6)
		netaddr_format(&d->cfg.addr6, a6, sizeof(a6));
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
	uv_timer_start(&d->tick, on_tick, NODE_TICK_MS, NODE_TICK_MS);
	uv_signal_init(d->loop, &d->sig_term);
	uv_signal_init(d->loop, &d->sig_int);
	uv_signal_init(d->loop, &d->sig_hup);
	d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
	uv_signal_start(&d->sig_term, on_signal, SIGTERM);
	uv_signal_start(&d->sig_int, on_signal, SIGINT);
	uv_signal_start(&d->sig_hup, on_signal, SIGHUP);
	d->start_ms = uv_now(d->loop);
	log_info("up: interface %s%s%s%s%s%s, node %s, mode %s%s, broker %s%s", d->cfg.ifname,
		 a4[0] ? " " : "", a4, a6[0] ? " " : "", a6, d->tun_offload ? " (offloads)" : "",
		 d->id.secure ? d->id.cert.name : "-", d->id.secure ? "secure" : "",
		 d->node.legacy ? (d->id.secure ? "+legacy" : "legacy") : "", d->cfg.broker[0],
		 d->cfg.n_brokers > 1 ? " (and others in turn)" : "");
	start_reading(d);
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
		free(d);
		return cli_usage_error(&(struct cli){.command = "up", .usage = config_usage}, "%s",
				       err);
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
