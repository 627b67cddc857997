/* revocation.c - encoding, strict decoding, verification and lookup of the VPN revocation list
 * (see revocation.h). Entries are kept sorted in the encoding itself, so a decoded list needs no
 * index: lookups binary-search the signed bytes. */
#include "revocation.h"
#include "bytes.h"

#include <string.h>

#include <sodium.h>

#define REV_MAGIC_LEN	3
#define REV_OFF_FORMAT	3
#define REV_OFF_KEY_ID	4
#define REV_OFF_VERSION (REV_OFF_KEY_ID + MQTTIP_CERT_KEY_ID_LEN)
#define REV_OFF_ISSUED	(REV_OFF_VERSION + 8)
#define REV_OFF_COUNTS	(REV_OFF_ISSUED + 8)
#define REV_ENTRIES_MAX (MQTTIP_REVOCATION_MAX_LEN - MQTTIP_REVOCATION_MIN_LEN)

_Static_assert(REV_OFF_COUNTS + 4 == MQTTIP_REVOCATION_HEADER_LEN, "header layout");
_Static_assert(sizeof(MQTTIP_REVOCATION_MAGIC) == REV_MAGIC_LEN + 1, "magic is three bytes");
_Static_assert(MQTTIP_REVOCATION_MAX_LEN <= UINT16_MAX, "len is a uint16_t");
_Static_assert(REV_ENTRIES_MAX / MQTTIP_REVOCATION_SERIAL_LEN <= UINT16_MAX, "counts fit 16 bits");

const char *revocation_strerror(int err)
{
	switch (err) {
	case REVOCATION_OK:
		return "ok";
	case REVOCATION_ERR_MALFORMED:
		return "malformed revocation list";
	case REVOCATION_ERR_WRONG_CA:
		return "revocation list signed by another CA";
	case REVOCATION_ERR_SIGNATURE:
		return "bad revocation list signature";
	case REVOCATION_ERR_OLDER:
		return "revocation list older than the one held";
	case REVOCATION_ERR_CONFLICT:
		return "revocation list differs from the one held under the same version";
	case REVOCATION_ERR_BUFFER:
		return "buffer too small";
	case REVOCATION_ERR_INVALID:
		return "revocation list field out of range";
	default:
		return "unknown revocation list error";
	}
}

/* Bytes of the entries, or 0 when they cannot fit (also guards the multiplication). */
static size_t entries_len(size_t n_serials, size_t n_keys)
{
	if (n_serials > REV_ENTRIES_MAX / MQTTIP_REVOCATION_SERIAL_LEN ||
	    n_keys > REV_ENTRIES_MAX / MQTTIP_KEY_LEN)
		return 0;
	size_t n = n_serials * MQTTIP_REVOCATION_SERIAL_LEN + n_keys * MQTTIP_KEY_LEN;

	return n <= REV_ENTRIES_MAX ? n : 0;
}

static bool serials_ascending(const uint64_t *s, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (s[i - 1] >= s[i])
			return false;
	}
	return true;
}

static bool keys_ascending(const uint8_t (*k)[MQTTIP_KEY_LEN], size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (memcmp(k[i - 1], k[i], MQTTIP_KEY_LEN) >= 0)
			return false;
	}
	return true;
}

int revocation_encode_sign(uint64_t version, uint64_t issued_at, const uint64_t *serials,
			   size_t n_serials, const uint8_t (*keys)[MQTTIP_KEY_LEN], size_t n_keys,
			   const uint8_t ca_secret[64], uint8_t *out, size_t cap)
{
	size_t body = entries_len(n_serials, n_keys), off = MQTTIP_REVOCATION_HEADER_LEN, need;

	if (version == 0 || (body == 0 && (n_serials || n_keys)) ||
	    !serials_ascending(serials, n_serials) || !keys_ascending(keys, n_keys))
		return REVOCATION_ERR_INVALID;
	need = MQTTIP_REVOCATION_MIN_LEN + body;
	if (need > cap)
		return REVOCATION_ERR_BUFFER;

	memcpy(out, MQTTIP_REVOCATION_MAGIC, REV_MAGIC_LEN);
	out[REV_OFF_FORMAT] = MQTTIP_REVOCATION_FORMAT;
	/* libsodium's Ed25519 secret key is seed || public key */
	cert_ca_key_id(ca_secret + crypto_sign_SECRETKEYBYTES - crypto_sign_PUBLICKEYBYTES,
		       out + REV_OFF_KEY_ID);
	store_be64(out + REV_OFF_VERSION, version);
	store_be64(out + REV_OFF_ISSUED, issued_at);
	out[REV_OFF_COUNTS] = (uint8_t)(n_serials >> 8);
	out[REV_OFF_COUNTS + 1] = (uint8_t)n_serials;
	out[REV_OFF_COUNTS + 2] = (uint8_t)(n_keys >> 8);
	out[REV_OFF_COUNTS + 3] = (uint8_t)n_keys;
	for (size_t i = 0; i < n_serials; i++, off += MQTTIP_REVOCATION_SERIAL_LEN)
		store_be64(out + off, serials[i]);
	for (size_t i = 0; i < n_keys; i++, off += MQTTIP_KEY_LEN)
		memcpy(out + off, keys[i], MQTTIP_KEY_LEN);
	crypto_sign_detached(out + off, NULL, out, off, ca_secret);
	return (int)(off + MQTTIP_CERT_SIG_LEN);
}

/* The fields of a list, checked, without its bytes (a node compares before it copies). */
struct head {
	uint64_t version, issued_at;
	uint16_t n_serials, n_keys;
};

static int decode_fields(const uint8_t *buf, size_t len, struct head *out)
{
	size_t n_serials, n_keys, body;
	const uint8_t *s, *k;

	if (len < MQTTIP_REVOCATION_MIN_LEN || len > MQTTIP_REVOCATION_MAX_LEN ||
	    memcmp(buf, MQTTIP_REVOCATION_MAGIC, REV_MAGIC_LEN) != 0 ||
	    buf[REV_OFF_FORMAT] != MQTTIP_REVOCATION_FORMAT)
		return REVOCATION_ERR_MALFORMED;
	n_serials = load_be16(buf + REV_OFF_COUNTS);
	n_keys = load_be16(buf + REV_OFF_COUNTS + 2);
	body = entries_len(n_serials, n_keys);
	/* the counts must account for every byte between header and signature */
	if ((body == 0 && (n_serials || n_keys)) || len != MQTTIP_REVOCATION_MIN_LEN + body)
		return REVOCATION_ERR_MALFORMED;
	out->version = load_be64(buf + REV_OFF_VERSION);
	if (out->version == 0)
		return REVOCATION_ERR_MALFORMED;
	s = buf + MQTTIP_REVOCATION_HEADER_LEN;
	for (size_t i = 1; i < n_serials; i++) {
		if (load_be64(s + (i - 1) * 8) >= load_be64(s + i * 8))
			return REVOCATION_ERR_MALFORMED;
	}
	k = s + n_serials * MQTTIP_REVOCATION_SERIAL_LEN;
	for (size_t i = 1; i < n_keys; i++) {
		if (memcmp(k + (i - 1) * MQTTIP_KEY_LEN, k + i * MQTTIP_KEY_LEN, MQTTIP_KEY_LEN) >=
		    0)
			return REVOCATION_ERR_MALFORMED;
	}
	out->issued_at = load_be64(buf + REV_OFF_ISSUED);
	out->n_serials = (uint16_t)n_serials;
	out->n_keys = (uint16_t)n_keys;
	return REVOCATION_OK;
}

static void fill(struct revocation *out, const struct head *h, const uint8_t *buf, size_t len)
{
	out->version = h->version;
	out->issued_at = h->issued_at;
	out->n_serials = h->n_serials;
	out->n_keys = h->n_keys;
	out->len = (uint16_t)len;
	memcpy(out->ca_key_id, buf + REV_OFF_KEY_ID, MQTTIP_CERT_KEY_ID_LEN);
	memcpy(out->bytes, buf, len);
}

static int check_signature(const uint8_t *buf, size_t len, const uint8_t ca_public[32])
{
	uint8_t key_id[MQTTIP_CERT_KEY_ID_LEN];

	cert_ca_key_id(ca_public, key_id);
	if (memcmp(key_id, buf + REV_OFF_KEY_ID, sizeof key_id) != 0)
		return REVOCATION_ERR_WRONG_CA;
	if (crypto_sign_verify_detached(buf + len - MQTTIP_CERT_SIG_LEN, buf,
					len - MQTTIP_CERT_SIG_LEN, ca_public) != 0)
		return REVOCATION_ERR_SIGNATURE;
	return REVOCATION_OK;
}

int revocation_decode(const uint8_t *buf, size_t len, struct revocation *out)
{
	struct head h;
	int err;

	memset(out, 0, sizeof *out);
	err = decode_fields(buf, len, &h);
	if (err == REVOCATION_OK)
		fill(out, &h, buf, len);
	return err;
}

int revocation_verify(const uint8_t *buf, size_t len, const uint8_t ca_public[32],
		      struct revocation *out)
{
	struct head h;
	int err;

	memset(out, 0, sizeof *out);
	err = decode_fields(buf, len, &h);
	if (err == REVOCATION_OK)
		err = check_signature(buf, len, ca_public);
	if (err == REVOCATION_OK)
		fill(out, &h, buf, len);
	return err;
}

int revocation_adopt(struct revocation *held, const uint8_t *buf, size_t len,
		     const uint8_t ca_public[32])
{
	struct head h;
	int err = decode_fields(buf, len, &h);

	if (err == REVOCATION_OK)
		err = check_signature(buf, len, ca_public);
	if (err != REVOCATION_OK)
		return err;
	if (h.version < held->version)
		return REVOCATION_ERR_OLDER;
	if (h.version == held->version && held->len != 0) {
		if (held->len == len && memcmp(held->bytes, buf, len) == 0)
			return REVOCATION_SAME;
		return REVOCATION_ERR_CONFLICT;
	}
	fill(held, &h, buf, len);
	return REVOCATION_NEWER;
}

int revocation_compare(const struct revocation *held, const struct revocation *candidate)
{
	if (candidate->version < held->version)
		return REVOCATION_ERR_OLDER;
	if (candidate->version > held->version || held->len == 0)
		return REVOCATION_NEWER;
	if (held->len == candidate->len && memcmp(held->bytes, candidate->bytes, held->len) == 0)
		return REVOCATION_SAME;
	return REVOCATION_ERR_CONFLICT;
}

void revocation_set_version(struct revocation *r, uint64_t version)
{
	memset(r, 0, sizeof *r);
	r->version = version;
}

uint64_t revocation_serial_at(const struct revocation *list, size_t i)
{
	return load_be64(list->bytes + MQTTIP_REVOCATION_HEADER_LEN +
			 i * MQTTIP_REVOCATION_SERIAL_LEN);
}

const uint8_t *revocation_key_at(const struct revocation *list, size_t i)
{
	return list->bytes + MQTTIP_REVOCATION_HEADER_LEN +
	       (size_t)list->n_serials * MQTTIP_REVOCATION_SERIAL_LEN + i * MQTTIP_KEY_LEN;
}

bool revocation_serial_listed(const struct revocation *list, uint64_t serial)
{
	size_t lo = 0, hi = list->len ? list->n_serials : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t v = revocation_serial_at(list, mid);

		if (v == serial)
			return true;
		if (v < serial)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool revocation_key_listed(const struct revocation *list, const uint8_t key[MQTTIP_KEY_LEN])
{
	size_t lo = 0, hi = list->len ? list->n_keys : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(revocation_key_at(list, mid), key, MQTTIP_KEY_LEN);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool revocation_is_revoked(const struct revocation *list, const struct cert *c)
{
	return revocation_serial_listed(list, c->serial) ||
	       revocation_key_listed(list, c->x25519_public);
}
