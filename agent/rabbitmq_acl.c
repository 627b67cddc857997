/* rabbitmq_acl.c - RabbitMQ permission patterns for one node (rabbitmq_acl.h). Built as text
 * with a bounded appender; any overflow turns into an error, never a truncated pattern. */
#include "rabbitmq_acl.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* One IPv4 octet 0..255 in canonical decimal, as an ERE/PCRE group. */
#define ANY_OCTET "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
/* A level that can hold an IPv6 address in the topic spelling (no '.' there). */
#define ANY_V6		"[0-9a-f:]+"
#define BROADCAST_LEVEL "255-255-255-255"

struct text {
	char *buf;
	size_t cap, len;
	bool overflow;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->cap - t->len) {
		t->overflow = true;
		t->buf[t->len] = '\0';
		return;
	}
	t->len += (size_t)n;
}

/* Escapes the regex metacharacters a node name may hold ('.' only: names are [A-Za-z0-9._-]). */
static void put_literal(struct text *t, const char *s)
{
	for (; *s; s++)
		put(t, *s == '.' ? "\\%c" : "%c", *s);
}

/* Canonical decimals lo..hi (0 <= lo <= hi <= 255) as an alternation group, a decade at a time:
 * 0..255 gives "([0-9]|1[0-9]|...|25[0-5])". */
static void put_range(struct text *t, unsigned lo, unsigned hi)
{
	bool first = true;

	put(t, "(");
	for (unsigned v = lo; v <= hi;) {
		unsigned end = v < 10 ? 9 : v - v % 10 + 9;

		if (end > hi)
			end = hi;
		put(t, first ? "" : "|");
		first = false;
		if (v >= 10)
			put(t, "%u", v / 10);
		if (v == end)
			put(t, "%u", v % 10);
		else
			put(t, "[%u-%u]", v % 10, end % 10);
		v = end + 1;
	}
	put(t, ")");
}

/* Every address of prefix/len (IPv4) in the topic spelling "a-b-c-d". */
static void put_v4_prefix(struct text *t, const uint8_t b[4], uint8_t len)
{
	for (int i = 0; i < 4; i++) {
		int bits = (int)len - 8 * i;

		if (i > 0)
			put(t, "-");
		if (bits >= 8) {
			put(t, "%u", b[i]);
		} else if (bits <= 0) {
			put(t, ANY_OCTET);
		} else {
			unsigned mask = (0xffu << (8 - bits)) & 0xffu;

			put_range(t, b[i] & mask, (b[i] & mask) | (~mask & 0xffu));
		}
	}
}

static void put_any_v4(struct text *t)
{
	put(t, ANY_OCTET "-" ANY_OCTET "-" ANY_OCTET "-" ANY_OCTET);
}

static void put_address(struct text *t, const struct netaddr *a)
{
	char s[NETADDR_STR_MAX];

	if (netaddr_topic_format(a, s, sizeof(s)) == 0)
		t->overflow = true;
	else
		put(t, "%s", s);
}

/* Appends "a|b|..." for the node's own addresses of one family (0: both) and, when with_routes,
 * its routes; *count is the number of alternatives written so far (for the separators). */
static void put_sources(struct text *t, const struct rabbitmq_node *n, int family, bool with_routes,
			size_t *count)
{
	for (size_t i = 0; i < n->n_addrs; i++) {
		if (family && n->addrs[i].addr.family != family)
			continue;
		put(t, (*count)++ ? "|" : "");
		put_address(t, &n->addrs[i].addr);
	}
	for (size_t i = 0; with_routes && i < n->n_routes; i++) {
		if (family && n->routes[i].addr.family != family)
			continue;
		put(t, (*count)++ ? "|" : "");
		put_v4_prefix(t, n->routes[i].addr.bytes, n->routes[i].len);
	}
}

static size_t count_family(const struct rabbitmq_node *n, int family)
{
	size_t c = 0;

	for (size_t i = 0; i < n->n_addrs; i++)
		c += n->addrs[i].addr.family == family;
	for (size_t i = 0; i < n->n_routes; i++)
		c += n->routes[i].addr.family == family;
	return c;
}

/* The last level of a subscription filter the plugin allows: '*' (MQTT '+'), '#' or one
 * address. */
static void put_sender_level(struct text *t)
{
	put(t, "(\\*|#|");
	put_any_v4(t);
	put(t, "|" ANY_V6 ")");
}

static void put_write(struct text *t, const char *p, const struct rabbitmq_node *n)
{
	bool any = false;
	size_t count = 0;

	if (count_family(n, 4)) {
		put(t, "^%s\\.(kx\\.)?(", p);
		put_any_v4(t);
		put(t, ")\\.(");
		put_sources(t, n, 4, true, &count);
		put(t, ")$");
		any = true;
	}
	if (count_family(n, 6)) {
		count = 0;
		put(t, "%s^%s\\.(kx\\.)?" ANY_V6 "\\.(", any ? "|" : "", p);
		put_sources(t, n, 6, true, &count);
		put(t, ")$");
		any = true;
	}
	if (n->n_addrs) {
		count = 0;
		put(t, "%s^%s\\.cert\\.(", any ? "|" : "", p);
		put_sources(t, n, 0, false, &count);
		put(t, ")$");
		any = true;
	}
	/* the revocation list: signed by the network CA, any node may hand it on */
	put(t, "%s^%s\\.revocation$", any ? "|" : "", p);
}

static void put_read(struct text *t, const char *p, const struct rabbitmq_node *n)
{
	size_t count = 0;

	if (n->n_addrs || n->n_routes) {
		put(t, "^%s\\.(kx\\.)?(", p);
		put_sources(t, n, 0, true, &count);
		put(t, ")\\.");
		put_sender_level(t);
		put(t, "$|");
	}
	put(t, "^%s\\." BROADCAST_LEVEL "\\.", p);
	put_sender_level(t);
	put(t, "$|^%s\\.cert\\.", p);
	put_sender_level(t);
	put(t, "$|^%s\\.revocation$", p);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int rabbitmq_permissions(const char *prefix, const struct rabbitmq_node *node,
			 struct rabbitmq_perms *out, char *err, size_t errlen)
{
	struct text t;
	char queue[2 * MQTTIP_CERT_NAME_MAX + 32];

	if (prefix[0] == '\0' || strpbrk(prefix, "./+#*") != NULL ||
	    strspn(prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
		strlen(prefix))
		return fail(
		    err, errlen,
		    "topic prefix '%s': RabbitMQ patterns need letters, digits, '_' and '-' "
		    "only ('.' would split it into levels)",
		    prefix);
	for (size_t i = 0; i < node->n_routes; i++) {
		if (node->routes[i].addr.family != 4)
			return fail(
			    err, errlen,
			    "node %s has an IPv6 route: RabbitMQ topic patterns cannot express "
			    "one (compressed IPv6 text has no fixed prefix); give it an IPv4 "
			    "route or use mosquitto with the plugin",
			    node->name);
	}
	memset(out, 0, sizeof(*out));

	t = (struct text){queue, sizeof(queue), 0, false};
	put(&t, "mqtt-subscription-");
	put_literal(&t, node->name);
	put(&t, "qos[01]");
	if (t.overflow)
		return fail(err, errlen, "node name %s too long", node->name);
	snprintf(out->configure, sizeof(out->configure), "^%s$", queue);
	snprintf(out->write, sizeof(out->write), "^(amq\\.topic|%s)$", queue);
	snprintf(out->read, sizeof(out->read), "^(amq\\.topic|%s)$", queue);

	t = (struct text){out->topic_write, sizeof(out->topic_write), 0, false};
	put_write(&t, prefix, node);
	if (t.overflow)
		return fail(err, errlen, "node %s: write pattern too long (too many routes)",
			    node->name);
	t = (struct text){out->topic_read, sizeof(out->topic_read), 0, false};
	put_read(&t, prefix, node);
	if (t.overflow)
		return fail(err, errlen, "node %s: read pattern too long (too many routes)",
			    node->name);
	return 0;
}

int rabbitmq_routing_key(const char *topic, char *out, size_t cap)
{
	size_t n = strlen(topic);

	if (n + 1 > cap)
		return -1;
	for (size_t i = 0; i <= n; i++)
		out[i] = topic[i] == '/' ? '.' : topic[i] == '+' ? '*' : topic[i];
	return 0;
}
