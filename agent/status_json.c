/* status_json.c - `mqttip status --json` (status_json.h, docs/STATUS.md). Counters are written as
 * cJSON raw numbers printed from the integers, so a 64-bit counter stays exact (cJSON's own
 * numbers are doubles, exact only to 2^53). */
#define _POSIX_C_SOURCE 200809L /* uv.h, through daemon.h */
#include "status_json.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "daemon.h"

struct doc {
	bool failed; /* an allocation failed: the document is incomplete */
};

/* Adds item to parent, under name (an object) or at the end (an array, name NULL). */
static cJSON *put(struct doc *j, cJSON *parent, const char *name, cJSON *item)
{
	bool added =
	    item && parent &&
	    (name ? cJSON_AddItemToObject(parent, name, item) : cJSON_AddItemToArray(parent, item));

	if (!added) {
		cJSON_Delete(item);
		j->failed = true;
		return NULL;
	}
	return item;
}

static void put_u64(struct doc *j, cJSON *o, const char *name, uint64_t v)
{
	char text[24];

	snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
	put(j, o, name, cJSON_CreateRaw(text));
}

/* v, or null when it is not present. */
static void put_opt_u64(struct doc *j, cJSON *o, const char *name, uint64_t v, bool present)
{
	if (present)
		put_u64(j, o, name, v);
	else
		put(j, o, name, cJSON_CreateNull());
}

/* s, or null for NULL and "". */
static void put_str(struct doc *j, cJSON *o, const char *name, const char *s)
{
	put(j, o, name, s && *s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

static void put_bool(struct doc *j, cJSON *o, const char *name, bool v)
{
	put(j, o, name, cJSON_CreateBool(v));
}

static void put_drops(struct doc *j, cJSON *o, const uint64_t *drops)
{
	cJSON *d = put(j, o, "drops", cJSON_CreateObject());

	for (int i = 0; i < DROP_MAX; i++)
		put_u64(j, d, drop_name((enum drop_reason)i), drops[i]);
}

static void put_broker(struct doc *j, cJSON *root, const struct broker *b)
{
	const struct broker_endpoint *e = broker_current(b);
	uint64_t unix_now = (uint64_t)time(NULL);
	cJSON *o = put(j, root, "broker", cJSON_CreateObject()), *urls;
	char conflict[160] = "";

	if (b->conflict)
		snprintf(conflict, sizeof(conflict),
			 "another client uses node name %s (this certificate)", b->identity);
	put_str(j, o, "url", e->url);
	put(j, o, "host", cJSON_CreateString(e->host));
	put_u64(j, o, "port", (uint64_t)e->port);
	put_bool(j, o, "tls", e->tls);
	put_bool(j, o, "connected", b->connected);
	put_str(j, o, "protocol", b->connected ? (b->protocol == 5 ? "5" : "3.1.1") : NULL);
	put_u64(j, o, "connects", b->connects);
	put_u64(j, o, "losses", b->losses);
	put_u64(j, o, "failures", b->failures);
	put_u64(j, o, "max_payload", b->max_payload);
	put_u64(j, o, "refused", b->publish_refused);
	put_opt_u64(j, o, "max_packet", b->broker_max_packet, b->connected && b->broker_max_packet);
	put_opt_u64(j, o, "size_limit", b->probe_ok, b->connected && b->probe_bad);
	put_u64(j, o, "connect_timeout_s", b->connect_timeout_ms / 1000);
	put_str(j, o, "conflict", conflict);
	put_str(j, o, "last_error", b->last_error);
	put_opt_u64(j, o, "last_error_time", b->last_error_unix, b->last_error[0]);
	put_opt_u64(j, o, "last_error_age_s",
		    unix_now > b->last_error_unix ? unix_now - b->last_error_unix : 0,
		    b->last_error[0]);
	urls = put(j, o, "urls", cJSON_CreateArray());
	for (size_t i = 0; i < b->n_ep; i++)
		put(j, urls, NULL,
		    b->ep[i].url[0] ? cJSON_CreateString(b->ep[i].url) : cJSON_CreateNull());
}

static void put_legacy(struct doc *j, cJSON *root, const struct node_legacy *l)
{
	cJSON *o = put(j, root, "legacy", cJSON_CreateObject());

	put_bool(j, o, "enabled", l != NULL);
	put_u64(j, o, "rx_packets", l ? l->rx_packets : 0);
	put_u64(j, o, "tx_packets", l ? l->tx_packets : 0);
	put_u64(j, o, "rx_bytes", l ? l->rx_bytes : 0);
	put_u64(j, o, "tx_bytes", l ? l->tx_bytes : 0);
}

static void put_offload(struct doc *j, cJSON *root, const struct node *n)
{
	cJSON *o = put(j, root, "offload", cJSON_CreateObject());
	const struct node_offload_stats *s = &n->offload_stats;

	put_bool(j, o, "enabled", n->offload != NULL);
	put_u64(j, o, "tx_super", s->tx_super);
	put_u64(j, o, "tx_split", s->tx_split);
	put_u64(j, o, "tx_segmented", s->tx_segmented);
	put_u64(j, o, "tx_csum", s->tx_csum);
	put_u64(j, o, "rx_super", s->rx_super);
	put_u64(j, o, "rx_merged", s->rx_merged);
	put_u64(j, o, "read_in_place", s->read_in_place);
	put_u64(j, o, "read_moved", s->read_moved);
}

static void put_peer(struct doc *j, cJSON *peers, struct node *n, struct peer *p, uint64_t now)
{
	cJSON *o = put(j, peers, NULL, cJSON_CreateObject());
	char a[NETADDR_STR_MAX];

	netaddr_format(&p->addr, a, sizeof(a));
	put(j, o, "name", cJSON_CreateString(p->cert.name));
	put(j, o, "address", cJSON_CreateString(a));
	put_bool(j, o, "session", node_peer_has_session(n, p, now));
	put_opt_u64(j, o, "handshake_age_ms", now - p->handshake_done_ms, p->handshake_done_ms);
	put_u64(j, o, "rx_bytes", p->stats.rx_bytes);
	put_u64(j, o, "tx_bytes", p->stats.tx_bytes);
	put_u64(j, o, "rx_packets", p->stats.rx_packets);
	put_u64(j, o, "tx_packets", p->stats.tx_packets);
	put_u64(j, o, "rx_messages", p->stats.rx_msgs);
	put_u64(j, o, "tx_messages", p->stats.tx_msgs);
	put_u64(j, o, "handshakes", p->stats.handshakes);
	put_u64(j, o, "queued", p->queue.count);
	put_drops(j, o, p->stats.drops);
}

char *status_json(struct daemon *d, uint64_t now, size_t *len)
{
	struct node *n = &d->node;
	struct doc j = {0};
	cJSON *root = cJSON_CreateObject(), *addrs, *peers;
	char a[NETADDR_STR_MAX], *text = NULL, *line = NULL;

	put(&j, root, "interface", cJSON_CreateString(d->cfg.ifname));
	/* "" rather than null without a node certificate (legacy only), as from the start */
	put(&j, root, "node", cJSON_CreateString(n->id.secure ? n->id.cert.name : ""));
	put_bool(&j, root, "secure", n->id.secure);
	put_u64(&j, root, "uptime_s", (now - d->start_ms) / 1000);
	addrs = put(&j, root, "addresses", cJSON_CreateArray());
	for (size_t i = 0; i < n->id.n_own; i++) {
		netaddr_format(&n->id.own[i], a, sizeof(a));
		put(&j, addrs, NULL, cJSON_CreateString(a));
	}
	put_broker(&j, root, &d->broker);
	put_legacy(&j, root, n->legacy);
	put_offload(&j, root, n);
	put_drops(&j, root, n->drops);
	peers = put(&j, root, "peers", cJSON_CreateArray());
	for (size_t i = 0; i < n->peers.cap; i++) {
		if (n->peers.peers[i].used)
			put_peer(&j, peers, n, &n->peers.peers[i], now);
	}
	if (root && !j.failed)
		text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (text) {
		*len = strlen(text) + 1;
		line = malloc(*len + 1);
		if (line) {
			memcpy(line, text, *len - 1);
			line[*len - 1] = '\n';
			line[*len] = '\0';
		}
		cJSON_free(text);
	}
	return line;
}
