/* test_topic.c - the topic grammar: hand-written topics of every kind and family, build->parse
 * round trips, and hostile names. Every topic is parsed from a heap copy of exactly its length
 * (no NUL), so a read past len shows up under AddressSanitizer. */
#include "check.h"
#include "topic.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static enum topic_kind parse_exact(const char *prefix, const char *topic, size_t len,
				   struct topic *out)
{
	char *copy = malloc(len ? len : 1);
	enum topic_kind kind;

	memcpy(copy, topic, len);
	kind = topic_parse(prefix, copy, len, out);
	free(copy);
	return kind;
}

static struct netaddr addr(const char *text)
{
	struct netaddr a;

	memset(&a, 0, sizeof(a));
	CHECK_EQ_INT(netaddr_parse(text, strlen(text), &a), 0);
	return a;
}

struct parse_case {
	const char *prefix;
	const char *topic;
	enum topic_kind kind;
	const char *dst;
	const char *src;
};

static const struct parse_case cases[] = {
    /* every kind, both families */
    {"mqttip", "mqttip/10-0-1-2/10-0-1-1", TOPIC_DATA, "10.0.1.2", "10.0.1.1"},
    {"mqttip", "mqttip/2001:db8::2/2001:db8::1", TOPIC_DATA, "2001:db8::2", "2001:db8::1"},
    {"mqttip", "mqttip/255-255-255-255/10-0-1-1", TOPIC_DATA, "255.255.255.255", "10.0.1.1"},
    {"mqttip", "mqttip/kx/10-0-1-2/10-0-1-1", TOPIC_KX, "10.0.1.2", "10.0.1.1"},
    {"mqttip", "mqttip/kx/fd00::2/fd00::1", TOPIC_KX, "fd00::2", "fd00::1"},
    {"mqttip", "mqttip/cert/10-0-1-1", TOPIC_CERT, "10.0.1.1", NULL},
    {"mqttip", "mqttip/cert/fd00::1", TOPIC_CERT, "fd00::1", NULL},
    {"mqttip", "mqttip/10.0.1.2", TOPIC_LEGACY, "10.0.1.2", NULL},
    {"mqttip", "mqttip/::1", TOPIC_LEGACY, "::1", NULL},
    {"mqttip", "mqttip/revocation", TOPIC_REVOCATION, NULL, NULL},
    {"mqttip", "mqttip/revocations", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/revocation/x", TOPIC_INVALID, NULL, NULL},
    {"vpn", "vpn/10-0-1-2/10-0-1-1", TOPIC_DATA, "10.0.1.2", "10.0.1.1"},
    {"$x", "$x/kx/::/::", TOPIC_KX, "::", "::"},
    /* outside the prefix */
    {"mqttip", "other/10-0-1-2/10-0-1-1", TOPIC_OUTSIDE, NULL, NULL},
    {"mqttip", "mqttipx/10.0.1.2", TOPIC_OUTSIDE, NULL, NULL},
    {"mqttip", "mqtti", TOPIC_OUTSIDE, NULL, NULL},
    {"mqttip", "MQTTIP/10.0.1.2", TOPIC_OUTSIDE, NULL, NULL},
    {"mqttip", "/mqttip/10.0.1.2", TOPIC_OUTSIDE, NULL, NULL},
    {"mqttip", "", TOPIC_OUTSIDE, NULL, NULL},
    {"mqttip", "$SYS/broker/mqttip/metrics", TOPIC_OUTSIDE, NULL, NULL},
    {"vpn", "mqttip/10-0-1-2/10-0-1-1", TOPIC_OUTSIDE, NULL, NULL},
    {"mqttip", "a+/x", TOPIC_OUTSIDE, NULL, NULL},
    /* wildcard filters that cover the prefix */
    {"mqttip", "#", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "+", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "+/10.0.1.2/+", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/#", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/+", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/10-0-1-2/+", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/kx/10-0-1-2/+", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/10-0-1-2/10-0-1-1#", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/cert/+", TOPIC_INVALID, NULL, NULL},
    /* the prefix itself, empty levels, trailing '/' */
    {"mqttip", "mqttip", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip//10-0-1-2", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/10-0-1-2/", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/10-0-1-2//10-0-1-1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/10-0-1-2/10-0-1-1/", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/kx//10-0-1-2/10-0-1-1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/cert/", TOPIC_INVALID, NULL, NULL},
    /* wrong arity */
    {"mqttip", "mqttip/kx", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/kx/10-0-1-2", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/kx/10-0-1-2/10-0-1-1/10-0-1-3", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/cert", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/cert/10-0-1-1/10-0-1-2", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/10-0-1-2/10-0-1-1/10-0-1-3", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/a/b/c/d", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/xx/10-0-1-2/10-0-1-1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/KX/10-0-1-2/10-0-1-1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/Cert/10-0-1-1", TOPIC_INVALID, NULL, NULL},
    /* non-canonical or foreign addresses */
    {"mqttip", "mqttip/010-0-1-2/10-0-1-1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/10-0-1-2/10-0-1-01", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/10.0.1.256", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/10.0.1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/2001:DB8::1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/kx/2001:db8:0:0:0:0:0:2/2001:db8::1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/cert/2001:0db8::1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/fe80::1%eth0", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/::ffff:10.0.1.2", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/::ffff:10.0.1.2/::ffff:10.0.1.1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/cert/::ffff:10.0.1.1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/ 10.0.1.2", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/kx", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/cert", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/hello", TOPIC_INVALID, NULL, NULL},
    /* protocol 2 spells IPv4 with '-' in secure topics (a broker may split levels at '.');
     * the legacy topic keeps MQTT_VPN's dotted quad; neither accepts the other spelling */
    {"mqttip", "mqttip/10.0.1.2/10.0.1.1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/kx/10.0.1.2/10.0.1.1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/cert/10.0.1.1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/10-0-1-2/10.0.1.1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/10-0-1-2", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/10-0-1.2/10-0-1-1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/10-0-1/10-0-1-1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/10-0-1-2-3/10-0-1-1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/-10-0-1-2/10-0-1-1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/10--0-1-2/10-0-1-1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/cert/::ffff:10-0-1-1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/cert/fd00-0-0-1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/fd00::2/fd00::1", TOPIC_DATA, "fd00::2", "fd00::1"},
    /* families differ between <dst> and <src> */
    {"mqttip", "mqttip/10-0-1-2/fd00::1", TOPIC_INVALID, NULL, NULL},
    {"mqttip", "mqttip/kx/fd00::2/10-0-1-1", TOPIC_INVALID, NULL, NULL},
    /* an unusable prefix fails closed */
    {"", "mqttip/10.0.1.2", TOPIC_INVALID, NULL, NULL},
    {"", "/10.0.1.2", TOPIC_INVALID, NULL, NULL},
    {"a/b", "a/b/10.0.1.2", TOPIC_INVALID, NULL, NULL},
    {"a+", "a+/10.0.1.2", TOPIC_INVALID, NULL, NULL},
    {"#", "other", TOPIC_INVALID, NULL, NULL},
    {"0123456789012345678901234567890123456789012345678901234567890123",
     "0123456789012345678901234567890123456789012345678901234567890123/10.0.1.2", TOPIC_LEGACY,
     "10.0.1.2", NULL},
    {"01234567890123456789012345678901234567890123456789012345678901234",
     "01234567890123456789012345678901234567890123456789012345678901234/10.0.1.2", TOPIC_INVALID,
     NULL, NULL},
};

static void test_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct parse_case *c = &cases[i];
		struct topic t;
		enum topic_kind kind;

		memset(&t, 0xa5, sizeof(t));
		kind = parse_exact(c->prefix, c->topic, strlen(c->topic), &t);
		if (kind != c->kind)
			fprintf(stderr, "\"%s\" under \"%s\": kind %d, want %d\n", c->topic,
				c->prefix, kind, c->kind);
		CHECK_EQ_INT(kind, c->kind);
		CHECK_EQ_INT(t.kind, c->kind);
		if (c->dst != NULL) {
			struct netaddr d = addr(c->dst);

			CHECK(netaddr_equal(&t.dst, &d));
		} else {
			CHECK_EQ_INT(t.dst.family, 0);
		}
		if (c->src != NULL) {
			struct netaddr s = addr(c->src);

			CHECK(netaddr_equal(&t.src, &s));
		} else {
			CHECK_EQ_INT(t.src.family, 0);
		}
	}
}

static void test_builders(void)
{
	struct netaddr a4 = addr("10.0.1.2"), b4 = addr("10.0.1.1");
	struct netaddr a6 = addr("2001:db8::2"), b6 = addr("2001:db8::1");
	struct netaddr mapped = addr("::ffff:10.0.1.2"), bogus = a4;
	char buf[TOPIC_MAX];
	const char *want;

	bogus.family = 5;
	CHECK_EQ_INT(topic_data(buf, sizeof(buf), "mqttip", &a4, &b4), 24);
	CHECK(strcmp(buf, "mqttip/10-0-1-2/10-0-1-1") == 0);
	CHECK_EQ_INT(topic_data(buf, sizeof(buf), "mqttip", &a6, &b6), 30);
	CHECK(strcmp(buf, "mqttip/2001:db8::2/2001:db8::1") == 0);
	CHECK(topic_kx(buf, sizeof(buf), "mqttip", &a4, &b4) == 27);
	CHECK(strcmp(buf, "mqttip/kx/10-0-1-2/10-0-1-1") == 0);
	CHECK(topic_kx(buf, sizeof(buf), "p", &a6, &b6) == 28);
	CHECK(strcmp(buf, "p/kx/2001:db8::2/2001:db8::1") == 0);
	CHECK(topic_cert(buf, sizeof(buf), "mqttip", &b4) == 20);
	CHECK(strcmp(buf, "mqttip/cert/10-0-1-1") == 0);
	CHECK(topic_cert(buf, sizeof(buf), "mqttip", &b6) == 23);
	CHECK(strcmp(buf, "mqttip/cert/2001:db8::1") == 0);
	CHECK(topic_legacy(buf, sizeof(buf), "mqttip", &a4) == 15);
	CHECK(strcmp(buf, "mqttip/10.0.1.2") == 0);
	CHECK(topic_data_inbox(buf, sizeof(buf), "mqttip", &a4) == 17);
	CHECK(strcmp(buf, "mqttip/10-0-1-2/+") == 0);
	CHECK(topic_kx_inbox(buf, sizeof(buf), "mqttip", &a6) == 23);
	CHECK(strcmp(buf, "mqttip/kx/2001:db8::2/+") == 0);

	/* refusals: mixed families, mapped or bogus addresses, unusable prefixes */
	CHECK_EQ_INT(topic_data(buf, sizeof(buf), "mqttip", &a4, &b6), 0);
	CHECK_EQ_INT(topic_kx(buf, sizeof(buf), "mqttip", &a6, &b4), 0);
	CHECK_EQ_INT(topic_data(buf, sizeof(buf), "mqttip", &mapped, &mapped), 0);
	CHECK_EQ_INT(topic_cert(buf, sizeof(buf), "mqttip", &mapped), 0);
	CHECK_EQ_INT(topic_legacy(buf, sizeof(buf), "mqttip", &bogus), 0);
	CHECK_EQ_INT(topic_legacy(buf, sizeof(buf), "", &a4), 0);
	CHECK_EQ_INT(topic_legacy(buf, sizeof(buf), "a/b", &a4), 0);
	CHECK_EQ_INT(topic_legacy(buf, sizeof(buf), "a#", &a4), 0);
	CHECK_EQ_INT(buf[0], '\0');

	/* capacity: every cap below length+1 gives 0, length+1 is enough */
	want = "mqttip/kx/2001:db8::2/2001:db8::1";
	for (size_t cap = 0; cap <= strlen(want) + 1; cap++) {
		char *small = malloc(cap ? cap : 1);
		size_t n = topic_kx(small, cap, "mqttip", &a6, &b6);

		if (cap <= strlen(want)) {
			CHECK_EQ_INT(n, 0);
		} else {
			CHECK_EQ_INT(n, strlen(want));
			CHECK(strcmp(small, want) == 0);
		}
		free(small);
	}

	/* the longest topic fits TOPIC_MAX with the longest prefix */
	{
		char prefix[TOPIC_PREFIX_MAX + 1];
		struct netaddr w = addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");

		memset(prefix, 'p', TOPIC_PREFIX_MAX);
		prefix[TOPIC_PREFIX_MAX] = '\0';
		CHECK(topic_kx(buf, sizeof(buf), prefix, &w, &w) > 0);
		CHECK(topic_kx_inbox(buf, sizeof(buf), prefix, &w) > 0);
	}
}

static uint64_t rng_state = 0x243f6a8885a308d3u;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void random_address(struct netaddr *a, int family)
{
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)family;
	for (int i = 0; i < (family == 4 ? 4 : 16); i++)
		a->bytes[i] = rng() % 3 == 0 ? 0 : (uint8_t)rng();
	if (family == 6 && a->bytes[10] == 0xff && a->bytes[11] == 0xff)
		a->bytes[0] = 0x20; /* mapped addresses are not topic addresses */
}

static void test_round_trip(void)
{
	unsigned failures = 0;

	for (int i = 0; i < 4000; i++) {
		int family = (rng() & 1) ? 4 : 6;
		struct netaddr d, s;
		struct topic t;
		char buf[TOPIC_MAX];
		size_t n;
		enum topic_kind want = (enum topic_kind)(TOPIC_DATA + i % 4);

		random_address(&d, family);
		random_address(&s, family);
		switch (want) {
		case TOPIC_DATA:
			n = topic_data(buf, sizeof(buf), "mqttip", &d, &s);
			break;
		case TOPIC_KX:
			n = topic_kx(buf, sizeof(buf), "mqttip", &d, &s);
			break;
		case TOPIC_CERT:
			n = topic_cert(buf, sizeof(buf), "mqttip", &d);
			break;
		default:
			n = topic_legacy(buf, sizeof(buf), "mqttip", &d);
			break;
		}
		if (n == 0 || parse_exact("mqttip", buf, n, &t) != want || t.kind != want ||
		    !netaddr_equal(&t.dst, &d) ||
		    ((want == TOPIC_DATA || want == TOPIC_KX) && !netaddr_equal(&t.src, &s))) {
			fprintf(stderr, "round trip failed: \"%s\"\n", buf);
			failures++;
		}
	}
	CHECK_EQ_INT(failures, 0);
}

static void test_hostile(void)
{
	static const char head[] = "mqttip/10-0-1-2/10-0-1-10";
	size_t huge = 70000;
	char *big = malloc(huge);
	struct topic t;

	/* huge topics: the prefix matches, the rest is garbage of every shape */
	memcpy(big, "mqttip/", 7);
	memset(big + 7, 'a', huge - 7);
	CHECK_EQ_INT(parse_exact("mqttip", big, huge, &t), TOPIC_INVALID);
	memset(big + 7, '/', huge - 7);
	CHECK_EQ_INT(parse_exact("mqttip", big, huge, &t), TOPIC_INVALID);
	memset(big, 'x', huge);
	CHECK_EQ_INT(parse_exact("mqttip", big, huge, &t), TOPIC_OUTSIDE);
	free(big);

	/* NUL bytes inside len, and a len that cuts the topic short */
	CHECK_EQ_INT(parse_exact("mqttip", "mqttip/10.0.1.2\0", 16, &t), TOPIC_INVALID);
	CHECK_EQ_INT(parse_exact("mqttip", "mqttip/10.0\0.1.2", 16, &t), TOPIC_INVALID);
	CHECK_EQ_INT(parse_exact("mqttip", "mqttip\0/10.0.1.2", 16, &t), TOPIC_OUTSIDE);
	CHECK_EQ_INT(parse_exact("mqttip", head, strlen(head) - 1, &t), TOPIC_DATA);
	CHECK(netaddr_equal(&t.src, &(struct netaddr){4, {10, 0, 1, 1}}));
	CHECK_EQ_INT(parse_exact("mqttip", head, 6, &t), TOPIC_INVALID);
	CHECK_EQ_INT(parse_exact("mqttip", head, 7, &t), TOPIC_INVALID);
	CHECK_EQ_INT(parse_exact("mqttip", head, 0, &t), TOPIC_OUTSIDE);
}

int main(void)
{
	test_table();
	test_builders();
	test_round_trip();
	test_hostile();
	return check_done();
}
