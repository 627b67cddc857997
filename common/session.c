/* session.c - prev/current/next keypair rotation in two slots (see session.h for the rules). */
#include "session.h"

#include <string.h>

#include <sodium.h>

void session_init(struct session *s)
{
	sodium_memzero(s, sizeof(*s)); /* keys, and no keypair valid */
}

struct keypair *session_prev(struct session *s)
{
	return s->other.valid && !s->other.unconfirmed ? &s->other : NULL;
}

struct keypair *session_next(struct session *s)
{
	return s->other.valid && s->other.unconfirmed ? &s->other : NULL;
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
		/* a pending next turns prev (the peer initiated it and sends with it) and the old
		 * current goes; otherwise the old current turns prev and the old prev goes */
		if (session_next(s))
			keypair_wipe(&s->current);
		else
			keypair_move(&s->other, &s->current);
		s->other.unconfirmed = false;
		memcpy(&s->current, kp, sizeof(s->current));
		s->current.unconfirmed = false;
	} else {
		/* replaces an older next, or prev */
		keypair_wipe(&s->other);
		memcpy(&s->other, kp, sizeof(s->other));
		s->other.unconfirmed = true;
	}
}

struct keypair *session_find(struct session *s, uint32_t local_index)
{
	if (s->current.valid && s->current.local_index == local_index)
		return &s->current;
	if (s->other.valid && s->other.local_index == local_index)
		return &s->other;
	return NULL;
}

struct keypair *session_received_with(struct session *s, struct keypair *kp)
{
	struct keypair old;

	if (kp != session_next(s))
		return kp;
	/* next becomes current, current becomes prev: the two slots swap */
	memcpy(&old, &s->current, sizeof(old));
	memcpy(&s->current, &s->other, sizeof(s->current));
	memcpy(&s->other, &old, sizeof(s->other));
	sodium_memzero(&old, sizeof(old));
	s->current.unconfirmed = false;
	return &s->current;
}

struct keypair *session_sending_keypair(struct session *s, uint64_t now_ms,
					const struct keypair_params *p)
{
	return keypair_can_seal(&s->current, now_ms, p) ? &s->current : NULL;
}

void session_expire(struct session *s, uint64_t now_ms, const struct keypair_params *p)
{
	if (s->current.valid && keypair_is_expired(&s->current, now_ms, p))
		keypair_wipe(&s->current);
	if (s->other.valid && keypair_is_expired(&s->other, now_ms, p))
		keypair_wipe(&s->other);
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
