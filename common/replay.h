/* replay.h - sliding anti-replay window after RFC 6479: a ring of 64-bit words, O(1) per packet,
 * no shifting. Accepts any counter not seen before that is at most REPLAY_WINDOW below the highest
 * one seen; refuses the rest. Call replay_check_and_update() only after the message authenticated,
 * so forged counters cannot move the window.
 * The window is receiver-local behaviour, not wire format (PROTOCOL.md 7.5 asks for at least
 * MQTTIP_REPLAY_WINDOW_MIN): a build setting, REPLAY_WINDOW (a multiple of 64), the same for every
 * file of a build since it sizes struct replay_window. The ring holds one word more than the
 * window, the moving slack: 1024 counters take 17 words, 136 bytes per keypair. */
#ifndef MQTTIP_REPLAY_H
#define MQTTIP_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

#ifndef REPLAY_WINDOW
#define REPLAY_WINDOW MQTTIP_REPLAY_WINDOW_MIN
#endif
#define REPLAY_WORDS (REPLAY_WINDOW / 64 + 1)

struct replay_window {
	uint64_t greatest; /* highest counter accepted + 1; 0 means nothing accepted yet */
	uint64_t bitmap[REPLAY_WORDS];
};

void replay_init(struct replay_window *w);
/* True when counter would be accepted now; changes nothing. Lets a receiver refuse an obvious
 * replay before spending a decryption on it. */
bool replay_check(const struct replay_window *w, uint64_t counter);
/* True, and the counter recorded, when counter is fresh; false for replays and too-old ones.
 * Counters >= MQTTIP_REJECT_AFTER_MESSAGES are always refused. */
bool replay_check_and_update(struct replay_window *w, uint64_t counter);

#endif
