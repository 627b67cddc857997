/* caps.h - what a node announces about itself in both handshake messages (PROTOCOL.md 6.15):
 * records inside the Noise payload (so encrypted, and authenticated as the peer's), each
 *   type(1) | length(1) | value(length)
 * with integers little-endian:
 *   CAPS_MAX_MESSAGE      4  the largest transport message the node accepts, bytes
 *                            (MQTTIP_MIN_MESSAGE .. MQTTIP_MAX_TRANSPORT_MSG): its peers keep
 *                            their batches for it at most that large (a device's small buffer)
 *   CAPS_FEATURES         4  a bitmask of optional message formats the node understands:
 *                            MQTTIP_FEATURE_OFFLOAD (proto.h), offload records in transport bodies
 * (7.4.1); unknown bits are kept and ignored CAPS_REVOCATION       8  the version of the VPN
 * revocation list the node holds (4.8): the side with the newer list hands it over after the
 * handshake A record of an unknown type is skipped (a newer node may send more); a known type with
 * the wrong length, a value out of range or a record running past the end makes the whole block
 * malformed (the handshake is refused). Absent records mean the defaults (caps_default). */
#ifndef MQTTIP_CAPS_H
#define MQTTIP_CAPS_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

enum caps_type {
	CAPS_MAX_MESSAGE = 1,
	CAPS_FEATURES = 2,
	CAPS_REVOCATION = 3,
};

struct caps {
	uint32_t max_message;	     /* bytes */
	uint32_t features;	     /* MQTTIP_FEATURE_* bits */
	uint64_t revocation_version; /* 0: no list */
};

/* max_message MQTTIP_MAX_TRANSPORT_MSG, no features, no revocation list. */
struct caps caps_default(void);
/* Writes the records of c (every one, in type order); returns the length, at most
 * MQTTIP_HANDSHAKE_EXT_MAX. */
size_t caps_encode(const struct caps *c, uint8_t out[MQTTIP_HANDSHAKE_EXT_MAX]);
/* Reads len bytes of records into *out (starting from the defaults). 0, or -1 when malformed
 * (*out then holds the defaults). */
int caps_decode(const uint8_t *in, size_t len, struct caps *out);

#endif
