/* fuzz_noise.c - an IKpsk2 responder (fixed keys, the mqttip protocol name) reads arbitrary bytes
 * as message 1. Beyond not crashing: only the documented errors come back, a rejected message
 * leaves the handshake unable to go on or untouched, and an accepted one (the seed made by the
 * initiator below) reveals exactly the initiator's static key and makes it the responder's turn. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "noise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_PROTOCOL "Noise_IKpsk2_25519_ChaChaPoly_SHA256"

/* Keys of the seed corpus: responder static bytes 1..32, initiator static bytes 0x41..0x60,
 * psk 0xA5 x 32, prologue "fuzz prologue". */
static uint8_t resp_sk[32], init_sk[32], init_pk[32], psk[1][32];
static const uint8_t prologue[] = "fuzz prologue";

static void fuzz_init(void)
{
	static int ready;

	if (ready)
		return;
	if (sodium_init() < 0)
		abort();
	for (unsigned i = 0; i < 32; i++) {
		resp_sk[i] = (uint8_t)(i + 1);
		init_sk[i] = (uint8_t)(i + 0x41);
	}
	memset(psk[0], 0xA5, sizeof(psk[0]));
	crypto_scalarmult_base(init_pk, init_sk);
	ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t payload[NOISE_MAX_MESSAGE];
	struct noise_handshakestate hs;
	struct noise_keys keys = {.s = resp_sk, .psks = (const uint8_t(*)[32])psk, .n_psks = 1};
	size_t payload_len = 0;
	int rc;

	fuzz_init();
	if (noise_handshake_init(&hs, FUZZ_PROTOCOL, false, prologue, sizeof(prologue), &keys) !=
	    NOISE_OK)
		abort();
	rc = noise_handshake_read_message(&hs, data, size, payload, sizeof(payload), &payload_len);
	switch (rc) {
	case NOISE_OK:
		if (!hs.has_rs || memcmp(hs.rs, init_pk, 32) != 0 ||
		    !noise_handshake_is_my_turn(&hs) || payload_len > size)
			abort();
		break;
	case NOISE_ERR_MALFORMED:
	case NOISE_ERR_BUFFER:
		if (hs.failed || hs.message_index != 0)
			abort();
		break;
	case NOISE_ERR_DECRYPT:
	case NOISE_ERR_DH:
		if (!hs.failed || hs.message_index != 0 || noise_handshake_is_my_turn(&hs))
			abort();
		break;
	default:
		abort();
	}
	noise_handshake_wipe(&hs);
	return 0;
}
