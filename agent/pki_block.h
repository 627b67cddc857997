/* pki_block.h - writing the text blocks our files are made of (the format, its labels and its
 * reader: common/bundle.h; the files: docs/PKI.md). */
#ifndef MQTTIP_PKI_BLOCK_H
#define MQTTIP_PKI_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundle.h"

#define PKI_TEXT_MAX 16384

/* A bounded text being built; wiped by its owner (it may hold keys). */
struct pki_text {
	char buf[PKI_TEXT_MAX];
	size_t len;
	bool overflow;
};

void pki_text_printf(struct pki_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pki_text_block(struct pki_text *t, const char *label, const uint8_t *bin, size_t len);

#endif
