/* batch.h - the body of a transport message: several IP packets in one MQTT message
 * (PROTOCOL.md "Body"). Each record is length (2, big-endian, 1..MQTTIP_MAX_IP_PACKET) || packet;
 * a zero length ends the body and whatever follows it is padding; an empty body is a keepalive.
 * The writer appends into the caller's buffer; the reader hands out pointers into the body
 * without copying, and refuses any record that would run past the end. */
#ifndef MQTTIP_BATCH_H
#define MQTTIP_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

enum batch_error {
	BATCH_ERR_TRUNCATED = -1, /* a length field or a packet runs past the end of the body */
	BATCH_ERR_TOO_LONG = -2,  /* a length above MQTTIP_MAX_IP_PACKET */
};

/* Appends one record to body (used bytes taken, capacity cap, never more than MQTTIP_MAX_BODY
 * counted). Returns the new used length, or 0 when the record does not fit or len is 0 or above
 * MQTTIP_MAX_IP_PACKET. pkt may already sit at body + used + MQTTIP_BATCH_RECORD_HEADER (a
 * writer that reads packets straight into place); any other overlap with body is not allowed. */
size_t batch_append(uint8_t *body, size_t cap, size_t used, const uint8_t *pkt, size_t len);

struct batch_reader {
	const uint8_t *body;
	size_t len;
	size_t pos;
};

void batch_reader_init(struct batch_reader *r, const uint8_t *body, size_t len);
/* 1: *pkt and *len give the next packet (pointing into the body); 0: end of the body; negative
 * (enum batch_error): malformed, and every later call says the same. */
int batch_next(struct batch_reader *r, const uint8_t **pkt, size_t *len);

#endif
