/* legacy_link.c - MQTT_VPN interoperability (-k): packets for destinations without a VPN
 * certificate are sealed with legacy.h and published on <p>/<dst>; messages on <p>/<own> are
 * opened, refused when their nonce is in the replay cache, and written to TUN when the inner
 * destination is the topic's address (as MQTT_VPN sends them) or 255.255.255.255. */
#define _GNU_SOURCE
#include <string.h>

#include "daemon.h"
#include "iphdr.h"
#include "log.h"

void legacy_link_init(struct daemon *d)
{
	legacy_key_from_password(d->cfg.legacy_psk, strlen(d->cfg.legacy_psk), d->legacy_key);
	legacy_nonce_cache_init_random(&d->legacy_nonces);
}

void legacy_link_send(struct daemon *d, const uint8_t *pkt, size_t len, const struct netaddr *dst)
{
	char topic[TOPIC_MAX];
	size_t out_len;

	if (legacy_seal_random(d->legacy_key, pkt, len, d->legacy_buf, sizeof(d->legacy_buf),
			       &out_len) ||
	    !topic_legacy(topic, sizeof(topic), d->cfg.prefix, dst)) {
		daemon_drop(d, NULL, DROP_BAD_PACKET);
		return;
	}
	if (broker_publish(&d->broker, topic, d->legacy_buf, out_len, 0, false)) {
		daemon_drop(d, NULL, DROP_BROKER_DOWN);
		return;
	}
	d->legacy_tx_packets++;
	d->legacy_tx_bytes += len;
}

void legacy_link_on_message(struct daemon *d, const struct topic *t, const uint8_t *payload,
			    size_t len)
{
	struct iphdr_info ip;
	size_t plen;
	int rc;

	if (!daemon_is_own(d, &t->dst))
		return;
	rc = legacy_open(d->legacy_key, payload, len, d->legacy_buf, sizeof(d->legacy_buf), &plen);
	if (rc) {
		daemon_drop(d, NULL, DROP_LEGACY_AUTH);
		log_debug("legacy: message refused: %s", legacy_strerror(rc));
		return;
	}
	if (!legacy_nonce_cache_check_and_add(&d->legacy_nonces, payload)) {
		daemon_drop(d, NULL, DROP_LEGACY_REPLAY);
		log_debug("legacy: replayed message refused");
		return;
	}
	if (iphdr_parse(d->legacy_buf, plen, &ip)) {
		daemon_drop(d, NULL, DROP_BAD_PACKET);
		return;
	}
	if (!netaddr_equal(&ip.dst, &t->dst) && !netaddr_is_broadcast(&ip.dst)) {
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
