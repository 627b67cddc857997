/* node_directory.c - the peers' VPN certificates (PROTOCOL.md 8.2). Every node publishes its
 * certificate retained on <p>/cert/<addr> for each of its addresses at every connection (a broker
 * restarted without persistence has lost it). A node with room for every peer subscribes
 * <p>/cert/+ once (NODE_DIRECTORY_ALL); a device subscribes <p>/cert/<addr> only while a packet
 * waits for addr (NODE_DIRECTORY_ON_DEMAND). Retained messages are a fast path, not a need: a
 * lookup also asks the address's owner directly, with a certificate request on its key-exchange
 * inbox, which it answers with its certificate (6.16). That works on brokers that keep no
 * retained messages, or deliver them only to exact-topic subscribers (RabbitMQ); the answer is
 * CA-signed, so the broker cannot forge it, and the serial rule stops a replayed old one.
 *
 * One acceptance rule for every certificate a node meets, in the directory or in a handshake
 * (node_directory_accept): verified against the network CA now and owning the address it came
 * with (the caller's part), then
 *   - a certificate the VPN revocation list revokes is refused (counted revoked);
 *   - one peer per X25519 key; a certificate for a known key replaces the held one only with a
 *     higher serial (renewal); a lower serial, or the same serial with other bytes, is refused
 *     and counted (cert_serial), so the untrusted broker cannot roll a node back to an older
 *     certificate from its retained store;
 *   - each address has one exact owner: a certificate with a new key for an address that another
 *     peer owns replaces that peer when its serial is higher (key rotation: the old keys are
 *     wiped, the packets waiting for it go to the new owner) and is refused otherwise;
 *   - a new peer when the table is full: refused (hosts) or the least recently used peer without
 *     a handshake in flight makes room (devices). */
#include <string.h>

#include <sodium.h>

#include "node_internal.h"

void node_directory_remove(struct node *n, struct peer *p, bool requeue)
{
	node_send_forget(n, p, requeue);
	peer_table_remove(&n->peers, p);
	node_routes_changed(n);
}

static struct peer *evict_lru(struct node *n)
{
	struct peer *victim = NULL;

	for (size_t i = 0; i < n->peers.cap; i++) {
		struct peer *q = &n->peers.peers[i];

		if (!q->used || peer_handshake(&n->peers, q))
			continue;
		if (!victim || q->last_used_ms < victim->last_used_ms)
			victim = q;
	}
	if (victim) {
		node_log(n, NODE_LOG_INFO, "peer table full: forgetting %s", victim->cert.name);
		node_directory_remove(n, victim, false);
	}
	return victim;
}

/* The serial rule (PROTOCOL.md 4.9): c is refused against the certificate held. */
static bool older(const struct cert *c, const struct cert_held *held)
{
	return cert_held_compare(held, c) < 0;
}

/* Rule 2 of PROTOCOL.md 8.2: another node's certificate held for an address gives way to c when c
 * has the higher serial (or the same serial with other bytes: the held one is then no better). */
static bool gives_way(const struct cert_held *held, const struct cert *c)
{
	int rc = cert_held_compare(held, c);

	return rc == CERT_NEWER || rc == CERT_ERR_CONFLICT;
}

static struct peer *add(struct node *n, const struct cert *c, uint64_t now_ms)
{
	char a[NETADDR_STR_MAX];
	struct netaddr addr;
	struct peer *p;

	if (!node_pair_addresses(n, c, &addr, NULL)) {
		node_drop(n, NULL, DROP_CERT);
		node_log(n, NODE_LOG_INFO, "certificate of %s refused: no address family in common",
			 c->name);
		return NULL;
	}
	p = peer_table_add(&n->peers, c, &addr);
	if (!p && n->set.evict_lru && evict_lru(n))
		p = peer_table_add(&n->peers, c, &addr);
	if (!p) {
		node_drop(n, NULL, DROP_TABLE_FULL);
		node_log(n, NODE_LOG_WARN, "peer table full (%zu peers): %s refused", n->peers.cap,
			 c->name);
		return NULL;
	}
	p->queue.head = p->queue.tail = NODE_NONE;
	p->batch = NODE_NONE;
	p->last_used_ms = now_ms;
	node_routes_changed(n);
	node_log(n, NODE_LOG_INFO, "peer %s (%s) added", c->name, node_addr_text(&addr, a));
	node_send_adopt_unrouted(n, p, now_ms);
	return p;
}

struct peer *node_directory_accept(struct node *n, const struct cert *c, uint64_t now_ms)
{
	struct peer *p = peer_table_find_static(&n->peers, c->x25519_public);
	char a[NETADDR_STR_MAX];

	if (node_revoked(n, c)) {
		node_drop(n, p, DROP_REVOKED);
		node_log(n, NODE_LOG_INFO,
			 "certificate of %s (serial %llu) refused: revoked (revocation list %llu)",
			 c->name, (unsigned long long)c->serial,
			 (unsigned long long)n->revocation->version);
		return NULL;
	}
	if (p && older(c, &p->cert)) {
		node_drop(n, p, DROP_CERT_SERIAL);
		node_log(n, NODE_LOG_INFO,
			 "certificate of %s refused: serial %llu is not newer than %llu, the one "
			 "held",
			 c->name, (unsigned long long)c->serial,
			 (unsigned long long)p->cert.serial);
		return NULL;
	}
	for (size_t i = 0; i < c->n_addrs; i++) {
		struct peer *h = node_owner(n, &c->addrs[i].addr);

		if (h && h != p && !gives_way(&h->cert, c)) {
			node_drop(n, h, DROP_CERT_SERIAL);
			node_log(
			    n, NODE_LOG_INFO,
			    "certificate of %s refused: %s belongs to %s, whose certificate is "
			    "newer",
			    c->name, node_addr_text(&c->addrs[i].addr, a), h->cert.name);
			return NULL;
		}
	}
	for (size_t i = 0; i < c->n_addrs; i++) {
		struct peer *h = node_owner(n, &c->addrs[i].addr);

		if (h && h != p) {
			node_log(n, NODE_LOG_INFO, "%s now belongs to a new key (%s replaces %s)",
				 node_addr_text(&c->addrs[i].addr, a), c->name, h->cert.name);
			node_directory_remove(n, h, true);
		}
	}
	if (!p)
		return add(n, c, now_ms);
	if (c->serial != p->cert.serial) {
		cert_hold(&p->cert, c);
		node_pair_addresses(n, c, &p->addr, NULL);
		node_routes_changed(n);
		node_log(n, NODE_LOG_INFO, "certificate of %s updated (serial %llu)", c->name,
			 (unsigned long long)c->serial);
	}
	return p;
}

static struct node_wanted *wanted_of(struct node *n, const struct netaddr *addr)
{
	for (size_t i = 0; i < n->n_wanted; i++) {
		if (n->wanted[i].used && netaddr_equal(&n->wanted[i].addr, addr))
			return &n->wanted[i];
	}
	return NULL;
}

static void unwant(struct node *n, struct node_wanted *w)
{
	char topic[TOPIC_MAX];

	w->used = false;
	if (n->connected && n->set.directory == NODE_DIRECTORY_ON_DEMAND &&
	    topic_cert(topic, sizeof(topic), node_prefix(n), &w->addr))
		n->ops.unsubscribe(n->ops.ctx, topic);
}

/* A certificate that came for owner (a directory entry, or an answer to our request). */
static void learn(struct node *n, const struct netaddr *owner, const uint8_t *bytes, size_t len,
		  const char *how, uint64_t now_ms)
{
	struct node_wanted *w = wanted_of(n, owner);
	char a[NETADDR_STR_MAX];
	struct peer *p;
	struct cert c;
	uint64_t now_unix;
	int rc;

	if (!node_wall_clock(n, &now_unix, NULL)) {
		node_log(n, NODE_LOG_WARN, "cannot check the certificate of %s: clock not set",
			 node_addr_text(owner, a));
		return;
	}
	rc = cert_verify(bytes, len, n->id.network_id, now_unix, &c);
	if (rc == CERT_OK)
		rc = cert_check_owns(&c, owner);
	if (rc) {
		node_drop(n, NULL, DROP_CERT);
		node_log(n, NODE_LOG_INFO, "%s: certificate for %s refused: %s", how,
			 node_addr_text(owner, a), cert_strerror(rc));
		return;
	}
	if (w)
		unwant(n, w);
	if (sodium_memcmp(c.x25519_public, n->id.static_public, MQTTIP_KEY_LEN) == 0)
		return; /* our own */
	p = node_directory_accept(n, &c, now_ms);
	/* a lookup was for a packet (or a peer that stopped answering): go on with it */
	if (p && (w || p->queue.count) && !node_peer_has_session(n, p, now_ms))
		node_handshake_initiate(n, p, false, now_ms);
}

void node_directory_input(struct node *n, const struct topic *t, const uint8_t *payload, size_t len,
			  uint64_t now_ms)
{
	if (len == 0)
		return; /* a deleted entry */
	if (n->set.directory == NODE_DIRECTORY_ON_DEMAND && !wanted_of(n, &t->dst))
		return; /* not looked up (an old subscription's late message) */
	learn(n, &t->dst, payload, len, "directory", now_ms);
}

void node_directory_kx_input(struct node *n, const struct topic *t, const uint8_t *msg, size_t len,
			     uint64_t now_ms)
{
	if (node_kx_header_ok(msg, len, MQTTIP_MSG_CERTIFICATE)) {
		learn(n, &t->src, msg + MQTTIP_KX_HEADER_LEN, len - MQTTIP_KX_HEADER_LEN,
		      "certificate answer", now_ms);
		return;
	}
	if (!node_kx_header_ok(msg, len, MQTTIP_MSG_CERT_REQUEST) || len != MQTTIP_KX_HEADER_LEN) {
		node_drop(n, NULL, DROP_MALFORMED);
		return;
	}
	/* An answer costs a publish of our certificate: the handshake buckets bound what a flood
	 * of requests (forged by the broker, say) can make us send. */
	if (!ratelimit_allow(&n->ratelimit, &t->src, now_ms) ||
	    node_kx_publish(n, &t->src, MQTTIP_MSG_CERTIFICATE, n->id.cert_bytes, n->id.cert_len,
			    now_ms))
		node_drop(n, node_owner(n, &t->src), DROP_CERT_REQUEST);
}

void node_directory_connected(struct node *n)
{
	char topic[TOPIC_MAX];

	for (size_t i = 0; i < n->id.cert.n_addrs; i++) {
		if (topic_cert(topic, sizeof(topic), node_prefix(n), &n->id.cert.addrs[i].addr) &&
		    node_publish(n, topic, n->id.cert_bytes, n->id.cert_len, 1, true))
			node_log(n, NODE_LOG_WARN,
				 "directory: cannot publish our certificate on %s", topic);
	}
	if (n->set.directory == NODE_DIRECTORY_ALL &&
	    topic_cert_filter(topic, sizeof(topic), node_prefix(n)))
		node_subscribe(n, topic, 1);
	for (size_t i = 0; i < n->n_wanted; i++) {
		if (!n->wanted[i].used)
			continue;
		n->wanted[i].asked_ms = 0; /* asked again at the next tick */
		if (n->set.directory == NODE_DIRECTORY_ON_DEMAND &&
		    topic_cert(topic, sizeof(topic), node_prefix(n), &n->wanted[i].addr))
			node_subscribe(n, topic, 1);
	}
}

/* Asks addr's owner for its certificate (6.16), at most every MQTTIP_REKEY_TIMEOUT_MS. */
static void ask(struct node *n, struct node_wanted *w, uint64_t now_ms)
{
	if (!n->connected || (w->asked_ms && now_ms - w->asked_ms < MQTTIP_REKEY_TIMEOUT_MS))
		return;
	w->asked_ms = now_ms;
	node_kx_publish(n, &w->addr, MQTTIP_MSG_CERT_REQUEST, NULL, 0, now_ms);
}

void node_directory_want(struct node *n, const struct netaddr *addr, uint64_t now_ms)
{
	struct node_wanted *w = NULL;
	char topic[TOPIC_MAX];
	struct netaddr self;

	/* an address we have no address family in common with cannot be asked */
	if (wanted_of(n, addr) || !topic_cert(topic, sizeof(topic), node_prefix(n), addr) ||
	    !node_self_for(n, addr, &self))
		return;
	for (size_t i = 0; i < n->n_wanted && !w; i++) {
		if (!n->wanted[i].used)
			w = &n->wanted[i];
	}
	if (!w)
		return; /* lookups in flight are bounded: the packet waits out its time */
	w->used = true;
	w->addr = *addr;
	w->since_ms = now_ms;
	w->asked_ms = 0;
	if (n->connected && n->set.directory == NODE_DIRECTORY_ON_DEMAND)
		node_subscribe(n, topic, 1);
	ask(n, w, now_ms);
}

/* A peer whose certificate has expired can no longer handshake (its peers refuse it, and so
 * would we): it leaves the table, keys and all, rather than linger in status as a peer. */
static void expire_peers(struct node *n)
{
	uint64_t now_unix;

	if (!node_wall_clock(n, &now_unix, NULL))
		return;
	for (size_t i = 0; i < n->peers.cap; i++) {
		struct peer *p = &n->peers.peers[i];

		if (!p->used || now_unix < p->cert.not_after)
			continue;
		node_log(n, NODE_LOG_INFO, "peer %s removed: its certificate expired",
			 p->cert.name);
		node_directory_remove(n, p, false);
	}
}

void node_directory_tick(struct node *n, uint64_t now_ms)
{
	char a[NETADDR_STR_MAX];

	expire_peers(n);
	for (size_t i = 0; i < n->n_wanted; i++) {
		struct node_wanted *w = &n->wanted[i];

		if (!w->used)
			continue;
		if (now_ms - w->since_ms < MQTTIP_REKEY_ATTEMPT_TIME_MS) {
			ask(n, w, now_ms);
			continue;
		}
		node_log(n, NODE_LOG_INFO, "no certificate of %s in the directory",
			 node_addr_text(&w->addr, a));
		unwant(n, w);
	}
}
