/* cert.h - VPN node certificates: a compact binary record signed by the network CA (Ed25519).
 * Layout (docs/PROTOCOL.md "Node certificates"), all integers big-endian:
 *   "MQC" version(1) | name_len(1) name | n_addrs(1) {family(1) prefix_len(1) addr(4|16)}... |
 *   n_routes(1) {same}... | x25519_public(32) | not_before(8) not_after(8) serial(8) |
 *   ca_key_id(8) | signature(64) over every byte before it.
 * Decoding is strict (every length checked, no trailing bytes, canonical prefixes with host bits
 * zero for routes) and allocation-free. Verification returns a distinct error per reason.
 * A node address is a unicast host address with its subnet's prefix length (10.0.1.2/24): not the
 * subnet's own address, not an IPv4 subnet's broadcast address (both allowed in /31 /32 /127
 * /128), not unspecified, multicast, 255.255.255.255 or IPv4-mapped IPv6. A name does not start
 * with '.' or '-'. Encoder and decoder apply the same rules, so a decodable certificate has
 * exactly one encoding. */
#ifndef MQTTIP_CERT_H
#define MQTTIP_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"
#include "proto.h"

struct cert_prefix {
	struct netaddr addr;
	uint8_t len;
};

struct cert {
	char name[MQTTIP_CERT_NAME_MAX + 1]; /* NUL-terminated; [A-Za-z0-9._-], 1..63 chars */
	uint8_t n_addrs; /* 1..MQTTIP_CERT_MAX_ADDRS: the node's own overlay addresses */
	struct cert_prefix addrs[MQTTIP_CERT_MAX_ADDRS];
	uint8_t n_routes; /* 0..MQTTIP_CERT_MAX_ROUTES: extra prefixes it routes (gateways) */
	struct cert_prefix routes[MQTTIP_CERT_MAX_ROUTES];
	uint8_t x25519_public[MQTTIP_KEY_LEN];
	uint64_t not_before, not_after, serial; /* unix seconds, seconds, opaque */
	uint8_t ca_key_id[MQTTIP_CERT_KEY_ID_LEN];
	uint8_t signature[MQTTIP_CERT_SIG_LEN];
};

/* What a node keeps of a verified certificate it holds for a peer (peer.h): all that routing, the
 * address checks, the handshake, the revocation list and the serial rule read, and no more: not
 * the CA key id nor not_before (both checked at verification), and of the CA's 64-byte signature
 * a 16-byte digest (BLAKE2b), which is all the serial rule's "same certificate" needs (Ed25519 is
 * deterministic: the same certificate has the same signature). 352 bytes on the ESP32-C3 against
 * 416 for struct cert. */
#define CERT_SIG_DIGEST_LEN 16
struct cert_held {
	char name[MQTTIP_CERT_NAME_MAX + 1];
	uint8_t n_addrs;
	struct cert_prefix addrs[MQTTIP_CERT_MAX_ADDRS];
	uint8_t n_routes;
	struct cert_prefix routes[MQTTIP_CERT_MAX_ROUTES];
	uint8_t x25519_public[MQTTIP_KEY_LEN];
	uint64_t not_after, serial;
	uint8_t signature_digest[CERT_SIG_DIGEST_LEN];
};

enum cert_error {
	CERT_OK = 0,
	CERT_ERR_MALFORMED = -1, /* truncated, bad magic/version, bad lengths, trailing bytes */
	CERT_ERR_WRONG_CA = -2,	 /* ca_key_id is not the given CA's */
	CERT_ERR_SIGNATURE = -3, /* signature does not verify (tampered) */
	CERT_ERR_NOT_YET_VALID = -4,
	CERT_ERR_EXPIRED = -5,
	CERT_ERR_ADDR_NOT_IN_CERT = -6,
	CERT_ERR_BUFFER = -7,	 /* output buffer too small */
	CERT_ERR_INVALID = -8,	 /* encode: a field out of range */
	CERT_ERR_OLDER = -9,	 /* serial rule: lower serial than the certificate held */
	CERT_ERR_CONFLICT = -10, /* serial rule: same serial as the one held, other bytes */
};

/* cert_compare results besides the errors above */
#define CERT_SAME  0 /* the held certificate itself */
#define CERT_NEWER 1 /* a higher serial for the same key: it replaces the held one */

const char *cert_strerror(int err);
void cert_ca_key_id(const uint8_t ca_public[32], uint8_t key_id[MQTTIP_CERT_KEY_ID_LEN]);

/* Encodes and signs c with the CA's Ed25519 secret key (64 bytes, libsodium layout); fills
 * c->ca_key_id and c->signature. Returns the length written or a negative cert_error. */
int cert_encode_sign(struct cert *c, const uint8_t ca_secret[64], uint8_t *out, size_t cap);
/* Parses without checking the signature. On any error *out is zeroed. */
int cert_decode(const uint8_t *buf, size_t len, struct cert *out);
/* Decodes (CERT_ERR_MALFORMED), then checks in this order: key id of ca_public
 * (CERT_ERR_WRONG_CA), signature (CERT_ERR_SIGNATURE), now < not_before (CERT_ERR_NOT_YET_VALID),
 * now >= not_after (CERT_ERR_EXPIRED); now is unix seconds. *out is filled only on CERT_OK and
 * zeroed otherwise. */
int cert_verify(const uint8_t *buf, size_t len, const uint8_t ca_public[32], uint64_t now,
		struct cert *out);
/* CERT_OK when a is one of the node's addresses or inside one of its routes (same family only;
 * the prefix length of a node address does not widen it); used for the inner source of received
 * packets. CERT_ERR_ADDR_NOT_IN_CERT otherwise. */
int cert_check_source(const struct cert *c, const struct netaddr *a);
/* CERT_OK when a is exactly one of the node's own addresses (topic <src> of handshakes,
 * directory); CERT_ERR_ADDR_NOT_IN_CERT otherwise. */
int cert_check_owns(const struct cert *c, const struct netaddr *a);
/* The serial rule (PROTOCOL.md 4.9) between two verified certificates of one node identity (same
 * X25519 key), wherever a node meets a certificate (directory, handshake): a higher serial
 * replaces the held one (CERT_NEWER), the same serial with the same signature is the same
 * certificate (CERT_SAME; Ed25519 is deterministic, so equal bytes mean equal signatures), a
 * lower serial is refused (CERT_ERR_OLDER), the same serial with another signature is refused
 * and should be counted (CERT_ERR_CONFLICT: the CA signed two certificates with one serial). */
int cert_compare(const struct cert *held, const struct cert *candidate);

/* The held form of a verified certificate. */
void cert_hold(struct cert_held *out, const struct cert *c);
/* cert_check_owns, cert_check_source and cert_compare for a certificate held in that form. */
int cert_held_owns(const struct cert_held *h, const struct netaddr *a);
int cert_held_source(const struct cert_held *h, const struct netaddr *a);
int cert_held_compare(const struct cert_held *held, const struct cert *candidate);

#endif
