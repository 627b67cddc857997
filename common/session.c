/* session.c - prev/current/next keypair rotation (see session.h for the rules). */
#include "session.h"

#include <string.h>

void session_init(struct session *s)
{
	keypair_wipe(&s->prev);
	keypair_wipe(&s->current);
	keypair_wipe(&s->next);
}

/* Moves src into dst and leaves src wiped, so key material exists in one slot only. */
static void keypair_move(struct keypair *dst, struct keypair *src)
{
	keypair_wipe(dst);
	memcpy(dst, src, sizeof(*dst));
	keypair_wipe(src);
}

void session_install(struct session *s, const struct keypair *kp)
{
	if (kp->is_initiator) {
		if (s->next.valid) {
			keypair_move(&s->prev, &s->next);
			keypair_wipe(&s->current);
		} else {
			keypair_move(&s->prev, &s->current);
		}
		memcpy(&s->current, kp, sizeof(s->current));
	} else {
		keypair_wipe(&s->next);
		memcpy(&s->next, kp, sizeof(s->next));
		keypair_wipe(&s->prev);
	}
}

struct keypair *session_find(struct session *s, uint32_t local_index)
{
	struct keypair *slots[3] = {&s->current, &s->prev, &s->next};

	for (size_t i = 0; i < 3; i++) {
		if (slots[i]->valid && slots[i]->local_index == local_index)
			return slots[i];
	}
	return NULL;
}

struct keypair *session_received_with(struct session *s, struct keypair *kp)
{
	if (kp != &s->next || !s->next.valid)
		return kp;
	keypair_move(&s->prev, &s->current);
	keypair_move(&s->current, &s->next);
	return &s->current;
}

struct keypair *session_sending_keypair(struct session *s, uint64_t now_ms,
					const struct keypair_params *p)
{
	return keypair_can_seal(&s->current, now_ms, p) ? &s->current : NULL;
}

void session_expire(struct session *s, uint64_t now_ms, const struct keypair_params *p)
{
	struct keypair *slots[3] = {&s->prev, &s->current, &s->next};

	for (size_t i = 0; i < 3; i++) {
		if (slots[i]->valid && keypair_is_expired(slots[i], now_ms, p))
			keypair_wipe(slots[i]);
	}
}

bool session_wants_handshake(struct session *s, uint64_t now_ms, const struct keypair_params *p)
{
	struct keypair *kp = session_sending_keypair(s, now_ms, p);

	return kp == NULL || keypair_wants_rekey(kp, now_ms, p);
}

void session_wipe(struct session *s)
{
	session_init(s);
}
