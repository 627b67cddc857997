/* pki_block.h - the text blocks our files are made of, PEM-like so a small parser on an MCU
 * (or sodium_base642bin) reads them:
 *   -----BEGIN <LABEL>-----
 *   standard base64 with padding, 64 characters a line
 *   -----END <LABEL>-----
 * Text between blocks is ignored (comments for humans). Labels: docs/PKI.md. */
#ifndef MQTTIP_PKI_BLOCK_H
#define MQTTIP_PKI_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKI_LABEL_NETWORK_CA	 "MQTTIP NETWORK CA"
#define PKI_LABEL_NETWORK_CA_KEY "MQTTIP NETWORK CA KEY"
#define PKI_LABEL_NODE_CERT	 "MQTTIP NODE CERTIFICATE"
#define PKI_LABEL_NODE_KEY	 "MQTTIP NODE KEY"
#define PKI_LABEL_BROKER_CA	 "MQTTIP BROKER CA"
#define PKI_LABEL_CLIENT_CERT	 "MQTTIP CLIENT CERTIFICATE"
#define PKI_LABEL_CLIENT_KEY	 "MQTTIP CLIENT KEY"
#define PKI_LABEL_REVOCATION	 "MQTTIP REVOCATION LIST" /* PROTOCOL.md 4.8, bundle block */
#define PKI_LABEL_X509		 "CERTIFICATE"
#define PKI_LABEL_X509_CRL	 "X509 CRL"

#define PKI_LABEL_MAX 48
#define PKI_TEXT_MAX  16384

/* A bounded text being built; wiped by its owner (it may hold keys). */
struct pki_text {
	char buf[PKI_TEXT_MAX];
	size_t len;
	bool overflow;
};

void pki_text_printf(struct pki_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pki_text_block(struct pki_text *t, const char *label, const uint8_t *bin, size_t len);

struct pki_block {
	char label[PKI_LABEL_MAX];
	size_t len;
};

/* Finds the next block at or after *pos, decodes it into out (cap bytes), advances *pos past it.
 * Returns 1 when a block was decoded, 0 when there is none left, -1 when a block is malformed
 * (no END line, label mismatch, bad base64, too large). */
int pki_block_next(const char *text, size_t len, size_t *pos, struct pki_block *b, uint8_t *out,
		   size_t cap);
/* The first block with this label; returns its length, or -1 when absent or malformed. */
long pki_block_find(const char *text, size_t len, const char *label, uint8_t *out, size_t cap);

#endif
