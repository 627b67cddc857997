/* fuzz_firmware.c - the firmware app's entry points for untrusted bytes: an MQTT message (topic
 * and payload) into a secure-mode device that has a session with a peer, the same into a
 * legacy-mode device, a body sealed with the peer's real keys (so batch records, IP headers and
 * the source and destination checks behind the AEAD are reached), a packet from the IP stack,
 * and the bundle parser. The first input byte picks the case. Set-up: two devices with
 * certificates of one CA complete a handshake through an in-memory queue. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "batch.h"
#include "bundle.h"
#include "fw_tunnel.h"
#include "keypair.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_MS	 1000
#define NOW_UNIX 1790000000
#define QUEUE	 8

struct msg {
	char topic[TOPIC_MAX];
	uint8_t payload[FW_TX_MSG_MAX];
	size_t len;
};

static struct fw_tunnel dev_a, dev_b, dev_legacy;
static uint8_t cert_b[MQTTIP_CERT_MAX_LEN];
static size_t cert_b_len;
static struct msg queue[QUEUE];
static int n_queue;
static bool ready;

static int fake_publish(void *ctx, const char *topic, const uint8_t *payload, size_t len, int qos,
			bool retain)
{
	(void)ctx;
	(void)qos;
	(void)retain;
	if (n_queue == QUEUE || len > sizeof(queue[0].payload))
		return -1;
	snprintf(queue[n_queue].topic, TOPIC_MAX, "%s", topic);
	memcpy(queue[n_queue].payload, payload, len);
	queue[n_queue++].len = len;
	return 0;
}

static int fake_subscribe(void *ctx, const char *filter, int qos)
{
	(void)qos;
	/* The directory: a's lookup of b gets b's certificate, as a retained message would. */
	if (ctx == &dev_a && strcmp(filter, "mqttip/cert/10-0-1-3") == 0)
		fake_publish(NULL, filter, cert_b, cert_b_len, 1, true);
	return 0;
}

static int fake_unsubscribe(void *ctx, const char *filter)
{
	(void)ctx;
	(void)filter;
	return 0;
}

static int fake_deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	(void)pkt;
	(void)len;
	return 0;
}

static bool fake_clock(void *ctx, uint64_t *sec, uint32_t *ns)
{
	(void)ctx;
	*sec = NOW_UNIX;
	*ns = 0;
	return true;
}

static struct node_ops port_a = {&dev_a,       fake_publish, fake_subscribe, fake_unsubscribe,
				 fake_deliver, fake_clock,   NULL,	     NULL};
static struct node_ops port_b = {&dev_b,       fake_publish, fake_subscribe, fake_unsubscribe,
				 fake_deliver, fake_clock,   NULL,	     NULL};

static void identity(struct bundle *b, const uint8_t ca_sk[64], const uint8_t ca_pk[32],
		     const char *name, const char *addr, uint8_t key_byte)
{
	struct cert c;
	int n;

	memset(b, 0, sizeof(*b));
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.n_addrs = 1;
	netaddr_parse(addr, strlen(addr), &c.addrs[0].addr);
	c.addrs[0].len = 24;
	memset(b->node_key, key_byte, sizeof(b->node_key));
	crypto_scalarmult_base(c.x25519_public, b->node_key);
	c.not_before = NOW_UNIX - 1000;
	c.not_after = NOW_UNIX + 1000;
	n = cert_encode_sign(&c, ca_sk, b->node_cert, sizeof(b->node_cert));
	if (n <= 0)
		abort();
	b->node_cert_len = (size_t)n;
	memcpy(b->network_ca, ca_pk, 32);
}

static void pump(void)
{
	static struct msg m;
	struct topic t;

	while (n_queue > 0) {
		m = queue[0];
		memmove(queue, queue + 1, (size_t)(n_queue - 1) * sizeof(queue[0]));
		n_queue--;
		switch (topic_parse("mqttip", m.topic, strlen(m.topic), &t)) {
		case TOPIC_DATA:
		case TOPIC_KX:
			fw_tunnel_input(t.dst.bytes[3] == 2 ? &dev_a : &dev_b, m.topic,
					strlen(m.topic), m.payload, m.len, false, NOW_MS);
			break;
		case TOPIC_CERT:
			fw_tunnel_input(&dev_a, m.topic, strlen(m.topic), m.payload, m.len, false,
					NOW_MS);
			break;
		default:
			break;
		}
	}
}

static void setup(void)
{
	static const uint8_t seed[32] = {42};
	static const uint8_t pkt[28] = {0x45, 0, 0,  28, 0, 0, 0,  0, 64, 17,
					0,    0, 10, 0,	 1, 2, 10, 0, 1,  3};
	uint8_t ca_pk[32], ca_sk[64];
	struct fw_config cfg = {0}, legacy = {.legacy = true, .legacy_prefix_len = 24};
	struct bundle a, b;

	if (sodium_init() < 0)
		abort();
	crypto_sign_seed_keypair(ca_pk, ca_sk, seed);
	identity(&a, ca_sk, ca_pk, "a", "10.0.1.2", 1);
	identity(&b, ca_sk, ca_pk, "b", "10.0.1.3", 2);
	memcpy(cert_b, b.node_cert, b.node_cert_len);
	cert_b_len = b.node_cert_len;
	if (fw_tunnel_init(&dev_a, &cfg, &a, &port_a, NOW_MS) != 0 ||
	    fw_tunnel_init(&dev_b, &cfg, &b, &port_b, NOW_MS) != 0)
		abort();
	fw_tunnel_connected(&dev_a, NOW_MS);
	fw_tunnel_connected(&dev_b, NOW_MS);
	n_queue = 0;
	/* a -> b: directory lookup, handshake, the packet; b's keypair is confirmed by it. */
	fw_tunnel_output(&dev_a, pkt, sizeof(pkt), NOW_MS);
	pump();
	if (fw_tunnel_counters(&dev_b).rx_packets != 1)
		abort();
	snprintf(legacy.legacy_password, sizeof(legacy.legacy_password), "secret");
	netaddr_parse("10.0.1.2", 8, &legacy.legacy_addr);
	if (fw_tunnel_init(&dev_legacy, &legacy, &a, &port_a, NOW_MS) != 0)
		abort();
	bundle_wipe(&a);
	bundle_wipe(&b);
	ready = true;
}

/* Seals body with b's keypair (b -> a) and hands the message to a. */
static void sealed_to_a(const uint8_t *body, size_t len)
{
	static uint8_t buf[MQTTIP_MAX_TRANSPORT_MSG];
	struct keypair *kp = &dev_b.node.peers.peers[0].session.current;
	size_t msg_len;

	if (len > MQTTIP_MAX_BODY)
		len = MQTTIP_MAX_BODY;
	memcpy(buf + MQTTIP_TRANSPORT_HEADER_LEN, body, len);
	if (keypair_seal(kp, NOW_MS, &dev_b.node.set.params, buf, sizeof(buf), len, &msg_len) !=
	    KEYPAIR_OK)
		abort();
	fw_tunnel_input(&dev_a, "mqttip/10-0-1-2/10-0-1-3", 24, buf, msg_len, false, NOW_MS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const topics[] = {
	    "mqttip/10-0-1-2/10-0-1-3",
	    "mqttip/kx/10-0-1-2/10-0-1-3",
	    "mqttip/cert/10-0-1-3",
	};
	static uint8_t payload[MQTTIP_MAX_TRANSPORT_MSG]; /* what a host may hand the engine */
	struct bundle bundle;
	const char *what;
	size_t len;

	if (!ready)
		setup();
	if (size < 1)
		return 0;
	len = size - 1 < sizeof(payload) ? size - 1 : sizeof(payload);
	memcpy(payload, data + 1, len);
	switch (data[0] % 8) {
	case 0:
	case 1:
	case 2:
		fw_tunnel_input(&dev_a, topics[data[0] % 8], strlen(topics[data[0] % 8]), payload,
				len, data[0] & 0x80, NOW_MS);
		break;
	case 3:
		fw_tunnel_input(&dev_legacy, "mqttip/10.0.1.2", 15, payload, len, false, NOW_MS);
		break;
	case 4:
		sealed_to_a(payload, len);
		break;
	case 5:
		/* A topic from the input: its first byte is the topic's length. */
		if (len > 0 && payload[0] < len)
			fw_tunnel_input(&dev_a, (const char *)payload + 1, payload[0],
					payload + 1 + payload[0], len - 1 - payload[0], false,
					NOW_MS);
		break;
	case 6:
		fw_tunnel_output(&dev_a, payload, len, NOW_MS);
		fw_tunnel_output(&dev_legacy, payload, len, NOW_MS);
		break;
	default:
		if (bundle_parse((const char *)payload, len, &bundle, &what) == 0)
			bundle_wipe(&bundle);
		break;
	}
	/* Whatever a's answers were (handshake responses), b does not need them here. */
	n_queue = 0;
	return 0;
}
