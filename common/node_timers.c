/* node_timers.c - every timer rule of PROTOCOL.md 8.3 and 8.4, written once. Hooks named for the
 * protocol event that arms or disarms a timer (as WireGuard's timers.c), and node_tick, which the
 * host calls at least every NODE_TICK_MS with its monotonic clock:
 *
 *   expiry       keypairs aged reject_after_ms are wiped (and at use, keypair.c)
 *   retry        an unanswered initiation is repeated after MQTTIP_REKEY_TIMEOUT_MS, the interval
 *                doubling per attempt up to MQTTIP_REKEY_TIMEOUT_MAX_MS, so a response that needs
 *                a slow round trip (several seconds over a loaded broker path) arrives before
 *                the next retry replaces the state it answers
 *   give-up      MQTTIP_REKEY_ATTEMPT_TIME_MS after the first attempt: the attempt stops and the
 *                queued packets are dropped (handshake_timeout)
 *   keepalive    MQTTIP_KEEPALIVE_TIMEOUT_MS after data was received, if nothing was sent since
 *   no answer    data sent, nothing authentic back for KEEPALIVE + REKEY_TIMEOUT: new handshake
 *   pacing       at most one initiation per retry interval per peer, whatever triggers it */
#include "node_internal.h"

#define NO_ANSWER_MS (MQTTIP_KEEPALIVE_TIMEOUT_MS + MQTTIP_REKEY_TIMEOUT_MS)

static uint64_t retry_interval(uint32_t attempts)
{
	uint64_t ms = MQTTIP_REKEY_TIMEOUT_MS;

	for (uint32_t i = 1; i < attempts && ms < MQTTIP_REKEY_TIMEOUT_MAX_MS; i++)
		ms *= 2;
	return ms < MQTTIP_REKEY_TIMEOUT_MAX_MS ? ms : MQTTIP_REKEY_TIMEOUT_MAX_MS;
}

bool node_timers_initiation_due(const struct node *n, const struct peer *p, uint64_t now_ms)
{
	uint64_t interval = peer_handshake(&n->peers, p) ? retry_interval(p->handshake_attempts)
							 : MQTTIP_REKEY_TIMEOUT_MS;

	return p->handshake_sent_ms == 0 || now_ms - p->handshake_sent_ms >= interval;
}

void node_timers_handshake_initiated(struct node *n, struct peer *p, uint64_t now_ms)
{
	(void)n;
	if (!p->handshake_first_ms)
		p->handshake_first_ms = now_ms;
	p->handshake_attempts++;
	p->handshake_sent_ms = now_ms;
}

void node_timers_handshake_complete(struct node *n, struct peer *p, bool initiator, uint64_t now_ms)
{
	(void)n;
	p->handshake_done_ms = now_ms;
	p->first_unanswered_ms = 0;
	if (initiator) {
		p->handshake_first_ms = 0;
		p->handshake_attempts = 0;
	}
}

void node_timers_data_sent(struct node *n, struct peer *p, bool data, uint64_t now_ms)
{
	(void)n;
	p->keepalive_due_ms = 0;
	p->last_used_ms = now_ms;
	if (data && !p->first_unanswered_ms)
		p->first_unanswered_ms = now_ms;
}

void node_timers_message_received(struct node *n, struct peer *p, bool data, uint64_t now_ms)
{
	(void)n;
	p->last_rx_ms = now_ms;
	p->last_used_ms = now_ms;
	p->first_unanswered_ms = 0;
	if (data && !p->keepalive_due_ms)
		p->keepalive_due_ms = now_ms + MQTTIP_KEEPALIVE_TIMEOUT_MS;
}

bool node_timers_session_alive(struct node *n, struct peer *p, uint64_t now_ms)
{
	return node_peer_has_session(n, p, now_ms) && p->last_rx_ms &&
	       now_ms - p->last_rx_ms < NO_ANSWER_MS;
}

static void give_up(struct node *n, struct peer *p, uint64_t now_ms)
{
	node_log(n, NODE_LOG_WARN, "handshake with %s: no answer for %u s, giving up", p->cert.name,
		 MQTTIP_REKEY_ATTEMPT_TIME_MS / 1000);
	peer_handshake_end(&n->peers, p);
	node_send_queue_drop(n, p, DROP_HANDSHAKE_TIMEOUT);
	p->handshake_first_ms = 0;
	p->handshake_attempts = 0;
	/* the peer may have a new key by now: look its certificate up again */
	node_directory_want(n, &p->addr, now_ms);
}

static void peer_tick(struct node *n, struct peer *p, uint64_t now_ms)
{
	bool in_flight = peer_handshake(&n->peers, p) != NULL;

	session_expire(&p->session, now_ms, &n->set.params);
	if (in_flight || p->queue.count) {
		if (p->handshake_first_ms &&
		    now_ms - p->handshake_first_ms >= MQTTIP_REKEY_ATTEMPT_TIME_MS)
			give_up(n, p, now_ms);
		else if (in_flight || !node_peer_has_session(n, p, now_ms))
			node_handshake_initiate(n, p, false, now_ms);
		return;
	}
	if (p->keepalive_due_ms && now_ms >= p->keepalive_due_ms) {
		p->keepalive_due_ms = 0;
		node_send_keepalive(n, p, now_ms);
	}
	if (p->first_unanswered_ms && now_ms - p->first_unanswered_ms >= NO_ANSWER_MS) {
		p->first_unanswered_ms = 0;
		node_log(n, NODE_LOG_INFO, "peer %s: no answer for %u s, new handshake",
			 p->cert.name, NO_ANSWER_MS / 1000);
		node_handshake_initiate(n, p, true, now_ms);
	}
}

void node_tick(struct node *n, uint64_t now_ms)
{
	for (size_t i = 0; i < n->peers.cap; i++) {
		if (n->peers.peers[i].used)
			peer_tick(n, &n->peers.peers[i], now_ms);
	}
	if (n->id.secure) {
		node_directory_tick(n, now_ms);
		node_revocation_tick(n, now_ms);
	}
	node_send_unrouted_expire(n, now_ms);
}
