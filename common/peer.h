/* peer.h - what a node keeps for each peer, in a fixed table that the caller provides (a static
 * array on a microcontroller, one allocation at start on Linux): the peer's verified certificate,
 * its keypairs (session.h), the newest initiation timestamp accepted from it, and handshake pacing
 * times.
 * Handshake states (536 bytes each on the ESP32-C3) live in a pool beside the table, also the
 * caller's: a peer with an initiation in flight points into it, as does the responder between
 * reading an initiation and answering it. A host gives one state per peer and one more, so nothing
 * is ever taken away; a device gives a few, since it rarely has more than one handshake in flight:
 * when all are taken, the initiation in flight for longest gives way (its peer tries again on its
 * retry timer, PROTOCOL.md 8.3).
 * Receiver indices carry the table slot in their low PEER_SLOT_BITS bits and random bits above,
 * so an incoming transport message or response finds its peer in O(1) without a hash table;
 * the random part makes an index of a removed peer useless for its successor in that slot.
 * Lookup by overlay address scans the table (O(peers)); callers that need more cache it. */
#ifndef MQTTIP_PEER_H
#define MQTTIP_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "caps.h"
#include "cert.h"
#include "drop.h"
#include "handshake.h"
#include "netaddr.h"
#include "proto.h"
#include "session.h"

#define PEER_SLOT_BITS 12
#define PEER_TABLE_MAX (1u << PEER_SLOT_BITS)

/* A FIFO of packets in the node engine's pool (node.h), linked by pool index. */
struct packet_queue {
	uint32_t head, tail, count;
};

/* What the node engine counts for one peer (node.h). */
struct peer_stats {
	uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets, rx_msgs, tx_msgs;
	uint64_t handshakes; /* completed, either role */
	uint64_t drops[DROP_MAX];
};

/* Fields in order of alignment (8, 4, then bytes), so that a table of them has no padding: a
 * device keeps eight. */
struct peer {
	struct cert_held cert; /* verified; names the peer's addresses, routes and static key */
	struct session session;
	struct peer_stats stats;
	uint64_t handshake_sent_ms;  /* when we last sent an initiation (REKEY_TIMEOUT pacing) */
	uint64_t handshake_first_ms; /* first attempt of the current try (REKEY_ATTEMPT_TIME) */
	/* The node engine's per-peer state (common/node_*.c); 0 means "never" or "not armed". */
	uint64_t handshake_done_ms;   /* last completed handshake, either role */
	uint64_t last_rx_ms;	      /* last authenticated transport message from it */
	uint64_t first_unanswered_ms; /* first data sent since the last message received */
	uint64_t keepalive_due_ms;    /* send a keepalive then, unless we send something first */
	uint64_t last_used_ms;	      /* last traffic either way (least recently used eviction) */
	struct caps caps;	      /* what it announced in its last handshake (caps.h) */
	uint32_t
	    handshake; /* our initiation in flight: 1 + its state's index in the pool, 0: none */
	uint32_t handshake_attempts; /* initiations sent in the current try (retry backoff) */
	struct packet_queue queue;   /* packets waiting for its handshake */
	uint32_t batch;		     /* open batch slot of this wake-up */
	struct netaddr addr; /* the address its handshakes and messages use (kx/data topics) */
	uint8_t last_timestamp[MQTTIP_TIMESTAMP_LEN]; /* newest initiation accepted from it */
	bool has_timestamp;
	bool used;
};

/* One state of the handshake pool: free while hs.state is HANDSHAKE_EMPTY. */
struct peer_handshake {
	uint32_t peer; /* the table slot whose initiation it holds (not the responder's) */
	struct handshake hs;
};

struct peer_table {
	struct peer *peers;
	size_t cap;
	struct peer_handshake *pool;
	size_t n_pool;
};

/* storage: cap zeroed-or-not entries, cap in 1..PEER_TABLE_MAX; pool: n_pool >= 1 handshake
 * states. Returns 0, or -1 if a size is out of range. */
int peer_table_init(struct peer_table *t, struct peer *storage, size_t cap,
		    struct peer_handshake *pool, size_t n_pool);
/* The peer whose certificate claims a most specifically, or NULL: one that has a as a node
 * address, else the one with the longest route containing a (first slot on a tie). */
struct peer *peer_table_find_addr(struct peer_table *t, const struct netaddr *a);
/* The peer with this certificate's static key (one entry per node identity), or NULL. */
struct peer *peer_table_find_static(struct peer_table *t, const uint8_t *static_public);
/* Takes a free slot for a verified certificate; NULL when the table is full. */
struct peer *peer_table_add(struct peer_table *t, const struct cert *c, const struct netaddr *addr);
/* Wipes the peer's keys and handshake and frees its slot. */
void peer_table_remove(struct peer_table *t, struct peer *p);
/* p's initiation in flight (HANDSHAKE_INITIATION_SENT), or NULL. */
struct handshake *peer_handshake(const struct peer_table *t, const struct peer *p);
/* A wiped state for a new initiation of p, which becomes p's once handshake_initiation_create()
 * fills it (a state left empty is free again): p's previous one, else a free one, else the
 * initiation in flight whose peer sent it longest ago, wiped (*evicted, when not NULL, names that
 * peer; NULL otherwise). NULL only when the responder holds every state (a pool of one). */
struct handshake *peer_handshake_start(struct peer_table *t, struct peer *p, struct peer **evicted);
/* A wiped state for the responder, for one initiation: free again once wiped (the response
 * wipes it). A free one, else the initiation in flight sent longest ago, as above. NULL only when
 * a responder's state was left unwiped (a bug). */
struct handshake *peer_handshake_responder(struct peer_table *t, struct peer **evicted);
/* Wipes p's initiation in flight, if any (gave up, keys changed, peer removed). */
void peer_handshake_end(struct peer_table *t, struct peer *p);
/* A fresh receiver index for p: random_bits above the slot number, stepped on when p still uses
 * that index (a valid keypair's local_index or its pending handshake's). */
uint32_t peer_table_new_index(const struct peer_table *t, const struct peer *p,
			      uint32_t random_bits);
/* The peer a receiver index points to (slot in use), or NULL; it still has to own the index. */
struct peer *peer_table_by_index(struct peer_table *t, uint32_t index);
/* For a transport message: the keypair with local_index == index, and its peer. */
struct keypair *peer_table_find_keypair(struct peer_table *t, uint32_t index, struct peer **peer);
/* For a response: the peer whose pending initiation used index as its sender index. */
struct peer *peer_table_find_initiator(struct peer_table *t, uint32_t index);

#endif
