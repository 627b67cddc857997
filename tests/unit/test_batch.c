/* test_batch.c - body records, checked against bytes written out by hand. */
#include "batch.h"
#include "check.h"

static void test_append_bytes(void)
{
	uint8_t body[400], pkt2[300];
	const uint8_t pkt1[3] = {0x45, 0x01, 0x02};
	size_t used;

	for (size_t i = 0; i < sizeof(pkt2); i++)
		pkt2[i] = (uint8_t)(i * 7 + 1);
	used = batch_append(body, sizeof(body), 0, pkt1, sizeof(pkt1));
	CHECK_EQ_INT(used, 5);
	used = batch_append(body, sizeof(body), used, pkt2, sizeof(pkt2));
	CHECK_EQ_INT(used, 5 + 2 + 300);
	{
		const uint8_t expect[] = {0x00, 0x03, 0x45, 0x01, 0x02, 0x01, 0x2c};
		CHECK_MEM(body, expect, sizeof(expect));
	}
	CHECK_MEM(body + 7, pkt2, sizeof(pkt2));
}

static void test_append_limits(void)
{
	static uint8_t body[MQTTIP_MAX_BODY + 100];
	static uint8_t pkt[MQTTIP_MAX_IP_PACKET + 1];
	size_t used = 0, n = 0;

	CHECK_EQ_INT(batch_append(body, sizeof(body), 0, pkt, 0), 0);
	CHECK_EQ_INT(batch_append(body, sizeof(body), 0, pkt, MQTTIP_MAX_IP_PACKET + 1), 0);
	CHECK_EQ_INT(batch_append(body, sizeof(body), 0, pkt, MQTTIP_MAX_IP_PACKET),
		     MQTTIP_MAX_IP_PACKET + 2);
	CHECK_EQ_INT(batch_append(body, 11, 0, pkt, 10), 0);
	CHECK_EQ_INT(batch_append(body, 12, 0, pkt, 10), 12);
	CHECK_EQ_INT(batch_append(body, 12, 13, pkt, 1), 0);
	CHECK_EQ_INT(batch_append(body, 12, 12, pkt, 1), 0);
	/* Capacity above MQTTIP_MAX_BODY counts as MQTTIP_MAX_BODY. */
	for (;;) {
		size_t next = batch_append(body, sizeof(body), used, pkt, 1000);

		if (!next)
			break;
		used = next;
		n++;
	}
	CHECK_EQ_INT(n, MQTTIP_MAX_BODY / 1002);
	CHECK(used <= MQTTIP_MAX_BODY);
	CHECK_EQ_INT(batch_append(body, sizeof(body), MQTTIP_MAX_BODY - 3, pkt, 1),
		     MQTTIP_MAX_BODY);
	CHECK_EQ_INT(batch_append(body, sizeof(body), MQTTIP_MAX_BODY - 2, pkt, 1), 0);
}

/* A writer that reads the packet straight into its slot. */
static void test_append_in_place(void)
{
	uint8_t body[64];
	size_t used = batch_append(body, sizeof(body), 0, (const uint8_t *)"ab", 2);

	memcpy(body + used + 2, "in place", 8);
	used = batch_append(body, sizeof(body), used, body + used + 2, 8);
	CHECK_EQ_INT(used, 4 + 10);
	CHECK_MEM(body,
		  "\x00\x02"
		  "ab"
		  "\x00\x08"
		  "in place",
		  14);
}

static void test_read(void)
{
	const uint8_t body[] = {0x00, 0x01, 0xaa, 0x00, 0x03, 0x01, 0x02,
				0x03, 0x00, 0x00, 0x05, 0xff, 0x00, 0x07};
	struct batch_reader r;
	const uint8_t *pkt = NULL;
	size_t len = 0;

	batch_reader_init(&r, body, sizeof(body));
	CHECK_EQ_INT(batch_next(&r, &pkt, &len), 1);
	CHECK(pkt == body + 2);
	CHECK_EQ_INT(len, 1);
	CHECK_EQ_INT(batch_next(&r, &pkt, &len), 1);
	CHECK(pkt == body + 5);
	CHECK_EQ_INT(len, 3);
	/* Zero length: end, the rest is padding, and the end stays the end. */
	CHECK_EQ_INT(batch_next(&r, &pkt, &len), 0);
	CHECK_EQ_INT(batch_next(&r, &pkt, &len), 0);

	/* Keepalives: empty, or a zero length then padding. */
	batch_reader_init(&r, body, 0);
	CHECK_EQ_INT(batch_next(&r, &pkt, &len), 0);
	batch_reader_init(&r, body + 8, 6);
	CHECK_EQ_INT(batch_next(&r, &pkt, &len), 0);
	/* Records that end exactly at the end of the body. */
	batch_reader_init(&r, body, 8);
	CHECK_EQ_INT(batch_next(&r, &pkt, &len), 1);
	CHECK_EQ_INT(batch_next(&r, &pkt, &len), 1);
	CHECK_EQ_INT(batch_next(&r, &pkt, &len), 0);
}

static void test_read_malformed(void)
{
	static uint8_t body[2 + MQTTIP_MAX_IP_PACKET + 1];
	struct batch_reader r;
	const uint8_t *pkt;
	size_t len;

	/* Packet runs past the end. */
	batch_reader_init(&r,
			  (const uint8_t *)"\x00\x05"
					   "abc",
			  5);
	CHECK_EQ_INT(batch_next(&r, &pkt, &len), BATCH_ERR_TRUNCATED);
	CHECK_EQ_INT(batch_next(&r, &pkt, &len), BATCH_ERR_TRUNCATED);
	/* Length field cut in half, after a good record. */
	batch_reader_init(&r,
			  (const uint8_t *)"\x00\x01"
					   "a"
					   "\x00",
			  4);
	CHECK_EQ_INT(batch_next(&r, &pkt, &len), 1);
	CHECK_EQ_INT(batch_next(&r, &pkt, &len), BATCH_ERR_TRUNCATED);
	batch_reader_init(&r, (const uint8_t *)"\x00", 1);
	CHECK_EQ_INT(batch_next(&r, &pkt, &len), BATCH_ERR_TRUNCATED);
	/* Maximum packet is fine, one more is not, even when the bytes are there. */
	body[0] = MQTTIP_MAX_IP_PACKET >> 8;
	body[1] = MQTTIP_MAX_IP_PACKET & 0xff;
	batch_reader_init(&r, body, 2 + MQTTIP_MAX_IP_PACKET);
	CHECK_EQ_INT(batch_next(&r, &pkt, &len), 1);
	CHECK_EQ_INT(len, MQTTIP_MAX_IP_PACKET);
	CHECK_EQ_INT(batch_next(&r, &pkt, &len), 0);
	body[0] = (MQTTIP_MAX_IP_PACKET + 1) >> 8;
	body[1] = (MQTTIP_MAX_IP_PACKET + 1) & 0xff;
	batch_reader_init(&r, body, sizeof(body));
	CHECK_EQ_INT(batch_next(&r, &pkt, &len), BATCH_ERR_TOO_LONG);
	batch_reader_init(&r, (const uint8_t *)"\xff\xff", 2);
	CHECK_EQ_INT(batch_next(&r, &pkt, &len), BATCH_ERR_TOO_LONG);
}

/* Many packets of varied sizes written and read back. */
static void test_roundtrip(void)
{
	static uint8_t body[MQTTIP_MAX_BODY], pkt[MQTTIP_MAX_IP_PACKET];
	struct batch_reader r;
	const uint8_t *got;
	size_t used = 0, len, count = 0, read = 0, sizes[64];
	unsigned mismatches = 0;

	for (size_t i = 0; i < 64; i++) {
		size_t n = 1 + (i * 211) % MQTTIP_MAX_IP_PACKET, next;

		memset(pkt, (int)i, n);
		next = batch_append(body, sizeof(body), used, pkt, n);
		if (!next)
			break;
		used = next;
		sizes[count++] = n;
	}
	CHECK(count > 10);
	batch_reader_init(&r, body, used);
	while (batch_next(&r, &got, &len) == 1) {
		if (len != sizes[read])
			mismatches++;
		for (size_t j = 0; j < len; j++) {
			if (got[j] != (uint8_t)read)
				mismatches++;
		}
		read++;
	}
	CHECK_EQ_INT(read, count);
	CHECK_EQ_INT(mismatches, 0);
}

/* Offload records (PROTOCOL.md 7.4.1): bytes as written, read back with their metadata, refused
 * by a reader that did not announce them, and the framing limits. */
static void test_offload(void)
{
	static uint8_t body[MQTTIP_MAX_BODY + 8], big[MQTTIP_OFFLOAD_MAX_PACKET + 1];
	const uint8_t pkt[3] = {0x45, 0x01, 0x02};
	struct batch_reader r;
	struct batch_record rec;
	const uint8_t *p;
	size_t used, len;

	used = batch_append(body, sizeof(body), 0, pkt, sizeof(pkt));
	used = batch_append_offload(body, sizeof(body), used, pkt, sizeof(pkt), MQTTIP_GSO_TCP,
				    MQTTIP_GSO_FLAG_CSUM, 1348);
	CHECK_EQ_INT(used, 5 + 9);
	/* the offload record is PROTOCOL.md 7.4.1's example */
	{
		const uint8_t expect[] = {0x00, 0x03, 0x45, 0x01, 0x02, 0x80, 0x03,
					  0x01, 0x01, 0x05, 0x44, 0x45, 0x01, 0x02};
		CHECK_MEM(body, expect, sizeof(expect));
	}
	batch_reader_init(&r, body, used);
	CHECK_EQ_INT(batch_next_record(&r, true, &rec), 1);
	CHECK(!rec.offload);
	CHECK_EQ_INT(rec.len, 3);
	CHECK_EQ_INT(batch_next_record(&r, true, &rec), 1);
	CHECK(rec.offload);
	CHECK_EQ_INT(rec.gso_type, MQTTIP_GSO_TCP);
	CHECK_EQ_INT(rec.flags, MQTTIP_GSO_FLAG_CSUM);
	CHECK_EQ_INT(rec.segment_size, 1348);
	CHECK_EQ_INT(rec.len, 3);
	CHECK(rec.pkt == body + 11);
	CHECK_EQ_INT(batch_next_record(&r, true, &rec), 0);
	/* a node that did not announce them: too long, as before they existed */
	batch_reader_init(&r, body, used);
	CHECK_EQ_INT(batch_next(&r, &p, &len), 1);
	CHECK_EQ_INT(batch_next(&r, &p, &len), BATCH_ERR_TOO_LONG);
	CHECK_EQ_INT(batch_next(&r, &p, &len), BATCH_ERR_TOO_LONG);
	/* framing: length 0, above the maximum, metadata or packet cut short */
	batch_reader_init(&r, (const uint8_t *)"\x80\x00\x01\x01\x00\x10", 6);
	CHECK_EQ_INT(batch_next_record(&r, true, &rec), BATCH_ERR_OFFLOAD);
	CHECK_EQ_INT(batch_next_record(&r, true, &rec), BATCH_ERR_OFFLOAD);
	body[0] = (uint8_t)((MQTTIP_OFFLOAD_RECORD_FLAG | (MQTTIP_OFFLOAD_MAX_PACKET + 1)) >> 8);
	body[1] = (uint8_t)(MQTTIP_OFFLOAD_MAX_PACKET + 1);
	batch_reader_init(&r, body, sizeof(body));
	CHECK_EQ_INT(batch_next_record(&r, true, &rec), BATCH_ERR_OFFLOAD);
	batch_reader_init(&r, (const uint8_t *)"\x80\x01\x01\x01\x00", 5);
	CHECK_EQ_INT(batch_next_record(&r, true, &rec), BATCH_ERR_TRUNCATED);
	batch_reader_init(&r, (const uint8_t *)"\x80\x02\x01\x01\x00\x10\x45", 7);
	CHECK_EQ_INT(batch_next_record(&r, true, &rec), BATCH_ERR_TRUNCATED);
	/* the largest one fills a body exactly; the writer refuses one byte more, or no room */
	CHECK_EQ_INT(
	    batch_append_offload(body, sizeof(body), 0, big, MQTTIP_OFFLOAD_MAX_PACKET, 1, 1, 1000),
	    MQTTIP_MAX_BODY);
	CHECK_EQ_INT(batch_append_offload(body, sizeof(body), 0, big, MQTTIP_OFFLOAD_MAX_PACKET + 1,
					  1, 1, 1000),
		     0);
	CHECK_EQ_INT(batch_append_offload(body, sizeof(body), 0, big, 0, 1, 1, 1000), 0);
	CHECK_EQ_INT(
	    batch_append_offload(body, sizeof(body), 1, big, MQTTIP_OFFLOAD_MAX_PACKET, 1, 1, 1000),
	    0);
	batch_reader_init(&r, body, MQTTIP_MAX_BODY);
	CHECK_EQ_INT(batch_next_record(&r, true, &rec), 1);
	CHECK_EQ_INT(rec.len, MQTTIP_OFFLOAD_MAX_PACKET);
	CHECK_EQ_INT(batch_next_record(&r, true, &rec), 0);
	/* a packet read where a plain record would put it moves for an offload record */
	memcpy(body + 2, "moved", 5);
	CHECK_EQ_INT(batch_append_offload(body, sizeof(body), 0, body + 2, 5, 0, 1, 0), 11);
	CHECK_MEM(body + 6, "moved", 5);
}

int main(void)
{
	test_append_bytes();
	test_append_limits();
	test_append_in_place();
	test_read();
	test_read_malformed();
	test_roundtrip();
	test_offload();
	return check_done();
}
