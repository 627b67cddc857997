/* test_gso.c - super-packets (common/gso.c): the Internet checksum against RFC 1071's example,
 * what gso_check accepts and refuses, segmentation into complete packets and into smaller
 * super-packets, and coalescing back, checked against packets built here by hand. */
#include "check.h"
#include "gso.h"

#include <stdlib.h>

#define TCP 6
#define UDP 17

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* An IP packet of version v carrying proto with an L4 header of l4 bytes (TCP: data offset from it)
 * and payload bytes (i * 7 + 3); checksums: IPv4 header complete, L4 field the pseudo-header sum
 * (partial, as a TUN device with offloads reads it) or complete. Returns the length. */
static size_t make(uint8_t *p, int v, uint8_t proto, size_t l4, size_t payload, bool partial)
{
	size_t ip = v == 4 ? 20 : 40, len = ip + l4 + payload;
	struct gso_info g = {0};

	memset(p, 0, ip + l4);
	if (v == 4) {
		p[0] = 0x45;
		put16(p + 2, (unsigned)len);
		put16(p + 4, 0x1234);
		put16(p + 6, 0x4000); /* DF */
		p[8] = 64;
		p[9] = proto;
		memcpy(p + 12, "\x0a\x00\x01\x01\x0a\x00\x01\x02", 8);
		put16(p + 10, (uint16_t)~gso_fold(gso_sum(0, p, 20)));
	} else {
		p[0] = 0x60;
		put16(p + 4, (unsigned)(len - 40));
		p[6] = proto;
		p[7] = 64;
		p[8] = 0xfd;
		p[23] = 1;
		p[24] = 0xfd;
		p[39] = 2;
	}
	put16(p + ip, 40000);
	put16(p + ip + 2, 5201);
	if (proto == TCP) {
		put32(p + ip + 4, 1000); /* seq */
		put32(p + ip + 8, 77);	 /* ack */
		p[ip + 12] = (uint8_t)(l4 / 4 << 4);
		p[ip + 13] = 0x18; /* ACK PSH */
		put16(p + ip + 14, 500);
		for (size_t i = 20; i < l4; i++)
			p[ip + i] = (uint8_t)(i == 20 ? 1 : 8); /* NOPs, then a fake option */
	} else {
		put16(p + ip + 4, (unsigned)(l4 + payload));
	}
	for (size_t i = 0; i < payload; i++)
		p[ip + l4 + i] = (uint8_t)(i * 7 + 3);
	g.version = (uint8_t)v;
	g.protocol = proto;
	g.l4_off = (uint16_t)ip;
	g.csum_off = proto == TCP ? 16 : 6;
	put16(p + ip + g.csum_off, gso_fold(gso_pseudo_sum(p, (uint8_t)v, proto, l4 + payload)));
	if (!partial)
		gso_complete(p, len, &g);
	return len;
}

static bool l4_ok(const uint8_t *p, size_t len, int v)
{
	size_t ip = v == 4 ? 20 : 40;
	uint8_t proto = v == 4 ? p[9] : p[6];

	return gso_fold(gso_sum(gso_pseudo_sum(p, (uint8_t)v, proto, len - ip), p + ip,
				len - ip)) == 0xffff;
}

static void test_checksum(void)
{
	/* RFC 1071 section 3's example: the sum of these words is ddf2 */
	const uint8_t w[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

	CHECK_EQ_INT(gso_fold(gso_sum(0, w, sizeof(w))), 0xddf2);
	/* an odd length pads with a zero byte */
	CHECK_EQ_INT(gso_fold(gso_sum(0, w, 3)), 0x0001 + 0xf200);
}

static struct gso_info claim(uint8_t type, uint8_t flags, uint16_t size)
{
	struct gso_info g = {0};

	g.type = type;
	g.flags = flags;
	g.size = size;
	return g;
}

static void test_check_accepts(void)
{
	static uint8_t p[70000];
	struct gso_info g;
	size_t len = make(p, 4, TCP, 32, 10 * 1348 + 100, true);

	g = claim(MQTTIP_GSO_TCP, MQTTIP_GSO_FLAG_CSUM, 1348);
	CHECK_EQ_INT(gso_check(p, len, &g), 0);
	CHECK_EQ_INT(g.version, 4);
	CHECK_EQ_INT(g.l4_off, 20);
	CHECK_EQ_INT(g.csum_off, 16);
	CHECK_EQ_INT(g.hdr_len, 52);
	CHECK_EQ_INT(g.segments, 11);
	CHECK_EQ_INT(g.last_size, 100);
	len = make(p, 6, TCP, 20, 3 * 1200, true);
	g = claim(MQTTIP_GSO_TCP, MQTTIP_GSO_FLAG_CSUM, 1200);
	CHECK_EQ_INT(gso_check(p, len, &g), 0);
	CHECK_EQ_INT(g.hdr_len, 60);
	CHECK_EQ_INT(g.segments, 3);
	CHECK_EQ_INT(g.last_size, 1200);
	len = make(p, 4, UDP, 8, 5000, true);
	g = claim(MQTTIP_GSO_UDP, MQTTIP_GSO_FLAG_CSUM, 1000);
	CHECK_EQ_INT(gso_check(p, len, &g), 0);
	CHECK_EQ_INT(g.hdr_len, 28);
	CHECK_EQ_INT(g.segments, 5);
	/* a plain packet, and one with a partial checksum */
	len = make(p, 4, TCP, 20, 100, false);
	g = claim(MQTTIP_GSO_NONE, 0, 0);
	CHECK_EQ_INT(gso_check(p, len, &g), 0);
	CHECK_EQ_INT(g.segments, 1);
	g = claim(MQTTIP_GSO_NONE, MQTTIP_GSO_FLAG_CSUM, 0);
	CHECK_EQ_INT(gso_check(p, len, &g), 0);
	CHECK_EQ_INT(g.l4_off, 20);
	/* IPv6 with a destination options header before TCP: the header length counts it */
	{
		uint8_t q[2000];

		len = make(q, 6, TCP, 20, 2000 - 40 - 20 - 16, true);
		memmove(q + 56, q + 40, len - 40);
		memset(q + 40, 0, 16);
		q[40] = TCP;
		q[41] = 1; /* 16 bytes */
		q[6] = 60;
		len += 16;
		put16(q + 4, (unsigned)(len - 40));
		g = claim(MQTTIP_GSO_TCP, MQTTIP_GSO_FLAG_CSUM, 600);
		CHECK_EQ_INT(gso_check(q, len, &g), 0);
		CHECK_EQ_INT(g.l4_off, 56);
		CHECK_EQ_INT(g.hdr_len, 76);
	}
}

static void test_check_refuses(void)
{
	static uint8_t p[70000];
	struct gso_info g;
	size_t len = make(p, 4, TCP, 20, 4000, true);

	g = claim(MQTTIP_GSO_TCP, 0, 1000); /* a super-packet's checksum is partial */
	CHECK_EQ_INT(gso_check(p, len, &g), GSO_ERR_META);
	g = claim(3, MQTTIP_GSO_FLAG_CSUM, 1000);
	CHECK_EQ_INT(gso_check(p, len, &g), GSO_ERR_META);
	g = claim(MQTTIP_GSO_TCP, MQTTIP_GSO_FLAG_CSUM | 0x40, 1000);
	CHECK_EQ_INT(gso_check(p, len, &g), GSO_ERR_META);
	g = claim(MQTTIP_GSO_NONE, 0, 1000); /* a size without a type */
	CHECK_EQ_INT(gso_check(p, len, &g), GSO_ERR_META);
	g = claim(MQTTIP_GSO_NONE, 0, 0); /* plain, but longer than an IP packet may be */
	CHECK_EQ_INT(gso_check(p, len, &g), GSO_ERR_SIZE);
	g = claim(MQTTIP_GSO_TCP, MQTTIP_GSO_FLAG_CSUM, 0);
	CHECK_EQ_INT(gso_check(p, len, &g), GSO_ERR_SIZE);
	g = claim(MQTTIP_GSO_TCP, MQTTIP_GSO_FLAG_CSUM, 1461); /* 40 + 1461: a segment of 1501 */
	CHECK_EQ_INT(gso_check(p, len, &g), GSO_ERR_SIZE);
	g = claim(MQTTIP_GSO_TCP, MQTTIP_GSO_FLAG_CSUM, 1460);
	CHECK_EQ_INT(gso_check(p, len, &g), 0);
	g = claim(MQTTIP_GSO_TCP, MQTTIP_GSO_FLAG_CSUM, 62); /* 65 segments */
	CHECK_EQ_INT(gso_check(p, len, &g), GSO_ERR_SIZE);
	g = claim(MQTTIP_GSO_TCP, MQTTIP_GSO_FLAG_CSUM, 63); /* 64 */
	CHECK_EQ_INT(gso_check(p, len, &g), 0);
	g = claim(MQTTIP_GSO_UDP, MQTTIP_GSO_FLAG_CSUM, 1000); /* the packet is TCP */
	CHECK_EQ_INT(gso_check(p, len, &g), GSO_ERR_L4);
	g = claim(MQTTIP_GSO_TCP, MQTTIP_GSO_FLAG_CSUM, 1000);
	CHECK_EQ_INT(gso_check(p, len - 1, &g), GSO_ERR_IP); /* total length is not the length */
	p[20 + 13] |= 0x02;				     /* SYN */
	CHECK_EQ_INT(gso_check(p, len, &g), GSO_ERR_L4);
	p[20 + 13] &= (uint8_t)~0x02;
	put16(p + 6, 0x2000); /* more fragments */
	CHECK_EQ_INT(gso_check(p, len, &g), GSO_ERR_L4);
	put16(p + 6, 0x4000);
	p[20 + 12] = 0xf0; /* a 60-byte TCP header */
	CHECK_EQ_INT(gso_check(p, 60, &g), GSO_ERR_IP);
	put16(p + 2, 59);
	CHECK_EQ_INT(gso_check(p, 59, &g), GSO_ERR_L4); /* the header runs past the packet */
	/* no payload */
	len = make(p, 4, TCP, 20, 0, true);
	g = claim(MQTTIP_GSO_TCP, MQTTIP_GSO_FLAG_CSUM, 1000);
	CHECK_EQ_INT(gso_check(p, len, &g), GSO_ERR_SIZE);
	/* UDP whose length field is not the packet's */
	len = make(p, 6, UDP, 8, 3000, true);
	g = claim(MQTTIP_GSO_UDP, MQTTIP_GSO_FLAG_CSUM, 1000);
	CHECK_EQ_INT(gso_check(p, len, &g), 0);
	put16(p + 44, 1008);
	CHECK_EQ_INT(gso_check(p, len, &g), GSO_ERR_SIZE);
	/* IPv6 with a fragment header: no TCP header to find */
	len = make(p, 6, TCP, 20, 3000, true);
	p[6] = 44;
	CHECK_EQ_INT(gso_check(p, len, &g), GSO_ERR_L4);
}

/* Every complete segment is a valid packet; their payloads, in order, are the original's. */
static void segments_ok(const uint8_t *p, size_t len, int v, uint8_t proto, size_t l4,
			uint16_t size)
{
	static uint8_t out[MQTTIP_MAX_IP_PACKET], joined[70000];
	struct gso_info g =
	    claim(proto == TCP ? MQTTIP_GSO_TCP : MQTTIP_GSO_UDP, MQTTIP_GSO_FLAG_CSUM, size);
	size_t ip = v == 4 ? 20 : 40, hdr = ip + l4, at = 0;

	CHECK_EQ_INT(gso_check(p, len, &g), 0);
	for (unsigned i = 0; i < g.segments; i++) {
		size_t n = gso_build(p, &g, i, 1, true, out);
		bool last = i + 1 == g.segments;

		CHECK(n <= MQTTIP_MAX_IP_PACKET);
		CHECK_EQ_INT(n, hdr + (last ? g.last_size : size));
		CHECK(l4_ok(out, n, v));
		if (v == 4) {
			CHECK_EQ_INT(get16(out + 2), n);
			CHECK_EQ_INT(get16(out + 4), 0x1234 + i);
			CHECK_EQ_INT(gso_fold(gso_sum(0, out, 20)), 0xffff);
		} else {
			CHECK_EQ_INT(get16(out + 4), n - 40);
		}
		if (proto == TCP) {
			CHECK_EQ_INT(get32(out + ip + 4), 1000 + i * size);
			CHECK_EQ_INT(out[ip + 13] & 0x08, last ? 0x08 : 0); /* PSH on the last */
			CHECK_MEM(out + ip + 20, p + ip + 20, l4 - 20);	    /* options kept */
		} else {
			CHECK_EQ_INT(get16(out + ip + 4), n - ip);
		}
		memcpy(joined + at, out + hdr, n - hdr);
		at += n - hdr;
	}
	CHECK_EQ_INT(at, len - hdr);
	CHECK_MEM(joined, p + hdr, at);
}

static void test_segment(void)
{
	static uint8_t p[70000];
	size_t len;

	len = make(p, 4, TCP, 32, 10 * 1348 + 100, true);
	segments_ok(p, len, 4, TCP, 32, 1348);
	len = make(p, 6, TCP, 20, 5 * 1220, true);
	segments_ok(p, len, 6, TCP, 20, 1220);
	len = make(p, 4, UDP, 8, 4 * 1372 + 1, true);
	segments_ok(p, len, 4, UDP, 8, 1372);
	len = make(p, 6, UDP, 8, 3 * 1000, true);
	segments_ok(p, len, 6, UDP, 8, 1000);
	/* CWR on the first segment only, FIN on the last only */
	len = make(p, 4, TCP, 20, 3 * 1000, true);
	p[20 + 13] = 0x80 | 0x10 | 0x01;
	{
		uint8_t out[MQTTIP_MAX_IP_PACKET];
		struct gso_info g = claim(MQTTIP_GSO_TCP, MQTTIP_GSO_FLAG_CSUM, 1000);

		CHECK_EQ_INT(gso_check(p, len, &g), 0);
		gso_build(p, &g, 0, 1, true, out);
		CHECK_EQ_INT(out[33], 0x90);
		gso_build(p, &g, 1, 1, true, out);
		CHECK_EQ_INT(out[33], 0x10);
		gso_build(p, &g, 2, 1, true, out);
		CHECK_EQ_INT(out[33], 0x11);
	}
}

/* A super-packet cut into smaller super-packets: each carries the pseudo-header sum of its own
 * length, and cut again into segments gives the same packets as the original. */
static void test_chunks(void)
{
	static uint8_t p[70000], chunk[20000], a[MQTTIP_MAX_IP_PACKET], b[MQTTIP_MAX_IP_PACKET];
	size_t len = make(p, 4, TCP, 32, 30 * 1348 + 7, true);
	struct gso_info g = claim(MQTTIP_GSO_TCP, MQTTIP_GSO_FLAG_CSUM, 1348);
	unsigned seg = 0;

	CHECK_EQ_INT(gso_check(p, len, &g), 0);
	for (unsigned first = 0; first < g.segments; first += 11) {
		unsigned count = g.segments - first < 11 ? g.segments - first : 11;
		size_t n = gso_build(p, &g, first, count, false, chunk);
		struct gso_info h = claim(MQTTIP_GSO_TCP, MQTTIP_GSO_FLAG_CSUM, 1348);

		CHECK(n <= MQTTIP_OFFLOAD_MAX_PACKET);
		CHECK_EQ_INT(gso_check(chunk, n, &h), 0);
		CHECK_EQ_INT(h.segments, count);
		CHECK_EQ_INT(get16(chunk + 36), gso_fold(gso_pseudo_sum(chunk, 4, TCP, n - 20)));
		for (unsigned i = 0; i < count; i++, seg++) {
			size_t x = gso_build(p, &g, seg, 1, true, a);
			size_t y = gso_build(chunk, &h, i, 1, true, b);

			CHECK_EQ_INT(x, y);
			CHECK_MEM(a, b, x);
		}
	}
	CHECK_EQ_INT(seg, g.segments);
}

/* Segments of a super-packet, complete, coalesced back: the chunks are the super-packet. */
static void test_merge(void)
{
	static uint8_t p[70000], segs[40][MQTTIP_MAX_IP_PACKET], whole[70000];
	size_t len = make(p, 4, TCP, 32, 9 * 1348 + 500, true), n[40], at = 0;
	struct gso_info g = claim(MQTTIP_GSO_TCP, MQTTIP_GSO_FLAG_CSUM, 1348), m_info;
	static struct gso_merge m;
	size_t chunks;

	CHECK_EQ_INT(gso_check(p, len, &g), 0);
	for (unsigned i = 0; i < g.segments; i++)
		n[i] = gso_build(p, &g, i, 1, true, segs[i]);
	CHECK(gso_merge_start(&m, segs[0], n[0]));
	for (unsigned i = 1; i < g.segments; i++)
		CHECK(gso_merge_add(&m, segs[i], n[i]));
	chunks = gso_merge_finish(&m, &m_info);
	CHECK_EQ_INT(chunks, g.segments);
	CHECK_EQ_INT(m.total, len);
	CHECK_EQ_INT(m_info.type, MQTTIP_GSO_TCP);
	CHECK_EQ_INT(m_info.size, 1348);
	CHECK_EQ_INT(m_info.hdr_len, 52);
	CHECK_EQ_INT(m_info.segments, g.segments);
	for (size_t i = 0; i < chunks; i++) {
		memcpy(whole + at, m.chunks[i].p, m.chunks[i].len);
		at += m.chunks[i].len;
	}
	CHECK_EQ_INT(at, len);
	/* the headers are the super-packet's, but for the IP ID: the first segment's */
	CHECK_MEM(whole, p, 4);
	CHECK_MEM(whole + 6, p + 6, len - 6);
}

static void test_merge_refuses(void)
{
	static uint8_t p[20000], s[8][MQTTIP_MAX_IP_PACKET];
	size_t len = make(p, 4, TCP, 20, 4 * 1000, true), n[8];
	struct gso_info g = claim(MQTTIP_GSO_TCP, MQTTIP_GSO_FLAG_CSUM, 1000), info;
	static struct gso_merge m;

	CHECK_EQ_INT(gso_check(p, len, &g), 0);
	for (unsigned i = 0; i < 4; i++)
		n[i] = gso_build(p, &g, i, 1, true, s[i]);
	/* a gap in the sequence */
	CHECK(gso_merge_start(&m, s[0], n[0]));
	CHECK(!gso_merge_add(&m, s[2], n[2]));
	CHECK(gso_merge_add(&m, s[1], n[1]));
	/* a checksum that does not verify: the kernel must see it alone */
	s[2][100] ^= 1;
	CHECK(!gso_merge_add(&m, s[2], n[2]));
	CHECK(!gso_merge_start(&m, s[2], n[2]));
	s[2][100] ^= 1;
	/* another flow (port), another TTL */
	CHECK(gso_merge_start(&m, s[0], n[0]));
	memcpy(s[4], s[1], n[1]);
	s[4][21] ^= 1;
	CHECK(!gso_merge_add(&m, s[4], n[1]));
	memcpy(s[4], s[1], n[1]);
	s[4][8] = 1;
	CHECK(!gso_merge_add(&m, s[4], n[1]));
	/* a longer segment than the first */
	CHECK(gso_merge_start(&m, s[3], n[3])); /* 1000 bytes, with PSH: closed at once */
	CHECK(!gso_merge_add(&m, s[0], n[0]));
	CHECK_EQ_INT(gso_merge_finish(&m, &info), 1);
	CHECK_EQ_INT(info.type, MQTTIP_GSO_NONE);
	/* no payload, SYN, no DF */
	{
		uint8_t q[100];
		size_t k = make(q, 4, TCP, 20, 0, false);

		CHECK(!gso_merge_start(&m, q, k));
		k = make(q, 4, TCP, 20, 10, false);
		CHECK(gso_merge_start(&m, q, k));
		q[33] |= 0x02;
		CHECK(!gso_merge_start(&m, q, k));
		k = make(q, 4, TCP, 20, 10, false);
		put16(q + 6, 0);
		put16(q + 10, 0);
		put16(q + 10, (uint16_t)~gso_fold(gso_sum(0, q, 20)));
		CHECK(!gso_merge_start(&m, q, k));
	}
}

int main(void)
{
	test_checksum();
	test_check_accepts();
	test_check_refuses();
	test_segment();
	test_chunks();
	test_merge();
	test_merge_refuses();
	return check_done();
}
