/* fw_tunnel.c - the device as a host of the node engine: its settings and its storage (see
 * fw_tunnel.h). */
#include "fw_tunnel.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

/* Lets the compiler check the format of put() (GCC and clang). */
#if defined(__GNUC__)
#define FW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FW_PRINTF(f, a)
#endif

#define STATUS_PIECE_MAX 160 /* the longest piece: a peer's name (63) and address (45) */

struct text {
	fw_emit_fn emit;
	void *arg;
	size_t len;
};

static void put(struct text *x, const char *fmt, ...) FW_PRINTF(2, 3);

_Static_assert(FW_RX_MSG_MAX >= MQTTIP_MIN_MESSAGE && FW_RX_MSG_MAX <= MQTTIP_MAX_TRANSPORT_MSG,
	       "a node announces at least one full IP packet (PROTOCOL.md 6.15)");

/* The device's policy (fw_tunnel.h). */
static struct node_settings device_settings(const struct fw_config *cfg)
{
	struct node_settings s = node_settings_default();

	snprintf(s.prefix, sizeof(s.prefix), "%s", cfg->prefix);
	s.directory = NODE_DIRECTORY_ON_DEMAND;
	s.evict_lru = true;
	s.queue_per_peer = FW_PENDING;
	s.broadcast_peers = 0;
	s.accept_multicast = false;
	s.max_receive = FW_RX_MSG_MAX;
	return s;
}

int fw_tunnel_init(struct fw_tunnel *t, const struct fw_config *cfg, const struct bundle *b,
		   const struct node_ops *port, uint64_t now_ms)
{
	struct node_settings set = device_settings(cfg);
	struct node_credentials cred = {0};
	struct node_storage st = {0};
	uint64_t now_unix;
	uint32_t ns;

	memset(t, 0, sizeof(*t));
	t->legacy = cfg->legacy;
	t->legacy_addr = cfg->legacy_addr;
	t->legacy_prefix_len = cfg->legacy_prefix_len;
	if (cfg->legacy) {
		cred.legacy_password = cfg->legacy_password;
		cred.legacy_password_len = strlen(cfg->legacy_password);
		cred.extra_own = &cfg->legacy_addr;
		cred.n_extra_own = 1;
		st.legacy = &t->mem.legacy;
	} else {
		cred.cert = b->node_cert;
		cred.cert_len = b->node_cert_len;
		cred.static_private = b->node_key;
		cred.network_id = b->network_ca;
		cred.psk = cfg->has_psk ? cfg->psk : NULL;
		st.peers = t->mem.secure.peers;
		st.n_peers = FW_MAX_PEERS;
		st.handshakes = t->mem.secure.handshakes;
		st.n_handshakes = FW_HANDSHAKES;
		st.packets = t->mem.secure.packets;
		st.n_packets = FW_PENDING;
		st.wanted = t->mem.secure.wanted;
		st.n_wanted = FW_WANTED;
		st.revocation = &t->mem.secure.revocation;
		st.ratelimit_senders = t->mem.secure.senders;
		st.n_ratelimit_senders = FW_RATELIMIT;
	}
	st.batch_mem = t->batch;
	st.batch_size = sizeof(t->batch);
	st.n_batches = 1;
	if (node_init(&t->node, &set, &cred, &st, port, now_ms) != 0)
		return -1;
	if (cfg->legacy) {
		char a[NETADDR_STR_MAX];

		netaddr_format(&cfg->legacy_addr, a, sizeof(a));
		if (port->log) {
			char line[96];

			snprintf(line, sizeof(line), "legacy MQTT_VPN mode, address %s/%u", a,
				 cfg->legacy_prefix_len);
			port->log(port->ctx, NODE_LOG_INFO, line);
		}
		return 0;
	}
	if (port->wall_clock(port->ctx, &now_unix, &ns) && now_unix >= t->node.id.cert.not_after &&
	    port->log)
		port->log(port->ctx, NODE_LOG_WARN, "our node certificate has expired");
	if (port->log) {
		char line[128];

		snprintf(line, sizeof(line), "node %s, %u address(es), secure mode",
			 t->node.id.cert.name, t->node.id.cert.n_addrs);
		port->log(port->ctx, NODE_LOG_INFO, line);
	}
	return 0;
}

int fw_tunnel_offer_revocation(struct fw_tunnel *t, const uint8_t *list, size_t len,
			       uint64_t now_ms)
{
	return node_revocation_offer(&t->node, list, len, now_ms);
}

void fw_tunnel_connected(struct fw_tunnel *t, uint64_t now_ms)
{
	node_connected(&t->node, now_ms);
}

void fw_tunnel_disconnected(struct fw_tunnel *t)
{
	node_disconnected(&t->node);
}

void fw_tunnel_input(struct fw_tunnel *t, const char *topic, size_t topic_len, uint8_t *payload,
		     size_t len, bool retained, uint64_t now_ms)
{
	node_input(&t->node, topic, topic_len, payload, len, retained, now_ms);
}

void fw_tunnel_output(struct fw_tunnel *t, const uint8_t *pkt, size_t len, uint64_t now_ms)
{
	node_send(&t->node, pkt, len, now_ms);
	node_flush(&t->node, now_ms);
}

void fw_tunnel_tick(struct fw_tunnel *t, uint64_t now_ms)
{
	node_tick(&t->node, now_ms);
}

size_t fw_tunnel_addresses(const struct fw_tunnel *t, struct cert_prefix *out, size_t cap)
{
	size_t n = 0;

	if (t->legacy) {
		if (cap > 0) {
			out[0].addr = t->legacy_addr;
			out[0].len = t->legacy_prefix_len;
			n = 1;
		}
		return n;
	}
	for (; n < t->node.id.cert.n_addrs && n < cap; n++)
		out[n] = t->node.id.cert.addrs[n];
	return n;
}

struct fw_counters fw_tunnel_counters(const struct fw_tunnel *t)
{
	struct fw_counters c = {0};

	for (size_t i = 0; i < t->node.peers.cap; i++) {
		const struct peer *p = &t->node.peers.peers[i];

		if (!p->used)
			continue;
		c.rx_packets += p->stats.rx_packets;
		c.tx_packets += p->stats.tx_packets;
		c.handshakes += p->stats.handshakes;
	}
	if (t->node.legacy) {
		c.rx_packets += t->node.legacy->rx_packets;
		c.tx_packets += t->node.legacy->tx_packets;
	}
	for (int r = 0; r < DROP_MAX; r++)
		c.drops += node_drops_total(&t->node, (enum drop_reason)r);
	return c;
}

static void put(struct text *x, const char *fmt, ...)
{
	char piece[STATUS_PIECE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(piece, sizeof(piece), fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(piece))
		n = (int)sizeof(piece) - 1;
	x->emit(x->arg, piece, (size_t)n);
	x->len += (size_t)n;
}

static void put_piece(void *arg, const char *piece, size_t len)
{
	struct text *x = arg;

	x->emit(x->arg, piece, len);
	x->len += len;
}

static void put_drops(struct text *x, const uint64_t *drops)
{
	drop_list_text(drops, put_piece, x);
}

size_t fw_tunnel_status(const struct fw_tunnel *t, fw_emit_fn emit, void *arg, uint64_t now_ms)
{
	struct text x = {emit, arg, 0};
	struct cert_prefix addrs[MQTTIP_CERT_MAX_ADDRS];
	size_t n = fw_tunnel_addresses(t, addrs, MQTTIP_CERT_MAX_ADDRS);
	struct fw_counters c = fw_tunnel_counters(t);
	char a[NETADDR_STR_MAX];

	put(&x, "node: %s\nmode: %s\naddresses:", t->legacy ? "(legacy)" : t->node.id.cert.name,
	    t->legacy ? "legacy" : "secure");
	for (size_t i = 0; i < n; i++) {
		netaddr_format(&addrs[i].addr, a, sizeof(a));
		put(&x, " %s/%u", a, addrs[i].len);
	}
	put(&x, "\nbroker: %s\nuptime: %llu s\n", t->node.connected ? "connected" : "disconnected",
	    (unsigned long long)((now_ms - t->node.started_ms) / 1000));
	for (size_t i = 0; i < t->node.peers.cap; i++) {
		const struct peer *p = &t->node.peers.peers[i];

		if (!p->used)
			continue;
		netaddr_format(&p->addr, a, sizeof(a));
		put(&x, "peer: %s %s handshake ", p->cert.name, a);
		if (p->handshake_done_ms)
			put(&x, "%llu s ago",
			    (unsigned long long)((now_ms - p->handshake_done_ms) / 1000));
		else
			put(&x, "none");
		/* packets per message received: how much the peer batches (up to FW_RX_MSG_MAX) */
		put(&x, " rx %llu pkt %llu B in %llu msg", (unsigned long long)p->stats.rx_packets,
		    (unsigned long long)p->stats.rx_bytes, (unsigned long long)p->stats.rx_msgs);
		put(&x, " tx %llu pkt %llu B\n", (unsigned long long)p->stats.tx_packets,
		    (unsigned long long)p->stats.tx_bytes);
		put_drops(&x, p->stats.drops);
	}
	put(&x, "total: rx %llu pkt tx %llu pkt handshakes %llu\n",
	    (unsigned long long)c.rx_packets, (unsigned long long)c.tx_packets,
	    (unsigned long long)c.handshakes);
	put_drops(&x, t->node.drops);
	return x.len;
}

void fw_tunnel_wipe(struct fw_tunnel *t)
{
	node_wipe(&t->node);
	sodium_memzero(t, sizeof(*t));
}
