/* pki_x509.h - the broker PKI (X.509 with ECDSA P-256 keys, OpenSSL 3 EVP/X509 API): the CA, the
 * broker's server certificate, node client certificates, the CRL mosquitto reads as crlfile. */
#ifndef MQTTIP_PKI_X509_H
#define MQTTIP_PKI_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "netaddr.h"

#define PKI_SERIAL_HEX_MAX 64

struct pki_x509_subject {
	const char *cn;
	const char *const *dns; /* subjectAltName DNS entries */
	size_t n_dns;
	const struct netaddr *ips; /* subjectAltName IP entries */
	size_t n_ips;
	bool server; /* extendedKeyUsage serverAuth, else clientAuth */
};

struct pki_revoked {
	char serial_hex[PKI_SERIAL_HEX_MAX];
	time_t when;
};

/* The last OpenSSL error as text, for the one-line messages. */
const char *pki_x509_error(void);

EVP_PKEY *pki_x509_keygen(void);
X509 *pki_x509_make_ca(EVP_PKEY *key, const char *cn, time_t not_before, time_t not_after);
X509 *pki_x509_make_leaf(const struct pki_x509_subject *s, EVP_PKEY *key, X509 *ca,
			 EVP_PKEY *ca_key, time_t not_before, time_t not_after);
/* A version 2 CRL listing revoked, numbered by their count plus one, thisUpdate = this_update,
 * valid until the CA expires (mosquitto refuses every client once a CRL's nextUpdate has passed,
 * and also while its thisUpdate lies in the broker's future: callers date it back). */
int pki_x509_write_crl(const char *path, X509 *ca, EVP_PKEY *ca_key,
		       const struct pki_revoked *revoked, size_t n_revoked, time_t this_update);

int pki_x509_write_cert(const char *path, X509 *cert);
int pki_x509_write_key(const char *path, EVP_PKEY *key);
X509 *pki_x509_read_cert(const char *path);
EVP_PKEY *pki_x509_read_key(const char *path);

/* DER encodings for the bundle; *der is OPENSSL_malloc'd (key: wipe with OPENSSL_clear_free). */
int pki_x509_cert_der(X509 *cert, unsigned char **der);
int pki_x509_key_der(EVP_PKEY *key, unsigned char **der);

bool pki_x509_serial_hex(X509 *cert, char out[PKI_SERIAL_HEX_MAX]);
time_t pki_x509_not_after(X509 *cert);
time_t pki_x509_not_before(X509 *cert);
/* An ASN.1 time as unix seconds (0 when absent or unreadable). */
time_t pki_x509_time(const ASN1_TIME *t);
/* CN and SAN IP entries of a certificate; returns the number of IPs found (at most cap). */
size_t pki_x509_ips(X509 *cert, struct netaddr *ips, size_t cap);
bool pki_x509_cn(X509 *cert, char *out, size_t cap);

void pki_x509_print(FILE *out, X509 *cert);
void pki_x509_print_crl(FILE *out, X509_CRL *crl);

#endif
