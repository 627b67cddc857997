/* test_firmware_app.c - the firmware app (firmware/app/fw_tunnel.c) end to end without a network:
 * two or three devices joined by an in-memory broker that keeps retained messages and routes by
 * exact topic or "<...>/+" filters. Expected bytes are built here by hand or with plain libsodium
 * (legacy), not by the code under test. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "batch.h"
#include "check.h"
#include "bundle.h"
#include "fw_outbox.h"
#include "fw_tunnel.h"
#include "keypair.h"

#define MAX_MSGS    64
#define MAX_SUBS    16
#define MAX_DEVICES 3

struct msg {
	char topic[TOPIC_MAX];
	uint8_t payload[FW_RX_PAYLOAD_MAX]; /* the device's largest message either way */
	size_t len;
	bool retain;
	bool from_store; /* sent on subscription: the broker flags it retained */
};

struct device {
	struct fw_tunnel t;
	struct node_ops port;
	char subs[MAX_SUBS][TOPIC_MAX];
	int n_subs;
	uint8_t delivered[8][MQTTIP_MAX_IP_PACKET];
	size_t delivered_len[8];
	int n_delivered;
	bool clock_set;
};

static struct device devices[MAX_DEVICES];
static struct msg queue[MAX_MSGS], retained[MAX_MSGS], last_published;
static int n_queue, n_retained;
static uint64_t now = 1000;
static bool quiet = true;

static int fake_publish(void *ctx, const char *topic, const uint8_t *payload, size_t len, int qos,
			bool retain)
{
	struct msg *m = &queue[n_queue++];

	(void)ctx;
	(void)qos;
	if (n_queue > MAX_MSGS || len > sizeof(m->payload))
		abort();
	snprintf(m->topic, sizeof(m->topic), "%s", topic);
	memcpy(m->payload, payload, len);
	m->len = len;
	m->retain = retain;
	m->from_store = false;
	last_published = *m;
	if (retain)
		retained[n_retained++] = *m;
	return 0;
}

static bool matches(const char *filter, const char *topic)
{
	size_t n = strlen(filter);

	if (n >= 2 && strcmp(filter + n - 2, "/+") == 0)
		return strncmp(filter, topic, n - 1) == 0 && !strchr(topic + n - 1, '/');
	return strcmp(filter, topic) == 0;
}

static void deliver_to(struct device *d, const struct msg *m)
{
	static uint8_t buf[FW_RX_PAYLOAD_MAX];

	memcpy(buf, m->payload, m->len);
	fw_tunnel_input(&d->t, m->topic, strlen(m->topic), buf, m->len, m->from_store, now);
}

static int fake_subscribe(void *ctx, const char *filter, int qos)
{
	struct device *d = ctx;

	(void)qos;
	snprintf(d->subs[d->n_subs++], TOPIC_MAX, "%s", filter);
	/* Retained messages arrive on subscribe: queued, as a broker would send them later. */
	for (int i = 0; i < n_retained; i++) {
		if (matches(filter, retained[i].topic) && n_queue < MAX_MSGS) {
			queue[n_queue] = retained[i];
			queue[n_queue++].from_store = true;
		}
	}
	return 0;
}

static int fake_unsubscribe(void *ctx, const char *filter)
{
	struct device *d = ctx;

	for (int i = 0; i < d->n_subs; i++) {
		if (strcmp(d->subs[i], filter) == 0)
			d->subs[i][0] = '\0';
	}
	return 0;
}

static int fake_deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	struct device *d = ctx;

	if (d->n_delivered < 8) {
		memcpy(d->delivered[d->n_delivered], pkt, len);
		d->delivered_len[d->n_delivered++] = len;
	}
	return 0;
}

/* Queued messages on topic whose first byte is type (-1: any). */
static int queued_with(const char *topic, int type)
{
	int n = 0;

	for (int i = 0; i < n_queue; i++)
		n +=
		    strcmp(queue[i].topic, topic) == 0 && (type < 0 || queue[i].payload[0] == type);
	return n;
}

static bool has_sub(const struct device *d, const char *filter)
{
	for (int i = 0; i < d->n_subs; i++) {
		if (strcmp(d->subs[i], filter) == 0)
			return true;
	}
	return false;
}

static uint64_t drops(const struct device *d, enum drop_reason why)
{
	return node_drops_total(&d->t.node, why);
}

static uint64_t handshakes(const struct device *d)
{
	return fw_tunnel_counters(&d->t).handshakes;
}

static bool fake_clock(void *ctx, uint64_t *sec, uint32_t *ns)
{
	struct device *d = ctx;

	*sec = 1790000000 + now / 1000;
	*ns = (uint32_t)(now % 1000) * 1000000;
	return d->clock_set;
}

static void fake_log(void *ctx, enum node_log_level level, const char *line)
{
	(void)ctx;
	(void)level;
	if (!quiet)
		fprintf(stderr, "log: %s\n", line);
}

/* Delivers queued messages to every matching subscription until the queue is empty. */
static void pump(void)
{
	static struct msg m;

	while (n_queue > 0) {
		m = queue[0];
		memmove(queue, queue + 1, (size_t)(n_queue - 1) * sizeof(queue[0]));
		n_queue--;
		for (int i = 0; i < MAX_DEVICES; i++) {
			for (int s = 0; s < devices[i].n_subs; s++) {
				if (devices[i].subs[s][0] && matches(devices[i].subs[s], m.topic)) {
					deliver_to(&devices[i], &m);
					break;
				}
			}
		}
	}
}

static uint8_t ca_pk[32], ca_sk[64];

/* A bundle for addr/24, routing route/route_len too when route is not NULL (a gateway). */
static void make_bundle(struct bundle *b, const char *name, const char *addr, const char *route,
			uint8_t route_len)
{
	struct cert c;
	int n;

	memset(b, 0, sizeof(*b));
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.n_addrs = 1;
	CHECK(netaddr_parse(addr, strlen(addr), &c.addrs[0].addr) == 0);
	c.addrs[0].len = 24;
	if (route) {
		c.n_routes = 1;
		CHECK(netaddr_parse(route, strlen(route), &c.routes[0].addr) == 0);
		c.routes[0].len = route_len;
	}
	randombytes_buf(b->node_key, sizeof(b->node_key));
	crypto_scalarmult_base(c.x25519_public, b->node_key);
	c.not_before = 1780000000;
	c.not_after = 1800000000;
	c.serial = 7;
	n = cert_encode_sign(&c, ca_sk, b->node_cert, sizeof(b->node_cert));
	CHECK(n > 0);
	b->node_cert_len = (size_t)n;
	memcpy(b->network_ca, ca_pk, 32);
}

static void start_gateway(int i, const char *name, const char *addr, const char *route,
			  uint8_t route_len, const struct fw_config *cfg)
{
	struct device *d = &devices[i];
	struct bundle b;

	memset(d, 0, sizeof(*d));
	d->port = (struct node_ops){
	    d,	      fake_publish, fake_subscribe, fake_unsubscribe, fake_deliver, fake_clock,
	    fake_log, NULL};
	d->clock_set = true;
	make_bundle(&b, name, addr, route, route_len);
	CHECK_EQ_INT(fw_tunnel_init(&d->t, cfg, &b, &d->port, now), 0);
	fw_tunnel_connected(&d->t, now);
	bundle_wipe(&b);
}

static void start(int i, const char *name, const char *addr, const struct fw_config *cfg)
{
	start_gateway(i, name, addr, NULL, 0, cfg);
}

/* A minimal IPv4/ICMP packet, header checksum left zero (not checked by the tunnel). */
static size_t ip_packet(uint8_t *p, const char *src, const char *dst, uint8_t fill, size_t len)
{
	struct netaddr s, d;

	netaddr_parse(src, strlen(src), &s);
	netaddr_parse(dst, strlen(dst), &d);
	memset(p, fill, len);
	p[0] = 0x45;
	p[1] = 0;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = 1;
	memcpy(p + 12, s.bytes, 4);
	memcpy(p + 16, d.bytes, 4);
	return len;
}

static void test_secure(void)
{
	struct fw_config cfg = {0};
	uint8_t pkt[200], pkt2[100];
	struct msg data;
	struct device *a = &devices[0], *b = &devices[1];

	start(0, "dev-a", "10.0.1.2", &cfg);
	start(1, "dev-b", "10.0.1.3", &cfg);
	CHECK_EQ_INT(n_retained, 2);
	CHECK(strcmp(retained[0].topic, "mqttip/cert/10-0-1-2") == 0);
	CHECK(strcmp(a->subs[0], "mqttip/10-0-1-2/+") == 0);
	CHECK(strcmp(a->subs[1], "mqttip/kx/10-0-1-2/+") == 0);
	pump();

	/* a -> b: the packet waits for the directory entry and the handshake. */
	ip_packet(pkt, "10.0.1.2", "10.0.1.3", 0xab, sizeof(pkt));
	fw_tunnel_output(&a->t, pkt, sizeof(pkt), now);
	/* the lookup: b's retained entry (on the subscription) and a request to b itself */
	CHECK_EQ_INT(queued_with("mqttip/cert/10-0-1-3", -1), 1);
	CHECK_EQ_INT(queued_with("mqttip/kx/10-0-1-3/10-0-1-2", MQTTIP_MSG_CERT_REQUEST), 1);
	CHECK(has_sub(a, "mqttip/cert/10-0-1-3"));
	pump();
	CHECK_EQ_INT(b->n_delivered, 1);
	CHECK(b->delivered_len[0] == sizeof(pkt) && memcmp(b->delivered[0], pkt, sizeof(pkt)) == 0);
	CHECK(!has_sub(a, "mqttip/cert/10-0-1-3")); /* unsubscribed once the certificate came */
	CHECK_EQ_INT(handshakes(a), 1);
	CHECK_EQ_INT(handshakes(b), 1);

	/* The transport message on the wire: topic <p>/<dst>/<src>, header type 4, reserved 0,
	 * 16 + 2 + packet + 16 bytes, QoS 0, never retained. */
	fw_tunnel_output(&a->t, pkt, sizeof(pkt), now);
	CHECK_EQ_INT(n_queue, 1);
	data = queue[0];
	CHECK(strcmp(data.topic, "mqttip/10-0-1-3/10-0-1-2") == 0);
	CHECK_EQ_INT(data.len, 16 + 2 + sizeof(pkt) + 16);
	CHECK(data.payload[0] == 4 && data.payload[1] == 0 && data.payload[2] == 0 &&
	      data.payload[3] == 0 && !data.retain);
	CHECK_EQ_INT(data.payload[8], 1); /* counter 1 (little-endian): the second message */
	pump();
	CHECK_EQ_INT(b->n_delivered, 2);

	/* Replay of the same message, then a forged one. */
	deliver_to(b, &data);
	CHECK_EQ_INT(b->n_delivered, 2);
	CHECK_EQ_INT(drops(b, DROP_REPLAY), 1);
	data.payload[data.len - 1] ^= 1;
	data.payload[8] = 9;
	deliver_to(b, &data);
	CHECK_EQ_INT(b->n_delivered, 2);
	CHECK_EQ_INT(drops(b, DROP_AUTH), 1);

	/* b answers on the session a started (b's keypair was confirmed by a's data). */
	ip_packet(pkt2, "10.0.1.3", "10.0.1.2", 0x11, sizeof(pkt2));
	fw_tunnel_output(&b->t, pkt2, sizeof(pkt2), now);
	CHECK(n_queue == 1 && strcmp(queue[0].topic, "mqttip/10-0-1-2/10-0-1-3") == 0);
	pump();
	CHECK_EQ_INT(a->n_delivered, 1);
	CHECK(a->delivered_len[0] == sizeof(pkt2) &&
	      memcmp(a->delivered[0], pkt2, sizeof(pkt2)) == 0);
	/* Each announced the largest message it takes (its receive buffer), so neither batches
	 * beyond it (PROTOCOL.md 6.15). */
	CHECK_EQ_INT(a->t.node.peers.peers[0].caps.max_message, FW_RX_MSG_MAX);
	CHECK_EQ_INT(b->t.node.peers.peers[0].caps.max_message, FW_RX_MSG_MAX);

	/* A batch of two packets, sealed here with a's keypair, with one whose inner source is not
	 * in a's certificate and one not for b. */
	{
		struct keypair *kp = &a->t.node.peers.peers[0].session.current;
		uint8_t buf[600], p1[60], p2[80], spoof[60], other[60];
		size_t used = 0, msg_len;
		struct msg m = {.topic = "mqttip/10-0-1-3/10-0-1-2"};

		ip_packet(p1, "10.0.1.2", "10.0.1.3", 0x55, sizeof(p1));
		ip_packet(p2, "10.0.1.2", "10.0.1.3", 0x44, sizeof(p2));
		ip_packet(spoof, "10.0.1.9", "10.0.1.3", 0x22, sizeof(spoof));
		ip_packet(other, "10.0.1.2", "10.0.1.4", 0x33, sizeof(other));
		used = batch_append(buf + 16, sizeof(buf) - 32, used, p1, sizeof(p1));
		used = batch_append(buf + 16, sizeof(buf) - 32, used, p2, sizeof(p2));
		used = batch_append(buf + 16, sizeof(buf) - 32, used, spoof, sizeof(spoof));
		used = batch_append(buf + 16, sizeof(buf) - 32, used, other, sizeof(other));
		CHECK_EQ_INT(used, 2 * 4 + 60 + 80 + 60 + 60);
		CHECK_EQ_INT(
		    keypair_seal(kp, now, &a->t.node.set.params, buf, sizeof(buf), used, &msg_len),
		    KEYPAIR_OK);
		memcpy(m.payload, buf, msg_len);
		m.len = msg_len;
		deliver_to(b, &m);
		CHECK_EQ_INT(b->n_delivered, 4);
		CHECK(b->delivered_len[2] == sizeof(p1) && memcmp(b->delivered[2], p1, 60) == 0);
		CHECK(b->delivered_len[3] == sizeof(p2) && memcmp(b->delivered[3], p2, 80) == 0);
		CHECK_EQ_INT(drops(b, DROP_SOURCE), 1);
		CHECK_EQ_INT(drops(b, DROP_DESTINATION), 1);
	}

	/* A message on b's inbox that claims another sender's topic is refused. */
	fw_tunnel_output(&a->t, pkt, sizeof(pkt), now);
	data = queue[0];
	n_queue = 0;
	strcpy(data.topic, "mqttip/10-0-1-3/10-0-1-7");
	deliver_to(b, &data);
	CHECK_EQ_INT(b->n_delivered, 4);
	CHECK_EQ_INT(drops(b, DROP_TOPIC), 1);
}

/* Gateway gw routes 10.0.0.0/16; device b owns 10.0.9.5 inside that route. Device c, which knows
 * both, accepts from gw a packet from elsewhere in the route but not one from b's address: the
 * most specific owner is the only sender allowed (PROTOCOL.md 8.5). */
static void test_gateway_most_specific(void)
{
	struct fw_config cfg = {0};
	struct device *gw = &devices[0], *b = &devices[1], *c = &devices[2];
	uint8_t pkt[100], buf[400], routed[60], spoof[60];
	struct msg m = {.topic = "mqttip/10-0-1-4/10-0-1-2"};
	size_t used = 0, msg_len;

	n_queue = n_retained = 0;
	start_gateway(0, "gw", "10.0.1.2", "10.0.0.0", 16, &cfg);
	start(1, "dev-b", "10.0.9.5", &cfg);
	start(2, "dev-c", "10.0.1.4", &cfg);
	pump();
	ip_packet(pkt, "10.0.1.4", "10.0.9.5", 0x01, sizeof(pkt));
	fw_tunnel_output(&c->t, pkt, sizeof(pkt), now);
	pump();
	CHECK_EQ_INT(b->n_delivered, 1);
	ip_packet(pkt, "10.0.1.4", "10.0.1.2", 0x02, sizeof(pkt));
	fw_tunnel_output(&c->t, pkt, sizeof(pkt), now);
	pump();
	CHECK_EQ_INT(gw->n_delivered, 1);

	/* gw seals, with its keypair for c, one packet from inside its route and one claiming b */
	ip_packet(routed, "10.0.200.1", "10.0.1.4", 0x33, sizeof(routed));
	ip_packet(spoof, "10.0.9.5", "10.0.1.4", 0x44, sizeof(spoof));
	used = batch_append(buf + 16, sizeof(buf) - 32, used, routed, sizeof(routed));
	used = batch_append(buf + 16, sizeof(buf) - 32, used, spoof, sizeof(spoof));
	CHECK_EQ_INT(keypair_seal(&gw->t.node.peers.peers[0].session.current, now,
				  &gw->t.node.set.params, buf, sizeof(buf), used, &msg_len),
		     KEYPAIR_OK);
	memcpy(m.payload, buf, msg_len);
	m.len = msg_len;
	deliver_to(c, &m);
	CHECK_EQ_INT(c->n_delivered, 1);
	CHECK(c->delivered_len[0] == sizeof(routed) &&
	      memcmp(c->delivered[0], routed, sizeof(routed)) == 0);
	CHECK_EQ_INT(drops(c, DROP_SOURCE), 1);
	for (int i = 0; i < MAX_DEVICES; i++)
		fw_tunnel_wipe(&devices[i].t);
}

static void test_timers_and_clock(void)
{
	struct fw_config cfg = {0};
	struct device *a = &devices[0], *c = &devices[2];
	uint8_t pkt[60];
	uint64_t t0;

	n_queue = n_retained = 0;
	start(0, "dev-a", "10.0.1.2", &cfg);
	start(2, "dev-c", "10.0.1.4", &cfg);
	memset(&devices[1], 0, sizeof(devices[1]));
	pump();
	/* c is gone (its subscriptions dropped): a's initiation goes unanswered. */
	c->n_subs = 0;
	ip_packet(pkt, "10.0.1.2", "10.0.1.4", 1, sizeof(pkt));
	fw_tunnel_output(&a->t, pkt, sizeof(pkt), now);
	pump();
	CHECK(strcmp(last_published.topic, "mqttip/kx/10-0-1-4/10-0-1-2") == 0);
	CHECK_EQ_INT(last_published.payload[0], 1);
	t0 = now;
	now += MQTTIP_REKEY_TIMEOUT_MS - 1;
	fw_tunnel_tick(&a->t, now);
	CHECK_EQ_INT(n_queue, 0);
	now += 1;
	fw_tunnel_tick(&a->t, now);
	/* the retry, and (no answer twice: a new key?) c's directory entry looked up again */
	CHECK_EQ_INT(queued_with("mqttip/kx/10-0-1-4/10-0-1-2", MQTTIP_MSG_INITIATION), 1);
	CHECK_EQ_INT(queued_with("mqttip/cert/10-0-1-4", -1), 1);
	CHECK_EQ_INT(queued_with("mqttip/kx/10-0-1-4/10-0-1-2", MQTTIP_MSG_CERT_REQUEST), 1);
	n_queue = 0;
	now = t0 + MQTTIP_REKEY_ATTEMPT_TIME_MS;
	fw_tunnel_tick(&a->t, now);
	/* given up: no initiation, and the packet dropped */
	CHECK_EQ_INT(queued_with("mqttip/kx/10-0-1-4/10-0-1-2", MQTTIP_MSG_INITIATION), 0);
	n_queue = 0;
	CHECK_EQ_INT(drops(a, DROP_HANDSHAKE_TIMEOUT), 1);
	CHECK(peer_handshake(&a->t.node.peers, &a->t.node.peers.peers[0]) == NULL);

	/* Without a wall clock no handshake starts (timestamps and certificates need one). */
	a->clock_set = false;
	fw_tunnel_output(&a->t, pkt, sizeof(pkt), now);
	CHECK_EQ_INT(n_queue, 0);
	a->clock_set = true;
	now += 1;
	fw_tunnel_output(&a->t, pkt, sizeof(pkt), now);
	CHECK(n_queue == 1 && queue[0].payload[0] == 1);
	n_queue = 0;
}

/* Rekey after REKEY_AFTER_TIME (the old keys carry the packet meanwhile), and after
 * REJECT_AFTER_TIME without traffic the keys are gone: the next packet waits for a handshake. */
static void test_rekey(void)
{
	struct fw_config cfg = {0};
	struct device *a = &devices[0], *b = &devices[1];
	uint8_t pkt[80];

	n_queue = n_retained = 0;
	start(0, "dev-a", "10.0.1.2", &cfg);
	start(1, "dev-b", "10.0.1.3", &cfg);
	memset(&devices[2], 0, sizeof(devices[2]));
	pump();
	ip_packet(pkt, "10.0.1.2", "10.0.1.3", 7, sizeof(pkt));
	fw_tunnel_output(&a->t, pkt, sizeof(pkt), now);
	pump();
	CHECK_EQ_INT(b->n_delivered, 1);

	now += MQTTIP_REKEY_AFTER_TIME_MS;
	fw_tunnel_output(&a->t, pkt, sizeof(pkt), now);
	CHECK_EQ_INT(n_queue, 2);
	CHECK(strcmp(queue[0].topic, "mqttip/kx/10-0-1-3/10-0-1-2") == 0 &&
	      queue[0].payload[0] == 1);
	CHECK(strcmp(queue[1].topic, "mqttip/10-0-1-3/10-0-1-2") == 0);
	pump();
	CHECK_EQ_INT(handshakes(a), 2);
	CHECK_EQ_INT(b->n_delivered, 2);

	now += MQTTIP_REJECT_AFTER_TIME_MS;
	fw_tunnel_tick(&a->t, now);
	fw_tunnel_tick(&b->t, now);
	CHECK(!a->t.node.peers.peers[0].session.current.valid &&
	      !a->t.node.peers.peers[0].session.other.valid);
	fw_tunnel_output(&a->t, pkt, sizeof(pkt), now);
	CHECK(n_queue == 1 && queue[0].payload[0] == 1); /* only the initiation: the packet waits */
	pump();
	CHECK_EQ_INT(b->n_delivered, 3);
	CHECK_EQ_INT(handshakes(a), 3);
	CHECK_EQ_INT(drops(b, DROP_AUTH) + drops(b, DROP_REPLAY), 0);
}

static void test_legacy(void)
{
	static const char pw[] = "legacy-test-password";
	struct fw_config cfg = {.legacy = true, .legacy_prefix_len = 24};
	struct device *a = &devices[0], *b = &devices[1];
	uint8_t pkt[120], key[64], opened[32 + 120];
	struct msg m;

	n_queue = n_retained = 0;
	snprintf(cfg.legacy_password, sizeof(cfg.legacy_password), "%s", pw);
	netaddr_parse("10.0.1.2", 8, &cfg.legacy_addr);
	start(0, "x", "10.0.1.2", &cfg);
	netaddr_parse("10.0.1.3", 8, &cfg.legacy_addr);
	start(1, "y", "10.0.1.3", &cfg);
	CHECK(strcmp(b->subs[0], "mqttip/10.0.1.3") == 0 && b->n_subs == 1);
	CHECK_EQ_INT(n_retained, 0);

	ip_packet(pkt, "10.0.1.2", "10.0.1.3", 0x5a, sizeof(pkt));
	fw_tunnel_output(&a->t, pkt, sizeof(pkt), now);
	CHECK(n_queue == 1 && strcmp(queue[0].topic, "mqttip/10.0.1.3") == 0);
	m = queue[0];
	/* MQTT_VPN's format, opened with NaCl's classic API: nonce | secretbox(32 zeros || pkt). */
	CHECK_EQ_INT(m.len, 24 + 16 + 16 + sizeof(pkt));
	crypto_hash_sha512(key, (const uint8_t *)pw, strlen(pw));
	CHECK_EQ_INT(crypto_secretbox_open(opened, m.payload + 24, m.len - 24, m.payload, key), 0);
	CHECK_MEM(opened + 32, pkt, sizeof(pkt));
	pump();
	CHECK_EQ_INT(b->n_delivered, 1);
	CHECK_MEM(b->delivered[0], pkt, sizeof(pkt));
	deliver_to(b, &m);
	CHECK_EQ_INT(b->n_delivered, 1);
	CHECK_EQ_INT(drops(b, DROP_LEGACY_REPLAY), 1);
	/* Another password: refused. */
	snprintf(cfg.legacy_password, sizeof(cfg.legacy_password), "other");
	netaddr_parse("10.0.1.2", 8, &cfg.legacy_addr);
	start(0, "x", "10.0.1.2", &cfg);
	fw_tunnel_output(&a->t, pkt, sizeof(pkt), now);
	pump();
	CHECK_EQ_INT(b->n_delivered, 1);
	CHECK_EQ_INT(drops(b, DROP_LEGACY_AUTH), 1);
}

static void test_bundle(void)
{
	static const char text[] =
	    "# comment\n"
	    "-----BEGIN MQTTIP BROKER CA-----\nAQID\n-----END MQTTIP BROKER CA-----\n"
	    "-----BEGIN MQTTIP CLIENT CERTIFICATE-----\nBAU=\n-----END MQTTIP CLIENT "
	    "CERTIFICATE-----\n"
	    "-----BEGIN MQTTIP CLIENT KEY-----\nBg==\n-----END MQTTIP CLIENT KEY-----\n"
	    "-----BEGIN MQTTIP NETWORK CA-----\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	    "-----END MQTTIP NETWORK CA-----\n"
	    "-----BEGIN MQTTIP NODE CERTIFICATE-----\nBwgJ\n-----END MQTTIP NODE CERTIFICATE-----\n"
	    "-----BEGIN MQTTIP NODE KEY-----\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n"
	    "-----END MQTTIP NODE KEY-----\n";
	static struct bundle b;
	const char *what = "x";
	char broken[sizeof(text)];

	CHECK_EQ_INT(bundle_parse(text, strlen(text), &b, &what), 0);
	CHECK(what == NULL);
	CHECK(b.broker_ca_len == 3 && b.broker_ca[0] == 1 && b.broker_ca[2] == 3);
	CHECK(b.client_cert_len == 2 && b.client_cert[1] == 5);
	CHECK(b.client_key_len == 1 && b.client_key[0] == 6);
	CHECK(b.node_cert_len == 3 && b.node_cert[2] == 9);
	CHECK(b.node_key[0] == 1 && b.node_key[31] == 1 && b.network_ca[31] == 0);
	/* A short key, a missing END line and bad base64 are refused, naming the block. */
	memcpy(broken, text, sizeof(text));
	*strstr(broken, "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=") = '!';
	CHECK_EQ_INT(bundle_parse(broken, strlen(broken), &b, &what), -1);
	CHECK(what && strcmp(what, "MQTTIP NODE KEY") == 0);
	memcpy(broken, text, sizeof(text));
	strstr(broken, "-----END MQTTIP CLIENT KEY")[3] = 'X';
	CHECK_EQ_INT(bundle_parse(broken, strlen(broken), &b, &what), -1);
	CHECK(what && strcmp(what, "MQTTIP CLIENT KEY") == 0);
	CHECK_EQ_INT(bundle_parse(text, 100, &b, &what), -1);
}

/* The record a peek returned: intact and inside the ring (it is sent from there). */
static bool in_ring(const struct fw_outbox *o, const struct fw_outbox_item *it)
{
	const uint8_t *lo = o->ring, *hi = o->ring + sizeof(o->ring);

	return (const uint8_t *)it->topic >= lo && it->payload >= lo && it->payload + it->len <= hi;
}

static void test_outbox(void)
{
	static struct fw_outbox o;
	/* a transport message of one packet of the netif's MTU */
	static uint8_t big[FW_OUTBOX_PAYLOAD_MAX],
	    pkt[FW_MTU + MQTTIP_BATCH_RECORD_HEADER + MQTTIP_TRANSPORT_OVERHEAD];
	const char *data_topic = "mqttip/10-0-1-3/10-0-1-2";
	struct fw_outbox_item item;
	int pushed = 0, popped = 0;

	fw_outbox_init(&o);
	CHECK(!fw_outbox_peek(&o, &item));
	CHECK_EQ_INT(
	    fw_outbox_push(&o, FW_OUTBOX_SUBSCRIBE, "mqttip/10-0-1-2/+", NULL, 0, 1, false), 0);
	CHECK_EQ_INT(
	    fw_outbox_push(&o, FW_OUTBOX_PUBLISH, "t/x", (const uint8_t *)"abc", 3, 0, true), 0);
	CHECK(fw_outbox_peek(&o, &item) && item.kind == FW_OUTBOX_SUBSCRIBE && item.qos == 1 &&
	      item.len == 0 && strcmp(item.topic, "mqttip/10-0-1-2/+") == 0);
	/* a peek leaves the record queued */
	CHECK(fw_outbox_peek(&o, &item) && item.kind == FW_OUTBOX_SUBSCRIBE);
	fw_outbox_release(&o);
	CHECK(fw_outbox_peek(&o, &item) && item.kind == FW_OUTBOX_PUBLISH && item.retain &&
	      item.len == 3 && memcmp(item.payload, "abc", 3) == 0 &&
	      strcmp(item.topic, "t/x") == 0);
	fw_outbox_release(&o);
	CHECK(!fw_outbox_peek(&o, &item));

	/* What the ring is sized for, from empty: two full-packet transport messages, or the
	 * largest message (a revocation list) beside a few small records. */
	memset(pkt, 0x11, sizeof(pkt));
	memset(big, 0x22, sizeof(big));
	CHECK_EQ_INT(fw_outbox_push(&o, FW_OUTBOX_PUBLISH, data_topic, pkt, sizeof(pkt), 0, false),
		     0);
	CHECK_EQ_INT(fw_outbox_push(&o, FW_OUTBOX_PUBLISH, data_topic, pkt, sizeof(pkt), 0, false),
		     0);
	while (fw_outbox_peek(&o, &item))
		fw_outbox_release(&o);
	CHECK_EQ_INT(
	    fw_outbox_push(&o, FW_OUTBOX_PUBLISH, "mqttip/revocation", big, sizeof(big), 1, true),
	    0);
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(fw_outbox_push(&o, FW_OUTBOX_SUBSCRIBE, "mqttip/cert/10-0-1-9", NULL,
					    0, 1, false),
			     0);
	CHECK(fw_outbox_peek(&o, &item) && item.len == sizeof(big) && in_ring(&o, &item) &&
	      memcmp(item.payload, big, sizeof(big)) == 0);
	while (fw_outbox_peek(&o, &item))
		fw_outbox_release(&o);

	/* Records of every size start over at the beginning when they do not fit before the end,
	 * come out whole, in order, in place; a record being sent (peeked, not released) is never
	 * overwritten by pushes meanwhile ("extra" records); a push that does not fit is refused
	 * and counted. */
	o.dropped = 0;
	for (int round = 0; round < 200; round++) {
		size_t len = (size_t)(round * 397) % sizeof(big);
		int fails = 0;

		while (fails < 2) {
			memset(big, pushed & 0xff, len);
			if (fw_outbox_push(&o, FW_OUTBOX_PUBLISH, data_topic, big, len, 0, false)) {
				fails++;
				len /= 3; /* a smaller one may still fit */
				continue;
			}
			pushed++;
		}
		for (int k = 0; k < 2 && fw_outbox_peek(&o, &item); k++) {
			bool extra = strcmp(item.topic, "extra") == 0;
			uint8_t first = item.len ? item.payload[0] : 0;

			CHECK(in_ring(&o, &item));
			if (!extra) {
				CHECK(strcmp(item.topic, data_topic) == 0);
				CHECK(item.len == 0 || (first == (popped & 0xff) &&
							item.payload[item.len - 1] == first));
			}
			memset(pkt, 0x5a, 40);
			fw_outbox_push(&o, FW_OUTBOX_PUBLISH, "extra", pkt, 40, 0, false);
			CHECK(item.len == 0 ||
			      (item.payload[0] == first && item.payload[item.len - 1] == first));
			fw_outbox_release(&o);
			popped += !extra;
		}
	}
	while (fw_outbox_peek(&o, &item)) {
		if (strcmp(item.topic, "extra") != 0) {
			CHECK(item.len == 0 || item.payload[0] == (popped & 0xff));
			popped++;
		}
		fw_outbox_release(&o);
	}
	CHECK_EQ_INT(pushed, popped);
	CHECK(o.dropped >= 400);
	CHECK_EQ_INT(o.used, 0);
	CHECK_EQ_INT(fw_outbox_push(&o, FW_OUTBOX_PUBLISH, "t", big, sizeof(big) + 1, 0, false),
		     -1);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	quiet = getenv("VERBOSE") == NULL;
	crypto_sign_keypair(ca_pk, ca_sk);
	test_bundle();
	test_outbox();
	test_secure();
	test_gateway_most_specific();
	test_timers_and_clock();
	test_rekey();
	test_legacy();
	for (int i = 0; i < MAX_DEVICES; i++)
		fw_tunnel_wipe(&devices[i].t);
	return check_done();
}
