/* pki_block.c - writing and reading the PEM-like blocks of our files. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "pki_block.h"

#define BEGIN_MARK "-----BEGIN "
#define END_MARK   "-----END "
#define DASHES	   "-----"
#define B64_LINE   64

void pki_text_printf(struct pki_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(t->buf) - t->len) {
		t->overflow = true;
		return;
	}
	t->len += (size_t)n;
}

void pki_text_block(struct pki_text *t, const char *label, const uint8_t *bin, size_t len)
{
	char b64[PKI_TEXT_MAX];
	size_t b64_len;

	if (sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL) > sizeof(b64)) {
		t->overflow = true;
		return;
	}
	sodium_bin2base64(b64, sizeof(b64), bin, len, sodium_base64_VARIANT_ORIGINAL);
	b64_len = strlen(b64);
	pki_text_printf(t, BEGIN_MARK "%s" DASHES "\n", label);
	for (size_t i = 0; i < b64_len; i += B64_LINE) {
		size_t n = b64_len - i < B64_LINE ? b64_len - i : B64_LINE;

		pki_text_printf(t, "%.*s\n", (int)n, b64 + i);
	}
	pki_text_printf(t, END_MARK "%s" DASHES "\n", label);
	sodium_memzero(b64, sizeof(b64));
}

static const char *find(const char *hay, size_t hay_len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= hay_len; i++) {
		if (!memcmp(hay + i, needle, n))
			return hay + i;
	}
	return NULL;
}

int pki_block_next(const char *text, size_t len, size_t *pos, struct pki_block *b, uint8_t *out,
		   size_t cap)
{
	const char *end = text + len, *begin, *label, *label_end, *body, *stop;
	char end_line[PKI_LABEL_MAX + 16];
	size_t label_len, bin_len;

	if (*pos >= len)
		return 0;
	begin = find(text + *pos, len - *pos, BEGIN_MARK);
	/* A BEGIN line starts a line: "-----END " never matches BEGIN_MARK, so no extra check. */
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
	body = label_end + strlen(DASHES);
	snprintf(end_line, sizeof(end_line), END_MARK "%s" DASHES, b->label);
	stop = find(body, (size_t)(end - body), end_line);
	if (!stop)
		return -1;
	if (sodium_base642bin(out, cap, body, (size_t)(stop - body), "\r\n\t ", &bin_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	b->len = bin_len;
	*pos = (size_t)(stop - text) + strlen(end_line);
	return 1;
}

long pki_block_find(const char *text, size_t len, const char *label, uint8_t *out, size_t cap)
{
	uint8_t tmp[PKI_TEXT_MAX];
	struct pki_block b;
	size_t pos = 0;
	long found = -1;

	while (pki_block_next(text, len, &pos, &b, tmp, sizeof(tmp)) == 1) {
		if (!strcmp(b.label, label)) {
			if (b.len <= cap) {
				memcpy(out, tmp, b.len);
				found = (long)b.len;
			}
			break;
		}
	}
	sodium_memzero(tmp, sizeof(tmp));
	return found;
}
