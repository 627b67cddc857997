/* node_legacy.c - MQTT_VPN interoperability (PROTOCOL.md 8.7, section 9). Outbound: packets for
 * destinations that no certificate owns are sealed with legacy.h and published on <p>/<dst>;
 * broadcast and multicast on <p>/255.255.255.255, the topic every MQTT_VPN node subscribes besides
 * its own (it has none for multicast groups). Inbound: <p>/<own>, the broadcast topic, and
 * <p>/<group> for each IPv4 multicast group the interface has joined (MQTT_VPN publishes a
 * multicast packet on its group's topic); each message is opened, checked against the replay cache
 * keyed by its inner source, and handed to the host when its inner destination fits the topic. A
 * legacy packet whose source a VPN certificate owns is refused: that node speaks securely, so this
 * is a forgery by a holder of the shared password (or a copy of what came securely). Legacy mode
 * tunnels IPv4 only. */
#include <string.h>

#include "iphdr.h"
#include "node_internal.h"

static const struct netaddr broadcast4 = {.family = 4, .bytes = {255, 255, 255, 255}};

void node_legacy_init(struct node *n, const char *password, size_t len)
{
	legacy_key_from_password(password, len, n->legacy->key);
	legacy_nonce_cache_init_random(&n->legacy->nonces);
}

static void follow(struct node *n, const struct netaddr *a, bool on)
{
	char topic[TOPIC_MAX];

	if (!topic_legacy(topic, sizeof(topic), node_prefix(n), a))
		return;
	if (on)
		node_subscribe(n, topic, 0);
	else
		n->ops.unsubscribe(n->ops.ctx, topic);
}

void node_legacy_connected(struct node *n)
{
	for (size_t i = 0; i < n->id.n_own; i++) {
		if (n->id.own[i].family == 4)
			follow(n, &n->id.own[i], true);
	}
	if (!n->set.accept_multicast)
		return; /* a device: broadcasts would wake it for nothing */
	follow(n, &broadcast4, true);
	for (size_t i = 0; i < n->legacy->n_groups; i++)
		follow(n, &n->legacy->groups[i], true);
}

static bool in_set(const struct netaddr *set, size_t count, const struct netaddr *a)
{
	for (size_t i = 0; i < count; i++) {
		if (netaddr_equal(&set[i], a))
			return true;
	}
	return false;
}

void node_legacy_set_groups(struct node *n, const struct netaddr *groups, size_t count)
{
	struct node_legacy *l = n->legacy;
	struct netaddr now[NODE_LEGACY_GROUPS];
	size_t k = 0;

	if (!l || !n->set.accept_multicast)
		return;
	for (size_t i = 0; i < count && k < NODE_LEGACY_GROUPS; i++) {
		if (groups[i].family == 4 && netaddr_is_multicast(&groups[i]) &&
		    !in_set(now, k, &groups[i]))
			now[k++] = groups[i];
	}
	for (size_t i = 0; n->connected && i < l->n_groups; i++) {
		if (!in_set(now, k, &l->groups[i]))
			follow(n, &l->groups[i], false);
	}
	for (size_t i = 0; n->connected && i < k; i++) {
		if (!in_set(l->groups, l->n_groups, &now[i]))
			follow(n, &now[i], true);
	}
	memcpy(l->groups, now, k * sizeof(now[0]));
	l->n_groups = k;
}

void node_legacy_send(struct node *n, const uint8_t *pkt, size_t len, const struct netaddr *dst)
{
	struct node_legacy *l = n->legacy;
	char topic[TOPIC_MAX];
	size_t out_len;
	int rc;

	if (netaddr_is_multicast(dst))
		dst = &broadcast4; /* where MQTT_VPN nodes listen */
	if (!topic_legacy(topic, sizeof(topic), node_prefix(n), dst)) {
		node_drop(n, NULL, DROP_NO_PEER); /* IPv6: MQTT_VPN has no topic for it */
		return;
	}
	if (legacy_seal_random(l->key, pkt, len, l->buf, sizeof(l->buf), &out_len) != LEGACY_OK) {
		node_drop(n, NULL, DROP_BAD_PACKET);
		return;
	}
	if ((rc = node_publish(n, topic, l->buf, out_len, 0, false)) != 0) {
		node_drop(n, NULL, node_publish_drop(rc));
		return;
	}
	l->tx_packets++;
	l->tx_bytes += len;
}

/* The inner destination a message on topic <p>/<t> may carry: the topic's own address (as
 * MQTT_VPN sends unicast and multicast), the limited broadcast, or, on the broadcast topic, a
 * multicast group (as mqttip sends multicast to MQTT_VPN nodes). */
static bool destination_fits(const struct netaddr *inner, const struct netaddr *t)
{
	if (netaddr_equal(inner, t) || netaddr_is_broadcast(inner))
		return true;
	return netaddr_is_broadcast(t) && netaddr_is_multicast(inner);
}

void node_legacy_input(struct node *n, const struct topic *t, const uint8_t *payload, size_t len)
{
	struct node_legacy *l = n->legacy;
	struct iphdr_info ip;
	size_t plen;
	int rc;

	if (!node_is_own(n, &t->dst) && !netaddr_is_broadcast(&t->dst) &&
	    !in_set(l->groups, l->n_groups, &t->dst))
		return;
	rc = legacy_open(l->key, payload, len, l->buf, sizeof(l->buf), &plen);
	if (rc != LEGACY_OK) {
		node_drop(n, NULL, DROP_LEGACY_AUTH);
		node_log(n, NODE_LOG_DEBUG, "legacy: message refused: %s", legacy_strerror(rc));
		return;
	}
	if (iphdr_parse(l->buf, plen, &ip) != IPHDR_OK || ip.src.family != 4) {
		node_drop(n, NULL, DROP_BAD_PACKET);
		return;
	}
	/* keyed by the sealed source: MQTT_VPN nodes started in the same second draw the same
	 * nonces (legacy.h) */
	if (!legacy_nonce_cache_check_and_add(&l->nonces, ip.src.bytes, 4, payload)) {
		node_drop(n, NULL, DROP_LEGACY_REPLAY);
		return;
	}
	/* our own broadcast back (a 3.1.1 broker has no No Local), or a source that a VPN
	 * certificate holds as a node address (an exact address wins over routes, PROTOCOL.md 8.9)
	 */
	if (node_is_own(n, &ip.src) || (n->id.secure && node_owner(n, &ip.src))) {
		node_drop(n, NULL, DROP_SOURCE);
		return;
	}
	if (!destination_fits(&ip.dst, &t->dst)) {
		node_drop(n, NULL, DROP_DESTINATION);
		return;
	}
	if (!n->set.accept_multicast &&
	    (netaddr_is_broadcast(&ip.dst) || netaddr_is_multicast(&ip.dst))) {
		node_drop(n, NULL, DROP_MULTICAST);
		return;
	}
	if (n->ops.deliver(n->ops.ctx, l->buf, ip.total_len)) {
		node_drop(n, NULL, DROP_DELIVER);
		return;
	}
	l->rx_packets++;
	l->rx_bytes += ip.total_len;
}
