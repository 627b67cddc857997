/* test_netaddr.c - canonical address text (RFC 5952) against hand-written expectations and against
 * glibc's inet_pton/inet_ntop as an independent implementation. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "netaddr.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* input -> its canonical spelling (equal when the input is canonical), NULL when not an address */
struct spelling {
	const char *input;
	const char *canonical;
};

static const struct spelling spellings[] = {
    /* IPv4 */
    {"0.0.0.0", "0.0.0.0"},
    {"10.0.1.2", "10.0.1.2"},
    {"255.255.255.255", "255.255.255.255"},
    {"192.168.100.9", "192.168.100.9"},
    {"01.2.3.4", NULL},
    {"1.2.3.04", NULL},
    {"00.0.0.0", NULL},
    {"1.2.3", NULL},
    {"1.2.3.4.5", NULL},
    {"256.1.1.1", NULL},
    {"1.2.3.256", NULL},
    {"1234.1.1.1", NULL},
    {"1..2.3", NULL},
    {"1.2.3.", NULL},
    {".1.2.3", NULL},
    {"0x1.2.3.4", NULL},
    {"1.2.3.-4", NULL},
    {"1.2.3.+4", NULL},
    {" 1.2.3.4", NULL},
    {"1.2.3.4 ", NULL},
    {"1.2.3.4/32", NULL},
    {"", NULL},
    /* RFC 5952 section 4.1: no leading zeros */
    {"2001:db8:aaaa:bbbb:cccc:dddd:eeee:1", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"},
    {"2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"},
    {"2001:db8:aaaa:bbbb:cccc:dddd:eeee:001", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"},
    {"2001:db8:aaaa:bbbb:cccc:dddd:eeee:01", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"},
    {"2001:0db8::1", "2001:db8::1"},
    {"::01", "::1"},
    /* 4.2.1: shorten as much as possible */
    {"2001:db8::2:1", "2001:db8::2:1"},
    {"2001:db8:0:0:0:0:2:1", "2001:db8::2:1"},
    {"2001:db8::0:2:1", "2001:db8::2:1"},
    {"2001:db8:0::2:1", "2001:db8::2:1"},
    /* 4.2.2: "::" never for one 16-bit group */
    {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
    {"2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
    {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
    {"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
    /* 4.2.3: the longest run; the first one on a tie */
    {"2001:0:0:1::1", "2001:0:0:1::1"},
    {"2001::1:0:0:0:1", "2001:0:0:1::1"},
    {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
    {"2001:db8::1:0:0:1", "2001:db8::1:0:0:1"},
    {"2001:db8:0:0:1::1", "2001:db8::1:0:0:1"},
    {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
    {"::1:0:0:0", "::1:0:0:0"},
    {"0:0:0:0:1::", "::1:0:0:0"},
    {"1::", "1::"},
    {"1:0:0:0:0:0:0:0", "1::"},
    /* 4.3: lower case */
    {"2001:DB8::1", "2001:db8::1"},
    {"2001:db8::A", "2001:db8::a"},
    {"FF02::1", "ff02::1"},
    /* all zeros, loopback */
    {"::", "::"},
    {"::0", "::"},
    {"0::", "::"},
    {"0:0:0:0:0:0:0:0", "::"},
    {"::1", "::1"},
    {"0:0:0:0:0:0:0:1", "::1"},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    /* section 5: only IPv4-mapped addresses are written with a dotted quad */
    {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
    {"::ffff:0.0.0.0", "::ffff:0.0.0.0"},
    {"::ffff:c000:201", "::ffff:192.0.2.1"},
    {"::FFFF:192.0.2.1", "::ffff:192.0.2.1"},
    {"0:0:0:0:0:ffff:192.0.2.1", "::ffff:192.0.2.1"},
    {"::c000:201", "::c000:201"},
    {"::192.0.2.1", "::c000:201"},
    {"64:ff9b::c000:201", "64:ff9b::c000:201"},
    {"64:ff9b::192.0.2.1", "64:ff9b::c000:201"},
    {"::ffff:192.0.2.01", NULL},
    /* not addresses at all */
    {"fe80::1%eth0", NULL},
    {"[::1]", NULL},
    {"::1 ", NULL},
    {":::1", NULL},
    {"1:::2", NULL},
    {"1::2::3", NULL},
    {":1::", NULL},
    {"1::2:", NULL},
    {"1:2:3:4:5:6:7", NULL},
    {"1:2:3:4:5:6:7:8:9", NULL},
    {"1:2:3:4:5:6:7:8::", NULL},
    {"12345::", NULL},
    {"g::1", NULL},
    {":", NULL},
    {"1.2.3.4::", NULL},
    {"::1.2.3.4:5", NULL},
    {"1:2:3:4:5:6:7:1.2.3.4", NULL},
};

static int system_parse(const char *text, struct netaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (strchr(text, ':') != NULL) {
		out->family = 6;
		return inet_pton(AF_INET6, text, out->bytes) == 1 ? 0 : -1;
	}
	out->family = 4;
	return inet_pton(AF_INET, text, out->bytes) == 1 ? 0 : -1;
}

static void test_spellings(void)
{
	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		const struct spelling *s = &spellings[i];
		struct netaddr ours, sys;
		char text[NETADDR_STR_MAX];
		int rc = netaddr_parse(s->input, strlen(s->input), &ours);
		bool canonical = s->canonical != NULL && strcmp(s->input, s->canonical) == 0;

		if (rc != (canonical ? 0 : -1))
			fprintf(stderr, "spelling \"%s\": parse returned %d\n", s->input, rc);
		CHECK_EQ_INT(rc, canonical ? 0 : -1);
		if (s->canonical == NULL) {
			CHECK_EQ_INT(system_parse(s->input, &sys), -1); /* glibc agrees */
			continue;
		}
		/* the system reads the input; our formatter must give the hand-written spelling */
		CHECK_EQ_INT(system_parse(s->input, &sys), 0);
		CHECK(netaddr_format(&sys, text, sizeof(text)) == strlen(s->canonical));
		if (strcmp(text, s->canonical) != 0)
			fprintf(stderr, "format of \"%s\": got \"%s\", want \"%s\"\n", s->input,
				text, s->canonical);
		CHECK(strcmp(text, s->canonical) == 0);
		if (canonical) {
			CHECK(netaddr_equal(&ours, &sys));
			CHECK_MEM(ours.bytes, sys.bytes, 16);
		}
	}
}

static void test_exact_length(void)
{
	struct netaddr a;
	const char buf[] = "10.0.1.2garbage";
	char small[8];

	/* only len bytes are read: the rest of the buffer is not part of the address */
	CHECK_EQ_INT(netaddr_parse(buf, 8, &a), 0);
	CHECK_EQ_INT(a.family, 4);
	CHECK_MEM(a.bytes, "\x0a\x00\x01\x02", 4);
	CHECK_EQ_INT(netaddr_parse(buf, 9, &a), -1);
	CHECK_EQ_INT(netaddr_parse("10.0.1.2\0", 9, &a), -1);
	CHECK_EQ_INT(netaddr_parse("::1", 2, &a), 0); /* "::" */
	CHECK_EQ_INT(a.family, 6);
	CHECK_MEM(a.bytes, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);

	/* format: 0 when the buffer cannot hold the text and its NUL */
	CHECK_EQ_INT(netaddr_parse("10.0.1.2", 8, &a), 0);
	CHECK_EQ_INT(netaddr_format(&a, small, 8), 0);
	a.family = 5;
	CHECK_EQ_INT(netaddr_format(&a, small, sizeof(small)), 0);
}

static void test_prefixes(void)
{
	static const struct {
		const char *text;
		int rc;
		int family;
		int len;
	} cases[] = {
	    {"10.0.0.0/8", 0, 4, 8},
	    {"10.1.2.3/24", 0, 4, 24}, /* host bits allowed: an address with its prefix */
	    {"0.0.0.0/0", 0, 4, 0},
	    {"10.0.0.1/32", 0, 4, 32},
	    {"10.0.0.0/33", -1, 0, 0},
	    {"10.0.0.0/08", -1, 0, 0},
	    {"10.0.0.0/00", -1, 0, 0},
	    {"10.0.0.0/", -1, 0, 0},
	    {"10.0.0.0", -1, 0, 0},
	    {"/24", -1, 0, 0},
	    {"10.0.0.0/8/8", -1, 0, 0},
	    {"10.0.0.0/-1", -1, 0, 0},
	    {"10.0.0.0/1000", -1, 0, 0},
	    {"010.0.0.0/8", -1, 0, 0},
	    {"2001:db8::/32", 0, 6, 32},
	    {"2001:db8::1/64", 0, 6, 64},
	    {"::/0", 0, 6, 0},
	    {"::1/128", 0, 6, 128},
	    {"2001:db8::/129", -1, 0, 0},
	    {"2001:DB8::/32", -1, 0, 0},
	    {"2001:db8::/032", -1, 0, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct netaddr a;
		uint8_t len = 99;
		int rc = netaddr_parse_prefix(cases[i].text, strlen(cases[i].text), &a, &len);

		if (rc != cases[i].rc)
			fprintf(stderr, "prefix \"%s\": rc %d\n", cases[i].text, rc);
		CHECK_EQ_INT(rc, cases[i].rc);
		if (rc == 0) {
			CHECK_EQ_INT(a.family, cases[i].family);
			CHECK_EQ_INT(len, cases[i].len);
		}
	}
}

static struct netaddr addr(const char *text)
{
	struct netaddr a;

	CHECK_EQ_INT(netaddr_parse(text, strlen(text), &a), 0);
	return a;
}

static void test_predicates(void)
{
	struct netaddr net10 = addr("10.0.0.0"), v6net = addr("2001:db8::");
	struct netaddr a = addr("10.1.2.3"), b = addr("11.0.0.0"), c = addr("2001:db8::1");
	struct netaddr mapped = addr("::ffff:10.1.2.3");
	uint8_t b16[16];

	CHECK(netaddr_in_prefix(&a, &net10, 8));
	CHECK(!netaddr_in_prefix(&b, &net10, 8));
	CHECK(netaddr_in_prefix(&b, &net10, 4));
	CHECK(!netaddr_in_prefix(&b, &net10, 8));
	CHECK(netaddr_in_prefix(&b, &net10, 0));
	CHECK(!netaddr_in_prefix(&c, &net10, 0)); /* families never mix */
	CHECK(!netaddr_in_prefix(&mapped, &net10, 0));
	CHECK(!netaddr_in_prefix(&a, &net10, 33));
	CHECK(netaddr_in_prefix(&a, &a, 32));
	CHECK(netaddr_in_prefix(&a, &(struct netaddr){4, {10, 1, 2, 2}}, 31));
	CHECK(!netaddr_in_prefix(&a, &(struct netaddr){4, {10, 1, 2, 2}}, 32));
	CHECK(netaddr_in_prefix(&a, &(struct netaddr){4, {10, 1, 2, 0x80}}, 24));
	CHECK(!netaddr_in_prefix(&a, &(struct netaddr){4, {10, 1, 2, 0x80}}, 25));
	CHECK(netaddr_in_prefix(&c, &v6net, 32));
	CHECK(netaddr_in_prefix(&c, &v6net, 127));
	CHECK(!netaddr_in_prefix(&c, &v6net, 128));
	CHECK(!netaddr_in_prefix(&c, &v6net, 129));
	{
		struct netaddr d = addr("2001:db9::");

		CHECK(!netaddr_in_prefix(&d, &v6net, 32));
		CHECK(netaddr_in_prefix(&d, &v6net, 31));
	}

	CHECK(netaddr_equal(&a, &(struct netaddr){4, {10, 1, 2, 3}}));
	CHECK(!netaddr_equal(&a, &b));
	CHECK(!netaddr_equal(&a, &mapped));

	CHECK(netaddr_is_broadcast(&(struct netaddr){4, {255, 255, 255, 255}}));
	CHECK(!netaddr_is_broadcast(&(struct netaddr){4, {255, 255, 255, 254}}));
	CHECK(!netaddr_is_broadcast(&(struct netaddr){6, {255, 255, 255, 255}}));
	CHECK(netaddr_is_multicast(&(struct netaddr){4, {224, 0, 0, 1}}));
	CHECK(netaddr_is_multicast(&(struct netaddr){4, {239, 255, 255, 255}}));
	CHECK(!netaddr_is_multicast(&(struct netaddr){4, {223, 255, 255, 255}}));
	CHECK(!netaddr_is_multicast(&(struct netaddr){4, {240, 0, 0, 0}}));
	CHECK(!netaddr_is_multicast(&(struct netaddr){4, {255, 255, 255, 255}}));
	CHECK(netaddr_is_multicast(&(struct netaddr){6, {0xff, 0x02, [15] = 1}}));
	CHECK(!netaddr_is_multicast(&(struct netaddr){6, {0xfe, 0x80, [15] = 1}}));

	netaddr_to16(&a, b16);
	CHECK_MEM(b16, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\x01\x02\x03", 16);
	netaddr_to16(&c, b16);
	CHECK_MEM(b16, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
}

/* xorshift64: deterministic, so a failure reproduces */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void random_address(struct netaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (rng() % 4 == 0) {
		a->family = 4;
		for (int i = 0; i < 4; i++)
			a->bytes[i] = (uint8_t)rng();
		return;
	}
	a->family = 6;
	for (int i = 0; i < 8; i++) {
		/* mostly zero groups and short groups, so runs, ties and "::" positions vary */
		uint64_t r = rng();
		unsigned w = r % 3 == 0 ? 0 : (unsigned)(r >> 8) & (r % 5 == 0 ? 0xf : 0xffff);

		a->bytes[2 * i] = (uint8_t)(w >> 8);
		a->bytes[2 * i + 1] = (uint8_t)w;
	}
	if (rng() % 16 == 0) {
		memset(a->bytes, 0, 10);
		a->bytes[10] = a->bytes[11] = 0xff;
	}
}

static void test_random_round_trip(void)
{
	unsigned mismatches = 0;

	for (int i = 0; i < 10000; i++) {
		struct netaddr a, back, sys;
		char text[NETADDR_STR_MAX], expect[INET6_ADDRSTRLEN];
		size_t n;

		random_address(&a);
		n = netaddr_format(&a, text, sizeof(text));
		if (n == 0 || n != strlen(text)) {
			mismatches++;
			continue;
		}
		/* glibc must read our text as the same address... */
		if (system_parse(text, &sys) != 0 || !netaddr_equal(&sys, &a))
			mismatches++;
		/* ...and so must we */
		if (netaddr_parse(text, n, &back) != 0 || !netaddr_equal(&back, &a))
			mismatches++;
		/* glibc's inet_ntop follows RFC 5952 too, except that it also writes ::a.b.c.d for
		 * the deprecated IPv4-compatible addresses (RFC 5952 section 5 writes those in hex)
		 */
		if (a.family == 4) {
			snprintf(expect, sizeof(expect), "%u.%u.%u.%u", a.bytes[0], a.bytes[1],
				 a.bytes[2], a.bytes[3]);
		} else {
			static const uint8_t zeros[12] = {0};
			bool compat = memcmp(a.bytes, zeros, 12) == 0 &&
				      (a.bytes[12] != 0 || a.bytes[13] != 0);

			if (compat)
				continue;
			inet_ntop(AF_INET6, a.bytes, expect, sizeof(expect));
		}
		if (strcmp(expect, text) != 0) {
			fprintf(stderr, "round trip: ours \"%s\", glibc \"%s\"\n", text, expect);
			mismatches++;
		}
	}
	CHECK_EQ_INT(mismatches, 0);
}

/* The topic spelling (PROTOCOL.md 2.1): hand-written cases, then a round trip that must agree
 * with the canonical text with '-' for '.' and refuse the canonical dotted text. */
static void test_topic_spelling(void)
{
	static const struct {
		const char *text;
		const char *canonical; /* NULL: refused */
	} cases[] = {
	    {"10-0-1-2", "10.0.1.2"},
	    {"255-255-255-255", "255.255.255.255"},
	    {"0-0-0-0", "0.0.0.0"},
	    {"fd00::1", "fd00::1"},
	    {"2001:db8::", "2001:db8::"},
	    {"10.0.1.2", NULL},
	    {"10-0-1.2", NULL},
	    {"10-0-1", NULL},
	    {"10-0-1-2-", NULL},
	    {"-10-0-1-2", NULL},
	    {"10--0-1-2", NULL},
	    {"010-0-1-2", NULL},
	    {"10-0-1-256", NULL},
	    {"::ffff:10.0.1.2", NULL},
	    {"::ffff:10-0-1-2", NULL},
	    {"fd00-0-0-1", NULL},
	    {"FD00::1", NULL},
	    {"fd00::1-1", NULL},
	    {"", NULL},
	    {"1-2-3-4-5-6-7-8-9", NULL},
	};
	struct netaddr a, want, mapped;
	char text[NETADDR_STR_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = netaddr_topic_parse(cases[i].text, strlen(cases[i].text), &a);

		if ((rc == 0) != (cases[i].canonical != NULL))
			fprintf(stderr, "topic spelling \"%s\": rc %d\n", cases[i].text, rc);
		CHECK_EQ_INT(rc, cases[i].canonical ? 0 : -1);
		if (cases[i].canonical == NULL)
			continue;
		CHECK_EQ_INT(netaddr_parse(cases[i].canonical, strlen(cases[i].canonical), &want),
			     0);
		CHECK(netaddr_equal(&a, &want));
		CHECK_EQ_INT(netaddr_topic_format(&a, text, sizeof(text)), strlen(cases[i].text));
		CHECK(strcmp(text, cases[i].text) == 0);
	}
	/* exactly len bytes are read; no spelling with a dotted quad; capacity */
	CHECK_EQ_INT(netaddr_topic_parse("10-0-1-23", 8, &a), 0);
	CHECK(netaddr_equal(&a, &(struct netaddr){4, {10, 0, 1, 2}}));
	CHECK_EQ_INT(netaddr_parse("::ffff:10.0.1.2", 15, &mapped), 0);
	CHECK_EQ_INT(netaddr_topic_format(&mapped, text, sizeof(text)), 0);
	CHECK_EQ_INT(netaddr_topic_format(&want, text, 8), 0);

	for (int i = 0; i < 10000; i++) {
		struct netaddr back;
		char canon[NETADDR_STR_MAX];
		size_t n, m;

		random_address(&a);
		n = netaddr_topic_format(&a, text, sizeof(text));
		m = netaddr_format(&a, canon, sizeof(canon));
		if (a.family == 6 && memchr(canon, '.', m) != NULL) {
			CHECK_EQ_INT(n, 0);
			continue;
		}
		CHECK_EQ_INT(n, m);
		for (size_t k = 0; k < m; k++)
			CHECK(text[k] == (canon[k] == '.' ? '-' : canon[k]));
		CHECK_EQ_INT(netaddr_topic_parse(text, n, &back), 0);
		CHECK(netaddr_equal(&back, &a));
		if (a.family == 4)
			CHECK_EQ_INT(netaddr_topic_parse(canon, m, &back), -1);
	}
}

int main(void)
{
	test_spellings();
	test_topic_spelling();
	test_exact_length();
	test_prefixes();
	test_predicates();
	test_random_round_trip();
	return check_done();
}
