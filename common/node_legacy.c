/* node_legacy.c - MQTT_VPN interoperability (PROTOCOL.md 8.7, section 9): packets for
 * destinations that no certificate owns (and broadcasts) are sealed with legacy.h and published on
 * <p>/<dst>; messages on <p>/<own> are opened, refused when their nonce is in the replay cache,
 * and handed to the host when the inner destination is the topic's address (as MQTT_VPN sends
 * them) or the limited broadcast. Legacy mode tunnels IPv4 only. */
#include <string.h>

#include "iphdr.h"
#include "node_internal.h"

void node_legacy_init(struct node *n, const char *password, size_t len)
{
	legacy_key_from_password(password, len, n->legacy->key);
	legacy_nonce_cache_init_random(&n->legacy->nonces);
}

void node_legacy_connected(struct node *n)
{
	char topic[TOPIC_MAX];

	for (size_t i = 0; i < n->id.n_own; i++) {
		if (n->id.own[i].family == 4 &&
		    topic_legacy(topic, sizeof(topic), node_prefix(n), &n->id.own[i]))
			n->ops.subscribe(n->ops.ctx, topic, 0);
	}
}

void node_legacy_send(struct node *n, const uint8_t *pkt, size_t len, const struct netaddr *dst)
{
	struct node_legacy *l = n->legacy;
	char topic[TOPIC_MAX];
	size_t out_len;

	if (!topic_legacy(topic, sizeof(topic), node_prefix(n), dst)) {
		node_drop(n, NULL, DROP_NO_PEER); /* IPv6: MQTT_VPN has no topic for it */
		return;
	}
	if (legacy_seal_random(l->key, pkt, len, l->buf, sizeof(l->buf), &out_len) != LEGACY_OK) {
		node_drop(n, NULL, DROP_BAD_PACKET);
		return;
	}
	if (node_publish(n, topic, l->buf, out_len, 0, false)) {
		node_drop(n, NULL, DROP_BROKER_DOWN);
		return;
	}
	l->tx_packets++;
	l->tx_bytes += len;
}

void node_legacy_input(struct node *n, const struct topic *t, const uint8_t *payload, size_t len)
{
	struct node_legacy *l = n->legacy;
	struct iphdr_info ip;
	size_t plen;
	int rc;

	if (!node_is_own(n, &t->dst) && !netaddr_is_broadcast(&t->dst))
		return;
	rc = legacy_open(l->key, payload, len, l->buf, sizeof(l->buf), &plen);
	if (rc != LEGACY_OK) {
		node_drop(n, NULL, DROP_LEGACY_AUTH);
		node_log(n, NODE_LOG_DEBUG, "legacy: message refused: %s", legacy_strerror(rc));
		return;
	}
	if (!legacy_nonce_cache_check_and_add(&l->nonces, payload)) {
		node_drop(n, NULL, DROP_LEGACY_REPLAY);
		return;
	}
	if (iphdr_parse(l->buf, plen, &ip) != IPHDR_OK) {
		node_drop(n, NULL, DROP_BAD_PACKET);
		return;
	}
	if (!netaddr_equal(&ip.dst, &t->dst) && !netaddr_is_broadcast(&ip.dst)) {
		node_drop(n, NULL, DROP_DESTINATION);
		return;
	}
	if (n->ops.deliver(n->ops.ctx, l->buf, ip.total_len)) {
		node_drop(n, NULL, DROP_DELIVER);
		return;
	}
	l->rx_packets++;
	l->rx_bytes += ip.total_len;
}
