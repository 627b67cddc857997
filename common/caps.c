/* caps.c - the capability records of the handshake (caps.h). */
#include "caps.h"

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

struct caps caps_default(void)
{
	struct caps c = {MQTTIP_MAX_TRANSPORT_MSG, 0, 0};

	return c;
}

static size_t record(uint8_t *out, size_t at, enum caps_type type, uint64_t value, size_t n)
{
	out[at] = (uint8_t)type;
	out[at + 1] = (uint8_t)n;
	put_le(out + at + 2, value, n);
	return at + 2 + n;
}

size_t caps_encode(const struct caps *c, uint8_t out[MQTTIP_HANDSHAKE_EXT_MAX])
{
	size_t n = 0;

	n = record(out, n, CAPS_MAX_MESSAGE, c->max_message, 4);
	n = record(out, n, CAPS_FEATURES, c->features, 4);
	n = record(out, n, CAPS_REVOCATION, c->revocation_version, 8);
	return n;
}

int caps_decode(const uint8_t *in, size_t len, struct caps *out)
{
	size_t at = 0;

	*out = caps_default();
	while (at < len) {
		size_t n;
		uint64_t v;

		if (len - at < 2 || in[at + 1] > len - at - 2)
			goto malformed;
		n = in[at + 1];
		v = n <= 8 ? get_le(in + at + 2, n) : 0;
		switch (in[at]) {
		case CAPS_MAX_MESSAGE:
			if (n != 4 || v < MQTTIP_MIN_MESSAGE || v > MQTTIP_MAX_TRANSPORT_MSG)
				goto malformed;
			out->max_message = (uint32_t)v;
			break;
		case CAPS_FEATURES:
			if (n != 4)
				goto malformed;
			out->features = (uint32_t)v;
			break;
		case CAPS_REVOCATION:
			if (n != 8)
				goto malformed;
			out->revocation_version = v;
			break;
		default:
			break; /* a newer node's record */
		}
		at += 2 + n;
	}
	return 0;
malformed:
	*out = caps_default();
	return -1;
}
