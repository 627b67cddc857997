/* Peer table: slots, O(1) index lookups, address lookups through the certificate, wiping. */
#include "check.h"
#include "peer.h"

#include <sodium.h>

static struct cert make_cert(const char *name, const char *addr, const char *route, uint8_t key)
{
	struct cert c;
	memset(&c, 0, sizeof(c));
	strcpy(c.name, name);
	c.n_addrs = 1;
	netaddr_parse(addr, strlen(addr), &c.addrs[0].addr);
	c.addrs[0].len = 24;
	if (route) {
		c.n_routes = 1;
		netaddr_parse_prefix(route, strlen(route), &c.routes[0].addr, &c.routes[0].len);
	}
	memset(c.x25519_public, key, sizeof(c.x25519_public));
	return c;
}

static struct netaddr addr(const char *s)
{
	struct netaddr a;
	netaddr_parse(s, strlen(s), &a);
	return a;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Routing picks the most specific owner, as cryptokey routing does: a node's own address beats
 * any route that covers it, and a longer route beats a shorter one, whatever the slot order. */
static void test_most_specific_owner(void)
{
	static struct peer storage[4];
	static struct peer_handshake pool[1];
	struct peer_table t;
	struct cert gw_wide = make_cert("gw-wide", "10.9.0.1", "10.0.0.0/8", 0x01);
	struct cert gw_narrow = make_cert("gw-narrow", "10.9.0.2", "10.0.5.0/24", 0x02);
	struct cert node = make_cert("node", "10.0.1.3", NULL, 0x03);
	struct netaddr a_wide = addr("10.9.0.1"), a_narrow = addr("10.9.0.2");
	struct netaddr a_node = addr("10.0.1.3"), behind = addr("10.0.5.7"),
		       other = addr("10.7.7.7");

	CHECK_EQ_INT(peer_table_init(&t, storage, 4, pool, 1), 0);
	struct peer *pw = peer_table_add(&t, &gw_wide, &a_wide);
	struct peer *pn = peer_table_add(&t, &gw_narrow, &a_narrow);
	struct peer *pd = peer_table_add(&t, &node, &a_node);
	CHECK(pw == &storage[0] && pn == &storage[1] && pd == &storage[2]);
	CHECK(peer_table_find_addr(&t, &a_node) == pd);
	CHECK(peer_table_find_addr(&t, &behind) == pn);
	CHECK(peer_table_find_addr(&t, &other) == pw);
	CHECK(peer_table_find_addr(&t, &a_wide) == pw);
}

/* A fresh index never equals one the peer still answers to (a live keypair's or the pending
 * initiation's), even when the random bits repeat: session_find would pick the wrong keypair. */
static void test_index_unique_per_peer(void)
{
	static struct peer storage[2];
	static struct peer_handshake pool[3];
	struct handshake *hs;
	struct peer_table t;
	struct cert c = make_cert("a", "10.0.1.2", NULL, 0xaa);
	struct netaddr a = addr("10.0.1.2");
	struct keypair kp;
	const uint32_t r = 0x12345678u;

	CHECK_EQ_INT(peer_table_init(&t, storage, 2, pool, 3), 0);
	peer_table_add(&t, &c, &a);
	struct peer *p = peer_table_add(&t, &c, &a);
	uint32_t first = peer_table_new_index(&t, p, r);

	memset(&kp, 0, sizeof(kp));
	kp.valid = true;
	kp.is_initiator = true;
	kp.local_index = first;
	replay_init(&kp.replay);
	session_install(&p->session, &kp);
	uint32_t second = peer_table_new_index(&t, p, r);
	CHECK(second != first);
	CHECK_EQ_INT(second & (PEER_TABLE_MAX - 1), 1);
	CHECK(peer_table_by_index(&t, second) == p);

	hs = peer_handshake_start(&t, p, NULL);
	hs->state = HANDSHAKE_INITIATION_SENT;
	hs->is_initiator = true;
	hs->local_index = second;
	uint32_t third = peer_table_new_index(&t, p, r);
	CHECK(third != first && third != second);
	CHECK_EQ_INT(third & (PEER_TABLE_MAX - 1), 1);

	/* An index of a wiped keypair is free again. */
	session_wipe(&p->session);
	peer_handshake_end(&t, p);
	CHECK_EQ_INT(peer_table_new_index(&t, p, r), first);
}

/* Marks hs as p's initiation in flight, sent at sent_ms. */
static void sent(struct peer *p, struct handshake *hs, uint64_t sent_ms)
{
	hs->state = HANDSHAKE_INITIATION_SENT;
	hs->is_initiator = true;
	p->handshake_sent_ms = sent_ms;
}

/* A device's pool of two states for three peers: the initiation in flight for longest gives way,
 * never the responder's state, and an own state is reused. */
static void test_handshake_pool(void)
{
	static struct peer storage[3];
	static struct peer_handshake pool[2];
	struct peer_table t;
	struct cert c[3] = {make_cert("a", "10.0.1.2", NULL, 0xaa),
			    make_cert("b", "10.0.1.3", NULL, 0xbb),
			    make_cert("c", "10.0.1.4", NULL, 0xcc)};
	struct netaddr a[3] = {addr("10.0.1.2"), addr("10.0.1.3"), addr("10.0.1.4")};
	struct peer *p[3], *evicted = NULL;
	struct handshake *h0, *h1, *h2, *r;

	CHECK_EQ_INT(peer_table_init(&t, storage, 3, pool, 2), 0);
	for (int i = 0; i < 3; i++)
		p[i] = peer_table_add(&t, &c[i], &a[i]);
	h0 = peer_handshake_start(&t, p[0], &evicted);
	sent(p[0], h0, 1000);
	h1 = peer_handshake_start(&t, p[1], &evicted);
	sent(p[1], h1, 900); /* b's went out first */
	CHECK(h0 != h1 && evicted == NULL);
	/* b again: its own state, nobody evicted */
	CHECK(peer_handshake_start(&t, p[1], &evicted) == h1 && evicted == NULL);
	sent(p[1], h1, 900);
	/* c: b's initiation is the oldest and gives way */
	h2 = peer_handshake_start(&t, p[2], &evicted);
	CHECK(h2 == h1 && evicted == p[1]);
	CHECK(peer_handshake(&t, p[1]) == NULL && peer_handshake(&t, p[0]) == h0);
	CHECK(peer_handshake(&t, p[2]) == NULL); /* empty until sent */
	sent(p[2], h2, 2000);
	CHECK(peer_handshake(&t, p[2]) == h2);
	/* the responder takes the oldest initiation (a's) while none is free */
	r = peer_handshake_responder(&t, &evicted);
	CHECK(r == h0 && evicted == p[0] && peer_handshake(&t, p[0]) == NULL);
	r->state = HANDSHAKE_INITIATION_CONSUMED;
	/* an initiation meanwhile takes c's (the only one in flight), never the responder's */
	CHECK(peer_handshake_start(&t, p[0], &evicted) == h2 && evicted == p[2]);
	sent(p[0], h2, 3000);
	handshake_wipe(r);
	/* a responder's state, wiped, is free again */
	CHECK(peer_handshake_start(&t, p[1], &evicted) == r && evicted == NULL);
	/* a pool of one held by the responder has nothing for an initiation */
	{
		static struct peer_handshake one[1];
		struct peer_table t1;

		CHECK_EQ_INT(peer_table_init(&t1, storage, 3, one, 1), 0);
		p[0] = peer_table_add(&t1, &c[0], &a[0]);
		r = peer_handshake_responder(&t1, NULL);
		r->state = HANDSHAKE_INITIATION_CONSUMED;
		CHECK(peer_handshake_start(&t1, p[0], &evicted) == NULL && evicted == NULL);
		CHECK(peer_handshake_responder(&t1, NULL) == NULL);
		handshake_wipe(r);
		CHECK(peer_handshake_start(&t1, p[0], NULL) == r);
	}
}

int main(void)
{
	static struct peer storage[3];
	static struct peer_handshake pool[4];
	struct peer_table t;
	struct handshake *hs;

	CHECK(sodium_init() >= 0);
	CHECK_EQ_INT(peer_table_init(&t, storage, 0, pool, 4), -1);
	CHECK_EQ_INT(peer_table_init(&t, storage, PEER_TABLE_MAX + 1, pool, 4), -1);
	CHECK_EQ_INT(peer_table_init(&t, storage, 3, pool, 0), -1);
	CHECK_EQ_INT(peer_table_init(&t, storage, 3, pool, 4), 0);

	struct cert ca = make_cert("a", "10.0.1.2", NULL, 0xaa);
	struct cert cb = make_cert("gw", "10.0.1.3", "192.168.5.0/24", 0xbb);
	struct netaddr a2 = addr("10.0.1.2"), a3 = addr("10.0.1.3");
	struct peer *pa = peer_table_add(&t, &ca, &a2);
	struct peer *pb = peer_table_add(&t, &cb, &a3);
	CHECK(pa != NULL && pb != NULL && pa != pb);

	struct netaddr behind = addr("192.168.5.77"), nowhere = addr("10.0.9.9");
	CHECK(peer_table_find_addr(&t, &a2) == pa);
	CHECK(peer_table_find_addr(&t, &behind) == pb);
	CHECK(peer_table_find_addr(&t, &nowhere) == NULL);
	uint8_t kb[32];
	memset(kb, 0xbb, sizeof(kb));
	CHECK(peer_table_find_static(&t, kb) == pb);

	/* The index carries the slot below random bits; lookups are by slot, then by ownership. */
	uint32_t ib = peer_table_new_index(&t, pb, 0xdeadbeefu);
	CHECK_EQ_INT(ib & (PEER_TABLE_MAX - 1), 1);
	CHECK_EQ_INT(ib >> PEER_SLOT_BITS, 0xdeadbeefu >> PEER_SLOT_BITS);
	CHECK(peer_table_by_index(&t, ib) == pb);
	CHECK(peer_table_by_index(&t, 2) == NULL); /* free slot */
	CHECK(peer_table_by_index(&t, 7) == NULL); /* beyond cap */

	struct peer *found = NULL;
	CHECK(peer_table_find_keypair(&t, ib, &found) == NULL);
	struct keypair kp;
	memset(&kp, 0, sizeof(kp));
	kp.valid = true;
	kp.is_initiator = true;
	kp.local_index = ib;
	replay_init(&kp.replay);
	session_install(&pb->session, &kp);
	struct keypair *k = peer_table_find_keypair(&t, ib, &found);
	CHECK(k == &pb->session.current && found == pb);
	CHECK(peer_table_find_keypair(&t, ib ^ 0x10000u, NULL) ==
	      NULL); /* same slot, other index */

	CHECK(peer_table_find_initiator(&t, ib) == NULL);
	hs = peer_handshake_start(&t, pb, NULL);
	CHECK(hs != NULL && peer_handshake(&t, pb) == NULL); /* empty until the initiation */
	hs->state = HANDSHAKE_INITIATION_SENT;
	hs->is_initiator = true;
	hs->local_index = ib;
	CHECK(peer_handshake(&t, pb) == hs);
	CHECK(peer_table_find_initiator(&t, ib) == pb);
	CHECK(peer_table_find_initiator(&t, ib ^ 0x10000u) == NULL);

	struct cert cc = make_cert("c", "10.0.1.4", NULL, 0xcc);
	struct netaddr a4 = addr("10.0.1.4");
	CHECK(peer_table_add(&t, &cc, &a4) == &storage[2]);
	CHECK(peer_table_add(&t, &cc, &a4) == NULL); /* full */

	peer_table_remove(&t, pb);
	CHECK(all_zero(pb, sizeof(*pb)));
	CHECK(peer_table_find_keypair(&t, ib, NULL) == NULL);
	CHECK(peer_table_find_addr(&t, &behind) == NULL);
	CHECK(peer_table_add(&t, &cb, &a3) == pb); /* slot reused */
	CHECK(peer_table_find_keypair(&t, ib, NULL) == NULL);
	test_most_specific_owner();
	test_index_unique_per_peer();
	test_handshake_pool();
	return check_done();
}
