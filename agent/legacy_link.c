/* legacy_link.c - MQTT_VPN interoperability (-k), PROTOCOL.md 9. Outbound: packets for
 * destinations without a VPN certificate are sealed with legacy.h and published on <p>/<dst>;
 * broadcast and multicast on <p>/255.255.255.255, the topic every MQTT_VPN node subscribes
 * besides its own (it has none for multicast groups). Inbound: <p>/<own>, the broadcast topic,
 * and <p>/<group> for each IPv4 multicast group the interface has joined (MQTT_VPN publishes a
 * multicast packet on its group's topic); each message is opened, checked against the replay
 * cache keyed by its inner source, and written to TUN when its inner destination fits the topic.
 * A legacy packet whose source a VPN certificate owns is refused: that node speaks securely, so
 * this is a forgery by a holder of the shared password (or a copy of what came securely). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "iphdr.h"
#include "log.h"

#define GROUP_POLL_TICKS 4 /* /proc/net/igmp read every 4 ticks (2 s) */

static struct netaddr broadcast_addr(void)
{
	struct netaddr a = {.family = 4, .bytes = {255, 255, 255, 255}};

	return a;
}

void legacy_link_init(struct daemon *d)
{
	legacy_key_from_password(d->cfg.legacy_psk, strlen(d->cfg.legacy_psk), d->legacy_key);
	legacy_nonce_cache_init_random(&d->legacy_nonces);
}

static void subscribe_legacy(struct daemon *d, const struct netaddr *a, bool on)
{
	char topic[TOPIC_MAX];

	if (!topic_legacy(topic, sizeof(topic), d->cfg.prefix, a))
		return;
	if (on)
		broker_subscribe(&d->broker, topic, 0);
	else
		broker_unsubscribe(&d->broker, topic);
}

void legacy_link_on_connect(struct daemon *d)
{
	struct netaddr bc = broadcast_addr();

	subscribe_legacy(d, &bc, true);
	for (size_t i = 0; i < d->n_legacy_groups; i++)
		subscribe_legacy(d, &d->legacy_groups[i], true);
}

static bool is_group(const struct daemon *d, const struct netaddr *a)
{
	for (size_t i = 0; i < d->n_legacy_groups; i++) {
		if (netaddr_equal(&d->legacy_groups[i], a))
			return true;
	}
	return false;
}

/* The IPv4 groups the interface has joined, from /proc/net/igmp: a device line
 * "<idx>\t<name> : <count> <querier>" and then one "\t\t\t\t<group> ..." line per group, the
 * group as the kernel's 32-bit value in network byte order printed as %08X. */
static size_t read_groups(const char *ifname, struct netaddr *out, size_t cap)
{
	FILE *f = fopen("/proc/net/igmp", "r");
	char line[256], dev[32];
	bool ours = false;
	size_t n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long v;
		uint32_t be;

		if (line[0] >= '0' && line[0] <= '9') {
			/* "%-10s:" in the kernel: a long name runs into the colon */
			ours = sscanf(line, "%*d %31[^: \t]", dev) == 1 && !strcmp(dev, ifname);
			continue;
		}
		if (!ours || line[0] != '\t' || sscanf(line, " %lx", &v) != 1 || n == cap)
			continue;
		be = (uint32_t)v;
		out[n].family = 4;
		memset(out[n].bytes, 0, sizeof(out[n].bytes));
		memcpy(out[n].bytes, &be, 4);
		n++;
	}
	fclose(f);
	return n;
}

void legacy_link_tick(struct daemon *d)
{
	struct netaddr now[LEGACY_GROUPS_MAX];
	size_t n;

	if (++d->legacy_ticks % GROUP_POLL_TICKS)
		return;
	n = read_groups(d->cfg.ifname, now, LEGACY_GROUPS_MAX);
	for (size_t i = 0; i < d->n_legacy_groups; i++) {
		bool kept = false;

		for (size_t j = 0; j < n; j++)
			kept |= netaddr_equal(&now[j], &d->legacy_groups[i]);
		if (!kept && d->broker.connected)
			subscribe_legacy(d, &d->legacy_groups[i], false);
	}
	for (size_t j = 0; j < n; j++) {
		if (!is_group(d, &now[j]) && d->broker.connected)
			subscribe_legacy(d, &now[j], true);
	}
	memcpy(d->legacy_groups, now, n * sizeof(now[0]));
	d->n_legacy_groups = n;
	broker_flush(&d->broker);
}

void legacy_link_send(struct daemon *d, const uint8_t *pkt, size_t len, const struct netaddr *dst)
{
	struct netaddr bc = broadcast_addr();
	char topic[TOPIC_MAX];
	size_t out_len;
	int rc;

	if (netaddr_is_multicast(dst))
		dst = &bc; /* where MQTT_VPN nodes listen */
	if (legacy_seal_random(d->legacy_key, pkt, len, d->legacy_buf, sizeof(d->legacy_buf),
			       &out_len) ||
	    !topic_legacy(topic, sizeof(topic), d->cfg.prefix, dst)) {
		daemon_drop(d, NULL, DROP_BAD_PACKET);
		return;
	}
	rc = broker_publish(&d->broker, topic, d->legacy_buf, out_len, 0, false);
	if (rc) {
		daemon_drop(d, NULL, rc == BROKER_ERR_OVERSIZE ? DROP_OVERSIZE : DROP_BROKER_DOWN);
		return;
	}
	d->legacy_tx_packets++;
	d->legacy_tx_bytes += len;
}

/* The inner destination a message on topic <p>/<t> may carry: the topic's own address (as
 * MQTT_VPN sends unicast and multicast), or, on the broadcast topic, the limited broadcast or a
 * multicast group (as mqttip sends multicast to MQTT_VPN nodes). */
static bool destination_fits(const struct netaddr *inner, const struct netaddr *t)
{
	if (netaddr_equal(inner, t))
		return true;
	if (netaddr_is_broadcast(inner))
		return true;
	return netaddr_is_broadcast(t) && netaddr_is_multicast(inner);
}

void legacy_link_on_message(struct daemon *d, const struct topic *t, const uint8_t *payload,
			    size_t len)
{
	struct iphdr_info ip;
	struct peer *p;
	size_t plen;
	int rc;

	if (!daemon_is_own(d, &t->dst) && !netaddr_is_broadcast(&t->dst) && !is_group(d, &t->dst))
		return;
	rc = legacy_open(d->legacy_key, payload, len, d->legacy_buf, sizeof(d->legacy_buf), &plen);
	if (rc) {
		daemon_drop(d, NULL, DROP_LEGACY_AUTH);
		log_debug("legacy: message refused: %s", legacy_strerror(rc));
		return;
	}
	if (iphdr_parse(d->legacy_buf, plen, &ip) || ip.src.family != 4) {
		daemon_drop(d, NULL, DROP_BAD_PACKET);
		return;
	}
	if (!legacy_nonce_cache_check_and_add_from(&d->legacy_nonces, ip.src.bytes, 4, payload)) {
		daemon_drop(d, NULL, DROP_LEGACY_REPLAY);
		log_debug("legacy: replayed message refused");
		return;
	}
	/* our own broadcast back (a 3.1.1 broker has no No Local), or a source that a VPN
	 * certificate holds as a node address (peer.h: an exact address wins over routes) */
	p = d->secure ? peer_table_find_addr(&d->peers, &ip.src) : NULL;
	if (daemon_is_own(d, &ip.src) || (p && cert_check_owns(&p->cert, &ip.src) == CERT_OK)) {
		daemon_drop(d, NULL, DROP_SOURCE);
		return;
	}
	if (!destination_fits(&ip.dst, &t->dst)) {
		daemon_drop(d, NULL, DROP_DESTINATION);
		return;
	}
	if (tunnel_write(d, d->legacy_buf, ip.total_len)) {
		daemon_drop(d, NULL, DROP_TUN_WRITE);
		return;
	}
	d->legacy_rx_packets++;
	d->legacy_rx_bytes += ip.total_len;
}
