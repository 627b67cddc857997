/* session.h - the keypairs of one peer, as WireGuard keeps them (PROTOCOL.md "Keypair rotation"):
 *   current  sends, and receives;
 *   prev     the one current replaced: still receives, so packets in flight across a rekey land;
 *   next     a responder's new keypair, unconfirmed: receives only, until the first message that
 *            opens with it proves the initiator has it, which makes it current.
 * An initiator's new keypair becomes current at once (it has the response, so the peer has the
 * keys). prev and next never exist together: a new next wipes prev, and next leaves by becoming
 * current (its predecessor becoming prev) or, when we initiate meanwhile, prev. So a session keeps
 * two slots, current and one other that is prev or next (its unconfirmed flag says which), not
 * three: one keypair less per peer, with WireGuard's behaviour unchanged.
 * All functions are pure functions of the millisecond clock they are given; a struct keypair moves
 * between slots by copy and the slot it leaves is wiped. */
#ifndef MQTTIP_SESSION_H
#define MQTTIP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "keypair.h"

struct session {
	struct keypair current;
	struct keypair other; /* prev, or next when other.unconfirmed (receives only, either way) */
};

void session_init(struct session *s);
/* The keypair current replaced (valid), or NULL. */
struct keypair *session_prev(struct session *s);
/* A responder's new keypair not yet confirmed (valid), or NULL. */
struct keypair *session_next(struct session *s);
/* Takes a copy of a keypair that a handshake just produced (kp->is_initiator says which side we
 * were). Initiator: becomes current; the old current becomes prev, except when an unconfirmed
 * next exists, which then becomes prev instead (the peer, as its initiator, sends with it) and the
 * old current is wiped; the old prev is wiped. Responder: becomes next (an older next is wiped),
 * and prev is wiped, so that confirming it leaves exactly the two newest keypairs. The caller
 * should wipe its own copy. */
void session_install(struct session *s, const struct keypair *kp);
/* The valid keypair (current, prev or next) whose local_index is local_index (the receiver index
 * of an incoming transport message), or NULL. */
struct keypair *session_find(struct session *s, uint32_t local_index);
/* Call after keypair_open() succeeded with kp (a keypair of s). When kp is the unconfirmed next,
 * rotates: current becomes prev, next becomes current. Returns where kp lives now (&s->current
 * after a rotation, kp otherwise): the old pointer is stale after a rotation. */
struct keypair *session_received_with(struct session *s, struct keypair *kp);
/* &s->current when it can seal now (valid, not expired, counter not exhausted), else NULL.
 * Never next: a responder must not send before the initiator confirmed the keypair. */
struct keypair *session_sending_keypair(struct session *s, uint64_t now_ms,
					const struct keypair_params *p);
/* Wipes every keypair (current, prev or next) whose age reached p->reject_after_ms. */
void session_expire(struct session *s, uint64_t now_ms, const struct keypair_params *p);
/* True when a new handshake should be initiated: no keypair can send now, or current wants a
 * rekey (keypair_wants_rekey). Callers pace attempts (MQTTIP_REKEY_TIMEOUT_MS) themselves. */
bool session_wants_handshake(struct session *s, uint64_t now_ms, const struct keypair_params *p);
void session_wipe(struct session *s);

#endif
