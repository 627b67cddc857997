/* node_send.c - the outbound path (PROTOCOL.md 7.4.1, 8.3, 8.5, 8.6). A packet from the local stack
 * is checked (header, our own source), routed to the peer whose certificate claims its destination
 * most specifically (through the route cache) and appended to that peer's open batch (batch.h);
 * node_flush seals each batch in place with the peer's current keypair and publishes it as one
 * message on <p>/<peer>/<self>. A batch never exceeds the node's maximum message (settings, broker
 * limit, slot size) nor the peer's (its handshake capabilities); a full one is sent and a new one
 * started. The keypair is decided once per batch: when it opens (none: the packet waits in the
 * peer's bounded queue and a handshake starts) and when it is sealed. A destination without a
 * certificate waits in the unrouted queue while the node looks it up. Every queue drops its OLDEST
 * packet when full, and the shared pool gives up its oldest packet overall when it runs out
 * (counted queue_full). Broadcast and multicast go as copies to the peers that have a session.
 * With offloads (node_storage.offload), super-packets from the host go whole, as offload records,
 * to peers that announced MQTTIP_FEATURE_OFFLOAD (cut into smaller ones when a message cannot hold
 * one), and as plain packets, checksums completed, everywhere else; the host reads each packet
 * straight into the batch it most likely joins (node_send_area), and a packet that joins it is
 * never copied: a full batch is sent and the slot read into becomes the peer's next one. */
#include <string.h>

#include "batch.h"
#include "gso.h"
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
		n->batches[s].reserved = false;
		n->batches[s].buf = st->batch_mem + s * st->batch_size;
	}
	n->offload = st->offload && st->offload->deliver ? st->offload : NULL;
	n->area = NULL;
	n->hint_peer = NODE_NONE;
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

/* Whether p gets offload records: it announced them, and we have super-packets to give. */
static bool peer_offload(const struct node *n, const struct peer *p)
{
	return n->offload && (p->caps.features & MQTTIP_FEATURE_OFFLOAD);
}

static size_t record_header(bool offload)
{
	return offload ? MQTTIP_OFFLOAD_RECORD_HEADER : MQTTIP_BATCH_RECORD_HEADER;
}

static bool is_plain(const struct gso_info *g)
{
	return g->type == MQTTIP_GSO_NONE && !(g->flags & MQTTIP_GSO_FLAG_CSUM);
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

static uint32_t free_slot_index(const struct node *n)
{
	for (uint32_t s = 0; s < n->n_batches; s++) {
		if (n->batches[s].peer == NODE_NONE && !n->batches[s].reserved)
			return s;
	}
	return NODE_NONE;
}

static uint32_t take_slot(struct node *n, uint64_t now_ms)
{
	uint32_t s = free_slot_index(n);

	if (s != NODE_NONE)
		return s;
	/* more peers than slots in this wake-up: the next slot in turn goes out early (a reserved
	 * slot is free, so at least one other is busy) */
	do {
		s = n->batch_evict;
		n->batch_evict = (uint32_t)((s + 1) % n->n_batches);
	} while (n->batches[s].reserved);
	flush_slot(n, s, now_ms);
	return s;
}

/* Where p's next record of record bytes goes: its open batch, sent first and started again when
 * full, or a new one. NULL when the record alone is above p's messages (the broker's or the
 * peer's limit, PROTOCOL.md 3.1): the caller drops it as oversize. */
static uint8_t *batch_room(struct node *n, struct peer *p, size_t record, uint64_t now_ms)
{
	struct node_batch *b;

	if (record > body_cap(n, p))
		return NULL;
	if (p->batch == NODE_NONE) {
		p->batch = take_slot(n, now_ms);
		n->batches[p->batch].peer = node_slot(n, p);
	}
	b = &n->batches[p->batch];
	if (b->used > body_cap(n, p) || body_cap(n, p) - b->used < record) {
		uint32_t s = p->batch;

		flush_slot(n, s, now_ms);
		p->batch = s;
		b->peer = node_slot(n, p);
	}
	return b->buf + MQTTIP_TRANSPORT_HEADER_LEN;
}

static void batch_commit(struct node *n, struct peer *p, size_t used, unsigned packets,
			 size_t bytes)
{
	struct node_batch *b = &n->batches[p->batch];

	b->used = used;
	b->packets += packets;
	b->bytes += bytes;
}

static void batch_add(struct node *n, struct peer *p, const uint8_t *pkt, size_t len,
		      uint64_t now_ms)
{
	uint8_t *body = batch_room(n, p, MQTTIP_BATCH_RECORD_HEADER + len, now_ms);

	if (!body) {
		node_drop(n, p, DROP_OVERSIZE);
		return;
	}
	batch_commit(n, p, batch_append(body, body_cap(n, p), n->batches[p->batch].used, pkt, len),
		     1, len);
}

/* A packet with offload metadata for p, which does not accept offload records: its checksum
 * completed in the batch, or cut into plain packets there. */
static void batch_add_plain(struct node *n, struct peer *p, const uint8_t *pkt, size_t len,
			    const struct gso_info *g, uint64_t now_ms)
{
	size_t cap = body_cap(n, p);

	if (g->type == MQTTIP_GSO_NONE) {
		uint8_t *body = batch_room(n, p, MQTTIP_BATCH_RECORD_HEADER + len, now_ms);
		size_t used;

		if (!body) {
			node_drop(n, p, DROP_OVERSIZE);
			return;
		}
		used = batch_append(body, cap, n->batches[p->batch].used, pkt, len);
		gso_complete(body + used - len, len, g);
		batch_commit(n, p, used, 1, len);
		n->offload_stats.tx_csum++;
		return;
	}
	n->offload_stats.tx_segmented++;
	for (unsigned i = 0; i < g->segments; i++) {
		uint8_t *body =
		    batch_room(n, p, MQTTIP_BATCH_RECORD_HEADER + g->hdr_len + g->size, now_ms);
		size_t used, out;
		uint8_t *at;

		if (!body) {
			node_drop(n, p, DROP_OVERSIZE);
			continue;
		}
		used = n->batches[p->batch].used;
		at = body + used + MQTTIP_BATCH_RECORD_HEADER;
		out = gso_build(pkt, g, i, 1, true, at);
		batch_commit(n, p, batch_append(body, cap, used, at, out), 1, out);
	}
}
/* A packet with offload metadata for p, which accepts offload records: whole when the message
 * can hold it, else in super-packets of as many segments as fit (plain packets when not even two
 * do). */
static void batch_add_offload(struct node *n, struct peer *p, const uint8_t *pkt, size_t len,
			      const struct gso_info *g, uint64_t now_ms)
{
	size_t cap = body_cap(n, p), k;
	uint8_t *body;

	if (MQTTIP_OFFLOAD_RECORD_HEADER + len <= cap) {
		body = batch_room(n, p, MQTTIP_OFFLOAD_RECORD_HEADER + len, now_ms);
		batch_commit(n, p,
			     batch_append_offload(body, cap, n->batches[p->batch].used, pkt, len,
						  g->type, g->flags, g->size),
			     g->segments, len);
		n->offload_stats.tx_super += g->segments > 1;
		return;
	}
	if (cap < MQTTIP_OFFLOAD_RECORD_HEADER + g->hdr_len + 2u * g->size) {
		batch_add_plain(n, p, pkt, len, g, now_ms);
		return;
	}
	n->offload_stats.tx_split++;
	k = (cap - MQTTIP_OFFLOAD_RECORD_HEADER - g->hdr_len) / g->size;
	for (unsigned first = 0; first < g->segments; first += (unsigned)k) {
		unsigned count = g->segments - first < k ? g->segments - first : (unsigned)k;
		size_t used, out, head = record_header(count > 1);
		uint8_t *at;

		body = batch_room(n, p, head + g->hdr_len + count * g->size, now_ms);
		used = n->batches[p->batch].used;
		at = body + used + head;
		/* the last segment alone is a plain packet */
		out = gso_build(pkt, g, first, count, count == 1, at);
		if (count == 1)
			used = batch_append(body, cap, used, at, out);
		else
			used = batch_append_offload(body, cap, used, at, out, g->type,
						    MQTTIP_GSO_FLAG_CSUM, g->size);
		batch_commit(n, p, used, count, out);
	}
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

/* Opening p's batch is the one keypair decision for it: none that can send, and the packet waits
 * for a handshake. True when p has an open batch or may open one now. */
static bool batch_open_ok(struct node *n, struct peer *p, uint64_t now_ms)
{
	struct keypair *kp;

	if (p->batch != NODE_NONE)
		return true;
	kp = session_sending_keypair(&p->session, now_ms, &n->set.params);
	if (!kp)
		return false;
	if (keypair_wants_rekey(kp, now_ms, &n->set.params))
		node_handshake_initiate(n, p, false, now_ms);
	return true;
}

static void send_to_peer(struct node *n, struct peer *p, const uint8_t *pkt, size_t len,
			 const struct netaddr *dst, uint64_t now_ms)
{
	p->last_used_ms = now_ms;
	if (!batch_open_ok(n, p, now_ms)) {
		enqueue(n, p, pkt, len, dst, now_ms);
		node_handshake_initiate(n, p, false, now_ms);
		return;
	}
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

/* A source that is not ours (link-local, say) would be refused by every secure peer. */
static bool source_ours(const struct node *n, const struct netaddr *src)
{
	return !n->id.secure || node_is_own(n, src) ||
	       cert_check_source(&n->id.cert, src) == CERT_OK;
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
	ours = source_ours(n, &ip.src);
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

/* ---- offloads ---- */

/* The peer a checked packet with offload metadata goes to as it is (its batch open or openable,
 * our source, unicast), or NULL: then it goes as plain packets through node_send. */
static struct peer *offload_target(struct node *n, const struct iphdr_info *ip, uint64_t now_ms)
{
	struct peer *p;

	if (!n->id.secure || n->set.debug || is_broadcast(&ip->dst) || !source_ours(n, &ip->src))
		return NULL;
	p = node_route(n, &ip->dst);
	if (!p || !batch_open_ok(n, p, now_ms))
		return NULL;
	p->last_used_ms = now_ms;
	return p;
}

void node_send_gso(struct node *n, const uint8_t *pkt, size_t len, const struct gso_info *gi,
		   uint64_t now_ms)
{
	struct gso_info g;
	struct iphdr_info ip;
	struct peer *p;

	if (!gi || is_plain(gi)) {
		node_send(n, pkt, len, now_ms);
		return;
	}
	g = *gi;
	if (!n->offload || iphdr_parse(pkt, len, &ip) != IPHDR_OK || gso_check(pkt, len, &g)) {
		node_drop(n, NULL, DROP_BAD_PACKET);
		return;
	}
	p = offload_target(n, &ip, now_ms);
	if (p) {
		if (peer_offload(n, p))
			batch_add_offload(n, p, pkt, len, &g, now_ms);
		else
			batch_add_plain(n, p, pkt, len, &g, now_ms);
		n->hint_peer = node_slot(n, p);
		n->hint_len = len;
		return;
	}
	/* a queue, the directory, legacy, broadcast: plain packets, one at a time */
	if (g.type == MQTTIP_GSO_NONE) {
		memcpy(n->offload->segment, pkt, len);
		gso_complete(n->offload->segment, len, &g);
		node_send(n, n->offload->segment, len, now_ms);
		return;
	}
	n->offload_stats.tx_segmented++;
	for (unsigned i = 0; i < g.segments; i++)
		node_send(n, n->offload->segment,
			  gso_build(pkt, &g, i, 1, true, n->offload->segment), now_ms);
}

uint8_t *node_send_area(struct node *n, size_t *cap)
{
	uint32_t f = free_slot_index(n);
	struct peer *p = NULL;
	size_t room = n->batch_size - MQTTIP_TRANSPORT_OVERHEAD, h;
	bool offload = n->offload != NULL;

	n->area = NULL;
	if (f == NODE_NONE || n->n_batches < 2)
		return NULL;
	if (n->hint_peer < n->peers.cap && n->peers.peers[n->hint_peer].used)
		p = &n->peers.peers[n->hint_peer];
	if (p) {
		offload = peer_offload(n, p);
		h = record_header(offload);
		/* after its last record when the last packet would fit there again */
		if (p->batch != NODE_NONE &&
		    body_cap(n, p) >= n->batches[p->batch].used + h + n->hint_len) {
			struct node_batch *b = &n->batches[p->batch];

			n->area_slot = p->batch;
			n->area_tail = true;
			n->area = b->buf + MQTTIP_TRANSPORT_HEADER_LEN + b->used + h;
			n->area_cap = body_cap(n, p) - b->used - h;
			goto out;
		}
	}
	h = record_header(offload);
	if (room > MQTTIP_MAX_BODY)
		room = MQTTIP_MAX_BODY;
	n->area_slot = f;
	n->area_tail = false;
	n->area = n->batches[f].buf + MQTTIP_TRANSPORT_HEADER_LEN + h;
	n->area_cap = room - h;
out:
	n->area_peer = p ? node_slot(n, p) : NODE_NONE;
	*cap = n->area_cap;
	return n->area;
}

/* Writes the record of the packet at area (read for a record of the area's kind) at body + used
 * of p's batch, as a record of kind offload; the packet moves when the kinds differ. moved: the
 * area lies elsewhere (a copy, counted as read_moved). */
static void commit_area(struct node *n, struct peer *p, uint8_t *area, size_t len,
			const struct gso_info *g, bool offload, bool moved)
{
	struct node_batch *b = &n->batches[p->batch];
	uint8_t *body = b->buf + MQTTIP_TRANSPORT_HEADER_LEN;
	size_t cap = body_cap(n, p), used;

	if (offload)
		used =
		    batch_append_offload(body, cap, b->used, area, len, g->type, g->flags, g->size);
	else
		used = batch_append(body, cap, b->used, area, len);
	batch_commit(n, p, used, offload ? g->segments : 1, len);
	n->offload_stats.tx_super += offload && g->segments > 1;
	if (moved)
		n->offload_stats.read_moved++;
	else
		n->offload_stats.read_in_place++;
	n->hint_peer = node_slot(n, p);
	n->hint_len = len;
}

/* The packet in the area, for p: true when it joined p's batch where it lies (its checksum
 * completed there when p takes no partial one), or where it was read when p had no batch or a
 * full one (that slot becomes p's batch), or by a copy into p's batch otherwise. False: it needs
 * cutting (a super-packet for a peer without offloads, or larger than p's messages). */
static bool send_in_place(struct node *n, struct peer *p, uint8_t *area, size_t len,
			  struct gso_info *g, uint64_t now_ms)
{
	bool offload = !is_plain(g) && peer_offload(n, p);
	size_t record = record_header(offload) + len, cap = body_cap(n, p);
	struct node_batch *b;

	if (!offload && !is_plain(g)) {
		if (g->type != MQTTIP_GSO_NONE)
			return false;
		gso_complete(area, len, g); /* the area is writable and ours */
		g->flags = 0;
		n->offload_stats.tx_csum++;
	}
	if (record > cap)
		return false;
	if (n->area_tail) {
		/* the area lies in p's batch after its records (area_peer is p) */
		b = &n->batches[p->batch];
		if (record > cap - b->used)
			return false;
		commit_area(n, p, area, len, g, offload, false);
		return true;
	}
	if (p->batch != NODE_NONE) {
		b = &n->batches[p->batch];
		if (record <= cap - b->used) {
			/* a small packet for a batch that has room: one copy */
			commit_area(n, p, area, len, g, offload, true);
			return true;
		}
		flush_slot(n, p->batch, now_ms);
	}
	/* the slot read into becomes p's batch */
	p->batch = n->area_slot;
	n->batches[p->batch].peer = node_slot(n, p);
	commit_area(n, p, area, len, g, offload, false);
	return true;
}

/* node_send_area_done for the packet at pkt, whose slot is reserved meanwhile. */
static void send_area(struct node *n, uint8_t *pkt, size_t len, const struct gso_info *gi,
		      uint64_t now_ms)
{
	struct gso_info g = {0};
	struct iphdr_info ip;
	struct node_batch *f;
	struct peer *p;
	uint32_t fs;

	if (len > n->area_cap) {
		node_drop(n, NULL, DROP_BAD_PACKET);
		return;
	}
	if (gi)
		g = *gi;
	if (iphdr_parse(pkt, len, &ip) != IPHDR_OK) {
		node_drop(n, NULL, DROP_BAD_PACKET);
		return;
	}
	if (is_plain(&g)) {
		len = ip.total_len; /* link padding */
		g.segments = 1;
	} else if (!n->offload || gso_check(pkt, len, &g)) {
		node_drop(n, NULL, DROP_BAD_PACKET);
		return;
	}
	if (len <= MQTTIP_OFFLOAD_MAX_PACKET && (!is_plain(&g) || len <= MQTTIP_MAX_IP_PACKET)) {
		p = offload_target(n, &ip, now_ms);
		if (p && (!n->area_tail || node_slot(n, p) == n->area_peer) &&
		    send_in_place(n, p, pkt, len, &g, now_ms))
			return;
	}
	/* Anywhere else the packet is copied or cut: first out of a batch that a flush would seal
	 * over it, into a free slot that nothing takes meanwhile. */
	fs = n->area_tail ? free_slot_index(n) : n->area_slot;
	if (fs == NODE_NONE) { /* node_send_area found one, and nothing took it since */
		node_drop(n, NULL, DROP_BAD_PACKET);
		return;
	}
	f = &n->batches[fs];
	n->offload_stats.read_moved++;
	if (n->area_tail) {
		memcpy(f->buf + MQTTIP_TRANSPORT_HEADER_LEN, pkt, len);
		pkt = f->buf + MQTTIP_TRANSPORT_HEADER_LEN;
		/* out of the batch: it may go now (two reserved slots could be all there are) */
		n->batches[n->area_slot].reserved = false;
	}
	f->reserved = true;
	if (is_plain(&g))
		node_send(n, pkt, len, now_ms);
	else
		node_send_gso(n, pkt, len, &g, now_ms);
	f->reserved = false;
}

void node_send_area_done(struct node *n, size_t len, const struct gso_info *gi, uint64_t now_ms)
{
	uint8_t *pkt = n->area;
	uint32_t s = n->area_slot;

	n->area = NULL;
	if (!pkt) {
		node_drop(n, NULL, DROP_BAD_PACKET);
		return;
	}
	/* Its slot (a free one, or the batch it lies at the tail of) is neither taken nor sent
	 * while the packet is routed: a rekey that routing starts writes its initiation into a
	 * slot of its own (node_kx_scratch). */
	n->batches[s].reserved = true;
	send_area(n, pkt, len, gi, now_ms);
	n->batches[s].reserved = false;
}

uint8_t *node_kx_scratch(struct node *n, uint64_t now_ms)
{
	return n->batches[take_slot(n, now_ms)].buf;
}
