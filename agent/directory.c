/* directory.c - the peers' VPN certificates. Every node publishes its certificate retained on
 * <p>/cert/<addr> for each of its addresses, at every connection (the broker may have lost its
 * retained messages in a restart). We subscribe to <p>/cert/+ once: the broker hands us every
 * retained certificate at subscription and each new one as it is published, so a destination's
 * key (and the routes of gateways) is known before its first packet, without a request per
 * destination. Each certificate is verified against the network CA and must own the address of
 * its topic; one peer entry per node identity (X25519 key); a newer certificate for the same key
 * replaces the old one, a certificate with a new key for an address replaces the peer that held
 * it. */
#define _GNU_SOURCE
#include <string.h>

#include "daemon.h"
#include "log.h"

void peer_extra_topics(struct daemon *d, struct peer *p)
{
	struct peer_extra *ex = peer_extra_of(d, p);

	topic_data(ex->data_topic, sizeof(ex->data_topic), d->cfg.prefix, &p->addr, &d->self);
	topic_kx(ex->kx_topic, sizeof(ex->kx_topic), d->cfg.prefix, &p->addr, &d->self);
}

void peer_extra_init(struct daemon *d, struct peer *p)
{
	struct peer_extra *ex = peer_extra_of(d, p);

	memset(ex, 0, sizeof(*ex));
	ex->queue_head = ex->queue_tail = NO_SLOT;
	ex->batch = NO_SLOT;
	peer_extra_topics(d, p);
}

static void remove_peer(struct daemon *d, struct peer *p)
{
	struct peer_extra *ex = peer_extra_of(d, p);

	tunnel_drop_queue(d, p, DROP_NO_PEER);
	if (ex->batch != NO_SLOT) {
		d->batches[ex->batch].peer = NO_SLOT;
		d->batches[ex->batch].used = 0;
	}
	peer_table_remove(&d->peers, p);
	memset(ex, 0, sizeof(*ex));
	tunnel_invalidate_routes(d);
}

void directory_on_cert(struct daemon *d, const struct topic *t, const uint8_t *payload, size_t len)
{
	char a[NETADDR_STR_MAX];
	struct cert c;
	struct peer *p, *holder;
	int rc;

	if (!d->secure || len == 0)
		return;
	netaddr_format(&t->dst, a, sizeof(a));
	rc = cert_verify(payload, len, d->id.network_id, daemon_unix_now(), &c);
	if (rc == CERT_OK && cert_check_owns(&c, &t->dst) != CERT_OK)
		rc = CERT_ERR_ADDR_NOT_IN_CERT;
	if (rc) {
		daemon_drop(d, NULL, DROP_CERT);
		log_info("directory: certificate for %s refused: %s", a, cert_strerror(rc));
		return;
	}
	if (!memcmp(c.x25519_public, d->local.static_public, MQTTIP_KEY_LEN))
		return;
	p = peer_table_find_static(&d->peers, c.x25519_public);
	if (p) {
		if (p->cert.serial != c.serial ||
		    memcmp(p->cert.signature, c.signature, MQTTIP_CERT_SIG_LEN)) {
			p->cert = c;
			if (!netaddr_equal(&p->addr, &c.addrs[0].addr)) {
				p->addr = c.addrs[0].addr;
				peer_extra_topics(d, p);
			}
			tunnel_invalidate_routes(d);
			log_info("directory: certificate of %s updated (serial %llu)", c.name,
				 (unsigned long long)c.serial);
		}
		return;
	}
	holder = peer_table_find_addr(&d->peers, &t->dst);
	if (holder && cert_check_owns(&holder->cert, &t->dst) == CERT_OK) {
		log_info("directory: %s now belongs to a new key (%s replaces %s)", a, c.name,
			 holder->cert.name);
		remove_peer(d, holder);
	}
	p = peer_table_add(&d->peers, &c, &c.addrs[0].addr);
	if (!p) {
		log_warn("directory: peer table full (max-peers %u), %s ignored", d->cfg.max_peers,
			 c.name);
		return;
	}
	peer_extra_init(d, p);
	tunnel_invalidate_routes(d);
	log_info("directory: peer %s (%s) added", c.name, a);
}

void directory_publish_own(struct daemon *d)
{
	char topic[TOPIC_MAX];

	if (!d->secure)
		return;
	for (size_t i = 0; i < d->id.cert.n_addrs; i++) {
		if (topic_cert(topic, sizeof(topic), d->cfg.prefix, &d->id.cert.addrs[i].addr) &&
		    broker_publish(&d->broker, topic, d->id.cert_bytes, d->id.cert_len, 1, true))
			log_warn("directory: cannot publish our certificate on %s", topic);
	}
}
