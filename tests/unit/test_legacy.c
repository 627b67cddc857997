/* test_legacy.c - the MQTT_VPN codec against the foreign system's key, plain libsodium and a
 * captured message, and the nonce cache against a naive model. */
#include <stdlib.h>

#include <sodium.h>

#include "check.h"
#include "legacy.h"

#ifndef MQTTIP_LEGACY_CAPTURE
#error "MQTTIP_LEGACY_CAPTURE must name vectors/mqtt_vpn/encrypted-secret.txt"
#endif

/* From vectors/mqtt_vpn/README.md: first 32 bytes of SHA-512("secret"). */
static const char secret_key_hex[] =
    "bd2b1aaf7ef4f09be9f52ce2d8d599674d81aa9d6a4421696dc4d93dd0619d68";

static void key_of_secret(uint8_t key[MQTTIP_KEY_LEN])
{
	legacy_key_from_password("secret", 6, key);
}

static void test_key(void)
{
	uint8_t want[MQTTIP_KEY_LEN], key[MQTTIP_KEY_LEN];
	size_t n = 0;

	CHECK(sodium_hex2bin(want, sizeof(want), secret_key_hex, sizeof(secret_key_hex) - 1, NULL,
			     &n, NULL) == 0);
	CHECK_EQ_INT(n, MQTTIP_KEY_LEN);
	key_of_secret(key);
	CHECK_MEM(key, want, MQTTIP_KEY_LEN);
	legacy_key_from_password("secreT", 6, key);
	CHECK(memcmp(key, want, MQTTIP_KEY_LEN) != 0);
}

static void test_round_trip_and_libsodium(void)
{
	uint8_t key[MQTTIP_KEY_LEN], nonce[MQTTIP_LEGACY_NONCE_LEN], pkt[300];
	uint8_t msg[300 + MQTTIP_LEGACY_OVERHEAD], out[300];
	uint8_t padded[300 + crypto_secretbox_ZEROBYTES], boxed[sizeof(padded)];
	static const uint8_t zeros[MQTTIP_LEGACY_ZERO_LEN];
	size_t msg_len = 0, pkt_len = 0;

	key_of_secret(key);
	randombytes_buf(nonce, sizeof(nonce));
	randombytes_buf(pkt, sizeof(pkt));
	CHECK_EQ_INT(legacy_seal(key, nonce, pkt, sizeof(pkt), msg, sizeof(msg), &msg_len),
		     LEGACY_OK);
	CHECK_EQ_INT(msg_len, sizeof(pkt) + 56);
	CHECK_MEM(msg, nonce, 24);
	CHECK_MEM(msg + 24, zeros, 16);

	CHECK_EQ_INT(legacy_open(key, msg, msg_len, out, sizeof(out), &pkt_len), LEGACY_OK);
	CHECK_EQ_INT(pkt_len, sizeof(pkt));
	CHECK_MEM(out, pkt, sizeof(pkt));

	/* The tail after nonce and zero bytes is what crypto_secretbox_easy makes (tag || cipher).
	 */
	memset(out, 0, sizeof(out));
	CHECK(crypto_secretbox_open_easy(out, msg + 40, msg_len - 40, msg, key) == 0);
	CHECK_MEM(out, pkt, sizeof(pkt));

	/* Everything after the nonce is what MQTT_VPN's classic crypto_secretbox call makes. */
	memset(padded, 0, crypto_secretbox_ZEROBYTES);
	memcpy(padded + crypto_secretbox_ZEROBYTES, pkt, sizeof(pkt));
	CHECK(crypto_secretbox(boxed, padded, sizeof(padded), nonce, key) == 0);
	CHECK_MEM(msg + 24, boxed, sizeof(boxed));

	/* Two random seals of one packet differ in their nonce, and both open. */
	{
		uint8_t msg2[sizeof(msg)];
		size_t len2 = 0;

		CHECK_EQ_INT(legacy_seal_random(key, pkt, sizeof(pkt), msg2, sizeof(msg2), &len2),
			     LEGACY_OK);
		CHECK_EQ_INT(len2, msg_len);
		CHECK(memcmp(msg2, msg, 24) != 0);
		CHECK_EQ_INT(legacy_open(key, msg2, len2, out, sizeof(out), &pkt_len), LEGACY_OK);
		CHECK_MEM(out, pkt, sizeof(pkt));
	}
}

static void test_tampering(void)
{
	uint8_t key[MQTTIP_KEY_LEN], other[MQTTIP_KEY_LEN], nonce[24], pkt[64];
	uint8_t msg[64 + MQTTIP_LEGACY_OVERHEAD], out[64], poison[64];
	size_t msg_len = 0, pkt_len = 0;
	int refused_right = 1;

	key_of_secret(key);
	legacy_key_from_password("wrong", 5, other);
	randombytes_buf(nonce, sizeof(nonce));
	randombytes_buf(pkt, sizeof(pkt));
	memset(poison, 0xa5, sizeof(poison));
	CHECK_EQ_INT(legacy_seal(key, nonce, pkt, sizeof(pkt), msg, sizeof(msg), &msg_len),
		     LEGACY_OK);

	for (size_t i = 0; i < msg_len; i++) {
		int want = (i >= 24 && i < 40) ? LEGACY_ERR_ZERO : LEGACY_ERR_TAG;
		int got;

		memcpy(out, poison, sizeof(out));
		msg[i] ^= 0x01;
		got = legacy_open(key, msg, msg_len, out, sizeof(out), &pkt_len);
		msg[i] ^= 0x01;
		if (got != want || memcmp(out, poison, sizeof(out)) != 0) {
			refused_right = 0;
			fprintf(stderr, "flip at %zu: got %d, want %d\n", i, got, want);
		}
	}
	CHECK(refused_right);
	memcpy(out, poison, sizeof(out));
	CHECK_EQ_INT(legacy_open(other, msg, msg_len, out, sizeof(out), &pkt_len), LEGACY_ERR_TAG);
	CHECK_MEM(out, poison, sizeof(out));
	/* A truncated message (last ciphertext byte gone) must fail too. */
	CHECK_EQ_INT(legacy_open(key, msg, msg_len - 1, out, sizeof(out), &pkt_len),
		     LEGACY_ERR_TAG);
	CHECK_EQ_INT(legacy_open(key, msg, msg_len, out, sizeof(out), &pkt_len), LEGACY_OK);
}

static void test_lengths(void)
{
	uint8_t key[MQTTIP_KEY_LEN], nonce[24] = {1};
	static uint8_t big[MQTTIP_MAX_IP_PACKET + 1 + MQTTIP_LEGACY_OVERHEAD];
	static uint8_t out[MQTTIP_MAX_IP_PACKET + 1];
	uint8_t one[1] = {0x45}, msg[1 + MQTTIP_LEGACY_OVERHEAD], small[1];
	size_t len = 0, pkt_len = 0;
	int all_short_refused = 1;

	key_of_secret(key);
	for (size_t n = 0; n <= MQTTIP_LEGACY_OVERHEAD; n++) {
		if (legacy_open(key, big, n, out, sizeof(out), &pkt_len) != LEGACY_ERR_LENGTH)
			all_short_refused = 0;
	}
	CHECK(all_short_refused);
	CHECK_EQ_INT(legacy_open(key, NULL, 0, out, sizeof(out), &pkt_len), LEGACY_ERR_LENGTH);

	/* A one-byte packet is the shortest message: 57 bytes. */
	CHECK_EQ_INT(legacy_seal(key, nonce, one, 1, msg, sizeof(msg), &len), LEGACY_OK);
	CHECK_EQ_INT(len, 57);
	CHECK_EQ_INT(legacy_open(key, msg, len, small, 0, &pkt_len), LEGACY_ERR_CAP);
	CHECK_EQ_INT(legacy_open(key, msg, len, small, 1, &pkt_len), LEGACY_OK);
	CHECK_EQ_INT(pkt_len, 1);
	CHECK_EQ_INT(small[0], 0x45);

	CHECK_EQ_INT(legacy_seal(key, nonce, one, 0, msg, sizeof(msg), &len), LEGACY_ERR_LENGTH);
	CHECK_EQ_INT(legacy_seal(key, nonce, one, 1, msg, sizeof(msg) - 1, &len), LEGACY_ERR_CAP);

	/* The largest packet (MQTTIP_MAX_IP_PACKET) passes; one byte more is refused both ways. */
	memset(out, 0x45, sizeof(out));
	CHECK_EQ_INT(legacy_seal(key, nonce, out, MQTTIP_MAX_IP_PACKET, big, sizeof(big), &len),
		     LEGACY_OK);
	CHECK_EQ_INT(legacy_open(key, big, len, out, sizeof(out), &pkt_len), LEGACY_OK);
	CHECK_EQ_INT(pkt_len, MQTTIP_MAX_IP_PACKET);
	CHECK_EQ_INT(legacy_seal(key, nonce, out, MQTTIP_MAX_IP_PACKET + 1, big, sizeof(big), &len),
		     LEGACY_ERR_LENGTH);
	CHECK_EQ_INT(legacy_open(key, big, sizeof(big), out, sizeof(out), &pkt_len),
		     LEGACY_ERR_LENGTH);
}

static void nonce_of(uint32_t v, uint8_t nonce[MQTTIP_LEGACY_NONCE_LEN])
{
	memset(nonce, 0x5c, MQTTIP_LEGACY_NONCE_LEN);
	nonce[0] = (uint8_t)v;
	nonce[1] = (uint8_t)(v >> 8);
	nonce[2] = (uint8_t)(v >> 16);
}

static void test_cache_basic(void)
{
	static struct legacy_nonce_cache cache;
	static const uint8_t key[LEGACY_NONCE_CACHE_KEY_LEN] = {7};
	uint8_t n[MQTTIP_LEGACY_NONCE_LEN];
	int ok = 1;

	CHECK(sizeof(cache) <= 4096);
	legacy_nonce_cache_init(&cache, key);
	nonce_of(1, n);
	CHECK(legacy_nonce_cache_check_and_add(&cache, NULL, 0, n));
	CHECK(!legacy_nonce_cache_check_and_add(&cache, NULL, 0, n));
	nonce_of(2, n);
	CHECK(legacy_nonce_cache_check_and_add(&cache, NULL, 0, n));
	nonce_of(1, n);
	CHECK(!legacy_nonce_cache_check_and_add(&cache, NULL, 0, n));

	/* Fill to exactly N distinct nonces (1..N): every one is still refused. */
	for (uint32_t v = 3; v <= LEGACY_NONCE_CACHE_ENTRIES; v++) {
		nonce_of(v, n);
		ok &= legacy_nonce_cache_check_and_add(&cache, NULL, 0, n);
	}
	CHECK(ok);
	for (uint32_t v = 1; v <= LEGACY_NONCE_CACHE_ENTRIES; v++) {
		nonce_of(v, n);
		ok &= !legacy_nonce_cache_check_and_add(&cache, NULL, 0, n);
	}
	CHECK(ok);
	/* Nonce N+1 evicts the oldest (1) and only it. */
	nonce_of(LEGACY_NONCE_CACHE_ENTRIES + 1, n);
	CHECK(legacy_nonce_cache_check_and_add(&cache, NULL, 0, n));
	for (uint32_t v = 2; v <= LEGACY_NONCE_CACHE_ENTRIES + 1; v++) {
		nonce_of(v, n);
		ok &= !legacy_nonce_cache_check_and_add(&cache, NULL, 0, n);
	}
	CHECK(ok);
	nonce_of(1, n);
	CHECK(legacy_nonce_cache_check_and_add(&cache, NULL, 0,
					       n)); /* an old replay: the stated limit */
	CHECK(!legacy_nonce_cache_check_and_add(&cache, NULL, 0, n));
	nonce_of(2, n); /* evicted by 1's return */
	CHECK(legacy_nonce_cache_check_and_add(&cache, NULL, 0, n));

	/* A cache keyed differently agrees on behaviour. */
	legacy_nonce_cache_init_random(&cache);
	nonce_of(1, n);
	CHECK(legacy_nonce_cache_check_and_add(&cache, NULL, 0, n));
	CHECK(!legacy_nonce_cache_check_and_add(&cache, NULL, 0, n));
	legacy_nonce_cache_wipe(&cache);
}

/* Two MQTT_VPN nodes started in the same second send the same nonces: the cache is keyed by the
 * sealed source, so the second node's message is not a replay, while a true replay (same source,
 * same nonce) still is. */
static void test_cache_senders(void)
{
	static struct legacy_nonce_cache cache;
	static const uint8_t key[LEGACY_NONCE_CACHE_KEY_LEN] = {9};
	static const uint8_t a[4] = {10, 0, 1, 1}, b[4] = {10, 0, 1, 3};
	uint8_t n[MQTTIP_LEGACY_NONCE_LEN];

	legacy_nonce_cache_init(&cache, key);
	nonce_of(77, n);
	CHECK(legacy_nonce_cache_check_and_add(&cache, a, 4, n));
	CHECK(legacy_nonce_cache_check_and_add(&cache, b, 4, n));
	CHECK(!legacy_nonce_cache_check_and_add(&cache, a, 4, n));
	CHECK(!legacy_nonce_cache_check_and_add(&cache, b, 4, n));
	/* the sender-less form is its own key space (the length byte) */
	CHECK(legacy_nonce_cache_check_and_add(&cache, NULL, 0, n));
	CHECK(!legacy_nonce_cache_check_and_add(&cache, NULL, 0, n));
	legacy_nonce_cache_wipe(&cache);
}

/* Random traffic from a value space a little larger than the cache, against a naive list of the
 * last N accepted nonces: exercises eviction and the index's backward-shift deletion. */
static void test_cache_model(void)
{
	static struct legacy_nonce_cache cache;
	static uint32_t model[LEGACY_NONCE_CACHE_ENTRIES];
	static const uint8_t key[LEGACY_NONCE_CACHE_KEY_LEN] = {1, 2, 3};
	size_t model_count = 0, model_next = 0, accepted = 0, refused = 0;
	uint8_t n[MQTTIP_LEGACY_NONCE_LEN];
	int agree = 1;

	legacy_nonce_cache_init(&cache, key);
	for (int step = 0; step < 200000 && agree; step++) {
		uint32_t v = randombytes_uniform(LEGACY_NONCE_CACHE_ENTRIES * 3 / 2);
		bool seen = false, got;

		for (size_t i = 0; i < model_count; i++)
			seen |= model[i] == v;
		nonce_of(v, n);
		got = legacy_nonce_cache_check_and_add(&cache, NULL, 0, n);
		if (got == seen) {
			agree = 0;
			fprintf(stderr, "step %d value %u: cache %d, model %d\n", step, (unsigned)v,
				got, !seen);
		}
		if (!seen) {
			model[model_next] = v;
			model_next = (model_next + 1) % LEGACY_NONCE_CACHE_ENTRIES;
			if (model_count < LEGACY_NONCE_CACHE_ENTRIES)
				model_count++;
			accepted++;
		} else {
			refused++;
		}
	}
	CHECK(agree);
	CHECK(accepted > 10000 && refused > 10000); /* both paths really exercised */
}

static void test_capture(void)
{
	char topic[64], hex[1024];
	uint8_t key[MQTTIP_KEY_LEN], msg[512], pkt[512], again[512];
	size_t msg_len = 0, pkt_len = 0, again_len = 0;
	unsigned a, b, c, d;
	uint32_t sum = 0;
	FILE *f = fopen(MQTTIP_LEGACY_CAPTURE, "r");

	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK(fscanf(f, "%63s %1023s", topic, hex) == 2);
	fclose(f);
	CHECK(sscanf(topic, "mqttip/%u.%u.%u.%u", &a, &b, &c, &d) == 4);
	CHECK(sodium_hex2bin(msg, sizeof(msg), hex, strlen(hex), NULL, &msg_len, NULL) == 0);
	key_of_secret(key);
	CHECK_EQ_INT(legacy_open(key, msg, msg_len, pkt, sizeof(pkt), &pkt_len), LEGACY_OK);
	CHECK_EQ_INT(pkt_len, msg_len - 56);
	if (pkt_len < 20)
		return;
	/* An IPv4 header: version 4, total length = packet, header checksum sums to 0xffff, and
	 * the destination is the topic's address. */
	CHECK_EQ_INT(pkt[0] >> 4, 4);
	CHECK_EQ_INT(((size_t)pkt[2] << 8) | pkt[3], pkt_len);
	for (size_t i = 0; i < (size_t)(pkt[0] & 15) * 4; i += 2)
		sum += ((uint32_t)pkt[i] << 8) | pkt[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	CHECK_EQ_INT(sum, 0xffff);
	CHECK(pkt[16] == a && pkt[17] == b && pkt[18] == c && pkt[19] == d);
	/* Sealing the packet again under the captured nonce reproduces the captured bytes. */
	CHECK_EQ_INT(legacy_seal(key, msg, pkt, pkt_len, again, sizeof(again), &again_len),
		     LEGACY_OK);
	CHECK_EQ_INT(again_len, msg_len);
	CHECK_MEM(again, msg, msg_len);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_key();
	test_round_trip_and_libsodium();
	test_tampering();
	test_lengths();
	test_cache_basic();
	test_cache_senders();
	test_cache_model();
	test_capture();
	return check_done();
}
