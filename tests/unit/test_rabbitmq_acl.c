/* test_rabbitmq_acl.c - the RabbitMQ permissions `mqttip pki rabbitmq` exports say exactly what
 * the plugin says: for a node with IPv4 and IPv6 addresses and IPv4 routes of several lengths,
 * every publish topic and subscription filter built from a pool of addresses (own, route edges,
 * others, broadcast, random) is allowed by the exported pattern (POSIX ERE, as RabbitMQ's PCRE
 * reads these patterns alike) exactly when plugin/acl.c allows it. */
#include "check.h"

#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "acl.h"
#include "rabbitmq_acl.h"

#define POOL_MAX 256

static struct netaddr pool[POOL_MAX];
static size_t npool;
static regex_t re_write, re_read;
static struct acl_config cfg = {"mqttip", 6, false, false};
static unsigned compared, mismatches;

static struct netaddr addr(const char *text)
{
	struct netaddr a;

	CHECK_EQ_INT(netaddr_parse(text, strlen(text), &a), 0);
	return a;
}

static void add(const char *text)
{
	pool[npool++] = addr(text);
}

static bool matches(regex_t *re, const char *topic)
{
	char key[TOPIC_MAX];

	CHECK_EQ_INT(rabbitmq_routing_key(topic, key, sizeof(key)), 0);
	return regexec(re, key, 0, NULL, 0) == 0;
}

static void compare(const char *what, const char *topic, bool plugin, bool rabbit)
{
	compared++;
	if (plugin != rabbit) {
		mismatches++;
		if (mismatches < 20)
			fprintf(stderr, "%s %s: plugin %s, RabbitMQ pattern %s\n", what, topic,
				plugin ? "allows" : "denies", rabbit ? "allows" : "denies");
	}
}

static void check_write(const struct acl_subject *s, const char *topic, bool retain)
{
	bool plugin = acl_write(&cfg, s, topic, strlen(topic), retain) == ACL_ALLOW;

	compare("publish", topic, plugin, matches(&re_write, topic));
}

static void check_subscribe(const struct acl_subject *s, const char *filter)
{
	bool plugin = acl_subscribe(&cfg, s, filter, strlen(filter)) == ACL_ALLOW;

	compare("subscribe", filter, plugin, matches(&re_read, filter));
}

static void spell(const struct netaddr *a, char out[NETADDR_STR_MAX])
{
	CHECK(netaddr_topic_format(a, out, NETADDR_STR_MAX) > 0);
}

int main(void)
{
	static const char *const fixed[] = {
	    "10.9.0.1",	    "fd00::1",	       "10.9.0.2",	 "fd00::2",
	    "192.168.5.0",  "192.168.5.255",   "192.168.4.255",	 "192.168.6.0",
	    "172.16.0.0",   "172.31.255.255",  "172.15.255.255", "172.32.0.0",
	    "10.200.128.0", "10.200.255.255",  "10.200.127.255", "10.201.0.0",
	    "10.9.0.100",   "255.255.255.255", "0.0.0.0",	 "1.2.3.4",
	    "::",	    "2001:db8::1",     "fd00:0:0:1::1",	 "192.168.50.1",
	    "100.64.1.1",   "10.9.0.10",       "10.90.0.1",	 "110.9.0.1",
	};
	struct cert_prefix addrs[2], routes[3];
	struct rabbitmq_node node = {"node-a.1", addrs, 2, routes, 3};
	struct rabbitmq_perms perms;
	struct identity id = {0};
	struct policy_rights rights = {0};
	struct acl_subject s = {&id, &rights, false};
	char err[256], topic[TOPIC_MAX], d[NETADDR_STR_MAX], o[NETADDR_STR_MAX];
	uint32_t rng = 0x9e3779b9u;

	addrs[0] = (struct cert_prefix){addr("10.9.0.1"), 24};
	addrs[1] = (struct cert_prefix){addr("fd00::1"), 64};
	routes[0] = (struct cert_prefix){addr("192.168.5.0"), 24};
	routes[1] = (struct cert_prefix){addr("172.16.0.0"), 12};
	routes[2] = (struct cert_prefix){addr("10.200.128.0"), 17};
	strcpy(id.name, "node-a.1");
	id.naddrs = 2;
	id.addrs[0] = addrs[0].addr;
	id.addrs[1] = addrs[1].addr;
	rights.nroutes = 3;
	for (int i = 0; i < 3; i++) {
		rights.routes[i].prefix = routes[i].addr;
		rights.routes[i].len = routes[i].len;
	}

	CHECK_EQ_INT(rabbitmq_permissions("mqttip", &node, &perms, err, sizeof(err)), 0);
	CHECK(strcmp(perms.configure, "^mqtt-subscription-node-a\\.1qos[01]$") == 0);
	CHECK(strcmp(perms.write, "^(amq\\.topic|mqtt-subscription-node-a\\.1qos[01])$") == 0);
	CHECK_EQ_INT(regcomp(&re_write, perms.topic_write, REG_EXTENDED | REG_NOSUB), 0);
	CHECK_EQ_INT(regcomp(&re_read, perms.topic_read, REG_EXTENDED | REG_NOSUB), 0);

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		add(fixed[i]);
	while (npool < POOL_MAX) {
		struct netaddr a = {4, {0}};

		for (int k = 0; k < 4; k++) {
			rng = rng * 1664525u + 1013904223u;
			a.bytes[k] = (uint8_t)(rng >> 24);
		}
		if (npool % 4 == 0)
			a.bytes[0] = 10; /* near the own network and the 10.200.128.0/17 route */
		if (npool % 4 == 1) {
			a.bytes[0] = 172; /* near 172.16.0.0/12 */
		}
		pool[npool++] = a;
	}

	for (size_t i = 0; i < npool; i++) {
		spell(&pool[i], d);
		snprintf(topic, sizeof(topic), "mqttip/cert/%s", d);
		check_write(&s, topic, true);
		snprintf(topic, sizeof(topic), "mqttip/cert/%s", d);
		check_subscribe(&s, topic);
		snprintf(topic, sizeof(topic), "mqttip/%s/+", d);
		check_subscribe(&s, topic);
		snprintf(topic, sizeof(topic), "mqttip/%s/#", d);
		check_subscribe(&s, topic);
		snprintf(topic, sizeof(topic), "mqttip/kx/%s/+", d);
		check_subscribe(&s, topic);
		snprintf(topic, sizeof(topic), "mqttip/+/%s", d);
		check_subscribe(&s, topic);
		snprintf(topic, sizeof(topic), "mqttip/kx/+/%s", d);
		check_subscribe(&s, topic);
		snprintf(topic, sizeof(topic), "mqttip/%s/+/+", d);
		check_subscribe(&s, topic);
		for (size_t j = 0; j < 40; j++) {
			size_t k = (i * 7 + j * 13) % npool;

			spell(&pool[k], o);
			snprintf(topic, sizeof(topic), "mqttip/%s/%s", d, o);
			check_write(&s, topic, false);
			check_subscribe(&s, topic);
			snprintf(topic, sizeof(topic), "mqttip/%s/%s", o, d);
			check_write(&s, topic, false);
			snprintf(topic, sizeof(topic), "mqttip/kx/%s/%s", d, o);
			check_write(&s, topic, false);
			check_subscribe(&s, topic);
			snprintf(topic, sizeof(topic), "mqttip/kx/%s/%s", o, d);
			check_write(&s, topic, false);
		}
	}
	for (const char *const *f =
		 (const char *const[]){"mqttip/#", "mqttip/+/+", "mqttip/+", "mqttip/cert/+",
				       "mqttip/cert/#", "mqttip/kx/+/+", "mqttip/kx/#", NULL};
	     *f; f++)
		check_subscribe(&s, *f);
	fprintf(stderr, "%u topics and filters compared, %u differ\n", compared, mismatches);
	CHECK(compared > 50000);
	CHECK_EQ_INT(mismatches, 0);

	/* Refused: a prefix RabbitMQ would split, an IPv6 route; no address: nothing to publish
	 * but the (CA-signed) revocation list. */
	CHECK_EQ_INT(rabbitmq_permissions("my.vpn", &node, &perms, err, sizeof(err)), -1);
	CHECK(strstr(err, "'.'") != NULL);
	routes[1] = (struct cert_prefix){addr("fd00:5::"), 64};
	CHECK_EQ_INT(rabbitmq_permissions("mqttip", &node, &perms, err, sizeof(err)), -1);
	CHECK(strstr(err, "IPv6 route") != NULL);
	node.n_addrs = node.n_routes = 0;
	CHECK_EQ_INT(rabbitmq_permissions("mqttip", &node, &perms, err, sizeof(err)), 0);
	CHECK(strcmp(perms.topic_write, "^mqttip\\.revocation$") == 0);
	regfree(&re_write);
	regfree(&re_read);
	return check_done();
}
