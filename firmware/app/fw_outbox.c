#include "fw_outbox.h"

#include <string.h>

/* Record: kind(1) qos(1) retain(1) topic_len(1) payload_len(2, big-endian) topic NUL payload.
 * A record never wraps: when one does not fit before the end, the kind byte FW_OUTBOX_SKIP marks
 * the rest of the ring unused and the record goes to its beginning. */
#define RECORD_HEADER 6
#define SKIP	      0

_Static_assert(FW_OUTBOX_PAYLOAD_MAX <= 0xffff && TOPIC_MAX <= 256, "lengths fit the header");
_Static_assert(FW_OUTBOX_BYTES >= RECORD_HEADER + TOPIC_MAX + FW_OUTBOX_PAYLOAD_MAX,
	       "the largest record fits the ring");

void fw_outbox_init(struct fw_outbox *o)
{
	memset(o, 0, sizeof(*o));
}

static size_t record_size(const uint8_t *h)
{
	return RECORD_HEADER + (size_t)h[3] + 1 + ((size_t)h[4] << 8 | h[5]);
}

static void put(struct fw_outbox *o, size_t at, enum fw_outbox_kind kind, const char *topic,
		size_t topic_len, const uint8_t *payload, size_t len, int qos, bool retain)
{
	uint8_t *r = o->ring + at;

	r[0] = (uint8_t)kind;
	r[1] = (uint8_t)qos;
	r[2] = retain;
	r[3] = (uint8_t)topic_len;
	r[4] = (uint8_t)(len >> 8);
	r[5] = (uint8_t)len;
	memcpy(r + RECORD_HEADER, topic, topic_len);
	r[RECORD_HEADER + topic_len] = '\0';
	if (len)
		memcpy(r + RECORD_HEADER + topic_len + 1, payload, len);
}

int fw_outbox_push(struct fw_outbox *o, enum fw_outbox_kind kind, const char *topic,
		   const uint8_t *payload, size_t len, int qos, bool retain)
{
	size_t topic_len = strlen(topic), size = RECORD_HEADER + topic_len + 1 + len, tail;

	if (topic_len >= TOPIC_MAX || len > FW_OUTBOX_PAYLOAD_MAX || qos < 0 || qos > 2)
		goto refused;
	if (o->used == 0)
		o->head = 0; /* empty: the whole ring in one piece */
	if (o->head + o->used < FW_OUTBOX_BYTES) {
		/* records in [head, tail): free space after tail, then before head */
		tail = o->head + o->used;
		if (size > FW_OUTBOX_BYTES - tail) {
			if (size > o->head)
				goto refused;
			o->ring[tail] = SKIP;
			o->used += FW_OUTBOX_BYTES - tail;
			tail = 0;
		}
	} else {
		/* records from head to the end, then from 0 to tail: free space in between */
		tail = o->head + o->used - FW_OUTBOX_BYTES;
		if (size > o->head - tail)
			goto refused;
	}
	put(o, tail, kind, topic, topic_len, payload, len, qos, retain);
	o->used += size;
	return 0;
refused:
	o->dropped++;
	return -1;
}

bool fw_outbox_peek(struct fw_outbox *o, struct fw_outbox_item *item)
{
	const uint8_t *r;

	if (o->used == 0)
		return false;
	if (o->ring[o->head] == SKIP) {
		o->used -= FW_OUTBOX_BYTES - o->head;
		o->head = 0;
	}
	r = o->ring + o->head;
	item->kind = (enum fw_outbox_kind)r[0];
	item->qos = r[1];
	item->retain = r[2] != 0;
	item->topic = (const char *)r + RECORD_HEADER;
	item->len = (size_t)r[4] << 8 | r[5];
	item->payload = r + RECORD_HEADER + r[3] + 1;
	return true;
}

void fw_outbox_release(struct fw_outbox *o)
{
	size_t size;

	if (o->used == 0)
		return;
	size = record_size(o->ring + o->head);
	o->head += size;
	o->used -= size;
	if (o->head == FW_OUTBOX_BYTES || o->used == 0)
		o->head = 0;
}
