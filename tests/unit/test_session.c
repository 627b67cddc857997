/* test_session.c - prev/current/next rotation (WireGuard's rules) in two slots, driven by two real
 * sessions that exchange sealed messages, plus expiry and handshake timers on a fake clock. */
#include <sodium.h>

#include "check.h"
#include "session.h"

static const struct keypair_params *defaults(void)
{
	static struct keypair_params p;

	p = keypair_params_default();
	return &p;
}

/* One handshake's result on both sides: the initiator's keypair (local index ii) and the
 * responder's (local index ri), born at t. */
static void handshake(struct keypair *init, struct keypair *resp, uint32_t ii, uint32_t ri,
		      uint64_t t)
{
	uint8_t k1[MQTTIP_KEY_LEN], k2[MQTTIP_KEY_LEN];

	randombytes_buf(k1, sizeof(k1));
	randombytes_buf(k2, sizeof(k2));
	memset(init, 0, sizeof(*init));
	memset(resp, 0, sizeof(*resp));
	memcpy(init->send_key, k1, sizeof(k1));
	memcpy(init->recv_key, k2, sizeof(k2));
	memcpy(resp->send_key, k2, sizeof(k2));
	memcpy(resp->recv_key, k1, sizeof(k1));
	replay_init(&init->replay);
	replay_init(&resp->replay);
	init->local_index = ii;
	init->remote_index = ri;
	resp->local_index = ri;
	resp->remote_index = ii;
	init->birth_ms = resp->birth_ms = t;
	init->is_initiator = true;
	init->valid = resp->valid = true;
}

/* Sends "payload" from one session to the other as an agent would: seal with the sending
 * keypair, find by receiver index, open, confirm. Returns the receiver's keypair used, or NULL. */
static struct keypair *deliver(struct session *from, struct session *to, uint64_t now)
{
	uint8_t msg[64], *body;
	size_t len, body_len;
	uint32_t index;
	struct keypair *tx = session_sending_keypair(from, now, defaults()), *rx;

	if (!tx)
		return NULL;
	memcpy(msg + MQTTIP_TRANSPORT_HEADER_LEN, "payload", 7);
	if (keypair_seal(tx, now, defaults(), msg, sizeof(msg), 7, &len) != KEYPAIR_OK)
		return NULL;
	if (transport_receiver_index(msg, len, &index) != 0)
		return NULL;
	rx = session_find(to, index);
	if (!rx || keypair_open(rx, now, defaults(), msg, len, &body, &body_len) != KEYPAIR_OK)
		return NULL;
	if (body_len != 7 || memcmp(body, "payload", 7) != 0)
		return NULL;
	return session_received_with(to, rx);
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		if (b[i])
			return 0;
	}
	return 1;
}

static void test_first_handshake_and_confirmation(void)
{
	struct session a, b;
	struct keypair ki, kr;

	session_init(&a);
	session_init(&b);
	CHECK(session_sending_keypair(&a, 0, defaults()) == NULL);
	CHECK(session_wants_handshake(&a, 0, defaults()));
	CHECK(session_find(&a, 0) == NULL);

	handshake(&ki, &kr, 1, 2, 0);
	session_install(&b, &kr);
	CHECK(session_next(&b) && session_next(&b)->local_index == 2);
	CHECK(!b.current.valid);
	/* The responder may not send before confirmation. */
	CHECK(session_sending_keypair(&b, 0, defaults()) == NULL);
	CHECK(session_find(&b, 2) == session_next(&b));

	session_install(&a, &ki);
	CHECK(a.current.valid && a.current.local_index == 1);
	CHECK(!session_prev(&a) && !session_next(&a));
	CHECK(!session_wants_handshake(&a, 0, defaults()));

	/* The initiator's first message confirms next on the responder. */
	CHECK(deliver(&a, &b, 1) == &b.current);
	CHECK(b.current.valid && b.current.local_index == 2);
	CHECK(!session_next(&b) && !session_prev(&b));
	CHECK(all_zero(&b.other, sizeof(b.other))); /* prev: b had no current */
	CHECK(deliver(&b, &a, 2) == &a.current);
	/* Receiving on current changes nothing. */
	CHECK(deliver(&a, &b, 3) == &b.current);
	CHECK(!session_prev(&b));
	CHECK(session_find(&b, 99) == NULL);
}

/* Rekey initiated by a: packets b sent on the old keypair still open at a (prev), b keeps
 * sending on the old current until a's first message on the new keypair reaches it. */
static void test_rekey_rotation(void)
{
	struct session a, b;
	struct keypair ki, kr;

	session_init(&a);
	session_init(&b);
	handshake(&ki, &kr, 10, 20, 0);
	session_install(&a, &ki);
	session_install(&b, &kr);
	CHECK(deliver(&a, &b, 1) != NULL);

	handshake(&ki, &kr, 11, 21, 120000);
	session_install(&b, &kr);
	/* The response is still on its way to a: a sends on the old keypair, which must not
	 * confirm b's next. */
	CHECK(deliver(&a, &b, 120000) == &b.current);
	CHECK_EQ_INT(b.current.local_index, 20);
	CHECK(session_next(&b));
	session_install(&a, &ki);
	CHECK_EQ_INT(a.current.local_index, 11);
	CHECK_EQ_INT(session_prev(&a)->local_index, 10);
	CHECK_EQ_INT(b.current.local_index, 20);
	CHECK_EQ_INT(session_next(&b)->local_index, 21);
	CHECK(!session_prev(&b));

	/* b still sends on 20 (index 10 at a): lands in a's prev, no rotation at a. */
	CHECK(deliver(&b, &a, 120001) == session_prev(&a));
	CHECK_EQ_INT(a.current.local_index, 11);
	/* a's message on the new keypair rotates b. */
	CHECK(deliver(&a, &b, 120002) == &b.current);
	CHECK_EQ_INT(b.current.local_index, 21);
	CHECK_EQ_INT(session_prev(&b)->local_index, 20);
	CHECK(!session_next(&b));
	CHECK(deliver(&b, &a, 120003) == &a.current);

	/* Third handshake, initiator a: the oldest keypair (10) is gone everywhere. */
	handshake(&ki, &kr, 12, 22, 240000);
	session_install(&a, &ki);
	CHECK_EQ_INT(session_prev(&a)->local_index, 11);
	CHECK(session_find(&a, 10) == NULL);
	session_install(&b, &kr);
	CHECK(session_find(&b, 20) == NULL);
	CHECK(deliver(&a, &b, 240001) == &b.current);
	CHECK_EQ_INT(session_prev(&b)->local_index, 21);
}

/* An initiator's install while an unconfirmed next exists (both sides started handshakes): the
 * next moves to prev, because the peer initiated it and sends with it; the old current goes. */
static void test_initiator_install_with_pending_next(void)
{
	struct session a, b;
	struct keypair ki, kr, kj, ks;

	session_init(&a);
	session_init(&b);
	handshake(&ki, &kr, 1, 2, 0);
	session_install(&a, &ki);
	session_install(&b, &kr);
	CHECK(deliver(&a, &b, 1) != NULL);

	/* b initiates (kj is b's), a responds (ks is a's next); a also initiates (kt/ku). */
	handshake(&kj, &ks, 3, 4, 1000);
	session_install(&a, &ks);
	CHECK_EQ_INT(session_next(&a)->local_index, 4);
	{
		struct keypair kt, ku;

		handshake(&kt, &ku, 5, 6, 1001);
		session_install(&a, &kt);
		CHECK_EQ_INT(a.current.local_index, 5);
		CHECK_EQ_INT(session_prev(&a)->local_index, 4);
		CHECK(!session_next(&a));
		CHECK(session_find(&a, 1) == NULL);
		keypair_wipe(&kt);
		keypair_wipe(&ku);
	}
	keypair_wipe(&kj);
}

static void test_expire_and_wipe(void)
{
	struct session s;
	struct keypair ki, kr;
	struct keypair_params p = keypair_params_default();

	/* current (born 100 s) and prev (born 0). */
	session_init(&s);
	handshake(&ki, &kr, 1, 2, 0);
	session_install(&s, &ki);
	handshake(&ki, &kr, 3, 4, 100000);
	session_install(&s, &ki);
	CHECK(session_prev(&s) && session_prev(&s)->local_index == 1 && !session_next(&s));
	session_expire(&s, 179999, &p);
	CHECK(session_prev(&s));
	session_expire(&s, 180000, &p);
	CHECK(!session_prev(&s) && !session_next(&s));
	CHECK(all_zero(&s.other, sizeof(s.other)));
	CHECK(s.current.valid);

	/* A responder's next (born 150 s) replaces no prev now; current expires first. */
	handshake(&ki, &kr, 5, 6, 150000);
	session_install(&s, &kr);
	CHECK(!session_prev(&s) && session_next(&s) && s.current.valid);
	session_expire(&s, 279999, &p);
	CHECK(s.current.valid);
	session_expire(&s, 280000, &p);
	CHECK(!s.current.valid);
	CHECK(session_next(&s));
	session_expire(&s, 330000, &p);
	CHECK(!session_next(&s));
	CHECK(all_zero(&s, sizeof(s)));

	/* A responder's install wipes prev at once: the two never coexist. */
	handshake(&ki, &kr, 7, 8, 400000);
	session_install(&s, &ki);
	handshake(&ki, &kr, 9, 10, 400100);
	session_install(&s, &ki);
	CHECK(session_prev(&s));
	handshake(&ki, &kr, 11, 12, 400200);
	session_install(&s, &kr);
	CHECK(!session_prev(&s) && session_next(&s) && session_find(&s, 7) == NULL);
	CHECK_EQ_INT(s.current.local_index, 9);
	session_wipe(&s);

	/* Configurable. */
	p.reject_after_ms = 50;
	handshake(&ki, &kr, 7, 8, 1000);
	session_install(&s, &ki);
	session_expire(&s, 1049, &p);
	CHECK(s.current.valid);
	session_expire(&s, 1050, &p);
	CHECK(!s.current.valid);

	handshake(&ki, &kr, 7, 8, 1000);
	session_install(&s, &ki);
	handshake(&ki, &kr, 9, 10, 1000);
	session_install(&s, &ki);
	session_install(&s, &kr);
	session_wipe(&s);
	CHECK(all_zero(&s, sizeof(s)));
	CHECK(session_find(&s, 9) == NULL);
	keypair_wipe(&ki);
	keypair_wipe(&kr);
}

static void test_wants_handshake(void)
{
	struct session a, b;
	struct keypair ki, kr;
	struct keypair_params p = keypair_params_default();

	session_init(&a);
	session_init(&b);
	handshake(&ki, &kr, 1, 2, 5000);
	session_install(&a, &ki);
	session_install(&b, &kr);
	CHECK(deliver(&a, &b, 5001) != NULL);
	CHECK(!session_wants_handshake(&a, 5000 + 119999, &p));
	CHECK(session_wants_handshake(&a, 5000 + 120000, &p));
	/* The responder does not rekey on time; it needs a handshake only once current is dead. */
	CHECK(!session_wants_handshake(&b, 5000 + 179999, &p));
	CHECK(session_sending_keypair(&b, 5000 + 179999, &p) == &b.current);
	CHECK(session_wants_handshake(&b, 5000 + 180000, &p));
	CHECK(session_sending_keypair(&b, 5000 + 180000, &p) == NULL);

	b.current.send_counter = MQTTIP_REJECT_AFTER_MESSAGES;
	CHECK(session_sending_keypair(&b, 5002, &p) == NULL);
	CHECK(session_wants_handshake(&b, 5002, &p));

	p.rekey_after_ms = 1000;
	CHECK(!session_wants_handshake(&a, 5999, &p));
	CHECK(session_wants_handshake(&a, 6000, &p));
	session_wipe(&a);
	session_wipe(&b);
}

int main(void)
{
	if (sodium_init() < 0)
		return 2;
	test_first_handshake_and_confirmation();
	test_rekey_rotation();
	test_initiator_install_with_pending_next();
	test_expire_and_wipe();
	test_wants_handshake();
	return check_done();
}
