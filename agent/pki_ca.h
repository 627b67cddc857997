/* pki_ca.h - the two CAs of a PKI directory, loaded together: the broker CA (X.509) and the VPN
 * network CA (Ed25519), with the networks it hands addresses from. */
#ifndef MQTTIP_PKI_CA_H
#define MQTTIP_PKI_CA_H

#include <stdbool.h>
#include <stdint.h>

#include <sodium.h>

#include "pki_block.h"
#include "pki_registry.h"
#include "pki_x509.h"

/* Everything the CAs sign (certificates of both PKIs, the CRL) is dated this far back, so that a
 * node or broker whose clock is a little behind the signer's accepts it at once (a CRL dated in
 * the broker's future makes mosquitto refuse every client). */
#define PKI_BACKDATE_SECONDS 300

struct pki_ca {
	X509 *broker_ca;
	EVP_PKEY *broker_key; /* NULL unless loaded with secrets */
	uint8_t network_public[crypto_sign_PUBLICKEYBYTES];
	uint8_t network_secret[crypto_sign_SECRETKEYBYTES]; /* zero unless loaded with secrets */
	struct pki_network network;
	time_t expires; /* the earlier end of the two CAs */
};

/* Loads dir's CAs; with_secrets also loads both CA keys and refuses an expired CA. Returns 0,
 * or MQTTIP_EXIT_FAILED after printing one line. */
int pki_ca_load(const char *dir, struct pki_ca *ca, bool with_secrets);
void pki_ca_free(struct pki_ca *ca);

/* Writes text as a file of mode, printing the error line on failure. */
int pki_write_text(const char *path, const struct pki_text *t, unsigned mode);
/* Reads the one block of label from path into out; returns its length or -1 (error printed). */
long pki_read_block(const char *path, const char *label, uint8_t *out, size_t cap);

#endif
