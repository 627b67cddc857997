/* pki_block.c - writing the PEM-like blocks of our files (common/bundle.h reads them). */
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
