/* pki_nodecerts.h - one node's two certificates (X.509 client certificate, VPN node certificate)
 * made from its registry record, and its files in DIR/nodes/NAME/ (docs/PKI.md "Directory
 * layout", "Bundle"). Shared by `issue` (fresh keys) and `renew` (the node's keys kept, or fresh
 * ones with --new-key). */
#ifndef MQTTIP_PKI_NODECERTS_H
#define MQTTIP_PKI_NODECERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sodium.h>

#include "cert.h"
#include "pki_ca.h"
#include "pki_registry.h"
#include "pki_x509.h"

struct pki_nodecerts {
	const char *dir;
	struct pki_node *node; /* addresses and routes in; serials, not_after and key filled in */
	struct cert cert;
	uint8_t cert_bytes[MQTTIP_CERT_MAX_LEN];
	int cert_len;
	/* keys: set by the caller to keep a node's keys, or made by pki_nodecerts_make */
	uint8_t x25519_public[crypto_box_PUBLICKEYBYTES];
	uint8_t x25519_secret[crypto_box_SECRETKEYBYTES];
	bool have_x25519_secret;
	EVP_PKEY *client_key; /* the private key, or only the public key (have_client_secret) */
	bool have_client_secret;
	X509 *client_cert;
	/* whether client.key / node.key are written; a renewal that found a key only in the
	 * bundle does not put back a file the operator removed */
	bool skip_client_key_file, skip_node_key_file;
	bool wrote_bundle; /* set by pki_nodecerts_write */
};

/* Makes both certificates of nc->node, valid from now - PKI_BACKDATE_SECONDS to not_after, the
 * VPN certificate with this serial; with new_keys, fresh key pairs first (X25519, ECDSA P-256),
 * else the keys the caller put in nc. Checks the VPN certificate with cert_verify, as every peer
 * will. 0, or MQTTIP_EXIT_FAILED with the error line printed. */
int pki_nodecerts_make(struct pki_nodecerts *nc, const struct pki_ca *ca, time_t now,
		       time_t not_after, uint64_t serial, bool new_keys);
/* Writes DIR/nodes/NAME/: ca.crt, client.crt, node.cert, network-ca.pub, revocation.list (when
 * a list is given), the private keys held (client.key, node.key; unless skipped) and, when both
 * are held, the bundle NAME.bundle with the list as its last block. */
int pki_nodecerts_write(struct pki_nodecerts *nc, const struct pki_ca *ca,
			const uint8_t *revocation, size_t revocation_len);
void pki_nodecerts_free(struct pki_nodecerts *nc);

/* Puts list in place of the bundle's MQTTIP REVOCATION LIST block (appended when it has none),
 * keeping the rest of the file byte for byte and its mode. 0, or the error line printed. */
int pki_bundle_set_revocation(const char *path, const uint8_t *list, size_t len);

#endif
