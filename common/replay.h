/* replay.h - sliding anti-replay window after RFC 6479: a ring of 64-bit words, O(1) per packet,
 * no shifting. Accepts any counter not seen before within MQTTIP_REPLAY_WINDOW of the highest
 * one seen; refuses the rest. Call replay_check_and_update() only after the message authenticated,
 * so forged counters cannot move the window. */
#ifndef MQTTIP_REPLAY_H
#define MQTTIP_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

struct replay_window {
	uint64_t greatest; /* highest counter accepted + 1; 0 means nothing accepted yet */
	uint64_t bitmap[MQTTIP_REPLAY_BITS_TOTAL / 64];
};

void replay_init(struct replay_window *w);
/* True when counter would be accepted now; changes nothing. Lets a receiver refuse an obvious
 * replay before spending a decryption on it. */
bool replay_check(const struct replay_window *w, uint64_t counter);
/* True, and the counter recorded, when counter is fresh; false for replays and too-old ones.
 * Counters >= MQTTIP_REJECT_AFTER_MESSAGES are always refused. */
bool replay_check_and_update(struct replay_window *w, uint64_t counter);

#endif
