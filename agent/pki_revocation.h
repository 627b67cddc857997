/* pki_revocation.h - the revocations of a PKI directory, for both trust roots (docs/PKI.md):
 *   DIR/revocation.bin  the VPN revocation list signed by the network CA (common/revocation.h,
 *                       PROTOCOL.md 4.8), what nodes receive: built from the revoked nodes of
 *                       nodes.txt and the retired keys of revoked.txt;
 *   DIR/revoked.txt     what nodes.txt cannot say: keys, VPN serials and client certificates
 *                       retired by `renew --new-key`, and the version of the last list signed;
 *   DIR/broker/crl.pem  the CRL: client certificates of revoked nodes and retired ones.
 * Records are never removed; the signed list leaves out entries whose certificates expired more
 * than PKI_REVOCATION_PRUNE_SECONDS ago (every node refuses those anyway), which keeps it within
 * its bound. */
#ifndef MQTTIP_PKI_REVOCATION_H
#define MQTTIP_PKI_REVOCATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "pki_ca.h"
#include "pki_registry.h"
#include "revocation.h"

#define PKI_F_REVOCATION	     "revocation.bin"
#define PKI_F_REVOKED		     "revoked.txt"
#define PKI_REVOCATION_PRUNE_SECONDS 86400 /* a day: nodes whose clock is behind still refuse */

enum pki_retired_kind { PKI_RETIRED_KEY, PKI_RETIRED_SERIAL, PKI_RETIRED_X509 };

struct pki_retired {
	enum pki_retired_kind kind;
	char name[MQTTIP_CERT_NAME_MAX + 1];
	uint8_t key[MQTTIP_KEY_LEN];	      /* KEY */
	uint64_t serial;		      /* SERIAL */
	char x509_serial[PKI_SERIAL_HEX_MAX]; /* X509 */
	time_t not_after;		      /* KEY, SERIAL: end of the retired certificate */
	time_t revoked_at;
};

struct pki_revocations {
	uint64_t version; /* of the last list signed; 0: none yet */
	size_t n;
	struct pki_retired *items; /* malloc'd */
	/* the list made by pki_revocations_sign */
	uint8_t list[MQTTIP_REVOCATION_MAX_LEN];
	size_t list_len, n_serials, n_keys;
};

/* Reads DIR/revoked.txt and DIR/revocation.bin (either may be absent: a PKI made before they
 * existed); a revocation.bin that does not verify against network_public is an error. 0, or
 * MQTTIP_EXIT_FAILED with the error line printed. */
int pki_revocations_read(const char *dir, const uint8_t network_public[32],
			 struct pki_revocations *r);
int pki_revocations_retire(struct pki_revocations *r, const struct pki_retired *item);
/* Signs the next list (version + 1) into r->list: the keys of the revoked nodes of reg (their
 * serial when the key is unknown) and r's retired keys and serials, leaving out those whose
 * certificate ended before now - PKI_REVOCATION_PRUNE_SECONDS. Fails, printing what to do, when
 * they do not fit MQTTIP_REVOCATION_MAX_LEN. */
int pki_revocations_sign(struct pki_revocations *r, const char *dir, const struct pki_registry *reg,
			 const uint8_t ca_secret[64], time_t now);
/* Writes DIR/revocation.bin (the list just signed) and DIR/revoked.txt. */
int pki_revocations_write(const char *dir, const struct pki_revocations *r);
/* Re-signs DIR/broker/crl.pem with the client certificates of the revoked nodes of reg and the
 * retired ones of r, dated PKI_BACKDATE_SECONDS before now. */
int pki_revocations_write_crl(const char *dir, const struct pki_ca *ca,
			      const struct pki_registry *reg, const struct pki_revocations *r,
			      time_t now);
void pki_revocations_free(struct pki_revocations *r);

/* Reads DIR/revocation.bin into out (verified against network_public). 1 when read, 0 when the
 * file does not exist, -1 (error line printed) when it is unreadable or does not verify. */
int pki_revocation_load(const char *dir, const uint8_t network_public[32], struct revocation *out);

#endif
