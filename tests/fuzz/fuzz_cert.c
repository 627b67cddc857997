/* fuzz_cert.c - cert_decode and cert_verify on arbitrary bytes. Beyond not crashing: whatever
 * decodes re-encodes to the same bytes up to the key id (one encoding per certificate), whatever
 * verifies re-encodes to exactly the input (Ed25519 is deterministic), and a decoded certificate
 * owns its own addresses and sources its own routes. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The seed corpus was signed by this CA (Ed25519 seed bytes 0, 1, ..., 31) with validity windows
 * that contain FUZZ_NOW. */
#define FUZZ_NOW UINT64_C(1700000000)

static uint8_t ca_pk[crypto_sign_PUBLICKEYBYTES], ca_sk[crypto_sign_SECRETKEYBYTES];

static void fuzz_init(void)
{
	static int ready;
	uint8_t seed[crypto_sign_SEEDBYTES];

	if (ready)
		return;
	if (sodium_init() < 0)
		abort();
	for (unsigned i = 0; i < sizeof seed; i++)
		seed[i] = (uint8_t)i;
	crypto_sign_seed_keypair(ca_pk, ca_sk, seed);
	ready = 1;
}

static void check_own_addresses(const struct cert *c)
{
	for (unsigned i = 0; i < c->n_addrs; i++) {
		if (cert_check_owns(c, &c->addrs[i].addr) != CERT_OK ||
		    cert_check_source(c, &c->addrs[i].addr) != CERT_OK)
			abort();
	}
	for (unsigned i = 0; i < c->n_routes; i++) {
		if (cert_check_source(c, &c->routes[i].addr) != CERT_OK)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cert c;
	uint8_t out[MQTTIP_CERT_MAX_LEN];
	int decoded, verified, n = 0;

	fuzz_init();
	decoded = cert_decode(data, size, &c);
	if (decoded == CERT_OK) {
		check_own_addresses(&c);
		n = cert_encode_sign(&c, ca_sk, out, sizeof out);
		if (n < 0 || (size_t)n != size ||
		    memcmp(out, data, size - MQTTIP_CERT_SIG_LEN - MQTTIP_CERT_KEY_ID_LEN) != 0)
			abort();
	} else if (decoded != CERT_ERR_MALFORMED) {
		abort();
	}

	verified = cert_verify(data, size, ca_pk, FUZZ_NOW, &c);
	switch (verified) {
	case CERT_OK:
		if (decoded != CERT_OK || memcmp(out, data, size) != 0)
			abort();
		check_own_addresses(&c);
		break;
	case CERT_ERR_MALFORMED:
		if (decoded == CERT_OK)
			abort();
		break;
	case CERT_ERR_WRONG_CA:
	case CERT_ERR_SIGNATURE:
	case CERT_ERR_NOT_YET_VALID:
	case CERT_ERR_EXPIRED:
		if (decoded != CERT_OK)
			abort();
		break;
	default:
		abort();
	}
	return 0;
}
