/* fw_bundle.h - the node bundle made by `mqttip pki issue` (docs/PKI.md "Bundle"), read on the
 * device: PEM-like text blocks ("-----BEGIN <LABEL>-----", base64, "-----END <LABEL>-----"), text
 * between them ignored. The device needs six of them: the broker CA, its client certificate and
 * PKCS#8 key (DER, for TLS to the broker) and the network CA public key, its VPN node certificate
 * and X25519 key (for the tunnel). Parsing is bounded, allocation-free and refuses a block that is
 * missing, malformed or larger than its slot. The struct holds private keys: wipe it. */
#ifndef MQTTIP_FW_BUNDLE_H
#define MQTTIP_FW_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define FW_BUNDLE_LABEL_BROKER_CA   "MQTTIP BROKER CA"
#define FW_BUNDLE_LABEL_CLIENT_CERT "MQTTIP CLIENT CERTIFICATE"
#define FW_BUNDLE_LABEL_CLIENT_KEY  "MQTTIP CLIENT KEY"
#define FW_BUNDLE_LABEL_NETWORK_CA  "MQTTIP NETWORK CA"
#define FW_BUNDLE_LABEL_NODE_CERT   "MQTTIP NODE CERTIFICATE"
#define FW_BUNDLE_LABEL_NODE_KEY    "MQTTIP NODE KEY"

#define FW_BUNDLE_X509_MAX 1536 /* one DER certificate (ECDSA P-256: about 500 bytes) */
#define FW_BUNDLE_KEY_MAX  256	/* PKCS#8 DER of a P-256 key: 138 bytes */
#define FW_BUNDLE_TEXT_MAX 8192 /* a bundle file is about 3 KB of text */

struct fw_bundle {
	uint8_t broker_ca[FW_BUNDLE_X509_MAX];
	size_t broker_ca_len;
	uint8_t client_cert[FW_BUNDLE_X509_MAX];
	size_t client_cert_len;
	uint8_t client_key[FW_BUNDLE_KEY_MAX];
	size_t client_key_len;
	uint8_t network_ca[MQTTIP_NETWORK_ID_LEN];
	uint8_t node_cert[MQTTIP_CERT_MAX_LEN];
	size_t node_cert_len;
	uint8_t node_key[MQTTIP_KEY_LEN];
};

/* Fills b from text[0..len). Returns 0, or -1 with *what naming the block that is missing or
 * malformed (a static string). b is wiped on failure. */
int fw_bundle_parse(const char *text, size_t len, struct fw_bundle *b, const char **what);
void fw_bundle_wipe(struct fw_bundle *b);

#endif
