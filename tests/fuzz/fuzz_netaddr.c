/* fuzz_netaddr - the canonical text form is a bijection: whatever netaddr_parse accepts,
 * netaddr_format writes back byte for byte, and whatever is formatted parses back equal; the same
 * for the topic spelling (netaddr_topic_parse / netaddr_topic_format). */
#include "netaddr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_parse(const uint8_t *data, size_t size)
{
	struct netaddr a, again;
	char text[NETADDR_STR_MAX];
	size_t n;
	uint8_t plen;

	if (netaddr_parse((const char *)data, size, &a) == 0) {
		n = netaddr_format(&a, text, sizeof(text));
		if (n != size || memcmp(text, data, size) != 0)
			abort();
		if (netaddr_parse(text, n, &again) != 0 || !netaddr_equal(&a, &again))
			abort();
	}
	if (netaddr_topic_parse((const char *)data, size, &a) == 0) {
		n = netaddr_topic_format(&a, text, sizeof(text));
		if (n != size || memcmp(text, data, size) != 0 || memchr(text, '.', n) != NULL)
			abort();
	}
	if (netaddr_parse_prefix((const char *)data, size, &a, &plen) == 0) {
		char full[NETADDR_STR_MAX + 4];

		n = netaddr_format(&a, text, sizeof(text));
		if (n == 0 || plen > (a.family == 4 ? 32 : 128))
			abort();
		n = (size_t)snprintf(full, sizeof(full), "%s/%u", text, plen);
		if (n != size || memcmp(full, data, size) != 0)
			abort();
		if (!netaddr_in_prefix(&a, &a, plen))
			abort();
	}
}

/* The first 17 bytes as a family selector and address: format must give parseable text. */
static void check_format(const uint8_t *data, size_t size)
{
	struct netaddr a, back;
	char text[NETADDR_STR_MAX];
	size_t n;

	if (size < 17)
		return;
	memset(&a, 0, sizeof(a));
	a.family = (data[0] & 1) ? 6 : 4;
	memcpy(a.bytes, data + 1, a.family == 4 ? 4 : 16);
	n = netaddr_format(&a, text, sizeof(text));
	if (n == 0 || n != strlen(text))
		abort();
	if (netaddr_parse(text, n, &back) != 0 || !netaddr_equal(&a, &back))
		abort();
	if (netaddr_format(&a, text, n) != 0)
		abort();
	n = netaddr_topic_format(&a, text, sizeof(text));
	if (n != 0 && (netaddr_topic_parse(text, n, &back) != 0 || !netaddr_equal(&a, &back)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_parse(data, size);
	check_format(data, size);
	return 0;
}
