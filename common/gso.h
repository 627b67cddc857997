/* gso.h - super-packets (PROTOCOL.md 7.4.1): many TCP or UDP segments of one flow under one set of
 * headers, as a Linux TUN device with offloads reads and writes them (virtio_net_hdr), carried
 * whole in one offload record to peers that understand them.
 *   gso_check       what an offload record's metadata claims (type, flags, segment size), checked
 *                   against the packet's own headers, which alone give the header length and the
 *                   checksum position: a hostile peer's metadata can name nothing else
 *   gso_build       software segmentation: the segments [first, first + count) of a super-packet as
 *                   one packet, either complete (checksum computed: for a peer or a stack without
 *                   offloads) or as a smaller super-packet (for a message too small for the whole)
 *   gso_complete    finishes a partial checksum in place
 *   gso_merge_*     the receiving side's coalescing of consecutive in-order TCP segments (what the
 *                   kernel's GRO does), for senders that could not send super-packets
 * Pure functions over the caller's buffers; nothing allocates. Checksums are the Internet checksum
 * (RFC 1071) over the IPv4 or IPv6 pseudo-header (RFC 793, RFC 8200 8.1). */
#ifndef MQTTIP_GSO_H
#define MQTTIP_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define GSO_TCP_CSUM_OFFSET 16 /* the checksum field inside a TCP header */
#define GSO_UDP_CSUM_OFFSET 6  /* ... inside a UDP header */

struct gso_info {
	/* claimed: an offload record's metadata, or what the host's TUN device said */
	uint8_t type;  /* MQTTIP_GSO_NONE, _TCP, _UDP */
	uint8_t flags; /* MQTTIP_GSO_FLAG_CSUM */
	uint16_t size; /* segment payload bytes; 0 with MQTTIP_GSO_NONE */
	/* derived by gso_check from the packet's headers (0 when not needed: NONE without CSUM) */
	uint8_t version;    /* IP version, 4 or 6 */
	uint8_t protocol;   /* 6 (TCP) or 17 (UDP) when l4_off is set */
	uint16_t l4_off;    /* offset of the TCP or UDP header (virtio's csum_start) */
	uint16_t csum_off;  /* of the checksum field within it (csum_offset): 16 or 6 */
	uint16_t hdr_len;   /* IP + TCP or UDP header bytes: what every segment repeats */
	uint16_t segments;  /* IP packets it stands for: 1 unless TCP or UDP */
	uint16_t last_size; /* payload bytes of the last segment */
};

enum gso_error {
	GSO_ERR_IP = -1,   /* the IP header does not parse, or its total length is not the length */
	GSO_ERR_META = -2, /* unknown type or flag, a segment size with NONE, TCP or UDP without
			    * the checksum flag */
	GSO_ERR_L4 = -3,   /* no complete TCP or UDP header where one is needed (another protocol
			    * than the type's, an IPv4 fragment, IPv6 extension headers) */
	GSO_ERR_SIZE = -4, /* segment size 0, a segment above MQTTIP_MAX_IP_PACKET, more than
			    * MQTTIP_OFFLOAD_MAX_SEGMENTS segments, no payload, a UDP length that
			    * is not the packet's, a plain packet above MQTTIP_MAX_IP_PACKET */
};

/* pkt: len bytes, exactly the IP packet (its total length). Checks that it can be what g->type,
 * g->flags and g->size claim and fills the derived fields of g. Returns 0 or an enum gso_error
 * (g's derived fields are then unspecified). */
int gso_check(const uint8_t *pkt, size_t len, struct gso_info *g);

/* The Internet checksum's running sum: add len bytes at p (an odd length only last). */
uint64_t gso_sum(uint64_t sum, const uint8_t *p, size_t len);
/* Folds a running sum to 16 bits (not complemented). */
uint16_t gso_fold(uint64_t sum);
/* The sum of the pseudo-header of a packet (version 4 or 6, checked) for an L4 length. */
uint64_t gso_pseudo_sum(const uint8_t *pkt, uint8_t version, uint8_t protocol, size_t l4_len);

/* Writes into out the packet made of the segments [first, first + count) of pkt (checked by
 * gso_check, TCP or UDP): the headers with the IP length, IPv4 identification (+first) and header
 * checksum, TCP sequence number (FIN and PSH only with the last segment, CWR only with the first)
 * or UDP length adjusted, then those segments' payload. complete: the L4 checksum is computed in
 * full; otherwise the field gets the pseudo-header sum (a partial checksum, MQTTIP_GSO_FLAG_CSUM).
 * out must hold hdr_len + count * size bytes and not overlap pkt. Returns the length written. */
size_t gso_build(const uint8_t *pkt, const struct gso_info *g, unsigned first, unsigned count,
		 bool complete, uint8_t *out);
/* A packet checked with MQTTIP_GSO_FLAG_CSUM: computes its L4 checksum in place. */
void gso_complete(uint8_t *pkt, size_t len, const struct gso_info *g);
/* True when pkt (a plain IPv4 or IPv6 packet, len bytes) is TCP and its checksum verifies. */
bool gso_tcp_checksum_ok(const uint8_t *pkt, size_t len);

/* Scattered bytes of one packet, in order: the host writes them with one system call. */
struct gso_chunk {
	const uint8_t *p;
	size_t len;
};

#define GSO_MERGE_MAX 32 /* packets one coalesced super-packet may gather */

/* A run of TCP segments being coalesced: the first packet's headers stand for all of them, its
 * payload and each later packet's payload are the chunks. */
struct gso_merge {
	uint8_t *head; /* the first packet: its headers are rewritten by gso_merge_finish */
	struct gso_chunk chunks[GSO_MERGE_MAX];
	size_t n, total;		/* chunks, bytes */
	uint16_t l4_off, hdr_len, size; /* size: the first segment's payload, the run's */
	uint32_t next_seq;
	uint8_t last_flags; /* TCP flags of the last segment */
	bool closed;	    /* a short or PSH segment ended it */
};

/* Starts a run with pkt (len bytes, its total length). False when pkt cannot start one: not a
 * plain TCP segment with payload, flags other than ACK (and PSH), IPv4 options or fragments, IPv6
 * extension headers, or a checksum that does not verify (the kernel must judge it alone). */
bool gso_merge_start(struct gso_merge *m, uint8_t *pkt, size_t len);
/* Appends pkt when it continues the run: same addresses, ports, header fields (TTL, TOS or
 * traffic class and flow label, DF, TCP options, acknowledgement, flags), the next sequence number,
 * a payload no larger than the first's, a verified checksum, room left. False otherwise (the run
 * must be finished first). pkt must stay valid until the run is finished. */
bool gso_merge_add(struct gso_merge *m, const uint8_t *pkt, size_t len);
/* Ends the run: for more than one packet, rewrites the first packet's IP length (and IPv4 header
 * checksum), PSH and checksum field (the pseudo-header sum) and fills g as a TCP super-packet with
 * a partial checksum; for one packet, g is a plain packet left as it came. Returns the number of
 * chunks in m->chunks. */
size_t gso_merge_finish(struct gso_merge *m, struct gso_info *g);

#endif
