/* top.c - `mqttip top`: the metrics viewer. Rates are the difference of two consecutive
 * documents divided by the difference of their "time" fields. */
#define _POSIX_C_SOURCE 200809L /* isatty; broker.h pulls in libuv, which needs POSIX types */
#include "top.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mosquitto.h>

#include "broker.h"
#include "commands.h"
#include "proto.h"

#define TOP_HOST_MAX	    256
#define TOP_DEFAULT_TIMEOUT 30

struct top {
	bool once;
	int timeout_s;
	int suback; /* -1 waiting, 0 granted, 1 refused */
	bool done;
	cJSON *previous; /* the last document shown */
	int shown;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: mqttip top --broker mqtts://HOST:PORT --cert FILE --key FILE "
		"--cafile FILE [--once] [--timeout SECONDS]\n"
		"Shows the broker plugin's metrics (needs a certificate the broker policy marks "
		"admin).\n--once prints one snapshot and exits; --timeout bounds the wait for "
		"it (default %d s).\n",
		TOP_DEFAULT_TIMEOUT);
}

static double number(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const cJSON *node_named(const cJSON *doc, const char *name)
{
	const cJSON *n;

	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(doc, "nodes"))
	{
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(n, "name");

		if (cJSON_IsString(nm) && strcmp(nm->valuestring, name) == 0)
			return n;
	}
	return NULL;
}

/* Rate of key between the previous and this document, or -1 when unknown. */
static double rate(const cJSON *prev, const cJSON *cur, const char *key, double dt)
{
	if (prev == NULL || dt <= 0)
		return -1;
	return (number(cur, key) - number(prev, key)) / dt;
}

static void cell_rate(double r)
{
	if (r < 0)
		printf(" %10s", "-");
	else
		printf(" %10.1f", r);
}

static void row(const char *name, const cJSON *prev, const cJSON *cur, double dt, double now)
{
	double last = number(cur, "last_activity");
	const cJSON *addrs = cJSON_GetObjectItemCaseSensitive(cur, "addresses");
	const cJSON *first = cJSON_GetArrayItem(addrs, 0);

	printf("%-16.16s %3.0f %-17.17s", name, number(cur, "online"),
	       cJSON_IsString(first) ? first->valuestring : "-");
	cell_rate(rate(prev, cur, "published_msgs", dt));
	cell_rate(rate(prev, cur, "delivered_msgs", dt));
	cell_rate(rate(prev, cur, "published_bytes", dt));
	cell_rate(rate(prev, cur, "delivered_bytes", dt));
	printf(" %6.0f %6.0f/%.0f/%.0f", number(cur, "handshake_msgs"),
	       number(cur, "denied_subscribe"), number(cur, "denied_publish"),
	       number(cur, "denied_read"));
	if (last > 0)
		printf(" %6.0fs\n", now - last);
	else
		printf(" %7s\n", "-");
}

static void show(struct top *t, cJSON *doc)
{
	const cJSON *total = cJSON_GetObjectItemCaseSensitive(doc, "total");
	const cJSON *anon = cJSON_GetObjectItemCaseSensitive(doc, "anonymous");
	const cJSON *prev_total = cJSON_GetObjectItemCaseSensitive(t->previous, "total");
	const cJSON *prev_anon = cJSON_GetObjectItemCaseSensitive(t->previous, "anonymous");
	const cJSON *n;
	double now = number(doc, "time");
	double dt = t->previous ? now - number(t->previous, "time") : 0;

	if (!t->once && isatty(STDOUT_FILENO))
		fputs("\033[H\033[2J", stdout);
	printf("mqttip top - prefix %s, %.0f nodes, %.0f online, interval %.0f s\n\n",
	       cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "prefix"))
		   ? cJSON_GetObjectItemCaseSensitive(doc, "prefix")->valuestring
		   : "?",
	       number(total, "nodes"), number(total, "online"), number(doc, "interval"));
	printf("%-16s %3s %-17s %10s %10s %10s %10s %6s %s\n", "NODE", "ON", "ADDRESS", "PUB/s",
	       "DLV/s", "PUB B/s", "DLV B/s", "HSHAKE", "DENIED s/p/r  IDLE");
	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(doc, "nodes"))
	{
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(n, "name");

		if (!cJSON_IsString(nm))
			continue;
		row(nm->valuestring, t->previous ? node_named(t->previous, nm->valuestring) : NULL,
		    n, dt, now);
	}
	row("(no identity)", prev_anon, anon, dt, now);
	row("TOTAL", prev_total, total, dt, now);
	fflush(stdout);
	cJSON_Delete(t->previous);
	t->previous = doc;
	t->shown++;
}

static void on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct top *t = arg;

	if (rc != 0) {
		fprintf(stderr, "mqttip top: broker refused the connection: %s\n",
			mosquitto_connack_string(rc));
		t->done = true;
		return;
	}
	mosquitto_subscribe(m, NULL, MQTTIP_METRICS_TOPIC, 0);
}

static void on_subscribe(struct mosquitto *m, void *arg, int mid, int count, const int *granted)
{
	struct top *t = arg;

	(void)m;
	(void)mid;
	t->suback = count == 1 && granted[0] <= 2 ? 0 : 1;
	if (t->suback) {
		fprintf(stderr,
			"mqttip top: subscription to %s refused: the certificate's CN "
			"needs 'admin' in the plugin's policy file\n",
			MQTTIP_METRICS_TOPIC);
		t->done = true;
	}
}

static void on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	struct top *t = arg;
	cJSON *doc;

	(void)m;
	doc = cJSON_ParseWithLength(msg->payload, (size_t)msg->payloadlen);
	if (doc == NULL || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "total"))) {
		fprintf(stderr, "mqttip top: ignoring a malformed metrics document\n");
		cJSON_Delete(doc);
		return;
	}
	show(t, doc);
	if (t->once)
		t->done = true;
}

struct top_args {
	const char *url, *cert, *key, *cafile;
	bool once;
	int timeout_s;
};

static int parse_args(int argc, char **argv, struct top_args *a)
{
	memset(a, 0, sizeof(*a));
	a->timeout_s = TOP_DEFAULT_TIMEOUT;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char **slot = !strcmp(o, "--broker")   ? &a->url
				    : !strcmp(o, "--cert")   ? &a->cert
				    : !strcmp(o, "--key")    ? &a->key
				    : !strcmp(o, "--cafile") ? &a->cafile
							     : NULL;

		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			usage(stdout);
			return 1;
		} else if (!strcmp(o, "--once")) {
			a->once = true;
		} else if (!strcmp(o, "--timeout") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);

			if (*end != '\0' || v < 1 || v > 86400)
				return -1;
			a->timeout_s = (int)v;
		} else if (slot != NULL && i + 1 < argc) {
			*slot = argv[++i];
		} else {
			return -1;
		}
	}
	return a->url && a->cert && a->key && a->cafile ? 0 : -1;
}

int cmd_top(int argc, char **argv)
{
	struct top_args a;
	struct top t = {.suback = -1};
	char host[TOP_HOST_MAX], err[256];
	struct mosquitto *m;
	bool tls;
	int port, rc = parse_args(argc, argv, &a);
	time_t start = time(NULL);

	if (rc > 0)
		return 0;
	if (rc < 0) {
		usage(stderr);
		return MQTTIP_EXIT_USAGE;
	}
	if (broker_parse_url(a.url, &tls, host, sizeof(host), &port, err, sizeof(err)) != 0) {
		fprintf(stderr, "mqttip top: %s\n", err);
		return MQTTIP_EXIT_USAGE;
	}
	t.once = a.once;
	t.timeout_s = a.timeout_s;
	mosquitto_lib_init();
	m = mosquitto_new(NULL, true, &t);
	if (m == NULL) {
		fprintf(stderr, "mqttip top: out of memory\n");
		return MQTTIP_EXIT_FAILED;
	}
	mosquitto_connect_callback_set(m, on_connect);
	mosquitto_subscribe_callback_set(m, on_subscribe);
	mosquitto_message_callback_set(m, on_message);
	if (tls && mosquitto_tls_set(m, a.cafile, NULL, a.cert, a.key, NULL) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqttip top: cannot use --cafile/--cert/--key (check the paths)\n");
		rc = MQTTIP_EXIT_FAILED;
	} else if ((rc = mosquitto_connect(m, host, port, 30)) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqttip top: cannot connect to %s: %s\n", a.url,
			mosquitto_strerror(rc));
		rc = MQTTIP_EXIT_FAILED;
	} else {
		rc = 0;
		while (!t.done) {
			int lrc = mosquitto_loop(m, 500, 1);

			if (lrc != MOSQ_ERR_SUCCESS && t.once) {
				fprintf(stderr, "mqttip top: connection lost: %s\n",
					mosquitto_strerror(lrc));
				break;
			}
			if (lrc != MOSQ_ERR_SUCCESS)
				mosquitto_reconnect(m);
			if (t.once && time(NULL) - start > t.timeout_s) {
				fprintf(
				    stderr,
				    "mqttip top: no metrics document within %d s (is the plugin "
				    "loaded, metrics_interval > 0?)\n",
				    t.timeout_s);
				break;
			}
		}
		rc = t.shown > 0 && t.suback == 0 ? 0 : MQTTIP_EXIT_FAILED;
		mosquitto_disconnect(m);
	}
	cJSON_Delete(t.previous);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return rc;
}
