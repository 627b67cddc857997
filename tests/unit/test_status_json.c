/* test_status_json.c - the document of `mqttip status --json` (agent/status_json.c): it parses,
 * and strings that hold JSON's special characters (quotes, backslashes, control characters) come
 * back byte for byte. A node name cannot hold them (common/cert.c allows A-Z a-z 0-9 . _ -), so
 * the node and peer names here are set in the daemon's state directly, as the builder must not
 * rely on that rule; the interface name and the broker host can hold them in a real agent
 * (agent_statusjson, integration). Also: the field types of docs/STATUS.md, nulls, and 64-bit
 * counters written exactly. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "daemon.h"
#include "status_json.h"

#define NASTY_IF   "q\"b\\c"
#define NASTY_NODE "a\"b\\c"
#define NASTY_PEER "p\"\\\x01\n\tq"
#define NASTY_HOST "h\"o\\st"
#define NASTY_ERR  "cannot resolve h\"o\\st: \"Name\" \\ unknown\r\n"

static const cJSON *at(const cJSON *o, const char *path)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = cJSON_IsArray(o) ? cJSON_GetArrayItem(o, atoi(k))
				     : cJSON_GetObjectItemCaseSensitive(o, k);
	return o;
}

static int is_string(const cJSON *doc, const char *path, const char *want)
{
	const cJSON *v = at(doc, path);

	if (cJSON_IsString(v) && !strcmp(v->valuestring, want))
		return 1;
	fprintf(stderr, "%s: %s\n", path, cJSON_IsString(v) ? v->valuestring : "(not a string)");
	return 0;
}

static void test_document(void)
{
	struct daemon *d = calloc(1, sizeof(*d));
	struct peer *peers = calloc(2, sizeof(*peers));
	struct broker_endpoint *e;
	char *text;
	size_t len = 0;
	cJSON *doc;

	snprintf(d->cfg.ifname, sizeof(d->cfg.ifname), "%s", NASTY_IF);
	d->node.id.secure = true;
	snprintf(d->node.id.cert.name, sizeof(d->node.id.cert.name), "%s", NASTY_NODE);
	netaddr_parse("10.0.1.1", 8, &d->node.id.own[0]);
	netaddr_parse("fd00:1::1", 9, &d->node.id.own[1]);
	d->node.id.n_own = 2;
	d->start_ms = 1000;
	e = &d->broker.ep[0];
	snprintf(e->url, sizeof(e->url), "mqtts://%s:8883", NASTY_HOST);
	snprintf(e->host, sizeof(e->host), "%s", NASTY_HOST);
	e->port = 8883;
	e->tls = true;
	d->broker.n_ep = 2; /* the second URL empty: null */
	d->broker.connects = 3;
	snprintf(d->broker.last_error, sizeof(d->broker.last_error), "%s", NASTY_ERR);
	d->broker.last_error_unix = 1;
	d->node.drops[DROP_REPLAY] = 7;
	d->node.peers.peers = peers;
	d->node.peers.cap = 2;
	peers[1].used = true;
	snprintf(peers[1].cert.name, sizeof(peers[1].cert.name), "%s", NASTY_PEER);
	netaddr_parse("10.0.1.2", 8, &peers[1].addr);
	peers[1].stats.rx_bytes = UINT64_C(18446744073709551615);
	peers[1].handshake_done_ms = 2000;

	text = status_json(d, 5500, &len);
	CHECK(text != NULL);
	if (text == NULL)
		return;
	CHECK_EQ_INT(len, strlen(text));
	CHECK(len > 0 && text[len - 1] == '\n' && strchr(text, '\n') == text + len - 1);
	doc = cJSON_Parse(text);
	CHECK(doc != NULL);
	if (doc == NULL) {
		fprintf(stderr, "not JSON: %s", text);
		free(text);
		return;
	}
	CHECK(is_string(doc, "interface", NASTY_IF));
	CHECK(is_string(doc, "node", NASTY_NODE));
	CHECK(cJSON_IsTrue(at(doc, "secure")));
	CHECK_EQ_INT(at(doc, "uptime_s")->valuedouble, 4);
	CHECK(is_string(doc, "addresses.0", "10.0.1.1"));
	CHECK(is_string(doc, "addresses.1", "fd00:1::1"));
	CHECK(is_string(doc, "broker.url", "mqtts://" NASTY_HOST ":8883"));
	CHECK(is_string(doc, "broker.host", NASTY_HOST));
	CHECK(is_string(doc, "broker.urls.0", "mqtts://" NASTY_HOST ":8883"));
	CHECK(cJSON_IsNull(at(doc, "broker.urls.1")));
	CHECK(is_string(doc, "broker.last_error", NASTY_ERR));
	CHECK(cJSON_IsNumber(at(doc, "broker.last_error_time")));
	CHECK_EQ_INT(at(doc, "broker.port")->valuedouble, 8883);
	CHECK(cJSON_IsTrue(at(doc, "broker.tls")) && cJSON_IsFalse(at(doc, "broker.connected")));
	CHECK_EQ_INT(at(doc, "broker.connects")->valuedouble, 3);
	/* not connected: no protocol, no broker limits; no conflict */
	CHECK(cJSON_IsNull(at(doc, "broker.protocol")));
	CHECK(cJSON_IsNull(at(doc, "broker.max_packet")));
	CHECK(cJSON_IsNull(at(doc, "broker.size_limit")));
	CHECK(cJSON_IsNull(at(doc, "broker.conflict")));
	CHECK(cJSON_IsFalse(at(doc, "legacy.enabled")));
	CHECK_EQ_INT(at(doc, "legacy.rx_packets")->valuedouble, 0);
	CHECK_EQ_INT(at(doc, "drops.replay")->valuedouble, 7);
	CHECK(cJSON_IsNumber(at(doc, "drops.no_peer")));
	CHECK_EQ_INT(cJSON_GetArraySize(at(doc, "peers")), 1);
	CHECK(is_string(doc, "peers.0.name", NASTY_PEER));
	CHECK(is_string(doc, "peers.0.address", "10.0.1.2"));
	CHECK(cJSON_IsFalse(at(doc, "peers.0.session")));
	CHECK_EQ_INT(at(doc, "peers.0.handshake_age_ms")->valuedouble, 3500);
	CHECK(cJSON_IsNumber(at(doc, "peers.0.queued")));
	CHECK_EQ_INT(at(doc, "peers.0.drops.replay")->valuedouble, 0);
	/* a counter beyond 2^53 is written exactly, not rounded through a double */
	CHECK(strstr(text, "\"rx_bytes\":18446744073709551615,") != NULL);
	cJSON_Delete(doc);
	free(text);

	/* legacy only: node "" (not null), secure false; a peer without a handshake: null */
	d->node.id.secure = false;
	peers[1].handshake_done_ms = 0;
	text = status_json(d, 5500, &len);
	doc = text ? cJSON_Parse(text) : NULL;
	CHECK(doc != NULL);
	if (doc != NULL) {
		CHECK(is_string(doc, "node", ""));
		CHECK(cJSON_IsFalse(at(doc, "secure")));
		CHECK(cJSON_IsNull(at(doc, "peers.0.handshake_age_ms")));
	}
	cJSON_Delete(doc);
	free(text);
	free(peers);
	free(d);
}

int main(void)
{
	test_document();
	return check_done();
}
