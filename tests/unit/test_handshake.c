/* test_handshake.c - the mqttip handshake between two nodes with certificates from a test CA.
 * Independent checks: mac1 is recomputed with plain libsodium calls, the prologue is assembled
 * from literal bytes and used by a hand-written first half of Noise IKpsk2 (plain libsodium) to
 * decrypt the initiator's static key from a real initiation, TAI64N labels are hand-computed, and
 * the derived keys are proved by transport messages that the other side opens. Every refusal is
 * checked against its own error code. */
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "handshake.h"

#define NOW_UNIX UINT64_C(1700000000)
#define NOW_MS	 UINT64_C(5000)

struct node {
	uint8_t priv[32], pub[32];
	struct netaddr addr;
	uint8_t cert[MQTTIP_CERT_MAX_LEN];
	size_t cert_len;
	struct handshake_local local;
};

static uint8_t ca_pk[32], ca_sk[64], ca2_pk[32], ca2_sk[64];
static struct node alice, bob;
static uint8_t ts1[12], ts2[12];

static struct netaddr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct netaddr n = {.family = 4, .bytes = {a, b, c, d}};

	return n;
}

static struct netaddr v6_last(uint8_t last)
{
	struct netaddr n = {.family = 6, .bytes = {0xfd, 0x00}};

	n.bytes[15] = last;
	return n;
}

/* A certificate for name owning addr/prefix_len, with the given key, validity and issuer. */
static size_t make_cert(uint8_t *out, const char *name, struct netaddr addr, uint8_t prefix_len,
			const uint8_t *x25519_pub, uint64_t not_before, uint64_t not_after,
			const uint8_t *issuer_sk)
{
	struct cert c;
	int len;

	memset(&c, 0, sizeof(c));
	strcpy(c.name, name);
	c.n_addrs = 1;
	c.addrs[0].addr = addr;
	c.addrs[0].len = prefix_len;
	memcpy(c.x25519_public, x25519_pub, 32);
	c.not_before = not_before;
	c.not_after = not_after;
	c.serial = 7;
	len = cert_encode_sign(&c, issuer_sk, out, MQTTIP_CERT_MAX_LEN);
	CHECK(len > 0);
	return len > 0 ? (size_t)len : 0;
}

/* The capabilities the last consume call returned (opaque to handshake.c). */
static uint8_t g_ext[MQTTIP_HANDSHAKE_EXT_MAX];
static size_t g_ext_len;

static void node_init(struct node *n, const char *name, struct netaddr addr)
{
	randombytes_buf(n->priv, 32);
	crypto_scalarmult_base(n->pub, n->priv);
	n->addr = addr;
	n->cert_len = make_cert(n->cert, name, addr, addr.family == 4 ? 24 : 64, n->pub,
				NOW_UNIX - 1000, NOW_UNIX + 1000, ca_sk);
	n->local.static_private = n->priv;
	memcpy(n->local.static_public, n->pub, 32);
	n->local.network_id = ca_pk;
	n->local.cert = n->cert;
	n->local.cert_len = n->cert_len;
}

/* alice -> bob initiation with psk (NULL = zeros) and timestamp ts; returns its length. */
static size_t initiate(struct handshake *hs, const struct node *from, const struct node *to,
		       const uint8_t *psk, const uint8_t *ts, uint8_t *msg)
{
	size_t len = 0;
	int err =
	    handshake_initiation_create(hs, &from->local, &from->addr, &to->addr, to->pub, psk,
					0x11223344, ts, msg, MQTTIP_INITIATION_MAX_LEN, &len);

	CHECK_EQ_INT(err, HANDSHAKE_OK);
	return len;
}

static int consume(struct handshake *hs, const struct node *self, const struct netaddr *src,
		   const uint8_t *last_ts, const uint8_t *msg, size_t len)
{
	struct cert peer;
	uint8_t ts[12];

	return handshake_initiation_consume(hs, &self->local, src, &self->addr, NOW_UNIX, last_ts,
					    msg, len, &peer, ts, g_ext, &g_ext_len);
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

static void expect_mac1(const uint8_t *msg, size_t len, const uint8_t *receiver_pub)
{
	uint8_t key[32], mac[32], label_key[40];

	memcpy(label_key, "mac1----", 8);
	memcpy(label_key + 8, receiver_pub, 32);
	crypto_hash_sha256(key, label_key, sizeof(label_key));
	crypto_auth_hmacsha256(mac, msg, len - 16, key);
	CHECK_MEM(mac, msg + len - 16, 16);
}

/* Noise HKDF with two outputs, written out from the spec. */
static void hkdf2(const uint8_t ck[32], const uint8_t *ikm, size_t ikm_len, uint8_t o1[32],
		  uint8_t o2[32])
{
	uint8_t temp[32], in[33];

	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, ck, 32);
	crypto_auth_hmacsha256_update(&st, ikm, ikm_len);
	crypto_auth_hmacsha256_final(&st, temp);
	in[0] = 1;
	crypto_auth_hmacsha256_init(&st, temp, 32);
	crypto_auth_hmacsha256_update(&st, in, 1);
	crypto_auth_hmacsha256_final(&st, o1);
	memcpy(in, o1, 32);
	in[32] = 2;
	crypto_auth_hmacsha256_init(&st, temp, 32);
	crypto_auth_hmacsha256_update(&st, in, 33);
	crypto_auth_hmacsha256_final(&st, o2);
}

static void mix_hash(uint8_t h[32], const uint8_t *data, size_t len)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, h, 32);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, h);
}

/* The responder's half of IKpsk2 message 1 up to the "s" token, from the Noise spec: proves the
 * header offsets and that the prologue is exactly the 72 bytes given. */
static int decrypt_initiator_static(const uint8_t *msg, const uint8_t *prologue,
				    const struct node *responder, uint8_t out_static[32])
{
	static const char name[] = "Noise_IKpsk2_25519_ChaChaPoly_SHA256";
	uint8_t h[32], ck[32], k[32], dh[32], nonce[12] = {0};
	const uint8_t *e = msg + 8;
	unsigned long long plain_len;

	crypto_hash_sha256(h, (const uint8_t *)name, sizeof(name) - 1);
	memcpy(ck, h, 32);
	mix_hash(h, prologue, 72);
	mix_hash(h, responder->pub, 32);
	mix_hash(h, e, 32);
	hkdf2(ck, e, 32, ck, k); /* psk modifier: "e" also mixes the key */
	if (crypto_scalarmult(dh, responder->priv, e) != 0)
		return -1;
	hkdf2(ck, dh, 32, ck, k);
	return crypto_aead_chacha20poly1305_ietf_decrypt(out_static, &plain_len, NULL, msg + 40, 48,
							 h, 32, nonce, k);
}

static void test_tai64n(void)
{
	static const uint8_t epoch[12] = {0x40, 0, 0, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0};
	static const uint8_t sample[12] = {0x40, 0x00, 0x00, 0x00, 0x65, 0x53,
					   0xf1, 0x0a, 0x07, 0x5b, 0xcd, 0x15};
	uint8_t out[12], later[12];

	handshake_tai64n(0, 0, out);
	CHECK_MEM(out, epoch, 12);
	handshake_tai64n(1700000000, 123456789, out);
	CHECK_MEM(out, sample, 12);
	handshake_tai64n(1700000000, 123456790, later);
	CHECK(memcmp(later, out, 12) > 0);
	handshake_tai64n(1700000001, 0, later);
	CHECK(memcmp(later, out, 12) > 0);
}

/* Full handshake, then transport messages both ways with the derived keypairs. */
static void handshake_and_talk(struct node *a, struct node *b, const uint8_t *psk_a,
			       const uint8_t *psk_b)
{
	struct keypair_params params = keypair_params_default();
	struct handshake hs_a, hs_b;
	struct keypair kp_a, kp_b;
	struct cert peer;
	uint8_t msg[MQTTIP_INITIATION_MAX_LEN], resp[MQTTIP_RESPONSE_MAX_LEN], ts_out[12];
	uint8_t prologue[72], peer_static[32];
	uint8_t buf[MQTTIP_TRANSPORT_OVERHEAD + 64], *body;
	size_t len, resp_len = 0, msg_len = 0, body_len = 0;
	uint32_t idx;

	/* capabilities travel opaque in both directions (PROTOCOL.md 6.15) */
	static const uint8_t caps_a[5] = {0x7f, 3, 'a', 'b', 'c'}, caps_b[3] = {0x7e, 1, 'z'};

	a->local.ext = caps_a;
	a->local.ext_len = sizeof(caps_a);
	len = initiate(&hs_a, a, b, psk_a, ts1, msg);
	CHECK_EQ_INT(len, MQTTIP_INITIATION_FIXED_LEN + sizeof(caps_a) + a->cert_len);
	CHECK_EQ_INT(msg[0], 1);
	CHECK_EQ_INT(msg[1], MQTTIP_PROTOCOL_VERSION);
	CHECK(msg[2] == 0 && msg[3] == 0);
	CHECK(msg[4] == 0x44 && msg[5] == 0x33 && msg[6] == 0x22 && msg[7] == 0x11);
	CHECK_EQ_INT(handshake_message_type(msg, len), MQTTIP_MSG_INITIATION);
	CHECK_EQ_INT(handshake_sender_index(msg, len, &idx), 0);
	CHECK_EQ_INT(idx, 0x11223344);
	CHECK_EQ_INT(handshake_receiver_index(msg, len, &idx), -1);
	expect_mac1(msg, len, b->pub);

	memcpy(prologue, "mqttip/2", 8);
	memcpy(prologue + 8, ca_pk, 32);
	memset(prologue + 40, 0, 32);
	if (a->addr.family == 4) {
		prologue[50] = prologue[51] = 0xff;
		memcpy(prologue + 52, a->addr.bytes, 4);
		prologue[66] = prologue[67] = 0xff;
		memcpy(prologue + 68, b->addr.bytes, 4);
	} else {
		memcpy(prologue + 40, a->addr.bytes, 16);
		memcpy(prologue + 56, b->addr.bytes, 16);
	}
	CHECK_EQ_INT(decrypt_initiator_static(msg, prologue, b, peer_static), 0);
	CHECK_MEM(peer_static, a->pub, 32);

	CHECK_EQ_INT(handshake_initiation_check(msg, len, b->pub), HANDSHAKE_OK);
	CHECK_EQ_INT(handshake_initiation_consume(&hs_b, &b->local, &a->addr, &b->addr, NOW_UNIX,
						  NULL, msg, len, &peer, ts_out, g_ext, &g_ext_len),
		     HANDSHAKE_OK);
	CHECK(strcmp(peer.name, "alice") == 0 || strcmp(peer.name, "alice6") == 0);
	CHECK_MEM(peer.x25519_public, a->pub, 32);
	CHECK_MEM(ts_out, ts1, 12);
	CHECK(g_ext_len == sizeof(caps_a) && memcmp(g_ext, caps_a, sizeof(caps_a)) == 0);
	a->local.ext = NULL;
	a->local.ext_len = 0;

	CHECK_EQ_INT(handshake_response_create(&hs_b, psk_b, 0xa1b2c3d4, caps_b, sizeof(caps_b),
					       resp, sizeof(resp), &resp_len, &kp_b, NOW_MS),
		     HANDSHAKE_OK);
	CHECK(all_zero(&hs_b, sizeof(hs_b)));
	CHECK_EQ_INT(resp_len, MQTTIP_RESPONSE_MIN_LEN + sizeof(caps_b));
	CHECK(resp[0] == 2 && resp[1] == MQTTIP_PROTOCOL_VERSION && resp[2] == 0 && resp[3] == 0);
	CHECK(resp[4] == 0xd4 && resp[5] == 0xc3 && resp[6] == 0xb2 && resp[7] == 0xa1);
	CHECK(resp[8] == 0x44 && resp[9] == 0x33 && resp[10] == 0x22 && resp[11] == 0x11);
	CHECK_EQ_INT(handshake_receiver_index(resp, resp_len, &idx), 0);
	CHECK_EQ_INT(idx, 0x11223344);
	CHECK_EQ_INT(handshake_sender_index(resp, resp_len, &idx), 0);
	CHECK_EQ_INT(idx, 0xa1b2c3d4);
	expect_mac1(resp, resp_len, a->pub);

	g_ext_len = 0;
	CHECK_EQ_INT(
	    handshake_response_consume(&hs_a, resp, resp_len, &kp_a, NOW_MS + 3, g_ext, &g_ext_len),
	    HANDSHAKE_OK);
	CHECK(g_ext_len == sizeof(caps_b) && memcmp(g_ext, caps_b, sizeof(caps_b)) == 0);
	CHECK(all_zero(&hs_a, sizeof(hs_a)));
	CHECK_EQ_INT(
	    handshake_response_consume(&hs_a, resp, resp_len, &kp_a, NOW_MS + 3, g_ext, &g_ext_len),
	    HANDSHAKE_ERR_STATE);

	CHECK(kp_a.valid && kp_b.valid);
	CHECK(kp_a.is_initiator && !kp_b.is_initiator);
	CHECK_MEM(kp_a.send_key, kp_b.recv_key, 32);
	CHECK_MEM(kp_a.recv_key, kp_b.send_key, 32);
	CHECK(memcmp(kp_a.send_key, kp_a.recv_key, 32) != 0);
	CHECK_EQ_INT(kp_a.local_index, 0x11223344);
	CHECK_EQ_INT(kp_a.remote_index, 0xa1b2c3d4);
	CHECK_EQ_INT(kp_b.local_index, 0xa1b2c3d4);
	CHECK_EQ_INT(kp_b.remote_index, 0x11223344);
	CHECK_EQ_INT(kp_a.birth_ms, NOW_MS + 3);
	CHECK_EQ_INT(kp_b.birth_ms, NOW_MS);
	CHECK_EQ_INT(kp_a.send_counter, 0);

	memcpy(buf + MQTTIP_TRANSPORT_HEADER_LEN, "ping from a", 11);
	CHECK_EQ_INT(keypair_seal(&kp_a, NOW_MS + 4, &params, buf, sizeof(buf), 11, &msg_len),
		     KEYPAIR_OK);
	CHECK_EQ_INT(transport_receiver_index(buf, msg_len, &idx), 0);
	CHECK_EQ_INT(idx, 0xa1b2c3d4);
	CHECK_EQ_INT(keypair_open(&kp_b, NOW_MS + 4, &params, buf, msg_len, &body, &body_len),
		     KEYPAIR_OK);
	CHECK_EQ_INT(body_len, 11);
	CHECK(body_len == 11 && memcmp(body, "ping from a", 11) == 0);

	memcpy(buf + MQTTIP_TRANSPORT_HEADER_LEN, "pong from b!", 12);
	CHECK_EQ_INT(keypair_seal(&kp_b, NOW_MS + 5, &params, buf, sizeof(buf), 12, &msg_len),
		     KEYPAIR_OK);
	CHECK_EQ_INT(transport_receiver_index(buf, msg_len, &idx), 0);
	CHECK_EQ_INT(idx, 0x11223344);
	CHECK_EQ_INT(keypair_open(&kp_a, NOW_MS + 5, &params, buf, msg_len, &body, &body_len),
		     KEYPAIR_OK);
	CHECK(body_len == 12 && memcmp(body, "pong from b!", 12) == 0);
	keypair_wipe(&kp_a);
	keypair_wipe(&kp_b);
}

static void test_happy_paths(void)
{
	static const uint8_t zeros[32];
	uint8_t psk[32];
	struct node a6, b6;

	handshake_and_talk(&alice, &bob, NULL, NULL);
	handshake_and_talk(&alice, &bob, zeros, NULL); /* NULL means the all-zero PSK */
	randombytes_buf(psk, sizeof(psk));
	handshake_and_talk(&alice, &bob, psk, psk);

	node_init(&a6, "alice6", v6_last(1));
	node_init(&b6, "bob6", v6_last(2));
	handshake_and_talk(&a6, &b6, NULL, NULL);
}

/* Every byte flipped: the header is malformed, anything else fails mac1; with mac1 recomputed
 * the Noise decryption refuses everything it covers. The sender index is outside Noise (as in
 * WireGuard): a changed one is accepted and only misdirects the response. */
static void test_tampered_initiation(void)
{
	struct handshake hs_a, hs_b;
	uint8_t msg[MQTTIP_INITIATION_MAX_LEN + 1], bad[MQTTIP_INITIATION_MAX_LEN];
	size_t len = initiate(&hs_a, &alice, &bob, NULL, ts1, msg);
	unsigned wrong_code = 0, wrong_code_mac = 0;

	CHECK(len > MQTTIP_INITIATION_FIXED_LEN);
	for (size_t i = 0; i < len; i++) {
		int expect = i < 4 ? HANDSHAKE_ERR_MALFORMED : HANDSHAKE_ERR_MAC1;

		memcpy(bad, msg, len);
		bad[i] ^= 0x40;
		if (consume(&hs_b, &bob, &alice.addr, NULL, bad, len) != expect)
			wrong_code++;
		if (i < 8 || i >= len - 16)
			continue;
		handshake_mac1_write(bad, len, bob.pub);
		if (consume(&hs_b, &bob, &alice.addr, NULL, bad, len) != HANDSHAKE_ERR_DECRYPT)
			wrong_code_mac++;
		if (!all_zero(&hs_b, sizeof(hs_b)))
			wrong_code_mac++;
	}
	CHECK_EQ_INT(wrong_code, 0);
	CHECK_EQ_INT(wrong_code_mac, 0);

	memcpy(bad, msg, len);
	bad[5] ^= 1;
	handshake_mac1_write(bad, len, bob.pub);
	CHECK_EQ_INT(consume(&hs_b, &bob, &alice.addr, NULL, bad, len), HANDSHAKE_OK);
	CHECK_EQ_INT(hs_b.remote_index, 0x11223344 ^ 0x100);

	/* Lengths: one byte short of the minimum, truncated, too long. */
	CHECK_EQ_INT(consume(&hs_b, &bob, &alice.addr, NULL, msg, MQTTIP_INITIATION_FIXED_LEN),
		     HANDSHAKE_ERR_MALFORMED);
	CHECK_EQ_INT(consume(&hs_b, &bob, &alice.addr, NULL, msg, len - 1), HANDSHAKE_ERR_MAC1);
	CHECK_EQ_INT(consume(&hs_b, &bob, &alice.addr, NULL, msg, 0), HANDSHAKE_ERR_MALFORMED);
	CHECK_EQ_INT(consume(&hs_b, &bob, &alice.addr, NULL, msg, MQTTIP_INITIATION_MAX_LEN + 1),
		     HANDSHAKE_ERR_MALFORMED);
	/* mac1 for another receiver. */
	CHECK_EQ_INT(handshake_initiation_check(msg, len, alice.pub), HANDSHAKE_ERR_MAC1);
	handshake_wipe(&hs_a);
}

/* The prologue binds the network and both topic addresses. */
static void test_prologue_binding(void)
{
	struct handshake hs_a, hs_b;
	struct node bob_other_net = bob;
	uint8_t msg[MQTTIP_INITIATION_MAX_LEN];
	size_t len = initiate(&hs_a, &alice, &bob, NULL, ts1, msg);
	struct netaddr carol = v4(10, 0, 0, 3), bob_alias = v4(10, 0, 0, 9);
	struct netaddr mapped = {.family = 6, .bytes = {[10] = 0xff, [11] = 0xff, 10, 0, 0, 1}};
	struct cert peer;
	uint8_t ts[12];

	CHECK_EQ_INT(consume(&hs_b, &bob, &alice.addr, NULL, msg, len), HANDSHAKE_OK);
	CHECK_EQ_INT(consume(&hs_b, &bob, &carol, NULL, msg, len), HANDSHAKE_ERR_DECRYPT);
	/* the IPv4-mapped IPv6 spelling has the same 16-byte form: the certificate refuses it */
	CHECK_EQ_INT(consume(&hs_b, &bob, &mapped, NULL, msg, len), HANDSHAKE_ERR_ADDR_NOT_OWNED);
	CHECK_EQ_INT(handshake_initiation_consume(&hs_b, &bob.local, &alice.addr, &bob_alias,
						  NOW_UNIX, NULL, msg, len, &peer, ts, g_ext,
						  &g_ext_len),
		     HANDSHAKE_ERR_DECRYPT);
	CHECK_EQ_INT(handshake_initiation_consume(&hs_b, &bob.local, &bob.addr, &alice.addr,
						  NOW_UNIX, NULL, msg, len, &peer, ts, g_ext,
						  &g_ext_len),
		     HANDSHAKE_ERR_DECRYPT);
	bob_other_net.local.network_id = ca2_pk;
	CHECK_EQ_INT(consume(&hs_b, &bob_other_net, &alice.addr, NULL, msg, len),
		     HANDSHAKE_ERR_DECRYPT);
	handshake_wipe(&hs_a);
}

static void test_replay(void)
{
	struct handshake hs_a, hs_b;
	uint8_t msg[MQTTIP_INITIATION_MAX_LEN], msg2[MQTTIP_INITIATION_MAX_LEN], ts_out[12];
	uint8_t newer_than_ts1[12];
	size_t len = initiate(&hs_a, &alice, &bob, NULL, ts1, msg);
	size_t len2 = initiate(&hs_a, &alice, &bob, NULL, ts2, msg2);
	struct cert peer;

	handshake_tai64n(NOW_UNIX - 50, 1, newer_than_ts1);
	CHECK_EQ_INT(consume(&hs_b, &bob, &alice.addr, NULL, msg, len), HANDSHAKE_OK);
	CHECK_EQ_INT(consume(&hs_b, &bob, &alice.addr, ts1, msg, len), HANDSHAKE_ERR_REPLAY);
	CHECK_EQ_INT(consume(&hs_b, &bob, &alice.addr, newer_than_ts1, msg, len),
		     HANDSHAKE_ERR_REPLAY);
	CHECK_EQ_INT(consume(&hs_b, &bob, &alice.addr, ts2, msg2, len2), HANDSHAKE_ERR_REPLAY);
	CHECK(all_zero(&hs_b, sizeof(hs_b)));
	memset(&peer, 0, sizeof(peer));
	CHECK_EQ_INT(handshake_initiation_consume(&hs_b, &bob.local, &alice.addr, &bob.addr,
						  NOW_UNIX, ts1, msg, len, &peer, ts_out, g_ext,
						  &g_ext_len),
		     HANDSHAKE_ERR_REPLAY);
	CHECK(strcmp(peer.name, "alice") == 0); /* verified before the timestamp: for the log */
	CHECK_EQ_INT(handshake_initiation_consume(&hs_b, &bob.local, &alice.addr, &bob.addr,
						  NOW_UNIX, ts1, msg2, len2, &peer, ts_out, g_ext,
						  &g_ext_len),
		     HANDSHAKE_OK);
	CHECK_MEM(ts_out, ts2, 12);
	handshake_wipe(&hs_a);
	handshake_wipe(&hs_b);
}

/* alice presents a modified certificate; the Noise keys are her real ones. */
static void expect_cert_refusal(const uint8_t *cert, size_t cert_len, int expect, int cert_err)
{
	struct handshake hs_a, hs_b;
	struct node a = alice;
	uint8_t msg[MQTTIP_INITIATION_MAX_LEN];
	size_t len;

	a.local.cert = cert;
	a.local.cert_len = cert_len;
	len = initiate(&hs_a, &a, &bob, NULL, ts1, msg);
	CHECK_EQ_INT(consume(&hs_b, &bob, &alice.addr, NULL, msg, len), expect);
	CHECK_EQ_INT(hs_b.cert_error, cert_err);
	CHECK(hs_b.state == HANDSHAKE_EMPTY);
	handshake_wipe(&hs_a);
}

static void test_certificates(void)
{
	uint8_t cert[MQTTIP_CERT_MAX_LEN], other_key[32];
	size_t len;

	len = make_cert(cert, "alice", alice.addr, 24, alice.pub, NOW_UNIX - 1000, NOW_UNIX + 1000,
			ca2_sk);
	expect_cert_refusal(cert, len, HANDSHAKE_ERR_CERT, CERT_ERR_WRONG_CA);

	randombytes_buf(other_key, sizeof(other_key));
	len = make_cert(cert, "alice", alice.addr, 24, other_key, NOW_UNIX - 1000, NOW_UNIX + 1000,
			ca_sk);
	expect_cert_refusal(cert, len, HANDSHAKE_ERR_STATIC_MISMATCH, CERT_OK);

	len = make_cert(cert, "alice", v4(10, 0, 0, 77), 24, alice.pub, NOW_UNIX - 1000,
			NOW_UNIX + 1000, ca_sk);
	expect_cert_refusal(cert, len, HANDSHAKE_ERR_ADDR_NOT_OWNED, CERT_OK);

	len = make_cert(cert, "alice", alice.addr, 24, alice.pub, NOW_UNIX - 1000, NOW_UNIX - 1,
			ca_sk);
	expect_cert_refusal(cert, len, HANDSHAKE_ERR_CERT, CERT_ERR_EXPIRED);

	len = make_cert(cert, "alice", alice.addr, 24, alice.pub, NOW_UNIX + 10, NOW_UNIX + 1000,
			ca_sk);
	expect_cert_refusal(cert, len, HANDSHAKE_ERR_CERT, CERT_ERR_NOT_YET_VALID);

	memcpy(cert, alice.cert, alice.cert_len);
	cert[alice.cert_len - 1] ^= 1;
	expect_cert_refusal(cert, alice.cert_len, HANDSHAKE_ERR_CERT, CERT_ERR_SIGNATURE);
	expect_cert_refusal(alice.cert, alice.cert_len - 1, HANDSHAKE_ERR_CERT, CERT_ERR_MALFORMED);
}

/* Responder side of a fresh alice -> bob handshake; returns the response length. */
static size_t respond(struct handshake *hs_a, const uint8_t *psk_a, const uint8_t *psk_b,
		      uint8_t *resp)
{
	struct handshake hs_b;
	struct keypair kp_b;
	uint8_t msg[MQTTIP_INITIATION_MAX_LEN];
	size_t len = initiate(hs_a, &alice, &bob, psk_a, ts1, msg), resp_len = 0;

	CHECK_EQ_INT(consume(&hs_b, &bob, &alice.addr, NULL, msg, len), HANDSHAKE_OK);
	CHECK_EQ_INT(handshake_response_create(&hs_b, psk_b, 99, NULL, 0, resp,
					       MQTTIP_RESPONSE_MIN_LEN, &resp_len, &kp_b, NOW_MS),
		     HANDSHAKE_OK);
	keypair_wipe(&kp_b);
	return resp_len;
}

static void test_response(void)
{
	struct handshake hs_a, saved;
	struct keypair kp_a;
	uint8_t psk1[32], psk2[32], resp[MQTTIP_RESPONSE_MIN_LEN], bad[MQTTIP_RESPONSE_MIN_LEN];
	size_t len;
	unsigned wrong_code = 0;

	randombytes_buf(psk1, sizeof(psk1));
	randombytes_buf(psk2, sizeof(psk2));

	len = respond(&hs_a, psk1, psk2, resp);
	CHECK_EQ_INT(handshake_response_consume(&hs_a, resp, len, &kp_a, NOW_MS, g_ext, &g_ext_len),
		     HANDSHAKE_ERR_DECRYPT);
	len = respond(&hs_a, psk1, NULL, resp);
	CHECK_EQ_INT(handshake_response_consume(&hs_a, resp, len, &kp_a, NOW_MS, g_ext, &g_ext_len),
		     HANDSHAKE_ERR_DECRYPT);

	/* Refused responses leave the pending initiation intact: the genuine one still works. */
	len = respond(&hs_a, NULL, NULL, resp);
	memcpy(&saved, &hs_a, sizeof(saved));
	memcpy(bad, resp, len);
	bad[8] ^= 1;
	handshake_mac1_write(bad, len, alice.pub);
	CHECK_EQ_INT(handshake_response_consume(&hs_a, bad, len, &kp_a, NOW_MS, g_ext, &g_ext_len),
		     HANDSHAKE_ERR_INDEX);
	for (size_t i = 12; i < len - 16; i++) {
		memcpy(bad, resp, len);
		bad[i] ^= 0x08;
		if (handshake_response_consume(&hs_a, bad, len, &kp_a, NOW_MS, g_ext, &g_ext_len) !=
		    HANDSHAKE_ERR_MAC1)
			wrong_code++;
		handshake_mac1_write(bad, len, alice.pub);
		if (handshake_response_consume(&hs_a, bad, len, &kp_a, NOW_MS, g_ext, &g_ext_len) !=
		    HANDSHAKE_ERR_DECRYPT)
			wrong_code++;
	}
	CHECK_EQ_INT(wrong_code, 0);
	memcpy(bad, resp, len);
	bad[1] ^= 1;
	CHECK_EQ_INT(handshake_response_consume(&hs_a, bad, len, &kp_a, NOW_MS, g_ext, &g_ext_len),
		     HANDSHAKE_ERR_MALFORMED);
	CHECK_EQ_INT(
	    handshake_response_consume(&hs_a, resp, len - 1, &kp_a, NOW_MS, g_ext, &g_ext_len),
	    HANDSHAKE_ERR_MALFORMED);
	memcpy(bad, resp, len);
	bad[len - 1] ^= 1;
	CHECK_EQ_INT(handshake_response_consume(&hs_a, bad, len, &kp_a, NOW_MS, g_ext, &g_ext_len),
		     HANDSHAKE_ERR_MAC1);
	CHECK(memcmp(&saved, &hs_a, sizeof(saved)) == 0);
	CHECK_EQ_INT(handshake_response_consume(&hs_a, resp, len, &kp_a, NOW_MS, g_ext, &g_ext_len),
		     HANDSHAKE_OK);
	CHECK(kp_a.valid);
	keypair_wipe(&kp_a);
	sodium_memzero(&saved, sizeof(saved));
}

static void test_state_and_buffers(void)
{
	struct handshake hs, hs_b;
	struct keypair kp;
	uint8_t msg[MQTTIP_INITIATION_MAX_LEN], resp[MQTTIP_RESPONSE_MIN_LEN] = {0};
	size_t len = 0;
	struct node a = alice;

	memset(&hs, 0, sizeof(hs));
	CHECK_EQ_INT(
	    handshake_response_consume(&hs, resp, sizeof(resp), &kp, NOW_MS, g_ext, &g_ext_len),
	    HANDSHAKE_ERR_STATE);
	CHECK_EQ_INT(
	    handshake_response_create(&hs, NULL, 1, NULL, 0, resp, sizeof(resp), &len, &kp, NOW_MS),
	    HANDSHAKE_ERR_STATE);
	CHECK_EQ_INT(handshake_initiation_create(
			 &hs, &alice.local, &alice.addr, &bob.addr, bob.pub, NULL, 1, ts1, msg,
			 MQTTIP_INITIATION_FIXED_LEN + alice.cert_len - 1, &len),
		     HANDSHAKE_ERR_BUFFER);
	a.local.cert_len = 0;
	CHECK_EQ_INT(handshake_initiation_create(&hs, &a.local, &alice.addr, &bob.addr, bob.pub,
						 NULL, 1, ts1, msg, sizeof(msg), &len),
		     HANDSHAKE_ERR_INVALID);
	a.local.cert_len = MQTTIP_CERT_MAX_LEN + 1;
	CHECK_EQ_INT(handshake_initiation_create(&hs, &a.local, &alice.addr, &bob.addr, bob.pub,
						 NULL, 1, ts1, msg, sizeof(msg), &len),
		     HANDSHAKE_ERR_INVALID);

	len = initiate(&hs, &alice, &bob, NULL, ts1, msg);
	CHECK_EQ_INT(
	    handshake_response_create(&hs, NULL, 1, NULL, 0, resp, sizeof(resp), &len, &kp, NOW_MS),
	    HANDSHAKE_ERR_STATE);
	CHECK(all_zero(&hs, sizeof(hs)));

	len = initiate(&hs, &alice, &bob, NULL, ts1, msg);
	CHECK_EQ_INT(consume(&hs_b, &bob, &alice.addr, NULL, msg, len), HANDSHAKE_OK);
	CHECK_EQ_INT(
	    handshake_response_consume(&hs_b, resp, sizeof(resp), &kp, NOW_MS, g_ext, &g_ext_len),
	    HANDSHAKE_ERR_STATE);
	CHECK_EQ_INT(handshake_response_create(&hs_b, NULL, 1, NULL, 0, resp, sizeof(resp) - 1,
					       &len, &kp, NOW_MS),
		     HANDSHAKE_ERR_BUFFER);
	CHECK(all_zero(&hs_b, sizeof(hs_b)));
	handshake_wipe(&hs);

	CHECK_EQ_INT(handshake_message_type(msg, 0), -1);
	CHECK_EQ_INT(handshake_sender_index(msg, 7, &kp.local_index), -1);
	CHECK(strcmp(handshake_strerror(HANDSHAKE_ERR_REPLAY), handshake_strerror(HANDSHAKE_OK)));
	CHECK(strcmp(handshake_strerror(HANDSHAKE_ERR_DECRYPT),
		     handshake_strerror(HANDSHAKE_ERR_MAC1)));
}

int main(void)
{
	if (sodium_init() < 0)
		return 2;
	crypto_sign_keypair(ca_pk, ca_sk);
	crypto_sign_keypair(ca2_pk, ca2_sk);
	node_init(&alice, "alice", v4(10, 0, 0, 1));
	node_init(&bob, "bob", v4(10, 0, 0, 2));
	handshake_tai64n(NOW_UNIX - 100, 5, ts1);
	handshake_tai64n(NOW_UNIX - 100, 6, ts2);

	test_tai64n();
	test_happy_paths();
	test_tampered_initiation();
	test_prologue_binding();
	test_replay();
	test_certificates();
	test_response();
	test_state_and_buffers();
	return check_done();
}
