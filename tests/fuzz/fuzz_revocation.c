/* fuzz_revocation.c - revocation_decode and revocation_verify on arbitrary bytes. Beyond not
 * crashing: whatever decodes re-encodes to the same bytes up to the key id and signature (one
 * encoding per list), whatever verifies re-encodes to exactly the input (Ed25519 is
 * deterministic), every listed serial and key is found by the lookups and nothing between two
 * listed serials is, and a list compared with itself is the same list. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "revocation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The seed corpus was signed by this CA (Ed25519 seed bytes 0, 1, ..., 31). */
static uint8_t ca_pk[crypto_sign_PUBLICKEYBYTES], ca_sk[crypto_sign_SECRETKEYBYTES];
static struct revocation decoded, verified;
static uint64_t serials[MQTTIP_REVOCATION_MAX_LEN / 8];
static uint8_t keys[MQTTIP_REVOCATION_MAX_LEN / 32][MQTTIP_KEY_LEN];
static uint8_t out[MQTTIP_REVOCATION_MAX_LEN];

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

static void check_lookups(const struct revocation *r)
{
	struct cert c;

	memset(&c, 0, sizeof c);
	for (size_t i = 0; i < r->n_serials; i++) {
		uint64_t s = revocation_serial_at(r, i);

		c.serial = s;
		if (!revocation_serial_listed(r, s) || !revocation_is_revoked(r, &c))
			abort();
		/* serials are strictly ascending: s + 1 is listed only as the next entry */
		if (s != UINT64_MAX &&
		    revocation_serial_listed(r, s + 1) !=
			(i + 1 < r->n_serials && revocation_serial_at(r, i + 1) == s + 1))
			abort();
	}
	for (size_t i = 0; i < r->n_keys; i++) {
		if (!revocation_key_listed(r, revocation_key_at(r, i)))
			abort();
	}
	if (revocation_compare(r, r) != REVOCATION_SAME)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int dec, ver, n = 0;

	fuzz_init();
	dec = revocation_decode(data, size, &decoded);
	if (dec == REVOCATION_OK) {
		if (decoded.len != size || memcmp(decoded.bytes, data, size) != 0 ||
		    decoded.version == 0)
			abort();
		check_lookups(&decoded);
		for (size_t i = 0; i < decoded.n_serials; i++)
			serials[i] = revocation_serial_at(&decoded, i);
		for (size_t i = 0; i < decoded.n_keys; i++)
			memcpy(keys[i], revocation_key_at(&decoded, i), MQTTIP_KEY_LEN);
		n = revocation_encode_sign(
		    decoded.version, decoded.issued_at, serials, decoded.n_serials,
		    (const uint8_t(*)[MQTTIP_KEY_LEN])keys, decoded.n_keys, ca_sk, out, sizeof out);
		/* same bytes except the key id (bytes 4..11) and the signature */
		if (n < 0 || (size_t)n != size || memcmp(out, data, 4) != 0 ||
		    memcmp(out + 12, data + 12, size - 12 - MQTTIP_CERT_SIG_LEN) != 0)
			abort();
	} else if (dec != REVOCATION_ERR_MALFORMED || decoded.version != 0 || decoded.len != 0) {
		abort();
	}

	ver = revocation_verify(data, size, ca_pk, &verified);
	switch (ver) {
	case REVOCATION_OK:
		if (dec != REVOCATION_OK || memcmp(out, data, size) != 0)
			abort();
		check_lookups(&verified);
		break;
	case REVOCATION_ERR_MALFORMED:
		if (dec == REVOCATION_OK)
			abort();
		break;
	case REVOCATION_ERR_WRONG_CA:
	case REVOCATION_ERR_SIGNATURE:
		if (dec != REVOCATION_OK || verified.len != 0)
			abort();
		break;
	default:
		abort();
	}
	return 0;
}
