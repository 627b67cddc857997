#include "fw_outbox.h"

#include <string.h>

/* Record: kind(1) qos(1) retain(1) topic_len(1) payload_len(2, big-endian) topic payload. */
#define RECORD_HEADER 6

static void ring_write(struct fw_outbox *o, size_t at, const void *src, size_t len)
{
	const uint8_t *s = src;

	for (size_t i = 0; i < len; i++)
		o->ring[(at + i) % FW_OUTBOX_BYTES] = s[i];
}

static void ring_read(const struct fw_outbox *o, size_t at, void *dst, size_t len)
{
	uint8_t *d = dst;

	for (size_t i = 0; i < len; i++)
		d[i] = o->ring[(at + i) % FW_OUTBOX_BYTES];
}

void fw_outbox_init(struct fw_outbox *o)
{
	memset(o, 0, sizeof(*o));
}

int fw_outbox_push(struct fw_outbox *o, enum fw_outbox_kind kind, const char *topic,
		   const uint8_t *payload, size_t len, int qos, bool retain)
{
	size_t topic_len = strlen(topic), at;
	uint8_t h[RECORD_HEADER];

	if (topic_len >= TOPIC_MAX || len > FW_OUTBOX_PAYLOAD_MAX || qos < 0 || qos > 2 ||
	    o->used + RECORD_HEADER + topic_len + len > FW_OUTBOX_BYTES) {
		o->dropped++;
		return -1;
	}
	h[0] = (uint8_t)kind;
	h[1] = (uint8_t)qos;
	h[2] = retain;
	h[3] = (uint8_t)topic_len;
	h[4] = (uint8_t)(len >> 8);
	h[5] = (uint8_t)len;
	at = o->head + o->used;
	ring_write(o, at, h, RECORD_HEADER);
	ring_write(o, at + RECORD_HEADER, topic, topic_len);
	if (len)
		ring_write(o, at + RECORD_HEADER + topic_len, payload, len);
	o->used += RECORD_HEADER + topic_len + len;
	return 0;
}

bool fw_outbox_pop(struct fw_outbox *o, struct fw_outbox_item *item)
{
	uint8_t h[RECORD_HEADER];
	size_t topic_len, total;

	if (o->used == 0)
		return false;
	ring_read(o, o->head, h, RECORD_HEADER);
	topic_len = h[3];
	item->kind = (enum fw_outbox_kind)h[0];
	item->qos = h[1];
	item->retain = h[2] != 0;
	item->len = (size_t)h[4] << 8 | h[5];
	ring_read(o, o->head + RECORD_HEADER, item->topic, topic_len);
	item->topic[topic_len] = '\0';
	ring_read(o, o->head + RECORD_HEADER + topic_len, item->payload, item->len);
	total = RECORD_HEADER + topic_len + item->len;
	o->head = (o->head + total) % FW_OUTBOX_BYTES;
	o->used -= total;
	return true;
}
