/* batch.c - the records of a transport body (batch.h). */
#include "batch.h"

#include <string.h>

static size_t append(uint8_t *body, size_t cap, size_t used, const uint8_t *pkt, size_t len,
		     const uint8_t *head, size_t head_len)
{
	size_t record = head_len + len;

	if (cap > MQTTIP_MAX_BODY)
		cap = MQTTIP_MAX_BODY;
	if (used > cap || cap - used < record)
		return 0;
	/* the packet first: it may overlap where the head goes only if it sits in place (where it
	 * was read: then nothing moves) */
	if (body + used + head_len != pkt)
		memmove(body + used + head_len, pkt, len);
	memcpy(body + used, head, head_len);
	return used + record;
}

size_t batch_append(uint8_t *body, size_t cap, size_t used, const uint8_t *pkt, size_t len)
{
	uint8_t head[MQTTIP_BATCH_RECORD_HEADER] = {(uint8_t)(len >> 8), (uint8_t)len};

	if (len == 0 || len > MQTTIP_MAX_IP_PACKET)
		return 0;
	return append(body, cap, used, pkt, len, head, sizeof(head));
}

size_t batch_append_offload(uint8_t *body, size_t cap, size_t used, const uint8_t *pkt, size_t len,
			    uint8_t gso_type, uint8_t flags, uint16_t segment_size)
{
	size_t field = MQTTIP_OFFLOAD_RECORD_FLAG | len;
	uint8_t head[MQTTIP_OFFLOAD_RECORD_HEADER] = {
	    (uint8_t)(field >> 8),	  (uint8_t)field,	gso_type, flags,
	    (uint8_t)(segment_size >> 8), (uint8_t)segment_size};

	if (len == 0 || len > MQTTIP_OFFLOAD_MAX_PACKET)
		return 0;
	return append(body, cap, used, pkt, len, head, sizeof(head));
}

void batch_reader_init(struct batch_reader *r, const uint8_t *body, size_t len)
{
	r->body = body;
	r->len = len;
	r->pos = 0;
	r->error = 0;
}

static int fail(struct batch_reader *r, int error)
{
	r->error = error;
	return error;
}

int batch_next_record(struct batch_reader *r, bool offload, struct batch_record *rec)
{
	size_t left = r->len - r->pos, n, head = MQTTIP_BATCH_RECORD_HEADER;
	const uint8_t *p = r->body + r->pos;

	if (r->error)
		return r->error;
	if (left == 0)
		return 0;
	if (left < MQTTIP_BATCH_RECORD_HEADER)
		return fail(r, BATCH_ERR_TRUNCATED);
	n = (size_t)p[0] << 8 | p[1];
	if (n == 0) {
		r->pos = r->len;
		return 0;
	}
	memset(rec, 0, sizeof(*rec));
	if (n & MQTTIP_OFFLOAD_RECORD_FLAG) {
		if (!offload)
			return fail(r, BATCH_ERR_TOO_LONG);
		n &= ~(size_t)MQTTIP_OFFLOAD_RECORD_FLAG;
		if (n == 0 || n > MQTTIP_OFFLOAD_MAX_PACKET)
			return fail(r, BATCH_ERR_OFFLOAD);
		head = MQTTIP_OFFLOAD_RECORD_HEADER;
		if (left < head)
			return fail(r, BATCH_ERR_TRUNCATED);
		rec->offload = true;
		rec->gso_type = p[2];
		rec->flags = p[3];
		rec->segment_size = (uint16_t)(p[4] << 8 | p[5]);
	} else if (n > MQTTIP_MAX_IP_PACKET) {
		return fail(r, BATCH_ERR_TOO_LONG);
	}
	if (n > left - head)
		return fail(r, BATCH_ERR_TRUNCATED);
	rec->pkt = p + head;
	rec->len = n;
	r->pos += head + n;
	return 1;
}

int batch_next(struct batch_reader *r, const uint8_t **pkt, size_t *len)
{
	struct batch_record rec;
	int rc = batch_next_record(r, false, &rec);

	if (rc == 1) {
		*pkt = rec.pkt;
		*len = rec.len;
	}
	return rc;
}
