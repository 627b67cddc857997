#include "peer.h"

#include <string.h>

#include <sodium.h>

#define SLOT_MASK (PEER_TABLE_MAX - 1u)

int peer_table_init(struct peer_table *t, struct peer *storage, size_t cap,
		    struct peer_handshake *pool, size_t n_pool)
{
	if (cap == 0 || cap > PEER_TABLE_MAX || n_pool == 0)
		return -1;
	memset(storage, 0, cap * sizeof(*storage));
	memset(pool, 0, n_pool * sizeof(*pool));
	t->peers = storage;
	t->cap = cap;
	t->pool = pool;
	t->n_pool = n_pool;
	return 0;
}

/* How specifically c claims a: above any prefix length for one of its node addresses, else its
 * longest route containing a, else -1. */
static int claim_len(const struct cert_held *c, const struct netaddr *a)
{
	int best = -1;

	if (cert_held_owns(c, a) == CERT_OK)
		return 129;
	for (unsigned i = 0; i < c->n_routes && i < MQTTIP_CERT_MAX_ROUTES; i++) {
		if (c->routes[i].len > best &&
		    netaddr_in_prefix(a, &c->routes[i].addr, c->routes[i].len))
			best = c->routes[i].len;
	}
	return best;
}

/* The most specific claim wins, as in WireGuard's cryptokey routing: a gateway's route that covers
 * another node's address must not capture that node's traffic, whatever the slot order. */
struct peer *peer_table_find_addr(struct peer_table *t, const struct netaddr *a)
{
	struct peer *best = NULL;
	int best_len = -1;

	for (size_t i = 0; i < t->cap; i++) {
		struct peer *p = &t->peers[i];
		int len = p->used ? claim_len(&p->cert, a) : -1;

		if (len > best_len) {
			best = p;
			best_len = len;
		}
	}
	return best;
}

struct peer *peer_table_find_static(struct peer_table *t, const uint8_t *static_public)
{
	for (size_t i = 0; i < t->cap; i++) {
		struct peer *p = &t->peers[i];
		if (p->used && memcmp(p->cert.x25519_public, static_public, MQTTIP_KEY_LEN) == 0)
			return p;
	}
	return NULL;
}

struct peer *peer_table_add(struct peer_table *t, const struct cert *c, const struct netaddr *addr)
{
	for (size_t i = 0; i < t->cap; i++) {
		struct peer *p = &t->peers[i];
		if (p->used)
			continue;
		memset(p, 0, sizeof(*p));
		p->used = true;
		cert_hold(&p->cert, c);
		p->addr = *addr;
		session_init(&p->session);
		return p;
	}
	return NULL;
}

static size_t slot_of(const struct peer_table *t, const struct peer *p)
{
	return (size_t)(p - t->peers);
}

void peer_table_remove(struct peer_table *t, struct peer *p)
{
	session_wipe(&p->session);
	peer_handshake_end(t, p);
	sodium_memzero(p, sizeof(*p));
}

struct handshake *peer_handshake(const struct peer_table *t, const struct peer *p)
{
	struct peer_handshake *e;

	if (p->handshake == 0 || p->handshake > t->n_pool)
		return NULL;
	e = &t->pool[p->handshake - 1];
	return e->peer == slot_of(t, p) && e->hs.state == HANDSHAKE_INITIATION_SENT ? &e->hs : NULL;
}

void peer_handshake_end(struct peer_table *t, struct peer *p)
{
	struct handshake *hs = peer_handshake(t, p);

	if (hs)
		handshake_wipe(hs);
	p->handshake = 0;
}

/* A free state, scanning from first; else the initiation sent longest ago, wiped; else (every
 * state the responder's) none. */
static size_t pool_take(struct peer_table *t, size_t first, struct peer **evicted)
{
	size_t oldest = t->n_pool;

	if (evicted)
		*evicted = NULL;
	for (size_t k = 0; k < t->n_pool; k++) {
		size_t i = (first + k) % t->n_pool;
		struct peer_handshake *e = &t->pool[i];

		if (e->hs.state == HANDSHAKE_EMPTY)
			return i;
		if (e->hs.state != HANDSHAKE_INITIATION_SENT)
			continue; /* the responder's, for the length of one call */
		if (oldest == t->n_pool || t->peers[e->peer].handshake_sent_ms <
					       t->peers[t->pool[oldest].peer].handshake_sent_ms)
			oldest = i;
	}
	if (oldest < t->n_pool) {
		struct peer *owner = &t->peers[t->pool[oldest].peer];

		handshake_wipe(&t->pool[oldest].hs);
		owner->handshake = 0;
		if (evicted)
			*evicted = owner;
	}
	return oldest;
}

struct handshake *peer_handshake_start(struct peer_table *t, struct peer *p, struct peer **evicted)
{
	struct handshake *own = peer_handshake(t, p);
	size_t i;

	if (evicted)
		*evicted = NULL;
	if (own) {
		handshake_wipe(own);
		return own;
	}
	/* a host's pool has a state per slot: start there, so the scan ends at once */
	i = pool_take(t, slot_of(t, p) % t->n_pool, evicted);
	if (i == t->n_pool)
		return NULL;
	t->pool[i].peer = (uint32_t)slot_of(t, p);
	p->handshake = (uint32_t)i + 1;
	return &t->pool[i].hs;
}

struct handshake *peer_handshake_responder(struct peer_table *t, struct peer **evicted)
{
	/* from the last state, which a host's pool keeps beyond its peers; a pool is never all
	 * responders' (one at a time, wiped before it returns) */
	size_t i = pool_take(t, t->n_pool - 1, evicted);

	if (i == t->n_pool)
		return NULL; /* every state a responder's: one was not wiped */
	t->pool[i].peer = 0;
	return &t->pool[i].hs;
}

/* Whether p still answers to index: a live keypair's or its pending initiation's. */
static bool index_in_use(const struct peer_table *t, const struct peer *p, uint32_t index)
{
	const struct handshake *hs = peer_handshake(t, p);

	const struct keypair *kps[2] = {&p->session.current, &p->session.other};

	for (size_t i = 0; i < 2; i++) {
		if (kps[i]->valid && kps[i]->local_index == index)
			return true;
	}
	return hs && hs->local_index == index;
}

/* With twenty random bits a new index hits one in use about once in 2^18 handshakes; that would
 * make session_find() answer with the wrong keypair, so step the random part past the at most three
 * indices in use (adding PEER_TABLE_MAX keeps the slot bits). */
uint32_t peer_table_new_index(const struct peer_table *t, const struct peer *p,
			      uint32_t random_bits)
{
	uint32_t index = (random_bits & ~SLOT_MASK) | (uint32_t)slot_of(t, p);

	while (index_in_use(t, p, index))
		index += PEER_TABLE_MAX;
	return index;
}

struct peer *peer_table_by_index(struct peer_table *t, uint32_t index)
{
	size_t slot = index & SLOT_MASK;
	if (slot >= t->cap || !t->peers[slot].used)
		return NULL;
	return &t->peers[slot];
}

struct keypair *peer_table_find_keypair(struct peer_table *t, uint32_t index, struct peer **peer)
{
	struct peer *p = peer_table_by_index(t, index);
	struct keypair *kp = p ? session_find(&p->session, index) : NULL;
	if (kp && peer)
		*peer = p;
	return kp;
}

struct peer *peer_table_find_initiator(struct peer_table *t, uint32_t index)
{
	struct peer *p = peer_table_by_index(t, index);
	const struct handshake *hs = p ? peer_handshake(t, p) : NULL;

	if (!hs || !hs->is_initiator || hs->local_index != index)
		return NULL;
	return p;
}
