/* tunnel.c - the packet path. Outbound: each wake-up drains the TUN descriptor (up to
 * TUN_READS_PER_WAKE packets), and packets for the same peer are appended to one open batch
 * (batch.h) that is sealed in place and published as one message when it is full or the wake-up
 * ends; packets for a peer without keys wait in its bounded queue while kx.c runs a handshake.
 * Inbound: receiver index -> keypair (O(1), peer.h) -> open in place -> session rotation ->
 * every record checked (header, source owned by the sender's certificate, destination ours) and
 * written to TUN. Nothing here allocates. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "daemon.h"
#include "iphdr.h"
#include "log.h"

static void on_tun(uv_poll_t *h, int status, int events)
{
	struct daemon *d = h->data;

	(void)events;
	if (status < 0) {
		/* libuv reports the interface's removal (POLLERR) this way */
		log_error("TUN interface %s: %s (removed?)", d->cfg.ifname, uv_strerror(status));
		d->tun_reading = false;
		daemon_fatal(d);
		return;
	}
	tunnel_on_readable(d);
}

void tunnel_start_reading(struct daemon *d)
{
	if (d->tun_reading || d->stopping)
		return;
	d->tun_reading = uv_poll_start(&d->tun_poll, UV_READABLE, on_tun) == 0;
}

void tunnel_stop_reading(struct daemon *d)
{
	if (!d->tun_reading)
		return;
	uv_poll_stop(&d->tun_poll);
	d->tun_reading = false;
}

void tunnel_invalidate_routes(struct daemon *d)
{
	d->generation++;
}

static uint32_t addr_hash(const struct netaddr *a)
{
	uint32_t h = 2166136261u ^ a->family;

	for (size_t i = 0; i < (a->family == 4 ? 4u : 16u); i++)
		h = (h ^ a->bytes[i]) * 16777619u;
	return h;
}

/* The peer whose certificate owns dst, through a direct-mapped cache in front of the table scan
 * (negative answers are cached as well, so unknown destinations cost one scan per change). */
static struct peer *route_lookup(struct daemon *d, const struct netaddr *dst)
{
	struct route_cache_entry *e = &d->route_cache[addr_hash(dst) % ROUTE_CACHE_SIZE];
	struct peer *p;

	if (e->generation == d->generation && netaddr_equal(&e->addr, dst))
		return e->peer == NO_SLOT ? NULL : &d->peers.peers[e->peer];
	p = peer_table_find_addr(&d->peers, dst);
	e->addr = *dst;
	e->generation = d->generation;
	e->peer = p ? peer_index(d, p) : NO_SLOT;
	return p;
}

static void enqueue(struct daemon *d, struct peer *p, const uint8_t *pkt, size_t len)
{
	struct peer_extra *ex = peer_extra_of(d, p);
	uint32_t i = d->pool_free;
	struct queued_packet *q;

	if (ex->queued >= d->cfg.queue_per_peer || (i == NO_SLOT && ex->queue_head != NO_SLOT)) {
		/* PROTOCOL.md 8.1: the oldest packet gives way (it is the stalest) */
		uint32_t old = ex->queue_head;

		ex->queue_head = d->pool[old].next;
		if (ex->queue_head == NO_SLOT)
			ex->queue_tail = NO_SLOT;
		d->pool[old].next = d->pool_free;
		d->pool_free = old;
		ex->queued--;
		daemon_drop(d, p, DROP_QUEUE_FULL);
		i = d->pool_free;
	}
	if (i == NO_SLOT) {
		daemon_drop(d, p, DROP_QUEUE_FULL); /* the shared pool is full of other peers' */
		return;
	}
	q = &d->pool[i];
	d->pool_free = q->next;
	q->next = NO_SLOT;
	q->len = (uint16_t)len;
	memcpy(q->data, pkt, len);
	if (ex->queue_tail == NO_SLOT)
		ex->queue_head = i;
	else
		d->pool[ex->queue_tail].next = i;
	ex->queue_tail = i;
	ex->queued++;
}

static void record_sent(struct daemon *d, struct peer *p, size_t packets, size_t bytes,
			uint64_t now)
{
	struct peer_extra *ex = peer_extra_of(d, p);

	ex->tx_msgs++;
	ex->tx_packets += packets;
	ex->tx_bytes += bytes;
	ex->keepalive_due_ms = 0;
	if (packets && !ex->first_unanswered_ms)
		ex->first_unanswered_ms = now;
}

/* Counts the packets of a body (records are already well formed: we wrote them). */
static void body_stats(const uint8_t *body, size_t used, size_t *packets, size_t *bytes)
{
	struct batch_reader r;
	const uint8_t *pkt;
	size_t len;

	*packets = 0;
	*bytes = 0;
	batch_reader_init(&r, body, used);
	while (batch_next(&r, &pkt, &len) == 1) {
		(*packets)++;
		*bytes += len;
	}
}

static void drop_n(struct daemon *d, struct peer *p, enum drop_reason why, size_t n)
{
	for (size_t i = 0; i < n; i++)
		daemon_drop(d, p, why);
}

/* A body never makes a message above what the broker takes (broker.h). */
static size_t body_cap(const struct daemon *d)
{
	size_t m = broker_max_payload(&d->broker);

	m = m > MQTTIP_TRANSPORT_OVERHEAD ? m - MQTTIP_TRANSPORT_OVERHEAD : 0;
	return m < MQTTIP_MAX_BODY ? m : MQTTIP_MAX_BODY;
}

static void flush_slot(struct daemon *d, uint32_t s, uint64_t now)
{
	struct batch_slot *b = &d->batches[s];
	struct peer *p = &d->peers.peers[b->peer];
	struct peer_extra *ex = peer_extra_of(d, p);
	struct keypair *kp = session_sending_keypair(&p->session, now, &d->params);
	size_t packets, bytes, msg_len;
	int rc;

	body_stats(b->buf + MQTTIP_TRANSPORT_HEADER_LEN, b->used, &packets, &bytes);
	if (!kp || keypair_seal(kp, now, &d->params, b->buf, sizeof(b->buf), b->used, &msg_len))
		drop_n(d, p, DROP_EXPIRED, packets);
	else if ((rc = broker_publish(&d->broker, ex->data_topic, b->buf, msg_len, 0, false)))
		drop_n(d, p, rc == BROKER_ERR_OVERSIZE ? DROP_OVERSIZE : DROP_BROKER_DOWN, packets);
	else
		record_sent(d, p, packets, bytes, now);
	b->peer = NO_SLOT;
	b->used = 0;
	ex->batch = NO_SLOT;
}

static void flush_all(struct daemon *d, uint64_t now)
{
	for (uint32_t s = 0; s < BATCH_SLOTS; s++) {
		if (d->batches[s].peer != NO_SLOT)
			flush_slot(d, s, now);
	}
}

static uint32_t take_slot(struct daemon *d, uint64_t now)
{
	uint32_t s;

	for (s = 0; s < BATCH_SLOTS; s++) {
		if (d->batches[s].peer == NO_SLOT)
			return s;
	}
	s = d->batch_next_evict;
	d->batch_next_evict = (s + 1) % BATCH_SLOTS;
	flush_slot(d, s, now);
	return s;
}

static void batch_add(struct daemon *d, struct peer *p, const uint8_t *pkt, size_t len,
		      uint64_t now)
{
	struct peer_extra *ex = peer_extra_of(d, p);
	struct batch_slot *b;
	size_t used;

	if (ex->batch == NO_SLOT) {
		ex->batch = take_slot(d, now);
		d->batches[ex->batch].peer = peer_index(d, p);
		d->batches[ex->batch].used = 0;
	}
	b = &d->batches[ex->batch];
	used = batch_append(b->buf + MQTTIP_TRANSPORT_HEADER_LEN, body_cap(d), b->used, pkt, len);
	if (!used && b->used) {
		uint32_t s = ex->batch;

		flush_slot(d, s, now);
		ex->batch = s;
		b->peer = peer_index(d, p);
		used = batch_append(b->buf + MQTTIP_TRANSPORT_HEADER_LEN, body_cap(d), 0, pkt, len);
	}
	if (!used) {
		/* one packet alone is above the broker's limit; the slot holds nothing */
		daemon_drop(d, p, DROP_OVERSIZE);
		b->peer = NO_SLOT;
		ex->batch = NO_SLOT;
		return;
	}
	b->used = used;
}

static void send_to_peer(struct daemon *d, struct peer *p, const uint8_t *pkt, size_t len,
			 uint64_t now)
{
	if (!session_sending_keypair(&p->session, now, &d->params)) {
		enqueue(d, p, pkt, len);
		kx_initiate(d, p, false);
		return;
	}
	if (session_wants_handshake(&p->session, now, &d->params))
		kx_initiate(d, p, false);
	batch_add(d, p, pkt, len, now);
}

/* PROTOCOL.md 2.1: limited broadcast and multicast; a directed (subnet) broadcast address is an
 * ordinary address, routed to the peer that owns it, if any. */
static bool is_broadcast(const struct netaddr *a)
{
	return netaddr_is_broadcast(a) || netaddr_is_multicast(a);
}

/* Broadcast and multicast go to the established peers (those with a sending keypair), at most
 * broadcast-peers of them; they never start a handshake. */
static unsigned send_broadcast(struct daemon *d, const uint8_t *pkt, size_t len, uint64_t now)
{
	unsigned sent = 0;

	for (size_t i = 0; i < d->peers.cap && sent < d->cfg.broadcast_peers; i++) {
		struct peer *p = &d->peers.peers[i];

		if (!p->used || !session_sending_keypair(&p->session, now, &d->params))
			continue;
		batch_add(d, p, pkt, len, now);
		sent++;
	}
	return sent;
}

static void route_packet(struct daemon *d, const uint8_t *pkt, size_t n, uint64_t now)
{
	struct iphdr_info ip;
	struct peer *p;
	bool ours;
	int rc = iphdr_parse(pkt, n, &ip);

	if (rc || ip.total_len > MQTTIP_MAX_IP_PACKET) {
		daemon_drop(d, NULL, DROP_BAD_PACKET);
		return;
	}
	if (log_debug_on()) {
		char s[NETADDR_STR_MAX], t[NETADDR_STR_MAX];

		netaddr_format(&ip.src, s, sizeof(s));
		netaddr_format(&ip.dst, t, sizeof(t));
		log_debug("tun: %u bytes %s -> %s proto %u", ip.total_len, s, t, ip.protocol);
	}
	/* A source that is not ours (link-local, say) would be refused by every secure peer. */
	ours = !d->secure || daemon_is_own(d, &ip.src) ||
	       cert_check_source(&d->id.cert, &ip.src) == CERT_OK;
	if (is_broadcast(&ip.dst)) {
		if (d->legacy)
			legacy_link_send(d, pkt, ip.total_len, &ip.dst);
		if (!ours && !d->legacy)
			daemon_drop(d, NULL, DROP_FOREIGN_SOURCE);
		else if (ours && !send_broadcast(d, pkt, ip.total_len, now) && !d->legacy)
			daemon_drop(d, NULL, DROP_NO_PEER); /* no established peer */
		return;
	}
	p = d->secure ? route_lookup(d, &ip.dst) : NULL;
	if (p) {
		if (ours)
			send_to_peer(d, p, pkt, ip.total_len, now);
		else
			daemon_drop(d, p, DROP_FOREIGN_SOURCE);
		return;
	}
	if (d->legacy)
		legacy_link_send(d, pkt, ip.total_len, &ip.dst);
	else
		daemon_drop(d, NULL, DROP_NO_PEER);
}

void tunnel_on_readable(struct daemon *d)
{
	uint64_t now = daemon_now_ms(d);

	for (int i = 0; i < TUN_READS_PER_WAKE; i++) {
		ssize_t n = read(d->tun_fd, d->pkt, sizeof(d->pkt));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				log_error("TUN read: %s (interface %s gone?)", strerror(errno),
					  d->cfg.ifname);
				daemon_fatal(d);
				return;
			}
			break;
		}
		route_packet(d, d->pkt, (size_t)n, now);
		if (broker_congested(&d->broker))
			break;
	}
	flush_all(d, now);
	broker_flush(&d->broker);
	if (broker_congested(&d->broker))
		tunnel_stop_reading(d);
}

void tunnel_send_keepalive(struct daemon *d, struct peer *p)
{
	uint64_t now = daemon_now_ms(d);
	struct keypair *kp = session_sending_keypair(&p->session, now, &d->params);
	uint8_t msg[MQTTIP_TRANSPORT_OVERHEAD];
	size_t len;

	if (!kp || keypair_seal(kp, now, &d->params, msg, sizeof(msg), 0, &len))
		return;
	if (broker_publish(&d->broker, peer_extra_of(d, p)->data_topic, msg, len, 0, false) == 0)
		record_sent(d, p, 0, 0, now);
	broker_flush(&d->broker);
}

void tunnel_flush_queue(struct daemon *d, struct peer *p, bool keepalive_if_empty)
{
	struct peer_extra *ex = peer_extra_of(d, p);
	uint64_t now = daemon_now_ms(d);
	bool any = ex->queued > 0;

	if (!session_sending_keypair(&p->session, now, &d->params))
		return;
	while (ex->queue_head != NO_SLOT) {
		uint32_t i = ex->queue_head;
		struct queued_packet *q = &d->pool[i];

		ex->queue_head = q->next;
		batch_add(d, p, q->data, q->len, now);
		q->next = d->pool_free;
		d->pool_free = i;
	}
	ex->queue_tail = NO_SLOT;
	ex->queued = 0;
	if (ex->batch != NO_SLOT)
		flush_slot(d, ex->batch, now);
	if (!any && keepalive_if_empty)
		tunnel_send_keepalive(d, p);
	broker_flush(&d->broker);
}

void tunnel_drop_queue(struct daemon *d, struct peer *p, enum drop_reason why)
{
	struct peer_extra *ex = peer_extra_of(d, p);

	while (ex->queue_head != NO_SLOT) {
		uint32_t i = ex->queue_head;

		ex->queue_head = d->pool[i].next;
		d->pool[i].next = d->pool_free;
		d->pool_free = i;
		daemon_drop(d, p, why);
	}
	ex->queue_tail = NO_SLOT;
	ex->queued = 0;
}

int tunnel_write(struct daemon *d, const uint8_t *pkt, size_t len)
{
	ssize_t n;

	do {
		n = write(d->tun_fd, pkt, len);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

static enum drop_reason open_error(int rc)
{
	switch (rc) {
	case KEYPAIR_ERR_AUTH:
		return DROP_AUTH;
	case KEYPAIR_ERR_REPLAY:
		return DROP_REPLAY;
	case KEYPAIR_ERR_EXPIRED:
	case KEYPAIR_ERR_EXHAUSTED:
	case KEYPAIR_ERR_INVALID:
		return DROP_EXPIRED;
	default:
		return DROP_MALFORMED;
	}
}

static bool inner_destination_ok(const struct daemon *d, const struct netaddr *dst)
{
	if (daemon_is_own(d, dst) || is_broadcast(dst))
		return true;
	return d->secure && cert_check_source(&d->id.cert, dst) == CERT_OK; /* our routes */
}

static void deliver_body(struct daemon *d, struct peer *p, const uint8_t *body, size_t len,
			 uint64_t now)
{
	struct peer_extra *ex = peer_extra_of(d, p);
	struct batch_reader r;
	const uint8_t *pkt;
	size_t plen;
	int rc;
	bool data = false;

	batch_reader_init(&r, body, len);
	while ((rc = batch_next(&r, &pkt, &plen)) == 1) {
		struct iphdr_info ip;

		data = true;
		if (iphdr_parse(pkt, plen, &ip)) {
			daemon_drop(d, p, DROP_BAD_PACKET);
			continue;
		}
		/* the sender's certificate must claim the source most specifically of all peers
		 * (PROTOCOL.md 8.5), or a gateway could speak for a node inside its route */
		if (route_lookup(d, &ip.src) != p) {
			daemon_drop(d, p, DROP_SOURCE);
			continue;
		}
		if (!inner_destination_ok(d, &ip.dst)) {
			daemon_drop(d, p, DROP_DESTINATION);
			continue;
		}
		if (tunnel_write(d, pkt, ip.total_len)) {
			daemon_drop(d, p, DROP_TUN_WRITE);
			continue;
		}
		ex->rx_packets++;
		ex->rx_bytes += ip.total_len;
	}
	if (rc < 0)
		daemon_drop(d, p, DROP_BODY);
	if (data && !ex->keepalive_due_ms)
		ex->keepalive_due_ms = now + MQTTIP_KEEPALIVE_TIMEOUT_MS;
}

void tunnel_on_data(struct daemon *d, const struct topic *t, const uint8_t *payload, size_t len)
{
	uint64_t now = daemon_now_ms(d);
	struct peer *p = NULL;
	struct keypair *kp;
	uint32_t index;
	uint8_t *body;
	size_t body_len;
	int rc;

	if (!d->secure || len > sizeof(d->rx) || len < MQTTIP_TRANSPORT_OVERHEAD) {
		daemon_drop(d, NULL, DROP_MALFORMED);
		return;
	}
	memcpy(d->rx, payload, len);
	if (transport_receiver_index(d->rx, len, &index) < 0) {
		daemon_drop(d, NULL, DROP_MALFORMED);
		return;
	}
	kp = peer_table_find_keypair(&d->peers, index, &p);
	if (!kp) {
		/* The sender holds keys we lost (we restarted): if we know it and cannot send to
		 * it, a handshake repairs that without waiting for our own traffic. */
		struct peer *q = route_lookup(d, &t->src);

		daemon_drop(d, q, DROP_UNKNOWN_INDEX);
		if (q && cert_check_owns(&q->cert, &t->src) == CERT_OK &&
		    !session_sending_keypair(&q->session, now, &d->params))
			kx_initiate(d, q, false);
		return;
	}
	if (cert_check_owns(&p->cert, &t->src) != CERT_OK) {
		daemon_drop(d, p, DROP_TOPIC);
		return;
	}
	rc = keypair_open(kp, now, &d->params, d->rx, len, &body, &body_len);
	if (rc) {
		daemon_drop(d, p, open_error(rc));
		return;
	}
	session_received_with(&p->session, kp);
	peer_extra_of(d, p)->rx_msgs++;
	peer_extra_of(d, p)->last_rx_ms = now;
	peer_extra_of(d, p)->first_unanswered_ms = 0;
	deliver_body(d, p, body, body_len, now);
	if (peer_extra_of(d, p)->queued)
		tunnel_flush_queue(d, p, false);
	else if (session_wants_handshake(&p->session, now, &d->params))
		kx_initiate(d, p, false); /* PROTOCOL.md 8.1: rekey on receive as well (paced) */
}
