/* fuzz_transport.c - keypair_open() on arbitrary bytes with a fixed keypair (fresh window per
 * input), plus properties that must hold whatever the input: the receiver index parser agrees
 * with open's header check, an opened message replays as a replay, and the input sealed as a body
 * opens back to itself. Seeds are valid messages sealed with the fixed key (key byte i = i). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "keypair.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fixed_keypair(struct keypair *kp)
{
	memset(kp, 0, sizeof(*kp));
	for (int i = 0; i < MQTTIP_KEY_LEN; i++) {
		kp->recv_key[i] = (uint8_t)i;
		kp->send_key[i] = (uint8_t)i;
	}
	replay_init(&kp->replay);
	kp->local_index = kp->remote_index = 1;
	kp->birth_ms = 0;
	kp->valid = true;
}

static void open_input(const uint8_t *data, size_t size, const struct keypair_params *p)
{
	struct keypair kp;
	uint8_t *msg = malloc(size ? size : 1), *body;
	size_t body_len;
	uint32_t index;
	int rc;

	if (!msg)
		abort();
	memcpy(msg, data, size);
	fixed_keypair(&kp);
	rc = keypair_open(&kp, 1, p, msg, size, &body, &body_len);
	if ((rc == KEYPAIR_ERR_MALFORMED) != (transport_receiver_index(data, size, &index) != 0))
		abort();
	if (rc == KEYPAIR_OK) {
		struct batch_reader r;
		const uint8_t *pkt;
		size_t len;

		if (body != msg + MQTTIP_TRANSPORT_HEADER_LEN ||
		    body_len != size - MQTTIP_TRANSPORT_OVERHEAD)
			abort();
		batch_reader_init(&r, body, body_len);
		while (batch_next(&r, &pkt, &len) == 1)
			;
		memcpy(msg, data, size);
		if (keypair_open(&kp, 1, p, msg, size, &body, &body_len) != KEYPAIR_ERR_REPLAY)
			abort();
	}
	free(msg);
}

static void seal_input(const uint8_t *data, size_t size, const struct keypair_params *p)
{
	static uint8_t buf[MQTTIP_MAX_TRANSPORT_MSG];
	struct keypair tx, rx;
	uint8_t *body;
	size_t len, body_len;

	if (size > MQTTIP_MAX_BODY)
		return;
	fixed_keypair(&tx);
	fixed_keypair(&rx);
	memcpy(buf + MQTTIP_TRANSPORT_HEADER_LEN, data, size);
	if (keypair_seal(&tx, 1, p, buf, sizeof(buf), size, &len) != KEYPAIR_OK ||
	    keypair_open(&rx, 1, p, buf, len, &body, &body_len) != KEYPAIR_OK || body_len != size ||
	    memcmp(body, data, size) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct keypair_params p = keypair_params_default();

	if (sodium_init() < 0)
		abort();
	open_input(data, size, &p);
	seal_input(data, size, &p);
	return 0;
}
