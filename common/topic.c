/* topic.c - the topic grammar of topic.h, parsed and built without allocation.
 *
 * Decisions beyond the header (docs/PROTOCOL.md "Topics"):
 * - An unusable prefix (empty, longer than TOPIC_PREFIX_MAX, or containing '/', '+', '#') makes
 *   every topic TOPIC_INVALID and every builder return 0: a configuration error fails closed.
 * - The topic equal to the prefix, and a filter whose first level is "+" or "#" (it covers the
 *   prefix), are TOPIC_INVALID, not TOPIC_OUTSIDE.
 * - DATA and KX need <dst> and <src> of the same family: an IP packet's addresses always are.
 * - IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are refused in topics: their 16-byte prologue
 *   form (netaddr_to16) is that of the IPv4 address, so they would give one endpoint two names.
 * - Secure-mode topics (data, kx, cert, inbox filters) spell addresses with netaddr_topic_format
 *   ("10-0-1-2"): RabbitMQ splits levels at '.', so a dotted quad would become four levels. The
 *   legacy topic keeps MQTT_VPN's dotted quad, which only works where MQTT_VPN works. */
#include "topic.h"

#include <string.h>

#define KX_LEVEL	 "kx"
#define CERT_LEVEL	 "cert"
#define REVOCATION_LEVEL "revocation"
#define MAX_LEVELS	 3 /* after the prefix: "kx", <dst>, <src> */

static size_t prefix_length(const char *prefix)
{
	size_t n = 0;

	while (n <= TOPIC_PREFIX_MAX && prefix[n] != '\0') {
		if (prefix[n] == '/' || prefix[n] == '+' || prefix[n] == '#')
			return 0;
		n++;
	}
	return n > TOPIC_PREFIX_MAX ? 0 : n;
}

static bool is_v4_mapped(const struct netaddr *a)
{
	static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return a->family == 6 && memcmp(a->bytes, mapped_prefix, sizeof(mapped_prefix)) == 0;
}

static bool usable_address(const struct netaddr *a)
{
	return (a->family == 4 || a->family == 6) && !is_v4_mapped(a);
}

/* Secure-mode levels use the topic spelling (netaddr_topic_parse, "10-0-1-2"); the legacy level
 * keeps MQTT_VPN's dotted quad. Neither admits an IPv4-mapped address. */
static int parse_address(const char *text, size_t len, bool legacy, struct netaddr *out)
{
	int rc = legacy ? netaddr_parse(text, len, out) : netaddr_topic_parse(text, len, out);

	if (rc != 0 || is_v4_mapped(out))
		return -1;
	return 0;
}

static bool level_is(const char *level, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(level, word, len) == 0;
}

/* levels[] are the non-empty, wildcard-free levels after the prefix. */
static enum topic_kind classify(const char *const level[], const size_t level_len[], size_t nlevels,
				struct topic *out)
{
	struct topic t;

	memset(&t, 0, sizeof(t));
	if (nlevels == 1 && level_is(level[0], level_len[0], REVOCATION_LEVEL)) {
		t.kind = TOPIC_REVOCATION;
	} else if (nlevels == 1) {
		if (parse_address(level[0], level_len[0], true, &t.dst) != 0)
			return TOPIC_INVALID;
		t.kind = TOPIC_LEGACY;
	} else if (nlevels == 2 && level_is(level[0], level_len[0], CERT_LEVEL)) {
		if (parse_address(level[1], level_len[1], false, &t.dst) != 0)
			return TOPIC_INVALID;
		t.kind = TOPIC_CERT;
	} else if (nlevels == 2 || level_is(level[0], level_len[0], KX_LEVEL)) {
		size_t d = nlevels - 2;

		if (parse_address(level[d], level_len[d], false, &t.dst) != 0 ||
		    parse_address(level[d + 1], level_len[d + 1], false, &t.src) != 0 ||
		    t.dst.family != t.src.family)
			return TOPIC_INVALID;
		t.kind = nlevels == 2 ? TOPIC_DATA : TOPIC_KX;
	} else {
		return TOPIC_INVALID;
	}
	*out = t;
	return t.kind;
}

enum topic_kind topic_parse(const char *prefix, const char *topic, size_t len, struct topic *out)
{
	const char *level[MAX_LEVELS];
	size_t level_len[MAX_LEVELS];
	size_t plen = prefix_length(prefix), first_len, pos, nlevels = 0;
	const char *slash;

	memset(out, 0, sizeof(*out));
	out->kind = TOPIC_INVALID;
	if (plen == 0)
		return TOPIC_INVALID;

	slash = memchr(topic, '/', len);
	first_len = slash ? (size_t)(slash - topic) : len;
	if (first_len != plen || memcmp(topic, prefix, plen) != 0) {
		if (level_is(topic, first_len, "+") || level_is(topic, first_len, "#"))
			return TOPIC_INVALID;
		out->kind = TOPIC_OUTSIDE;
		return TOPIC_OUTSIDE;
	}
	if (slash == NULL)
		return TOPIC_INVALID;

	for (pos = plen + 1; pos < len; pos++) {
		char c = topic[pos];

		if (c == '+' || c == '#' || c == '\0')
			return TOPIC_INVALID;
	}
	pos = plen + 1;
	for (;;) {
		const char *end = memchr(topic + pos, '/', len - pos);
		size_t n = end ? (size_t)(end - (topic + pos)) : len - pos;

		if (n == 0 || nlevels == MAX_LEVELS)
			return TOPIC_INVALID;
		level[nlevels] = topic + pos;
		level_len[nlevels] = n;
		nlevels++;
		if (end == NULL)
			break;
		pos += n + 1;
	}

	return classify(level, level_len, nlevels, out);
}

/* A topic under construction: parts are appended while they fit; any overflow makes it 0. */
struct builder {
	char *buf;
	size_t cap, len;
	bool failed;
};

static void put_text(struct builder *b, const char *text, size_t n)
{
	if (b->failed || b->len + n + 1 > b->cap) {
		b->failed = true;
		return;
	}
	memcpy(b->buf + b->len, text, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static void put_address(struct builder *b, const struct netaddr *a, bool legacy)
{
	char text[NETADDR_STR_MAX];
	size_t n = 0;

	if (usable_address(a))
		n = legacy ? netaddr_format(a, text, sizeof(text))
			   : netaddr_topic_format(a, text, sizeof(text));

	if (n == 0)
		b->failed = true;
	else
		put_text(b, text, n);
}

static size_t build(char *buf, size_t cap, const char *prefix, const char *kind_level,
		    const struct netaddr *first, const struct netaddr *second, bool filter,
		    bool legacy)
{
	struct builder b = {buf, cap, 0, false};
	size_t plen = prefix_length(prefix);

	if (cap > 0)
		buf[0] = '\0';
	if (plen == 0)
		return 0;
	put_text(&b, prefix, plen);
	if (kind_level != NULL) {
		put_text(&b, "/", 1);
		put_text(&b, kind_level, strlen(kind_level));
	}
	if (first == NULL) {
		put_text(&b, "/+", 2); /* the whole kind: "<p>/cert/+" */
		filter = false;
	} else {
		put_text(&b, "/", 1);
		put_address(&b, first, legacy);
	}
	if (second != NULL && first != NULL) {
		if (second->family != first->family)
			b.failed = true;
		put_text(&b, "/", 1);
		put_address(&b, second, legacy);
	}
	if (filter)
		put_text(&b, "/+", 2);
	if (b.failed) {
		if (cap > 0)
			buf[0] = '\0';
		return 0;
	}
	return b.len;
}

size_t topic_data(char *buf, size_t cap, const char *prefix, const struct netaddr *dst,
		  const struct netaddr *src)
{
	return build(buf, cap, prefix, NULL, dst, src, false, false);
}

size_t topic_kx(char *buf, size_t cap, const char *prefix, const struct netaddr *dst,
		const struct netaddr *src)
{
	return build(buf, cap, prefix, KX_LEVEL, dst, src, false, false);
}

size_t topic_cert(char *buf, size_t cap, const char *prefix, const struct netaddr *owner)
{
	return build(buf, cap, prefix, CERT_LEVEL, owner, NULL, false, false);
}

size_t topic_legacy(char *buf, size_t cap, const char *prefix, const struct netaddr *dst)
{
	return build(buf, cap, prefix, NULL, dst, NULL, false, true);
}

size_t topic_data_inbox(char *buf, size_t cap, const char *prefix, const struct netaddr *own)
{
	return build(buf, cap, prefix, NULL, own, NULL, true, false);
}

size_t topic_kx_inbox(char *buf, size_t cap, const char *prefix, const struct netaddr *own)
{
	return build(buf, cap, prefix, KX_LEVEL, own, NULL, true, false);
}

size_t topic_cert_filter(char *buf, size_t cap, const char *prefix)
{
	return build(buf, cap, prefix, CERT_LEVEL, NULL, NULL, false, false);
}

size_t topic_revocation(char *buf, size_t cap, const char *prefix)
{
	size_t plen = prefix_length(prefix), n = plen + 1 + strlen(REVOCATION_LEVEL);

	if (plen == 0 || cap <= n) {
		if (cap > 0)
			buf[0] = '\0';
		return 0;
	}
	memcpy(buf, prefix, plen);
	buf[plen] = '/';
	memcpy(buf + plen + 1, REVOCATION_LEVEL, strlen(REVOCATION_LEVEL) + 1);
	return n;
}
