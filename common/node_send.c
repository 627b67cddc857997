/* node_send.c - the outbound path (PROTOCOL.md 8.3, 8.5, 8.6). A packet from the local stack is
 * checked (header, our own source), routed to the peer whose certificate claims its destination
 * most specifically (through the route cache) and appended to that peer's open batch (batch.h);
 * node_flush seals each batch in place with the peer's current keypair and publishes it as one
 * message on <p>/<peer>/<self>. A batch never exceeds the node's maximum message (settings, broker
 * limit, slot size) nor the peer's (its handshake capabilities); a full one is sent and a new one
 * started. A peer without a usable keypair gets the packet in its bounded queue and a handshake;
 * a destination without a certificate waits in the unrouted queue while the node looks it up. Every
 * queue drops its OLDEST packet when full, and the shared pool gives up its oldest packet overall
 * when it runs out (counted queue_full). Broadcast and multicast go as copies to the peers that
 * have a session. */
#include <string.h>

#include "batch.h"
#include "iphdr.h"
#include "node_internal.h"

static void queue_init(struct packet_queue *q)
{
	q->head = q->tail = NODE_NONE;
	q->count = 0;
}

void node_send_init(struct node *n, const struct node_storage *st)
{
	n->packets = st->packets;
	n->n_packets = st->n_packets;
	n->free_packets = NODE_NONE;
	for (size_t i = n->n_packets; i-- > 0;) {
		n->packets[i].next = n->free_packets;
		n->free_packets = (uint32_t)i;
	}
	queue_init(&n->unrouted);
	n->n_batches = st->n_batches;
	n->batch_size = st->batch_size;
	for (size_t s = 0; s < n->n_batches; s++) {
		n->batches[s].peer = NODE_NONE;
		n->batches[s].used = 0;
		n->batches[s].buf = st->batch_mem + s * st->batch_size;
	}
}

/* ---- queues ---- */

static uint32_t queue_pop(struct node *n, struct packet_queue *q)
{
	uint32_t i = q->head;

	if (i == NODE_NONE)
		return NODE_NONE;
	q->head = n->packets[i].next;
	if (q->head == NODE_NONE)
		q->tail = NODE_NONE;
	q->count--;
	return i;
}

static void queue_push(struct node *n, struct packet_queue *q, uint32_t i)
{
	n->packets[i].next = NODE_NONE;
	if (q->tail == NODE_NONE)
		q->head = i;
	else
		n->packets[q->tail].next = i;
	q->tail = i;
	q->count++;
}

static void pool_free(struct node *n, uint32_t i)
{
	n->packets[i].next = n->free_packets;
	n->free_packets = i;
}

/* Drops the oldest packet of the whole pool: the oldest head among all queues. */
static void pool_evict_oldest(struct node *n)
{
	struct packet_queue *oldest = NULL;
	struct peer *owner = NULL;

	if (n->unrouted.head != NODE_NONE)
		oldest = &n->unrouted;
	for (size_t i = 0; i < n->peers.cap; i++) {
		struct peer *p = &n->peers.peers[i];

		if (!p->used || p->queue.head == NODE_NONE)
			continue;
		if (!oldest ||
		    (int32_t)(n->packets[p->queue.head].seq - n->packets[oldest->head].seq) < 0) {
			oldest = &p->queue;
			owner = p;
		}
	}
	if (oldest) {
		pool_free(n, queue_pop(n, oldest));
		node_drop(n, owner, DROP_QUEUE_FULL);
	}
}

/* Queues a copy of pkt on q (a peer's, or the unrouted queue when p is NULL). */
static void enqueue(struct node *n, struct peer *p, const uint8_t *pkt, size_t len,
		    const struct netaddr *dst, uint64_t now_ms)
{
	struct packet_queue *q = p ? &p->queue : &n->unrouted;
	struct node_packet *e;
	uint32_t i;

	if (q->count >= n->set.queue_per_peer) {
		/* PROTOCOL.md 8.3: the oldest packet gives way (it is the stalest) */
		uint32_t old = queue_pop(n, q);

		if (old == NODE_NONE) { /* a queue of size 0: nothing ever waits */
			node_drop(n, p, DROP_QUEUE_FULL);
			return;
		}
		pool_free(n, old);
		node_drop(n, p, DROP_QUEUE_FULL);
	}
	if (n->free_packets == NODE_NONE)
		pool_evict_oldest(n);
	if (n->free_packets == NODE_NONE) {
		node_drop(n, p, DROP_QUEUE_FULL); /* no pool at all */
		return;
	}
	i = n->free_packets;
	n->free_packets = n->packets[i].next;
	e = &n->packets[i];
	e->seq = n->packet_seq++;
	e->since_ms = now_ms;
	e->dst = *dst;
	e->len = (uint16_t)len;
	memcpy(e->data, pkt, len);
	queue_push(n, q, i);
}

static void queue_drop_all(struct node *n, struct packet_queue *q, struct peer *counted,
			   enum drop_reason why)
{
	uint32_t i;

	while ((i = queue_pop(n, q)) != NODE_NONE) {
		pool_free(n, i);
		node_drop(n, counted, why);
	}
}

void node_send_queue_drop(struct node *n, struct peer *p, enum drop_reason why)
{
	queue_drop_all(n, &p->queue, p, why);
}

/* ---- batches ---- */

/* The body limit for p: our maximum message, and the peer's own (its handshake capabilities). */
static size_t body_cap(const struct node *n, const struct peer *p)
{
	size_t m = n->max_message < p->caps.max_message ? n->max_message : p->caps.max_message;

	return m > MQTTIP_TRANSPORT_OVERHEAD ? m - MQTTIP_TRANSPORT_OVERHEAD : 0;
}

static void free_slot(struct node *n, uint32_t s)
{
	struct node_batch *b = &n->batches[s];

	if (b->peer != NODE_NONE)
		n->peers.peers[b->peer].batch = NODE_NONE;
	b->peer = NODE_NONE;
	b->used = 0;
	b->packets = 0;
	b->bytes = 0;
}

static bool data_topic(const struct node *n, const struct peer *p, char topic[TOPIC_MAX])
{
	for (size_t i = 0; i < n->id.cert.n_addrs; i++) {
		if (n->id.cert.addrs[i].addr.family == p->addr.family)
			return topic_data(topic, TOPIC_MAX, node_prefix(n), &p->addr,
					  &n->id.cert.addrs[i].addr) != 0;
	}
	return false;
}

/* Seals the body in place (one keypair decision per message) and publishes it. */
static void flush_slot(struct node *n, uint32_t s, uint64_t now_ms)
{
	struct node_batch *b = &n->batches[s];
	struct peer *p = &n->peers.peers[b->peer];
	struct keypair *kp = session_sending_keypair(&p->session, now_ms, &n->set.params);
	char topic[TOPIC_MAX];
	size_t msg_len;
	int rc;

	if (!kp || keypair_seal(kp, now_ms, &n->set.params, b->buf, n->batch_size, b->used,
				&msg_len) != KEYPAIR_OK)
		node_drop_n(n, p, DROP_EXPIRED, b->packets);
	else if (!data_topic(n, p, topic))
		node_drop_n(n, p, DROP_NO_PEER, b->packets);
	else if ((rc = node_publish(n, topic, b->buf, msg_len, 0, false)) != 0)
		node_drop_n(n, p, node_publish_drop(rc), b->packets);
	else {
		p->stats.tx_msgs++;
		p->stats.tx_packets += b->packets;
		p->stats.tx_bytes += b->bytes;
		node_timers_data_sent(n, p, b->packets > 0, now_ms);
	}
	free_slot(n, s);
}

void node_flush(struct node *n, uint64_t now_ms)
{
	for (uint32_t s = 0; s < n->n_batches; s++) {
		if (n->batches[s].peer != NODE_NONE)
			flush_slot(n, s, now_ms);
	}
}

static uint32_t take_slot(struct node *n, uint64_t now_ms)
{
	uint32_t s;

	for (s = 0; s < n->n_batches; s++) {
		if (n->batches[s].peer == NODE_NONE)
			return s;
	}
	/* more peers than slots in this wake-up: the next slot in turn goes out early */
	s = n->batch_evict;
	n->batch_evict = (uint32_t)((s + 1) % n->n_batches);
	flush_slot(n, s, now_ms);
	return s;
}

static void batch_add(struct node *n, struct peer *p, const uint8_t *pkt, size_t len,
		      uint64_t now_ms)
{
	struct node_batch *b;
	size_t used;

	if (p->batch == NODE_NONE) {
		p->batch = take_slot(n, now_ms);
		n->batches[p->batch].peer = node_slot(n, p);
	}
	b = &n->batches[p->batch];
	used =
	    batch_append(b->buf + MQTTIP_TRANSPORT_HEADER_LEN, body_cap(n, p), b->used, pkt, len);
	if (!used && b->used) {
		uint32_t s = p->batch;

		flush_slot(n, s, now_ms);
		p->batch = s;
		b->peer = node_slot(n, p);
		used =
		    batch_append(b->buf + MQTTIP_TRANSPORT_HEADER_LEN, body_cap(n, p), 0, pkt, len);
	}
	if (!used) {
		/* alone above the broker's or the peer's limit: the slot is left empty */
		node_drop(n, p, DROP_OVERSIZE);
		free_slot(n, p->batch);
		return;
	}
	b->used = used;
	b->packets++;
	b->bytes += len;
}

void node_send_keepalive(struct node *n, struct peer *p, uint64_t now_ms)
{
	struct keypair *kp = session_sending_keypair(&p->session, now_ms, &n->set.params);
	uint8_t msg[MQTTIP_TRANSPORT_OVERHEAD];
	char topic[TOPIC_MAX];
	size_t len;

	if (!kp || keypair_seal(kp, now_ms, &n->set.params, msg, sizeof(msg), 0, &len) ||
	    !data_topic(n, p, topic))
		return;
	if (node_publish(n, topic, msg, len, 0, false) == 0) {
		p->stats.tx_msgs++;
		node_timers_data_sent(n, p, false, now_ms);
	}
}

void node_send_queue_flush(struct node *n, struct peer *p, bool keepalive_if_empty, uint64_t now_ms)
{
	bool any = p->queue.count > 0;
	uint32_t i;

	if (!node_peer_has_session(n, p, now_ms))
		return;
	while ((i = queue_pop(n, &p->queue)) != NODE_NONE) {
		batch_add(n, p, n->packets[i].data, n->packets[i].len, now_ms);
		pool_free(n, i);
	}
	if (p->batch != NODE_NONE)
		flush_slot(n, p->batch, now_ms);
	if (!any && keepalive_if_empty)
		node_send_keepalive(n, p, now_ms);
}

void node_send_adopt_unrouted(struct node *n, struct peer *p, uint64_t now_ms)
{
	struct packet_queue rest;
	uint32_t i;

	queue_init(&rest);
	while ((i = queue_pop(n, &n->unrouted)) != NODE_NONE) {
		if (node_route(n, &n->packets[i].dst) != p) {
			queue_push(n, &rest, i);
			continue;
		}
		if (p->queue.count >= n->set.queue_per_peer) {
			pool_free(n, i);
			node_drop(n, p, DROP_QUEUE_FULL);
			continue;
		}
		queue_push(n, &p->queue, i);
	}
	n->unrouted = rest;
	if (p->queue.count && !node_peer_has_session(n, p, now_ms))
		node_handshake_initiate(n, p, false, now_ms);
	else
		node_send_queue_flush(n, p, false, now_ms);
}

void node_send_unrouted_expire(struct node *n, uint64_t now_ms)
{
	while (n->unrouted.head != NODE_NONE &&
	       now_ms - n->packets[n->unrouted.head].since_ms >= MQTTIP_REKEY_ATTEMPT_TIME_MS) {
		/* nobody answered for that address */
		pool_free(n, queue_pop(n, &n->unrouted));
		node_drop(n, NULL, DROP_NO_PEER);
	}
}

void node_send_forget(struct node *n, struct peer *p, bool requeue)
{
	uint32_t i;

	if (p->batch != NODE_NONE) {
		node_drop_n(n, NULL, DROP_NO_PEER, n->batches[p->batch].packets);
		free_slot(n, p->batch);
	}
	if (!requeue) {
		queue_drop_all(n, &p->queue, NULL, DROP_NO_PEER);
		return;
	}
	while ((i = queue_pop(n, &p->queue)) != NODE_NONE)
		queue_push(n, &n->unrouted, i);
}

/* ---- routing ---- */

static void send_to_peer(struct node *n, struct peer *p, const uint8_t *pkt, size_t len,
			 const struct netaddr *dst, uint64_t now_ms)
{
	struct keypair *kp = session_sending_keypair(&p->session, now_ms, &n->set.params);

	p->last_used_ms = now_ms;
	if (!kp) {
		enqueue(n, p, pkt, len, dst, now_ms);
		node_handshake_initiate(n, p, false, now_ms);
		return;
	}
	if (keypair_wants_rekey(kp, now_ms, &n->set.params))
		node_handshake_initiate(n, p, false, now_ms);
	batch_add(n, p, pkt, len, now_ms);
}

/* Copies to the peers that have a session, at most broadcast_peers; never a handshake. */
static unsigned send_broadcast(struct node *n, const uint8_t *pkt, size_t len, uint64_t now_ms)
{
	unsigned sent = 0;

	for (size_t i = 0; i < n->peers.cap && sent < n->set.broadcast_peers; i++) {
		struct peer *p = &n->peers.peers[i];

		if (!p->used || !node_peer_has_session(n, p, now_ms))
			continue;
		batch_add(n, p, pkt, len, now_ms);
		sent++;
	}
	return sent;
}

static bool is_broadcast(const struct netaddr *a)
{
	/* PROTOCOL.md 8.6: a directed (subnet) broadcast is an ordinary address */
	return netaddr_is_broadcast(a) || netaddr_is_multicast(a);
}

void node_send(struct node *n, const uint8_t *pkt, size_t len, uint64_t now_ms)
{
	struct iphdr_info ip;
	struct peer *p;
	bool ours;

	if (iphdr_parse(pkt, len, &ip) != IPHDR_OK || ip.total_len > MQTTIP_MAX_IP_PACKET) {
		node_drop(n, NULL, DROP_BAD_PACKET);
		return;
	}
	if (n->set.debug) {
		char s[NETADDR_STR_MAX], d[NETADDR_STR_MAX];

		node_log(n, NODE_LOG_DEBUG, "out: %u bytes %s -> %s proto %u", ip.total_len,
			 node_addr_text(&ip.src, s), node_addr_text(&ip.dst, d), ip.protocol);
	}
	/* A source that is not ours (link-local, say) would be refused by every secure peer. */
	ours = !n->id.secure || node_is_own(n, &ip.src) ||
	       cert_check_source(&n->id.cert, &ip.src) == CERT_OK;
	if (is_broadcast(&ip.dst)) {
		if (n->set.broadcast_peers == 0) {
			node_drop(n, NULL, DROP_MULTICAST); /* a node that sends none (a device) */
			return;
		}
		if (n->legacy)
			node_legacy_send(n, pkt, ip.total_len, &ip.dst);
		if (!n->id.secure)
			return;
		if (!ours) {
			if (!n->legacy)
				node_drop(n, NULL, DROP_FOREIGN_SOURCE);
		} else if (!send_broadcast(n, pkt, ip.total_len, now_ms) && !n->legacy)
			node_drop(n, NULL, DROP_NO_PEER);
		return;
	}
	p = n->id.secure ? node_route(n, &ip.dst) : NULL;
	if (p) {
		if (ours)
			send_to_peer(n, p, pkt, ip.total_len, &ip.dst, now_ms);
		else
			node_drop(n, p, DROP_FOREIGN_SOURCE);
		return;
	}
	if (n->legacy) {
		node_legacy_send(n, pkt, ip.total_len, &ip.dst);
		return;
	}
	if (!ours) {
		node_drop(n, NULL, DROP_FOREIGN_SOURCE);
		return;
	}
	/* no certificate claims it: the packet waits while its owner, if any, is asked */
	enqueue(n, NULL, pkt, ip.total_len, &ip.dst, now_ms);
	node_directory_want(n, &ip.dst, now_ms);
}
