/* batch.h - the body of a transport message: several IP packets in one MQTT message
 * (PROTOCOL.md 7.4). Each record is
 *   length (2, big-endian, 1..MQTTIP_MAX_IP_PACKET) || packet
 * or, to a peer that announced MQTTIP_FEATURE_OFFLOAD, an offload record (7.4.1)
 *   MQTTIP_OFFLOAD_RECORD_FLAG | length (2, big-endian, length 1..MQTTIP_OFFLOAD_MAX_PACKET) ||
 *   gso type (1) || flags (1) || segment size (2, big-endian) || packet
 * which carries a super-packet (many TCP or UDP segments under one header) or a packet whose
 * checksum is still partial. A zero length ends the body and whatever follows it is padding; an
 * empty body is a keepalive. The writer appends into the caller's buffer; the reader hands out
 * pointers into the body without copying, and refuses any record that would run past the end.
 * Framing is all this module checks: what the metadata says about the packet is gso.h's. */
#ifndef MQTTIP_BATCH_H
#define MQTTIP_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

enum batch_error {
	BATCH_ERR_TRUNCATED = -1, /* a length field or a packet runs past the end of the body */
	BATCH_ERR_TOO_LONG = -2,  /* a length above MQTTIP_MAX_IP_PACKET, or an offload record
				   * where none is accepted */
	BATCH_ERR_OFFLOAD = -3,	  /* an offload record of length 0 or above the maximum */
};

/* Appends one record to body (used bytes taken, capacity cap, never more than MQTTIP_MAX_BODY
 * counted). Returns the new used length, or 0 when the record does not fit or len is 0 or above
 * MQTTIP_MAX_IP_PACKET. pkt may already lie in body at or after body + used (a writer that reads
 * packets straight into place, maybe where the other kind of record would put it: the packet is
 * moved); any other overlap with body is not allowed. */
size_t batch_append(uint8_t *body, size_t cap, size_t used, const uint8_t *pkt, size_t len);
/* The same for an offload record, len 1..MQTTIP_OFFLOAD_MAX_PACKET. */
size_t batch_append_offload(uint8_t *body, size_t cap, size_t used, const uint8_t *pkt, size_t len,
			    uint8_t gso_type, uint8_t flags, uint16_t segment_size);

/* One record as read: an ordinary packet has offload false and the other fields 0. */
struct batch_record {
	const uint8_t *pkt; /* into the body */
	size_t len;
	bool offload;
	uint8_t gso_type, flags;
	uint16_t segment_size;
};

struct batch_reader {
	const uint8_t *body;
	size_t len;
	size_t pos;
	int error; /* sticky */
};

void batch_reader_init(struct batch_reader *r, const uint8_t *body, size_t len);
/* 1: *rec is the next record; 0: end of the body; negative (enum batch_error): malformed, and
 * every later call says the same. offload: offload records are accepted (the node announced the
 * feature); otherwise one is BATCH_ERR_TOO_LONG, as it is to a node that predates them. */
int batch_next_record(struct batch_reader *r, bool offload, struct batch_record *rec);
/* batch_next_record without offload records: *pkt and *len give the next packet. */
int batch_next(struct batch_reader *r, const uint8_t **pkt, size_t *len);

#endif
