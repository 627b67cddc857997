/* test_node_offload.c - offloads in the node engine (PROTOCOL.md 7.4.1), in the lab of node_lab.c:
 * super-packets carried whole between nodes that announced them, cut for a node that did not
 * and for a message too small, coalesced from plain segments, read in place (node_send_area), and
 * a hostile peer's offload records refused. What reaches a node's stack is checked as a kernel
 * would: every packet's checksum, and the TCP payload in order. Nodes 0..2 are 10.0.0.1..3. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "batch.h"
#include "check.h"
#include "node_lab.h"

static const char *addr[3] = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
static const char *names[3] = {"a", "b", "c"};
static uint8_t certs[3][MQTTIP_CERT_MAX_LEN];
static size_t cert_lens[3];
static uint8_t keys[3][MQTTIP_KEY_LEN];
static uint8_t pkt[MQTTIP_MAX_BODY * 4];

#define MSS 1348

static void start(int i, bool offload, const struct node_settings *set)
{
	lab[i].offload = offload;
	cert_lens[i] = lab_cert(certs[i], names[i], addr[i], (uint64_t)i + 1, NULL, keys[i]);
	CHECK_EQ_INT(lab_start(i, certs[i], cert_lens[i], keys[i], set), 0);
}

/* Nodes 0 and 1 (offloads as given) with a session. */
static void pair(bool a, bool b, const struct node_settings *bset)
{
	lab_init();
	start(0, a, NULL);
	start(1, b, bset);
	lab_run(100);
	lab_send(0, addr[0], addr[1], 1);
	lab_run(300);
	CHECK(lab_has_delivered(1, 1));
}

/* A TCP super-packet from i to j as a TUN device with offloads reads it: segments of MSS bytes
 * from sequence number seq, a partial checksum. */
static size_t super(int i, int j, uint32_t seq, size_t payload, struct gso_info *g)
{
	size_t len = lab_tcp(pkt, addr[i], addr[j], seq, payload, true);

	memset(g, 0, sizeof(*g));
	g->type = MQTTIP_GSO_TCP;
	g->flags = MQTTIP_GSO_FLAG_CSUM;
	g->size = MSS;
	return len;
}

/* The stream node j received is payload bytes from sequence number seq. */
static bool stream_ok(int j, uint32_t seq, size_t payload)
{
	if (lab[j].stream_len != payload)
		return false;
	for (size_t k = 0; k < payload; k++) {
		if (lab[j].stream[k] != lab_payload_at(seq + (uint32_t)k))
			return false;
	}
	return true;
}

static void test_announce(void)
{
	printf("offloads are announced in the handshake, and only by a node that has them\n");
	pair(true, false, NULL);
	CHECK(lab_peer(1, "a")->caps.features & MQTTIP_FEATURE_OFFLOAD);
	CHECK(!(lab_peer(0, "b")->caps.features & MQTTIP_FEATURE_OFFLOAD));
}

static void test_whole(void)
{
	struct gso_info g;
	size_t len;
	unsigned before;

	printf("a super-packet goes whole to a node that has offloads: one message, one write\n");
	pair(true, true, NULL);
	before = lab[0].published;
	len = super(0, 1, 5000, 10 * MSS + 77, &g);
	node_send_gso(&lab[0].n, pkt, len, &g, lab_now);
	node_flush(&lab[0].n, lab_now);
	CHECK_EQ_INT(lab[0].published - before, 1);
	lab_run(100);
	CHECK_EQ_INT(lab[1].delivered_super, 1);
	CHECK_EQ_INT(lab[1].deliveries, 2); /* the ping, the super-packet */
	CHECK_EQ_INT(lab[1].delivered_packets, 12);
	CHECK_EQ_INT(lab[1].bad_deliveries, 0);
	CHECK(stream_ok(1, 5000, 10 * MSS + 77));
	CHECK_EQ_INT(lab[0].n.offload_stats.tx_super, 1);
	CHECK_EQ_INT(lab[1].n.offload_stats.rx_super, 1);
	CHECK_EQ_INT(lab_peer(1, "a")->stats.rx_packets, 12);
}

static void test_segmented(void)
{
	struct gso_info g;
	size_t len;

	printf("... cut into plain packets, checksums complete, for a node without offloads\n");
	pair(true, false, NULL);
	len = super(0, 1, 70000, 9 * MSS + 5, &g);
	node_send_gso(&lab[0].n, pkt, len, &g, lab_now);
	node_flush(&lab[0].n, lab_now);
	lab_run(100);
	CHECK_EQ_INT(lab[1].deliveries, 11);
	CHECK_EQ_INT(lab[1].bad_deliveries, 0);
	CHECK(stream_ok(1, 70000, 9 * MSS + 5));
	CHECK_EQ_INT(lab[0].n.offload_stats.tx_segmented, 1);
	/* a single packet with a partial checksum: completed for it */
	len = lab_tcp(pkt, addr[0], addr[1], 70000 + 9 * MSS + 5, 300, true);
	g.type = MQTTIP_GSO_NONE;
	g.size = 0;
	node_send_gso(&lab[0].n, pkt, len, &g, lab_now);
	node_flush(&lab[0].n, lab_now);
	lab_run(100);
	CHECK_EQ_INT(lab[1].bad_deliveries, 0);
	CHECK(stream_ok(1, 70000, 9 * MSS + 5 + 300));
	CHECK_EQ_INT(lab[0].n.offload_stats.tx_csum, 1);
}

static void test_split(void)
{
	struct node_settings small = node_settings_default();
	struct gso_info g;
	size_t len;

	printf("... cut into smaller super-packets when the peer's messages cannot hold it\n");
	small.max_receive = 4096;
	pair(true, true, &small);
	len = super(0, 1, 1, 10 * MSS, &g);
	node_send_gso(&lab[0].n, pkt, len, &g, lab_now);
	node_flush(&lab[0].n, lab_now);
	lab_run(100);
	CHECK(lab[1].largest_data_in <= 4096);
	CHECK_EQ_INT(lab[1].delivered_super, 5); /* 2 segments each */
	CHECK_EQ_INT(lab[1].bad_deliveries, 0);
	CHECK(stream_ok(1, 1, 10 * MSS));
	CHECK_EQ_INT(lab[0].n.offload_stats.tx_split, 1);
}

static void test_coalesce(void)
{
	static uint8_t seg[MQTTIP_MAX_IP_PACKET];
	uint32_t seq = 900;

	printf("plain segments from a node without offloads are coalesced into one write\n");
	pair(false, true, NULL);
	for (unsigned k = 0; k < 11; k++, seq += MSS) {
		size_t len = lab_tcp(seg, addr[0], addr[1], seq, MSS, false);

		node_send(&lab[0].n, seg, len, lab_now);
	}
	node_flush(&lab[0].n, lab_now);
	lab_run(100);
	CHECK_EQ_INT(lab[1].delivered_super, 1);
	CHECK_EQ_INT(lab[1].deliveries, 2);
	CHECK_EQ_INT(lab[1].n.offload_stats.rx_merged, 1);
	CHECK_EQ_INT(lab[1].bad_deliveries, 0);
	CHECK(stream_ok(1, 900, 11 * MSS));
	/* a segment whose checksum does not verify is not hidden in a super-packet: the kernel
	 * sees it alone (and drops it), the segments around it still coalesce */
	lab[1].stream_len = 0;
	for (unsigned k = 0; k < 6; k++, seq += MSS) {
		size_t len = lab_tcp(seg, addr[0], addr[1], seq, MSS, false);

		if (k == 3)
			seg[100] ^= 0x55;
		node_send(&lab[0].n, seg, len, lab_now);
	}
	node_flush(&lab[0].n, lab_now);
	lab_run(100);
	CHECK_EQ_INT(lab[1].delivered_super, 3); /* segments 0-2, 4-5 */
	CHECK_EQ_INT(lab[1].bad_deliveries, 1);
	CHECK_EQ_INT(lab[1].deliveries, 2 + 3);
}

/* Reads as the agent does: into node_send_area, else elsewhere. */
static void host_read(int i, const uint8_t *p, size_t len, const struct gso_info *g,
		      unsigned *in_place)
{
	size_t cap = 0;
	uint8_t *area = node_send_area(&lab[i].n, &cap);

	if (area && len <= cap) {
		CHECK(area >= lab[i].batch_mem &&
		      area + len <= lab[i].batch_mem + sizeof(lab[i].batch_mem));
		memcpy(area, p, len); /* the kernel's copy */
		node_send_area_done(&lab[i].n, len, g, lab_now);
		(*in_place)++;
	} else {
		node_send_gso(&lab[i].n, p, len, g, lab_now);
	}
}

/* Nodes 0 and 1 paired, and node 2 with a session to node 0: node 0 batches for two peers. */
static void trio(void)
{
	pair(true, true, NULL);
	start(2, true, NULL);
	lab_run(100);
	lab_send(0, addr[0], addr[2], 2);
	lab_run(300);
	CHECK(lab_has_delivered(2, 2));
}

static void test_in_place(void)
{
	static uint8_t small[MQTTIP_MAX_IP_PACKET];
	struct gso_info g, plain = {0};
	uint32_t seq = 10;
	unsigned in_place = 0;

	printf(
	    "packets are read into the batch they join: small ones after the last, a super-packet\n"
	    "into a free slot that becomes the batch\n");
	trio();
	for (unsigned k = 0; k < 5; k++) {
		size_t len = lab_tcp(small, addr[0], addr[1], seq, 100, false);

		host_read(0, small, len, &plain, &in_place);
		seq += 100;
	}
	for (unsigned k = 0; k < 3; k++) {
		size_t len = super(0, 1, seq, 11 * MSS, &g);

		host_read(0, pkt, len, &g, &in_place);
		seq += 11 * MSS;
	}
	/* one for another peer: read where the next one for b would go, then moved */
	{
		size_t len = lab_tcp(small, addr[0], addr[2], 1, 100, false);

		host_read(0, small, len, &plain, &in_place);
	}
	{
		size_t len = lab_tcp(small, addr[0], addr[1], seq, 100, false);

		host_read(0, small, len, &plain, &in_place);
		seq += 100;
	}
	node_flush(&lab[0].n, lab_now);
	lab_run(100);
	/* all but the last: with the lab's two slots both busy (b, c), no free slot is left to move
	 * a packet to should it not join the batch it was read into, so it is read elsewhere */
	CHECK_EQ_INT(in_place, 9);
	/* ... and sent from there, the packet for c too: it was read into a free slot */
	CHECK_EQ_INT(lab[0].n.offload_stats.read_in_place, 9);
	CHECK_EQ_INT(lab[0].n.offload_stats.read_moved, 0);
	CHECK_EQ_INT(lab[1].bad_deliveries, 0);
	CHECK(stream_ok(1, 10, seq - 10));
	CHECK_EQ_INT(lab[2].stream_len, 100);
	CHECK_EQ_INT(lab_drops(0, DROP_BAD_PACKET), 0);
	/* a packet for c read after b's last record is moved out before b's batch is sealed */
	lab[1].stream_len = 0;
	lab[2].stream_len = 0;
	for (unsigned k = 0; k < 2; k++) {
		size_t len = lab_tcp(small, addr[0], addr[1], seq, 100, false);

		host_read(0, small, len, &plain, &in_place);
		seq += 100;
	}
	{
		size_t len = lab_tcp(small, addr[0], addr[2], 101, 100, false);

		host_read(0, small, len, &plain, &in_place);
	}
	node_flush(&lab[0].n, lab_now);
	lab_run(100);
	CHECK_EQ_INT(lab[0].n.offload_stats.read_in_place, 11);
	CHECK_EQ_INT(lab[0].n.offload_stats.read_moved, 1);
	CHECK_EQ_INT(lab[1].stream_len, 200);
	CHECK_EQ_INT(lab[2].stream_len, 100);
	CHECK_EQ_INT(lab[1].bad_deliveries + lab[2].bad_deliveries, 0);
}

/* A rekey that routing a read packet starts builds its initiation elsewhere: not over the packet,
 * and not by sealing the batch whose tail the packet lies at (the tag would land on it). */
static void test_rekey_in_place(void)
{
	static uint8_t small[MQTTIP_MAX_IP_PACKET];
	struct gso_info plain = {0};
	unsigned in_place = 0;
	uint64_t hs0;

	printf("a rekey started while a read packet is routed leaves the packet whole\n");
	trio();
	lab[1].stream_len = lab[2].stream_len = 0;
	/* both keypairs node 0 started are due for a rekey (not yet for rejection) */
	lab_now += MQTTIP_REKEY_AFTER_TIME_MS + 1000;
	hs0 = lab_handshakes(0);
	host_read(0, small, lab_tcp(small, addr[0], addr[1], 1, 100, false), &plain, &in_place);
	/* read at the tail of b's batch; routing it to c starts c's rekey */
	host_read(0, small, lab_tcp(small, addr[0], addr[2], 1, 100, false), &plain, &in_place);
	node_flush(&lab[0].n, lab_now);
	lab_run(300);
	CHECK(lab_handshakes(0) > hs0);
	CHECK_EQ_INT(lab[1].stream_len, 100);
	CHECK_EQ_INT(lab[2].stream_len, 100);
	CHECK(stream_ok(2, 1, 100));
	CHECK_EQ_INT(lab[1].bad_deliveries + lab[2].bad_deliveries, 0);
	CHECK_EQ_INT(lab_drops(0, DROP_BAD_PACKET), 0);
}

static void test_queued(void)
{
	struct gso_info g;
	size_t len;

	printf("a super-packet for a peer without a session waits as plain packets\n");
	lab_init();
	start(0, true, NULL);
	start(1, true, NULL);
	lab_run(100);
	len = super(0, 1, 42, 8 * MSS, &g);
	node_send_gso(&lab[0].n, pkt, len, &g, lab_now);
	node_flush(&lab[0].n, lab_now);
	lab_run(500);
	CHECK_EQ_INT(lab[1].bad_deliveries, 0);
	CHECK(stream_ok(1, 42, 8 * MSS));
}

/* Seals body with a's sending keypair towards b and hands it to b as a message from a: what a
 * hostile peer can send. */
static void forge(const uint8_t *body, size_t body_len)
{
	static uint8_t msg[MQTTIP_MAX_TRANSPORT_MSG];
	struct peer *p = lab_peer(0, "b");
	struct keypair *kp = session_sending_keypair(&p->session, lab_now, &lab[0].n.set.params);
	char topic[TOPIC_MAX];
	struct netaddr a, b;
	size_t len = 0;

	netaddr_parse(addr[0], strlen(addr[0]), &a);
	netaddr_parse(addr[1], strlen(addr[1]), &b);
	topic_data(topic, sizeof(topic), MQTTIP_TOPIC_PREFIX, &b, &a);
	memcpy(msg + MQTTIP_TRANSPORT_HEADER_LEN, body, body_len);
	if (!kp || keypair_seal(kp, lab_now, &lab[0].n.set.params, msg, sizeof(msg), body_len,
				&len) != KEYPAIR_OK) {
		CHECK(!"a's keypair seals");
		return;
	}
	lab_inject(topic, msg, len, false);
	lab_run(50);
}

static void test_hostile(void)
{
	static uint8_t body[MQTTIP_MAX_BODY];
	struct gso_info g;
	size_t len, used;

	printf("a hostile peer's offload records: refused unless announced, checked against the\n"
	       "packet's own headers, its one header checked for source and destination\n");
	pair(true, false, NULL);
	len = super(0, 1, 1, 4 * MSS, &g);
	used = batch_append_offload(body, sizeof(body), 0, pkt, len, MQTTIP_GSO_TCP,
				    MQTTIP_GSO_FLAG_CSUM, MSS);
	forge(body, used);
	CHECK_EQ_INT(lab_drops(1, DROP_BODY), 1); /* b never announced them */
	CHECK_EQ_INT(lab[1].deliveries, 1);

	pair(true, true, NULL);
	/* a segment size that would make 1500-byte-plus packets, or too many segments */
	len = super(0, 1, 1, 2 * MSS, &g);
	used = batch_append_offload(body, sizeof(body), 0, pkt, len, MQTTIP_GSO_TCP,
				    MQTTIP_GSO_FLAG_CSUM, 1461);
	used = batch_append_offload(body, sizeof(body), used, pkt, len, MQTTIP_GSO_TCP,
				    MQTTIP_GSO_FLAG_CSUM, 40);
	/* claims UDP; lacks the checksum flag; an unknown type */
	used = batch_append_offload(body, sizeof(body), used, pkt, len, MQTTIP_GSO_UDP,
				    MQTTIP_GSO_FLAG_CSUM, MSS);
	used = batch_append_offload(body, sizeof(body), used, pkt, len, MQTTIP_GSO_TCP, 0, MSS);
	used =
	    batch_append_offload(body, sizeof(body), used, pkt, len, 7, MQTTIP_GSO_FLAG_CSUM, MSS);
	CHECK(used > 4 * len);
	forge(body, used);
	CHECK_EQ_INT(lab_drops(1, DROP_BAD_PACKET), 5);
	CHECK_EQ_INT(lab[1].deliveries, 1);
	/* a good record is delivered; one from a source a does not own is not, nor one for
	 * another destination */
	len = super(0, 1, 1, 4 * MSS, &g);
	used = batch_append_offload(body, sizeof(body), 0, pkt, len, MQTTIP_GSO_TCP,
				    MQTTIP_GSO_FLAG_CSUM, MSS);
	len = lab_tcp(pkt, "10.0.0.3", addr[1], 1, 4 * MSS, true);
	used = batch_append_offload(body, sizeof(body), used, pkt, len, MQTTIP_GSO_TCP,
				    MQTTIP_GSO_FLAG_CSUM, MSS);
	len = lab_tcp(pkt, addr[0], "10.0.0.9", 1, 4 * MSS, true);
	used = batch_append_offload(body, sizeof(body), used, pkt, len, MQTTIP_GSO_TCP,
				    MQTTIP_GSO_FLAG_CSUM, MSS);
	forge(body, used);
	CHECK_EQ_INT(lab[1].deliveries, 2);
	CHECK_EQ_INT(lab[1].delivered_super, 1);
	CHECK_EQ_INT(lab_drops(1, DROP_SOURCE), 1);
	CHECK_EQ_INT(lab_drops(1, DROP_DESTINATION), 1);
	CHECK_EQ_INT(lab[1].bad_deliveries, 0);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_announce();
	test_whole();
	test_segmented();
	test_split();
	test_coalesce();
	test_in_place();
	test_rekey_in_place();
	test_queued();
	test_hostile();
	lab_init();
	return check_done();
}
