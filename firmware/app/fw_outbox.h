/* fw_outbox.h - MQTT operations (publish, subscribe, unsubscribe) queued by the app for a port
 * that must not call its MQTT client with the app's lock held: on ESP-IDF, esp-mqtt runs the
 * event handler (which takes the app's lock) with its own API lock held, so a thread holding the
 * app's lock must never wait for esp-mqtt. The port's fw_port functions push here; a task drains
 * the outbox into the client without the app's lock. A byte ring of length-prefixed records
 * (FIFO, no allocation): a burst of small subscriptions and a few full messages fit together.
 * Not thread-safe: push and pop under the app's lock. */
#ifndef MQTTIP_FW_OUTBOX_H
#define MQTTIP_FW_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fw_tunnel.h"
#include "topic.h"

#define FW_OUTBOX_BYTES	      8192
#define FW_OUTBOX_PAYLOAD_MAX FW_TX_MSG_MAX /* a transport message or a handshake message */

enum fw_outbox_kind {
	FW_OUTBOX_PUBLISH = 1,
	FW_OUTBOX_SUBSCRIBE,
	FW_OUTBOX_UNSUBSCRIBE,
};

struct fw_outbox_item {
	enum fw_outbox_kind kind;
	int qos;
	bool retain;
	char topic[TOPIC_MAX]; /* NUL-terminated */
	size_t len;
	uint8_t payload[FW_OUTBOX_PAYLOAD_MAX];
};

struct fw_outbox {
	uint8_t ring[FW_OUTBOX_BYTES];
	size_t head, used; /* oldest record at head; used bytes */
	uint64_t dropped;  /* pushes refused because the ring was full */
};

void fw_outbox_init(struct fw_outbox *o);
/* Queues one operation; 0, or -1 (counted in dropped) when it does not fit or is too large. */
int fw_outbox_push(struct fw_outbox *o, enum fw_outbox_kind kind, const char *topic,
		   const uint8_t *payload, size_t len, int qos, bool retain);
/* Takes the oldest operation into *item; false when empty. */
bool fw_outbox_pop(struct fw_outbox *o, struct fw_outbox_item *item);

#endif
