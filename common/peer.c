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

struct peer *peer_table_find_addr(struct peer_table *t, const struct netaddr *a)
{
	for (size_t i = 0; i < t->cap; i++) {
		struct peer *p = &t->peers[i];
		if (p->used && cert_check_source(&p->cert, a) == CERT_OK)
			return p;
	}
	return NULL;
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

uint32_t peer_table_new_index(const struct peer_table *t, const struct peer *p,
			      uint32_t random_bits)
{
	return (random_bits & ~SLOT_MASK) | (uint32_t)slot_of(t, p);
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
