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
	return check_done();
}
