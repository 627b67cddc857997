#include "fw_tunnel.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "batch.h"
#include "iphdr.h"
#include "keypair.h"
#include "session.h"

#define LOG_LINE_MAX 160

/* Lets the compiler check the formats of our printf-like helpers (GCC and clang). */
#if defined(__GNUC__)
#define FW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FW_PRINTF(f, a)
#endif

struct text {
	char *buf;
	size_t cap, len;
};

static void say(struct fw_tunnel *t, const char *fmt, ...) FW_PRINTF(2, 3);
static void put(struct text *x, const char *fmt, ...) FW_PRINTF(2, 3);

static void say(struct fw_tunnel *t, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	if (!t->port->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	t->port->log(t->port->ctx, line);
}

static const char *addr_text(const struct netaddr *a, char buf[NETADDR_STR_MAX])
{
	if (netaddr_format(a, buf, NETADDR_STR_MAX) == 0)
		strcpy(buf, "?");
	return buf;
}

static const char *prefix_of(const struct fw_tunnel *t)
{
	return t->cfg.prefix[0] ? t->cfg.prefix : MQTTIP_TOPIC_PREFIX;
}

static void publish(struct fw_tunnel *t, const char *topic, const uint8_t *msg, size_t len, int qos,
		    bool retain)
{
	if (!t->connected || t->port->publish(t->port->ctx, topic, msg, len, qos, retain) != 0)
		t->counters.publish_failed++;
}

static bool wall_clock(struct fw_tunnel *t, uint64_t *sec, uint32_t *ns)
{
	uint32_t unused;

	return t->port->wall_clock(t->port->ctx, sec, ns ? ns : &unused);
}

static struct fw_peer_info *info_of(struct fw_tunnel *t, const struct peer *p)
{
	return &t->info[p - t->peers];
}

/* Our own address of the peer's family: the <src> of the topics we write to it. */
static const struct netaddr *self_addr_for(const struct fw_tunnel *t, const struct netaddr *peer)
{
	for (size_t i = 0; i < t->self.n_addrs; i++) {
		if (t->self.addrs[i].addr.family == peer->family)
			return &t->self.addrs[i].addr;
	}
	return NULL;
}

static bool is_own(const struct fw_tunnel *t, const struct netaddr *a)
{
	if (t->cfg.legacy)
		return netaddr_equal(a, &t->cfg.legacy_addr);
	return cert_check_owns(&t->self, a) == CERT_OK;
}

int fw_tunnel_init(struct fw_tunnel *t, const struct fw_config *cfg, const struct fw_bundle *b,
		   const struct fw_port *port, uint64_t now_ms)
{
	uint64_t now_unix = 0;
	int err;

	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	t->port = port;
	t->started_ms = now_ms;
	t->params = keypair_params_default();
	peer_table_init(&t->table, t->peers, FW_MAX_PEERS);
	ratelimit_init(&t->ratelimit);
	if (cfg->legacy) {
		char a[NETADDR_STR_MAX];

		legacy_key_from_password(cfg->legacy_password, strlen(cfg->legacy_password),
					 t->legacy_key);
		legacy_nonce_cache_init_random(&t->legacy_nonces);
		say(t, "legacy MQTT_VPN mode, address %s/%u", addr_text(&cfg->legacy_addr, a),
		    cfg->legacy_prefix_len);
		return 0;
	}
	/* Our own certificate: decoded without a time check (the clock may not be set yet), but it
	 * must be signed by the network CA and carry the public key of our private key. */
	err = cert_verify(b->node_cert, b->node_cert_len, b->network_ca, 0, &t->self);
	if (err == CERT_ERR_NOT_YET_VALID)
		err = cert_decode(b->node_cert, b->node_cert_len, &t->self);
	if (err != CERT_OK) {
		say(t, "node certificate refused: %s", cert_strerror(err));
		return -1;
	}
	memcpy(t->static_private, b->node_key, MQTTIP_KEY_LEN);
	crypto_scalarmult_base(t->static_public, t->static_private);
	if (sodium_memcmp(t->static_public, t->self.x25519_public, MQTTIP_KEY_LEN) != 0) {
		say(t, "node key does not match the node certificate");
		fw_tunnel_wipe(t);
		return -1;
	}
	memcpy(t->self_cert, b->node_cert, b->node_cert_len);
	t->self_cert_len = b->node_cert_len;
	memcpy(t->network_id, b->network_ca, MQTTIP_NETWORK_ID_LEN);
	if (wall_clock(t, &now_unix, NULL) && now_unix >= t->self.not_after)
		say(t, "warning: our node certificate has expired");
	say(t, "node %s, %u address(es), secure mode", t->self.name, t->self.n_addrs);
	return 0;
}

void fw_tunnel_connected(struct fw_tunnel *t, uint64_t now_ms)
{
	char topic[TOPIC_MAX];
	size_t i;

	(void)now_ms;
	t->connected = true;
	if (t->cfg.legacy) {
		if (topic_legacy(topic, sizeof(topic), prefix_of(t), &t->cfg.legacy_addr))
			t->port->subscribe(t->port->ctx, topic, 0);
		return;
	}
	for (i = 0; i < t->self.n_addrs; i++) {
		const struct netaddr *a = &t->self.addrs[i].addr;

		if (topic_data_inbox(topic, sizeof(topic), prefix_of(t), a))
			t->port->subscribe(t->port->ctx, topic, 0);
		if (topic_kx_inbox(topic, sizeof(topic), prefix_of(t), a))
			t->port->subscribe(t->port->ctx, topic, 1);
		if (topic_cert(topic, sizeof(topic), prefix_of(t), a))
			publish(t, topic, t->self_cert, t->self_cert_len, 1, true);
	}
	for (i = 0; i < FW_WANTED; i++) {
		if (t->wanted[i].used &&
		    topic_cert(topic, sizeof(topic), prefix_of(t), &t->wanted[i].addr))
			t->port->subscribe(t->port->ctx, topic, 1);
	}
}

void fw_tunnel_disconnected(struct fw_tunnel *t)
{
	t->connected = false;
}

/* ---- sending ---- */

static void seal_and_publish(struct fw_tunnel *t, struct peer *p, struct keypair *kp,
			     const uint8_t *pkt, size_t len, uint64_t now_ms)
{
	uint8_t *buf = t->out.transport;
	const struct netaddr *self = self_addr_for(t, &p->addr);
	char topic[TOPIC_MAX];
	size_t body, msg_len;
	int err;

	body = batch_append(buf + MQTTIP_TRANSPORT_HEADER_LEN,
			    sizeof(t->out.transport) - MQTTIP_TRANSPORT_OVERHEAD, 0, pkt, len);
	if (body == 0 || self == NULL ||
	    !topic_data(topic, sizeof(topic), prefix_of(t), &p->addr, self)) {
		t->counters.drop_malformed++;
		return;
	}
	err = keypair_seal(kp, now_ms, &t->params, buf, sizeof(t->out.transport), body, &msg_len);
	if (err != KEYPAIR_OK) {
		t->counters.drop_no_peer++;
		return;
	}
	publish(t, topic, buf, msg_len, 0, false);
	info_of(t, p)->tx_packets++;
	info_of(t, p)->tx_bytes += len;
	info_of(t, p)->last_used_ms = now_ms;
	t->counters.tx_packets++;
	t->counters.tx_bytes += len;
}

static void next_timestamp(struct fw_tunnel *t, uint64_t sec, uint32_t ns,
			   uint8_t ts[MQTTIP_TIMESTAMP_LEN])
{
	handshake_tai64n(sec, ns, ts);
	if (memcmp(ts, t->last_timestamp, MQTTIP_TIMESTAMP_LEN) <= 0) {
		/* The clock did not move (coarse RTC) or stepped back: one more than the last one.
		 */
		memcpy(ts, t->last_timestamp, MQTTIP_TIMESTAMP_LEN);
		for (int i = MQTTIP_TIMESTAMP_LEN - 1; i >= 0 && ++ts[i] == 0; i--)
			;
	}
	memcpy(t->last_timestamp, ts, MQTTIP_TIMESTAMP_LEN);
}

static void initiate(struct fw_tunnel *t, struct peer *p, uint64_t now_ms)
{
	const struct netaddr *self = self_addr_for(t, &p->addr);
	struct handshake_local local = {
	    .static_private = t->static_private,
	    .network_id = t->network_id,
	    .cert = t->self_cert,
	    .cert_len = t->self_cert_len,
	};
	uint8_t ts[MQTTIP_TIMESTAMP_LEN];
	char topic[TOPIC_MAX], a[NETADDR_STR_MAX];
	uint64_t sec;
	uint32_t ns, index;
	size_t len;
	int err;

	if (self == NULL || !topic_kx(topic, sizeof(topic), prefix_of(t), &p->addr, self))
		return;
	if (!wall_clock(t, &sec, &ns)) {
		say(t, "cannot start a handshake with %s: clock not set", addr_text(&p->addr, a));
		return;
	}
	if (p->handshake.state == HANDSHAKE_EMPTY)
		p->handshake_first_ms = now_ms;
	handshake_wipe(&p->handshake);
	memcpy(local.static_public, t->static_public, MQTTIP_KEY_LEN);
	next_timestamp(t, sec, ns, ts);
	randombytes_buf(&index, sizeof(index));
	index = peer_table_new_index(&t->table, p, index);
	err = handshake_initiation_create(&p->handshake, &local, self, &p->addr,
					  p->cert.x25519_public, t->cfg.has_psk ? t->cfg.psk : NULL,
					  index, ts, t->out.handshake, sizeof(t->out.handshake),
					  &len);
	if (err != HANDSHAKE_OK) {
		say(t, "handshake with %s: %s", p->cert.name, handshake_strerror(err));
		return;
	}
	p->handshake_sent_ms = now_ms;
	publish(t, topic, t->out.handshake, len, 1, false);
	say(t, "handshake initiation sent to %s (%s)", p->cert.name, addr_text(&p->addr, a));
}

/* Starts a handshake unless one is in flight and not yet due for a retry. */
static void want_handshake(struct fw_tunnel *t, struct peer *p, uint64_t now_ms)
{
	if (p->handshake.state == HANDSHAKE_INITIATION_SENT &&
	    now_ms - p->handshake_sent_ms < MQTTIP_REKEY_TIMEOUT_MS)
		return;
	initiate(t, p, now_ms);
}

static void enqueue(struct fw_tunnel *t, const struct netaddr *dst, const uint8_t *pkt, size_t len,
		    uint64_t now_ms)
{
	for (size_t i = 0; i < FW_PENDING; i++) {
		struct fw_pending *q = &t->pending[i];

		if (q->used)
			continue;
		q->used = true;
		q->dst = *dst;
		q->since_ms = now_ms;
		q->len = (uint16_t)len;
		memcpy(q->pkt, pkt, len);
		return;
	}
	t->counters.drop_no_peer++;
}

/* Looks the peer's certificate up in the directory: the retained <p>/cert/<addr>. */
static void want_certificate(struct fw_tunnel *t, const struct netaddr *addr, uint64_t now_ms)
{
	char topic[TOPIC_MAX];
	struct fw_wanted *free_slot = NULL;

	for (size_t i = 0; i < FW_WANTED; i++) {
		if (t->wanted[i].used && netaddr_equal(&t->wanted[i].addr, addr))
			return;
		if (!t->wanted[i].used && free_slot == NULL)
			free_slot = &t->wanted[i];
	}
	if (free_slot == NULL || !topic_cert(topic, sizeof(topic), prefix_of(t), addr))
		return;
	free_slot->used = true;
	free_slot->addr = *addr;
	free_slot->since_ms = now_ms;
	if (t->connected)
		t->port->subscribe(t->port->ctx, topic, 1);
}

static void flush_pending(struct fw_tunnel *t, struct peer *p, uint64_t now_ms)
{
	struct keypair *kp = session_sending_keypair(&p->session, now_ms, &t->params);

	for (size_t i = 0; kp && i < FW_PENDING; i++) {
		struct fw_pending *q = &t->pending[i];

		if (q->used && cert_check_source(&p->cert, &q->dst) == CERT_OK) {
			seal_and_publish(t, p, kp, q->pkt, q->len, now_ms);
			q->used = false;
		}
	}
}

static void output_legacy(struct fw_tunnel *t, const struct iphdr_info *ip, const uint8_t *pkt,
			  size_t len)
{
	char topic[TOPIC_MAX];
	size_t msg_len;

	if (!topic_legacy(topic, sizeof(topic), prefix_of(t), &ip->dst) ||
	    legacy_seal_random(t->legacy_key, pkt, len, t->out.legacy, sizeof(t->out.legacy),
			       &msg_len) != LEGACY_OK) {
		t->counters.drop_malformed++;
		return;
	}
	publish(t, topic, t->out.legacy, msg_len, 0, false);
	t->counters.tx_packets++;
	t->counters.tx_bytes += len;
}

void fw_tunnel_output(struct fw_tunnel *t, const uint8_t *pkt, size_t len, uint64_t now_ms)
{
	struct iphdr_info ip;
	struct peer *p;
	struct keypair *kp;

	if (iphdr_parse(pkt, len, &ip) != IPHDR_OK || ip.total_len > FW_MTU) {
		t->counters.drop_malformed++;
		return;
	}
	len = ip.total_len;
	/* Neighbour discovery, MLD and the like have no place on a point-to-point tunnel. */
	if (netaddr_is_multicast(&ip.dst) || netaddr_is_broadcast(&ip.dst) || !is_own(t, &ip.src))
		return;
	if (t->cfg.legacy) {
		output_legacy(t, &ip, pkt, len);
		return;
	}
	p = peer_table_find_addr(&t->table, &ip.dst);
	if (p == NULL) {
		enqueue(t, &ip.dst, pkt, len, now_ms);
		want_certificate(t, &ip.dst, now_ms);
		return;
	}
	kp = session_sending_keypair(&p->session, now_ms, &t->params);
	if (session_wants_handshake(&p->session, now_ms, &t->params))
		want_handshake(t, p, now_ms);
	if (kp == NULL) {
		enqueue(t, &ip.dst, pkt, len, now_ms);
		return;
	}
	seal_and_publish(t, p, kp, pkt, len, now_ms);
}

/* ---- receiving ---- */

/* A peer slot for a new identity: a free one, else the least recently used one without a
 * handshake in flight. */
static struct peer *add_peer(struct fw_tunnel *t, const struct cert *c, const struct netaddr *addr,
			     uint64_t now_ms)
{
	struct peer *p = peer_table_add(&t->table, c, addr), *victim = NULL;
	char a[NETADDR_STR_MAX];

	if (p == NULL) {
		for (size_t i = 0; i < FW_MAX_PEERS; i++) {
			struct peer *q = &t->peers[i];

			if (q->handshake.state != HANDSHAKE_EMPTY)
				continue;
			if (victim == NULL ||
			    t->info[i].last_used_ms < info_of(t, victim)->last_used_ms)
				victim = q;
		}
		if (victim == NULL)
			return NULL;
		say(t, "peer table full: forgetting %s", victim->cert.name);
		peer_table_remove(&t->table, victim);
		p = peer_table_add(&t->table, c, addr);
		if (p == NULL)
			return NULL;
	}
	memset(info_of(t, p), 0, sizeof(struct fw_peer_info));
	info_of(t, p)->last_used_ms = now_ms;
	say(t, "peer %s at %s", c->name, addr_text(addr, a));
	return p;
}

static void input_certificate(struct fw_tunnel *t, const struct topic *tp, const uint8_t *msg,
			      size_t len, uint64_t now_ms)
{
	struct fw_wanted *w = NULL;
	struct cert c;
	struct peer *p;
	char topic[TOPIC_MAX], a[NETADDR_STR_MAX];
	uint64_t now_unix;
	int err;

	for (size_t i = 0; i < FW_WANTED; i++) {
		if (t->wanted[i].used && netaddr_equal(&t->wanted[i].addr, &tp->dst))
			w = &t->wanted[i];
	}
	if (w == NULL || len == 0)
		return;
	if (!wall_clock(t, &now_unix, NULL)) {
		say(t, "cannot check the certificate of %s: clock not set", addr_text(&tp->dst, a));
		return;
	}
	err = cert_verify(msg, len, t->network_id, now_unix, &c);
	if (err == CERT_OK)
		err = cert_check_owns(&c, &tp->dst);
	if (err != CERT_OK) {
		say(t, "directory entry of %s refused: %s", addr_text(&tp->dst, a),
		    cert_strerror(err));
		t->counters.drop_auth++;
		return;
	}
	w->used = false;
	if (topic_cert(topic, sizeof(topic), prefix_of(t), &tp->dst))
		t->port->unsubscribe(t->port->ctx, topic);
	if (sodium_memcmp(c.x25519_public, t->static_public, MQTTIP_KEY_LEN) == 0)
		return;
	p = peer_table_find_static(&t->table, c.x25519_public);
	if (p == NULL)
		p = add_peer(t, &c, &tp->dst, now_ms);
	if (p == NULL)
		return;
	want_handshake(t, p, now_ms);
}

static void input_initiation(struct fw_tunnel *t, const struct topic *tp, const uint8_t *msg,
			     size_t len, uint64_t now_ms)
{
	struct handshake_local local = {
	    .static_private = t->static_private,
	    .network_id = t->network_id,
	    .cert = t->self_cert,
	    .cert_len = t->self_cert_len,
	};
	uint8_t ts[MQTTIP_TIMESTAMP_LEN];
	const uint8_t *last = NULL;
	struct peer *p;
	struct keypair kp;
	struct cert c;
	char topic[TOPIC_MAX], a[NETADDR_STR_MAX];
	uint64_t now_unix;
	uint32_t index;
	size_t out_len;
	int err;

	memcpy(local.static_public, t->static_public, MQTTIP_KEY_LEN);
	if (handshake_initiation_check(msg, len, t->static_public) != HANDSHAKE_OK) {
		t->counters.drop_auth++;
		return;
	}
	if (!ratelimit_allow(&t->ratelimit, &tp->src, now_ms)) {
		t->counters.drop_rate++;
		return;
	}
	if (!wall_clock(t, &now_unix, NULL)) {
		say(t, "handshake from %s ignored: clock not set", addr_text(&tp->src, a));
		return;
	}
	p = peer_table_find_addr(&t->table, &tp->src);
	if (p && p->has_timestamp && cert_check_owns(&p->cert, &tp->src) == CERT_OK)
		last = p->last_timestamp;
	err = handshake_initiation_consume(&t->responder, &local, &tp->src, &tp->dst, now_unix,
					   last, msg, len, &c, ts);
	if (err != HANDSHAKE_OK) {
		if (err == HANDSHAKE_ERR_REPLAY)
			t->counters.drop_replay++;
		else
			t->counters.drop_auth++;
		say(t, "handshake from %s refused: %s%s%s", addr_text(&tp->src, a),
		    handshake_strerror(err), err == HANDSHAKE_ERR_CERT ? ": " : "",
		    err == HANDSHAKE_ERR_CERT ? cert_strerror(t->responder.cert_error) : "");
		return;
	}
	p = peer_table_find_static(&t->table, c.x25519_public);
	if (p && p->has_timestamp && memcmp(ts, p->last_timestamp, MQTTIP_TIMESTAMP_LEN) <= 0) {
		handshake_wipe(&t->responder);
		t->counters.drop_replay++;
		return;
	}
	if (p == NULL)
		p = add_peer(t, &c, &tp->src, now_ms);
	if (p == NULL || !topic_kx(topic, sizeof(topic), prefix_of(t), &tp->src, &tp->dst)) {
		handshake_wipe(&t->responder);
		t->counters.drop_no_peer++;
		return;
	}
	p->cert = c;
	p->addr = tp->src;
	randombytes_buf(&index, sizeof(index));
	index = peer_table_new_index(&t->table, p, index);
	err = handshake_response_create(&t->responder, t->cfg.has_psk ? t->cfg.psk : NULL, index,
					t->out.handshake, sizeof(t->out.handshake), &out_len, &kp,
					now_ms);
	if (err != HANDSHAKE_OK) {
		say(t, "handshake response to %s: %s", c.name, handshake_strerror(err));
		return;
	}
	session_install(&p->session, &kp);
	keypair_wipe(&kp);
	memcpy(p->last_timestamp, ts, MQTTIP_TIMESTAMP_LEN);
	p->has_timestamp = true;
	publish(t, topic, t->out.handshake, out_len, 1, false);
	info_of(t, p)->last_handshake_ms = now_ms;
	info_of(t, p)->last_used_ms = now_ms;
	t->counters.handshakes++;
	say(t, "handshake with %s (%s) done, as responder", c.name, addr_text(&tp->src, a));
}

static void input_response(struct fw_tunnel *t, const struct topic *tp, const uint8_t *msg,
			   size_t len, uint64_t now_ms)
{
	struct keypair kp;
	struct peer *p;
	uint32_t index;
	char a[NETADDR_STR_MAX];
	int err;

	if (handshake_receiver_index(msg, len, &index) < 0) {
		t->counters.drop_malformed++;
		return;
	}
	p = peer_table_find_initiator(&t->table, index);
	if (p == NULL || cert_check_owns(&p->cert, &tp->src) != CERT_OK) {
		t->counters.drop_auth++;
		return;
	}
	/* As the agent (PROTOCOL.md 6.13): a response that passes mac1 takes a token. */
	if (handshake_mac1_ok(msg, len, t->static_public) &&
	    !ratelimit_allow(&t->ratelimit, &tp->src, now_ms)) {
		t->counters.drop_rate++;
		return;
	}
	err = handshake_response_consume(&p->handshake, msg, len, &kp, now_ms);
	if (err != HANDSHAKE_OK) {
		t->counters.drop_auth++;
		say(t, "handshake response from %s refused: %s", p->cert.name,
		    handshake_strerror(err));
		return;
	}
	session_install(&p->session, &kp);
	keypair_wipe(&kp);
	info_of(t, p)->last_handshake_ms = now_ms;
	info_of(t, p)->last_used_ms = now_ms;
	t->counters.handshakes++;
	say(t, "handshake with %s (%s) done, as initiator", p->cert.name, addr_text(&p->addr, a));
	flush_pending(t, p, now_ms);
}

/* Checks one inner packet against who sent it and hands it to the IP stack. */
static void deliver(struct fw_tunnel *t, struct peer *sender, const uint8_t *pkt, size_t len,
		    struct fw_peer_info *info)
{
	struct iphdr_info ip;

	if (iphdr_parse(pkt, len, &ip) != IPHDR_OK) {
		t->counters.drop_malformed++;
		return;
	}
	/* Multicast (router solicitations a peer's kernel sends into its tunnel, say) means nothing
	 * on the device: counted apart from attacks. */
	if (netaddr_is_multicast(&ip.dst)) {
		t->counters.drop_multicast++;
		return;
	}
	/* The sender must be the peer that claims the source most specifically (PROTOCOL.md 8.5),
	 * or a gateway could speak for a node inside its route. */
	if ((sender && peer_table_find_addr(&t->table, &ip.src) != sender) || !is_own(t, &ip.dst)) {
		char s[NETADDR_STR_MAX], d[NETADDR_STR_MAX];
		uint64_t n = ++t->counters.drop_source;

		/* 1st, 2nd, 4th, 8th...: enough to diagnose, bounded under a flood. */
		if ((n & (n - 1)) == 0)
			say(t, "dropped packet %s -> %s from %s: %s (%llu so far)",
			    addr_text(&ip.src, s), addr_text(&ip.dst, d),
			    sender ? sender->cert.name : "legacy",
			    is_own(t, &ip.dst) ? "source not in its certificate" : "not for us",
			    (unsigned long long)n);
		return;
	}
	t->port->deliver(t->port->ctx, pkt, ip.total_len);
	t->counters.rx_packets++;
	t->counters.rx_bytes += ip.total_len;
	if (info) {
		info->rx_packets++;
		info->rx_bytes += ip.total_len;
	}
}

static void input_transport(struct fw_tunnel *t, const struct topic *tp, uint8_t *msg, size_t len,
			    uint64_t now_ms)
{
	struct batch_reader r;
	struct keypair *kp;
	struct peer *p;
	const uint8_t *pkt;
	uint8_t *body;
	size_t body_len, pkt_len;
	uint32_t index;
	int err;

	if (transport_receiver_index(msg, len, &index) < 0) {
		t->counters.drop_malformed++;
		return;
	}
	kp = peer_table_find_keypair(&t->table, index, &p);
	if (kp == NULL || cert_check_owns(&p->cert, &tp->src) != CERT_OK) {
		t->counters.drop_auth++;
		return;
	}
	err = keypair_open(kp, now_ms, &t->params, msg, len, &body, &body_len);
	if (err != KEYPAIR_OK) {
		if (err == KEYPAIR_ERR_REPLAY)
			t->counters.drop_replay++;
		else
			t->counters.drop_auth++;
		return;
	}
	session_received_with(&p->session, kp);
	info_of(t, p)->last_used_ms = now_ms;
	batch_reader_init(&r, body, body_len);
	while ((err = batch_next(&r, &pkt, &pkt_len)) > 0)
		deliver(t, p, pkt, pkt_len, info_of(t, p));
	if (err < 0)
		t->counters.drop_malformed++;
	flush_pending(t, p, now_ms);
}

static void input_legacy(struct fw_tunnel *t, const uint8_t *msg, size_t len)
{
	size_t pkt_len;
	int err = legacy_open(t->legacy_key, msg, len, t->legacy_packet, sizeof(t->legacy_packet),
			      &pkt_len);

	if (err != LEGACY_OK) {
		if (err == LEGACY_ERR_TAG)
			t->counters.drop_auth++;
		else
			t->counters.drop_malformed++;
		return;
	}
	if (!legacy_nonce_cache_check_and_add(&t->legacy_nonces, msg)) {
		t->counters.drop_replay++;
		return;
	}
	deliver(t, NULL, t->legacy_packet, pkt_len, NULL);
}

void fw_tunnel_input(struct fw_tunnel *t, const char *topic, size_t topic_len, uint8_t *payload,
		     size_t len, uint64_t now_ms)
{
	struct topic tp;

	switch (topic_parse(prefix_of(t), topic, topic_len, &tp)) {
	case TOPIC_LEGACY:
		if (t->cfg.legacy && is_own(t, &tp.dst))
			input_legacy(t, payload, len);
		return;
	case TOPIC_DATA:
		if (!t->cfg.legacy && is_own(t, &tp.dst))
			input_transport(t, &tp, payload, len, now_ms);
		return;
	case TOPIC_KX:
		if (t->cfg.legacy || !is_own(t, &tp.dst))
			return;
		switch (handshake_message_type(payload, len)) {
		case MQTTIP_MSG_INITIATION:
			input_initiation(t, &tp, payload, len, now_ms);
			return;
		case MQTTIP_MSG_RESPONSE:
			input_response(t, &tp, payload, len, now_ms);
			return;
		default:
			t->counters.drop_malformed++;
			return;
		}
	case TOPIC_CERT:
		if (!t->cfg.legacy)
			input_certificate(t, &tp, payload, len, now_ms);
		return;
	default:
		t->counters.drop_malformed++;
		return;
	}
}

/* ---- timers ---- */

static void drop_pending_for(struct fw_tunnel *t, const struct peer *p)
{
	for (size_t i = 0; i < FW_PENDING; i++) {
		if (t->pending[i].used &&
		    cert_check_source(&p->cert, &t->pending[i].dst) == CERT_OK) {
			t->pending[i].used = false;
			t->counters.drop_timeout++;
		}
	}
}

void fw_tunnel_tick(struct fw_tunnel *t, uint64_t now_ms)
{
	char topic[TOPIC_MAX], a[NETADDR_STR_MAX];
	size_t i;

	if (t->cfg.legacy)
		return;
	for (i = 0; i < FW_MAX_PEERS; i++) {
		struct peer *p = &t->peers[i];

		if (!p->used)
			continue;
		session_expire(&p->session, now_ms, &t->params);
		if (p->handshake.state != HANDSHAKE_INITIATION_SENT ||
		    now_ms - p->handshake_sent_ms < MQTTIP_REKEY_TIMEOUT_MS)
			continue;
		if (now_ms - p->handshake_first_ms >= MQTTIP_REKEY_ATTEMPT_TIME_MS) {
			say(t, "handshake with %s (%s): no answer, giving up", p->cert.name,
			    addr_text(&p->addr, a));
			handshake_wipe(&p->handshake);
			drop_pending_for(t, p);
		} else {
			initiate(t, p, now_ms);
		}
	}
	for (i = 0; i < FW_PENDING; i++) {
		if (t->pending[i].used &&
		    now_ms - t->pending[i].since_ms >= MQTTIP_REKEY_ATTEMPT_TIME_MS) {
			t->pending[i].used = false;
			t->counters.drop_timeout++;
		}
	}
	for (i = 0; i < FW_WANTED; i++) {
		struct fw_wanted *w = &t->wanted[i];

		if (!w->used || now_ms - w->since_ms < MQTTIP_REKEY_ATTEMPT_TIME_MS)
			continue;
		say(t, "no certificate of %s in the directory", addr_text(&w->addr, a));
		w->used = false;
		if (t->connected && topic_cert(topic, sizeof(topic), prefix_of(t), &w->addr))
			t->port->unsubscribe(t->port->ctx, topic);
	}
}

/* ---- introspection ---- */

size_t fw_tunnel_addresses(const struct fw_tunnel *t, struct cert_prefix *out, size_t cap)
{
	size_t n = 0;

	if (t->cfg.legacy) {
		if (cap > 0) {
			out[0].addr = t->cfg.legacy_addr;
			out[0].len = t->cfg.legacy_prefix_len;
			n = 1;
		}
		return n;
	}
	for (; n < t->self.n_addrs && n < cap; n++)
		out[n] = t->self.addrs[n];
	return n;
}

static void put(struct text *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->len + 1 >= x->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(x->buf + x->len, x->cap - x->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		x->len += (size_t)n < x->cap - x->len ? (size_t)n : x->cap - x->len - 1;
}

size_t fw_tunnel_status(const struct fw_tunnel *t, char *buf, size_t cap, uint64_t now_ms)
{
	struct text x = {buf, cap, 0};
	struct cert_prefix addrs[MQTTIP_CERT_MAX_ADDRS];
	size_t n = fw_tunnel_addresses(t, addrs, MQTTIP_CERT_MAX_ADDRS);
	const struct fw_counters *c = &t->counters;
	char a[NETADDR_STR_MAX];

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	put(&x, "node: %s\nmode: %s\naddresses:", t->cfg.legacy ? "(legacy)" : t->self.name,
	    t->cfg.legacy ? "legacy" : "secure");
	for (size_t i = 0; i < n; i++)
		put(&x, " %s/%u", addr_text(&addrs[i].addr, a), addrs[i].len);
	put(&x, "\nbroker: %s\nuptime: %llu s\n", t->connected ? "connected" : "disconnected",
	    (unsigned long long)((now_ms - t->started_ms) / 1000));
	for (size_t i = 0; i < FW_MAX_PEERS; i++) {
		const struct peer *p = &t->peers[i];
		const struct fw_peer_info *in = &t->info[i];

		if (!p->used)
			continue;
		put(&x, "peer: %s %s handshake ", p->cert.name, addr_text(&p->addr, a));
		if (in->last_handshake_ms)
			put(&x, "%llu s ago",
			    (unsigned long long)((now_ms - in->last_handshake_ms) / 1000));
		else
			put(&x, "none");
		put(&x, " rx %llu pkt %llu B tx %llu pkt %llu B\n",
		    (unsigned long long)in->rx_packets, (unsigned long long)in->rx_bytes,
		    (unsigned long long)in->tx_packets, (unsigned long long)in->tx_bytes);
	}
	put(&x,
	    "total: rx %llu pkt tx %llu pkt handshakes %llu\ndrops: malformed %llu auth %llu "
	    "replay %llu source %llu no-peer %llu rate %llu timeout %llu publish %llu "
	    "multicast %llu\n",
	    (unsigned long long)c->rx_packets, (unsigned long long)c->tx_packets,
	    (unsigned long long)c->handshakes, (unsigned long long)c->drop_malformed,
	    (unsigned long long)c->drop_auth, (unsigned long long)c->drop_replay,
	    (unsigned long long)c->drop_source, (unsigned long long)c->drop_no_peer,
	    (unsigned long long)c->drop_rate, (unsigned long long)c->drop_timeout,
	    (unsigned long long)c->publish_failed, (unsigned long long)c->drop_multicast);
	return x.len;
}

void fw_tunnel_wipe(struct fw_tunnel *t)
{
	for (size_t i = 0; i < FW_MAX_PEERS; i++) {
		if (t->peers[i].used)
			peer_table_remove(&t->table, &t->peers[i]);
	}
	handshake_wipe(&t->responder);
	legacy_nonce_cache_wipe(&t->legacy_nonces);
	sodium_memzero(t, sizeof(*t));
}
