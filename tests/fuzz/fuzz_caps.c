/* fuzz_caps - the handshake capability records (common/caps.c) from arbitrary bytes: decoding
 * never reads past the input, a refused block leaves the defaults, and an accepted one encodes
 * back to records that decode to the same values. */
#include <stdlib.h>
#include <string.h>

#include "caps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct caps c, d, def = caps_default();
	uint8_t out[MQTTIP_HANDSHAKE_EXT_MAX];
	size_t n;

	if (size > MQTTIP_HANDSHAKE_EXT_MAX)
		return 0; /* handshake.c never hands over more */
	if (caps_decode(data, size, &c) != 0) {
		if (memcmp(&c, &def, sizeof(c)) != 0)
			abort();
		return 0;
	}
	if (c.max_message < MQTTIP_MIN_MESSAGE || c.max_message > MQTTIP_MAX_TRANSPORT_MSG)
		abort();
	n = caps_encode(&c, out);
	if (n > MQTTIP_HANDSHAKE_EXT_MAX || caps_decode(out, n, &d) != 0 ||
	    memcmp(&c, &d, sizeof(c)) != 0)
		abort();
	return 0;
}
