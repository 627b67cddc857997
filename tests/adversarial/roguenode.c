/* roguenode - a legitimate node that misbehaves, built on the portable core, for the adversarial
 * tests. It connects to the broker's plugin listener with a real node's files (so the plugin lets
 * it publish only as itself), completes a real handshake with a victim, and then sends sealed
 * transport messages the agent must refuse after decryption. Run `roguenode --help`.
 * It also makes certificates signed by a network CA key (`forge`), to test the validity checks
 * with entries that carry a genuine signature. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <sodium.h>

#include "batch.h"
#include "cert.h"
#include "handshake.h"
#include "keypair.h"
#include "netaddr.h"
#include "proto.h"
#include "topic.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage:\n"
	    "  roguenode run NODEDIR VICTIM SCENARIO [-H HOST] [-p PORT] [-t PREFIX]\n"
	    "      NODEDIR = a `mqttip pki` node directory (ca.crt client.crt client.key "
	    "node.cert\n"
	    "      node.key network-ca.pub). Fetches VICTIM's certificate from the directory,\n"
	    "      completes a handshake with it, then runs SCENARIO:\n"
	    "        spoof ADDR   one echo request from our own address (must be answered), then\n"
	    "                     5 from ADDR (must be dropped: no answer)\n"
	    "        reorder      counters 0..2199 (keepalives) except 10 and 2190; then 2190\n"
	    "                     (within the window: answered) and 10 (beyond: dropped)\n"
	    "      Prints one line per outcome; exit 0 when every outcome is as the protocol\n"
	    "      demands, 1 otherwise.\n"
	    "  roguenode forge CAKEYFILE NAME ADDR NOT_BEFORE NOT_AFTER OUT\n"
	    "      a node certificate for NAME owning ADDR (/32 or /128), a fresh X25519 key,\n"
	    "      validity in unix seconds, signed by the CA key block in CAKEYFILE\n"
	    "  roguenode block FILE LABEL OUT\n"
	    "      decode one block (-----BEGIN LABEL-----) of FILE to raw bytes in OUT\n");
}

/* Reads the block LABEL of path into out (cap); returns its length or -1. */
static long read_block(const char *path, const char *label, uint8_t *out, size_t cap)
{
	char begin[128], end[128], *text, *b, *e;
	FILE *f = fopen(path, "r");
	size_t n, got = 0;
	long rc = -1;

	if (!f) {
		fprintf(stderr, "roguenode: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	text = calloc(1, 65536);
	n = text ? fread(text, 1, 65535, f) : 0;
	fclose(f);
	if (!text)
		return -1;
	text[n] = 0;
	snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
	snprintf(end, sizeof(end), "-----END %s-----", label);
	b = strstr(text, begin);
	e = b ? strstr(b, end) : NULL;
	if (b && e) {
		b += strlen(begin);
		if (sodium_base642bin(out, cap, b, (size_t)(e - b), "\r\n", &got, NULL,
				      sodium_base64_VARIANT_ORIGINAL) == 0)
			rc = (long)got;
	}
	if (rc < 0)
		fprintf(stderr, "roguenode: no %s block in %s\n", label, path);
	free(text);
	return rc;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An IPv4 ICMP echo request src -> dst with identifier id and sequence seq; 64 bytes. */
static size_t make_echo(uint8_t *pkt, const struct netaddr *src, const struct netaddr *dst,
			uint16_t id, uint16_t seq)
{
	uint8_t s16[16], d16[16];
	uint16_t c;

	memset(pkt, 0, 64);
	netaddr_to16(src, s16);
	netaddr_to16(dst, d16);
	pkt[0] = 0x45;
	pkt[3] = 64;
	pkt[8] = 64; /* TTL */
	pkt[9] = 1;  /* ICMP */
	memcpy(pkt + 12, s16 + 12, 4);
	memcpy(pkt + 16, d16 + 12, 4);
	c = ip_checksum(pkt, 20);
	pkt[10] = (uint8_t)(c >> 8);
	pkt[11] = (uint8_t)c;
	pkt[20] = 8; /* echo request */
	pkt[24] = (uint8_t)(id >> 8);
	pkt[25] = (uint8_t)id;
	pkt[26] = (uint8_t)(seq >> 8);
	pkt[27] = (uint8_t)seq;
	memcpy(pkt + 28, "roguenode adversarial test payload......", 36);
	c = ip_checksum(pkt + 20, 44);
	pkt[22] = (uint8_t)(c >> 8);
	pkt[23] = (uint8_t)c;
	return 64;
}

struct rogue {
	struct mosquitto *mosq;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char prefix[TOPIC_PREFIX_MAX + 1];
	struct netaddr self, victim;
	uint8_t network_id[32];
	uint8_t victim_cert[MQTTIP_CERT_MAX_LEN];
	size_t victim_cert_len;
	uint8_t response[MQTTIP_RESPONSE_MAX_LEN];
	size_t response_len;
	struct keypair kp;
	bool have_kp;
	struct keypair_params params;
	uint16_t echo_id;
	/* echo replies seen, by sequence number */
	bool replied[65536];
};

static void on_message(struct mosquitto *mosq, void *arg, const struct mosquitto_message *m)
{
	struct rogue *r = arg;
	struct topic t;
	uint8_t buf[MQTTIP_MAX_TRANSPORT_MSG];
	enum topic_kind kind;

	(void)mosq;
	if (m->payloadlen <= 0 || (size_t)m->payloadlen > sizeof(buf))
		return;
	kind = topic_parse(r->prefix, m->topic, strlen(m->topic), &t);
	pthread_mutex_lock(&r->lock);
	if (kind == TOPIC_CERT && netaddr_equal(&t.dst, &r->victim) &&
	    (size_t)m->payloadlen <= sizeof(r->victim_cert)) {
		memcpy(r->victim_cert, m->payload, (size_t)m->payloadlen);
		r->victim_cert_len = (size_t)m->payloadlen;
	} else if (kind == TOPIC_KX && m->payloadlen >= MQTTIP_RESPONSE_MIN_LEN &&
		   m->payloadlen <= MQTTIP_RESPONSE_MAX_LEN &&
		   ((const uint8_t *)m->payload)[0] == MQTTIP_MSG_RESPONSE) {
		memcpy(r->response, m->payload, (size_t)m->payloadlen);
		r->response_len = (size_t)m->payloadlen;
	} else if (kind == TOPIC_DATA && r->have_kp) {
		uint8_t *body;
		size_t body_len, len;
		const uint8_t *pkt;
		struct batch_reader br;

		memcpy(buf, m->payload, (size_t)m->payloadlen);
		if (keypair_open(&r->kp, mono_ms(), &r->params, buf, (size_t)m->payloadlen, &body,
				 &body_len) == KEYPAIR_OK) {
			batch_reader_init(&br, body, body_len);
			while (batch_next(&br, &pkt, &len) == 1) {
				if (len >= 28 && pkt[9] == 1 && pkt[20] == 0 &&
				    (pkt[24] << 8 | pkt[25]) == r->echo_id)
					r->replied[pkt[26] << 8 | pkt[27]] = true;
			}
		}
	}
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* Waits until *cond_flag (read under the lock) or timeout; returns its final value. */
static bool wait_for(struct rogue *r, const bool *flag, const size_t *len, int ms)
{
	struct timespec until;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->lock);
	while (!(flag ? *flag : *len != 0))
		if (pthread_cond_timedwait(&r->cond, &r->lock, &until))
			break;
	ok = flag ? *flag : *len != 0;
	pthread_mutex_unlock(&r->lock);
	return ok;
}

/* Seals body_len bytes of body (or a keepalive) with counter and publishes it. */
static int send_transport(struct rogue *r, const char *topic, uint64_t counter, const uint8_t *pkt,
			  size_t pkt_len)
{
	uint8_t buf[MQTTIP_TRANSPORT_OVERHEAD + 128];
	size_t body_len = 0, msg_len = 0;
	int rc;

	if (pkt_len) {
		body_len = batch_append(buf + MQTTIP_TRANSPORT_HEADER_LEN,
					sizeof(buf) - MQTTIP_TRANSPORT_OVERHEAD, 0, pkt, pkt_len);
		if (!body_len)
			return -1;
	}
	pthread_mutex_lock(&r->lock);
	r->kp.send_counter = counter;
	rc = keypair_seal(&r->kp, mono_ms(), &r->params, buf, sizeof(buf), body_len, &msg_len);
	pthread_mutex_unlock(&r->lock);
	if (rc != KEYPAIR_OK)
		return -1;
	return mosquitto_publish(r->mosq, NULL, topic, (int)msg_len, buf, 0, false) ==
		       MOSQ_ERR_SUCCESS
		   ? 0
		   : -1;
}

static int scenario_spoof(struct rogue *r, const char *topic, const char *spoof_text)
{
	struct netaddr spoofed;
	uint8_t pkt[64];
	int fails = 0;

	if (netaddr_parse(spoof_text, strlen(spoof_text), &spoofed)) {
		fprintf(stderr, "roguenode: bad address %s\n", spoof_text);
		return 1;
	}
	make_echo(pkt, &r->self, &r->victim, r->echo_id, 1);
	send_transport(r, topic, 0, pkt, 64);
	if (wait_for(r, &r->replied[1], NULL, 3000)) {
		printf("ok: echo request from our own address answered\n");
	} else {
		printf("FAIL: echo request from our own address not answered\n");
		fails++;
	}
	for (uint16_t seq = 100; seq < 105; seq++) {
		make_echo(pkt, &spoofed, &r->victim, r->echo_id, seq);
		send_transport(r, topic, 1 + seq, pkt, 64);
	}
	/* An answer would go to the spoofed address, not to us; what proves the drop is the
	 * victim's counter (checked by the script). A second legitimate echo shows the session
	 * survived the forged packets. */
	make_echo(pkt, &r->self, &r->victim, r->echo_id, 2);
	send_transport(r, topic, 200, pkt, 64);
	if (wait_for(r, &r->replied[2], NULL, 3000)) {
		printf("ok: session still works after 5 spoofed packets\n");
	} else {
		printf("FAIL: no answer after the spoofed packets\n");
		fails++;
	}
	return fails ? 1 : 0;
}

static int scenario_reorder(struct rogue *r, const char *topic)
{
	uint8_t pkt[64];
	int fails = 0;

	for (uint64_t c = 0; c < 2200; c++) {
		if (c == 10 || c == 2190)
			continue;
		if (send_transport(r, topic, c, NULL, 0)) {
			printf("FAIL: cannot publish counter %" PRIu64 "\n", c);
			return 1;
		}
		if (c % 200 == 199)
			usleep(20000); /* let the broker keep up (QoS 0 would drop) */
	}
	usleep(300000);
	make_echo(pkt, &r->self, &r->victim, r->echo_id, 2190);
	send_transport(r, topic, 2190, pkt, 64);
	if (wait_for(r, &r->replied[2190], NULL, 3000)) {
		printf("ok: counter 2190 sent late, within the window: accepted\n");
	} else {
		printf("FAIL: counter 2190 (within the window) not answered\n");
		fails++;
	}
	make_echo(pkt, &r->self, &r->victim, r->echo_id, 10);
	send_transport(r, topic, 10, pkt, 64);
	if (wait_for(r, &r->replied[10], NULL, 2000)) {
		printf("FAIL: counter 10 (2189 behind, beyond the window of %d) was accepted\n",
		       REPLAY_WINDOW);
		fails++;
	} else {
		printf("ok: counter 10 sent 2189 late, beyond the window: refused\n");
	}
	return fails ? 1 : 0;
}

static int cmd_run(int argc, char **argv)
{
	static struct rogue r;
	const char *host = "192.0.2.1", *prefix = "mqttip";
	char path[4096], topic[TOPIC_MAX], inbox[TOPIC_MAX];
	uint8_t node_key[32], node_cert[MQTTIP_CERT_MAX_LEN], init[MQTTIP_INITIATION_MAX_LEN];
	uint8_t ext[MQTTIP_HANDSHAKE_EXT_MAX];
	size_t ext_len;
	struct handshake_local local;
	struct handshake hs;
	struct cert mine, theirs;
	struct timespec wall;
	uint8_t ts[MQTTIP_TIMESTAMP_LEN];
	size_t init_len;
	long cert_len;
	int port = 8883, opt, rc;
	uint32_t index;

	optind = 1;
	while ((opt = getopt(argc, argv, "H:p:t:")) != -1) {
		if (opt == 'H')
			host = optarg;
		else if (opt == 'p')
			port = atoi(optarg);
		else if (opt == 't')
			prefix = optarg;
		else
			return 2;
	}
	if (argc - optind < 3)
		return 2;
	const char *dir = argv[optind], *victim = argv[optind + 1], *scenario = argv[optind + 2];

	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	snprintf(r.prefix, sizeof(r.prefix), "%s", prefix);
	r.params = keypair_params_default();
	r.echo_id = (uint16_t)(getpid() & 0xffff);
	if (netaddr_parse(victim, strlen(victim), &r.victim))
		return 2;
	snprintf(path, sizeof(path), "%s/node.key", dir);
	if (read_block(path, "MQTTIP NODE KEY", node_key, sizeof(node_key)) != 32)
		return 1;
	snprintf(path, sizeof(path), "%s/node.cert", dir);
	cert_len = read_block(path, "MQTTIP NODE CERTIFICATE", node_cert, sizeof(node_cert));
	snprintf(path, sizeof(path), "%s/network-ca.pub", dir);
	if (cert_len <= 0 ||
	    read_block(path, "MQTTIP NETWORK CA", r.network_id, sizeof(r.network_id)) != 32)
		return 1;
	if (cert_decode(node_cert, (size_t)cert_len, &mine) != CERT_OK)
		return 1;
	r.self = mine.addrs[0].addr;
	memset(&local, 0, sizeof(local));
	local.static_private = node_key;
	crypto_scalarmult_base(local.static_public, node_key);
	local.network_id = r.network_id;
	local.cert = node_cert;
	local.cert_len = (size_t)cert_len;

	mosquitto_lib_init();
	r.mosq = mosquitto_new(mine.name, true, &r);
	char ca[4096], crt[4096], key[4096];
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	snprintf(crt, sizeof(crt), "%s/client.crt", dir);
	snprintf(key, sizeof(key), "%s/client.key", dir);
	if (!r.mosq || mosquitto_tls_set(r.mosq, ca, NULL, crt, key, NULL) != MOSQ_ERR_SUCCESS)
		return 1;
	mosquitto_max_inflight_messages_set(r.mosq, 0);
	mosquitto_message_callback_set(r.mosq, on_message);
	rc = mosquitto_connect(r.mosq, host, port, 30);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "roguenode: connect: %s\n", mosquitto_strerror(rc));
		return 1;
	}
	mosquitto_loop_start(r.mosq);
	topic_cert(topic, sizeof(topic), prefix, &r.victim);
	mosquitto_subscribe(r.mosq, NULL, topic, 1);
	topic_kx_inbox(inbox, sizeof(inbox), prefix, &r.self);
	mosquitto_subscribe(r.mosq, NULL, inbox, 1);
	topic_data_inbox(inbox, sizeof(inbox), prefix, &r.self);
	mosquitto_subscribe(r.mosq, NULL, inbox, 0);
	if (!wait_for(&r, NULL, &r.victim_cert_len, 5000) ||
	    cert_verify(r.victim_cert, r.victim_cert_len, r.network_id, (uint64_t)time(NULL),
			&theirs) != CERT_OK) {
		printf("FAIL: no valid directory entry for %s\n", victim);
		return 1;
	}
	usleep(200000); /* subscriptions in place before the response can come */

	clock_gettime(CLOCK_REALTIME, &wall);
	handshake_tai64n((uint64_t)wall.tv_sec, (uint32_t)wall.tv_nsec, ts);
	randombytes_buf(&index, sizeof(index));
	memset(&hs, 0, sizeof(hs));
	rc = handshake_initiation_create(&hs, &local, &r.self, &r.victim, theirs.x25519_public,
					 NULL, index, ts, init, sizeof(init), &init_len);
	if (rc != HANDSHAKE_OK)
		return 1;
	topic_kx(topic, sizeof(topic), prefix, &r.victim, &r.self);
	mosquitto_publish(r.mosq, NULL, topic, (int)init_len, init, 1, false);
	if (!wait_for(&r, NULL, &r.response_len, 5000)) {
		printf("FAIL: no handshake response from %s\n", victim);
		return 1;
	}
	pthread_mutex_lock(&r.lock);
	rc = handshake_response_consume(&hs, r.response, r.response_len, &r.kp, mono_ms(), ext,
					&ext_len);
	r.have_kp = rc == HANDSHAKE_OK;
	pthread_mutex_unlock(&r.lock);
	if (rc != HANDSHAKE_OK) {
		printf("FAIL: response refused: %s\n", handshake_strerror(rc));
		return 1;
	}
	printf("ok: handshake with %s (%s) complete\n", theirs.name, victim);
	topic_data(topic, sizeof(topic), prefix, &r.victim, &r.self);
	if (!strcmp(scenario, "spoof") && argc - optind >= 4)
		rc = scenario_spoof(&r, topic, argv[optind + 3]);
	else if (!strcmp(scenario, "reorder"))
		rc = scenario_reorder(&r, topic);
	else
		rc = 2;
	mosquitto_disconnect(r.mosq);
	mosquitto_loop_stop(r.mosq, false);
	mosquitto_destroy(r.mosq);
	mosquitto_lib_cleanup();
	keypair_wipe(&r.kp);
	sodium_memzero(node_key, sizeof(node_key));
	return rc;
}

static int cmd_forge(int argc, char **argv)
{
	uint8_t ca_secret[64], x_secret[32], out[MQTTIP_CERT_MAX_LEN];
	struct cert c;
	int len;
	FILE *f;

	if (argc != 7)
		return 2;
	if (read_block(argv[1], "MQTTIP NETWORK CA KEY", ca_secret, sizeof(ca_secret)) != 64)
		return 1;
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", argv[2]);
	c.n_addrs = 1;
	if (netaddr_parse(argv[3], strlen(argv[3]), &c.addrs[0].addr))
		return 2;
	c.addrs[0].len = c.addrs[0].addr.family == 4 ? 32 : 128;
	randombytes_buf(x_secret, sizeof(x_secret));
	crypto_scalarmult_base(c.x25519_public, x_secret);
	c.not_before = strtoull(argv[4], NULL, 10);
	c.not_after = strtoull(argv[5], NULL, 10);
	randombytes_buf(&c.serial, sizeof(c.serial));
	len = cert_encode_sign(&c, ca_secret, out, sizeof(out));
	sodium_memzero(ca_secret, sizeof(ca_secret));
	if (len <= 0) {
		fprintf(stderr, "roguenode: cert_encode_sign: %s\n", cert_strerror(len));
		return 1;
	}
	f = fopen(argv[6], "wb");
	if (!f || fwrite(out, 1, (size_t)len, f) != (size_t)len || fclose(f))
		return 1;
	return 0;
}

static int cmd_block(int argc, char **argv)
{
	uint8_t out[8192];
	long len;
	FILE *f;

	if (argc != 4)
		return 2;
	len = read_block(argv[1], argv[2], out, sizeof(out));
	if (len < 0)
		return 1;
	f = fopen(argv[3], "wb");
	if (!f || fwrite(out, 1, (size_t)len, f) != (size_t)len || fclose(f))
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	if (sodium_init() < 0)
		return 1;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "run"))
		rc = cmd_run(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "forge"))
		rc = cmd_forge(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "block"))
		rc = cmd_block(argc - 1, argv + 1);
	else
		rc = 2;
	if (rc == 2)
		usage(stderr);
	return rc;
}
