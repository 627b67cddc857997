/* test_plugin_metrics.c - the plugin's counters and their two renderings: the JSON document
 * parses and carries the counters, totals are sums, each document's "window" counts only what
 * happened since the previous one (so a viewer has rates from one document), and the Prometheus
 * textfile escapes node
 * names (a CN may hold quotes and backslashes), replaces the file atomically and reports an
 * unwritable path instead of failing silently. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "metrics.h"

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);

	if (f && buf)
		fread(buf, 1, 65535, f);
	if (f)
		fclose(f);
	return buf;
}

static void fill(struct metrics *m)
{
	struct metrics_node *a, *b;

	metrics_init(m);
	a = metrics_node(m, "node-1");
	b = metrics_node(m, "odd \"name\" \\ here");
	CHECK(a != NULL && b != NULL);
	CHECK(metrics_node(m, "node-1") == a);
	a->c.published_msgs = 7;
	a->c.published_bytes = 7000;
	a->c.denied_publish = 2;
	a->c.last_activity = 1700000000;
	a->online = 1;
	a->naddrs = 1;
	a->addrs[0] = (struct netaddr){.family = 4, .bytes = {10, 0, 1, 2}};
	b->c.published_msgs = 3;
	b->c.denied_subscribe = 4;
	b->c.last_activity = 1700000005;
	m->anonymous.denied_publish = 1;
	m->anonymous.connects = 9;
}

static double number_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void test_totals_and_json(void)
{
	struct metrics m;
	struct metrics_counters sum;
	uint32_t online;
	char *text;
	cJSON *doc, *nodes, *n0, *n1;

	fill(&m);
	metrics_total(&m, &sum, &online);
	CHECK_EQ_INT(sum.published_msgs, 10);
	CHECK_EQ_INT(sum.denied_publish, 3);
	CHECK_EQ_INT(sum.denied_subscribe, 4);
	CHECK_EQ_INT(sum.connects, 9);
	CHECK_EQ_INT(sum.last_activity, 1700000005);
	CHECK_EQ_INT(online, 1);

	text = metrics_json(&m, "mqttip", 10, 1700000010, NULL);
	doc = text ? cJSON_Parse(text) : NULL;
	CHECK(doc != NULL);
	CHECK_EQ_INT(number_at(doc, "version", NULL), 1);
	CHECK_EQ_INT(number_at(doc, "interval", NULL), 10);
	CHECK_EQ_INT(number_at(doc, "total", "nodes"), 2);
	CHECK_EQ_INT(number_at(doc, "total", "published_msgs"), 10);
	CHECK_EQ_INT(number_at(doc, "total", "denied_publish"), 3);
	nodes = cJSON_GetObjectItemCaseSensitive(doc, "nodes");
	CHECK_EQ_INT(cJSON_GetArraySize(nodes), 2);
	n0 = cJSON_GetArrayItem(nodes, 0);
	n1 = cJSON_GetArrayItem(nodes, 1);
	CHECK(n0 && strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(n0, "name")), "node-1") == 0);
	CHECK(n1 && strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(n1, "name")),
			   "odd \"name\" \\ here") == 0);
	CHECK_EQ_INT(number_at(n0, "published_bytes", NULL), 7000);
	CHECK(strcmp(
		  cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(n0, "addresses"), 0)),
		  "10.0.1.2") == 0);
	CHECK(cJSON_GetObjectItemCaseSensitive(doc, "warning") == NULL);
	cJSON_Delete(doc);
	free(text);
	metrics_free(&m);
}

/* The window: counts since the last mark, per node, anonymous and in total; a node that appears
 * after the mark counts from zero; the warning, when given, is in the document. */
static void test_window(void)
{
	struct metrics m;
	struct metrics_node *c;
	char *text;
	cJSON *doc, *n0, *n2;

	fill(&m);
	metrics_mark_window(&m, 1700000000);
	m.nodes[0]->c.published_msgs += 5;
	m.nodes[0]->c.published_bytes += 500;
	m.nodes[0]->c.delivered_msgs += 2;
	m.anonymous.delivered_bytes += 64;
	c = metrics_node(&m, "late");
	CHECK(c != NULL);
	c->c.published_msgs = 4;
	text = metrics_json(&m, "mqttip", 10, 1700000010, "no tick");
	doc = text ? cJSON_Parse(text) : NULL;
	CHECK(doc != NULL);
	CHECK_EQ_INT(number_at(doc, "window_start", NULL), 1700000000);
	CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "warning")), "no tick") == 0);
	n0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "nodes"), 0);
	n2 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "nodes"), 2);
	CHECK_EQ_INT(number_at(n0, "published_msgs", NULL), 12);
	CHECK_EQ_INT(number_at(n0, "window", "published_msgs"), 5);
	CHECK_EQ_INT(number_at(n0, "window", "published_bytes"), 500);
	CHECK_EQ_INT(number_at(n0, "window", "delivered_msgs"), 2);
	CHECK_EQ_INT(number_at(n0, "window", "delivered_bytes"), 0);
	CHECK_EQ_INT(number_at(n2, "window", "published_msgs"), 4);
	CHECK_EQ_INT(number_at(cJSON_GetObjectItem(doc, "anonymous"), "window", "delivered_bytes"),
		     64);
	CHECK_EQ_INT(number_at(cJSON_GetObjectItem(doc, "total"), "window", "published_msgs"), 9);
	CHECK_EQ_INT(number_at(cJSON_GetObjectItem(doc, "total"), "published_msgs", NULL), 19);
	cJSON_Delete(doc);
	free(text);

	/* after the next mark the window is empty again */
	metrics_mark_window(&m, 1700000010);
	text = metrics_json(&m, "mqttip", 10, 1700000020, NULL);
	doc = text ? cJSON_Parse(text) : NULL;
	CHECK(doc != NULL);
	CHECK_EQ_INT(number_at(doc, "window_start", NULL), 1700000010);
	CHECK_EQ_INT(number_at(cJSON_GetObjectItem(doc, "total"), "window", "published_msgs"), 0);
	cJSON_Delete(doc);
	free(text);
	metrics_free(&m);
}

static void test_prometheus_textfile(void)
{
	char dir[] = "/tmp/mqttip-prom-XXXXXX", path[64], tmp[80], err[256];
	struct metrics m;
	char *text;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/mqttip.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fill(&m);
	CHECK_EQ_INT(prometheus_write(&m, path, err, sizeof(err)), 0);
	CHECK(access(tmp, F_OK) != 0);
	text = read_text(path);
	CHECK(strstr(text, "# TYPE mqttip_published_messages_total counter\n") != NULL);
	CHECK(strstr(text, "mqttip_published_messages_total{node=\"node-1\"} 7\n") != NULL);
	CHECK(strstr(text,
		     "mqttip_published_messages_total{node=\"odd \\\"name\\\" \\\\ here\"} 3\n") !=
	      NULL);
	CHECK(strstr(text, "mqttip_denied_publish_total{node=\"\"} 1\n") != NULL);
	CHECK(strstr(text, "mqttip_online{node=\"node-1\"} 1\n") != NULL);
	CHECK(strstr(text, "mqttip_last_activity_seconds{node=\"node-1\"} 1700000000\n") != NULL);
	free(text);

	/* a second write replaces the file with the new counters */
	m.nodes[0]->c.published_msgs = 8;
	CHECK_EQ_INT(prometheus_write(&m, path, err, sizeof(err)), 0);
	text = read_text(path);
	CHECK(strstr(text, "mqttip_published_messages_total{node=\"node-1\"} 8\n") != NULL);
	CHECK(strstr(text, "{node=\"node-1\"} 7\n") == NULL);
	free(text);

	/* a path in a missing directory: an error naming it, no file */
	snprintf(path, sizeof(path), "%s/missing/mqttip.prom", dir);
	CHECK_EQ_INT(prometheus_write(&m, path, err, sizeof(err)), -1);
	CHECK(strstr(err, "missing/mqttip.prom.tmp") != NULL);

	metrics_free(&m);
	snprintf(path, sizeof(path), "%s/mqttip.prom", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_totals_and_json();
	test_window();
	test_prometheus_textfile();
	return check_done();
}
