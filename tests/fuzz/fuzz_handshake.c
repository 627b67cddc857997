/* fuzz_handshake.c - arbitrary bytes as a handshake message, on both sides:
 *  - bob (responder) consumes them as an initiation from alice, once as they are and once with
 *    mac1 recomputed, so that mutations reach the Noise read and the certificate checks;
 *  - alice (initiator, waiting for the response to a fixed initiation) consumes them as a
 *    response, again as they are and with mac1 recomputed.
 * Beyond not crashing: only documented errors come back, a refused initiation leaves the state
 * empty, a refused response leaves the pending initiation untouched, and an accepted one yields
 * a valid keypair. Randomness is a deterministic stream so that the pending initiation, and with
 * it the seed response, is the same in every run (tests/fuzz/corpus/fuzz_handshake: a valid
 * initiation and the response to alice's pending one). */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW UINT64_C(1700000000)

static uint64_t rng_counter;

static void rng_buf(void *const buf, const size_t size)
{
	uint8_t seed[randombytes_SEEDBYTES] = {0};

	memcpy(seed, &rng_counter, sizeof(rng_counter));
	rng_counter++;
	randombytes_buf_deterministic(buf, size, seed);
}

static uint32_t rng_random(void)
{
	uint32_t v;

	rng_buf(&v, sizeof(v));
	return v;
}

static const char *rng_name(void)
{
	return "fuzz-deterministic";
}

static struct randombytes_implementation rng = {
    .implementation_name = rng_name,
    .random = rng_random,
    .buf = rng_buf,
};

/* Keys: CA seed bytes 0xC0.., alice static bytes 0x41.., bob static bytes 0x01..; alice is
 * 10.0.0.1/24, bob 10.0.0.2/24; certificates valid 1600000000..1800000000. */
static uint8_t ca_pk[32], ca_sk[64];
static uint8_t alice_sk[32], bob_sk[32];
static uint8_t alice_cert[MQTTIP_CERT_MAX_LEN], bob_cert[MQTTIP_CERT_MAX_LEN];
static struct handshake_local alice, bob;
static const struct netaddr alice_addr = {.family = 4, .bytes = {10, 0, 0, 1}};
static const struct netaddr bob_addr = {.family = 4, .bytes = {10, 0, 0, 2}};
static uint8_t last_ts[MQTTIP_TIMESTAMP_LEN];
static struct handshake pending; /* alice's, after sending pending_msg */
static uint8_t pending_msg[MQTTIP_INITIATION_MAX_LEN];
static size_t pending_len;

static size_t make_cert(uint8_t *out, const char *name, const struct netaddr *addr,
			const uint8_t *pub)
{
	struct cert c;
	int len;

	memset(&c, 0, sizeof(c));
	strcpy(c.name, name);
	c.n_addrs = 1;
	c.addrs[0].addr = *addr;
	c.addrs[0].len = 24;
	memcpy(c.x25519_public, pub, 32);
	c.not_before = 1600000000;
	c.not_after = 1800000000;
	c.serial = 1;
	len = cert_encode_sign(&c, ca_sk, out, MQTTIP_CERT_MAX_LEN);
	if (len <= 0)
		abort();
	return (size_t)len;
}

static void fuzz_init(void)
{
	static int ready;
	uint8_t ca_seed[32], ts[MQTTIP_TIMESTAMP_LEN], ext[MQTTIP_HANDSHAKE_EXT_MAX];
	struct handshake hs;
	struct cert peer;
	size_t ext_len;

	if (ready)
		return;
	randombytes_set_implementation(&rng);
	if (sodium_init() < 0)
		abort();
	for (unsigned i = 0; i < 32; i++) {
		ca_seed[i] = (uint8_t)(0xc0 + i);
		alice_sk[i] = (uint8_t)(0x41 + i);
		bob_sk[i] = (uint8_t)(0x01 + i);
	}
	crypto_sign_seed_keypair(ca_pk, ca_sk, ca_seed);
	alice.static_private = alice_sk;
	crypto_scalarmult_base(alice.static_public, alice_sk);
	alice.network_id = ca_pk;
	alice.cert = alice_cert;
	alice.cert_len = make_cert(alice_cert, "alice", &alice_addr, alice.static_public);
	bob.static_private = bob_sk;
	crypto_scalarmult_base(bob.static_public, bob_sk);
	bob.network_id = ca_pk;
	bob.cert = bob_cert;
	bob.cert_len = make_cert(bob_cert, "bob", &bob_addr, bob.static_public);
	handshake_tai64n(FUZZ_NOW - 1000, 0, last_ts);

	handshake_tai64n(FUZZ_NOW - 100, 0, ts);
	if (handshake_initiation_create(&pending, &alice, &alice_addr, &bob_addr, bob.static_public,
					NULL, 0x01020304, ts, pending_msg, sizeof(pending_msg),
					&pending_len) != HANDSHAKE_OK)
		abort();
	/* The fixture must be sound, or the fuzzer explores nothing. */
	if (handshake_initiation_consume(&hs, &bob, &alice_addr, &bob_addr, FUZZ_NOW, last_ts,
					 pending_msg, pending_len, &peer, ts, ext,
					 &ext_len) != HANDSHAKE_OK)
		abort();
	handshake_wipe(&hs);
	ready = 1;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void as_initiation(const uint8_t *msg, size_t len)
{
	struct handshake hs;
	struct keypair kp;
	struct cert peer;
	uint8_t ts[MQTTIP_TIMESTAMP_LEN], resp[MQTTIP_RESPONSE_MAX_LEN];
	uint8_t ext[MQTTIP_HANDSHAKE_EXT_MAX];
	size_t resp_len, ext_len = 0;
	int rc = handshake_initiation_consume(&hs, &bob, &alice_addr, &bob_addr, FUZZ_NOW, last_ts,
					      msg, len, &peer, ts, ext, &ext_len);

	switch (rc) {
	case HANDSHAKE_OK:
		if (hs.state != HANDSHAKE_INITIATION_CONSUMED || memcmp(ts, last_ts, 12) <= 0 ||
		    cert_check_owns(&peer, &alice_addr) != CERT_OK)
			abort();
		/* the initiator's capabilities go back as ours: any length it may send */
		if (ext_len > MQTTIP_HANDSHAKE_EXT_MAX ||
		    handshake_response_create(&hs, NULL, 7, ext, ext_len, resp, sizeof(resp),
					      &resp_len, &kp, 1) != HANDSHAKE_OK ||
		    resp_len != MQTTIP_RESPONSE_MIN_LEN + ext_len || !kp.valid ||
		    !all_zero(&hs, sizeof(hs)))
			abort();
		keypair_wipe(&kp);
		break;
	case HANDSHAKE_ERR_MALFORMED:
	case HANDSHAKE_ERR_MAC1:
	case HANDSHAKE_ERR_DECRYPT:
	case HANDSHAKE_ERR_CERT:
	case HANDSHAKE_ERR_STATIC_MISMATCH:
	case HANDSHAKE_ERR_ADDR_NOT_OWNED:
	case HANDSHAKE_ERR_REPLAY:
		if (hs.state != HANDSHAKE_EMPTY || (rc != HANDSHAKE_ERR_CERT && hs.cert_error != 0))
			abort();
		break;
	default:
		abort();
	}
}

static void as_response(const uint8_t *msg, size_t len)
{
	struct handshake hs;
	struct keypair kp;
	uint8_t ext[MQTTIP_HANDSHAKE_EXT_MAX];
	size_t ext_len = 0;
	int rc;

	memcpy(&hs, &pending, sizeof(hs));
	rc = handshake_response_consume(&hs, msg, len, &kp, 1, ext, &ext_len);

	switch (rc) {
	case HANDSHAKE_OK:
		if (!kp.valid || !kp.is_initiator || kp.local_index != 0x01020304 ||
		    ext_len > MQTTIP_HANDSHAKE_EXT_MAX || !all_zero(&hs, sizeof(hs)))
			abort();
		keypair_wipe(&kp);
		break;
	case HANDSHAKE_ERR_MALFORMED:
	case HANDSHAKE_ERR_INDEX:
	case HANDSHAKE_ERR_MAC1:
	case HANDSHAKE_ERR_DECRYPT:
		if (memcmp(&hs, &pending, sizeof(hs)) != 0)
			abort();
		break;
	default:
		abort();
	}
	handshake_wipe(&hs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t copy[MQTTIP_INITIATION_MAX_LEN];

	fuzz_init();
	as_initiation(data, size);
	as_response(data, size);
	if (size < MQTTIP_MAC_LEN || size > sizeof(copy))
		return 0;
	memcpy(copy, data, size);
	handshake_mac1_write(copy, size, bob.static_public);
	as_initiation(copy, size);
	handshake_mac1_write(copy, size, alice.static_public);
	as_response(copy, size);
	return 0;
}
