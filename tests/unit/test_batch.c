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

int main(void)
{
	test_append_bytes();
	test_append_limits();
	test_append_in_place();
	test_read();
	test_read_malformed();
	test_roundtrip();
	return check_done();
}
