/* test_ratelimit.c - the handshake rate limit on a fake millisecond clock. Expected counts are
 * worked out here from the constants in proto.h (tokens per second, burst), not taken from the
 * implementation. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "ratelimit.h"

#define SENDER_MS_PER_TOKEN (1000 / MQTTIP_HANDSHAKE_RATE_PER_SEC)
#define GLOBAL_MS_PER_TOKEN (1000 / MQTTIP_HANDSHAKE_GLOBAL_RATE_PER_SEC)

static struct ratelimit_sender table[RATELIMIT_SENDERS];

/* A host's table (RATELIMIT_SENDERS entries). */
static void init(struct ratelimit *rl)
{
	ratelimit_init(rl, table, RATELIMIT_SENDERS);
}

static struct netaddr sender(unsigned n)
{
	struct netaddr a = {.family = 4, .bytes = {10, 1, (uint8_t)(n >> 8), (uint8_t)n}};

	return a;
}

/* How many of `tries` back-to-back handshakes from s at now pass. */
static unsigned allowed(struct ratelimit *rl, struct netaddr s, uint64_t now, unsigned tries)
{
	unsigned n = 0;

	while (tries--)
		n += ratelimit_allow(rl, &s, now);
	return n;
}

static void test_burst_and_refill(void)
{
	struct ratelimit rl;
	uint64_t t = 1000000;

	init(&rl);
	CHECK_EQ_INT(allowed(&rl, sender(1), t, 100), MQTTIP_HANDSHAKE_BURST);
	CHECK_EQ_INT(allowed(&rl, sender(1), t + SENDER_MS_PER_TOKEN - 1, 10), 0);
	CHECK_EQ_INT(allowed(&rl, sender(1), t + SENDER_MS_PER_TOKEN, 10), 1);
	/* fractions of a token carry over: half a token now and half later make one */
	CHECK_EQ_INT(allowed(&rl, sender(1), t + SENDER_MS_PER_TOKEN * 3 / 2, 10), 0);
	CHECK_EQ_INT(allowed(&rl, sender(1), t + SENDER_MS_PER_TOKEN * 2, 10), 1);
	/* a long idle time fills the bucket to the burst, not beyond, and does not overflow */
	CHECK_EQ_INT(allowed(&rl, sender(1), t + 3600000, 100), MQTTIP_HANDSHAKE_BURST);
	CHECK_EQ_INT(allowed(&rl, sender(1), UINT64_MAX / 2, 100), MQTTIP_HANDSHAKE_BURST);
	/* steady rate over ten seconds: one token per interval */
	t = UINT64_MAX / 2;
	unsigned n = 0;
	for (uint64_t ms = 1; ms <= 10000; ms++)
		n += allowed(&rl, sender(1), t + ms, 1);
	CHECK_EQ_INT(n, 10 * MQTTIP_HANDSHAKE_RATE_PER_SEC);
}

static void test_clock_steps_back(void)
{
	struct ratelimit rl;

	init(&rl);
	CHECK_EQ_INT(allowed(&rl, sender(1), 100000, 100), MQTTIP_HANDSHAKE_BURST);
	CHECK_EQ_INT(allowed(&rl, sender(1), 50000, 10), 0);
	CHECK_EQ_INT(allowed(&rl, sender(1), 50000 + SENDER_MS_PER_TOKEN, 10), 1);
}

static void test_senders_are_separate(void)
{
	struct ratelimit rl;
	struct netaddr v6 = {.family = 6, .bytes = {0xfd, [15] = 1}};
	struct netaddr v4 = {.family = 4, .bytes = {0xfd, 0, 0, 0}};

	init(&rl);
	CHECK_EQ_INT(allowed(&rl, sender(1), 1000, 10), MQTTIP_HANDSHAKE_BURST);
	CHECK_EQ_INT(allowed(&rl, sender(2), 1000, 10), MQTTIP_HANDSHAKE_BURST);
	CHECK_EQ_INT(allowed(&rl, sender(1), 1000, 10), 0);
	CHECK_EQ_INT(allowed(&rl, v6, 1000, 1), 1);
	CHECK_EQ_INT(allowed(&rl, v4, 1000, 1), 1);
}

/* The global bucket: four full bursts empty it; a fifth sender then waits for it to refill. */
static void test_global_cap(void)
{
	struct ratelimit rl;
	unsigned senders = MQTTIP_HANDSHAKE_GLOBAL_BURST / MQTTIP_HANDSHAKE_BURST, total = 0;

	init(&rl);
	for (unsigned i = 0; i < senders; i++)
		total += allowed(&rl, sender(i), 1000, 100);
	CHECK_EQ_INT(total, MQTTIP_HANDSHAKE_GLOBAL_BURST);
	CHECK_EQ_INT(allowed(&rl, sender(100), 1000, 1), 0);
	CHECK_EQ_INT(allowed(&rl, sender(100), 1000 + GLOBAL_MS_PER_TOKEN - 1, 1), 0);
	CHECK_EQ_INT(allowed(&rl, sender(100), 1000 + GLOBAL_MS_PER_TOKEN, 10), 1);

	/* A flood from a thousand addresses over one second: the global burst plus one second of
	 * global rate at most, whatever the per-sender buckets would allow. */
	init(&rl);
	total = 0;
	for (unsigned ms = 0; ms < 1000; ms++)
		total += allowed(&rl, sender(ms), 5000 + ms, 1);
	CHECK(total <= MQTTIP_HANDSHAKE_GLOBAL_BURST + MQTTIP_HANDSHAKE_GLOBAL_RATE_PER_SEC);
	CHECK(total >= MQTTIP_HANDSHAKE_GLOBAL_BURST + MQTTIP_HANDSHAKE_GLOBAL_RATE_PER_SEC - 1);
}

/* A drained sender that falls out of the full table comes back with a fresh bucket; while it is
 * still in the table it does not. Fifty ms after the drain the global bucket holds five tokens,
 * the sender's own bucket one if it was kept. The table size is the caller's: a host's 64 and a
 * device's 8 (firmware/app/fw_tunnel.h). */
static unsigned after_others(size_t size, unsigned n_others)
{
	struct ratelimit rl;
	uint64_t t0 = 100000;

	ratelimit_init(&rl, table, size);
	CHECK_EQ_INT(allowed(&rl, sender(1000), t0, 100), MQTTIP_HANDSHAKE_BURST);
	for (unsigned i = 0; i < n_others; i++)
		allowed(&rl, sender(i), t0 + 1, 1);
	return allowed(&rl, sender(1000), t0 + 51, 100);
}

static void test_eviction(void)
{
	CHECK_EQ_INT(after_others(RATELIMIT_SENDERS, RATELIMIT_SENDERS - 1),
		     51 / SENDER_MS_PER_TOKEN);
	CHECK_EQ_INT(after_others(RATELIMIT_SENDERS, RATELIMIT_SENDERS), MQTTIP_HANDSHAKE_BURST);
	CHECK_EQ_INT(after_others(8, 7), 51 / SENDER_MS_PER_TOKEN);
	CHECK_EQ_INT(after_others(8, 8), MQTTIP_HANDSHAKE_BURST);
	/* one entry: every other sender takes it over */
	CHECK_EQ_INT(after_others(1, 0), 51 / SENDER_MS_PER_TOKEN);
	CHECK_EQ_INT(after_others(1, 1), MQTTIP_HANDSHAKE_BURST);
}

int main(void)
{
	test_burst_and_refill();
	test_clock_steps_back();
	test_senders_are_separate();
	test_global_cap();
	test_eviction();
	return check_done();
}
