/* identity.h - who this node is: the broker credentials (X.509 client certificate and key, broker
 * CA) and the VPN credentials (node certificate, X25519 key, network CA, optional PSK), read from
 * a bundle (docs/PKI.md "Bundle") or from separate files, and checked against each other before
 * the daemon starts: the node certificate must verify against the network CA now, the X25519 key
 * must be the certificate's, the client certificate must verify against the broker CA. Failures
 * are one line in err naming the file and what to do. */
#ifndef MQTTIP_IDENTITY_H
#define MQTTIP_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "cert.h"
#include "config.h"
#include "proto.h"

struct identity {
	bool secure; /* false: legacy-only node without VPN credentials */
	uint8_t cert_bytes[MQTTIP_CERT_MAX_LEN];
	size_t cert_len;
	struct cert cert;
	uint8_t node_secret[MQTTIP_KEY_LEN];
	uint8_t node_public[MQTTIP_KEY_LEN];
	uint8_t network_id[MQTTIP_NETWORK_ID_LEN];
	uint8_t psk[MQTTIP_KEY_LEN];
	bool has_psk;
	uint8_t revocation[MQTTIP_REVOCATION_MAX_LEN]; /* the bundle's list, if it has one */
	size_t revocation_len;			       /* 0: none */
	X509 *client_cert;
	EVP_PKEY *client_key;
	X509 *broker_ca;
};

int identity_load(struct identity *id, const struct config *c, uint64_t now_unix, char *err,
		  size_t cap);
/* A TLS client context with the node's client certificate, trusting only the broker CA and
 * checking that the server certificate names host (DNS name or IP address). */
SSL_CTX *identity_tls_context(const struct identity *id, const char *host, char *err, size_t cap);
void identity_free(struct identity *id);

#endif
