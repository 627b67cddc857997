/* cert.c - encoding, strict decoding and verification of VPN node certificates (see cert.h).
 * One validation routine serves both directions, so the encoder can only produce what the decoder
 * accepts, and every accepted certificate has exactly one encoding. */
#include "cert.h"
#include "bytes.h"

#include <string.h>

#include <sodium.h>

#define CERT_MAGIC_LEN 3
#define CERT_IPV4_LEN  4
#define CERT_IPV6_LEN  16
#define CERT_TIME_LEN  8
/* Everything after the route list: x25519 key, not_before, not_after, serial, key id, signature */
#define CERT_TAIL_LEN                                                                              \
	(MQTTIP_KEY_LEN + 3 * CERT_TIME_LEN + MQTTIP_CERT_KEY_ID_LEN + MQTTIP_CERT_SIG_LEN)
/* Magic, version, name_len, n_addrs, n_routes and the tail: a certificate is at least this long */
#define CERT_MIN_LEN (CERT_MAGIC_LEN + 1 + 1 + 1 + 1 + CERT_TAIL_LEN)

_Static_assert(CERT_MAGIC_LEN + 1 + 1 + MQTTIP_CERT_NAME_MAX + 1 +
		       MQTTIP_CERT_MAX_ADDRS * (2 + CERT_IPV6_LEN) + 1 +
		       MQTTIP_CERT_MAX_ROUTES * (2 + CERT_IPV6_LEN) + CERT_TAIL_LEN <=
		   MQTTIP_CERT_MAX_LEN,
	       "MQTTIP_CERT_MAX_LEN must hold the largest certificate");
_Static_assert(sizeof(MQTTIP_CERT_MAGIC) == CERT_MAGIC_LEN + 1, "magic is three bytes");
_Static_assert(MQTTIP_CERT_MAX_LEN <= 32767, "lengths are returned as int");
_Static_assert(CERT_MIN_LEN >= CERT_MAGIC_LEN + 1 + 1 + MQTTIP_CERT_NAME_MAX + 1,
	       "the name and n_addrs need no bounds check of their own");

const char *cert_strerror(int err)
{
	switch (err) {
	case CERT_OK:
		return "ok";
	case CERT_ERR_MALFORMED:
		return "malformed certificate";
	case CERT_ERR_WRONG_CA:
		return "certificate issued by another CA";
	case CERT_ERR_SIGNATURE:
		return "bad certificate signature";
	case CERT_ERR_NOT_YET_VALID:
		return "certificate not yet valid";
	case CERT_ERR_EXPIRED:
		return "certificate expired";
	case CERT_ERR_ADDR_NOT_IN_CERT:
		return "address not in certificate";
	case CERT_ERR_BUFFER:
		return "buffer too small";
	case CERT_ERR_INVALID:
		return "certificate field out of range";
	case CERT_ERR_OLDER:
		return "certificate serial lower than the one held";
	case CERT_ERR_CONFLICT:
		return "certificate differs from the one held under the same serial";
	default:
		return "unknown certificate error";
	}
}

void cert_ca_key_id(const uint8_t ca_public[32], uint8_t key_id[MQTTIP_CERT_KEY_ID_LEN])
{
	uint8_t digest[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(digest, ca_public, crypto_sign_PUBLICKEYBYTES);
	memcpy(key_id, digest, MQTTIP_CERT_KEY_ID_LEN);
}

static size_t addr_len(uint8_t family)
{
	return family == 4 ? CERT_IPV4_LEN : CERT_IPV6_LEN;
}

static bool name_char_valid(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '_' || ch == '-';
}

/* A leading '.' or '-' is refused too: names become file names and command-line arguments in the
 * tools, where ".", ".." and "-x" mean something else. */
static bool name_valid(const char *name, size_t len)
{
	if (len < 1 || len > MQTTIP_CERT_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!name_char_valid(name[i]))
			return false;
	}
	return true;
}

/* Family, prefix length within the family, and for IPv4 the unused 12 bytes zero (so that
 * netaddr_equal and the re-encoding see one representation). */
static bool prefix_shape_valid(const struct cert_prefix *p)
{
	if (p->addr.family == 4) {
		static const uint8_t zero[CERT_IPV6_LEN - CERT_IPV4_LEN];

		return p->len <= 32 &&
		       memcmp(p->addr.bytes + CERT_IPV4_LEN, zero, sizeof zero) == 0;
	}
	return p->addr.family == 6 && p->len <= 128;
}

/* Reports whether the bits after the first p->len bits are all zero and whether all one. */
static void host_bits(const struct cert_prefix *p, bool *all_zero, bool *all_one)
{
	unsigned total = (unsigned)addr_len(p->addr.family) * 8;

	*all_zero = true;
	*all_one = true;
	for (unsigned bit = p->len; bit < total; bit++) {
		unsigned set = (p->addr.bytes[bit / 8] >> (7 - bit % 8)) & 1u;

		if (set)
			*all_zero = false;
		else
			*all_one = false;
	}
}

static bool is_unspecified(const struct netaddr *a)
{
	static const uint8_t zero[CERT_IPV6_LEN];

	return memcmp(a->bytes, zero, addr_len(a->family)) == 0;
}

static bool is_v4_mapped(const struct netaddr *a)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return a->family == 6 && memcmp(a->bytes, mapped, sizeof mapped) == 0;
}

/* A node address is a unicast host address in its subnet: not the subnet's own address (host bits
 * zero) nor, for IPv4, its broadcast address (host bits one), except in /31, /32, /127 and /128
 * where every address is a host (RFC 3021, RFC 6164); never unspecified, multicast, the limited
 * broadcast address or an IPv4-mapped IPv6 address (which would alias an IPv4 address in the
 * handshake prologue). */
static bool node_addr_valid(const struct cert_prefix *p)
{
	unsigned max = (unsigned)addr_len(p->addr.family) * 8;
	bool all_zero, all_one;

	if (!prefix_shape_valid(p) || is_unspecified(&p->addr) || is_v4_mapped(&p->addr) ||
	    netaddr_is_multicast(&p->addr) || netaddr_is_broadcast(&p->addr))
		return false;
	if (p->len + 1u >= max)
		return true;
	host_bits(p, &all_zero, &all_one);
	return !all_zero && !(p->addr.family == 4 && all_one);
}

static bool route_valid(const struct cert_prefix *p)
{
	bool all_zero, all_one;

	if (!prefix_shape_valid(p))
		return false;
	host_bits(p, &all_zero, &all_one);
	return all_zero;
}

static bool cert_fields_valid(const struct cert *c, size_t name_len)
{
	if (!name_valid(c->name, name_len))
		return false;
	if (c->n_addrs < 1 || c->n_addrs > MQTTIP_CERT_MAX_ADDRS ||
	    c->n_routes > MQTTIP_CERT_MAX_ROUTES)
		return false;
	for (unsigned i = 0; i < c->n_addrs; i++) {
		if (!node_addr_valid(&c->addrs[i]))
			return false;
	}
	for (unsigned i = 0; i < c->n_routes; i++) {
		if (!route_valid(&c->routes[i]))
			return false;
	}
	return c->not_before < c->not_after;
}

static size_t put_prefix(uint8_t *out, const struct cert_prefix *p)
{
	size_t n = addr_len(p->addr.family);

	out[0] = p->addr.family;
	out[1] = p->len;
	memcpy(out + 2, p->addr.bytes, n);
	return 2 + n;
}

static size_t prefix_list_len(const struct cert_prefix *list, unsigned n)
{
	size_t len = 1;

	for (unsigned i = 0; i < n; i++)
		len += 2 + addr_len(list[i].addr.family);
	return len;
}

int cert_encode_sign(struct cert *c, const uint8_t ca_secret[64], uint8_t *out, size_t cap)
{
	const char *nul = memchr(c->name, '\0', sizeof c->name);
	size_t name_len, need, off = 0;

	if (nul == NULL)
		return CERT_ERR_INVALID;
	name_len = (size_t)(nul - c->name);
	if (!cert_fields_valid(c, name_len))
		return CERT_ERR_INVALID;
	need = CERT_MAGIC_LEN + 1 + 1 + name_len + prefix_list_len(c->addrs, c->n_addrs) +
	       prefix_list_len(c->routes, c->n_routes) + CERT_TAIL_LEN;
	if (need > cap)
		return CERT_ERR_BUFFER;

	memcpy(out, MQTTIP_CERT_MAGIC, CERT_MAGIC_LEN);
	off += CERT_MAGIC_LEN;
	out[off++] = MQTTIP_CERT_VERSION;
	out[off++] = (uint8_t)name_len;
	memcpy(out + off, c->name, name_len);
	off += name_len;
	out[off++] = c->n_addrs;
	for (unsigned i = 0; i < c->n_addrs; i++)
		off += put_prefix(out + off, &c->addrs[i]);
	out[off++] = c->n_routes;
	for (unsigned i = 0; i < c->n_routes; i++)
		off += put_prefix(out + off, &c->routes[i]);
	memcpy(out + off, c->x25519_public, MQTTIP_KEY_LEN);
	off += MQTTIP_KEY_LEN;
	store_be64(out + off, c->not_before);
	store_be64(out + off + 8, c->not_after);
	store_be64(out + off + 16, c->serial);
	off += 3 * CERT_TIME_LEN;
	/* libsodium's Ed25519 secret key is seed || public key */
	cert_ca_key_id(ca_secret + crypto_sign_SECRETKEYBYTES - crypto_sign_PUBLICKEYBYTES,
		       c->ca_key_id);
	memcpy(out + off, c->ca_key_id, MQTTIP_CERT_KEY_ID_LEN);
	off += MQTTIP_CERT_KEY_ID_LEN;
	crypto_sign_detached(c->signature, NULL, out, off, ca_secret);
	memcpy(out + off, c->signature, MQTTIP_CERT_SIG_LEN);
	off += MQTTIP_CERT_SIG_LEN;
	return (int)off;
}

/* Reads one family/prefix_len/address entry; the caller validates its meaning. */
static bool get_prefix(const uint8_t *buf, size_t len, size_t *off, struct cert_prefix *p)
{
	size_t n;

	if (len - *off < 2)
		return false;
	p->addr.family = buf[*off];
	p->len = buf[*off + 1];
	if (p->addr.family != 4 && p->addr.family != 6)
		return false;
	n = addr_len(p->addr.family);
	if (len - *off - 2 < n)
		return false;
	memcpy(p->addr.bytes, buf + *off + 2, n);
	*off += 2 + n;
	return true;
}

static int decode_fields(const uint8_t *buf, size_t len, struct cert *out)
{
	size_t off, name_len;

	if (len < CERT_MIN_LEN || len > MQTTIP_CERT_MAX_LEN ||
	    memcmp(buf, MQTTIP_CERT_MAGIC, CERT_MAGIC_LEN) != 0 ||
	    buf[CERT_MAGIC_LEN] != MQTTIP_CERT_VERSION)
		return CERT_ERR_MALFORMED;
	off = CERT_MAGIC_LEN + 1;
	name_len = buf[off++];
	/* with len >= CERT_MIN_LEN, a name within bounds and the count byte after it are in buf */
	if (name_len < 1 || name_len > MQTTIP_CERT_NAME_MAX)
		return CERT_ERR_MALFORMED;
	memcpy(out->name, buf + off, name_len);
	out->name[name_len] = '\0';
	off += name_len;

	out->n_addrs = buf[off++];
	if (out->n_addrs < 1 || out->n_addrs > MQTTIP_CERT_MAX_ADDRS)
		return CERT_ERR_MALFORMED;
	for (unsigned i = 0; i < out->n_addrs; i++) {
		if (!get_prefix(buf, len, &off, &out->addrs[i]))
			return CERT_ERR_MALFORMED;
	}
	if (off >= len)
		return CERT_ERR_MALFORMED;
	out->n_routes = buf[off++];
	if (out->n_routes > MQTTIP_CERT_MAX_ROUTES)
		return CERT_ERR_MALFORMED;
	for (unsigned i = 0; i < out->n_routes; i++) {
		if (!get_prefix(buf, len, &off, &out->routes[i]))
			return CERT_ERR_MALFORMED;
	}
	if (len - off != CERT_TAIL_LEN)
		return CERT_ERR_MALFORMED;

	memcpy(out->x25519_public, buf + off, MQTTIP_KEY_LEN);
	off += MQTTIP_KEY_LEN;
	out->not_before = load_be64(buf + off);
	out->not_after = load_be64(buf + off + 8);
	out->serial = load_be64(buf + off + 16);
	off += 3 * CERT_TIME_LEN;
	memcpy(out->ca_key_id, buf + off, MQTTIP_CERT_KEY_ID_LEN);
	off += MQTTIP_CERT_KEY_ID_LEN;
	memcpy(out->signature, buf + off, MQTTIP_CERT_SIG_LEN);

	if (!cert_fields_valid(out, name_len))
		return CERT_ERR_MALFORMED;
	return CERT_OK;
}

int cert_decode(const uint8_t *buf, size_t len, struct cert *out)
{
	int err;

	memset(out, 0, sizeof *out);
	err = decode_fields(buf, len, out);
	if (err != CERT_OK)
		memset(out, 0, sizeof *out);
	return err;
}

static int verify_decoded(const uint8_t *buf, size_t len, const uint8_t ca_public[32], uint64_t now,
			  const struct cert *c)
{
	uint8_t key_id[MQTTIP_CERT_KEY_ID_LEN];

	cert_ca_key_id(ca_public, key_id);
	if (memcmp(key_id, c->ca_key_id, sizeof key_id) != 0)
		return CERT_ERR_WRONG_CA;
	if (crypto_sign_verify_detached(c->signature, buf, len - MQTTIP_CERT_SIG_LEN, ca_public) !=
	    0)
		return CERT_ERR_SIGNATURE;
	if (now < c->not_before)
		return CERT_ERR_NOT_YET_VALID;
	if (now >= c->not_after)
		return CERT_ERR_EXPIRED;
	return CERT_OK;
}

int cert_verify(const uint8_t *buf, size_t len, const uint8_t ca_public[32], uint64_t now,
		struct cert *out)
{
	int err = cert_decode(buf, len, out);

	if (err != CERT_OK)
		return err;
	err = verify_decoded(buf, len, ca_public, now, out);
	if (err != CERT_OK)
		memset(out, 0, sizeof *out);
	return err;
}

/* The address checks of struct cert and struct cert_held, on their address and route lists. */
static int owns(const struct cert_prefix *addrs, unsigned n, const struct netaddr *a)
{
	for (unsigned i = 0; i < n && i < MQTTIP_CERT_MAX_ADDRS; i++) {
		if (netaddr_equal(&addrs[i].addr, a))
			return CERT_OK;
	}
	return CERT_ERR_ADDR_NOT_IN_CERT;
}

static int source(const struct cert_prefix *addrs, unsigned n_addrs,
		  const struct cert_prefix *routes, unsigned n_routes, const struct netaddr *a)
{
	if (owns(addrs, n_addrs, a) == CERT_OK)
		return CERT_OK;
	for (unsigned i = 0; i < n_routes && i < MQTTIP_CERT_MAX_ROUTES; i++) {
		if (netaddr_in_prefix(a, &routes[i].addr, routes[i].len))
			return CERT_OK;
	}
	return CERT_ERR_ADDR_NOT_IN_CERT;
}

/* The serial rule on the serials and on whether the signatures are the same. */
static int compare(uint64_t held_serial, uint64_t candidate_serial, bool same_signature)
{
	if (candidate_serial < held_serial)
		return CERT_ERR_OLDER;
	if (candidate_serial > held_serial)
		return CERT_NEWER;
	return same_signature ? CERT_SAME : CERT_ERR_CONFLICT;
}

int cert_check_owns(const struct cert *c, const struct netaddr *a)
{
	return owns(c->addrs, c->n_addrs, a);
}

int cert_check_source(const struct cert *c, const struct netaddr *a)
{
	return source(c->addrs, c->n_addrs, c->routes, c->n_routes, a);
}

int cert_compare(const struct cert *held, const struct cert *candidate)
{
	return compare(held->serial, candidate->serial,
		       memcmp(candidate->signature, held->signature, MQTTIP_CERT_SIG_LEN) == 0);
}

static void signature_digest(const struct cert *c, uint8_t out[CERT_SIG_DIGEST_LEN])
{
	crypto_generichash(out, CERT_SIG_DIGEST_LEN, c->signature, MQTTIP_CERT_SIG_LEN, NULL, 0);
}

void cert_hold(struct cert_held *out, const struct cert *c)
{
	memset(out, 0, sizeof *out);
	memcpy(out->name, c->name, sizeof out->name);
	out->n_addrs = c->n_addrs;
	memcpy(out->addrs, c->addrs, sizeof out->addrs);
	out->n_routes = c->n_routes;
	memcpy(out->routes, c->routes, sizeof out->routes);
	memcpy(out->x25519_public, c->x25519_public, MQTTIP_KEY_LEN);
	out->not_after = c->not_after;
	out->serial = c->serial;
	signature_digest(c, out->signature_digest);
}

int cert_held_owns(const struct cert_held *h, const struct netaddr *a)
{
	return owns(h->addrs, h->n_addrs, a);
}

int cert_held_source(const struct cert_held *h, const struct netaddr *a)
{
	return source(h->addrs, h->n_addrs, h->routes, h->n_routes, a);
}

int cert_held_compare(const struct cert_held *held, const struct cert *candidate)
{
	uint8_t digest[CERT_SIG_DIGEST_LEN];

	signature_digest(candidate, digest);
	return compare(held->serial, candidate->serial,
		       sodium_memcmp(digest, held->signature_digest, sizeof digest) == 0);
}
