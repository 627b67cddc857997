/* test_iphdr.c - IP header checks on hand-built IPv4/IPv6 headers and on the IPv4 packets captured
 * from the reference MQTT_VPN (vectors/mqtt_vpn/plaintext.txt: "<topic> <packet hex>" per line,
 * each packet's destination is the topic's address). The vectors file is argv[1], or else
 * MQTTIP_VECTORS_DIR/mqtt_vpn/plaintext.txt. */
#include "check.h"
#include "iphdr.h"
#include "topic.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ICMP echo 10.0.1.1 -> 10.0.1.2, total length 28, header checksum as a real stack writes it */
static const uint8_t v4_icmp[28] = {
    0x45, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00, 0x0a, 0x00,
    0x01, 0x01, 0x0a, 0x00, 0x01, 0x02, 0x08, 0x00, 0xf7, 0xff, 0x00, 0x00, 0x00, 0x00,
};

/* UDP 2001:db8::1 -> ff02::1, payload length 8 */
static const uint8_t v6_udp[48] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x11, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78, 0x00, 0x08, 0x00, 0x00,
};

/* Parses a heap copy of exactly len bytes, so an over-read is caught by AddressSanitizer. */
static int parse_exact(const uint8_t *pkt, size_t len, struct iphdr_info *info)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, pkt, len);
	rc = iphdr_parse(copy, len, info);
	free(copy);
	return rc;
}

static void test_v4(void)
{
	uint8_t p[80];
	struct iphdr_info info;

	CHECK_EQ_INT(parse_exact(v4_icmp, sizeof(v4_icmp), &info), IPHDR_OK);
	CHECK_EQ_INT(info.version, 4);
	CHECK_EQ_INT(info.protocol, 1);
	CHECK_EQ_INT(info.header_len, 20);
	CHECK_EQ_INT(info.total_len, 28);
	CHECK(netaddr_equal(&info.src, &(struct netaddr){4, {10, 0, 1, 1}}));
	CHECK(netaddr_equal(&info.dst, &(struct netaddr){4, {10, 0, 1, 2}}));

	/* trailing bytes are allowed and reported through total_len */
	memset(p, 0xee, sizeof(p));
	memcpy(p, v4_icmp, sizeof(v4_icmp));
	CHECK_EQ_INT(parse_exact(p, 40, &info), IPHDR_OK);
	CHECK_EQ_INT(info.total_len, 28);

	/* every length below the total is refused */
	for (size_t n = 0; n < sizeof(v4_icmp); n++) {
		int rc = parse_exact(v4_icmp, n, &info);

		CHECK_EQ_INT(rc, n == 0 || n < 20 ? IPHDR_ERR_SHORT : IPHDR_ERR_TRUNCATED);
		CHECK_EQ_INT(info.version, 0);
	}

	/* IHL: below 5 refused; options (IHL 6 = 24 bytes) accepted */
	memcpy(p, v4_icmp, sizeof(v4_icmp));
	p[0] = 0x44;
	CHECK_EQ_INT(parse_exact(p, 28, &info), IPHDR_ERR_IHL);
	p[0] = 0x40;
	CHECK_EQ_INT(parse_exact(p, 28, &info), IPHDR_ERR_IHL);
	p[0] = 0x46;
	CHECK_EQ_INT(parse_exact(p, 28, &info), IPHDR_OK);
	CHECK_EQ_INT(info.header_len, 24);
	p[0] = 0x4f; /* 60-byte header with only 28 bytes given */
	CHECK_EQ_INT(parse_exact(p, 28, &info), IPHDR_ERR_TRUNCATED);
	p[3] = 60;
	CHECK_EQ_INT(parse_exact(p, 60, &info), IPHDR_OK);
	CHECK_EQ_INT(info.header_len, 60);
	CHECK_EQ_INT(info.total_len, 60);

	/* total length below the header, or past the bytes given */
	memcpy(p, v4_icmp, sizeof(v4_icmp));
	p[3] = 19;
	CHECK_EQ_INT(parse_exact(p, 28, &info), IPHDR_ERR_TOTAL_LEN);
	p[3] = 0;
	CHECK_EQ_INT(parse_exact(p, 28, &info), IPHDR_ERR_TOTAL_LEN);
	p[3] = 20;
	CHECK_EQ_INT(parse_exact(p, 28, &info), IPHDR_OK);
	CHECK_EQ_INT(info.total_len, 20);
	p[3] = 29;
	CHECK_EQ_INT(parse_exact(p, 28, &info), IPHDR_ERR_TRUNCATED);
	p[2] = 0xff;
	p[3] = 0xff;
	CHECK_EQ_INT(parse_exact(p, 28, &info), IPHDR_ERR_TRUNCATED);

	/* versions other than 4 and 6 */
	for (unsigned v = 0; v < 16; v++) {
		if (v == 4 || v == 6)
			continue;
		memcpy(p, v4_icmp, sizeof(v4_icmp));
		p[0] = (uint8_t)(v << 4 | 5);
		CHECK_EQ_INT(parse_exact(p, 28, &info), IPHDR_ERR_VERSION);
	}
}

static void test_v6(void)
{
	uint8_t p[80];
	struct iphdr_info info;
	static const uint8_t ff02_1[16] = {0xff, 0x02, [15] = 0x01};
	static const uint8_t db8_1[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x01};

	CHECK_EQ_INT(parse_exact(v6_udp, sizeof(v6_udp), &info), IPHDR_OK);
	CHECK_EQ_INT(info.version, 6);
	CHECK_EQ_INT(info.protocol, 17);
	CHECK_EQ_INT(info.header_len, 40);
	CHECK_EQ_INT(info.total_len, 48);
	CHECK_EQ_INT(info.src.family, 6);
	CHECK_MEM(info.src.bytes, db8_1, 16);
	CHECK_EQ_INT(info.dst.family, 6);
	CHECK_MEM(info.dst.bytes, ff02_1, 16);

	for (size_t n = 0; n < sizeof(v6_udp); n++)
		CHECK_EQ_INT(parse_exact(v6_udp, n, &info),
			     n < 40 ? IPHDR_ERR_SHORT : IPHDR_ERR_TRUNCATED);

	memset(p, 0, sizeof(p));
	memcpy(p, v6_udp, sizeof(v6_udp));
	CHECK_EQ_INT(parse_exact(p, sizeof(p), &info), IPHDR_OK);
	CHECK_EQ_INT(info.total_len, 48);

	/* payload length 0: fine for "no next header" (59), a jumbogram with hop-by-hop (0) */
	p[4] = 0;
	p[5] = 0;
	p[6] = 59;
	CHECK_EQ_INT(parse_exact(p, 40, &info), IPHDR_OK);
	CHECK_EQ_INT(info.total_len, 40);
	CHECK_EQ_INT(info.protocol, 59);
	p[6] = 0;
	CHECK_EQ_INT(parse_exact(p, sizeof(p), &info), IPHDR_ERR_JUMBOGRAM);

	/* lengths whose total does not fit 16 bits */
	p[6] = 17;
	p[4] = 0xff;
	p[5] = 0xd8; /* 65496 + 40 = 65536 */
	CHECK_EQ_INT(parse_exact(p, sizeof(p), &info), IPHDR_ERR_TOO_LONG);
	p[5] = 0xd7; /* 65495 + 40 = 65535, but only 80 bytes given */
	CHECK_EQ_INT(parse_exact(p, sizeof(p), &info), IPHDR_ERR_TRUNCATED);
}

static void test_strerror(void)
{
	const int errs[] = {IPHDR_OK,
			    IPHDR_ERR_SHORT,
			    IPHDR_ERR_VERSION,
			    IPHDR_ERR_IHL,
			    IPHDR_ERR_TOTAL_LEN,
			    IPHDR_ERR_TRUNCATED,
			    IPHDR_ERR_JUMBOGRAM,
			    IPHDR_ERR_TOO_LONG};
	const char *unknown = iphdr_strerror(-100);

	/* every error has its own text */
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		CHECK(iphdr_strerror(errs[i]) != NULL);
		CHECK(strcmp(iphdr_strerror(errs[i]), unknown) != 0);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(iphdr_strerror(errs[i]), iphdr_strerror(errs[j])) != 0);
	}
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void test_vectors(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	unsigned packets = 0;

	CHECK(f != NULL);
	if (f == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *space = strchr(line, ' ');
		uint8_t pkt[2048];
		size_t n = 0;
		struct topic t;
		struct iphdr_info info;

		if (space == NULL)
			continue;
		for (char *h = space + 1; hex_nibble(h[0]) >= 0 && hex_nibble(h[1]) >= 0; h += 2) {
			if (n == sizeof(pkt))
				break;
			pkt[n++] = (uint8_t)(hex_nibble(h[0]) << 4 | hex_nibble(h[1]));
		}
		CHECK_EQ_INT(topic_parse("mqttip", line, (size_t)(space - line), &t), TOPIC_LEGACY);
		CHECK_EQ_INT(parse_exact(pkt, n, &info), IPHDR_OK);
		CHECK_EQ_INT(info.version, 4);
		CHECK_EQ_INT(info.protocol, 1); /* ICMP echo */
		CHECK_EQ_INT(info.header_len, 20);
		CHECK_EQ_INT(info.total_len, n);
		CHECK(netaddr_equal(&info.dst, &t.dst));
		/* the two nodes are 10.0.1.1 and 10.0.1.2: the source is the other one */
		CHECK(info.src.family == 4 && info.src.bytes[3] == 3 - t.dst.bytes[3]);
		CHECK_EQ_INT(parse_exact(pkt, n - 1, &info), IPHDR_ERR_TRUNCATED);
		packets++;
	}
	fclose(f);
	CHECK(packets >= 4);
}

int main(int argc, char **argv)
{
	test_v4();
	test_v6();
	test_strerror();
	test_vectors(argc > 1 ? argv[1] : MQTTIP_VECTORS_DIR "/mqtt_vpn/plaintext.txt");
	return check_done();
}
