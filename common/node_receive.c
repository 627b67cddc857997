/* node_receive.c - transport messages in (PROTOCOL.md 7.3, 7.4.1, 8.5): receiver index -> keypair
 * in O(1) (peer.h) -> the topic's source must be that peer's -> opened in place (replay window
 * updated only after the tag verified) -> session rotation -> every record of the body checked
 * (header, source claimed most specifically by the sender, destination ours) and handed to the
 * host from where it lies in the message. With offloads, an offload record's metadata is checked
 * against its packet's headers (gso.h) and the super-packet, whose one header speaks for all its
 * segments, goes to the host in one piece; consecutive plain TCP segments of one flow are
 * coalesced into one (the kernel then handles one packet, not a dozen). A message for an index we
 * do not know, from a peer we cannot send to, makes us initiate: that is how a node that
 * restarted, and only receives, gets a session back at once. */
#include "batch.h"
#include "gso.h"
#include "iphdr.h"
#include "node_internal.h"

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

static bool destination_ok(const struct node *n, const struct netaddr *dst)
{
	if (node_is_own(n, dst) || netaddr_is_broadcast(dst) || netaddr_is_multicast(dst))
		return true;
	return n->id.secure && cert_check_source(&n->id.cert, dst) == CERT_OK; /* our routes */
}

/* 1st, 2nd, 4th, 8th...: enough to diagnose a misconfiguration, bounded under a flood. */
static void log_refused(struct node *n, struct peer *sender, const struct iphdr_info *ip,
			enum drop_reason why)
{
	uint64_t count = sender ? sender->stats.drops[why] : n->drops[why];
	char s[NETADDR_STR_MAX], d[NETADDR_STR_MAX];

	if ((count & (count - 1)) != 0)
		return;
	node_log(n, NODE_LOG_INFO, "dropped packet %s -> %s from %s: %s (%llu so far)",
		 node_addr_text(&ip->src, s), node_addr_text(&ip->dst, d),
		 sender ? sender->cert.name : "legacy",
		 why == DROP_SOURCE ? "source not in its certificate" : "not for us",
		 (unsigned long long)count);
}

/* The delivery checks of one packet (its header, and the receiver's rules for source and
 * destination); false after counting the drop. */
static bool receive_check(struct node *n, struct peer *sender, const uint8_t *pkt, size_t len,
			  struct iphdr_info *ip)
{
	if (iphdr_parse(pkt, len, ip) != IPHDR_OK) {
		node_drop(n, sender, DROP_BAD_PACKET);
		return false;
	}
	if (!n->set.accept_multicast &&
	    (netaddr_is_multicast(&ip->dst) || netaddr_is_broadcast(&ip->dst))) {
		node_drop(n, sender, DROP_MULTICAST);
		return false;
	}
	/* the sender's certificate must claim the source most specifically of all peers
	 * (PROTOCOL.md 8.9), or a gateway could speak for a node inside its route */
	if (sender && node_route(n, &ip->src) != sender) {
		node_drop(n, sender, DROP_SOURCE);
		log_refused(n, sender, ip, DROP_SOURCE);
		return false;
	}
	if (!destination_ok(n, &ip->dst)) {
		node_drop(n, sender, DROP_DESTINATION);
		log_refused(n, sender, ip, DROP_DESTINATION);
		return false;
	}
	return true;
}

static void delivered(struct peer *sender, unsigned packets, size_t bytes)
{
	if (sender) {
		sender->stats.rx_packets += packets;
		sender->stats.rx_bytes += bytes;
	}
}

/* Hands a checked packet (chunks) to the host; counts it. */
static bool deliver(struct node *n, struct peer *sender, const struct gso_info *g,
		    const struct gso_chunk *c, size_t n_chunks, size_t len)
{
	int rc = n->offload ? n->offload->deliver(n->ops.ctx, g, c, n_chunks)
			    : n->ops.deliver(n->ops.ctx, c[0].p, len);

	if (rc) {
		node_drop_n(n, sender, DROP_DELIVER, g->segments);
		return false;
	}
	delivered(sender, g->segments, len);
	return true;
}

static bool deliver_plain(struct node *n, struct peer *sender, const uint8_t *pkt, size_t len)
{
	struct gso_info g = {.segments = 1};
	struct gso_chunk c = {pkt, len};

	return deliver(n, sender, &g, &c, 1, len);
}

bool node_receive_deliver(struct node *n, struct peer *sender, const uint8_t *pkt, size_t len)
{
	struct iphdr_info ip;

	return receive_check(n, sender, pkt, len, &ip) &&
	       deliver_plain(n, sender, pkt, ip.total_len);
}

/* An offload record: its metadata must hold for its packet, whose one header is checked for all
 * the segments it stands for. */
static void receive_offload(struct node *n, struct peer *p, const struct batch_record *rec)
{
	struct gso_info g = {.type = rec->gso_type, .flags = rec->flags, .size = rec->segment_size};
	struct gso_chunk c = {rec->pkt, rec->len};
	struct iphdr_info ip;

	if (gso_check(rec->pkt, rec->len, &g)) {
		node_drop(n, p, DROP_BAD_PACKET);
		return;
	}
	if (!receive_check(n, p, rec->pkt, rec->len, &ip))
		return;
	if (deliver(n, p, &g, &c, 1, rec->len))
		n->offload_stats.rx_super += g.segments > 1;
}

/* Delivers the run being coalesced. */
static void merge_flush(struct node *n, struct peer *p, struct gso_merge *m)
{
	struct gso_info g;
	size_t chunks = gso_merge_finish(m, &g);

	if (deliver(n, p, &g, m->chunks, chunks, m->total))
		n->offload_stats.rx_merged += chunks > 1;
	m->n = 0;
}

/* A plain record with offloads: checked, then coalesced with its neighbours when it continues
 * their TCP flow (the body is the node's to rewrite: the first segment's headers change). */
static void receive_plain(struct node *n, struct peer *p, uint8_t *pkt, size_t len)
{
	struct gso_merge *m = &n->offload->merge;
	struct iphdr_info ip;

	if (!receive_check(n, p, pkt, len, &ip))
		return;
	len = ip.total_len;
	if (m->n && gso_merge_add(m, pkt, len))
		return;
	if (m->n)
		merge_flush(n, p, m);
	if (!gso_merge_start(m, pkt, len))
		deliver_plain(n, p, pkt, len);
}

static void unknown_index(struct node *n, const struct topic *t, uint64_t now_ms)
{
	struct peer *q = node_owner(n, &t->src);

	node_drop(n, q, DROP_UNKNOWN_INDEX);
	if (q && !node_peer_has_session(n, q, now_ms))
		node_handshake_initiate(n, q, false, now_ms);
	else if (!q)
		node_directory_want(n, &t->src, now_ms);
}

void node_receive_transport(struct node *n, const struct topic *t, uint8_t *msg, size_t len,
			    uint64_t now_ms)
{
	struct batch_reader r;
	struct batch_record rec;
	struct keypair *kp;
	struct peer *p = NULL;
	uint8_t *body;
	size_t body_len;
	uint32_t index;
	bool data = false;
	int rc;

	if (len > MQTTIP_MAX_TRANSPORT_MSG || transport_receiver_index(msg, len, &index) < 0) {
		node_drop(n, NULL, DROP_MALFORMED);
		return;
	}
	kp = peer_table_find_keypair(&n->peers, index, &p);
	if (!kp) {
		unknown_index(n, t, now_ms);
		return;
	}
	if (cert_held_owns(&p->cert, &t->src) != CERT_OK) {
		node_drop(n, p, DROP_TOPIC);
		return;
	}
	rc = keypair_open(kp, now_ms, &n->set.params, msg, len, &body, &body_len);
	if (rc) {
		node_drop(n, p, open_error(rc));
		return;
	}
	session_received_with(&p->session, kp);
	p->stats.rx_msgs++;
	batch_reader_init(&r, body, body_len);
	if (n->offload)
		n->offload->merge.n = 0;
	while ((rc = batch_next_record(&r, n->offload != NULL, &rec)) == 1) {
		data = true;
		if (!n->offload) {
			node_receive_deliver(n, p, rec.pkt, rec.len);
			continue;
		}
		if (rec.offload) {
			if (n->offload->merge.n)
				merge_flush(n, p, &n->offload->merge); /* in order */
			receive_offload(n, p, &rec);
			continue;
		}
		/* rec.pkt points into body, which is writable */
		receive_plain(n, p, body + (rec.pkt - body), rec.len);
	}
	if (n->offload && n->offload->merge.n)
		merge_flush(n, p, &n->offload->merge);
	if (rc < 0)
		node_drop(n, p, DROP_BODY);
	node_timers_message_received(n, p, data, now_ms);
	if (p->queue.count)
		node_send_queue_flush(n, p, false, now_ms);
	else if (session_wants_handshake(&p->session, now_ms, &n->set.params))
		node_handshake_initiate(n, p, false, now_ms); /* rekey on receive as well (paced) */
}
