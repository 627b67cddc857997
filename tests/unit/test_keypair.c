/* test_keypair.c - transport messages: the bytes on the wire checked by hand and against plain
 * libsodium calls, tampering, replay, reordering, timers on a fake clock, counter limits, wipe. */
#include <sodium.h>

#include "check.h"
#include "keypair.h"

#define HDR MQTTIP_TRANSPORT_HEADER_LEN
#define TAG MQTTIP_AEAD_TAG_LEN
#define T0  UINT64_C(1000000) /* birth time of the test keypairs */

static uint8_t key_ab[MQTTIP_KEY_LEN], key_ba[MQTTIP_KEY_LEN];
static const struct keypair_params *defaults(void)
{
	static struct keypair_params p;

	p = keypair_params_default();
	return &p;
}

/* a: initiator, writes to b with receiver index 0x11223344; b: responder, index 0x11223344. */
static void make_pair(struct keypair *a, struct keypair *b)
{
	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	memcpy(a->send_key, key_ab, sizeof(key_ab));
	memcpy(a->recv_key, key_ba, sizeof(key_ba));
	memcpy(b->send_key, key_ba, sizeof(key_ba));
	memcpy(b->recv_key, key_ab, sizeof(key_ab));
	replay_init(&a->replay);
	replay_init(&b->replay);
	a->local_index = 0xaabbccdd;
	a->remote_index = 0x11223344;
	b->local_index = 0x11223344;
	b->remote_index = 0xaabbccdd;
	a->birth_ms = b->birth_ms = T0;
	a->is_initiator = true;
	a->valid = b->valid = true;
}

static void hand_header(uint8_t hdr[HDR], uint32_t index, uint64_t counter)
{
	hdr[0] = 4;
	hdr[1] = hdr[2] = hdr[3] = 0;
	for (int i = 0; i < 4; i++)
		hdr[4 + i] = (uint8_t)(index >> (8 * i));
	for (int i = 0; i < 8; i++)
		hdr[8 + i] = (uint8_t)(counter >> (8 * i));
}

static void hand_nonce(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

static size_t seal_text(struct keypair *kp, uint64_t now, uint8_t *buf, size_t cap,
			const char *text)
{
	size_t len = strlen(text), msg_len = 0;

	memcpy(buf + HDR, text, len);
	CHECK_EQ_INT(keypair_seal(kp, now, defaults(), buf, cap, len, &msg_len), KEYPAIR_OK);
	return msg_len;
}

/* The sealed bytes are header || ChaCha20-Poly1305-IETF(key, nonce, AD = header) with header and
 * nonce built here by hand; plain libsodium opens them. */
static void test_wire_bytes_against_libsodium(void)
{
	struct keypair a, b;
	uint8_t buf[128], hdr[HDR], nonce[12], plain[128];
	unsigned long long plain_len = 0;
	const char *text = "an IP packet";
	size_t n = strlen(text), len;

	make_pair(&a, &b);
	a.send_counter = UINT64_C(0x0102030405060708);
	len = seal_text(&a, T0, buf, sizeof(buf), text);
	CHECK_EQ_INT(len, HDR + n + TAG);
	CHECK_EQ_INT(a.send_counter, UINT64_C(0x0102030405060709));
	{
		const uint8_t expect_hdr[HDR] = {4, 0, 0, 0, 0x44, 0x33, 0x22, 0x11,
						 8, 7, 6, 5, 4,	   3,	 2,    1};
		CHECK_MEM(buf, expect_hdr, HDR);
	}
	hand_header(hdr, 0x11223344, UINT64_C(0x0102030405060708));
	hand_nonce(nonce, UINT64_C(0x0102030405060708));
	CHECK_EQ_INT(crypto_aead_chacha20poly1305_ietf_decrypt(plain, &plain_len, NULL, buf + HDR,
							       len - HDR, hdr, HDR, nonce, key_ab),
		     0);
	CHECK_EQ_INT(plain_len, n);
	CHECK_MEM(plain, text, n);

	/* The other way: a message made by plain libsodium opens, body in place. */
	{
		uint8_t msg[128];
		unsigned long long clen = 0;
		uint8_t *body = NULL;
		size_t body_len = 0;

		hand_header(msg, 0xaabbccdd, 7);
		hand_nonce(nonce, 7);
		crypto_aead_chacha20poly1305_ietf_encrypt(msg + HDR, &clen, (const uint8_t *)text,
							  n, msg, HDR, NULL, nonce, key_ba);
		CHECK_EQ_INT(
		    keypair_open(&a, T0, defaults(), msg, HDR + (size_t)clen, &body, &body_len),
		    KEYPAIR_OK);
		CHECK(body == msg + HDR);
		CHECK_EQ_INT(body_len, n);
		CHECK_MEM(body, text, n);
	}
}

static void test_roundtrip_replay_reorder(void)
{
	struct keypair a, b;
	uint8_t msgs[10][64], copy[64];
	size_t lens[10];
	uint8_t *body;
	size_t body_len;

	make_pair(&a, &b);
	for (int i = 0; i < 10; i++)
		lens[i] = seal_text(&a, T0, msgs[i], sizeof(msgs[i]), "0123456789");
	/* Reverse order: all within the window, all accepted. */
	for (int i = 9; i >= 0; i--) {
		memcpy(copy, msgs[i], lens[i]);
		CHECK_EQ_INT(keypair_open(&b, T0, defaults(), copy, lens[i], &body, &body_len),
			     KEYPAIR_OK);
		CHECK_EQ_INT(body_len, 10);
		CHECK_MEM(body, "0123456789", 10);
	}
	for (int i = 0; i < 10; i++) {
		memcpy(copy, msgs[i], lens[i]);
		CHECK_EQ_INT(keypair_open(&b, T0, defaults(), copy, lens[i], &body, &body_len),
			     KEYPAIR_ERR_REPLAY);
	}
	/* Empty body = keepalive: exactly the overhead. */
	{
		size_t len = 0;

		CHECK_EQ_INT(keypair_seal(&a, T0, defaults(), copy, sizeof(copy), 0, &len),
			     KEYPAIR_OK);
		CHECK_EQ_INT(len, MQTTIP_TRANSPORT_OVERHEAD);
		CHECK_EQ_INT(keypair_open(&b, T0, defaults(), copy, len, &body, &body_len),
			     KEYPAIR_OK);
		CHECK_EQ_INT(body_len, 0);
	}
	/* Wrong direction's key. */
	lens[0] = seal_text(&a, T0, msgs[0], sizeof(msgs[0]), "x");
	CHECK_EQ_INT(keypair_open(&a, T0, defaults(), msgs[0], lens[0], &body, &body_len),
		     KEYPAIR_ERR_AUTH);
}

/* Flip each byte of a small message in turn (low and high bit): refused every time, with the
 * error of the check that catches it, and the window does not move; the genuine message still
 * opens afterwards. A message far ahead with a bad tag must not move the window either. */
static void test_tampering(void)
{
	struct keypair a, b;
	uint8_t msg[64], copy[64], *body;
	size_t len, body_len;
	struct replay_window before;
	unsigned wrong_error = 0, accepted = 0;

	make_pair(&a, &b);
	a.send_counter = 300;
	len = seal_text(&a, T0, msg, sizeof(msg), "8 bytes!");
	CHECK_EQ_INT(len, 40);
	before = b.replay;
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			int expect = i < 4 ? KEYPAIR_ERR_MALFORMED : KEYPAIR_ERR_AUTH;
			int rc;

			memcpy(copy, msg, len);
			copy[i] ^= (uint8_t)(1u << bit);
			rc = keypair_open(&b, T0, defaults(), copy, len, &body, &body_len);
			if (rc == KEYPAIR_OK)
				accepted++;
			else if (rc != expect)
				wrong_error++;
		}
	}
	CHECK_EQ_INT(accepted, 0);
	CHECK_EQ_INT(wrong_error, 0);
	CHECK_MEM(&b.replay, &before, sizeof(before));

	a.send_counter = 100000;
	{
		uint8_t ahead[64];
		size_t ahead_len = seal_text(&a, T0, ahead, sizeof(ahead), "later");

		ahead[ahead_len - 1] ^= 0x55;
		CHECK_EQ_INT(keypair_open(&b, T0, defaults(), ahead, ahead_len, &body, &body_len),
			     KEYPAIR_ERR_AUTH);
		CHECK_MEM(&b.replay, &before, sizeof(before));
	}
	/* Truncated by one byte, or one byte longer (tag moves): refused too. */
	memcpy(copy, msg, len);
	CHECK_EQ_INT(keypair_open(&b, T0, defaults(), copy, len - 1, &body, &body_len),
		     KEYPAIR_ERR_AUTH);
	memcpy(copy, msg, len);
	copy[len] = 0;
	CHECK_EQ_INT(keypair_open(&b, T0, defaults(), copy, len + 1, &body, &body_len),
		     KEYPAIR_ERR_AUTH);
	CHECK_MEM(&b.replay, &before, sizeof(before));

	memcpy(copy, msg, len);
	CHECK_EQ_INT(keypair_open(&b, T0, defaults(), copy, len, &body, &body_len), KEYPAIR_OK);
	CHECK_MEM(body, "8 bytes!", 8);
}

static void test_lengths(void)
{
	struct keypair a, b;
	static uint8_t big[MQTTIP_MAX_TRANSPORT_MSG + 1];
	uint8_t *body;
	size_t len = 0, body_len;
	uint32_t index = 0;

	make_pair(&a, &b);
	CHECK_EQ_INT(keypair_seal(&a, T0, defaults(), big, sizeof(big), MQTTIP_MAX_BODY + 1, &len),
		     KEYPAIR_ERR_BUFFER);
	CHECK_EQ_INT(keypair_seal(&a, T0, defaults(), big, MQTTIP_TRANSPORT_OVERHEAD + 9, 10, &len),
		     KEYPAIR_ERR_BUFFER);
	CHECK_EQ_INT(keypair_seal(&a, T0, defaults(), big, 10, 0, &len), KEYPAIR_ERR_BUFFER);
	CHECK_EQ_INT(a.send_counter, 0);
	CHECK_EQ_INT(
	    keypair_seal(&a, T0, defaults(), big, MQTTIP_TRANSPORT_OVERHEAD + 10, 10, &len),
	    KEYPAIR_OK);
	CHECK_EQ_INT(keypair_seal(&a, T0, defaults(), big, sizeof(big), MQTTIP_MAX_BODY, &len),
		     KEYPAIR_OK);
	CHECK_EQ_INT(len, MQTTIP_MAX_TRANSPORT_MSG);
	CHECK_EQ_INT(transport_receiver_index(big, len, &index), 0);
	CHECK_EQ_INT(index, 0x11223344);
	CHECK_EQ_INT(transport_receiver_index(big, len + 1, &index), -1);
	CHECK_EQ_INT(transport_receiver_index(big, MQTTIP_TRANSPORT_OVERHEAD - 1, &index), -1);
	CHECK_EQ_INT(keypair_open(&b, T0, defaults(), big, len + 1, &body, &body_len),
		     KEYPAIR_ERR_MALFORMED);
	CHECK_EQ_INT(
	    keypair_open(&b, T0, defaults(), big, MQTTIP_TRANSPORT_OVERHEAD - 1, &body, &body_len),
	    KEYPAIR_ERR_MALFORMED);
	CHECK_EQ_INT(keypair_open(&b, T0, defaults(), big, len, &body, &body_len), KEYPAIR_OK);
	CHECK_EQ_INT(body_len, MQTTIP_MAX_BODY);
	big[0] = MQTTIP_MSG_RESPONSE;
	CHECK_EQ_INT(transport_receiver_index(big, len, &index), -1);
	CHECK(strlen(keypair_strerror(KEYPAIR_ERR_REPLAY)) > 0);
	CHECK(strlen(keypair_strerror(12345)) > 0);
}

/* Fake clock: rekey wanted at 120 s (initiator only), seal and open refused from 180 s. */
static void test_timers(void)
{
	struct keypair a, b;
	struct keypair_params p = keypair_params_default();
	uint8_t msg[64], *body;
	size_t len, body_len;

	CHECK_EQ_INT(p.rekey_after_ms, 120000);
	CHECK_EQ_INT(p.reject_after_ms, 180000);
	make_pair(&a, &b);
	CHECK(!keypair_wants_rekey(&a, T0, &p));
	CHECK(!keypair_wants_rekey(&a, T0 + 119999, &p));
	CHECK(keypair_wants_rekey(&a, T0 + 120000, &p));
	CHECK(!keypair_wants_rekey(&b, T0 + 120000, &p));
	CHECK(!keypair_wants_rekey(&b, T0 + 179999, &p));
	CHECK(keypair_wants_rekey(&b, T0 + 180000, &p));
	CHECK(!keypair_is_expired(&a, T0 + 179999, &p));
	CHECK(keypair_is_expired(&a, T0 + 180000, &p));
	CHECK(keypair_can_seal(&a, T0 + 179999, &p));
	CHECK(!keypair_can_seal(&a, T0 + 180000, &p));
	/* A clock reading before birth is age 0, not "very old". */
	CHECK(!keypair_is_expired(&a, T0 - 1, &p));

	len = seal_text(&a, T0 + 179999, msg, sizeof(msg), "late");
	CHECK_EQ_INT(keypair_open(&b, T0 + 180000, &p, msg, len, &body, &body_len),
		     KEYPAIR_ERR_EXPIRED);
	CHECK_EQ_INT(keypair_open(&b, T0 + 179999, &p, msg, len, &body, &body_len), KEYPAIR_OK);
	memcpy(msg + HDR, "late", 4);
	CHECK_EQ_INT(keypair_seal(&a, T0 + 180000, &p, msg, sizeof(msg), 4, &len),
		     KEYPAIR_ERR_EXPIRED);

	/* Configurable. */
	p.rekey_after_ms = 10;
	p.reject_after_ms = 20;
	make_pair(&a, &b);
	CHECK(!keypair_wants_rekey(&a, T0 + 9, &p));
	CHECK(keypair_wants_rekey(&a, T0 + 10, &p));
	CHECK(!keypair_wants_rekey(&b, T0 + 19, &p));
	len = seal_text(&a, T0 + 19, msg, sizeof(msg), "x");
	CHECK_EQ_INT(keypair_open(&b, T0 + 20, &p, msg, len, &body, &body_len),
		     KEYPAIR_ERR_EXPIRED);
	CHECK_EQ_INT(keypair_seal(&a, T0 + 20, &p, msg, sizeof(msg), 1, &len), KEYPAIR_ERR_EXPIRED);
}

static void test_counter_limits(void)
{
	struct keypair a, b;
	struct keypair_params p = keypair_params_default();
	uint8_t msg[64], hdr[HDR], nonce[12], *body;
	size_t len, body_len;
	unsigned long long clen;

	make_pair(&a, &b);
	a.send_counter = MQTTIP_REJECT_AFTER_MESSAGES - 1;
	len = seal_text(&a, T0, msg, sizeof(msg), "last");
	hand_header(hdr, 0x11223344, MQTTIP_REJECT_AFTER_MESSAGES - 1);
	CHECK_MEM(msg, hdr, HDR);
	CHECK_EQ_INT(keypair_open(&b, T0, &p, msg, len, &body, &body_len), KEYPAIR_OK);
	CHECK_EQ_INT(keypair_seal(&a, T0, &p, msg, sizeof(msg), 4, &len), KEYPAIR_ERR_EXHAUSTED);
	CHECK_EQ_INT(a.send_counter, MQTTIP_REJECT_AFTER_MESSAGES);
	CHECK(!keypair_can_seal(&a, T0, &p));
	CHECK(keypair_wants_rekey(&a, T0, &p));

	/* A correctly encrypted message at the limit is refused before decryption. */
	hand_header(msg, 0x11223344, MQTTIP_REJECT_AFTER_MESSAGES);
	hand_nonce(nonce, MQTTIP_REJECT_AFTER_MESSAGES);
	crypto_aead_chacha20poly1305_ietf_encrypt(msg + HDR, &clen, (const uint8_t *)"x", 1, msg,
						  HDR, NULL, nonce, key_ab);
	CHECK_EQ_INT(keypair_open(&b, T0, &p, msg, HDR + (size_t)clen, &body, &body_len),
		     KEYPAIR_ERR_EXHAUSTED);

	/* Rekey on messages applies to either side. */
	make_pair(&a, &b);
	b.send_counter = MQTTIP_REKEY_AFTER_MESSAGES - 1;
	CHECK(!keypair_wants_rekey(&b, T0, &p));
	b.send_counter = MQTTIP_REKEY_AFTER_MESSAGES;
	CHECK(keypair_wants_rekey(&b, T0, &p));

	/* Configured limits. */
	p.rekey_after_messages = 2;
	p.reject_after_messages = 3;
	make_pair(&a, &b);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(keypair_wants_rekey(&b, T0, &p), i >= 2);
		len = seal_text(&b, T0, msg, sizeof(msg), "y");
		CHECK_EQ_INT(keypair_open(&a, T0, &p, msg, len, &body, &body_len), KEYPAIR_OK);
	}
	CHECK_EQ_INT(keypair_seal(&b, T0, &p, msg, sizeof(msg), 1, &len), KEYPAIR_ERR_EXHAUSTED);
	b.send_counter = 3;
	p.reject_after_messages = 4;
	len = seal_text(&b, T0, msg, sizeof(msg), "z");
	p.reject_after_messages = 3;
	CHECK_EQ_INT(keypair_open(&a, T0, &p, msg, len, &body, &body_len), KEYPAIR_ERR_EXHAUSTED);
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		if (b[i])
			return 0;
	}
	return 1;
}

static void test_wipe(void)
{
	struct keypair a, b;
	uint8_t msg[64], *body;
	size_t len, body_len;

	make_pair(&a, &b);
	len = seal_text(&a, T0, msg, sizeof(msg), "before wipe");
	keypair_wipe(&b);
	CHECK(!b.valid);
	CHECK(all_zero(&b, sizeof(b)));
	CHECK_EQ_INT(keypair_open(&b, T0, defaults(), msg, len, &body, &body_len),
		     KEYPAIR_ERR_INVALID);
	keypair_wipe(&a);
	CHECK(all_zero(&a, sizeof(a)));
	CHECK_EQ_INT(keypair_seal(&a, T0, defaults(), msg, sizeof(msg), 1, &len),
		     KEYPAIR_ERR_INVALID);
	CHECK(keypair_is_expired(&a, T0, defaults()));
	CHECK(keypair_wants_rekey(&a, T0, defaults()));
}

int main(void)
{
	if (sodium_init() < 0)
		return 2;
	randombytes_buf(key_ab, sizeof(key_ab));
	randombytes_buf(key_ba, sizeof(key_ba));
	test_wire_bytes_against_libsodium();
	test_roundtrip_replay_reorder();
	test_tampering();
	test_lengths();
	test_timers();
	test_counter_limits();
	test_wipe();
	return check_done();
}
