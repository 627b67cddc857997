/* test_revocation.c - the VPN revocation list: the layout is checked against bytes the test
 * assembles and signs itself (plain libsodium calls, not the module's encoder), every refusal
 * against its own error code (tampering, another CA, malformed variants that are genuinely
 * signed), the version rule (rollback, conflict, restart with only the version known) and the
 * lookup by serial and by key. */
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "revocation.h"

static uint8_t ca_pk[crypto_sign_PUBLICKEYBYTES], ca_sk[crypto_sign_SECRETKEYBYTES];
static uint8_t other_pk[crypto_sign_PUBLICKEYBYTES], other_sk[crypto_sign_SECRETKEYBYTES];
static struct revocation r, held; /* 2 KB each: not on the stack */

/* The test's own serializer: fields as raw values, so malformed lists can be built and signed. */
struct builder {
	uint8_t buf[4096];
	size_t len;
};

static void put(struct builder *b, const void *p, size_t n)
{
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static void put_be(struct builder *b, uint64_t v, unsigned bytes)
{
	for (int shift = (int)(bytes - 1) * 8; shift >= 0; shift -= 8)
		b->buf[b->len++] = (uint8_t)(v >> shift);
}

/* Header with the key id of key_pk; counts as given (they may lie). */
static void header(struct builder *b, const uint8_t *key_pk, uint64_t version, uint16_t ns,
		   uint16_t nk)
{
	uint8_t digest[crypto_hash_sha256_BYTES];

	b->len = 0;
	put(b, "MQR", 3);
	put_be(b, 1, 1);
	crypto_hash_sha256(digest, key_pk, crypto_sign_PUBLICKEYBYTES);
	put(b, digest, 8);
	put_be(b, version, 8);
	put_be(b, 1700000000, 8);
	put_be(b, ns, 2);
	put_be(b, nk, 2);
}

static void sign(struct builder *b, const uint8_t *key_sk)
{
	crypto_sign_detached(b->buf + b->len, NULL, b->buf, b->len, key_sk);
	b->len += crypto_sign_BYTES;
}

static void key_of(uint8_t key[32], uint8_t fill)
{
	memset(key, fill, 32);
}

static void test_layout_by_hand(void)
{
	static const uint64_t serials[] = {3, 0x0102030405060708};
	uint8_t keys[2][32], out[MQTTIP_REVOCATION_MAX_LEN];
	struct builder b;
	int n;

	key_of(keys[0], 0x11);
	key_of(keys[1], 0xee);
	n = revocation_encode_sign(7, 1700000000, serials, 2, (const uint8_t(*)[32])keys, 2, ca_sk,
				   out, sizeof out);
	/* 32 header + 2 * 8 + 2 * 32 + 64 */
	CHECK_EQ_INT(n, 176);
	header(&b, ca_pk, 7, 2, 2);
	put_be(&b, 3, 8);
	put_be(&b, 0x0102030405060708, 8);
	put(&b, keys[0], 32);
	put(&b, keys[1], 32);
	sign(&b, ca_sk);
	CHECK_EQ_INT(b.len, 176);
	if (n == 176)
		CHECK_MEM(out, b.buf, 176); /* Ed25519 is deterministic: signature included */
	/* offsets worked out on paper */
	CHECK_EQ_INT(out[3], 1);
	CHECK_EQ_INT(out[19], 7);
	CHECK_EQ_INT(out[29], 2);
	CHECK_EQ_INT(out[31], 2);
	CHECK_EQ_INT(out[39], 3);
	CHECK_EQ_INT(out[40], 1);
	CHECK_EQ_INT(out[48], 0x11);
	CHECK_EQ_INT(out[80], 0xee);
	CHECK(crypto_sign_verify_detached(out + 112, out, 112, ca_pk) == 0);

	CHECK_EQ_INT(revocation_verify(b.buf, b.len, ca_pk, &r), REVOCATION_OK);
	CHECK_EQ_INT(r.version, 7);
	CHECK_EQ_INT(r.issued_at, 1700000000);
	CHECK_EQ_INT(r.n_serials, 2);
	CHECK_EQ_INT(r.n_keys, 2);
	CHECK_EQ_INT(r.len, 176);
	CHECK_MEM(r.bytes, b.buf, 176);
	CHECK_EQ_INT(revocation_serial_at(&r, 1), 0x0102030405060708);
	CHECK_MEM(revocation_key_at(&r, 1), keys[1], 32);
}

static void test_empty_and_full(void)
{
	static uint64_t serials[300];
	static uint8_t keys[70][32];
	uint8_t out[MQTTIP_REVOCATION_MAX_LEN + 64];
	int n;

	for (unsigned i = 0; i < 300; i++)
		serials[i] = 1000 + 3 * (uint64_t)i;
	for (unsigned i = 0; i < 70; i++) {
		key_of(keys[i], 0);
		keys[i][0] = (uint8_t)i;
	}
	n = revocation_encode_sign(1, 0, NULL, 0, NULL, 0, ca_sk, out, sizeof out);
	CHECK_EQ_INT(n, MQTTIP_REVOCATION_MIN_LEN);
	CHECK_EQ_INT(revocation_verify(out, (size_t)n, ca_pk, &r), REVOCATION_OK);
	CHECK_EQ_INT(r.n_serials + r.n_keys, 0);

	/* the bound: 61 keys, or 244 serials, or a mix, fill exactly 2048 bytes */
	n = revocation_encode_sign(2, 0, NULL, 0, (const uint8_t(*)[32])keys, 61, ca_sk, out,
				   sizeof out);
	CHECK_EQ_INT(n, MQTTIP_REVOCATION_MAX_LEN);
	CHECK_EQ_INT(revocation_verify(out, (size_t)n, ca_pk, &r), REVOCATION_OK);
	CHECK_EQ_INT(revocation_encode_sign(2, 0, NULL, 0, (const uint8_t(*)[32])keys, 62, ca_sk,
					    out, sizeof out),
		     REVOCATION_ERR_INVALID);
	n = revocation_encode_sign(2, 0, serials, 244, NULL, 0, ca_sk, out, sizeof out);
	CHECK_EQ_INT(n, MQTTIP_REVOCATION_MAX_LEN);
	CHECK_EQ_INT(revocation_verify(out, (size_t)n, ca_pk, &r), REVOCATION_OK);
	CHECK(revocation_serial_listed(&r, 1000));
	CHECK(revocation_serial_listed(&r, 1000 + 3 * 243));
	CHECK(!revocation_serial_listed(&r, 1000 + 3 * 244));
	CHECK(!revocation_serial_listed(&r, 1001));
	CHECK(!revocation_serial_listed(&r, 999));
	CHECK_EQ_INT(revocation_encode_sign(2, 0, serials, 245, NULL, 0, ca_sk, out, sizeof out),
		     REVOCATION_ERR_INVALID);
	n = revocation_encode_sign(2, 0, serials, 4, (const uint8_t(*)[32])keys, 60, ca_sk, out,
				   sizeof out);
	CHECK_EQ_INT(n, MQTTIP_REVOCATION_MAX_LEN);
	CHECK_EQ_INT(revocation_encode_sign(2, 0, serials, 5, (const uint8_t(*)[32])keys, 60, ca_sk,
					    out, sizeof out),
		     REVOCATION_ERR_INVALID);
	/* counts so large that a careless multiplication would wrap */
	CHECK_EQ_INT(
	    revocation_encode_sign(2, 0, serials, SIZE_MAX / 4, NULL, 0, ca_sk, out, sizeof out),
	    REVOCATION_ERR_INVALID);
	CHECK_EQ_INT(revocation_encode_sign(2, 0, NULL, 0, (const uint8_t(*)[32])keys,
					    SIZE_MAX / 16 + 1, ca_sk, out, sizeof out),
		     REVOCATION_ERR_INVALID);
}

static void test_encode_refusals(void)
{
	uint64_t unsorted[] = {5, 4}, dup[] = {5, 5}, ok[] = {4, 5};
	uint8_t keys[2][32], out[MQTTIP_REVOCATION_MAX_LEN];

	CHECK_EQ_INT(revocation_encode_sign(0, 0, ok, 2, NULL, 0, ca_sk, out, sizeof out),
		     REVOCATION_ERR_INVALID);
	CHECK_EQ_INT(revocation_encode_sign(1, 0, unsorted, 2, NULL, 0, ca_sk, out, sizeof out),
		     REVOCATION_ERR_INVALID);
	CHECK_EQ_INT(revocation_encode_sign(1, 0, dup, 2, NULL, 0, ca_sk, out, sizeof out),
		     REVOCATION_ERR_INVALID);
	key_of(keys[0], 9);
	key_of(keys[1], 9);
	CHECK_EQ_INT(revocation_encode_sign(1, 0, NULL, 0, (const uint8_t(*)[32])keys, 2, ca_sk,
					    out, sizeof out),
		     REVOCATION_ERR_INVALID);
	keys[1][31] = 8; /* now keys[1] < keys[0] */
	CHECK_EQ_INT(revocation_encode_sign(1, 0, NULL, 0, (const uint8_t(*)[32])keys, 2, ca_sk,
					    out, sizeof out),
		     REVOCATION_ERR_INVALID);
	CHECK_EQ_INT(revocation_encode_sign(1, 0, ok, 2, NULL, 0, ca_sk, out, 111),
		     REVOCATION_ERR_BUFFER);
	CHECK_EQ_INT(revocation_encode_sign(1, 0, ok, 2, NULL, 0, ca_sk, out, 112), 112);
}

/* Genuinely signed by the CA, yet malformed: the decoder refuses before any signature check. */
static void test_malformed_signed(void)
{
	struct builder b;
	uint8_t key[32];

	r.version = 99; /* must be zeroed by every refusal */
	header(&b, ca_pk, 0, 0, 0);
	sign(&b, ca_sk);
	CHECK_EQ_INT(revocation_verify(b.buf, b.len, ca_pk, &r), REVOCATION_ERR_MALFORMED);
	CHECK_EQ_INT(r.version, 0);

	header(&b, ca_pk, 1, 2, 0); /* unsorted serials */
	put_be(&b, 9, 8);
	put_be(&b, 8, 8);
	sign(&b, ca_sk);
	CHECK_EQ_INT(revocation_verify(b.buf, b.len, ca_pk, &r), REVOCATION_ERR_MALFORMED);
	header(&b, ca_pk, 1, 2, 0); /* duplicate serials */
	put_be(&b, 9, 8);
	put_be(&b, 9, 8);
	sign(&b, ca_sk);
	CHECK_EQ_INT(revocation_decode(b.buf, b.len, &r), REVOCATION_ERR_MALFORMED);
	header(&b, ca_pk, 1, 0, 2); /* duplicate keys */
	key_of(key, 3);
	put(&b, key, 32);
	put(&b, key, 32);
	sign(&b, ca_sk);
	CHECK_EQ_INT(revocation_decode(b.buf, b.len, &r), REVOCATION_ERR_MALFORMED);

	/* counts that do not account for the bytes: one entry too many, one too few, a byte over */
	header(&b, ca_pk, 1, 2, 0);
	put_be(&b, 9, 8);
	sign(&b, ca_sk);
	CHECK_EQ_INT(revocation_decode(b.buf, b.len, &r), REVOCATION_ERR_MALFORMED);
	header(&b, ca_pk, 1, 0, 0);
	put_be(&b, 9, 8);
	sign(&b, ca_sk);
	CHECK_EQ_INT(revocation_decode(b.buf, b.len, &r), REVOCATION_ERR_MALFORMED);
	header(&b, ca_pk, 1, 1, 0);
	put_be(&b, 9, 8);
	put_be(&b, 0, 1);
	sign(&b, ca_sk);
	CHECK_EQ_INT(revocation_decode(b.buf, b.len, &r), REVOCATION_ERR_MALFORMED);
	header(&b, ca_pk, 1, 0xffff, 0xffff); /* counts that would overflow 16-bit arithmetic */
	sign(&b, ca_sk);
	CHECK_EQ_INT(revocation_decode(b.buf, b.len, &r), REVOCATION_ERR_MALFORMED);

	header(&b, ca_pk, 1, 0, 0); /* other magic, other format byte */
	b.buf[0] = 'X';
	sign(&b, ca_sk);
	CHECK_EQ_INT(revocation_decode(b.buf, b.len, &r), REVOCATION_ERR_MALFORMED);
	header(&b, ca_pk, 1, 0, 0);
	b.buf[3] = 2;
	sign(&b, ca_sk);
	CHECK_EQ_INT(revocation_decode(b.buf, b.len, &r), REVOCATION_ERR_MALFORMED);

	/* lengths: every truncation of a valid list, and one above the maximum */
	header(&b, ca_pk, 1, 1, 0);
	put_be(&b, 9, 8);
	sign(&b, ca_sk);
	CHECK_EQ_INT(revocation_decode(b.buf, b.len, &r), REVOCATION_OK);
	for (size_t len = 0; len < b.len; len++)
		CHECK_EQ_INT(revocation_decode(b.buf, len, &r), REVOCATION_ERR_MALFORMED);
	header(&b, ca_pk, 1, 248, 0); /* 32 + 248 * 8 + 64 = 2080 > 2048 */
	for (unsigned i = 0; i < 248; i++)
		put_be(&b, i, 8);
	sign(&b, ca_sk);
	CHECK_EQ_INT(b.len, 2080);
	CHECK_EQ_INT(revocation_decode(b.buf, b.len, &r), REVOCATION_ERR_MALFORMED);
}

static void test_tamper_and_wrong_ca(void)
{
	static const uint64_t serials[] = {1, 2, 3};
	uint8_t keys[1][32], out[MQTTIP_REVOCATION_MAX_LEN], copy[MQTTIP_REVOCATION_MAX_LEN];
	static const uint8_t masks[] = {0x01, 0x80, 0xff, 0x55};
	struct builder b;
	unsigned refused = 0, total = 0;
	int n;

	key_of(keys[0], 0x42);
	n = revocation_encode_sign(3, 5, serials, 3, (const uint8_t(*)[32])keys, 1, ca_sk, out,
				   sizeof out);
	CHECK(n > 0);
	if (n <= 0)
		return;
	CHECK_EQ_INT(revocation_verify(out, (size_t)n, ca_pk, &r), REVOCATION_OK);
	CHECK_EQ_INT(revocation_verify(out, (size_t)n, other_pk, &r), REVOCATION_ERR_WRONG_CA);
	CHECK_EQ_INT(r.version, 0);

	/* every byte, four masks: never accepted, and the key id bytes give WRONG_CA */
	for (int i = 0; i < n; i++) {
		for (unsigned m = 0; m < sizeof masks; m++) {
			int err;

			memcpy(copy, out, (size_t)n);
			copy[i] ^= masks[m];
			err = revocation_verify(copy, (size_t)n, ca_pk, &r);
			total++;
			if (err == REVOCATION_ERR_MALFORMED || err == REVOCATION_ERR_SIGNATURE ||
			    (err == REVOCATION_ERR_WRONG_CA && i >= 4 && i < 12))
				refused++;
			else
				fprintf(stderr, "byte %d mask %02x: %s\n", i, masks[m],
					revocation_strerror(err));
		}
	}
	CHECK_EQ_INT(refused, total);

	/* another CA's list under our key id (signed by the other key): bad signature */
	header(&b, ca_pk, 9, 0, 0);
	sign(&b, other_sk);
	CHECK_EQ_INT(revocation_verify(b.buf, b.len, ca_pk, &r), REVOCATION_ERR_SIGNATURE);
	/* the other CA's own genuine list: another CA */
	header(&b, other_pk, 9, 0, 0);
	sign(&b, other_sk);
	CHECK_EQ_INT(revocation_verify(b.buf, b.len, ca_pk, &r), REVOCATION_ERR_WRONG_CA);
	CHECK_EQ_INT(revocation_verify(b.buf, b.len, other_pk, &r), REVOCATION_OK);
}

static int make(struct revocation *out, uint64_t version, uint64_t serial)
{
	uint8_t buf[MQTTIP_REVOCATION_MAX_LEN];
	int n = revocation_encode_sign(version, 0, &serial, 1, NULL, 0, ca_sk, buf, sizeof buf);

	return n < 0 ? n : revocation_verify(buf, (size_t)n, ca_pk, out);
}

static void test_version_rule(void)
{
	static struct revocation cand;

	memset(&held, 0, sizeof held); /* no list yet: anything verified is taken */
	CHECK_EQ_INT(make(&cand, 1, 10), REVOCATION_OK);
	CHECK_EQ_INT(revocation_compare(&held, &cand), REVOCATION_NEWER);
	held = cand;
	CHECK_EQ_INT(revocation_compare(&held, &cand), REVOCATION_SAME);
	CHECK_EQ_INT(make(&cand, 1, 11), REVOCATION_OK); /* same version, other entries */
	CHECK_EQ_INT(revocation_compare(&held, &cand), REVOCATION_ERR_CONFLICT);
	CHECK_EQ_INT(make(&cand, 5, 10), REVOCATION_OK);
	CHECK_EQ_INT(revocation_compare(&held, &cand), REVOCATION_NEWER);
	held = cand;
	CHECK_EQ_INT(make(&cand, 4, 10), REVOCATION_OK); /* a rollback */
	CHECK_EQ_INT(revocation_compare(&held, &cand), REVOCATION_ERR_OLDER);
	CHECK_EQ_INT(make(&cand, UINT64_MAX, 10), REVOCATION_OK);
	CHECK_EQ_INT(revocation_compare(&held, &cand), REVOCATION_NEWER);

	/* after a restart with only the version persisted */
	revocation_set_version(&held, 5);
	CHECK(!revocation_serial_listed(&held, 10));
	CHECK_EQ_INT(make(&cand, 4, 10), REVOCATION_OK);
	CHECK_EQ_INT(revocation_compare(&held, &cand), REVOCATION_ERR_OLDER);
	CHECK_EQ_INT(make(&cand, 5, 10), REVOCATION_OK);
	CHECK_EQ_INT(revocation_compare(&held, &cand), REVOCATION_NEWER);
	held = cand;
	CHECK_EQ_INT(make(&cand, 5, 12), REVOCATION_OK);
	CHECK_EQ_INT(revocation_compare(&held, &cand), REVOCATION_ERR_CONFLICT);
}

static void test_lookup(void)
{
	static const uint64_t serials[] = {2, 40, UINT64_MAX};
	uint8_t keys[3][32], buf[MQTTIP_REVOCATION_MAX_LEN];
	struct cert c;
	int n;

	key_of(keys[0], 0x01);
	key_of(keys[1], 0x80);
	key_of(keys[2], 0xfe);
	n = revocation_encode_sign(1, 0, serials, 3, (const uint8_t(*)[32])keys, 3, ca_sk, buf,
				   sizeof buf);
	CHECK_EQ_INT(revocation_verify(buf, n > 0 ? (size_t)n : 0, ca_pk, &r), REVOCATION_OK);
	memset(&c, 0, sizeof c);
	key_of(c.x25519_public, 0x7f);
	for (uint64_t s = 0; s < 45; s++) {
		c.serial = s;
		CHECK(revocation_is_revoked(&r, &c) == (s == 2 || s == 40));
	}
	c.serial = UINT64_MAX;
	CHECK(revocation_is_revoked(&r, &c));
	c.serial = 41;
	for (unsigned f = 0; f < 256; f++) {
		key_of(c.x25519_public, (uint8_t)f);
		CHECK(revocation_is_revoked(&r, &c) == (f == 0x01 || f == 0x80 || f == 0xfe));
	}
	key_of(c.x25519_public, 0x80);
	c.x25519_public[31] = 0x81; /* differs in the last byte only */
	CHECK(!revocation_is_revoked(&r, &c));
	memset(&held, 0, sizeof held);
	key_of(c.x25519_public, 0x80);
	c.serial = 2;
	CHECK(!revocation_is_revoked(&held, &c)); /* no list: nothing is revoked */
	CHECK(revocation_strerror(REVOCATION_ERR_CONFLICT)[0] != 'u');
	CHECK(revocation_strerror(-100)[0] == 'u');
}

/* The certificate side of the serial rule (cert_compare). */
static void test_cert_serial_rule(void)
{
	struct cert a, b;

	memset(&a, 0, sizeof a);
	a.serial = 10;
	memset(a.signature, 1, sizeof a.signature);
	b = a;
	CHECK_EQ_INT(cert_compare(&a, &b), CERT_SAME);
	b.signature[63] ^= 1;
	CHECK_EQ_INT(cert_compare(&a, &b), CERT_ERR_CONFLICT);
	b.serial = 9;
	CHECK_EQ_INT(cert_compare(&a, &b), CERT_ERR_OLDER);
	b.serial = 11;
	CHECK_EQ_INT(cert_compare(&a, &b), CERT_NEWER);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	crypto_sign_keypair(ca_pk, ca_sk);
	crypto_sign_keypair(other_pk, other_sk);
	test_layout_by_hand();
	test_empty_and_full();
	test_encode_refusals();
	test_malformed_signed();
	test_tamper_and_wrong_ca();
	test_version_rule();
	test_lookup();
	test_cert_serial_rule();
	return check_done();
}
