/* fuzz_legacy.c - legacy_open on arbitrary bytes under the key of "secret" (seeds: messages our
 * codec sealed under that key, and a raw packet), and the nonce cache fed (sender, nonce)
 * pairs drawn from the input, checked against a naive list. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "legacy.h"

#define VALUE_SPACE (LEGACY_NONCE_CACHE_ENTRIES * 3 / 2) /* some hits, some evictions */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_open(const uint8_t key[MQTTIP_KEY_LEN], const uint8_t *data, size_t size)
{
	static uint8_t out[MQTTIP_MAX_IP_PACKET], again[MQTTIP_MAX_IP_PACKET + 64];
	size_t pkt_len = 0, again_len = 0;

	if (legacy_open(key, data, size, out, sizeof(out), &pkt_len) != LEGACY_OK)
		return;
	/* Only a forgery breaking Poly1305 gets here with fuzzed bytes; whatever opened must be
	 * exactly what legacy_seal makes from its packet and nonce. */
	if (pkt_len != size - MQTTIP_LEGACY_OVERHEAD)
		abort();
	if (legacy_seal(key, data, out, pkt_len, again, sizeof(again), &again_len) != LEGACY_OK ||
	    again_len != size || memcmp(again, data, size) != 0)
		abort();
}

/* The cache keyed by (sender, nonce): 2 bytes of input pick a nonce value and one of 4 senders
 * (or none), checked against a naive list of the last N accepted pairs. */
static void check_cache(const uint8_t *data, size_t size)
{
	static struct legacy_nonce_cache cache;
	static uint32_t model[LEGACY_NONCE_CACHE_ENTRIES];
	static const uint8_t cache_key[LEGACY_NONCE_CACHE_KEY_LEN] = {0x42};
	size_t model_count = 0, model_next = 0;
	uint8_t nonce[MQTTIP_LEGACY_NONCE_LEN];

	legacy_nonce_cache_init(&cache, cache_key);
	for (size_t i = 0; i + 1 < size; i += 2) {
		unsigned raw = ((unsigned)data[i] << 8) | data[i + 1];
		uint16_t v = (uint16_t)((raw >> 3) % VALUE_SPACE);
		unsigned who = raw & 7; /* 0..3: a sender address, 4..7: no sender */
		uint8_t sender[4] = {10, 0, 1, (uint8_t)who};
		uint32_t pair = (uint32_t)(who < 4 ? who : 4) << 16 | v;
		bool seen = false, got;

		for (size_t j = 0; j < model_count; j++)
			seen |= model[j] == pair;
		memset(nonce, 0, sizeof(nonce));
		nonce[0] = (uint8_t)v;
		nonce[1] = (uint8_t)(v >> 8);
		got = legacy_nonce_cache_check_and_add(&cache, who < 4 ? sender : NULL,
						       who < 4 ? 4 : 0, nonce);
		if (got == seen)
			abort();
		if (!seen) {
			model[model_next] = pair;
			model_next = (model_next + 1) % LEGACY_NONCE_CACHE_ENTRIES;
			if (model_count < LEGACY_NONCE_CACHE_ENTRIES)
				model_count++;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t key[MQTTIP_KEY_LEN];
	static int ready;

	if (!ready) {
		if (sodium_init() < 0)
			abort();
		legacy_key_from_password("secret", 6, key);
		ready = 1;
	}
	check_open(key, data, size);
	check_cache(data, size);
	return 0;
}
