/* test_replay.c - the RFC 6479 window against its definition: a counter is accepted when it is
 * below the reject limit, was never accepted before, and is at most REPLAY_WINDOW below the
 * highest accepted counter. A naive model (a flat array of seen counters) checks random runs.
 * Built twice: with the default window (1024, a ring of 17 words: not a power of two) and with
 * -DREPLAY_WINDOW=1984 (32 words), so both ring shapes are checked. */
#include <stdlib.h>

#include "check.h"
#include "replay.h"

#define W ((uint64_t)REPLAY_WINDOW)

static void test_fresh_and_duplicate(void)
{
	struct replay_window w;

	replay_init(&w);
	CHECK(replay_check(&w, 0));
	CHECK(replay_check_and_update(&w, 0));
	CHECK(!replay_check(&w, 0));
	CHECK(!replay_check_and_update(&w, 0));
	CHECK(replay_check_and_update(&w, 1));
	CHECK(!replay_check_and_update(&w, 1));
	CHECK(!replay_check_and_update(&w, 0));

	/* The first counter seen may be anything, not only 0. */
	replay_init(&w);
	CHECK(replay_check_and_update(&w, 123456789));
	CHECK(!replay_check_and_update(&w, 123456789));
	CHECK(replay_check_and_update(&w, 123456789 - W));
	CHECK(!replay_check_and_update(&w, 123456789 - W - 1));
}

/* Every earlier counter stays refused while the window slides over thousands of counters. */
static void test_sequential_then_all_replays(void)
{
	struct replay_window w;
	unsigned refused = 0, accepted_again = 0;

	replay_init(&w);
	for (uint64_t c = 0; c < 6000; c++) {
		CHECK(replay_check_and_update(&w, c));
		if (c % 97 == 0) {
			for (uint64_t old = 0; old <= c; old++) {
				if (replay_check_and_update(&w, old))
					accepted_again++;
				else
					refused++;
			}
		}
	}
	CHECK_EQ_INT(accepted_again, 0);
	CHECK(refused > 0);
}

/* Highest H accepted: H - W is the oldest acceptable counter, H - W - 1 the first refused. */
static void test_window_edge_exact(void)
{
	struct replay_window w;
	const uint64_t h = 5000;

	replay_init(&w);
	CHECK(replay_check_and_update(&w, h));
	CHECK(!replay_check(&w, h - W - 1));
	CHECK(!replay_check_and_update(&w, h - W - 1));
	CHECK(replay_check(&w, h - W));
	CHECK(replay_check_and_update(&w, h - W));
	CHECK(!replay_check_and_update(&w, h - W));

	/* Moving the top by one pushes the edge by one. */
	CHECK(replay_check_and_update(&w, h + 1));
	CHECK(!replay_check_and_update(&w, h + 1 - W - 1));
	CHECK(replay_check_and_update(&w, h + 1 - W));
}

/* All W + 1 counters of a full window arrive in reverse order: all accepted, once. */
static void test_reordering_within_window(void)
{
	struct replay_window w;
	const uint64_t h = 3 * W + 17;
	unsigned accepted = 0, accepted_twice = 0;

	replay_init(&w);
	for (uint64_t c = h + 1; c-- > h - W;) {
		if (replay_check_and_update(&w, c))
			accepted++;
	}
	CHECK_EQ_INT(accepted, W + 1);
	for (uint64_t c = h - W; c <= h; c++) {
		if (replay_check_and_update(&w, c))
			accepted_twice++;
	}
	CHECK_EQ_INT(accepted_twice, 0);
	CHECK(!replay_check_and_update(&w, h - W - 1));
}

/* Counters that share a ring bit with an old one (same position modulo the ring) must be judged
 * fresh after a jump, and the old ones must stay refused. */
static void test_jumps_and_aliasing(void)
{
	struct replay_window w;
	const uint64_t ring = REPLAY_WORDS * 64;

	replay_init(&w);
	CHECK(replay_check_and_update(&w, 10));
	CHECK(replay_check_and_update(&w, 10 + ring));
	CHECK(!replay_check_and_update(&w, 10));
	CHECK(replay_check_and_update(&w, 10 + ring - 64));
	CHECK(replay_check_and_update(&w, 10 + 2 * ring));
	CHECK(replay_check_and_update(&w, 10 + 2 * ring - 1));
	CHECK(!replay_check_and_update(&w, 10 + ring));
	CHECK(replay_check_and_update(&w, UINT64_C(1) << 40));
	CHECK(!replay_check_and_update(&w, 10 + 2 * ring));
	CHECK(replay_check_and_update(&w, (UINT64_C(1) << 40) - W));
	CHECK(!replay_check_and_update(&w, (UINT64_C(1) << 40) - W - 1));
}

static void test_reject_limit(void)
{
	struct replay_window w;

	replay_init(&w);
	CHECK(!replay_check(&w, MQTTIP_REJECT_AFTER_MESSAGES));
	CHECK(!replay_check_and_update(&w, MQTTIP_REJECT_AFTER_MESSAGES));
	CHECK(!replay_check_and_update(&w, UINT64_MAX));
	CHECK(!replay_check_and_update(&w, UINT64_MAX - 1));
	CHECK(replay_check_and_update(&w, MQTTIP_REJECT_AFTER_MESSAGES - 1));
	CHECK(!replay_check_and_update(&w, MQTTIP_REJECT_AFTER_MESSAGES - 1));
	CHECK(replay_check_and_update(&w, MQTTIP_REJECT_AFTER_MESSAGES - 1 - W));
	CHECK(!replay_check_and_update(&w, MQTTIP_REJECT_AFTER_MESSAGES - 2 - W));
	CHECK(!replay_check_and_update(&w, 0));
}

static void test_check_does_not_update(void)
{
	struct replay_window w, before;

	replay_init(&w);
	CHECK(replay_check_and_update(&w, 100));
	before = w;
	CHECK(replay_check(&w, 101));
	CHECK(replay_check(&w, 1000));
	CHECK(!replay_check(&w, 100));
	CHECK_MEM(&w, &before, sizeof(w));
	CHECK(replay_check_and_update(&w, 1000));
	CHECK(replay_check_and_update(&w, 101));
}

/* Random runs with small reorderings, big jumps and duplicates against a flat array model. */
#define MODEL_RANGE 4000000
static void test_against_model(void)
{
	static unsigned char seen[MODEL_RANGE];
	struct replay_window w;
	uint64_t highest = 0;
	int any = 0;
	unsigned mismatches = 0, accepts = 0, refusals = 0;

	srand(6479);
	replay_init(&w);
	for (int i = 0; i < 300000; i++) {
		int r = rand() % 100;
		int64_t c;
		bool expect, got_check, got;

		if (r < 1)
			c = (int64_t)highest + 1 + rand() % 5000;
		else if (r < 50)
			c = (int64_t)highest + 1 + rand() % 3;
		else if (r < 60)
			c = (int64_t)highest - rand() % 3;
		else
			c = (int64_t)highest - rand() % (int)(W + 200);
		if (c < 0)
			c = 0;
		if (c >= MODEL_RANGE)
			break;
		expect = !seen[c] && (!any || (uint64_t)c + W >= highest);
		got_check = replay_check(&w, (uint64_t)c);
		got = replay_check_and_update(&w, (uint64_t)c);
		if (got != expect || got_check != expect)
			mismatches++;
		if (expect) {
			seen[c] = 1;
			any = 1;
			if ((uint64_t)c > highest)
				highest = (uint64_t)c;
			accepts++;
		} else {
			refusals++;
		}
	}
	CHECK_EQ_INT(mismatches, 0);
	CHECK(accepts > 10000);
	CHECK(refusals > 10000);
}

int main(void)
{
	test_fresh_and_duplicate();
	test_sequential_then_all_replays();
	test_window_edge_exact();
	test_reordering_within_window();
	test_jumps_and_aliasing();
	test_reject_limit();
	test_check_does_not_update();
	test_against_model();
	return check_done();
}
