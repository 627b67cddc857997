/* replay.c - RFC 6479 anti-replay window (the variant WireGuard uses).
 *
 * Bit b of the ring stands for counter b - 1: keeping "greatest" as highest + 1 lets 0 mean "empty"
 * without a separate flag. The ring has REPLAY_WORDS words of 64 bits; when the highest counter
 * moves forward, whole words between the old and new top are cleared, so one word of slack is
 * always partly stale and the usable window is REPLAY_WINDOW = (REPLAY_WORDS - 1) * 64. Word i of
 * the ring holds bits 64 * k .. 64 * k + 63 for every k = i modulo REPLAY_WORDS (a power of two
 * makes the modulo a mask; 17 words cost a division, small beside the AEAD). */
#include "replay.h"

#include <string.h>

_Static_assert(REPLAY_WINDOW % 64 == 0, "the replay window is a whole number of 64-bit words");
_Static_assert(REPLAY_WINDOW >= MQTTIP_REPLAY_WINDOW_MIN,
	       "PROTOCOL.md 7.5: a receiver keeps at least MQTTIP_REPLAY_WINDOW_MIN counters");

void replay_init(struct replay_window *w)
{
	memset(w, 0, sizeof(*w));
}

/* Counter + 1 cannot overflow below the reject limit, and neither can + REPLAY_WINDOW. */
static bool replay_in_range(const struct replay_window *w, uint64_t counter)
{
	if (counter >= MQTTIP_REJECT_AFTER_MESSAGES)
		return false;
	return counter + 1 + REPLAY_WINDOW >= w->greatest;
}

static size_t replay_word(uint64_t bit)
{
	return (size_t)((bit >> 6) % REPLAY_WORDS);
}

static uint64_t replay_mask(uint64_t bit)
{
	return UINT64_C(1) << (bit & 63);
}

bool replay_check(const struct replay_window *w, uint64_t counter)
{
	uint64_t bit = counter + 1;

	if (!replay_in_range(w, counter))
		return false;
	if (bit > w->greatest)
		return true;
	return (w->bitmap[replay_word(bit)] & replay_mask(bit)) == 0;
}

bool replay_check_and_update(struct replay_window *w, uint64_t counter)
{
	uint64_t bit = counter + 1;
	uint64_t *word;

	if (!replay_in_range(w, counter))
		return false;
	if (bit > w->greatest) {
		uint64_t top = w->greatest >> 6;
		uint64_t steps = (bit >> 6) - top;

		if (steps > REPLAY_WORDS)
			steps = REPLAY_WORDS;
		for (uint64_t i = 1; i <= steps; i++)
			w->bitmap[replay_word((top + i) << 6)] = 0;
		w->greatest = bit;
	}
	word = &w->bitmap[replay_word(bit)];
	if (*word & replay_mask(bit))
		return false;
	*word |= replay_mask(bit);
	return true;
}
