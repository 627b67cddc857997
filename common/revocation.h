/* revocation.h - the VPN revocation list: a compact binary record, signed by the network CA
 * (Ed25519), that names revoked node certificates by serial and/or by X25519 key. Layout
 * (docs/PROTOCOL.md 4.8), all integers big-endian:
 *   "MQR" format(1) | ca_key_id(8) | version(8) | issued_at(8) | n_serials(2) n_keys(2) |
 *   serials(8 each, strictly ascending) | keys(32 each, strictly ascending) | signature(64)
 * One encoding per list (sorted, no duplicates, no trailing bytes), at most
 * MQTTIP_REVOCATION_MAX_LEN bytes. Versions strictly increase: a node keeps the highest version it
 * has verified and refuses a lower one (a rollback) and a different list under the same version.
 * Time plays no part: a list never expires and is never "not yet valid", so clock skew between
 * the signer and the nodes cannot make it refuse anyone or be refused.
 * Pure C11 + libsodium; no allocation; the struct is self-contained (it holds the signed bytes,
 * so a node can hand its list on verbatim). */
#ifndef MQTTIP_REVOCATION_H
#define MQTTIP_REVOCATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert.h"
#include "proto.h"

struct revocation {
	uint64_t version;   /* >= 1 for a decoded list; 0: no list held */
	uint64_t issued_at; /* unix seconds when the CA signed it; shown, never checked */
	uint16_t n_serials; /* certificates revoked one by one (their serial) */
	uint16_t n_keys;    /* X25519 keys revoked with every certificate that carries them */
	uint16_t len;	    /* bytes of the encoding; 0 when only the version is known */
	uint8_t ca_key_id[MQTTIP_CERT_KEY_ID_LEN];
	/* room for the header of a revocation message (type 6, PROTOCOL.md 6.16) right before the
	 * list, so that a node hands it on from here, without a second 2 KB buffer */
	uint8_t kx_header[MQTTIP_KX_HEADER_LEN];
	uint8_t bytes[MQTTIP_REVOCATION_MAX_LEN]; /* the signed encoding, verbatim */
};

enum revocation_error {
	REVOCATION_OK = 0,
	REVOCATION_ERR_MALFORMED = -1, /* length, magic, format, counts, order, trailing bytes */
	REVOCATION_ERR_WRONG_CA = -2,  /* ca_key_id is not the given CA's */
	REVOCATION_ERR_SIGNATURE = -3, /* signature does not verify (tampered) */
	REVOCATION_ERR_OLDER = -4,     /* version below the one held: a rollback, refused */
	REVOCATION_ERR_CONFLICT = -5,  /* same version as the held list, other bytes: refused */
	REVOCATION_ERR_BUFFER = -6,    /* encode: output buffer too small */
	REVOCATION_ERR_INVALID = -7,   /* encode: version 0, unsorted/duplicate entries, too many */
};

/* revocation_compare results besides the errors above */
#define REVOCATION_SAME	 0 /* the held list itself: nothing to do */
#define REVOCATION_NEWER 1 /* take the candidate (and persist its version) */

const char *revocation_strerror(int err);

/* Encodes and signs a list (PROTOCOL.md 4.8.1) with the CA's Ed25519 secret key (64 bytes,
 * libsodium layout). serials and keys must each be strictly ascending (keys by memcmp) and
 * 8 * n_serials + 32 * n_keys must fit MQTTIP_REVOCATION_MAX_LEN; version >= 1; issued_at in
 * unix seconds. Returns the length written, or REVOCATION_ERR_INVALID / REVOCATION_ERR_BUFFER. */
int revocation_encode_sign(uint64_t version, uint64_t issued_at, const uint64_t *serials,
			   size_t n_serials, const uint8_t (*keys)[MQTTIP_KEY_LEN], size_t n_keys,
			   const uint8_t ca_secret[64], uint8_t *out, size_t cap);

/* Parses without checking the signature (4.8.2). REVOCATION_OK or REVOCATION_ERR_MALFORMED; on
 * an error *out is zeroed (an empty list of version 0). */
int revocation_decode(const uint8_t *buf, size_t len, struct revocation *out);

/* Decodes, then checks the key id of ca_public (REVOCATION_ERR_WRONG_CA) and the signature
 * (REVOCATION_ERR_SIGNATURE), in this order (4.8.3). *out is filled only on REVOCATION_OK and
 * zeroed otherwise. Says nothing about the version: see revocation_compare. */
int revocation_verify(const uint8_t *buf, size_t len, const uint8_t ca_public[32],
		      struct revocation *out);

/* The version rule (4.8.4), for a verified candidate against the list a node holds (held may be
 * all zero: no list; or set by revocation_set_version: version known, bytes not):
 *   candidate version > held version                  -> REVOCATION_NEWER
 *   equal versions, held bytes unknown (len 0)        -> REVOCATION_NEWER (the list is back)
 *   equal versions, same bytes                        -> REVOCATION_SAME
 *   equal versions, different bytes                   -> REVOCATION_ERR_CONFLICT (count it)
 *   candidate version < held version                  -> REVOCATION_ERR_OLDER (count it) */
int revocation_compare(const struct revocation *held, const struct revocation *candidate);

/* Verify and compare in one step, without a second struct revocation (2 KB, too much for a
 * device's stack): checks buf as revocation_verify does, compares it with *held as
 * revocation_compare does, and copies it into *held only when it is REVOCATION_NEWER. Returns
 * REVOCATION_NEWER, REVOCATION_SAME or an error; *held is untouched unless NEWER. */
int revocation_adopt(struct revocation *held, const uint8_t *buf, size_t len,
		     const uint8_t ca_public[32]);

/* An empty holder that knows only a version (what a node persisted before a restart), so that
 * revocation_compare refuses every list below it. */
void revocation_set_version(struct revocation *r, uint64_t version);

/* True when the certificate's serial or its X25519 key is on the list (binary search, so
 * O(log n)); false for an empty holder. The caller has verified c (cert_verify). */
bool revocation_is_revoked(const struct revocation *list, const struct cert *c);
bool revocation_serial_listed(const struct revocation *list, uint64_t serial);
bool revocation_key_listed(const struct revocation *list, const uint8_t key[MQTTIP_KEY_LEN]);

/* Entry i of a decoded list (i < n_serials, resp. i < n_keys), in list order. */
uint64_t revocation_serial_at(const struct revocation *list, size_t i);
const uint8_t *revocation_key_at(const struct revocation *list, size_t i);

#endif
