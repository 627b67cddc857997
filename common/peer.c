#include "peer.h"

#include <string.h>

#include <sodium.h>

#define SLOT_MASK (PEER_TABLE_MAX - 1u)

int peer_table_init(struct peer_table *t, struct peer *storage, size_t cap)
{
	if (cap == 0 || cap > PEER_TABLE_MAX)
		return -1;
	memset(storage, 0, cap * sizeof(*storage));
	t->peers = storage;
	t->cap = cap;
	return 0;
}

/* How specifically c claims a: above any prefix length for one of its node addresses, else its
 * longest route containing a, else -1. */
static int claim_len(const struct cert *c, const struct netaddr *a)
{
	int best = -1;

	if (cert_check_owns(c, a) == CERT_OK)
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
		p->cert = *c;
		p->addr = *addr;
		session_init(&p->session);
		return p;
	}
	return NULL;
}

void peer_table_remove(struct peer_table *t, struct peer *p)
{
	(void)t;
	session_wipe(&p->session);
	handshake_wipe(&p->handshake);
	sodium_memzero(p, sizeof(*p));
}

static size_t slot_of(const struct peer_table *t, const struct peer *p)
{
	return (size_t)(p - t->peers);
}

/* Whether p still answers to index: a live keypair's or its pending initiation's. */
static bool index_in_use(const struct peer *p, uint32_t index)
{
	const struct keypair *kps[2] = {&p->session.current, &p->session.other};

	for (size_t i = 0; i < 2; i++) {
		if (kps[i]->valid && kps[i]->local_index == index)
			return true;
	}
	return p->handshake.state != HANDSHAKE_EMPTY && p->handshake.local_index == index;
}

/* With twenty random bits a new index hits one in use about once in 2^18 handshakes; that would
 * make session_find() answer with the wrong keypair, so step the random part past the at most three
 * indices in use (adding PEER_TABLE_MAX keeps the slot bits). */
uint32_t peer_table_new_index(const struct peer_table *t, const struct peer *p,
			      uint32_t random_bits)
{
	uint32_t index = (random_bits & ~SLOT_MASK) | (uint32_t)slot_of(t, p);

	while (index_in_use(p, index))
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
	if (!p || p->handshake.state != HANDSHAKE_INITIATION_SENT || !p->handshake.is_initiator ||
	    p->handshake.local_index != index)
		return NULL;
	return p;
}
