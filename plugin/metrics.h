/* metrics.h - traffic and ACL counters, per node name (certificate CN) and for clients without
 * identity. A node's record lives from its first connection until the plugin unloads, so the
 * counters survive reconnects; records are individually allocated and never move, so a
 * connection keeps a plain pointer to its node's record (O(1) counting). */
#ifndef MQTTIP_PLUGIN_METRICS_H
#define MQTTIP_PLUGIN_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "identity.h"

#define METRICS_MAX_NODES 65536
#define METRICS_BUCKETS	  1024

struct metrics_counters {
	uint64_t published_msgs;  /* PUBLISH accepted from the client, any topic */
	uint64_t published_bytes; /* their payload bytes */
	uint64_t delivered_msgs;  /* messages the broker may deliver to the client (READ allowed) */
	uint64_t delivered_bytes;
	uint64_t handshake_msgs; /* published on <p>/kx/... */
	uint64_t denied_subscribe;
	uint64_t denied_publish;
	uint64_t denied_read;
	uint64_t connects;
	uint64_t refused; /* connections refused by the policy (deny) */
	uint64_t disconnects;
	int64_t last_activity; /* unix seconds of the last counted event, 0 = never */
};

/* The counters a viewer shows as rates, as they were when the previous document was made: the
 * document carries the difference ("window"), so one document is enough for a rate. */
struct metrics_mark {
	uint64_t published_msgs, published_bytes, delivered_msgs, delivered_bytes;
};

struct metrics_node {
	char name[POLICY_NAME_MAX];
	struct metrics_counters c;
	struct metrics_mark mark;
	uint32_t online; /* live connections with this identity */
	uint8_t naddrs;	 /* addresses of the latest connection's certificate */
	struct netaddr addrs[IDENTITY_MAX_ADDRS];
	void *session; /* the newest live connection (owned by clients.c) */
	struct metrics_node *hash_next;
};

struct metrics {
	struct metrics_node **nodes; /* in order of first appearance */
	size_t count, cap;
	struct metrics_node *buckets[METRICS_BUCKETS];
	struct metrics_counters anonymous; /* clients without usable identity, and overflow */
	struct metrics_mark anonymous_mark;
	int64_t window_start; /* unix seconds of the last metrics_mark_window() */
};

void metrics_init(struct metrics *m);
void metrics_free(struct metrics *m);
/* The record for name, created on first use; NULL when out of memory or METRICS_MAX_NODES. */
struct metrics_node *metrics_node(struct metrics *m, const char *name);
/* Sum over all nodes and the anonymous bucket; last_activity is the latest. */
void metrics_total(const struct metrics *m, struct metrics_counters *out, uint32_t *online);
/* Starts a new window at now (unix seconds): the next document's "window" counts what happens
 * from here on. Called once at start and after each published document. */
void metrics_mark_window(struct metrics *m, int64_t now);

/* Document renderers (metrics_json.c, prometheus.c). metrics_json returns the document of
 * docs/METRICS.md (malloc'd text, NULL when out of memory) made at now (unix seconds); warning,
 * when not NULL, is added as its "warning" field (a problem the viewer should show). */
char *metrics_json(const struct metrics *m, const char *prefix, unsigned interval, int64_t now,
		   const char *warning);
int prometheus_write(const struct metrics *m, const char *path, char *err, size_t errlen);

#endif
