/* drop.h - why a node dropped a packet or a message: one vocabulary for the node engine (node.h),
 * `mqttip status` and the device's `status` (docs/AGENT.md and firmware/README.md list it).
 * Every drop is counted under exactly one reason, per peer when the peer is known, else for the
 * node as a whole. The names are part of the status interfaces: add reasons, never rename. */
#ifndef MQTTIP_DROP_H
#define MQTTIP_DROP_H

#include <stddef.h>
#include <stdint.h>

enum drop_reason {
	DROP_BAD_PACKET, /* an IP packet whose header does not parse (outbound or decrypted) */
	DROP_NO_PEER,	 /* no certificate owns the destination, or no peer has a session */
	DROP_QUEUE_FULL, /* waiting for a handshake or a certificate, its queue was full */
	DROP_HANDSHAKE_TIMEOUT, /* queued packets when the handshake or the lookup gave up */
	DROP_BROKER_DOWN,	/* the MQTT client refused the publish (not connected) */
	DROP_MALFORMED,		/* transport, handshake or directory message of bad size or type */
	DROP_UNKNOWN_INDEX,	/* no keypair for the receiver index */
	DROP_AUTH,		/* AEAD tag did not verify */
	DROP_REPLAY,		/* counter already seen or too old */
	DROP_EXPIRED,		/* keypair past reject-after */
	DROP_TOPIC,		/* the message's topic source is not the keypair's peer */
	DROP_SOURCE,		/* inner source not claimed most specifically by the sender */
	DROP_DESTINATION,	/* inner destination is not ours */
	DROP_BODY,		/* malformed batch body */
	DROP_DELIVER,		/* the host's IP stack refused the packet (TUN write, lwIP) */
	DROP_HANDSHAKE,		/* handshake message refused (decrypt, certificate, index, ...) */
	DROP_HANDSHAKE_MAC1,	/* handshake message without our mac1: junk, no DH */
	DROP_HANDSHAKE_REPLAY,	/* initiation whose timestamp is not newer than the last one */
	DROP_RATELIMIT,		/* initiation or response over the per-sender or global rate */
	DROP_CERT,		/* certificate refused: signature, validity, address not owned */
	DROP_CERT_SERIAL,    /* certificate older than the one held (serial rule, PROTOCOL 8.2) */
	DROP_TABLE_FULL,     /* a new peer, and no room for it in the peer table */
	DROP_MULTICAST,	     /* broadcast or multicast the node does not send or accept */
	DROP_RETAINED,	     /* a retained message on an inbox (stale by definition) */
	DROP_LEGACY_AUTH,    /* legacy message that does not open */
	DROP_LEGACY_REPLAY,  /* legacy nonce seen before */
	DROP_FOREIGN_SOURCE, /* outbound packet whose source is not ours (peers would drop it) */
	DROP_REVOKED,	 /* a certificate the VPN revocation list revokes (handshake, directory) */
	DROP_REVOCATION, /* a revocation list refused: older, conflicting, forged, malformed */
	DROP_CERT_REQUEST, /* a certificate request over the rate limit, or that we cannot answer */
	DROP_OVERSIZE,	   /* a packet that alone is above the message size limit (the broker's
			    * or the peer's), or a message the MQTT client refused as too large */
	DROP_MAX
};

/* The reason's name as status shows it ("no_peer"); "?" for a value out of range. */
const char *drop_name(enum drop_reason why);

/* The line `mqttip status` and the device's `status` print for a set of counters:
 * "  drops: name N, name N\n" over the non-zero ones, nothing when all are zero. Handed to emit
 * piece by piece (each under 64 bytes, not NUL-terminated), so no buffer is needed. */
void drop_list_text(const uint64_t drops[DROP_MAX],
		    void (*emit)(void *arg, const char *piece, size_t len), void *arg);

#endif
