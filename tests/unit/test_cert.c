/* test_cert.c - node certificates: the layout is checked against bytes the test assembles itself
 * (not with the module's encoder), signatures with plain libsodium calls, and every refusal against
 * its own error code. */
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "cert.h"
#include "check.h"

static uint8_t ca_pk[crypto_sign_PUBLICKEYBYTES], ca_sk[crypto_sign_SECRETKEYBYTES];
static uint8_t other_pk[crypto_sign_PUBLICKEYBYTES], other_sk[crypto_sign_SECRETKEYBYTES];

static struct netaddr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct netaddr n = {.family = 4, .bytes = {a, b, c, d}};

	return n;
}

/* IPv6 with the first two groups and the last group given, the rest zero */
static struct netaddr v6(uint16_t g0, uint16_t g1, uint16_t g7)
{
	struct netaddr n = {.family = 6};

	n.bytes[0] = (uint8_t)(g0 >> 8);
	n.bytes[1] = (uint8_t)g0;
	n.bytes[2] = (uint8_t)(g1 >> 8);
	n.bytes[3] = (uint8_t)g1;
	n.bytes[14] = (uint8_t)(g7 >> 8);
	n.bytes[15] = (uint8_t)g7;
	return n;
}

static struct cert_prefix pfx(struct netaddr a, uint8_t len)
{
	struct cert_prefix p = {.addr = a, .len = len};

	return p;
}

/* name "node-1"; 10.0.1.2/24 and fd00::2/64; routes 192.168.5.0/24 and fd10::/48 */
static void sample_cert(struct cert *c)
{
	memset(c, 0, sizeof *c);
	strcpy(c->name, "node-1");
	c->n_addrs = 2;
	c->addrs[0] = pfx(v4(10, 0, 1, 2), 24);
	c->addrs[1] = pfx(v6(0xfd00, 0, 2), 64);
	c->n_routes = 2;
	c->routes[0] = pfx(v4(192, 168, 5, 0), 24);
	c->routes[1] = pfx(v6(0xfd10, 0, 0), 48);
	for (unsigned i = 0; i < sizeof c->x25519_public; i++)
		c->x25519_public[i] = (uint8_t)(0xa0 + i);
	c->not_before = 1000;
	c->not_after = 2000;
	c->serial = UINT64_C(0x0102030405060708);
}

/* The test's own serializer: a certificate is assembled field by field from raw values, so
 * malformed variants can be built and then signed like real ones. */
struct builder {
	uint8_t buf[1024];
	size_t len;
};

static void put(struct builder *b, const void *p, size_t n)
{
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static void put_byte(struct builder *b, uint8_t v)
{
	b->buf[b->len++] = v;
}

static void put_be64(struct builder *b, uint64_t v)
{
	for (int shift = 56; shift >= 0; shift -= 8)
		put_byte(b, (uint8_t)(v >> shift));
}

static void put_entry(struct builder *b, uint8_t family, uint8_t len, const uint8_t *addr)
{
	put_byte(b, family);
	put_byte(b, len);
	put(b, addr, family == 6 ? 16 : 4);
}

/* Appends x25519 key (0xa0..), not_before, not_after, serial, the key id of key_pk and an Ed25519
 * signature by key_sk over everything before it. */
static void finish(struct builder *b, uint64_t nb, uint64_t na, const uint8_t *key_pk,
		   const uint8_t *key_sk)
{
	uint8_t digest[crypto_hash_sha256_BYTES];

	for (unsigned i = 0; i < 32; i++)
		put_byte(b, (uint8_t)(0xa0 + i));
	put_be64(b, nb);
	put_be64(b, na);
	put_be64(b, UINT64_C(0x0102030405060708));
	crypto_hash_sha256(digest, key_pk, crypto_sign_PUBLICKEYBYTES);
	put(b, digest, 8);
	crypto_sign_detached(b->buf + b->len, NULL, b->buf, b->len, key_sk);
	b->len += crypto_sign_BYTES;
}

static const uint8_t addr_10_0_1_2[4] = {10, 0, 1, 2};
static const uint8_t addr_fd00_2[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
static const uint8_t addr_192_168_5_0[4] = {192, 168, 5, 0};
static const uint8_t addr_fd10[16] = {0xfd, 0x10};

/* The bytes sample_cert() must encode to, before the signature */
static void build_sample(struct builder *b, const uint8_t *key_pk, const uint8_t *key_sk)
{
	b->len = 0;
	put(b, "MQC", 3);
	put_byte(b, 1);
	put_byte(b, 6);
	put(b, "node-1", 6);
	put_byte(b, 2);
	put_entry(b, 4, 24, addr_10_0_1_2);
	put_entry(b, 6, 64, addr_fd00_2);
	put_byte(b, 2);
	put_entry(b, 4, 24, addr_192_168_5_0);
	put_entry(b, 6, 48, addr_fd10);
	finish(b, 1000, 2000, key_pk, key_sk);
}

static bool prefix_equal(const struct cert_prefix *a, const struct cert_prefix *b)
{
	return a->len == b->len && a->addr.family == b->addr.family &&
	       memcmp(a->addr.bytes, b->addr.bytes, 16) == 0;
}

static bool cert_fields_equal(const struct cert *a, const struct cert *b)
{
	if (strcmp(a->name, b->name) != 0 || a->n_addrs != b->n_addrs ||
	    a->n_routes != b->n_routes || a->not_before != b->not_before ||
	    a->not_after != b->not_after || a->serial != b->serial ||
	    memcmp(a->x25519_public, b->x25519_public, 32) != 0)
		return false;
	for (unsigned i = 0; i < a->n_addrs; i++) {
		if (!prefix_equal(&a->addrs[i], &b->addrs[i]))
			return false;
	}
	for (unsigned i = 0; i < a->n_routes; i++) {
		if (!prefix_equal(&a->routes[i], &b->routes[i]))
			return false;
	}
	return true;
}

static void test_layout_by_hand(void)
{
	struct cert c;
	struct builder b;
	uint8_t out[MQTTIP_CERT_MAX_LEN], digest[crypto_hash_sha256_BYTES];
	int n;

	sample_cert(&c);
	n = cert_encode_sign(&c, ca_sk, out, sizeof out);
	/* 3+1 + 1+6 + 1+(2+4)+(2+16) + 1+(2+4)+(2+16) + 32 + 24 + 8 + 64 */
	CHECK_EQ_INT(n, 189);
	if (n != 189)
		return;
	/* Offsets worked out on paper: x25519 key at 61, times at 93/101, serial 109, key id 117,
	 * signature 125 */
	CHECK_EQ_INT(out[4], 6);
	CHECK_EQ_INT(out[11], 2);
	CHECK_EQ_INT(out[12], 4);
	CHECK_EQ_INT(out[13], 24);
	CHECK_EQ_INT(out[18], 6);
	CHECK_EQ_INT(out[19], 64);
	CHECK_EQ_INT(out[36], 2);
	CHECK_EQ_INT(out[61], 0xa0);
	CHECK_EQ_INT(out[92], 0xbf);
	CHECK_EQ_INT(out[100], 1000 & 0xff);
	CHECK_EQ_INT(out[99], 1000 >> 8);
	CHECK_EQ_INT(out[108], 2000 & 0xff);
	CHECK_EQ_INT(out[109], 0x01);
	CHECK_EQ_INT(out[116], 0x08);
	crypto_hash_sha256(digest, ca_pk, sizeof ca_pk);
	CHECK_MEM(out + 117, digest, 8);
	CHECK_MEM(c.ca_key_id, digest, 8);
	CHECK_MEM(c.signature, out + 125, 64);
	CHECK(crypto_sign_verify_detached(out + 125, out, 125, ca_pk) == 0);

	build_sample(&b, ca_pk, ca_sk);
	CHECK_EQ_INT(b.len, 189);
	CHECK_MEM(out, b.buf, 189 - 64);
	/* Ed25519 is deterministic: the same key over the same bytes gives the same signature */
	CHECK_MEM(out + 125, b.buf + 125, 64);
}

static void test_round_trip(void)
{
	struct cert c, d;
	uint8_t out[MQTTIP_CERT_MAX_LEN];
	int n;

	sample_cert(&c);
	n = cert_encode_sign(&c, ca_sk, out, sizeof out);
	CHECK(n > 0);
	if (n <= 0)
		return;
	CHECK_EQ_INT(cert_decode(out, (size_t)n, &d), CERT_OK);
	CHECK(cert_fields_equal(&c, &d));
	CHECK_MEM(c.ca_key_id, d.ca_key_id, 8);
	CHECK_MEM(c.signature, d.signature, 64);
	memset(&d, 0x55, sizeof d);
	CHECK_EQ_INT(cert_verify(out, (size_t)n, ca_pk, 1500, &d), CERT_OK);
	CHECK(cert_fields_equal(&c, &d));

	/* The largest certificate: 63-char name, 4 IPv6 addresses, 8 IPv6 routes */
	memset(&c, 0, sizeof c);
	memset(c.name, 'x', MQTTIP_CERT_NAME_MAX);
	c.n_addrs = MQTTIP_CERT_MAX_ADDRS;
	for (unsigned i = 0; i < MQTTIP_CERT_MAX_ADDRS; i++)
		c.addrs[i] = pfx(v6(0xfd00, (uint16_t)i, 1), 64);
	c.n_routes = MQTTIP_CERT_MAX_ROUTES;
	for (unsigned i = 0; i < MQTTIP_CERT_MAX_ROUTES; i++)
		c.routes[i] = pfx(v6(0xfd20, (uint16_t)i, 0), 32);
	c.not_before = 0;
	c.not_after = UINT64_MAX;
	n = cert_encode_sign(&c, ca_sk, out, sizeof out);
	CHECK_EQ_INT(n, 4 + 1 + 63 + 1 + 4 * 18 + 1 + 8 * 18 + 32 + 24 + 8 + 64);
	if (n <= 0)
		return;
	CHECK_EQ_INT(cert_verify(out, (size_t)n, ca_pk, UINT64_MAX - 1, &d), CERT_OK);
	CHECK(cert_fields_equal(&c, &d));
	CHECK_EQ_INT(cert_verify(out, (size_t)n, ca_pk, UINT64_MAX, &d), CERT_ERR_EXPIRED);
}

static void test_verify_errors(void)
{
	struct builder b;
	struct cert d;

	build_sample(&b, ca_pk, ca_sk);
	CHECK_EQ_INT(cert_verify(b.buf, b.len, ca_pk, 1000, &d), CERT_OK);
	CHECK_EQ_INT(strcmp(d.name, "node-1"), 0);
	CHECK_EQ_INT(cert_verify(b.buf, b.len, ca_pk, 1999, &d), CERT_OK);
	CHECK_EQ_INT(cert_verify(b.buf, b.len, ca_pk, 999, &d), CERT_ERR_NOT_YET_VALID);
	CHECK_EQ_INT(d.name[0], 0); /* zeroed on failure */
	CHECK_EQ_INT(cert_verify(b.buf, b.len, ca_pk, 0, &d), CERT_ERR_NOT_YET_VALID);
	CHECK_EQ_INT(cert_verify(b.buf, b.len, ca_pk, 2000, &d), CERT_ERR_EXPIRED);
	CHECK_EQ_INT(cert_verify(b.buf, b.len, ca_pk, UINT64_MAX, &d), CERT_ERR_EXPIRED);
	CHECK_EQ_INT(cert_verify(b.buf, b.len, other_pk, 1500, &d), CERT_ERR_WRONG_CA);

	/* Issued by another CA that claims our CA's key id: only the signature catches it */
	b.len = 0;
	put(&b, "MQC\x01\x06node-1\x01", 12);
	put_entry(&b, 4, 24, addr_10_0_1_2);
	put_byte(&b, 0);
	finish(&b, 1000, 2000, ca_pk, other_sk);
	CHECK_EQ_INT(cert_decode(b.buf, b.len, &d), CERT_OK);
	CHECK_EQ_INT(cert_verify(b.buf, b.len, ca_pk, 1500, &d), CERT_ERR_SIGNATURE);
	/* Same bytes re-signed by the right key verify: the failure above was the signature alone
	 */
	b.len -= crypto_sign_BYTES;
	crypto_sign_detached(b.buf + b.len, NULL, b.buf, b.len, ca_sk);
	b.len += crypto_sign_BYTES;
	CHECK_EQ_INT(cert_verify(b.buf, b.len, ca_pk, 1500, &d), CERT_OK);

	/* Expired and wrong CA at once: the CA is checked first */
	build_sample(&b, other_pk, other_sk);
	CHECK_EQ_INT(cert_verify(b.buf, b.len, ca_pk, 5000, &d), CERT_ERR_WRONG_CA);
	CHECK_EQ_INT(cert_verify(b.buf, b.len, other_pk, 5000, &d), CERT_ERR_EXPIRED);
}

/* Every single-byte change, every truncation and any extension is refused. */
static void test_tamper(void)
{
	static const uint8_t masks[] = {0x01, 0x80, 0xff, 0x5a};
	struct builder b;
	struct cert d;
	unsigned accepted = 0, not_malformed_nor_sig = 0;

	build_sample(&b, ca_pk, ca_sk);
	for (size_t i = 0; i < b.len; i++) {
		for (size_t m = 0; m < sizeof masks; m++) {
			int err;

			b.buf[i] ^= masks[m];
			err = cert_verify(b.buf, b.len, ca_pk, 1500, &d);
			b.buf[i] ^= masks[m];
			if (err == CERT_OK)
				accepted++;
			/* only the key id bytes may give WRONG_CA */
			if (err != CERT_ERR_MALFORMED && err != CERT_ERR_SIGNATURE &&
			    !(err == CERT_ERR_WRONG_CA && i >= 117 && i < 125))
				not_malformed_nor_sig++;
		}
	}
	CHECK_EQ_INT(accepted, 0);
	CHECK_EQ_INT(not_malformed_nor_sig, 0);

	for (size_t len = 0; len < b.len; len++)
		CHECK_EQ_INT(cert_verify(b.buf, len, ca_pk, 1500, &d), CERT_ERR_MALFORMED);
	b.buf[b.len] = 0;
	CHECK_EQ_INT(cert_decode(b.buf, b.len + 1, &d), CERT_ERR_MALFORMED);
	CHECK_EQ_INT(cert_verify(b.buf, b.len, ca_pk, 1500, &d), CERT_OK);
}

static void test_addresses(void)
{
	struct cert c;
	struct netaddr a;

	sample_cert(&c);
	a = v4(10, 0, 1, 2);
	CHECK_EQ_INT(cert_check_owns(&c, &a), CERT_OK);
	CHECK_EQ_INT(cert_check_source(&c, &a), CERT_OK);
	/* the node's subnet is not the node's */
	a = v4(10, 0, 1, 3);
	CHECK_EQ_INT(cert_check_owns(&c, &a), CERT_ERR_ADDR_NOT_IN_CERT);
	CHECK_EQ_INT(cert_check_source(&c, &a), CERT_ERR_ADDR_NOT_IN_CERT);
	a = v6(0xfd00, 0, 2);
	CHECK_EQ_INT(cert_check_owns(&c, &a), CERT_OK);
	a = v6(0xfd00, 0, 3);
	CHECK_EQ_INT(cert_check_source(&c, &a), CERT_ERR_ADDR_NOT_IN_CERT);

	/* routes count for sources, never for ownership */
	a = v4(192, 168, 5, 77);
	CHECK_EQ_INT(cert_check_source(&c, &a), CERT_OK);
	CHECK_EQ_INT(cert_check_owns(&c, &a), CERT_ERR_ADDR_NOT_IN_CERT);
	a = v4(192, 168, 5, 255);
	CHECK_EQ_INT(cert_check_source(&c, &a), CERT_OK);
	a = v4(192, 168, 6, 1);
	CHECK_EQ_INT(cert_check_source(&c, &a), CERT_ERR_ADDR_NOT_IN_CERT);
	a = v4(192, 168, 4, 255);
	CHECK_EQ_INT(cert_check_source(&c, &a), CERT_ERR_ADDR_NOT_IN_CERT);
	a = v6(0xfd10, 0, 0x1234);
	CHECK_EQ_INT(cert_check_source(&c, &a), CERT_OK);
	a = v6(0xfd10, 1, 0x1234);
	CHECK_EQ_INT(cert_check_source(&c, &a), CERT_ERR_ADDR_NOT_IN_CERT);
	a = v6(0xfd11, 0, 0);
	CHECK_EQ_INT(cert_check_source(&c, &a), CERT_ERR_ADDR_NOT_IN_CERT);

	/* another family never matches: ::ffff:10.0.1.2 is not 10.0.1.2, and default routes stay
	 * in their family */
	a = v6(0, 0, 0);
	a.bytes[10] = 0xff;
	a.bytes[11] = 0xff;
	memcpy(a.bytes + 12, addr_10_0_1_2, 4);
	CHECK_EQ_INT(cert_check_owns(&c, &a), CERT_ERR_ADDR_NOT_IN_CERT);
	CHECK_EQ_INT(cert_check_source(&c, &a), CERT_ERR_ADDR_NOT_IN_CERT);
	c.n_routes = 1;
	c.routes[0] = pfx(v4(0, 0, 0, 0), 0);
	a = v4(8, 8, 8, 8);
	CHECK_EQ_INT(cert_check_source(&c, &a), CERT_OK);
	a = v6(0x2001, 0xdb8, 1);
	CHECK_EQ_INT(cert_check_source(&c, &a), CERT_ERR_ADDR_NOT_IN_CERT);
	c.routes[0] = pfx(v6(0, 0, 0), 0);
	CHECK_EQ_INT(cert_check_source(&c, &a), CERT_OK);
	a = v4(8, 8, 8, 8);
	CHECK_EQ_INT(cert_check_source(&c, &a), CERT_ERR_ADDR_NOT_IN_CERT);
}

/* The held form (what a node keeps of a peer's certificate) answers every address check and the
 * serial rule as the full certificate does, and keeps no more than it needs. */
static void test_held(void)
{
	struct cert c, d;
	struct cert_held h;
	uint8_t buf[MQTTIP_CERT_MAX_LEN];
	struct netaddr probes[] = {v4(10, 0, 1, 2),    v4(10, 0, 1, 3),	      v4(192, 168, 5, 77),
				   v4(192, 168, 6, 1), v6(0xfd00, 0, 2),      v6(0xfd10, 0, 0x1234),
				   v6(0xfd10, 1, 1),   v4(255, 255, 255, 255)};
	int len;

	sample_cert(&c);
	len = cert_encode_sign(&c, ca_sk, buf, sizeof buf);
	CHECK(len > 0);
	CHECK_EQ_INT(cert_verify(buf, (size_t)len, ca_pk, 1500, &c), CERT_OK);
	cert_hold(&h, &c);
	CHECK(strcmp(h.name, c.name) == 0 && h.serial == c.serial && h.not_after == c.not_after);
	CHECK(memcmp(h.x25519_public, c.x25519_public, MQTTIP_KEY_LEN) == 0);
	for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
		CHECK_EQ_INT(cert_held_owns(&h, &probes[i]), cert_check_owns(&c, &probes[i]));
		CHECK_EQ_INT(cert_held_source(&h, &probes[i]), cert_check_source(&c, &probes[i]));
	}
	/* the serial rule: the same certificate, a renewal, an older one, and another certificate
	 * signed under the same serial (its signature differs in one byte only) */
	d = c;
	CHECK_EQ_INT(cert_held_compare(&h, &d), CERT_SAME);
	d.serial = c.serial + 1;
	CHECK_EQ_INT(cert_held_compare(&h, &d), CERT_NEWER);
	d.serial = c.serial - 1;
	CHECK_EQ_INT(cert_held_compare(&h, &d), CERT_ERR_OLDER);
	for (size_t i = 0; i < MQTTIP_CERT_SIG_LEN; i++) {
		d = c;
		d.signature[i] ^= 0x01;
		CHECK_EQ_INT(cert_held_compare(&h, &d), CERT_ERR_CONFLICT);
		CHECK_EQ_INT(cert_compare(&c, &d), CERT_ERR_CONFLICT);
	}
	CHECK(sizeof(struct cert_held) + 64 <= sizeof(struct cert));
}

static int encode_variant(struct cert *c)
{
	uint8_t out[MQTTIP_CERT_MAX_LEN];

	return cert_encode_sign(c, ca_sk, out, sizeof out);
}

/* Each case changes one field of the sample and expects `want` from the encoder. */
static void test_encode_refuses(void)
{
	struct cert c;
	uint8_t out[MQTTIP_CERT_MAX_LEN];
	int n;

#define EXPECT_ENCODE(change, want)                                                                \
	do {                                                                                       \
		sample_cert(&c);                                                                   \
		change;                                                                            \
		CHECK_EQ_INT(encode_variant(&c), want);                                            \
	} while (0)
	EXPECT_ENCODE((void)0, 189);
	EXPECT_ENCODE(c.name[0] = '\0', CERT_ERR_INVALID);
	EXPECT_ENCODE(memset(c.name, 'a', sizeof c.name), CERT_ERR_INVALID); /* no NUL */
	EXPECT_ENCODE(memset(c.name, 'a', MQTTIP_CERT_NAME_MAX), 189 - 6 + 63);
	EXPECT_ENCODE(c.name[2] = '/', CERT_ERR_INVALID);
	EXPECT_ENCODE(c.name[2] = ' ', CERT_ERR_INVALID);
	EXPECT_ENCODE(c.name[2] = (char)0xc3, CERT_ERR_INVALID);
	EXPECT_ENCODE(strcpy(c.name, ".."), CERT_ERR_INVALID);
	EXPECT_ENCODE(strcpy(c.name, "-x"), CERT_ERR_INVALID);
	EXPECT_ENCODE(strcpy(c.name, "A.b_c-9"), 189 - 6 + 7);
	EXPECT_ENCODE(c.n_addrs = 0, CERT_ERR_INVALID);
	EXPECT_ENCODE(c.n_addrs = MQTTIP_CERT_MAX_ADDRS + 1, CERT_ERR_INVALID);
	EXPECT_ENCODE(c.n_routes = MQTTIP_CERT_MAX_ROUTES + 1, CERT_ERR_INVALID);
	EXPECT_ENCODE(c.n_routes = 0, 189 - 6 - 18);
	EXPECT_ENCODE(c.addrs[0].addr.family = 5, CERT_ERR_INVALID);
	EXPECT_ENCODE(c.routes[0].addr.family = 0, CERT_ERR_INVALID);
	EXPECT_ENCODE(c.addrs[0].len = 33, CERT_ERR_INVALID);
	EXPECT_ENCODE(c.addrs[0].len = 32, 189);
	EXPECT_ENCODE(c.addrs[1].len = 129, CERT_ERR_INVALID);
	EXPECT_ENCODE(c.addrs[1].len = 128, 189);
	EXPECT_ENCODE(c.routes[0].len = 33, CERT_ERR_INVALID);
	EXPECT_ENCODE(c.routes[1].len = 129, CERT_ERR_INVALID);
	/* IPv4 keeps the 12 unused bytes zero */
	EXPECT_ENCODE(c.addrs[0].addr.bytes[4] = 1, CERT_ERR_INVALID);
	EXPECT_ENCODE(c.routes[0].addr.bytes[15] = 1, CERT_ERR_INVALID);
	/* routes: host bits zero */
	EXPECT_ENCODE(c.routes[0] = pfx(v4(192, 168, 5, 1), 24), CERT_ERR_INVALID);
	EXPECT_ENCODE(c.routes[0] = pfx(v4(192, 168, 5, 128), 24), CERT_ERR_INVALID);
	EXPECT_ENCODE(c.routes[0] = pfx(v4(192, 168, 5, 128), 25), 189);
	EXPECT_ENCODE(c.routes[0] = pfx(v4(192, 168, 5, 1), 32), 189);
	EXPECT_ENCODE(c.routes[0] = pfx(v4(0, 0, 0, 0), 0), 189);
	EXPECT_ENCODE(c.routes[0] = pfx(v4(128, 0, 0, 0), 0), CERT_ERR_INVALID);
	EXPECT_ENCODE(c.routes[1] = pfx(v6(0xfd10, 1, 0), 16), CERT_ERR_INVALID);
	EXPECT_ENCODE(c.routes[1] = pfx(v6(0xfd10, 0, 1), 127), CERT_ERR_INVALID);
	EXPECT_ENCODE(c.routes[1] = pfx(v6(0xfd10, 0, 1), 128), 189);
	/* addresses: a host of its subnet */
	EXPECT_ENCODE(c.addrs[0] = pfx(v4(10, 0, 1, 0), 24), CERT_ERR_INVALID);
	EXPECT_ENCODE(c.addrs[0] = pfx(v4(10, 0, 1, 255), 24), CERT_ERR_INVALID);
	EXPECT_ENCODE(c.addrs[0] = pfx(v4(10, 0, 1, 254), 24), 189);
	EXPECT_ENCODE(c.addrs[0] = pfx(v4(10, 0, 1, 4), 30), CERT_ERR_INVALID);
	EXPECT_ENCODE(c.addrs[0] = pfx(v4(10, 0, 1, 7), 30), CERT_ERR_INVALID);
	EXPECT_ENCODE(c.addrs[0] = pfx(v4(10, 0, 1, 4), 31), 189);
	EXPECT_ENCODE(c.addrs[0] = pfx(v4(10, 0, 1, 5), 31), 189);
	EXPECT_ENCODE(c.addrs[0] = pfx(v4(10, 0, 1, 0), 32), 189);
	EXPECT_ENCODE(c.addrs[1] = pfx(v6(0xfd00, 0, 0), 64), CERT_ERR_INVALID);
	EXPECT_ENCODE(c.addrs[1] = pfx(v6(0xfd00, 0, 0xffff), 112), 189);
	EXPECT_ENCODE(c.addrs[1] = pfx(v6(0xfd00, 0, 0), 127), 189);
	EXPECT_ENCODE(c.addrs[0] = pfx(v4(0, 0, 0, 0), 32), CERT_ERR_INVALID);
	EXPECT_ENCODE(c.addrs[0] = pfx(v4(224, 0, 0, 1), 32), CERT_ERR_INVALID);
	EXPECT_ENCODE(c.addrs[0] = pfx(v4(239, 1, 2, 3), 8), CERT_ERR_INVALID);
	EXPECT_ENCODE(c.addrs[0] = pfx(v4(255, 255, 255, 255), 32), CERT_ERR_INVALID);
	EXPECT_ENCODE(c.addrs[1] = pfx(v6(0, 0, 0), 128), CERT_ERR_INVALID);
	EXPECT_ENCODE(c.addrs[1] = pfx(v6(0xff02, 0, 1), 128), CERT_ERR_INVALID);
	EXPECT_ENCODE((c.addrs[1] = pfx(v6(0, 0, 0x0102), 128), c.addrs[1].addr.bytes[10] = 0xff,
		       c.addrs[1].addr.bytes[11] = 0xff),
		      CERT_ERR_INVALID);
	/* validity: not_before < not_after */
	EXPECT_ENCODE(c.not_after = c.not_before, CERT_ERR_INVALID);
	EXPECT_ENCODE(c.not_after = c.not_before - 1, CERT_ERR_INVALID);
	EXPECT_ENCODE(c.not_after = c.not_before + 1, 189);
#undef EXPECT_ENCODE

	sample_cert(&c);
	CHECK_EQ_INT(cert_encode_sign(&c, ca_sk, out, 188), CERT_ERR_BUFFER);
	CHECK_EQ_INT(cert_encode_sign(&c, ca_sk, out, 0), CERT_ERR_BUFFER);
	n = cert_encode_sign(&c, ca_sk, out, 189);
	CHECK_EQ_INT(n, 189);
}

/* Certificates that are correctly signed but break one decoding rule are malformed. */
static void test_decode_refuses(void)
{
	static const uint8_t a4[4] = {10, 0, 1, 2}, net4[4] = {10, 0, 1, 0};
	static const uint8_t bcast4[4] = {10, 0, 1, 255}, host_route[4] = {192, 168, 5, 1};
	struct builder b;
	struct cert d;

#define EXPECT_DECODE(body, nb, na, want)                                                          \
	do {                                                                                       \
		b.len = 0;                                                                         \
		body;                                                                              \
		finish(&b, nb, na, ca_pk, ca_sk);                                                  \
		CHECK_EQ_INT(cert_verify(b.buf, b.len, ca_pk, 1500, &d), want);                    \
		CHECK_EQ_INT(cert_decode(b.buf, b.len, &d), want);                                 \
	} while (0)
	/* the minimal good certificate, then one change at a time */
	EXPECT_DECODE((put(&b, "MQC\x01\x01n\x01", 7), put_entry(&b, 4, 24, a4), put_byte(&b, 0)),
		      1000, 2000, CERT_OK);
	EXPECT_DECODE((put(&b, "MQD\x01\x01n\x01", 7), put_entry(&b, 4, 24, a4), put_byte(&b, 0)),
		      1000, 2000, CERT_ERR_MALFORMED);
	EXPECT_DECODE((put(&b, "MQC\x02\x01n\x01", 7), put_entry(&b, 4, 24, a4), put_byte(&b, 0)),
		      1000, 2000, CERT_ERR_MALFORMED);
	EXPECT_DECODE((put(&b, "MQC\x00\x01n\x01", 7), put_entry(&b, 4, 24, a4), put_byte(&b, 0)),
		      1000, 2000, CERT_ERR_MALFORMED);
	EXPECT_DECODE((put(&b, "MQC\x01\x00\x01", 6), put_entry(&b, 4, 24, a4), put_byte(&b, 0)),
		      1000, 2000, CERT_ERR_MALFORMED);
	EXPECT_DECODE((put(&b, "MQC\x01\x01/\x01", 7), put_entry(&b, 4, 24, a4), put_byte(&b, 0)),
		      1000, 2000, CERT_ERR_MALFORMED);
	EXPECT_DECODE(
	    (put(&b, "MQC\x01\x01\x00\x01", 7), put_entry(&b, 4, 24, a4), put_byte(&b, 0)), 1000,
	    2000, CERT_ERR_MALFORMED);
	EXPECT_DECODE((put(&b, "MQC\x01\x01n\x00", 7), put_byte(&b, 0)), 1000, 2000,
		      CERT_ERR_MALFORMED);
	EXPECT_DECODE((put(&b, "MQC\x01\x01n\x05", 7), put_entry(&b, 4, 24, a4),
		       put_entry(&b, 4, 24, a4), put_entry(&b, 4, 24, a4), put_entry(&b, 4, 24, a4),
		       put_entry(&b, 4, 24, a4), put_byte(&b, 0)),
		      1000, 2000, CERT_ERR_MALFORMED);
	EXPECT_DECODE(
	    (put(&b, "MQC\x01\x01n\x01", 7), put_entry(&b, 4, 24, a4), put_byte(&b, 9),
	     put_entry(&b, 4, 24, net4), put_entry(&b, 4, 24, net4), put_entry(&b, 4, 24, net4),
	     put_entry(&b, 4, 24, net4), put_entry(&b, 4, 24, net4), put_entry(&b, 4, 24, net4),
	     put_entry(&b, 4, 24, net4), put_entry(&b, 4, 24, net4), put_entry(&b, 4, 24, net4)),
	    1000, 2000, CERT_ERR_MALFORMED);
	/* family 5 and family 0 */
	EXPECT_DECODE((put(&b, "MQC\x01\x01n\x01", 7), put_entry(&b, 5, 24, a4), put_byte(&b, 0)),
		      1000, 2000, CERT_ERR_MALFORMED);
	EXPECT_DECODE((put(&b, "MQC\x01\x01n\x01", 7), put_entry(&b, 0, 24, a4), put_byte(&b, 0)),
		      1000, 2000, CERT_ERR_MALFORMED);
	EXPECT_DECODE((put(&b, "MQC\x01\x01n\x01", 7), put_entry(&b, 4, 33, a4), put_byte(&b, 0)),
		      1000, 2000, CERT_ERR_MALFORMED);
	EXPECT_DECODE(
	    (put(&b, "MQC\x01\x01n\x01", 7), put_entry(&b, 6, 129, addr_fd00_2), put_byte(&b, 0)),
	    1000, 2000, CERT_ERR_MALFORMED);
	EXPECT_DECODE((put(&b, "MQC\x01\x01n\x01", 7), put_entry(&b, 4, 24, net4), put_byte(&b, 0)),
		      1000, 2000, CERT_ERR_MALFORMED);
	EXPECT_DECODE(
	    (put(&b, "MQC\x01\x01n\x01", 7), put_entry(&b, 4, 24, bcast4), put_byte(&b, 0)), 1000,
	    2000, CERT_ERR_MALFORMED);
	EXPECT_DECODE((put(&b, "MQC\x01\x01n\x01", 7), put_entry(&b, 4, 24, a4), put_byte(&b, 1),
		       put_entry(&b, 4, 24, host_route)),
		      1000, 2000, CERT_ERR_MALFORMED);
	EXPECT_DECODE((put(&b, "MQC\x01\x01n\x01", 7), put_entry(&b, 4, 24, a4), put_byte(&b, 1),
		       put_entry(&b, 4, 24, addr_192_168_5_0)),
		      1000, 2000, CERT_OK);
	/* validity window empty or reversed */
	EXPECT_DECODE((put(&b, "MQC\x01\x01n\x01", 7), put_entry(&b, 4, 24, a4), put_byte(&b, 0)),
		      1000, 1000, CERT_ERR_MALFORMED);
	EXPECT_DECODE((put(&b, "MQC\x01\x01n\x01", 7), put_entry(&b, 4, 24, a4), put_byte(&b, 0)),
		      2000, 1000, CERT_ERR_MALFORMED);
	/* an IPv4 entry claiming to be IPv6 swallows 12 bytes of what follows: lengths then differ
	 */
	EXPECT_DECODE((put(&b, "MQC\x01\x01n\x01\x06\x18", 9), put(&b, a4, 4), put_byte(&b, 0)),
		      1000, 2000, CERT_ERR_MALFORMED);
#undef EXPECT_DECODE

	/* a name length past the end of a short buffer */
	b.len = 0;
	put(&b, "MQC\x01\xff", 5);
	CHECK_EQ_INT(cert_decode(b.buf, b.len, &d), CERT_ERR_MALFORMED);
	/* 64-char name, long enough overall */
	b.len = 0;
	put(&b, "MQC\x01\x40", 5);
	for (unsigned i = 0; i < 64; i++)
		put_byte(&b, 'a');
	put_byte(&b, 1);
	put_entry(&b, 4, 24, a4);
	put_byte(&b, 0);
	finish(&b, 1000, 2000, ca_pk, ca_sk);
	CHECK_EQ_INT(cert_decode(b.buf, b.len, &d), CERT_ERR_MALFORMED);
	/* the same with 63 characters is fine */
	b.len = 0;
	put(&b, "MQC\x01\x3f", 5);
	for (unsigned i = 0; i < 63; i++)
		put_byte(&b, 'a');
	put_byte(&b, 1);
	put_entry(&b, 4, 24, a4);
	put_byte(&b, 0);
	finish(&b, 1000, 2000, ca_pk, ca_sk);
	CHECK_EQ_INT(cert_verify(b.buf, b.len, ca_pk, 1500, &d), CERT_OK);
	CHECK_EQ_INT(strlen(d.name), 63);
}

static void test_strerror(void)
{
	static const int codes[] = {CERT_OK,
				    CERT_ERR_MALFORMED,
				    CERT_ERR_WRONG_CA,
				    CERT_ERR_SIGNATURE,
				    CERT_ERR_NOT_YET_VALID,
				    CERT_ERR_EXPIRED,
				    CERT_ERR_ADDR_NOT_IN_CERT,
				    CERT_ERR_BUFFER,
				    CERT_ERR_INVALID};

	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(cert_strerror(codes[i]), cert_strerror(codes[j])) != 0);
	}
	CHECK(cert_strerror(-100) != NULL);
}

int main(void)
{
	uint8_t seed[crypto_sign_SEEDBYTES];

	if (sodium_init() < 0)
		return 1;
	memset(seed, 1, sizeof seed);
	crypto_sign_seed_keypair(ca_pk, ca_sk, seed);
	memset(seed, 2, sizeof seed);
	crypto_sign_seed_keypair(other_pk, other_sk, seed);

	test_layout_by_hand();
	test_round_trip();
	test_verify_errors();
	test_tamper();
	test_addresses();
	test_held();
	test_encode_refuses();
	test_decode_refuses();
	test_strerror();
	return check_done();
}
