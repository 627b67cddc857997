/* bundle.h - the text blocks mqttip's key files are made of (docs/PKI.md), PEM-like so that a
 * small parser on a microcontroller reads them:
 *   -----BEGIN <LABEL>-----
 *   standard base64 with padding, 64 characters a line
 *   -----END <LABEL>-----
 * Text between blocks is ignored (comments for humans). The reader here is the only one: `mqttip`
 * (PKI files, identity) and the device firmware (its bundle) both use it. It is bounded,
 * allocation-free, and decodes a block straight into the caller's buffer. A node bundle (the
 * `.bundle` file of `mqttip pki issue`) holds the blocks a node needs; bundle_parse() reads the
 * six a device uses. */
#ifndef MQTTIP_BUNDLE_H
#define MQTTIP_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define BUNDLE_LABEL_NETWORK_CA	    "MQTTIP NETWORK CA"
#define BUNDLE_LABEL_NETWORK_CA_KEY "MQTTIP NETWORK CA KEY"
#define BUNDLE_LABEL_NODE_CERT	    "MQTTIP NODE CERTIFICATE"
#define BUNDLE_LABEL_NODE_KEY	    "MQTTIP NODE KEY"
#define BUNDLE_LABEL_BROKER_CA	    "MQTTIP BROKER CA"
#define BUNDLE_LABEL_CLIENT_CERT    "MQTTIP CLIENT CERTIFICATE"
#define BUNDLE_LABEL_CLIENT_KEY	    "MQTTIP CLIENT KEY"
#define BUNDLE_LABEL_REVOCATION	    "MQTTIP REVOCATION LIST" /* PROTOCOL.md 4.8 */
#define BUNDLE_LABEL_X509	    "CERTIFICATE"
#define BUNDLE_LABEL_X509_CRL	    "X509 CRL"

#define BUNDLE_LABEL_MAX 48
#define BUNDLE_X509_MAX	 1536 /* one DER certificate (ECDSA P-256: about 500 bytes) */
#define BUNDLE_KEY_MAX	 256  /* PKCS#8 DER of a P-256 key: 138 bytes */
#define BUNDLE_TEXT_MAX	 8192 /* a bundle file is about 3 KB of text */

struct bundle_block {
	char label[BUNDLE_LABEL_MAX];
	size_t len; /* decoded bytes */
};

/* Finds the next block at or after *pos, decodes it into out (cap bytes) and advances *pos past
 * it. Returns 1 when a block was decoded, 0 when there is none left, -1 when a block is malformed
 * (no END line, label too long or empty, bad base64) or larger than cap. */
int bundle_block_next(const char *text, size_t len, size_t *pos, struct bundle_block *b,
		      uint8_t *out, size_t cap);
/* The first block with this label, decoded into out; returns its length, or -1 when absent,
 * malformed or larger than cap. Blocks before it are skipped without decoding. */
long bundle_block_find(const char *text, size_t len, const char *label, uint8_t *out, size_t cap);

/* What a device needs from its bundle: the broker CA, its client certificate and PKCS#8 key (DER,
 * for TLS to the broker), the network CA public key, its VPN node certificate and X25519 key. */
struct bundle {
	uint8_t broker_ca[BUNDLE_X509_MAX];
	size_t broker_ca_len;
	uint8_t client_cert[BUNDLE_X509_MAX];
	size_t client_cert_len;
	uint8_t client_key[BUNDLE_KEY_MAX];
	size_t client_key_len;
	uint8_t network_ca[MQTTIP_NETWORK_ID_LEN];
	uint8_t node_cert[MQTTIP_CERT_MAX_LEN];
	size_t node_cert_len;
	uint8_t node_key[MQTTIP_KEY_LEN];
};

/* Fills b from text[0..len). Returns 0, or -1 with *what naming the block that is missing or
 * malformed (a static string). b holds private keys: wipe it; it is wiped on failure. */
int bundle_parse(const char *text, size_t len, struct bundle *b, const char **what);
void bundle_wipe(struct bundle *b);

#endif
