/* ratelimit.c - see ratelimit.h. */
#include "ratelimit.h"

#include <string.h>

#define MILLI 1000 /* millitokens per token; also ms per second, hence rate/s = millitokens/ms */

static void bucket_refill(struct ratelimit_bucket *b, uint64_t now_ms, uint64_t rate_per_sec,
			  uint64_t burst)
{
	uint64_t capacity = burst * MILLI;
	uint64_t elapsed = now_ms > b->last_ms ? now_ms - b->last_ms : 0;

	b->last_ms = now_ms;
	/* Compare before multiplying: a long idle time must not overflow. */
	if (elapsed >= (capacity - b->millitokens + rate_per_sec - 1) / rate_per_sec)
		b->millitokens = capacity;
	else
		b->millitokens += elapsed * rate_per_sec;
}

void ratelimit_init(struct ratelimit *rl, struct ratelimit_sender *senders, size_t n_senders)
{
	memset(rl, 0, sizeof(*rl));
	memset(senders, 0, n_senders * sizeof(*senders));
	rl->senders = senders;
	rl->n_senders = n_senders;
	rl->global.millitokens = (uint64_t)MQTTIP_HANDSHAKE_GLOBAL_BURST * MILLI;
}

static struct ratelimit_sender *sender_slot(struct ratelimit *rl, const struct netaddr *sender,
					    uint64_t now_ms)
{
	struct ratelimit_sender *stalest = &rl->senders[0];

	for (size_t i = 0; i < rl->n_senders; i++) {
		struct ratelimit_sender *s = &rl->senders[i];

		if (s->used && netaddr_equal(&s->addr, sender))
			return s;
		if (!s->used) {
			if (stalest->used)
				stalest = s;
		} else if (stalest->used && s->bucket.last_ms < stalest->bucket.last_ms) {
			stalest = s;
		}
	}
	stalest->used = true;
	stalest->addr = *sender;
	stalest->bucket.millitokens = (uint64_t)MQTTIP_HANDSHAKE_BURST * MILLI;
	stalest->bucket.last_ms = now_ms;
	return stalest;
}

bool ratelimit_allow(struct ratelimit *rl, const struct netaddr *sender, uint64_t now_ms)
{
	struct ratelimit_sender *s = sender_slot(rl, sender, now_ms);

	bucket_refill(&s->bucket, now_ms, MQTTIP_HANDSHAKE_RATE_PER_SEC, MQTTIP_HANDSHAKE_BURST);
	bucket_refill(&rl->global, now_ms, MQTTIP_HANDSHAKE_GLOBAL_RATE_PER_SEC,
		      MQTTIP_HANDSHAKE_GLOBAL_BURST);
	if (s->bucket.millitokens < MILLI || rl->global.millitokens < MILLI)
		return false;
	s->bucket.millitokens -= MILLI;
	rl->global.millitokens -= MILLI;
	return true;
}
