/* netaddr.c - canonical text forms of IPv4/IPv6 addresses (see netaddr.h).
 *
 * IPv6 is parsed in two steps: a permissive RFC 4291 reader computes the 16 bytes, then the
 * canonical form of those bytes is formatted and must equal the input byte for byte. So the set
 * of accepted strings is by construction exactly the image of netaddr_format, and a mistake in
 * the permissive reader can only refuse a canonical spelling, never accept a second one. */
#include "netaddr.h"

#include <string.h>

#define IPV4_TEXT_MAX 15 /* "255.255.255.255" */
#define IPV6_TEXT_MAX 39 /* eight groups of four hex digits; mapped forms are shorter */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Strict dotted decimal: four parts, 1..3 digits, no leading zero, each 0..255. */
static int parse_ipv4(const char *text, size_t len, uint8_t out[4])
{
	size_t pos = 0;

	if (len > IPV4_TEXT_MAX)
		return -1;
	for (int part = 0; part < 4; part++) {
		unsigned value = 0;
		size_t digits = 0;

		if (part > 0) {
			if (pos >= len || text[pos] != '.')
				return -1;
			pos++;
		}
		while (pos < len && is_digit(text[pos]) && digits < 3) {
			value = value * 10 + (unsigned)(text[pos] - '0');
			pos++;
			digits++;
		}
		if (digits == 0 || value > 255 || (digits > 1 && text[pos - digits] == '0'))
			return -1;
		out[part] = (uint8_t)value;
	}
	return pos == len ? 0 : -1;
}

/* Permissive RFC 4291 text (any case, leading zeros, "::" anywhere, trailing dotted quad). */
static int parse_ipv6_loose(const char *text, size_t len, uint8_t out[16])
{
	uint16_t words[8] = {0};
	int count = 0, gap = -1;
	size_t pos = 0;

	if (len >= 2 && text[0] == ':' && text[1] == ':') {
		gap = 0;
		pos = 2;
	} else if (len >= 1 && text[0] == ':') {
		return -1;
	}
	while (pos < len) {
		size_t start = pos;
		unsigned value = 0;
		int h;

		if (count == 8)
			return -1;
		while (pos < len && pos - start < 4 && (h = hex_value(text[pos])) >= 0) {
			value = value * 16 + (unsigned)h;
			pos++;
		}
		if (pos < len && text[pos] == '.') {
			uint8_t v4[4];

			if (count > 6 || parse_ipv4(text + start, len - start, v4) != 0)
				return -1;
			words[count++] = (uint16_t)(v4[0] << 8 | v4[1]);
			words[count++] = (uint16_t)(v4[2] << 8 | v4[3]);
			pos = len;
			break;
		}
		if (pos == start)
			return -1;
		words[count++] = (uint16_t)value;
		if (pos == len)
			break;
		if (text[pos] != ':')
			return -1;
		pos++;
		if (pos < len && text[pos] == ':') {
			if (gap >= 0)
				return -1;
			gap = count;
			pos++;
		} else if (pos == len) {
			return -1; /* a single trailing ':' */
		}
	}
	if (gap >= 0) {
		int tail = count - gap;

		if (count == 8)
			return -1; /* "::" must stand for at least one group */
		memmove(words + 8 - tail, words + gap, (size_t)tail * sizeof(words[0]));
		memset(words + gap, 0, (size_t)(8 - count) * sizeof(words[0]));
	} else if (count != 8) {
		return -1;
	}
	for (int i = 0; i < 8; i++) {
		out[2 * i] = (uint8_t)(words[i] >> 8);
		out[2 * i + 1] = (uint8_t)words[i];
	}
	return 0;
}

int netaddr_parse(const char *text, size_t len, struct netaddr *out)
{
	struct netaddr a;
	char canon[NETADDR_STR_MAX];

	memset(&a, 0, sizeof(a));
	if (len > IPV6_TEXT_MAX)
		return -1;
	if (memchr(text, ':', len) == NULL) {
		if (parse_ipv4(text, len, a.bytes) != 0)
			return -1;
		a.family = 4;
	} else {
		if (parse_ipv6_loose(text, len, a.bytes) != 0)
			return -1;
		a.family = 6;
		if (netaddr_format(&a, canon, sizeof(canon)) != len ||
		    memcmp(canon, text, len) != 0)
			return -1;
	}
	*out = a;
	return 0;
}

/* Appends decimal v (0..255 for octets, 0..128 for prefix lengths) without leading zeros. */
static size_t put_decimal(char *p, unsigned v)
{
	size_t n = 0;

	if (v >= 100)
		p[n++] = (char)('0' + v / 100);
	if (v >= 10)
		p[n++] = (char)('0' + v / 10 % 10);
	p[n++] = (char)('0' + v % 10);
	return n;
}

static size_t format_ipv4(const uint8_t b[4], char *p)
{
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		if (i > 0)
			p[n++] = '.';
		n += put_decimal(p + n, b[i]);
	}
	return n;
}

static bool is_v4_mapped(const uint8_t b[16])
{
	static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return memcmp(b, mapped_prefix, sizeof(mapped_prefix)) == 0;
}

/* RFC 5952 section 4: lower case, no leading zeros, the longest run (>= 2) of zero groups as
 * "::", the leftmost on a tie; section 5: only IPv4-mapped addresses use the dotted quad. */
static size_t format_ipv6(const uint8_t b[16], char *p)
{
	static const char hex[] = "0123456789abcdef";
	int best = -1, best_len = 0;
	size_t n = 0;

	if (is_v4_mapped(b)) {
		memcpy(p, "::ffff:", 7);
		return 7 + format_ipv4(b + 12, p + 7);
	}
	for (int i = 0; i < 8;) {
		int run = 0;

		while (i + run < 8 && b[2 * (i + run)] == 0 && b[2 * (i + run) + 1] == 0)
			run++;
		if (run > best_len) {
			best = i;
			best_len = run;
		}
		i += run > 0 ? run : 1;
	}
	if (best_len < 2) {
		best = -1;
		best_len = 0;
	}
	for (int i = 0; i < 8; i++) {
		unsigned w = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
		bool started = false;

		if (i == best) {
			p[n++] = ':';
			p[n++] = ':';
			i += best_len - 1;
			continue;
		}
		if (i > 0 && i != best + best_len)
			p[n++] = ':';
		for (int shift = 12; shift >= 0; shift -= 4) {
			unsigned nibble = (w >> shift) & 0xf;

			if (nibble != 0 || started || shift == 0) {
				p[n++] = hex[nibble];
				started = true;
			}
		}
	}
	return n;
}

size_t netaddr_format(const struct netaddr *a, char *buf, size_t cap)
{
	char tmp[NETADDR_STR_MAX];
	size_t n;

	if (a->family == 4)
		n = format_ipv4(a->bytes, tmp);
	else if (a->family == 6)
		n = format_ipv6(a->bytes, tmp);
	else
		return 0;
	if (n + 1 > cap)
		return 0;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return n;
}

/* The topic spelling is the canonical text with one byte substituted, so it inherits the
 * canonical form's bijection: IPv4 texts never hold '-', IPv6 texts hold '.' only when mapped. */
int netaddr_topic_parse(const char *text, size_t len, struct netaddr *out)
{
	char dotted[IPV4_TEXT_MAX];
	struct netaddr a;

	if (memchr(text, '.', len) != NULL)
		return -1;
	if (memchr(text, '-', len) == NULL) {
		if (netaddr_parse(text, len, &a) != 0 || a.family != 6)
			return -1;
	} else {
		if (len > IPV4_TEXT_MAX)
			return -1;
		for (size_t i = 0; i < len; i++)
			dotted[i] = text[i] == '-' ? '.' : text[i];
		if (netaddr_parse(dotted, len, &a) != 0 || a.family != 4)
			return -1;
	}
	*out = a;
	return 0;
}

size_t netaddr_topic_format(const struct netaddr *a, char *buf, size_t cap)
{
	size_t n = netaddr_format(a, buf, cap);

	if (n == 0)
		return 0;
	if (a->family == 6 && memchr(buf, '.', n) != NULL) {
		buf[0] = '\0';
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '.')
			buf[i] = '-';
	}
	return n;
}

int netaddr_parse_prefix(const char *text, size_t len, struct netaddr *out, uint8_t *prefix_len)
{
	const char *slash = memchr(text, '/', len);
	size_t addr_len, digits;
	unsigned value = 0, max_len;
	struct netaddr a;

	if (slash == NULL)
		return -1;
	addr_len = (size_t)(slash - text);
	digits = len - addr_len - 1;
	if (netaddr_parse(text, addr_len, &a) != 0)
		return -1;
	if (digits == 0 || digits > 3 || (digits > 1 && slash[1] == '0'))
		return -1;
	for (size_t i = 1; i <= digits; i++) {
		if (!is_digit(slash[i]))
			return -1;
		value = value * 10 + (unsigned)(slash[i] - '0');
	}
	max_len = a.family == 4 ? 32 : 128;
	if (value > max_len)
		return -1;
	*out = a;
	*prefix_len = (uint8_t)value;
	return 0;
}

bool netaddr_equal(const struct netaddr *a, const struct netaddr *b)
{
	if (a->family != b->family || (a->family != 4 && a->family != 6))
		return false;
	return memcmp(a->bytes, b->bytes, a->family == 4 ? 4 : 16) == 0;
}

bool netaddr_in_prefix(const struct netaddr *a, const struct netaddr *prefix, uint8_t prefix_len)
{
	unsigned full, rest;

	if (a->family != prefix->family || (a->family != 4 && a->family != 6))
		return false;
	if (prefix_len > (a->family == 4 ? 32 : 128))
		return false;
	full = prefix_len / 8u;
	rest = prefix_len % 8u;
	if (memcmp(a->bytes, prefix->bytes, full) != 0)
		return false;
	if (rest != 0) {
		uint8_t mask = (uint8_t)(0xffu << (8 - rest));

		if ((a->bytes[full] & mask) != (prefix->bytes[full] & mask))
			return false;
	}
	return true;
}

bool netaddr_is_broadcast(const struct netaddr *a)
{
	static const uint8_t all_ones[4] = {0xff, 0xff, 0xff, 0xff};

	return a->family == 4 && memcmp(a->bytes, all_ones, 4) == 0;
}

bool netaddr_is_multicast(const struct netaddr *a)
{
	if (a->family == 4)
		return (a->bytes[0] & 0xf0) == 0xe0; /* 224.0.0.0/4 */
	if (a->family == 6)
		return a->bytes[0] == 0xff; /* ff00::/8 */
	return false;
}

void netaddr_to16(const struct netaddr *a, uint8_t out[16])
{
	if (a->family == 4) {
		memset(out, 0, 10);
		out[10] = 0xff;
		out[11] = 0xff;
		memcpy(out + 12, a->bytes, 4);
	} else {
		memcpy(out, a->bytes, 16);
	}
}
