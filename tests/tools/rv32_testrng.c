/* rv32_testrng.c - FOR TESTS ONLY: the random source of the unit tests and benchmark that run on
 * rv32 under qemu (tests/rv32.cmake, tests/bench/rv32_cycles.sh). A bare-metal build has no
 * /dev/urandom and no getrandom(), so libsodium's default source cannot work there; this one is
 * ChaCha20 under a constant key with a counter as nonce: the same bytes on every run, which makes
 * a failure on the target reproducible and is useless for anything else. A device draws its
 * randomness from the chip (esp_random(), what ESP-IDF's libsodium port uses). It is installed
 * before main() so that the tests' own sodium_init() already finds it. */
#include <sodium.h>

static uint64_t rv32_testrng_calls;

static const char *rv32_testrng_name(void)
{
	return "mqttip-rv32-test-only";
}

static void rv32_testrng_buf(void *const buf, const size_t size)
{
	static const uint8_t key[crypto_stream_chacha20_KEYBYTES] =
	    "mqttip rv32 tests only, not rng";
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];

	for (size_t i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(rv32_testrng_calls >> (8 * i));
	rv32_testrng_calls++;
	crypto_stream_chacha20((uint8_t *)buf, size, nonce, key);
}

static uint32_t rv32_testrng_random(void)
{
	uint32_t r;

	rv32_testrng_buf(&r, sizeof(r));
	return r;
}

static randombytes_implementation rv32_testrng = {
    .implementation_name = rv32_testrng_name,
    .random = rv32_testrng_random,
    .buf = rv32_testrng_buf,
};

__attribute__((constructor)) static void rv32_testrng_install(void)
{
	randombytes_set_implementation(&rv32_testrng);
}
