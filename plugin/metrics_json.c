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

/* What happened since the previous document: counter minus its mark. */
static void add_window(cJSON *o, const struct metrics_counters *c, const struct metrics_mark *k)
{
	cJSON *w = cJSON_AddObjectToObject(o, "window");

	if (w == NULL)
		return;
	cJSON_AddNumberToObject(w, "published_msgs",
				(double)(c->published_msgs - k->published_msgs));
	cJSON_AddNumberToObject(w, "published_bytes",
				(double)(c->published_bytes - k->published_bytes));
	cJSON_AddNumberToObject(w, "delivered_msgs",
				(double)(c->delivered_msgs - k->delivered_msgs));
	cJSON_AddNumberToObject(w, "delivered_bytes",
				(double)(c->delivered_bytes - k->delivered_bytes));
}

static void add_mark(struct metrics_mark *to, const struct metrics_mark *k)
{
	to->published_msgs += k->published_msgs;
	to->published_bytes += k->published_bytes;
	to->delivered_msgs += k->delivered_msgs;
	to->delivered_bytes += k->delivered_bytes;
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
	add_window(o, &n->c, &n->mark);
	return o;
}

char *metrics_json(const struct metrics *m, const char *prefix, unsigned interval, int64_t now,
		   const char *warning)
{
	cJSON *doc = cJSON_CreateObject(), *total, *nodes, *anon;
	struct metrics_counters sum;
	struct metrics_mark sum_mark = m->anonymous_mark;
	uint32_t online;
	char *text = NULL;

	if (doc == NULL)
		return NULL;
	cJSON_AddNumberToObject(doc, "version", 1);
	cJSON_AddNumberToObject(doc, "time", (double)now);
	cJSON_AddNumberToObject(doc, "interval", interval);
	cJSON_AddStringToObject(doc, "prefix", prefix);
	cJSON_AddNumberToObject(doc, "window_start", (double)m->window_start);
	if (warning != NULL)
		cJSON_AddStringToObject(doc, "warning", warning);
	metrics_total(m, &sum, &online);
	for (size_t i = 0; i < m->count; i++)
		add_mark(&sum_mark, &m->nodes[i]->mark);
	total = cJSON_AddObjectToObject(doc, "total");
	if (total != NULL) {
		cJSON_AddNumberToObject(total, "nodes", (double)m->count);
		cJSON_AddNumberToObject(total, "online", online);
		add_counters(total, &sum);
		add_window(total, &sum, &sum_mark);
	}
	anon = cJSON_AddObjectToObject(doc, "anonymous");
	if (anon != NULL) {
		add_counters(anon, &m->anonymous);
		add_window(anon, &m->anonymous, &m->anonymous_mark);
	}
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
