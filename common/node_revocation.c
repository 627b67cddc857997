/* node_revocation.c - the VPN revocation list a node holds and enforces (PROTOCOL.md 4.8, 8.11).
 * A node keeps the newest list it has verified (the network CA signs it, so the broker cannot
 * forge one; versions only grow, so it cannot roll one back) and persists it through the host
 * (ops.persist) before acting on it. Lists come from the host at start (its saved state, its
 * bundle), from the retained topic <p>/revocation, and from peers: each side announces its list's
 * version in the handshake (caps.h), and the side with the newer list hands it over on the key
 * exchange topic right after. Adopting a list removes every peer it revokes (keys wiped, queue
 * dropped); node_directory_accept refuses revoked certificates from then on. The broker can
 * withhold the list; a node then learns it from the first peer that has it.
 * The retained topic is kept current by the nodes themselves: after connecting, a node that has
 * not seen a list at least as new as its own there within MQTTIP_REVOCATION_PUBLISH_DELAY_MS
 * publishes its own, retained. */
#include <stddef.h>
#include <string.h>

#include "node_internal.h"

_Static_assert(offsetof(struct revocation, bytes) ==
		   offsetof(struct revocation, kx_header) + MQTTIP_KX_HEADER_LEN,
	       "a revocation message goes out from kx_header on, the list right behind it");

bool node_revoked(const struct node *n, const struct cert *c)
{
	return n->revocation && revocation_is_revoked(n->revocation, c);
}

void node_caps_update(struct node *n)
{
	struct caps c = caps_default();

	c.max_message = (uint32_t)n->set.max_receive;
	c.features = n->offload ? MQTTIP_FEATURE_OFFLOAD : 0;
	c.revocation_version = n->revocation ? n->revocation->version : 0;
	n->caps_len = caps_encode(&c, n->caps);
	n->local.ext = n->caps;
	n->local.ext_len = n->caps_len;
}

/* Removes every peer the list now revokes. */
static void enforce(struct node *n)
{
	for (size_t i = 0; i < n->peers.cap; i++) {
		struct peer *p = &n->peers.peers[i];

		if (!p->used || (!revocation_serial_listed(n->revocation, p->cert.serial) &&
				 !revocation_key_listed(n->revocation, p->cert.x25519_public)))
			continue;
		node_log(n, NODE_LOG_WARN, "peer %s (serial %llu) removed: revoked", p->cert.name,
			 (unsigned long long)p->cert.serial);
		node_drop(n, NULL, DROP_REVOKED);
		node_directory_remove(n, p, false);
	}
}

/* Verifies list and adopts it when newer; returns revocation_adopt's result. */
static int take(struct node *n, const uint8_t *list, size_t len, const char *from)
{
	struct revocation *r = n->revocation;
	int rc = revocation_adopt(r, list, len, n->id.network_id);

	if (rc != REVOCATION_NEWER)
		return rc;
	if (n->ops.persist && n->ops.persist(n->ops.ctx, r->bytes, r->len))
		node_log(n, NODE_LOG_WARN,
			 "revocation list %llu could not be saved: after a restart the node "
			 "would accept an older one",
			 (unsigned long long)r->version);
	node_log(n, NODE_LOG_INFO, "revocation list %llu adopted (from %s): %u serials, %u keys",
		 (unsigned long long)r->version, from, r->n_serials, r->n_keys);
	node_caps_update(n);
	enforce(n);
	return rc;
}

int node_revocation_offer(struct node *n, const uint8_t *list, size_t len, uint64_t now_ms)
{
	int rc;

	if (!n->id.secure || !n->revocation)
		return REVOCATION_ERR_INVALID;
	rc = take(n, list, len, "the host");
	/* a newer list than the directory's goes there at the next chance */
	if (rc == REVOCATION_NEWER && n->connected && !n->revocation_publish_ms)
		n->revocation_publish_ms = now_ms + MQTTIP_REVOCATION_PUBLISH_DELAY_MS;
	return rc;
}

void node_revocation_input(struct node *n, const uint8_t *list, size_t len, struct peer *from,
			   bool from_topic, uint64_t now_ms)
{
	static const struct netaddr directory; /* the topic's own rate-limit bucket */
	int rc;

	if (!n->revocation)
		return;
	/* an Ed25519 verification each: bounded like handshakes, per sender */
	if (!ratelimit_allow(&n->ratelimit, from_topic || !from ? &directory : &from->addr,
			     now_ms)) {
		node_drop(n, from, DROP_RATELIMIT);
		return;
	}
	rc = take(n, list, len, from_topic ? "the directory" : from ? from->cert.name : "a peer");
	if (rc == REVOCATION_NEWER || rc == REVOCATION_SAME) {
		if (from_topic)
			n->revocation_topic_version = n->revocation->version;
		return;
	}
	node_drop(n, from, DROP_REVOCATION);
	node_log(n, NODE_LOG_INFO, "revocation list from %s refused: %s",
		 from_topic ? "the directory"
		 : from	    ? from->cert.name
			    : "a peer",
		 revocation_strerror(rc));
	/* an older or unreadable list sits on the topic (perhaps over ours): ours replaces it */
	if (from_topic && rc != REVOCATION_ERR_CONFLICT && n->revocation->len) {
		n->revocation_topic_version = 0;
		if (!n->revocation_publish_ms)
			n->revocation_publish_ms = now_ms;
	}
}

void node_revocation_connected(struct node *n, uint64_t now_ms)
{
	char topic[TOPIC_MAX];

	if (!n->revocation || !topic_revocation(topic, sizeof(topic), node_prefix(n)))
		return;
	node_subscribe(n, topic, 1);
	/* the broker sends the retained list right after the subscription; ours goes there if
	 * nothing as new came by then */
	n->revocation_topic_version = 0;
	n->revocation_publish_ms = now_ms + MQTTIP_REVOCATION_PUBLISH_DELAY_MS;
}

void node_revocation_tick(struct node *n, uint64_t now_ms)
{
	struct revocation *r = n->revocation;
	char topic[TOPIC_MAX];

	if (!r || !n->revocation_publish_ms || now_ms < n->revocation_publish_ms || !n->connected)
		return;
	n->revocation_publish_ms = 0;
	if (r->len == 0 || r->version <= n->revocation_topic_version ||
	    !topic_revocation(topic, sizeof(topic), node_prefix(n)))
		return;
	if (node_publish(n, topic, r->bytes, r->len, 1, true) == 0) {
		n->revocation_topic_version = r->version;
		node_log(n, NODE_LOG_DEBUG, "revocation list %llu published",
			 (unsigned long long)r->version);
	}
}

void node_revocation_handshake(struct node *n, struct peer *p, uint64_t now_ms)
{
	struct revocation *r = n->revocation;

	(void)now_ms;
	if (!r || r->len == 0 || p->caps.revocation_version >= r->version)
		return;
	node_kx_header(r->kx_header, MQTTIP_MSG_REVOCATION);
	if (node_kx_send(n, &p->addr, r->kx_header, MQTTIP_KX_HEADER_LEN + r->len) == 0)
		node_log(n, NODE_LOG_DEBUG, "revocation list %llu sent to %s (it has %llu)",
			 (unsigned long long)r->version, p->cert.name,
			 (unsigned long long)p->caps.revocation_version);
}
