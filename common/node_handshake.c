/* node_handshake.c - driving handshake.h over <p>/kx/<dst>/<src> (QoS 1), PROTOCOL.md 8.3.
 * Initiator: an initiation when node_timers allows one (pacing, retry backoff); its response is
 * matched by receiver index, must come from the peer's topic address and passes mac1 and the rate
 * limit before any Diffie-Hellman; the queued packets (or a keepalive) follow at once so the
 * responder's keypair is confirmed. Responder: mac1, rate limit, Noise and certificate, the
 * timestamp against the newest accepted from that node identity, the directory's acceptance rules
 * for the certificate, then the response. A fully verified initiation refused only for its
 * timestamp, from a peer whose session with us is not alive, makes us initiate instead: that peer
 * restarted with its clock behind (a board without an RTC before SNTP) and cannot get through
 * until its clock passes the last timestamp we saw, but our initiation reaches it. */
#include <string.h>

#include <sodium.h>

#include "node_internal.h"

/* TAI64N of the wall clock, strictly increasing within a run (PROTOCOL.md 8.3). */
static void next_timestamp(struct node *n, uint64_t sec, uint32_t ns,
			   uint8_t ts[MQTTIP_TIMESTAMP_LEN])
{
	handshake_tai64n(sec, ns, ts);
	if (memcmp(ts, n->last_tai64n, MQTTIP_TIMESTAMP_LEN) <= 0) {
		/* the clock did not move (coarse RTC) or stepped back: one more, as a number */
		memcpy(ts, n->last_tai64n, MQTTIP_TIMESTAMP_LEN);
		for (int i = MQTTIP_TIMESTAMP_LEN - 1; i >= 0 && ++ts[i] == 0; i--)
			;
	}
	memcpy(n->last_tai64n, ts, MQTTIP_TIMESTAMP_LEN);
}

static const uint8_t *psk_of(const struct node *n)
{
	return n->id.has_psk ? n->id.psk : NULL;
}

bool node_self_for(const struct node *n, const struct netaddr *peer, struct netaddr *self)
{
	for (size_t i = 0; i < n->id.cert.n_addrs; i++) {
		if (n->id.cert.addrs[i].addr.family == peer->family) {
			*self = n->id.cert.addrs[i].addr;
			return true;
		}
	}
	return false;
}

/* The pool of handshake states ran out (a device keeps few): the initiation in flight longest
 * gave way; its peer tries again on its retry timer. */
static void set_aside(struct node *n, const struct peer *p)
{
	node_log(
	    n, NODE_LOG_INFO,
	    "handshake with %s set aside: every handshake state is in use (%zu); retried later",
	    p->cert.name, n->peers.n_pool);
}

void node_handshake_initiate(struct node *n, struct peer *p, bool force, uint64_t now_ms)
{
	uint8_t ts[MQTTIP_TIMESTAMP_LEN], *msg;
	struct handshake *hs;
	struct peer *evicted;
	char topic[TOPIC_MAX];
	struct netaddr self;
	uint64_t sec;
	uint32_t ns;
	size_t len;
	int rc;

	if (!force && !node_timers_initiation_due(n, p, now_ms))
		return;
	if (!node_self_for(n, &p->addr, &self) ||
	    !topic_kx(topic, sizeof(topic), node_prefix(n), &p->addr, &self))
		return;
	if (!node_wall_clock(n, &sec, &ns)) {
		/* tried again at every tick, so the handshake starts as soon as the clock is set;
		 * said once */
		if (!n->clock_unset_said)
			node_log(n, NODE_LOG_WARN,
				 "cannot start a handshake with %s: clock not set", p->cert.name);
		n->clock_unset_said = true;
		return;
	}
	n->clock_unset_said = false;
	if (sec >= p->cert.not_after) {
		/* the responder would refuse us: wait for a renewed certificate */
		node_log(n, NODE_LOG_WARN, "handshake with %s: its certificate has expired",
			 p->cert.name);
		p->handshake_sent_ms = now_ms;
		node_send_queue_drop(n, p, DROP_CERT);
		node_directory_want(n, &p->addr, now_ms);
		return;
	}
	hs = peer_handshake_start(&n->peers, p, &evicted);
	if (evicted)
		set_aside(n, evicted);
	if (!hs) {
		node_log(n, NODE_LOG_WARN, "handshake with %s: no handshake state free",
			 p->cert.name);
		return;
	}
	node_timers_handshake_initiated(n, p, now_ms);
	next_timestamp(n, sec, ns, ts);
	msg = node_kx_scratch(n, now_ms);
	rc = handshake_initiation_create(
	    hs, &n->local, &self, &p->addr, p->cert.x25519_public, psk_of(n),
	    peer_table_new_index(&n->peers, p, randombytes_random()), ts, msg, n->batch_size, &len);
	if (rc) {
		node_log(n, NODE_LOG_WARN, "handshake with %s: cannot create the initiation: %s",
			 p->cert.name, handshake_strerror(rc));
		return;
	}
	if (node_publish(n, topic, msg, len, 1, false))
		node_log(n, NODE_LOG_DEBUG, "handshake with %s: initiation not published",
			 p->cert.name);
	else
		node_log(n, NODE_LOG_DEBUG, "handshake with %s: initiation sent (attempt %u)",
			 p->cert.name, (unsigned)p->handshake_attempts);
	/* A peer that does not answer may have a new key: its directory entry tells (on-demand
	 * nodes see it only when they look). */
	if (p->handshake_attempts >= 2)
		node_directory_want(n, &p->addr, now_ms);
}

bool node_kx_header_ok(const uint8_t *msg, size_t len, uint8_t type)
{
	return len >= MQTTIP_KX_HEADER_LEN && msg[0] == type && msg[1] == MQTTIP_PROTOCOL_VERSION &&
	       msg[2] == 0 && msg[3] == 0;
}

void node_kx_header(uint8_t *out, uint8_t type)
{
	out[0] = type;
	out[1] = MQTTIP_PROTOCOL_VERSION;
	out[2] = out[3] = 0;
}

int node_kx_send(struct node *n, const struct netaddr *dst, const uint8_t *msg, size_t len)
{
	char topic[TOPIC_MAX];
	struct netaddr self;

	if (!node_self_for(n, dst, &self) ||
	    !topic_kx(topic, sizeof(topic), node_prefix(n), dst, &self))
		return -1;
	return node_publish(n, topic, msg, len, 1, false);
}

int node_kx_publish(struct node *n, const struct netaddr *dst, uint8_t type, const uint8_t *body,
		    size_t body_len, uint64_t now_ms)
{
	uint8_t *msg;

	if (body_len > n->batch_size - MQTTIP_KX_HEADER_LEN)
		return -1;
	msg = node_kx_scratch(n, now_ms);
	node_kx_header(msg, type);
	if (body_len)
		memcpy(msg + MQTTIP_KX_HEADER_LEN, body, body_len);
	return node_kx_send(n, dst, msg, MQTTIP_KX_HEADER_LEN + body_len);
}

static void handshake_done(struct node *n, struct peer *p, bool initiator, uint64_t now_ms)
{
	char a[NETADDR_STR_MAX];
	/* a rekey of a live session is routine: only a new session is worth an info line */
	bool rekey =
	    p->handshake_done_ms && now_ms - p->handshake_done_ms < n->set.params.reject_after_ms;

	node_timers_handshake_complete(n, p, initiator, now_ms);
	p->stats.handshakes++;
	node_log(n, rekey ? NODE_LOG_DEBUG : NODE_LOG_INFO, "handshake with %s (%s) done as %s%s",
		 p->cert.name, node_addr_text(&p->addr, a), initiator ? "initiator" : "responder",
		 rekey ? " (rekey)" : "");
	node_revocation_handshake(n, p, now_ms);
}

static void on_initiation(struct node *n, const struct topic *t, const uint8_t *msg, size_t len,
			  uint64_t now_ms)
{
	uint8_t ts[MQTTIP_TIMESTAMP_LEN], ext[MQTTIP_HANDSHAKE_EXT_MAX], *out;
	char topic[TOPIC_MAX], a[NETADDR_STR_MAX];
	struct handshake *hs;
	struct keypair kp;
	struct peer *p, *known, *evicted;
	struct caps caps;
	struct cert c;
	uint64_t now_unix;
	size_t rlen, ext_len;
	int rc;

	/* mac1 first: junk that lacks it costs one HMAC and no table walk */
	rc = handshake_initiation_check(msg, len, n->id.static_public);
	if (rc) {
		node_drop(n, NULL, rc == HANDSHAKE_ERR_MAC1 ? DROP_HANDSHAKE_MAC1 : DROP_MALFORMED);
		return;
	}
	known = node_owner(n, &t->src);
	if (!ratelimit_allow(&n->ratelimit, &t->src, now_ms)) {
		node_drop(n, known, DROP_RATELIMIT);
		return;
	}
	if (!node_wall_clock(n, &now_unix, NULL)) {
		node_log(n, NODE_LOG_WARN, "handshake from %s ignored: clock not set",
			 node_addr_text(&t->src, a));
		return;
	}
	hs = peer_handshake_responder(&n->peers, &evicted);
	if (evicted)
		set_aside(n, evicted);
	if (!hs) {
		node_log(n, NODE_LOG_WARN, "handshake from %s ignored: no handshake state free",
			 node_addr_text(&t->src, a));
		return;
	}
	/* The timestamp is compared below, per node identity (PROTOCOL.md 6.8), once the
	 * certificate says which identity this is. */
	rc = handshake_initiation_consume(hs, &n->local, &t->src, &t->dst, now_unix, NULL, msg, len,
					  &c, ts, ext, &ext_len);
	if (rc == HANDSHAKE_OK && caps_decode(ext, ext_len, &caps) != 0)
		rc = HANDSHAKE_ERR_MALFORMED; /* authentic, yet unreadable: refused all the same */
	if (rc) {
		node_drop(n, known, DROP_HANDSHAKE);
		node_log(n, NODE_LOG_INFO, "handshake from %s refused: %s%s%s",
			 node_addr_text(&t->src, a), handshake_strerror(rc),
			 rc == HANDSHAKE_ERR_CERT ? ": " : "",
			 rc == HANDSHAKE_ERR_CERT ? cert_strerror(hs->cert_error) : "");
		handshake_wipe(hs);
		return;
	}
	p = peer_table_find_static(&n->peers, c.x25519_public);
	if (p && p->has_timestamp && memcmp(ts, p->last_timestamp, MQTTIP_TIMESTAMP_LEN) <= 0) {
		bool alive = node_timers_session_alive(n, p, now_ms);

		handshake_wipe(hs);
		node_drop(n, p, DROP_HANDSHAKE_REPLAY);
		node_log(n, NODE_LOG_INFO, "handshake from %s refused: %s%s",
			 node_addr_text(&t->src, a), handshake_strerror(HANDSHAKE_ERR_REPLAY),
			 alive ? "" : " (its clock behind?): initiating instead");
		if (!alive)
			node_handshake_initiate(n, p, false, now_ms);
		return;
	}
	p = node_directory_accept(n, &c, now_ms);
	if (!p) {
		handshake_wipe(hs);
		return;
	}
	p->caps = caps;
	out = node_kx_scratch(n, now_ms);
	rc = handshake_response_create(
	    hs, psk_of(n), peer_table_new_index(&n->peers, p, randombytes_random()), n->caps,
	    n->caps_len, out, n->batch_size, &rlen, &kp, now_ms);
	if (rc) {
		node_log(n, NODE_LOG_WARN, "handshake with %s: cannot respond: %s", c.name,
			 handshake_strerror(rc));
		return;
	}
	session_install(&p->session, &kp);
	keypair_wipe(&kp);
	memcpy(p->last_timestamp, ts, MQTTIP_TIMESTAMP_LEN);
	p->has_timestamp = true;
	if (topic_kx(topic, sizeof(topic), node_prefix(n), &t->src, &t->dst))
		node_publish(n, topic, out, rlen, 1, false);
	handshake_done(n, p, false, now_ms);
}

static void on_response(struct node *n, const struct topic *t, const uint8_t *msg, size_t len,
			uint64_t now_ms)
{
	uint8_t ext[MQTTIP_HANDSHAKE_EXT_MAX];
	struct handshake *hs;
	struct keypair kp;
	struct caps caps;
	struct peer *p;
	uint32_t index;
	size_t ext_len;
	int rc;

	if (handshake_receiver_index(msg, len, &index) < 0) {
		node_drop(n, NULL, DROP_MALFORMED);
		return;
	}
	p = peer_table_find_initiator(&n->peers, index);
	if (!p) {
		node_drop(n, NULL, DROP_HANDSHAKE);
		return;
	}
	if (cert_held_owns(&p->cert, &t->src) != CERT_OK) {
		node_drop(n, p, DROP_TOPIC);
		return;
	}
	/* The broker saw the initiation's index and can compute mac1 from our public key, so a
	 * forged response can reach the DH: such responses take tokens like initiations do. */
	if (handshake_mac1_ok(msg, len, n->id.static_public) &&
	    !ratelimit_allow(&n->ratelimit, &t->src, now_ms)) {
		node_drop(n, p, DROP_RATELIMIT);
		return;
	}
	hs = peer_handshake(&n->peers, p);
	rc = handshake_response_consume(hs, msg, len, &kp, now_ms, ext, &ext_len);
	if (rc == HANDSHAKE_OK && caps_decode(ext, ext_len, &caps) != 0) {
		keypair_wipe(&kp);
		handshake_wipe(hs); /* authentic, so no real response will follow */
		rc = HANDSHAKE_ERR_MALFORMED;
	}
	if (rc) {
		node_drop(n, p, rc == HANDSHAKE_ERR_MAC1 ? DROP_HANDSHAKE_MAC1 : DROP_HANDSHAKE);
		node_log(n, NODE_LOG_INFO, "handshake response from %s refused: %s", p->cert.name,
			 handshake_strerror(rc));
		return;
	}
	p->caps = caps;
	session_install(&p->session, &kp);
	keypair_wipe(&kp);
	handshake_done(n, p, true, now_ms);
	/* the responder may only send once we used the keys: a keepalive if nothing waits */
	node_send_queue_flush(n, p, true, now_ms);
}

void node_handshake_input(struct node *n, const struct topic *t, const uint8_t *msg, size_t len,
			  uint64_t now_ms)
{
	switch (handshake_message_type(msg, len)) {
	case MQTTIP_MSG_INITIATION:
		on_initiation(n, t, msg, len, now_ms);
		break;
	case MQTTIP_MSG_RESPONSE:
		on_response(n, t, msg, len, now_ms);
		break;
	case MQTTIP_MSG_CERT_REQUEST:
	case MQTTIP_MSG_CERTIFICATE:
		node_directory_kx_input(n, t, msg, len, now_ms);
		break;
	case MQTTIP_MSG_REVOCATION:
		if (node_kx_header_ok(msg, len, MQTTIP_MSG_REVOCATION))
			node_revocation_input(n, msg + MQTTIP_KX_HEADER_LEN,
					      len - MQTTIP_KX_HEADER_LEN, node_owner(n, &t->src),
					      false, now_ms);
		else
			node_drop(n, NULL, DROP_MALFORMED);
		break;
	default:
		node_drop(n, NULL, DROP_MALFORMED);
	}
}
