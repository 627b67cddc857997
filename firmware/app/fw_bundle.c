#include "fw_bundle.h"

#include <string.h>

#include <sodium.h>

#define DASHES "-----"

/* Finds "needle" in hay[0..len); returns its offset or len. */
static size_t find(const char *hay, size_t len, size_t from, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = from; i + n <= len; i++) {
		if (memcmp(hay + i, needle, n) == 0)
			return i;
	}
	return len;
}

/* Decodes the block "label" into out; returns its length, or -1 when absent, malformed (no END,
 * bad base64) or larger than cap. Labels are matched whole, with the dashes around them. */
static long block(const char *text, size_t len, const char *label, uint8_t *out, size_t cap)
{
	char begin[64], end[64];
	size_t b, e, bin_len;

	if (strlen(label) + 16 > sizeof(begin))
		return -1;
	strcpy(begin, DASHES "BEGIN ");
	strcat(begin, label);
	strcat(begin, DASHES);
	strcpy(end, DASHES "END ");
	strcat(end, label);
	strcat(end, DASHES);
	b = find(text, len, 0, begin);
	if (b == len)
		return -1;
	b += strlen(begin);
	e = find(text, len, b, end);
	if (e == len)
		return -1;
	if (sodium_base642bin(out, cap, text + b, e - b, " \t\r\n", &bin_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return (long)bin_len;
}

int fw_bundle_parse(const char *text, size_t len, struct fw_bundle *b, const char **what)
{
	long n;

	memset(b, 0, sizeof(*b));
#define BLOCK(label, field, exact)                                                                 \
	n = block(text, len, label, b->field, sizeof(b->field));                                   \
	if (n <= 0 || ((exact) && (size_t)n != sizeof(b->field))) {                                \
		*what = label;                                                                     \
		goto fail;                                                                         \
	}
	BLOCK(FW_BUNDLE_LABEL_BROKER_CA, broker_ca, 0);
	b->broker_ca_len = (size_t)n;
	BLOCK(FW_BUNDLE_LABEL_CLIENT_CERT, client_cert, 0);
	b->client_cert_len = (size_t)n;
	BLOCK(FW_BUNDLE_LABEL_CLIENT_KEY, client_key, 0);
	b->client_key_len = (size_t)n;
	BLOCK(FW_BUNDLE_LABEL_NETWORK_CA, network_ca, 1);
	BLOCK(FW_BUNDLE_LABEL_NODE_CERT, node_cert, 0);
	b->node_cert_len = (size_t)n;
	BLOCK(FW_BUNDLE_LABEL_NODE_KEY, node_key, 1);
#undef BLOCK
	*what = NULL;
	return 0;
fail:
	fw_bundle_wipe(b);
	return -1;
}

void fw_bundle_wipe(struct fw_bundle *b)
{
	sodium_memzero(b, sizeof(*b));
}
