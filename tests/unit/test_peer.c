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
	struct peer_table t;
	struct cert gw_wide = make_cert("gw-wide", "10.9.0.1", "10.0.0.0/8", 0x01);
	struct cert gw_narrow = make_cert("gw-narrow", "10.9.0.2", "10.0.5.0/24", 0x02);
	struct cert node = make_cert("node", "10.0.1.3", NULL, 0x03);
	struct netaddr a_wide = addr("10.9.0.1"), a_narrow = addr("10.9.0.2");
	struct netaddr a_node = addr("10.0.1.3"), behind = addr("10.0.5.7"),
		       other = addr("10.7.7.7");

	CHECK_EQ_INT(peer_table_init(&t, storage, 4), 0);
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
	struct peer_table t;
	struct cert c = make_cert("a", "10.0.1.2", NULL, 0xaa);
	struct netaddr a = addr("10.0.1.2");
	struct keypair kp;
	const uint32_t r = 0x12345678u;

	CHECK_EQ_INT(peer_table_init(&t, storage, 2), 0);
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

	p->handshake.state = HANDSHAKE_INITIATION_SENT;
	p->handshake.is_initiator = true;
	p->handshake.local_index = second;
	uint32_t third = peer_table_new_index(&t, p, r);
	CHECK(third != first && third != second);
	CHECK_EQ_INT(third & (PEER_TABLE_MAX - 1), 1);

	/* An index of a wiped keypair is free again. */
	session_wipe(&p->session);
	handshake_wipe(&p->handshake);
	CHECK_EQ_INT(peer_table_new_index(&t, p, r), first);
}

int main(void)
{
	static struct peer storage[3];
	struct peer_table t;

	CHECK(sodium_init() >= 0);
	CHECK_EQ_INT(peer_table_init(&t, storage, 0), -1);
	CHECK_EQ_INT(peer_table_init(&t, storage, PEER_TABLE_MAX + 1), -1);
	CHECK_EQ_INT(peer_table_init(&t, storage, 3), 0);

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
	pb->handshake.state = HANDSHAKE_INITIATION_SENT;
	pb->handshake.is_initiator = true;
	pb->handshake.local_index = ib;
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
	return check_done();
}
