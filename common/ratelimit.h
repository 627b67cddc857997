/* ratelimit.h - the handshake flood limit (docs/PROTOCOL.md "Rate limit"): a token bucket per
 * sender address, MQTTIP_HANDSHAKE_RATE_PER_SEC tokens a second up to MQTTIP_HANDSHAKE_BURST, and
 * one more bucket shared by all senders (MQTTIP_HANDSHAKE_GLOBAL_RATE_PER_SEC up to
 * MQTTIP_HANDSHAKE_GLOBAL_BURST), so that many addresses together are bounded as well. An
 * initiation passes only when both buckets hold a token; it then takes one from each.
 * The table of senders is the caller's, of a fixed size (a host keeps RATELIMIT_SENDERS, a device
 * about one per peer); a sender not in it replaces the one seen least recently, and starts with a
 * full bucket, so a flood from more addresses than the table holds is bounded by the shared bucket
 * alone. A pure function of the caller's millisecond clock (monotonic; a clock that steps back
 * refills nothing). Integer arithmetic only, no allocation. */
#ifndef MQTTIP_RATELIMIT_H
#define MQTTIP_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"
#include "proto.h"

#define RATELIMIT_SENDERS 64 /* a host's table (agent); devices keep fewer */

struct ratelimit_bucket {
	uint64_t millitokens; /* thousandths of a token, so refill per ms is an integer */
	uint64_t last_ms;
};

struct ratelimit_sender {
	struct ratelimit_bucket bucket;
	struct netaddr addr;
	bool used;
};

struct ratelimit {
	struct ratelimit_sender *senders; /* the caller's table */
	size_t n_senders;
	struct ratelimit_bucket global;
};

/* Empties the caller's table of n_senders (at least 1) entries, which must outlive rl; fills the
 * global bucket. */
void ratelimit_init(struct ratelimit *rl, struct ratelimit_sender *senders, size_t n_senders);
/* True (and a token taken from the sender's and the global bucket) when one more handshake
 * from sender may be processed at now_ms. */
bool ratelimit_allow(struct ratelimit *rl, const struct netaddr *sender, uint64_t now_ms);

#endif
