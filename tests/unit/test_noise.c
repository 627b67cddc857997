/* test_noise.c - CipherState and HandshakeState behaviour that the cacophony vectors do not
 * exercise: key-less pass-through, in-place operation, nonce exhaustion, tampering, low-order
 * keys, truncation, calls out of turn, late psks, and a full IKpsk2 run with random keys. */
#include <sodium.h>

#include "check.h"
#include "noise.h"

#define IKPSK2 "Noise_IKpsk2_25519_ChaChaPoly_SHA256"

static const uint8_t prologue[] = "test prologue";

static void set_key(struct noise_cipherstate *cs, uint8_t fill)
{
	memset(cs, 0, sizeof(*cs));
	memset(cs->k, fill, sizeof(cs->k));
	cs->has_key = true;
}

static void test_cipher_without_key(void)
{
	struct noise_cipherstate cs = {0};
	uint8_t in[5] = {1, 2, 3, 4, 5}, out[5] = {0};
	size_t len = 0;

	CHECK_EQ_INT(noise_cipher_encrypt(&cs, (const uint8_t *)"ad", 2, in, 5, out, 5, &len),
		     NOISE_OK);
	CHECK_EQ_INT(len, 5);
	CHECK_MEM(out, in, 5);
	CHECK_EQ_INT(cs.n, 0);
	CHECK_EQ_INT(noise_cipher_decrypt(&cs, NULL, 0, out, 5, out, 5, &len), NOISE_OK);
	CHECK_MEM(out, in, 5);
	CHECK_EQ_INT(noise_cipher_encrypt(&cs, NULL, 0, in, 5, out, 4, &len), NOISE_ERR_BUFFER);
}

/* Checked against a plain libsodium call with a hand-built nonce: 4 zero bytes || n LE. */
static void test_cipher_in_place(void)
{
	struct noise_cipherstate cs;
	uint8_t buf[64], plain[48], expect[64];
	uint8_t nonce[12] = {0, 0, 0, 0, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x00};
	unsigned long long elen;
	size_t len = 0;

	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 7);
	set_key(&cs, 0x42);
	cs.n = 0x0001020304050607ull;
	crypto_aead_chacha20poly1305_ietf_encrypt(expect, &elen, plain, sizeof(plain),
						  (const uint8_t *)"hdr", 3, NULL, nonce, cs.k);
	memcpy(buf, plain, sizeof(plain));
	CHECK_EQ_INT(noise_cipher_encrypt(&cs, (const uint8_t *)"hdr", 3, buf, sizeof(plain), buf,
					  sizeof(buf), &len),
		     NOISE_OK);
	CHECK_EQ_INT(len, sizeof(plain) + 16);
	CHECK_EQ_INT(elen, len);
	CHECK_MEM(buf, expect, sizeof(expect));
	CHECK(cs.n == 0x0001020304050608ull);

	cs.n = 0x0001020304050607ull;
	CHECK_EQ_INT(
	    noise_cipher_decrypt(&cs, (const uint8_t *)"hdr", 3, buf, len, buf, sizeof(buf), &len),
	    NOISE_OK);
	CHECK_EQ_INT(len, sizeof(plain));
	CHECK_MEM(buf, plain, sizeof(plain));
	noise_cipher_wipe(&cs);
	CHECK(!cs.has_key && cs.n == 0 && sodium_is_zero(cs.k, sizeof(cs.k)));
}

static void test_cipher_nonce_exhaustion(void)
{
	struct noise_cipherstate cs;
	uint8_t buf[32] = {0};
	size_t len;

	set_key(&cs, 1);
	cs.n = UINT64_MAX - 1;
	CHECK_EQ_INT(noise_cipher_encrypt(&cs, NULL, 0, buf, 4, buf, sizeof(buf), &len), NOISE_OK);
	CHECK(cs.n == UINT64_MAX);
	CHECK_EQ_INT(noise_cipher_encrypt(&cs, NULL, 0, buf, 4, buf, sizeof(buf), &len),
		     NOISE_ERR_NONCE);
	CHECK(cs.n == UINT64_MAX);
	CHECK_EQ_INT(noise_cipher_decrypt(&cs, NULL, 0, buf, 20, buf, sizeof(buf), &len),
		     NOISE_ERR_NONCE);
}

static void test_cipher_tamper(void)
{
	struct noise_cipherstate a, b;
	uint8_t msg[10] = "abcdefghi", ct[26], out[10];
	size_t len;

	set_key(&a, 9);
	set_key(&b, 9);
	CHECK_EQ_INT(noise_cipher_encrypt(&a, NULL, 0, msg, 10, ct, sizeof(ct), &len), NOISE_OK);
	for (size_t i = 0; i < sizeof(ct); i++) {
		ct[i] ^= 0x80;
		CHECK_EQ_INT(
		    noise_cipher_decrypt(&b, NULL, 0, ct, sizeof(ct), out, sizeof(out), &len),
		    NOISE_ERR_DECRYPT);
		ct[i] ^= 0x80;
	}
	CHECK(b.n == 0);
	memset(out, 0x55, sizeof(out));
	ct[3] ^= 1;
	CHECK_EQ_INT(noise_cipher_decrypt(&b, NULL, 0, ct, sizeof(ct), out, sizeof(out), &len),
		     NOISE_ERR_DECRYPT);
	CHECK(sodium_is_zero(out, sizeof(out)));
	ct[3] ^= 1;
	CHECK_EQ_INT(noise_cipher_decrypt(&b, (const uint8_t *)"x", 1, ct, sizeof(ct), out,
					  sizeof(out), &len),
		     NOISE_ERR_DECRYPT);
	CHECK_EQ_INT(noise_cipher_decrypt(&b, NULL, 0, ct, 15, out, sizeof(out), &len),
		     NOISE_ERR_DECRYPT);
	CHECK_EQ_INT(noise_cipher_decrypt(&b, NULL, 0, ct, sizeof(ct), out, sizeof(out), &len),
		     NOISE_OK);
	CHECK_MEM(out, msg, 10);
}

/* RFC 5869 test case 3 (empty salt == 32 zero bytes as an HMAC key, empty info). */
static void test_hkdf(void)
{
	static const uint8_t okm[42] = {
	    0x8d, 0xa4, 0xe7, 0x75, 0xa5, 0x63, 0xc1, 0x8f, 0x71, 0x5f, 0x80, 0x2a, 0x06, 0x3c,
	    0x5a, 0x31, 0xb8, 0xa1, 0x1f, 0x5c, 0x5e, 0xe1, 0x87, 0x9e, 0xc3, 0x45, 0x4e, 0x5f,
	    0x3c, 0x73, 0x8d, 0x2d, 0x9d, 0x20, 0x13, 0x95, 0xfa, 0xa4, 0xb6, 0x1a, 0x96, 0xc8};
	uint8_t ck[32] = {0}, ikm[22], o1[32], o2[32], o3[32];

	memset(ikm, 0x0b, sizeof(ikm));
	noise_hkdf(ck, ikm, sizeof(ikm), o1, o2, NULL);
	CHECK_MEM(o1, okm, 32);
	CHECK_MEM(o2, okm + 32, 10);
	noise_hkdf(ck, ikm, sizeof(ikm), o1, o2, o3);
	CHECK_MEM(o2, okm + 32, 10);
	CHECK(memcmp(o3, o2, 32) != 0);
}

struct peer {
	uint8_t sk[32], pk[32];
};

static void peer_new(struct peer *p)
{
	crypto_box_keypair(p->pk, p->sk);
}

static int init_ikpsk2(struct noise_handshakestate *i, struct noise_handshakestate *r,
		       const struct peer *a, const struct peer *b, const uint8_t psk[32])
{
	const uint8_t(*psks)[NOISE_KEY_LEN] = (const uint8_t(*)[NOISE_KEY_LEN])psk;
	struct noise_keys ik = {.s = a->sk, .rs = b->pk, .psks = psks, .n_psks = 1};
	struct noise_keys rk = {.s = b->sk, .psks = psks, .n_psks = 1};
	int rc = noise_handshake_init(i, IKPSK2, true, prologue, sizeof(prologue), &ik);

	return rc != NOISE_OK
		   ? rc
		   : noise_handshake_init(r, IKPSK2, false, prologue, sizeof(prologue), &rk);
}

static void test_ikpsk2_full(void)
{
	struct noise_handshakestate i, r;
	struct noise_cipherstate ic1, ic2, rc1, rc2;
	struct peer a, b;
	uint8_t psk[32], m1[256], m2[256], pl[64], t[64];
	size_t l1, l2, pl_len, tl;

	peer_new(&a);
	peer_new(&b);
	randombytes_buf(psk, sizeof(psk));
	CHECK_EQ_INT(init_ikpsk2(&i, &r, &a, &b, psk), NOISE_OK);
	CHECK(noise_handshake_is_my_turn(&i) && !noise_handshake_is_my_turn(&r));
	CHECK(!noise_handshake_is_one_way(&i));

	CHECK_EQ_INT(
	    noise_handshake_write_message(&i, (const uint8_t *)"hello", 5, m1, sizeof(m1), &l1),
	    NOISE_OK);
	/* e (32) || s (32+16) || payload (5+16) */
	CHECK_EQ_INT(l1, 32 + 48 + 5 + 16);
	CHECK_EQ_INT(noise_handshake_read_message(&r, m1, l1, pl, sizeof(pl), &pl_len), NOISE_OK);
	CHECK_EQ_INT(pl_len, 5);
	CHECK_MEM(pl, "hello", 5);
	CHECK(r.has_rs && memcmp(r.rs, a.pk, 32) == 0);
	CHECK(!noise_handshake_is_finished(&r) && noise_handshake_is_my_turn(&r));

	CHECK_EQ_INT(noise_handshake_write_message(&r, NULL, 0, m2, sizeof(m2), &l2), NOISE_OK);
	CHECK_EQ_INT(l2, 32 + 16);
	CHECK_EQ_INT(noise_handshake_read_message(&i, m2, l2, pl, sizeof(pl), &pl_len), NOISE_OK);
	CHECK_EQ_INT(pl_len, 0);
	CHECK(noise_handshake_is_finished(&i) && noise_handshake_is_finished(&r));
	CHECK(!noise_handshake_is_my_turn(&i) && !noise_handshake_is_my_turn(&r));
	CHECK_MEM(i.ss.h, r.ss.h, 32);

	CHECK_EQ_INT(noise_handshake_split(&i, &ic1, &ic2), NOISE_OK);
	CHECK_EQ_INT(noise_handshake_split(&r, &rc1, &rc2), NOISE_OK);
	CHECK_MEM(ic1.k, rc1.k, 32);
	CHECK_MEM(ic2.k, rc2.k, 32);
	CHECK(memcmp(ic1.k, ic2.k, 32) != 0);
	CHECK(ic1.n == 0 && ic2.n == 0 && ic1.has_key && rc2.has_key);
	CHECK(sodium_is_zero(i.ss.ck, 32) && sodium_is_zero(i.e, 32) && sodium_is_zero(i.s, 32));
	CHECK(sodium_is_zero(&i.psks[0][0], sizeof(i.psks)));
	CHECK_EQ_INT(noise_handshake_split(&i, &ic1, &ic2), NOISE_ERR_STATE);

	CHECK_EQ_INT(
	    noise_cipher_encrypt(&ic1, NULL, 0, (const uint8_t *)"data", 4, t, sizeof(t), &tl),
	    NOISE_OK);
	CHECK_EQ_INT(noise_cipher_decrypt(&rc1, NULL, 0, t, tl, pl, sizeof(pl), &pl_len), NOISE_OK);
	CHECK_MEM(pl, "data", 4);
	CHECK_EQ_INT(
	    noise_cipher_encrypt(&rc2, NULL, 0, (const uint8_t *)"back", 4, t, sizeof(t), &tl),
	    NOISE_OK);
	CHECK_EQ_INT(noise_cipher_decrypt(&ic2, NULL, 0, t, tl, pl, sizeof(pl), &pl_len), NOISE_OK);
	CHECK_MEM(pl, "back", 4);

	noise_handshake_wipe(&i);
	CHECK(sodium_is_zero((const uint8_t *)&i, sizeof(i)));
	noise_handshake_wipe(&r);
}

/* A different psk on one side must fail the response, not the initiation (psk2). */
static void test_ikpsk2_psk_mismatch_and_late_psk(void)
{
	struct noise_handshakestate i, r;
	struct peer a, b;
	uint8_t psk[32], other[32], m1[256], m2[256], pl[64];
	size_t l1, l2, pl_len;
	struct noise_keys rk;

	peer_new(&a);
	peer_new(&b);
	randombytes_buf(psk, sizeof(psk));
	memcpy(other, psk, 32);
	other[31] ^= 1;
	CHECK_EQ_INT(init_ikpsk2(&i, &r, &a, &b, psk), NOISE_OK);
	CHECK_EQ_INT(noise_handshake_write_message(&i, NULL, 0, m1, sizeof(m1), &l1), NOISE_OK);

	/* Responder without a psk: reads message 1, is refused to write before setting it. */
	rk = (struct noise_keys){.s = b.sk};
	CHECK_EQ_INT(noise_handshake_init(&r, IKPSK2, false, prologue, sizeof(prologue), &rk),
		     NOISE_OK);
	CHECK_EQ_INT(noise_handshake_read_message(&r, m1, l1, pl, sizeof(pl), &pl_len), NOISE_OK);
	CHECK_EQ_INT(noise_handshake_write_message(&r, NULL, 0, m2, sizeof(m2), &l2),
		     NOISE_ERR_STATE);
	CHECK_EQ_INT(noise_handshake_set_psk(&r, 1, other), NOISE_ERR_STATE);
	CHECK_EQ_INT(noise_handshake_set_psk(&r, 0, other), NOISE_OK);
	CHECK_EQ_INT(noise_handshake_write_message(&r, NULL, 0, m2, sizeof(m2), &l2), NOISE_OK);
	CHECK_EQ_INT(noise_handshake_set_psk(&r, 0, psk), NOISE_ERR_STATE);
	CHECK_EQ_INT(noise_handshake_read_message(&i, m2, l2, pl, sizeof(pl), &pl_len),
		     NOISE_ERR_DECRYPT);
	/* The failed handshake is dead. */
	CHECK_EQ_INT(noise_handshake_read_message(&i, m2, l2, pl, sizeof(pl), &pl_len),
		     NOISE_ERR_STATE);
	noise_handshake_wipe(&i);
	noise_handshake_wipe(&r);
}

static void test_low_order_keys(void)
{
	struct noise_handshakestate i, r;
	struct peer a, b;
	uint8_t zero[32] = {0}, psk[32] = {0}, m[256], pl[64];
	size_t l, pl_len;
	struct noise_keys ik;

	peer_new(&a);
	peer_new(&b);
	/* IK initiator with an all-zero remote static: "es" yields zeros. */
	ik = (struct noise_keys){.s = a.sk, .rs = zero};
	CHECK_EQ_INT(
	    noise_handshake_init(&i, "Noise_IK_25519_ChaChaPoly_SHA256", true, NULL, 0, &ik),
	    NOISE_OK);
	CHECK_EQ_INT(noise_handshake_write_message(&i, NULL, 0, m, sizeof(m), &l), NOISE_ERR_DH);
	CHECK_EQ_INT(noise_handshake_write_message(&i, NULL, 0, m, sizeof(m), &l), NOISE_ERR_STATE);

	/* IKpsk2 responder receiving an all-zero ephemeral. */
	CHECK_EQ_INT(init_ikpsk2(&i, &r, &a, &b, psk), NOISE_OK);
	CHECK_EQ_INT(noise_handshake_write_message(&i, NULL, 0, m, sizeof(m), &l), NOISE_OK);
	memset(m, 0, 32);
	CHECK_EQ_INT(noise_handshake_read_message(&r, m, l, pl, sizeof(pl), &pl_len), NOISE_ERR_DH);

	/* NN responder: the all-zero e reads fine, "ee" on its write fails. */
	ik = (struct noise_keys){0};
	CHECK_EQ_INT(
	    noise_handshake_init(&r, "Noise_NN_25519_ChaChaPoly_SHA256", false, NULL, 0, &ik),
	    NOISE_OK);
	CHECK_EQ_INT(noise_handshake_read_message(&r, zero, 32, pl, sizeof(pl), &pl_len), NOISE_OK);
	CHECK_EQ_INT(noise_handshake_write_message(&r, NULL, 0, m, sizeof(m), &l), NOISE_ERR_DH);
	noise_handshake_wipe(&i);
	noise_handshake_wipe(&r);
}

static void test_truncated(void)
{
	struct noise_handshakestate i, r;
	struct peer a, b;
	uint8_t psk[32] = {1}, m1[256], m2[256], pl[64];
	size_t l1, l2, pl_len;

	peer_new(&a);
	peer_new(&b);
	CHECK_EQ_INT(init_ikpsk2(&i, &r, &a, &b, psk), NOISE_OK);
	CHECK_EQ_INT(noise_handshake_write_message(&i, NULL, 0, m1, sizeof(m1), &l1), NOISE_OK);
	CHECK_EQ_INT(l1, 96);
	for (size_t n = 0; n < l1; n++) {
		CHECK_EQ_INT(noise_handshake_read_message(&r, m1, n, pl, sizeof(pl), &pl_len),
			     NOISE_ERR_MALFORMED);
	}
	/* Checks up front change nothing: the whole message still reads. */
	CHECK_EQ_INT(noise_handshake_read_message(&r, m1, l1, pl, 0, &pl_len), NOISE_OK);
	CHECK_EQ_INT(noise_handshake_write_message(&r, NULL, 0, m2, sizeof(m2), &l2), NOISE_OK);
	CHECK_EQ_INT(noise_handshake_read_message(&i, m2, 47, pl, sizeof(pl), &pl_len),
		     NOISE_ERR_MALFORMED);
	CHECK_EQ_INT(noise_handshake_read_message(&i, m2, l2, pl, sizeof(pl), &pl_len), NOISE_OK);
	noise_handshake_wipe(&i);
	noise_handshake_wipe(&r);
}

static void test_out_of_turn_and_buffers(void)
{
	struct noise_handshakestate i, r;
	struct noise_cipherstate c1, c2;
	struct peer a, b;
	uint8_t psk[32] = {2}, m[256], pl[64];
	size_t l, pl_len;

	peer_new(&a);
	peer_new(&b);
	CHECK_EQ_INT(init_ikpsk2(&i, &r, &a, &b, psk), NOISE_OK);
	CHECK_EQ_INT(noise_handshake_write_message(&r, NULL, 0, m, sizeof(m), &l), NOISE_ERR_STATE);
	CHECK_EQ_INT(noise_handshake_read_message(&i, m, 48, pl, sizeof(pl), &pl_len),
		     NOISE_ERR_STATE);
	CHECK_EQ_INT(noise_handshake_split(&i, &c1, &c2), NOISE_ERR_STATE);
	CHECK_EQ_INT(noise_handshake_write_message(&i, NULL, 0, m, 95, &l), NOISE_ERR_BUFFER);
	CHECK_EQ_INT(noise_handshake_write_message(&i, (const uint8_t *)"abc", 3, m, sizeof(m), &l),
		     NOISE_OK);
	CHECK_EQ_INT(noise_handshake_write_message(&i, NULL, 0, m, sizeof(m), &l), NOISE_ERR_STATE);
	CHECK_EQ_INT(noise_handshake_read_message(&r, m, l, pl, 2, &pl_len), NOISE_ERR_BUFFER);
	CHECK_EQ_INT(noise_handshake_read_message(&r, m, l, pl, 3, &pl_len), NOISE_OK);
	CHECK_EQ_INT(noise_handshake_read_message(&r, m, l, pl, 3, &pl_len), NOISE_ERR_STATE);
	noise_handshake_wipe(&i);
	noise_handshake_wipe(&r);
}

static void test_names_and_keys(void)
{
	static const char *unsupported[] = {
	    "Noise_IK_25519_ChaChaPoly_BLAKE2b",	"Noise_IK_25519_AESGCM_SHA256",
	    "Noise_IK_448_ChaChaPoly_SHA256",		"Noise_IK_25519_ChaChaPoly_SHA512",
	    "Noise_XXfallback_25519_ChaChaPoly_SHA256", "Noise_IKpsk3_25519_ChaChaPoly_SHA256",
	    "Noise_NNpsk0psk2_25519_ChaChaPoly_SHA256", "Noise_NNpsk0+psk0_25519_ChaChaPoly_SHA256",
	    "Noise_NNpsk10_25519_ChaChaPoly_SHA256",	"Noise_NNpsk_25519_ChaChaPoly_SHA256",
	    "Noise_NNpsk0+_25519_ChaChaPoly_SHA256",	"Noise_QQ_25519_ChaChaPoly_SHA256",
	    "Noise__25519_ChaChaPoly_SHA256",		"Noise_NN_25519_ChaChaPoly_SHA256x",
	    "NoiseNN_25519_ChaChaPoly_SHA256",		"",
	};
	struct noise_handshakestate hs;
	struct peer a;
	uint8_t psks[3][NOISE_KEY_LEN] = {{0}};
	struct noise_keys none = {0};
	struct noise_keys k;

	peer_new(&a);
	for (size_t n = 0; n < sizeof(unsupported) / sizeof(unsupported[0]); n++) {
		int rc = noise_handshake_init(&hs, unsupported[n], true, NULL, 0, &none);

		if (rc != NOISE_ERR_UNSUPPORTED)
			fprintf(stderr, "accepted: %s\n", unsupported[n]);
		CHECK_EQ_INT(rc, NOISE_ERR_UNSUPPORTED);
	}
	/* psk0+psk2 on NN, two psks: accepted; three: too many. */
	k = (struct noise_keys){.psks = (const uint8_t(*)[NOISE_KEY_LEN])psks, .n_psks = 2};
	CHECK_EQ_INT(noise_handshake_init(&hs, "Noise_NNpsk0+psk2_25519_ChaChaPoly_SHA256", true,
					  NULL, 0, &k),
		     NOISE_OK);
	CHECK_EQ_INT(hs.psk_mask, 0x5);
	k.n_psks = 3;
	CHECK_EQ_INT(noise_handshake_init(&hs, "Noise_NNpsk0+psk2_25519_ChaChaPoly_SHA256", true,
					  NULL, 0, &k),
		     NOISE_ERR_STATE);
	/* Missing keys the pattern needs up front. */
	CHECK_EQ_INT(noise_handshake_init(&hs, IKPSK2, true, NULL, 0, &none), NOISE_ERR_STATE);
	k = (struct noise_keys){.s = a.sk};
	CHECK_EQ_INT(noise_handshake_init(&hs, IKPSK2, true, NULL, 0, &k), NOISE_ERR_STATE);
	CHECK_EQ_INT(noise_handshake_init(&hs, IKPSK2, false, NULL, 0, &k), NOISE_OK);
	CHECK_EQ_INT(
	    noise_handshake_init(&hs, "Noise_N_25519_ChaChaPoly_SHA256", false, NULL, 0, &none),
	    NOISE_ERR_STATE);
	CHECK_EQ_INT(
	    noise_handshake_init(&hs, "Noise_N_25519_ChaChaPoly_SHA256", false, NULL, 0, &k),
	    NOISE_OK);
	CHECK(noise_handshake_is_one_way(&hs));
	noise_handshake_wipe(&hs);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_cipher_without_key();
	test_cipher_in_place();
	test_cipher_nonce_exhaustion();
	test_cipher_tamper();
	test_hkdf();
	test_ikpsk2_full();
	test_ikpsk2_psk_mismatch_and_late_psk();
	test_low_order_keys();
	test_truncated();
	test_out_of_turn_and_buffers();
	test_names_and_keys();
	return check_done();
}
