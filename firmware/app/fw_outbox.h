/* fw_outbox.h - MQTT operations (publish, subscribe, unsubscribe) queued by the app for a port
 * that must not call its MQTT client with the app's lock held: on ESP-IDF, esp-mqtt runs the
 * event handler (which takes the app's lock) with its own API lock held, so a thread holding the
 * app's lock must never wait for esp-mqtt. The port's publish functions (struct node_ops) push
 * here; a task drains the outbox into the client without the app's lock. A byte ring of records
 * (FIFO, no allocation), each kept in one piece: a record that does not fit before the end of the
 * ring starts again at its beginning. So the draining task hands the client a record where it lies
 * instead of copying it out: fw_outbox_peek() under the app's lock, the client call without it,
 * fw_outbox_release() under the lock again; pushes in between write only free space, never the
 * record being sent. Sized for what the app publishes at once (firmware/README.md "Memory"): two
 * transport messages of a packet of the netif's MTU (a TCP burst from lwIP's thread, which runs
 * before the draining task), or the largest message, a revocation list, beside subscriptions and
 * handshake messages. Not thread-safe: push, peek and release under the app's lock. */
#ifndef MQTTIP_FW_OUTBOX_H
#define MQTTIP_FW_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fw_tunnel.h"
#include "topic.h"

#define FW_OUTBOX_BYTES	      3072
#define FW_OUTBOX_PAYLOAD_MAX FW_TX_PAYLOAD_MAX

enum fw_outbox_kind {
	FW_OUTBOX_PUBLISH = 1,
	FW_OUTBOX_SUBSCRIBE,
	FW_OUTBOX_UNSUBSCRIBE,
};

/* The oldest record, in place in the ring: valid until fw_outbox_release(). */
struct fw_outbox_item {
	enum fw_outbox_kind kind;
	int qos;
	bool retain;
	const char *topic; /* NUL-terminated */
	const uint8_t *payload;
	size_t len;
};

struct fw_outbox {
	uint8_t ring[FW_OUTBOX_BYTES];
	size_t head, used; /* oldest record at head; used bytes, skipped ring ends included */
	uint64_t dropped;  /* pushes refused because the ring was full */
};

void fw_outbox_init(struct fw_outbox *o);
/* Queues one operation (topic shorter than TOPIC_MAX, payload up to FW_OUTBOX_PAYLOAD_MAX); 0, or
 * -1 (counted in dropped) when it does not fit or is too large. */
int fw_outbox_push(struct fw_outbox *o, enum fw_outbox_kind kind, const char *topic,
		   const uint8_t *payload, size_t len, int qos, bool retain);
/* The oldest operation, in place (*item); false when empty. It stays queued, and in place, until
 * fw_outbox_release(). */
bool fw_outbox_peek(struct fw_outbox *o, struct fw_outbox_item *item);
/* Drops the operation fw_outbox_peek() returned. */
void fw_outbox_release(struct fw_outbox *o);

#endif
