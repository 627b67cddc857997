/* metrics_json.c - the metrics document published on $SYS/broker/mqttip/metrics
 * (schema: docs/METRICS.md). Counters are JSON numbers, exact up to 2^53. */
#include "metrics.h"

#include <cjson/cJSON.h>

static void add_counters(cJSON *o, const struct metrics_counters *c)
{
	cJSON_AddNumberToObject(o, "published_msgs", (double)c->published_msgs);
	cJSON_AddNumberToObject(o, "published_bytes", (double)c->published_bytes);
	cJSON_AddNumberToObject(o, "delivered_msgs", (double)c->delivered_msgs);
	cJSON_AddNumberToObject(o, "delivered_bytes", (double)c->delivered_bytes);
	cJSON_AddNumberToObject(o, "handshake_msgs", (double)c->handshake_msgs);
	cJSON_AddNumberToObject(o, "denied_subscribe", (double)c->denied_subscribe);
	cJSON_AddNumberToObject(o, "denied_publish", (double)c->denied_publish);
	cJSON_AddNumberToObject(o, "denied_read", (double)c->denied_read);
	cJSON_AddNumberToObject(o, "connects", (double)c->connects);
	cJSON_AddNumberToObject(o, "refused", (double)c->refused);
	cJSON_AddNumberToObject(o, "disconnects", (double)c->disconnects);
	cJSON_AddNumberToObject(o, "last_activity", (double)c->last_activity);
}

static cJSON *node_object(const struct metrics_node *n)
{
	cJSON *o = cJSON_CreateObject(), *addrs;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "name", n->name);
	cJSON_AddNumberToObject(o, "online", n->online);
	addrs = cJSON_AddArrayToObject(o, "addresses");
	for (uint8_t i = 0; addrs != NULL && i < n->naddrs; i++) {
		char text[NETADDR_STR_MAX];

		if (netaddr_format(&n->addrs[i], text, sizeof(text)) > 0)
			cJSON_AddItemToArray(addrs, cJSON_CreateString(text));
	}
	add_counters(o, &n->c);
	return o;
}

char *metrics_json(const struct metrics *m, const char *prefix, unsigned interval, int64_t now)
{
	cJSON *doc = cJSON_CreateObject(), *total, *nodes, *anon;
	struct metrics_counters sum;
	uint32_t online;
	char *text = NULL;

	if (doc == NULL)
		return NULL;
	cJSON_AddNumberToObject(doc, "version", 1);
	cJSON_AddNumberToObject(doc, "time", (double)now);
	cJSON_AddNumberToObject(doc, "interval", interval);
	cJSON_AddStringToObject(doc, "prefix", prefix);
	metrics_total(m, &sum, &online);
	total = cJSON_AddObjectToObject(doc, "total");
	if (total != NULL) {
		cJSON_AddNumberToObject(total, "nodes", (double)m->count);
		cJSON_AddNumberToObject(total, "online", online);
		add_counters(total, &sum);
	}
	anon = cJSON_AddObjectToObject(doc, "anonymous");
	if (anon != NULL)
		add_counters(anon, &m->anonymous);
	nodes = cJSON_AddArrayToObject(doc, "nodes");
	for (size_t i = 0; nodes != NULL && i < m->count; i++) {
		cJSON *o = node_object(m->nodes[i]);

		if (o != NULL)
			cJSON_AddItemToArray(nodes, o);
	}
	if (total != NULL && anon != NULL && nodes != NULL)
		text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return text;
}
