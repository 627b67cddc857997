/* node_lab.c - see node_lab.h. */
#include "node_lab.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

struct lab_node lab[LAB_NODES];
uint64_t lab_now;
bool lab_retained_exact_only;
bool lab_withhold_revocation;
size_t lab_publish_max;
const char *lab_legacy_password;
size_t lab_pool;

struct lab_msg {
	bool used;
	uint64_t due_ms;
	uint32_t seq; /* publication order: MQTT keeps it per publisher */
	int to;	      /* -1: at the broker, for every subscriber; else on its way to node `to` */
	bool retain;  /* publish: store it; delivery: flagged retained (sent on subscribe) */
	char topic[TOPIC_MAX];
	size_t len;
	uint8_t payload[MQTTIP_MAX_TRANSPORT_MSG];
};

static struct lab_msg msgs[LAB_MSGS];
static struct lab_msg retained[LAB_MSGS];
static uint8_t rx[MQTTIP_MAX_TRANSPORT_MSG];
static uint8_t ca_pk[32], ca_sk[64];
static uint64_t next_tick;
static uint32_t next_seq;

static bool matches(const char *filter, const char *topic)
{
	while (*filter && *topic) {
		if (*filter == '+') {
			while (*topic && *topic != '/')
				topic++;
			filter++;
			continue;
		}
		if (*filter != *topic)
			return false;
		filter++;
		topic++;
	}
	return *filter == '\0' && *topic == '\0';
}

static struct lab_msg *slot(void)
{
	for (int i = 0; i < LAB_MSGS; i++) {
		if (!msgs[i].used) {
			msgs[i].seq = next_seq++;
			return &msgs[i];
		}
	}
	fprintf(stderr, "node_lab: message queue full\n");
	return NULL;
}

static void store_retained(const struct lab_msg *m)
{
	for (int i = 0; i < LAB_MSGS; i++) {
		if (retained[i].used && strcmp(retained[i].topic, m->topic) == 0) {
			retained[i] = *m;
			return;
		}
	}
	for (int i = 0; i < LAB_MSGS; i++) {
		if (!retained[i].used) {
			retained[i] = *m;
			return;
		}
	}
}

static void queue_msg(const char *topic, const uint8_t *payload, size_t len, bool retain,
		      uint64_t delay)
{
	struct lab_msg *m = slot();

	if (!m)
		return;
	m->used = true;
	m->to = -1;
	m->due_ms = lab_now + delay;
	m->retain = retain;
	snprintf(m->topic, sizeof(m->topic), "%s", topic);
	memcpy(m->payload, payload, len);
	m->len = len;
}

static unsigned published_kind[LAB_NODES][TOPIC_REVOCATION + 1];

static int lab_publish(void *ctx, const char *topic, const uint8_t *payload, size_t len, int qos,
		       bool retain)
{
	struct lab_node *ln = ctx;
	struct topic t;

	(void)qos;
	if (ln->cut || !ln->connected)
		return -1;
	if (lab_publish_max && len > lab_publish_max)
		return NODE_PUBLISH_OVERSIZE;
	ln->published++;
	published_kind[ln - lab][topic_parse(MQTTIP_TOPIC_PREFIX, topic, strlen(topic), &t)]++;
	if (lab_withhold_revocation && t.kind == TOPIC_REVOCATION)
		return 0;
	queue_msg(topic, payload, len, retain, ln->delay_ms);
	return 0;
}

static int lab_subscribe(void *ctx, const char *filter, int qos)
{
	struct lab_node *ln = ctx;

	(void)qos;
	for (int s = 0; s < LAB_SUBS; s++) {
		if (ln->subs[s][0] == '\0' || strcmp(ln->subs[s], filter) == 0) {
			snprintf(ln->subs[s], TOPIC_MAX, "%s", filter);
			break;
		}
	}
	/* retained messages come right after the subscription, flagged retained */
	for (int i = 0; i < LAB_MSGS; i++) {
		struct lab_msg *m;

		if (!retained[i].used || !matches(filter, retained[i].topic) ||
		    (lab_retained_exact_only && strcmp(filter, retained[i].topic) != 0) ||
		    !(m = slot()))
			continue;
		uint32_t seq = m->seq;

		*m = retained[i];
		m->seq = seq;
		m->to = (int)(ln - lab);
		m->retain = true;
		m->due_ms = lab_now + ln->delay_ms;
	}
	return 0;
}

static int lab_unsubscribe(void *ctx, const char *filter)
{
	struct lab_node *ln = ctx;

	for (int s = 0; s < LAB_SUBS; s++) {
		if (strcmp(ln->subs[s], filter) == 0)
			ln->subs[s][0] = '\0';
	}
	return 0;
}

/* One plain packet reaches the node's stack: its marker (UDP) or payload (TCP) recorded. */
static void stack_input(struct lab_node *ln, const uint8_t *pkt, size_t len)
{
	ln->delivered_packets++;
	if (len >= 40 && pkt[0] == 0x45 && pkt[9] == 6) {
		size_t hdr = 20 + (size_t)(pkt[32] >> 4) * 4;

		if (!gso_tcp_checksum_ok(pkt, len) || hdr > len ||
		    ln->stream_len + len - hdr > LAB_STREAM) {
			ln->bad_deliveries++;
			return;
		}
		memcpy(ln->stream + ln->stream_len, pkt + hdr, len - hdr);
		ln->stream_len += len - hdr;
		return;
	}
	if (len >= 32 && ln->n_delivered < LAB_DELIVERED)
		ln->delivered[ln->n_delivered++] = (uint32_t)pkt[28] << 24 |
						   (uint32_t)pkt[29] << 16 |
						   (uint32_t)pkt[30] << 8 | pkt[31];
}

static int lab_deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	struct lab_node *ln = ctx;

	ln->deliveries++;
	stack_input(ln, pkt, len);
	return 0;
}

/* node_offload.deliver: what a kernel does with a write carrying a virtio-net header. */
static int lab_deliver_gso(void *ctx, const struct gso_info *g, const struct gso_chunk *c, size_t n)
{
	static uint8_t whole[MQTTIP_MAX_BODY * 4], seg[MQTTIP_MAX_IP_PACKET];
	struct lab_node *ln = ctx;
	struct gso_info check = *g;
	size_t len = 0;

	ln->deliveries++;
	for (size_t i = 0; i < n; i++) {
		if (len + c[i].len > sizeof(whole)) {
			ln->bad_deliveries++;
			return 0;
		}
		memcpy(whole + len, c[i].p, c[i].len);
		len += c[i].len;
	}
	if (g->type == MQTTIP_GSO_NONE && !(g->flags & MQTTIP_GSO_FLAG_CSUM)) {
		stack_input(ln, whole, len);
		return 0;
	}
	/* the metadata must describe the packet as gso_check finds it (the kernel trusts it) */
	if (gso_check(whole, len, &check) || check.l4_off != g->l4_off ||
	    check.csum_off != g->csum_off || check.hdr_len != g->hdr_len ||
	    check.segments != g->segments) {
		ln->bad_deliveries++;
		return 0;
	}
	if (g->type == MQTTIP_GSO_NONE) {
		gso_complete(whole, len, g);
		stack_input(ln, whole, len);
		return 0;
	}
	ln->delivered_super++;
	for (unsigned i = 0; i < g->segments; i++)
		stack_input(ln, seg, gso_build(whole, g, i, 1, true, seg));
	return 0;
}

static bool lab_wall(void *ctx, uint64_t *sec, uint32_t *ns)
{
	struct lab_node *ln = ctx;
	int64_t ms = (int64_t)(LAB_WALL_BASE * 1000 + lab_now) + ln->wall_offset_ms;

	*sec = (uint64_t)ms / 1000;
	*ns = (uint32_t)((uint64_t)ms % 1000) * 1000000u;
	return true;
}

static int lab_persist(void *ctx, const uint8_t *list, size_t len)
{
	struct lab_node *ln = ctx;

	memcpy(ln->saved, list, len);
	ln->saved_len = len;
	return 0;
}

unsigned lab_published_kind(int i, enum topic_kind kind)
{
	return published_kind[i][kind];
}

static void lab_log(void *ctx, enum node_log_level level, const char *line)
{
	struct lab_node *ln = ctx;

	if (ln->log || level >= NODE_LOG_WARN)
		fprintf(stderr, "  [%6llu.%03llu node%d] %s\n",
			(unsigned long long)(lab_now / 1000), (unsigned long long)(lab_now % 1000),
			(int)(ln - lab), line);
}

void lab_init(void)
{
	for (int i = 0; i < LAB_NODES; i++)
		if (lab[i].used)
			node_wipe(&lab[i].n);
	memset(lab, 0, sizeof(lab));
	memset(msgs, 0, sizeof(msgs));
	memset(retained, 0, sizeof(retained));
	memset(published_kind, 0, sizeof(published_kind));
	lab_retained_exact_only = false;
	lab_withhold_revocation = false;
	lab_publish_max = 0;
	lab_legacy_password = NULL;
	lab_pool = 0;
	crypto_sign_keypair(ca_pk, ca_sk);
	lab_now = 1000;
	next_tick = lab_now;
}

size_t lab_cert(uint8_t out[MQTTIP_CERT_MAX_LEN], const char *name, const char *addr4,
		uint64_t serial, const uint8_t *key, uint8_t key_out[MQTTIP_KEY_LEN])
{
	uint8_t k[MQTTIP_KEY_LEN];
	struct cert c;
	int n;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.n_addrs = 1;
	netaddr_parse(addr4, strlen(addr4), &c.addrs[0].addr);
	c.addrs[0].len = 24;
	if (key)
		memcpy(k, key, sizeof(k));
	else
		randombytes_buf(k, sizeof(k));
	crypto_scalarmult_base(c.x25519_public, k);
	c.not_before = LAB_WALL_BASE - 3600;
	c.not_after = LAB_WALL_BASE + 30 * 86400;
	/* the serial also moves the validity window, so two certificates with one serial differ */
	c.not_before += serial % 7;
	c.serial = serial;
	n = cert_encode_sign(&c, ca_sk, out, MQTTIP_CERT_MAX_LEN);
	if (key_out)
		memcpy(key_out, k, sizeof(k));
	sodium_memzero(k, sizeof(k));
	return n > 0 ? (size_t)n : 0;
}

size_t lab_revocation(uint8_t out[MQTTIP_REVOCATION_MAX_LEN], uint64_t version,
		      const uint64_t *serials, size_t n_serials,
		      const uint8_t (*keys)[MQTTIP_KEY_LEN], size_t n_keys)
{
	int n = revocation_encode_sign(version, LAB_WALL_BASE, serials, n_serials, keys, n_keys,
				       ca_sk, out, MQTTIP_REVOCATION_MAX_LEN);

	return n > 0 ? (size_t)n : 0;
}

struct node_settings lab_device_settings(void)
{
	struct node_settings s = node_settings_default();

	s.directory = NODE_DIRECTORY_ON_DEMAND;
	s.evict_lru = true;
	s.queue_per_peer = 4;
	s.broadcast_peers = 0;
	s.accept_multicast = false;
	return s;
}

int lab_start(int i, const uint8_t *cert, size_t cert_len, const uint8_t key[MQTTIP_KEY_LEN],
	      const struct node_settings *set)
{
	struct lab_node *ln = &lab[i];
	struct node_credentials cred = {0};
	struct node_storage st = {0};
	struct node_ops ops = {ln,	    lab_publish, lab_subscribe, lab_unsubscribe,
			       lab_deliver, lab_wall,	 lab_log,	lab_persist};
	int64_t offset = ln->wall_offset_ms;
	uint64_t delay = ln->delay_ms;
	bool log = ln->log, offload = ln->offload;
	uint8_t saved[MQTTIP_REVOCATION_MAX_LEN];
	size_t saved_len = ln->saved_len;
	int rc;

	memcpy(saved, ln->saved, saved_len); /* the host's state survives the restart */

	if (ln->used)
		lab_stop(i);
	memset(ln, 0, sizeof(*ln));
	ln->wall_offset_ms = offset;
	ln->delay_ms = delay;
	ln->log = log;
	ln->offload = offload;
	memcpy(ln->saved, saved, saved_len);
	ln->saved_len = saved_len;
	ln->set = set ? *set : node_settings_default();
	ln->set.debug = log;
	memcpy(ln->cert, cert, cert_len);
	ln->cert_len = cert_len;
	memcpy(ln->key, key, MQTTIP_KEY_LEN);
	cred.cert = ln->cert;
	cred.cert_len = ln->cert_len;
	cred.static_private = ln->key;
	cred.network_id = ca_pk;
	st.peers = ln->peers;
	st.n_peers = LAB_PEERS;
	st.handshakes = ln->handshakes;
	st.n_handshakes = lab_pool ? lab_pool : LAB_HANDSHAKES;
	st.packets = ln->packets;
	st.n_packets = LAB_PACKETS;
	st.batch_mem = ln->batch_mem;
	st.batch_size = MQTTIP_MAX_TRANSPORT_MSG;
	st.n_batches = LAB_BATCH_SLOTS;
	st.wanted = ln->wanted;
	st.n_wanted = 4;
	st.routes = ln->routes;
	st.n_routes = 32;
	st.revocation = &ln->revocation;
	if (lab_legacy_password) {
		cred.legacy_password = lab_legacy_password;
		cred.legacy_password_len = strlen(lab_legacy_password);
		st.legacy = &ln->legacy;
	}
	st.ratelimit_senders = ln->senders;
	st.n_ratelimit_senders = RATELIMIT_SENDERS;
	if (ln->offload) {
		ln->offload_mem.deliver = lab_deliver_gso;
		st.offload = &ln->offload_mem;
	}
	rc = node_init(&ln->n, &ln->set, &cred, &st, &ops, lab_now);
	if (rc)
		return rc;
	if (ln->saved_len)
		node_revocation_offer(&ln->n, ln->saved, ln->saved_len, lab_now);
	ln->used = true;
	ln->connected = true;
	node_connected(&ln->n, lab_now);
	return 0;
}

void lab_stop(int i)
{
	struct lab_node *ln = &lab[i];

	if (!ln->used)
		return;
	node_wipe(&ln->n);
	memset(ln->subs, 0, sizeof(ln->subs));
	ln->used = false;
	ln->connected = false;
}

size_t lab_packet(uint8_t *buf, const char *src, const char *dst, uint32_t marker, size_t len)
{
	struct netaddr s, d;

	netaddr_parse(src, strlen(src), &s);
	netaddr_parse(dst, strlen(dst), &d);
	memset(buf, 0, len);
	buf[0] = 0x45;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	buf[8] = 64;
	buf[9] = 17;
	memcpy(buf + 12, s.bytes, 4);
	memcpy(buf + 16, d.bytes, 4);
	buf[28] = (uint8_t)(marker >> 24);
	buf[29] = (uint8_t)(marker >> 16);
	buf[30] = (uint8_t)(marker >> 8);
	buf[31] = (uint8_t)marker;
	return len;
}

uint8_t lab_payload_at(uint32_t seq)
{
	return (uint8_t)(seq * 7 + seq / 251);
}

size_t lab_tcp(uint8_t *buf, const char *src, const char *dst, uint32_t seq, size_t payload,
	       bool partial)
{
	struct gso_info g = {0};
	struct netaddr s, d;
	size_t len = 40 + payload;

	netaddr_parse(src, strlen(src), &s);
	netaddr_parse(dst, strlen(dst), &d);
	memset(buf, 0, 40);
	buf[0] = 0x45;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	buf[6] = 0x40; /* DF */
	buf[8] = 64;
	buf[9] = 6;
	memcpy(buf + 12, s.bytes, 4);
	memcpy(buf + 16, d.bytes, 4);
	buf[10] = (uint8_t)(~gso_fold(gso_sum(0, buf, 20)) >> 8);
	buf[11] = (uint8_t)~gso_fold(gso_sum(0, buf, 20));
	buf[20] = 40000 >> 8;
	buf[21] = 40000 & 0xff;
	buf[22] = 5201 >> 8;
	buf[23] = 5201 & 0xff;
	for (int k = 0; k < 4; k++)
		buf[24 + k] = (uint8_t)(seq >> (24 - 8 * k));
	buf[32] = 0x50;
	buf[33] = 0x10; /* ACK */
	buf[34] = 0xff;
	for (size_t k = 0; k < payload; k++)
		buf[40 + k] = lab_payload_at(seq + (uint32_t)k);
	g.version = 4;
	g.protocol = 6;
	g.l4_off = 20;
	g.csum_off = 16;
	{
		uint16_t pseudo = gso_fold(gso_pseudo_sum(buf, 4, 6, len - 20));

		buf[36] = (uint8_t)(pseudo >> 8);
		buf[37] = (uint8_t)pseudo;
	}
	if (!partial)
		gso_complete(buf, len, &g);
	return len;
}

void lab_send(int i, const char *src, const char *dst, uint32_t marker)
{
	uint8_t pkt[100];

	lab_packet(pkt, src, dst, marker, sizeof(pkt));
	node_send(&lab[i].n, pkt, sizeof(pkt), lab_now);
	node_flush(&lab[i].n, lab_now);
}

void lab_send_burst(int i, const char *src, const char *dst, uint32_t first, unsigned n, size_t len)
{
	static uint8_t pkt[MQTTIP_MAX_IP_PACKET];

	for (unsigned k = 0; k < n; k++) {
		lab_packet(pkt, src, dst, first + k, len);
		node_send(&lab[i].n, pkt, len, lab_now);
	}
	node_flush(&lab[i].n, lab_now);
}

void lab_inject(const char *topic, const uint8_t *payload, size_t len, bool retain)
{
	queue_msg(topic, payload, len, retain, 0);
}

static bool subscribed(const struct lab_node *ln, const char *topic)
{
	for (int s = 0; s < LAB_SUBS; s++) {
		if (ln->subs[s][0] && matches(ln->subs[s], topic))
			return true;
	}
	return false;
}

/* A message reached the broker (to < 0: stored if retained, then sent down to each subscriber
 * with that subscriber's delay) or a node (to >= 0: handed to its engine). */
static void arrive(struct lab_msg *m)
{
	if (m->to < 0) {
		if (m->retain)
			store_retained(m);
		for (int i = 0; i < LAB_NODES; i++) {
			struct lab_msg *c;

			if (!lab[i].used || !lab[i].connected || lab[i].cut ||
			    !subscribed(&lab[i], m->topic) || !(c = slot()))
				continue;
			uint32_t seq = c->seq;

			*c = *m;
			c->seq = seq;
			c->to = i;
			c->retain = false;
			c->due_ms = lab_now + lab[i].delay_ms;
		}
		return;
	}
	if (!lab[m->to].used || !lab[m->to].connected || lab[m->to].cut ||
	    !subscribed(&lab[m->to], m->topic))
		return;
	memcpy(rx, m->payload, m->len);
	{
		struct topic t;

		if (topic_parse(MQTTIP_TOPIC_PREFIX, m->topic, strlen(m->topic), &t) ==
			TOPIC_DATA &&
		    m->len > lab[m->to].largest_data_in)
			lab[m->to].largest_data_in = m->len;
	}
	node_input(&lab[m->to].n, m->topic, strlen(m->topic), rx, m->len, m->retain, lab_now);
}

void lab_run(uint64_t ms)
{
	uint64_t end = lab_now + ms;

	while (lab_now <= end) {
		for (;;) {
			struct lab_msg *first = NULL;

			for (int k = 0; k < LAB_MSGS; k++) {
				struct lab_msg *m = &msgs[k];

				if (m->used && m->due_ms <= lab_now &&
				    (!first || m->due_ms < first->due_ms ||
				     (m->due_ms == first->due_ms && m->seq < first->seq)))
					first = m;
			}
			if (!first)
				break;
			arrive(first);
			first->used = false;
		}
		if (lab_now >= next_tick) {
			for (int i = 0; i < LAB_NODES; i++) {
				if (lab[i].used)
					node_tick(&lab[i].n, lab_now);
			}
			next_tick = lab_now + NODE_TICK_MS;
		}
		if (lab_now == end)
			break;
		lab_now += 10;
		if (lab_now > end)
			lab_now = end;
	}
}

bool lab_has_delivered(int i, uint32_t marker)
{
	for (unsigned k = 0; k < lab[i].n_delivered; k++) {
		if (lab[i].delivered[k] == marker)
			return true;
	}
	return false;
}

struct peer *lab_peer(int i, const char *name)
{
	for (size_t k = 0; k < LAB_PEERS; k++) {
		if (lab[i].peers[k].used && strcmp(lab[i].peers[k].cert.name, name) == 0)
			return &lab[i].peers[k];
	}
	return NULL;
}

uint64_t lab_drops(int i, enum drop_reason why)
{
	return node_drops_total(&lab[i].n, why);
}

uint64_t lab_handshakes(int i)
{
	uint64_t sum = 0;

	for (size_t k = 0; k < LAB_PEERS; k++) {
		if (lab[i].peers[k].used)
			sum += lab[i].peers[k].stats.handshakes;
	}
	return sum;
}
