/* test_node.c - the node engine (common/node*.c) with two to four nodes wired through the
 * in-memory broker of node_lab.c on a fake clock: every timer rule of PROTOCOL.md 8.3/8.4 and the
 * certificate rules of 8.2, each in milliseconds of real time, and the three field failures the
 * engine fixes (key rotation seen by a device, a peer restarted with its clock behind, a slow
 * broker path). Nodes 0..3 are 10.0.0.1..4. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "node_lab.h"

static const char *addr[LAB_NODES] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"};
static const char *names[LAB_NODES] = {"a", "b", "c", "d"};

static uint8_t certs[LAB_NODES][MQTTIP_CERT_MAX_LEN];
static size_t cert_lens[LAB_NODES];
static uint8_t keys[LAB_NODES][MQTTIP_KEY_LEN];

static void start(int i, uint64_t serial, const struct node_settings *set)
{
	cert_lens[i] = lab_cert(certs[i], names[i], addr[i], serial, NULL, keys[i]);
	CHECK(cert_lens[i] > 0);
	CHECK_EQ_INT(lab_start(i, certs[i], cert_lens[i], keys[i], set), 0);
}

/* <p>/cert/<address of node i>, built as every node builds it. */
static const char *cert_topic(int i)
{
	static char t[TOPIC_MAX];
	struct netaddr a;

	netaddr_parse(addr[i], strlen(addr[i]), &a);
	topic_cert(t, sizeof(t), MQTTIP_TOPIC_PREFIX, &a);
	return t;
}

/* <p>/kx/<node dst>/<node src> */
static const char *kx_topic(int dst, int src)
{
	static char t[TOPIC_MAX];
	struct netaddr d, s;

	netaddr_parse(addr[dst], strlen(addr[dst]), &d);
	netaddr_parse(addr[src], strlen(addr[src]), &s);
	topic_kx(t, sizeof(t), MQTTIP_TOPIC_PREFIX, &d, &s);
	return t;
}

/* i sends marker to j; true when it arrived within ms. */
static bool ping(int i, int j, uint32_t marker, uint64_t ms)
{
	lab_send(i, addr[i], addr[j], marker);
	lab_run(ms);
	return lab_has_delivered(j, marker);
}

static uint64_t tx_msgs(int i, const char *peer)
{
	struct peer *p = lab_peer(i, peer);

	return p ? p->stats.tx_msgs : 0;
}

static void test_handshake_both_ways(const struct node_settings *set, const char *what)
{
	printf("handshake both ways (%s)\n", what);
	lab_init();
	start(0, 1, set);
	start(1, 2, set);
	lab_run(100);
	CHECK(ping(0, 1, 100, 200));
	CHECK(ping(1, 0, 101, 200));
	CHECK_EQ_INT(lab_handshakes(0), 1);
	CHECK_EQ_INT(lab_handshakes(1), 1);
	CHECK(lab_peer(0, "b") && lab_peer(1, "a"));
	/* the initiator's first packet waited in the queue and went out with the handshake */
	CHECK_EQ_INT(lab_drops(0, DROP_QUEUE_FULL) + lab_drops(0, DROP_NO_PEER), 0);
}

static void test_rekey_and_reject(void)
{
	struct peer *pa, *pb;
	uint32_t m = 1000;
	bool all = true;

	printf("rekey at 120 s under traffic, reject at 180 s when idle\n");
	lab_init();
	start(0, 1, NULL);
	start(1, 2, NULL);
	lab_run(100);
	CHECK(ping(0, 1, m++, 100));
	/* one packet a second each way for 130 s: the initiator (a) rekeys at 120 s */
	for (int s = 0; s < 130; s++) {
		bool ok = ping(0, 1, m++, 500);

		ok &= ping(1, 0, m++, 500);
		if (!ok)
			printf("  lost at %llu ms\n", (unsigned long long)lab_now);
		all &= ok;
		if (s == 118)
			CHECK_EQ_INT(lab_handshakes(0), 1);
	}
	CHECK(all);
	CHECK_EQ_INT(lab_handshakes(0), 2);
	pa = lab_peer(0, "b");
	pb = lab_peer(1, "a");
	/* idle now: keypairs die 180 s after their birth (the rekey), on both sides */
	lab_run(pa->session.current.birth_ms + 179900 - lab_now);
	CHECK(node_peer_has_session(&lab[0].n, pa, lab_now));
	lab_run(200);
	CHECK(!node_peer_has_session(&lab[0].n, pa, lab_now));
	CHECK(!node_peer_has_session(&lab[1].n, pb, lab_now));
	CHECK(!pa->session.other.valid && !pb->session.current.valid);
	/* traffic again: a new handshake */
	CHECK(ping(1, 0, m++, 300));
}

static void test_keepalive(void)
{
	uint64_t before;

	printf("keepalive 10 s after data received, if nothing was sent\n");
	lab_init();
	start(0, 1, NULL);
	start(1, 2, NULL);
	lab_run(100);
	CHECK(ping(0, 1, 1, 200));
	before = tx_msgs(1, "a"); /* b sent nothing with data */
	lab_run(9500);
	CHECK_EQ_INT(tx_msgs(1, "a"), before);
	lab_run(700);
	CHECK_EQ_INT(tx_msgs(1, "a"), before + 1);
	/* only one keepalive per data received */
	lab_run(20000);
	CHECK_EQ_INT(tx_msgs(1, "a"), before + 1);
	/* and none when b answered with data in time */
	CHECK(ping(0, 1, 2, 200));
	CHECK(ping(1, 0, 3, 200));
	before = tx_msgs(1, "a");
	lab_run(12000);
	CHECK_EQ_INT(tx_msgs(1, "a"), before);
}

static void test_no_answer(void)
{
	struct peer *p;

	printf("data without an answer for 15 s: new handshake\n");
	lab_init();
	start(0, 1, NULL);
	start(1, 2, NULL);
	lab_run(100);
	CHECK(ping(0, 1, 1, 200));
	CHECK(ping(1, 0, 2, 200));
	p = lab_peer(0, "b");
	lab[1].cut = true;
	lab_send(0, addr[0], addr[1], 3);
	lab_run(14800);
	CHECK(peer_handshake(&lab[0].n.peers, p) == NULL);
	lab_run(400);
	CHECK(peer_handshake(&lab[0].n.peers, p) != NULL);
	lab[1].cut = false;
	lab_run(5200); /* the retry after 5 s reaches b */
	CHECK(p->handshake_done_ms > lab_now - 5200);
	CHECK(ping(0, 1, 4, 200));
}

static void test_give_up(void)
{
	struct peer *p;
	unsigned attempts_before;

	printf("no response: retries with backoff, give-up at 90 s drops the queue\n");
	lab_init();
	start(0, 1, NULL);
	start(1, 2, NULL);
	lab_run(100);
	lab[1].cut = true;
	lab_send(0, addr[0], addr[1], 1);
	lab_send(0, addr[0], addr[1], 2);
	p = lab_peer(0, "b");
	CHECK(p && p->queue.count == 2);
	/* initiations at 0, 5, 15, 35, 75 s (interval 5 s doubling to 40 s) */
	lab_run(4900);
	CHECK_EQ_INT(p->handshake_attempts, 1);
	lab_run(200);
	CHECK_EQ_INT(p->handshake_attempts, 2);
	lab_run(10000);
	CHECK_EQ_INT(p->handshake_attempts, 3);
	attempts_before = p->handshake_attempts;
	lab_run(89000 - 15100);
	CHECK_EQ_INT(p->handshake_attempts, attempts_before + 2);
	CHECK_EQ_INT(lab_drops(0, DROP_HANDSHAKE_TIMEOUT), 0);
	lab_run(1200);
	CHECK_EQ_INT(lab_drops(0, DROP_HANDSHAKE_TIMEOUT), 2);
	CHECK(peer_handshake(&lab[0].n.peers, p) == NULL && p->queue.count == 0);
	/* b is back: the next packet starts a new try */
	lab[1].cut = false;
	CHECK(ping(0, 1, 3, 5500));
}

static void test_unknown_index(void)
{
	printf("restarted receiver: unknown index makes it initiate\n");
	lab_init();
	start(0, 1, NULL);
	start(1, 2, NULL);
	lab_run(100);
	CHECK(ping(0, 1, 1, 200));
	CHECK(ping(1, 0, 2, 200));
	/* b restarts with the same credentials and lost its keys */
	CHECK_EQ_INT(lab_start(1, certs[1], cert_lens[1], keys[1], NULL), 0);
	lab_run(100);
	lab_send(0, addr[0], addr[1], 3); /* sealed with the old keys: lost */
	lab_run(200);
	CHECK(!lab_has_delivered(1, 3));
	CHECK_EQ_INT(lab_drops(1, DROP_UNKNOWN_INDEX), 1);
	/* b initiated at once, so a's next packet uses the new session */
	CHECK_EQ_INT(lab_handshakes(1), 1);
	CHECK(ping(0, 1, 4, 200));
}

static void test_queue_oldest(void)
{
	struct node_settings set = node_settings_default();

	printf("queue overflow drops the oldest packet\n");
	set.queue_per_peer = 4;
	lab_init();
	start(0, 1, &set);
	start(1, 2, NULL);
	lab_run(100);
	lab[1].cut = true;
	for (uint32_t m = 1; m <= 6; m++)
		lab_send(0, addr[0], addr[1], m);
	CHECK_EQ_INT(lab_drops(0, DROP_QUEUE_FULL), 2);
	lab[1].cut = false;
	lab_run(5200);
	CHECK(!lab_has_delivered(1, 1) && !lab_has_delivered(1, 2));
	for (uint32_t m = 3; m <= 6; m++)
		CHECK(lab_has_delivered(1, m));
	CHECK_EQ_INT(lab[1].delivered[0], 3); /* in order */
}

static void test_serial_directory(void)
{
	uint8_t old[MQTTIP_CERT_MAX_LEN], same[MQTTIP_CERT_MAX_LEN], newer[MQTTIP_CERT_MAX_LEN];
	size_t old_len, same_len, newer_len;
	struct peer *p;

	printf("directory: a lower serial, or the same serial with other bytes, is refused\n");
	lab_init();
	start(0, 1, NULL);
	start(1, 5, NULL);
	lab_run(100);
	p = lab_peer(0, "b");
	CHECK(p && p->cert.serial == 5);
	/* the broker replays an older certificate of b from its retained store */
	old_len = lab_cert(old, "b", addr[1], 3, keys[1], NULL);
	lab_inject(cert_topic(1), old, old_len, true);
	lab_run(100);
	CHECK_EQ_INT(p->cert.serial, 5);
	CHECK_EQ_INT(lab_drops(0, DROP_CERT_SERIAL), 1);
	same_len = lab_cert(same, "b2", addr[1], 5, keys[1], NULL);
	lab_inject(cert_topic(1), same, same_len, true);
	lab_run(100);
	CHECK(strcmp(p->cert.name, "b") == 0);
	CHECK_EQ_INT(lab_drops(0, DROP_CERT_SERIAL), 2);
	/* a renewal (same key, higher serial) replaces it and keeps the session */
	CHECK(ping(0, 1, 1, 200));
	newer_len = lab_cert(newer, "b", addr[1], 9, keys[1], NULL);
	lab_inject(cert_topic(1), newer, newer_len, true);
	lab_run(100);
	CHECK_EQ_INT(p->cert.serial, 9);
	CHECK(ping(0, 1, 2, 200));
	CHECK_EQ_INT(lab_handshakes(0), 1);
}

static void test_serial_handshake(void)
{
	uint8_t old[MQTTIP_CERT_MAX_LEN];
	size_t old_len;

	printf("handshake: a certificate older than the one held is refused\n");
	lab_init();
	start(0, 1, NULL);
	start(1, 5, NULL);
	lab_run(100);
	CHECK(lab_peer(0, "b") != NULL);
	/* b comes back with an older certificate of its own key (say, routes since taken away) */
	old_len = lab_cert(old, "b", addr[1], 3, keys[1], NULL);
	CHECK_EQ_INT(lab_start(1, old, old_len, keys[1], NULL), 0);
	lab_send(1, addr[1], addr[0], 1);
	lab_run(300);
	CHECK(!lab_has_delivered(0, 1));
	CHECK(lab_drops(0, DROP_CERT_SERIAL) >= 1);
	CHECK_EQ_INT(lab_handshakes(0), 0);
	CHECK_EQ_INT(lab_peer(0, "b")->cert.serial, 5);
}

/* The field scenario: node b is replaced by b2 (new key, b's address, higher serial) while the
 * device has a session with b. */
static void test_key_rotation(bool device_first)
{
	struct node_settings dev = lab_device_settings();
	uint8_t cert2[MQTTIP_CERT_MAX_LEN], key2[MQTTIP_KEY_LEN];
	size_t len2;
	int ok = 0;

	printf("key rotation seen by a device (%s speaks first)\n", device_first ? "device" : "b2");
	lab_init();
	start(0, 1, &dev);
	start(1, 5, NULL);
	lab_run(100);
	CHECK(ping(0, 1, 1, 300));
	CHECK(ping(1, 0, 2, 300));
	lab_stop(1);
	len2 = lab_cert(cert2, "b2", addr[1], 6, NULL, key2);
	CHECK_EQ_INT(lab_start(1, cert2, len2, key2, NULL), 0);
	lab_run(1000);
	if (device_first) {
		/* the device still holds b: its handshakes go unanswered until it looks b's address
		 * up again and finds b2 */
		for (uint32_t m = 10; m < 40 && !ok; m++)
			ok = ping(0, 1, m, 1000);
		CHECK(ok);
	} else {
		CHECK(ping(1, 0, 3, 300));
	}
	CHECK(lab_peer(0, "b2") != NULL);
	CHECK(lab_peer(0, "b") == NULL);
	CHECK(ping(0, 1, 100, 300));
	CHECK(ping(1, 0, 101, 300));
	CHECK_EQ_INT(lab_drops(0, DROP_SOURCE), 0);
}

static void test_clock_behind(const struct node_settings *set, const char *what)
{
	int ok = 0;

	printf("peer restarted with its clock 4 minutes behind (%s refuses)\n", what);
	lab_init();
	start(0, 1, set);
	start(1, 2, NULL);
	lab_run(100);
	CHECK(ping(1, 0, 1, 300));
	CHECK(ping(0, 1, 2, 300));
	lab_run(20000); /* idle */
	lab[1].wall_offset_ms = -240000;
	CHECK_EQ_INT(lab_start(1, certs[1], cert_lens[1], keys[1], NULL), 0);
	lab_run(100);
	for (uint32_t m = 10; m < 20 && !ok; m++)
		ok = ping(1, 0, m, 1000);
	CHECK(ok);
	CHECK(lab_drops(0, DROP_HANDSHAKE_REPLAY) >= 1);
	CHECK(ping(0, 1, 30, 300));
}

static void test_slow_path(void)
{
	int ok = 0;
	uint64_t t0;

	printf("handshake round trip of 6.5 s\n");
	lab_init();
	lab[0].delay_ms = 1625; /* each way: node -> broker -> node = 3.25 s */
	lab[1].delay_ms = 1625;
	start(0, 1, NULL);
	start(1, 2, NULL);
	lab_run(5000);
	t0 = lab_now;
	lab_send(0, addr[0], addr[1], 1);
	for (int s = 0; s < 60 && !ok; s++) {
		lab_run(1000);
		ok = lab_has_delivered(1, 1);
	}
	CHECK(ok);
	printf("  delivered after %llu ms\n", (unsigned long long)(lab_now - t0));
	CHECK(ping(1, 0, 2, 4000));
}

static void test_retained_inbox(void)
{
	uint8_t junk[200];

	printf("retained messages on inboxes are ignored and counted\n");
	lab_init();
	start(0, 1, NULL);
	start(1, 2, NULL);
	lab_run(100);
	memset(junk, 0, sizeof(junk));
	junk[0] = MQTTIP_MSG_INITIATION;
	lab_inject(kx_topic(0, 1), junk, sizeof(junk), true);
	lab_run(100);
	CHECK_EQ_INT(lab_drops(0, DROP_RETAINED), 0); /* live: handled (and refused) normally */
	CHECK_EQ_INT(lab_drops(0, DROP_MALFORMED), 1);
	CHECK_EQ_INT(lab_start(0, certs[0], cert_lens[0], keys[0], NULL), 0);
	lab_run(100);
	CHECK_EQ_INT(lab_drops(0, DROP_RETAINED), 1);
	CHECK_EQ_INT(lab_drops(0, DROP_MALFORMED), 0);
}

static uint64_t serial_of(int i)
{
	struct cert c;

	cert_decode(certs[i], cert_lens[i], &c);
	return c.serial;
}

static void test_expired_peer(void)
{
	printf("a peer whose certificate expired leaves the table\n");
	lab_init();
	start(0, 1, NULL);
	start(1, 2, NULL);
	lab_run(100);
	CHECK(ping(0, 1, 1, 300));
	CHECK(lab_peer(0, "b") != NULL);
	lab[0].wall_offset_ms = 31LL * 86400 * 1000; /* past the lab certificates' 30 days */
	lab_run(200);
	CHECK(lab_peer(0, "b") == NULL);
}

static void test_revocation(void)
{
	uint8_t v1[MQTTIP_REVOCATION_MAX_LEN], v2[MQTTIP_REVOCATION_MAX_LEN];
	size_t v1_len, v2_len;
	uint64_t revoked;
	char topic[TOPIC_MAX];

	printf("revocation: a newer list removes the peer, travels by handshake and topic, "
	       "survives a restart; an older one is refused\n");
	lab_init();
	lab_withhold_revocation = true; /* first: only handshakes carry it */
	start(0, 1, NULL);
	start(1, 2, NULL);
	start(2, 3, NULL); /* c: to be revoked */
	lab_run(100);
	v1_len = lab_revocation(v1, 1, NULL, 0, NULL, 0);
	revoked = serial_of(2);
	v2_len = lab_revocation(v2, 2, &revoked, 1, NULL, 0);
	CHECK(v1_len > 0 && v2_len > 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(node_revocation_offer(&lab[i].n, v1, v1_len, lab_now),
			     REVOCATION_NEWER);
	CHECK(ping(2, 0, 1, 300));
	CHECK(ping(0, 2, 2, 300));
	/* a learns the new list (from its host): c is gone at once, and stays refused */
	CHECK_EQ_INT(node_revocation_offer(&lab[0].n, v2, v2_len, lab_now), REVOCATION_NEWER);
	CHECK(lab_peer(0, "c") == NULL);
	CHECK(lab[0].saved_len == v2_len && memcmp(lab[0].saved, v2, v2_len) == 0);
	lab_send(2, addr[2], addr[0], 3);
	lab_run(6000);
	CHECK(!lab_has_delivered(0, 3));
	CHECK(lab_drops(0, DROP_REVOKED) >= 2); /* the removal, then c's handshake */
	/* b holds version 1: a's handshake with b hands it version 2 */
	CHECK(ping(0, 1, 4, 300));
	CHECK_EQ_INT(lab[1].revocation.version, 2);
	CHECK(lab_peer(1, "c") == NULL);
	/* with a broker that keeps it, a publishes it on the retained topic: a node that starts
	 * later gets it from there */
	lab_withhold_revocation = false;
	CHECK_EQ_INT(lab_start(0, certs[0], cert_lens[0], keys[0], NULL), 0);
	lab_run(2500);
	start(3, 4, NULL);
	CHECK_EQ_INT(node_revocation_offer(&lab[3].n, v1, v1_len, lab_now), REVOCATION_NEWER);
	lab_run(500);
	CHECK_EQ_INT(lab[3].revocation.version, 2);
	/* the broker replays version 1 on the topic: refused and counted */
	topic_revocation(topic, sizeof(topic), MQTTIP_TOPIC_PREFIX);
	lab_inject(topic, v1, v1_len, false);
	lab_run(100);
	CHECK_EQ_INT(lab[0].revocation.version, 2);
	CHECK(lab_drops(0, DROP_REVOCATION) >= 1);
	/* a restarts: its kept list comes back, and the older one from its bundle changes nothing
	 */
	CHECK_EQ_INT(lab_start(0, certs[0], cert_lens[0], keys[0], NULL), 0);
	CHECK_EQ_INT(node_revocation_offer(&lab[0].n, v1, v1_len, lab_now), REVOCATION_ERR_OLDER);
	CHECK_EQ_INT(lab[0].revocation.version, 2);
	/* c's retained directory entry is refused as revoked */
	lab_run(200);
	CHECK(lab_peer(0, "c") == NULL);
	CHECK(lab_drops(0, DROP_REVOKED) >= 1);
}

static void test_directory_without_retained(void)
{
	printf("directory on a broker that keeps no retained messages for '+' filters: the owner "
	       "is asked\n");
	lab_init();
	lab_retained_exact_only = true;
	start(1, 2, NULL);
	lab_run(100);
	start(0, 1, NULL);
	lab_run(100);
	CHECK(lab_peer(0, "b") == NULL); /* b published before a subscribed: a never saw it */
	CHECK(ping(0, 1, 1, 500));
	CHECK(lab_peer(0, "b") != NULL);
	CHECK(lab_published_kind(0, TOPIC_KX) >= 2); /* the request and the initiation */
}

static void test_peer_max_message(void)
{
	struct node_settings dev = lab_device_settings();

	printf("a device announces a small maximum message: batches for it stay below it\n");
	dev.max_receive = 2048;
	lab_init();
	start(0, 1, NULL);
	start(1, 2, &dev);
	lab_run(100);
	CHECK(ping(0, 1, 1, 300));
	lab_send_burst(0, addr[0], addr[1], 100, 10, 1000);
	lab_run(300);
	for (uint32_t m = 100; m < 110; m++)
		CHECK(lab_has_delivered(1, m));
	CHECK(lab[1].largest_data_in <= 2048);
	CHECK(lab[1].largest_data_in > 1000);
	/* a host announces the whole 16 KB: the device's burst may fill it */
	lab_send_burst(1, addr[1], addr[0], 200, 10, 1000);
	lab_run(300);
	CHECK(lab[0].largest_data_in > 10000);
}

/* A broker limit below one full packet (field_limits: max_packet_size 1200): batches are cut to
 * it, a packet that alone exceeds it is dropped as oversize, never published; a host that refuses
 * a publish as too large (the limit not yet known to the engine) is counted the same way. */
static void test_broker_limit(void)
{
	uint8_t big[1400];
	unsigned before;

	printf("a broker limit of 1200 bytes: batches fit, a larger packet is oversize\n");
	lab_init();
	start(0, 1, NULL);
	start(1, 2, NULL);
	lab_run(100);
	CHECK(ping(0, 1, 1, 300));
	node_set_broker_limit(&lab[0].n, 1200);
	before = lab[0].published;
	lab_send_burst(0, addr[0], addr[1], 300, 3, 500);
	lab_run(100);
	for (uint32_t m = 300; m < 303; m++)
		CHECK(lab_has_delivered(1, m));
	CHECK(lab[1].largest_data_in <= 1200);
	CHECK_EQ_INT(lab[0].published - before, 2); /* 2 + 1 packets of 500 */
	before = lab[0].published;
	node_send(&lab[0].n, big, lab_packet(big, addr[0], addr[1], 304, sizeof(big)), lab_now);
	node_flush(&lab[0].n, lab_now);
	lab_run(100);
	CHECK(!lab_has_delivered(1, 304));
	CHECK_EQ_INT(lab_drops(0, DROP_OVERSIZE), 1);
	CHECK_EQ_INT(lab[0].published - before, 0); /* nothing, not even an empty message */
	CHECK(ping(0, 1, 305, 300));		    /* the next packet goes */

	node_set_broker_limit(&lab[0].n, 0);
	lab_publish_max = 1100;
	lab_send_burst(0, addr[0], addr[1], 310, 2, 600);
	lab_run(100);
	CHECK_EQ_INT(lab_drops(0, DROP_OVERSIZE), 3);
	CHECK_EQ_INT(lab_drops(0, DROP_BROKER_DOWN), 0);
}

/* An MQTT_VPN node's message: packet src -> dst carrying marker, sealed with the lab password and
 * nonce byte k, published on <p>/<topic address>. */
static void legacy_inject(const char *topic_addr, const char *src, const char *dst, uint32_t marker,
			  uint8_t k)
{
	uint8_t key[MQTTIP_KEY_LEN], nonce[MQTTIP_LEGACY_NONCE_LEN], pkt[100];
	uint8_t msg[sizeof(pkt) + MQTTIP_LEGACY_OVERHEAD];
	char topic[TOPIC_MAX];
	struct netaddr t;
	size_t len;

	legacy_key_from_password(lab_legacy_password, strlen(lab_legacy_password), key);
	memset(nonce, k, sizeof(nonce));
	netaddr_parse(topic_addr, strlen(topic_addr), &t);
	CHECK(topic_legacy(topic, sizeof(topic), MQTTIP_TOPIC_PREFIX, &t) > 0);
	CHECK_EQ_INT(legacy_seal(key, nonce, pkt, lab_packet(pkt, src, dst, marker, sizeof(pkt)),
				 msg, sizeof(msg), &len),
		     LEGACY_OK);
	lab_inject(topic, msg, len, false);
	lab_run(50);
}

static bool subscribed(int i, const char *filter)
{
	for (int s = 0; s < LAB_SUBS; s++) {
		if (strcmp(lab[i].subs[s], filter) == 0)
			return true;
	}
	return false;
}

/* Legacy mode (PROTOCOL.md 8.7, 9): broadcast and group topics, the replay cache keyed by the
 * sealed source, a source that a certificate owns refused, a device that takes no broadcast. */
static void test_legacy(void)
{
	struct node_settings dev = lab_device_settings();
	struct netaddr group;
	uint64_t legacy_tx;

	printf("legacy mode: broadcast, multicast groups, replay per sender, owned sources\n");
	lab_init();
	lab_legacy_password = "legacy-lab";
	start(0, 1, NULL);
	start(1, 2, &dev);
	lab_run(100);
	CHECK(subscribed(0, "mqttip/10.0.0.1") && subscribed(0, "mqttip/255.255.255.255"));
	CHECK(subscribed(1, "mqttip/10.0.0.2") && !subscribed(1, "mqttip/255.255.255.255"));

	/* a group joined: its topic followed; left: unfollowed */
	netaddr_parse("239.1.2.3", 9, &group);
	node_legacy_set_groups(&lab[0].n, &group, 1);
	CHECK(subscribed(0, "mqttip/239.1.2.3"));
	legacy_inject("239.1.2.3", "10.0.0.9", "239.1.2.3", 400, 1);
	CHECK(lab_has_delivered(0, 400));
	/* MQTT_VPN's broadcast, and mqttip's multicast on the broadcast topic */
	legacy_inject("255.255.255.255", "10.0.0.9", "255.255.255.255", 401, 2);
	legacy_inject("255.255.255.255", "10.0.0.9", "239.1.2.3", 402, 3);
	CHECK(lab_has_delivered(0, 401) && lab_has_delivered(0, 402));
	/* a multicast packet on another node's unicast topic does not fit */
	legacy_inject("10.0.0.1", "10.0.0.9", "239.9.9.9", 403, 4);
	CHECK(!lab_has_delivered(0, 403));
	CHECK_EQ_INT(lab_drops(0, DROP_DESTINATION), 1);
	node_legacy_set_groups(&lab[0].n, NULL, 0);
	CHECK(!subscribed(0, "mqttip/239.1.2.3"));

	/* the replay cache: the same nonce from another sender is no replay (MQTT_VPN nodes
	 * started in one second draw the same nonces); from the same sender it is */
	legacy_inject("10.0.0.1", "10.0.0.8", "10.0.0.1", 410, 7);
	legacy_inject("10.0.0.1", "10.0.0.7", "10.0.0.1", 411, 7);
	CHECK(lab_has_delivered(0, 410) && lab_has_delivered(0, 411));
	legacy_inject("10.0.0.1", "10.0.0.8", "10.0.0.1", 412, 7);
	CHECK(!lab_has_delivered(0, 412));
	CHECK_EQ_INT(lab_drops(0, DROP_LEGACY_REPLAY), 1);

	/* a legacy packet claiming node b's certified address, and one claiming our own */
	CHECK(ping(0, 1, 420, 500));
	legacy_inject("10.0.0.1", "10.0.0.2", "10.0.0.1", 421, 8);
	legacy_inject("255.255.255.255", "10.0.0.1", "255.255.255.255", 422, 9);
	CHECK(!lab_has_delivered(0, 421) && !lab_has_delivered(0, 422));
	CHECK_EQ_INT(lab_drops(0, DROP_SOURCE), 2);

	/* the device: a broadcast on its own topic is not delivered, and it sends none */
	legacy_inject("10.0.0.2", "10.0.0.9", "255.255.255.255", 430, 10);
	CHECK(!lab_has_delivered(1, 430));
	CHECK_EQ_INT(lab_drops(1, DROP_MULTICAST), 1);
	legacy_tx = lab[1].legacy.tx_packets;
	lab_send(1, addr[1], "255.255.255.255", 431);
	CHECK_EQ_INT(lab[1].legacy.tx_packets, legacy_tx);
	CHECK_EQ_INT(lab_drops(1, DROP_MULTICAST), 2);
	/* the host sends multicast to MQTT_VPN nodes on the broadcast topic */
	legacy_tx = lab[0].legacy.tx_packets;
	lab_send(0, addr[0], "239.1.2.3", 432);
	CHECK_EQ_INT(lab[0].legacy.tx_packets, legacy_tx + 1);
}

/* A device's pool of two handshake states and three peers to reach at once: the third
 * initiation takes the state of the first, whose response then finds no initiation (counted
 * handshake); its retry 5 s later completes, and every packet arrives. */
static void test_handshake_pool(void)
{
	unsigned delivered = 0;

	printf("two handshake states, three peers at once: one set aside, retried\n");
	lab_init();
	lab_pool = 2;
	start(0, 1, NULL);
	lab_pool = 0;
	for (int j = 1; j < 4; j++)
		start(j, 1, NULL);
	lab_run(100);
	for (int j = 1; j < 4; j++)
		lab_send(0, addr[0], addr[j], 10 + (uint32_t)j);
	for (int j = 1; j < 4; j++)
		CHECK(lab_peer(0, names[j]) != NULL);
	CHECK(peer_handshake(&lab[0].n.peers, lab_peer(0, names[1])) == NULL);
	CHECK(peer_handshake(&lab[0].n.peers, lab_peer(0, names[2])) != NULL);
	CHECK(peer_handshake(&lab[0].n.peers, lab_peer(0, names[3])) != NULL);
	lab_run(1000);
	for (int j = 1; j < 4; j++)
		delivered += lab_has_delivered(j, 10 + (uint32_t)j);
	CHECK_EQ_INT(delivered, 2);
	CHECK(!lab_has_delivered(1, 11));
	CHECK_EQ_INT(lab_drops(0, DROP_HANDSHAKE), 1);
	lab_run(5000);
	CHECK(lab_has_delivered(1, 11));
	for (int j = 1; j < 4; j++)
		CHECK(ping(0, j, 20 + (uint32_t)j, 200));
}

int main(void)
{
	struct node_settings dev;

	if (sodium_init() < 0)
		return 1;
	dev = lab_device_settings();
	test_handshake_both_ways(NULL, "hosts");
	test_handshake_both_ways(&dev, "devices");
	test_rekey_and_reject();
	test_keepalive();
	test_no_answer();
	test_give_up();
	test_unknown_index();
	test_queue_oldest();
	test_serial_directory();
	test_serial_handshake();
	test_key_rotation(true);
	test_key_rotation(false);
	test_clock_behind(NULL, "host");
	test_clock_behind(&dev, "device");
	test_slow_path();
	test_retained_inbox();
	test_expired_peer();
	test_revocation();
	test_directory_without_retained();
	test_peer_max_message();
	test_broker_limit();
	test_legacy();
	test_handshake_pool();
	lab_init();
	return check_done();
}
