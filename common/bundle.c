/* bundle.c - reading the PEM-like blocks of our files (bundle.h). */
#include "bundle.h"

#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#define BEGIN_MARK "-----BEGIN "
#define END_MARK   "-----END "
#define DASHES	   "-----"

static const char *find(const char *hay, size_t hay_len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= hay_len; i++) {
		if (!memcmp(hay + i, needle, n))
			return hay + i;
	}
	return NULL;
}

/* The next block at or after *pos: its label, its base64 body [*body, *body_end) and the offset
 * after its END line. 1, 0 (none left) or -1 (malformed). */
static int locate(const char *text, size_t len, size_t pos, struct bundle_block *b,
		  const char **body, const char **body_end, size_t *next)
{
	const char *end = text + len, *begin, *label, *label_end, *stop;
	char end_line[BUNDLE_LABEL_MAX + 16];
	size_t label_len;

	if (pos >= len)
		return 0;
	begin = find(text + pos, len - pos, BEGIN_MARK);
	/* "-----END " never matches BEGIN_MARK, so an END line is never taken for a BEGIN */
	if (!begin)
		return 0;
	label = begin + strlen(BEGIN_MARK);
	label_end = find(label, (size_t)(end - label), DASHES);
	if (!label_end)
		return -1;
	label_len = (size_t)(label_end - label);
	if (label_len == 0 || label_len >= sizeof(b->label) || memchr(label, '\n', label_len))
		return -1;
	memcpy(b->label, label, label_len);
	b->label[label_len] = '\0';
	*body = label_end + strlen(DASHES);
	memcpy(end_line, END_MARK, strlen(END_MARK));
	memcpy(end_line + strlen(END_MARK), b->label, label_len);
	memcpy(end_line + strlen(END_MARK) + label_len, DASHES, sizeof(DASHES));
	stop = find(*body, (size_t)(end - *body), end_line);
	if (!stop)
		return -1;
	*body_end = stop;
	*next = (size_t)(stop - text) + strlen(end_line);
	return 1;
}

static int decode(const char *body, const char *body_end, uint8_t *out, size_t cap, size_t *len)
{
	return sodium_base642bin(out, cap, body, (size_t)(body_end - body), "\r\n\t ", len, NULL,
				 sodium_base64_VARIANT_ORIGINAL) == 0
		   ? 0
		   : -1;
}

int bundle_block_next(const char *text, size_t len, size_t *pos, struct bundle_block *b,
		      uint8_t *out, size_t cap)
{
	const char *body, *body_end;
	size_t next;
	int rc = locate(text, len, *pos, b, &body, &body_end, &next);

	if (rc != 1)
		return rc;
	if (decode(body, body_end, out, cap, &b->len))
		return -1;
	*pos = next;
	return 1;
}

long bundle_block_find(const char *text, size_t len, const char *label, uint8_t *out, size_t cap)
{
	struct bundle_block b;
	const char *body, *body_end;
	size_t pos = 0, next;

	while (locate(text, len, pos, &b, &body, &body_end, &next) == 1) {
		if (!strcmp(b.label, label))
			return decode(body, body_end, out, cap, &b.len) ? -1 : (long)b.len;
		pos = next;
	}
	return -1;
}

/* One block of the bundle into out; exact: it must fill cap. */
static bool get(const char *text, size_t len, const char *label, uint8_t *out, size_t cap,
		bool exact, size_t *n_out, const char **what)
{
	long n = bundle_block_find(text, len, label, out, cap);

	if (n <= 0 || (exact && (size_t)n != cap)) {
		*what = label;
		return false;
	}
	if (n_out)
		*n_out = (size_t)n;
	return true;
}

int bundle_parse(const char *text, size_t len, struct bundle *b, const char **what)
{
	memset(b, 0, sizeof(*b));
	if (!get(text, len, BUNDLE_LABEL_BROKER_CA, b->broker_ca, sizeof(b->broker_ca), false,
		 &b->broker_ca_len, what) ||
	    !get(text, len, BUNDLE_LABEL_CLIENT_CERT, b->client_cert, sizeof(b->client_cert), false,
		 &b->client_cert_len, what) ||
	    !get(text, len, BUNDLE_LABEL_CLIENT_KEY, b->client_key, sizeof(b->client_key), false,
		 &b->client_key_len, what) ||
	    !get(text, len, BUNDLE_LABEL_NETWORK_CA, b->network_ca, sizeof(b->network_ca), true,
		 NULL, what) ||
	    !get(text, len, BUNDLE_LABEL_NODE_CERT, b->node_cert, sizeof(b->node_cert), false,
		 &b->node_cert_len, what) ||
	    !get(text, len, BUNDLE_LABEL_NODE_KEY, b->node_key, sizeof(b->node_key), true, NULL,
		 what)) {
		bundle_wipe(b);
		return -1;
	}
	*what = NULL;
	return 0;
}

void bundle_wipe(struct bundle *b)
{
	sodium_memzero(b, sizeof(*b));
}
