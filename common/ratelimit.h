/* ratelimit.h - the handshake flood limit (docs/PROTOCOL.md "Rate limit"): a token bucket per
 * sender address, MQTTIP_HANDSHAKE_RATE_PER_SEC tokens a second up to MQTTIP_HANDSHAKE_BURST, and
 * one more bucket shared by all senders (MQTTIP_HANDSHAKE_GLOBAL_RATE_PER_SEC up to
 * MQTTIP_HANDSHAKE_GLOBAL_BURST), so that many addresses together are bounded as well. An
 * initiation passes only when both buckets hold a token; it then takes one from each.
 * The table is fixed-size (RATELIMIT_SENDERS); a sender not in it replaces the one seen least
 * recently, and starts with a full bucket. A pure function of the caller's millisecond clock
 * (monotonic; a clock that steps back refills nothing). Integer arithmetic only, no allocation. */
#ifndef MQTTIP_RATELIMIT_H
#define MQTTIP_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "netaddr.h"
#include "proto.h"

#define RATELIMIT_SENDERS 64

struct ratelimit_bucket {
	uint64_t millitokens; /* thousandths of a token, so refill per ms is an integer */
	uint64_t last_ms;
};

struct ratelimit_sender {
	struct netaddr addr;
	struct ratelimit_bucket bucket;
	bool used;
};

struct ratelimit {
	struct ratelimit_sender senders[RATELIMIT_SENDERS];
	struct ratelimit_bucket global;
};

/* Empty table, global bucket full. */
void ratelimit_init(struct ratelimit *rl);
/* True (and a token taken from the sender's and the global bucket) when one more handshake
 * from sender may be processed at now_ms. */
bool ratelimit_allow(struct ratelimit *rl, const struct netaddr *sender, uint64_t now_ms);

#endif
