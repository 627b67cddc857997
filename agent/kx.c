/* kx.c - driving the handshake of handshake.h over <p>/kx/<dst>/<src> (QoS 1), and the per-peer
 * timers, WireGuard's way: an initiation when a packet finds no usable keypair or the current one
 * wants a rekey, at most one per MQTTIP_REKEY_TIMEOUT_MS, given up after
 * MQTTIP_REKEY_ATTEMPT_TIME_MS (the queued packets are then dropped); a keepalive
 * MQTTIP_KEEPALIVE_TIMEOUT_MS after receiving data if we sent nothing back; a new handshake when
 * data we sent has had no answer for KEEPALIVE + REKEY_TIMEOUT (the peer lost its keys). The
 * responder checks mac1 and the rate limit before any Diffie-Hellman. */
#define _GNU_SOURCE
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "daemon.h"
#include "log.h"

static void next_timestamp(struct daemon *d, uint8_t ts[MQTTIP_TIMESTAMP_LEN])
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	handshake_tai64n((uint64_t)now.tv_sec, (uint32_t)now.tv_nsec, ts);
	if (memcmp(ts, d->last_tai64n, MQTTIP_TIMESTAMP_LEN) <= 0) {
		/* the clock did not move (or stepped back): one more than the last, as a number */
		memcpy(ts, d->last_tai64n, MQTTIP_TIMESTAMP_LEN);
		for (int i = MQTTIP_TIMESTAMP_LEN - 1; i >= 0 && ++ts[i] == 0; i--)
			;
	}
	memcpy(d->last_tai64n, ts, MQTTIP_TIMESTAMP_LEN);
}

static const uint8_t *psk_of(const struct daemon *d)
{
	return d->id.has_psk ? d->id.psk : NULL;
}

void kx_initiate(struct daemon *d, struct peer *p, bool force)
{
	uint64_t now = daemon_now_ms(d);
	uint8_t ts[MQTTIP_TIMESTAMP_LEN];
	size_t len;
	int rc;

	if (!force && p->handshake_sent_ms && now - p->handshake_sent_ms < MQTTIP_REKEY_TIMEOUT_MS)
		return;
	if (daemon_unix_now() >= p->cert.not_after) {
		/* the responder would refuse us: wait for a renewed certificate (directory) */
		log_warn("handshake with %s: its certificate has expired", p->cert.name);
		p->handshake_sent_ms = now;
		tunnel_drop_queue(d, p, DROP_CERT);
		return;
	}
	if (!p->handshake_first_ms)
		p->handshake_first_ms = now;
	next_timestamp(d, ts);
	rc = handshake_initiation_create(&p->handshake, &d->local, &d->self, &p->addr,
					 p->cert.x25519_public, psk_of(d),
					 peer_table_new_index(&d->peers, p, randombytes_random()),
					 ts, d->kx_buf, sizeof(d->kx_buf), &len);
	p->handshake_sent_ms = now;
	if (rc) {
		log_warn("handshake with %s: cannot create the initiation: %s", p->cert.name,
			 handshake_strerror(rc));
		return;
	}
	log_debug("handshake with %s: initiation sent", p->cert.name);
	broker_publish(&d->broker, peer_extra_of(d, p)->kx_topic, d->kx_buf, len, 1, false);
	broker_flush(&d->broker);
}

static void handshake_done(struct daemon *d, struct peer *p, const char *role)
{
	struct peer_extra *ex = peer_extra_of(d, p);
	char a[NETADDR_STR_MAX];

	uint64_t now = daemon_now_ms(d);
	/* a rekey of a live session is routine: only a new session is worth an info line */
	bool rekey =
	    ex->handshake_done_ms && now - ex->handshake_done_ms < d->params.reject_after_ms;

	ex->handshake_done_ms = now;
	ex->first_unanswered_ms = 0;
	netaddr_format(&p->addr, a, sizeof(a));
	if (rekey)
		log_debug("handshake with %s (%s) done as %s (rekey)", p->cert.name, a, role);
	else
		log_info("handshake with %s (%s) done as %s", p->cert.name, a, role);
}

/* A peer seen first in a handshake (its certificate just verified) or whose certificate
 * changed. */
static struct peer *adopt_peer(struct daemon *d, const struct cert *c, const struct netaddr *src)
{
	struct peer *p = peer_table_find_static(&d->peers, c->x25519_public);

	if (p) {
		/* The VPN PKI has no revocation list: a certificate only ever gives way to a newer
		 * one, so a node cannot fall back to an older certificate (say, with routes since
		 * taken away) by presenting it in a handshake. */
		if (c->serial < p->cert.serial) {
			log_info("handshake from %s refused: certificate serial %llu is older than "
				 "%llu, the one already known",
				 c->name, (unsigned long long)c->serial,
				 (unsigned long long)p->cert.serial);
			return NULL;
		}
		if (p->cert.serial != c->serial ||
		    memcmp(p->cert.signature, c->signature, MQTTIP_CERT_SIG_LEN)) {
			p->cert = *c;
			tunnel_invalidate_routes(d);
		}
		return p;
	}
	p = peer_table_add(&d->peers, c, src);
	if (!p) {
		log_warn("peer table full (max-peers %u): %s refused", d->cfg.max_peers, c->name);
		return NULL;
	}
	peer_extra_init(d, p);
	tunnel_invalidate_routes(d);
	return p;
}

static void on_initiation(struct daemon *d, const struct topic *t, const uint8_t *msg, size_t len)
{
	uint64_t now = daemon_now_ms(d);
	struct peer *known;
	struct keypair kp;
	struct cert c;
	uint8_t ts[MQTTIP_TIMESTAMP_LEN];
	char topic[TOPIC_MAX];
	struct peer *p;
	size_t rlen;
	int rc;

	/* mac1 first: junk that lacks it costs one HMAC and no table walk */
	if (handshake_initiation_check(msg, len, d->local.static_public)) {
		daemon_drop(d, NULL, DROP_HANDSHAKE_MAC1);
		return;
	}
	known = peer_table_find_addr(&d->peers, &t->src);
	if (known && cert_check_owns(&known->cert, &t->src) != CERT_OK)
		known = NULL;
	if (!ratelimit_allow(&d->ratelimit, &t->src, now)) {
		daemon_drop(d, known, DROP_RATELIMIT);
		return;
	}
	rc = handshake_initiation_consume(
	    &d->responder, &d->local, &t->src, &t->dst, daemon_unix_now(),
	    known && known->has_timestamp ? known->last_timestamp : NULL, msg, len, &c, ts);
	if (rc) {
		daemon_drop(d, known,
			    rc == HANDSHAKE_ERR_REPLAY ? DROP_HANDSHAKE_REPLAY : DROP_HANDSHAKE);
		netaddr_format(&t->src, topic, sizeof(topic));
		log_info("handshake from %s refused: %s%s%s", topic, handshake_strerror(rc),
			 rc == HANDSHAKE_ERR_CERT ? ": " : "",
			 rc == HANDSHAKE_ERR_CERT ? cert_strerror(d->responder.cert_error) : "");
		handshake_wipe(&d->responder);
		return;
	}
	p = adopt_peer(d, &c, &t->src);
	if (p && p->has_timestamp && memcmp(ts, p->last_timestamp, MQTTIP_TIMESTAMP_LEN) <= 0) {
		daemon_drop(d, p, DROP_HANDSHAKE_REPLAY);
		p = NULL;
	}
	if (!p) {
		handshake_wipe(&d->responder);
		return;
	}
	rc = handshake_response_create(&d->responder, psk_of(d),
				       peer_table_new_index(&d->peers, p, randombytes_random()),
				       d->kx_buf, sizeof(d->kx_buf), &rlen, &kp, now);
	if (rc) {
		log_warn("handshake with %s: cannot respond: %s", c.name, handshake_strerror(rc));
		return;
	}
	session_install(&p->session, &kp);
	keypair_wipe(&kp);
	memcpy(p->last_timestamp, ts, MQTTIP_TIMESTAMP_LEN);
	p->has_timestamp = true;
	if (topic_kx(topic, sizeof(topic), d->cfg.prefix, &t->src, &t->dst))
		broker_publish(&d->broker, topic, d->kx_buf, rlen, 1, false);
	handshake_done(d, p, "responder");
}

static void on_response(struct daemon *d, const struct topic *t, const uint8_t *msg, size_t len)
{
	struct keypair kp;
	struct peer *p;
	uint32_t index;
	int rc;

	if (handshake_receiver_index(msg, len, &index) < 0) {
		daemon_drop(d, NULL, DROP_MALFORMED);
		return;
	}
	p = peer_table_find_initiator(&d->peers, index);
	if (!p) {
		daemon_drop(d, NULL, DROP_HANDSHAKE);
		return;
	}
	if (cert_check_owns(&p->cert, &t->src) != CERT_OK) {
		daemon_drop(d, p, DROP_TOPIC);
		return;
	}
	/* The broker saw the initiation's index and can compute mac1 from our public key, so a
	 * forged response can reach the DH: such responses take tokens like initiations do. */
	if (handshake_mac1_ok(msg, len, d->local.static_public) &&
	    !ratelimit_allow(&d->ratelimit, &t->src, daemon_now_ms(d))) {
		daemon_drop(d, p, DROP_RATELIMIT);
		return;
	}
	rc = handshake_response_consume(&p->handshake, msg, len, &kp, daemon_now_ms(d));
	if (rc) {
		daemon_drop(d, p, rc == HANDSHAKE_ERR_MAC1 ? DROP_HANDSHAKE_MAC1 : DROP_HANDSHAKE);
		log_info("handshake response from %s refused: %s", p->cert.name,
			 handshake_strerror(rc));
		return;
	}
	session_install(&p->session, &kp);
	keypair_wipe(&kp);
	p->handshake_first_ms = 0;
	handshake_done(d, p, "initiator");
	/* the responder may only send once we used the keys: a keepalive if nothing waits */
	tunnel_flush_queue(d, p, true);
}

void kx_on_message(struct daemon *d, const struct topic *t, const uint8_t *payload, size_t len)
{
	if (!d->secure || !daemon_is_own(d, &t->dst))
		return;
	switch (handshake_message_type(payload, len)) {
	case MQTTIP_MSG_INITIATION:
		on_initiation(d, t, payload, len);
		break;
	case MQTTIP_MSG_RESPONSE:
		on_response(d, t, payload, len);
		break;
	default:
		daemon_drop(d, NULL, DROP_MALFORMED);
	}
}

void kx_tick(struct daemon *d)
{
	uint64_t now = daemon_now_ms(d);

	for (size_t i = 0; i < d->peers.cap; i++) {
		struct peer *p = &d->peers.peers[i];
		struct peer_extra *ex = &d->extra[i];

		if (!p->used)
			continue;
		session_expire(&p->session, now, &d->params);
		if (p->handshake.state == HANDSHAKE_INITIATION_SENT || ex->queued) {
			if (p->handshake_first_ms &&
			    now - p->handshake_first_ms >= MQTTIP_REKEY_ATTEMPT_TIME_MS) {
				log_warn("handshake with %s: no answer for %u s, giving up",
					 p->cert.name, MQTTIP_REKEY_ATTEMPT_TIME_MS / 1000);
				handshake_wipe(&p->handshake);
				tunnel_drop_queue(d, p, DROP_HANDSHAKE_TIMEOUT);
				p->handshake_first_ms = 0;
			} else if (!session_sending_keypair(&p->session, now, &d->params) ||
				   p->handshake.state == HANDSHAKE_INITIATION_SENT) {
				kx_initiate(d, p, false);
			}
			continue;
		}
		if (ex->keepalive_due_ms && now >= ex->keepalive_due_ms) {
			ex->keepalive_due_ms = 0;
			tunnel_send_keepalive(d, p);
		}
		if (ex->first_unanswered_ms &&
		    now - ex->first_unanswered_ms >=
			MQTTIP_KEEPALIVE_TIMEOUT_MS + MQTTIP_REKEY_TIMEOUT_MS) {
			ex->first_unanswered_ms = 0;
			log_info("peer %s: no answer for %u s, new handshake", p->cert.name,
				 (MQTTIP_KEEPALIVE_TIMEOUT_MS + MQTTIP_REKEY_TIMEOUT_MS) / 1000);
			kx_initiate(d, p, true);
		}
	}
	broker_flush(&d->broker);
}
