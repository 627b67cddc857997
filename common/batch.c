/* batch.c - records of length (2, big-endian) || IP packet inside a transport body. */
#include "batch.h"

#include <string.h>

size_t batch_append(uint8_t *body, size_t cap, size_t used, const uint8_t *pkt, size_t len)
{
	size_t record = MQTTIP_BATCH_RECORD_HEADER + len;

	if (cap > MQTTIP_MAX_BODY)
		cap = MQTTIP_MAX_BODY;
	if (len == 0 || len > MQTTIP_MAX_IP_PACKET || used > cap || cap - used < record)
		return 0;
	body[used] = (uint8_t)(len >> 8);
	body[used + 1] = (uint8_t)len;
	memmove(body + used + MQTTIP_BATCH_RECORD_HEADER, pkt, len);
	return used + record;
}

void batch_reader_init(struct batch_reader *r, const uint8_t *body, size_t len)
{
	r->body = body;
	r->len = len;
	r->pos = 0;
}

int batch_next(struct batch_reader *r, const uint8_t **pkt, size_t *len)
{
	size_t left = r->len - r->pos;
	size_t n;

	if (left == 0)
		return 0;
	if (left < MQTTIP_BATCH_RECORD_HEADER)
		return BATCH_ERR_TRUNCATED;
	n = (size_t)r->body[r->pos] << 8 | r->body[r->pos + 1];
	if (n == 0) {
		r->pos = r->len;
		return 0;
	}
	if (n > MQTTIP_MAX_IP_PACKET)
		return BATCH_ERR_TOO_LONG;
	if (n > left - MQTTIP_BATCH_RECORD_HEADER)
		return BATCH_ERR_TRUNCATED;
	*pkt = r->body + r->pos + MQTTIP_BATCH_RECORD_HEADER;
	*len = n;
	r->pos += MQTTIP_BATCH_RECORD_HEADER + n;
	return 1;
}
