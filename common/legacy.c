/* legacy.c - MQTT_VPN message codec and nonce replay cache (contract in legacy.h). */
#include "legacy.h"

#include <string.h>

#include <sodium.h>

#define LEGACY_TAG_OFF	  (MQTTIP_LEGACY_NONCE_LEN + MQTTIP_LEGACY_ZERO_LEN)
#define LEGACY_CIPHER_OFF (LEGACY_TAG_OFF + crypto_secretbox_MACBYTES)

_Static_assert(MQTTIP_LEGACY_NONCE_LEN == crypto_secretbox_NONCEBYTES, "nonce size");
_Static_assert(MQTTIP_LEGACY_ZERO_LEN == crypto_secretbox_BOXZEROBYTES, "zero region size");
_Static_assert(MQTTIP_LEGACY_OVERHEAD == LEGACY_CIPHER_OFF, "overhead");
_Static_assert(MQTTIP_KEY_LEN == crypto_secretbox_KEYBYTES, "key size");
_Static_assert(LEGACY_NONCE_CACHE_KEY_LEN == crypto_shorthash_KEYBYTES, "cache key size");
_Static_assert(crypto_shorthash_BYTES == 8, "fingerprint is a uint64_t");
_Static_assert((LEGACY_NONCE_CACHE_ENTRIES & (LEGACY_NONCE_CACHE_ENTRIES - 1)) == 0,
	       "ring size is a power of two");
_Static_assert(LEGACY_NONCE_CACHE_ENTRIES < UINT16_MAX, "index slots hold position + 1");

const char *legacy_strerror(int err)
{
	switch (err) {
	case LEGACY_OK:
		return "ok";
	case LEGACY_ERR_LENGTH:
		return "bad length";
	case LEGACY_ERR_ZERO:
		return "non-zero bytes in the zero region";
	case LEGACY_ERR_TAG:
		return "authentication failed";
	case LEGACY_ERR_CAP:
		return "output buffer too small";
	default:
		return "unknown error";
	}
}

void legacy_key_from_password(const char *pw, size_t len, uint8_t key[MQTTIP_KEY_LEN])
{
	uint8_t digest[crypto_hash_sha512_BYTES];

	crypto_hash_sha512(digest, (const unsigned char *)pw, (unsigned long long)len);
	memcpy(key, digest, MQTTIP_KEY_LEN);
	sodium_memzero(digest, sizeof(digest));
}

int legacy_seal(const uint8_t key[MQTTIP_KEY_LEN], const uint8_t nonce[MQTTIP_LEGACY_NONCE_LEN],
		const uint8_t *packet, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	if (len == 0 || len > MQTTIP_MAX_IP_PACKET)
		return LEGACY_ERR_LENGTH;
	if (cap < len + MQTTIP_LEGACY_OVERHEAD)
		return LEGACY_ERR_CAP;
	memcpy(out, nonce, MQTTIP_LEGACY_NONCE_LEN);
	memset(out + MQTTIP_LEGACY_NONCE_LEN, 0, MQTTIP_LEGACY_ZERO_LEN);
	/* The detached form writes the same tag and ciphertext as the classic API, without its
	 * 32-byte zero-padded copy of the packet. */
	crypto_secretbox_detached(out + LEGACY_CIPHER_OFF, out + LEGACY_TAG_OFF, packet, len, nonce,
				  key);
	*out_len = len + MQTTIP_LEGACY_OVERHEAD;
	return LEGACY_OK;
}

int legacy_seal_random(const uint8_t key[MQTTIP_KEY_LEN], const uint8_t *packet, size_t len,
		       uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t nonce[MQTTIP_LEGACY_NONCE_LEN];

	randombytes_buf(nonce, sizeof(nonce));
	return legacy_seal(key, nonce, packet, len, out, cap, out_len);
}

int legacy_open(const uint8_t key[MQTTIP_KEY_LEN], const uint8_t *msg, size_t len, uint8_t *out,
		size_t cap, size_t *pkt_len)
{
	size_t plen;
	uint8_t zero_or = 0;

	if (len <= MQTTIP_LEGACY_OVERHEAD || len - MQTTIP_LEGACY_OVERHEAD > MQTTIP_MAX_IP_PACKET)
		return LEGACY_ERR_LENGTH;
	plen = len - MQTTIP_LEGACY_OVERHEAD;
	for (size_t i = 0; i < MQTTIP_LEGACY_ZERO_LEN; i++)
		zero_or |= msg[MQTTIP_LEGACY_NONCE_LEN + i];
	if (zero_or != 0)
		return LEGACY_ERR_ZERO;
	if (cap < plen)
		return LEGACY_ERR_CAP;
	/* libsodium checks the tag before it writes anything to out. */
	if (crypto_secretbox_open_detached(out, msg + LEGACY_CIPHER_OFF, msg + LEGACY_TAG_OFF, plen,
					   msg, key) != 0)
		return LEGACY_ERR_TAG;
	*pkt_len = plen;
	return LEGACY_OK;
}

/* Nonce cache. Index slots hold ring position + 1 so that zero means empty; an entry's home slot
 * is the low bits of its fingerprint. */
#define SLOT_MASK (LEGACY_NONCE_CACHE_SLOTS - 1u)
#define RING_MASK (LEGACY_NONCE_CACHE_ENTRIES - 1u)

void legacy_nonce_cache_init(struct legacy_nonce_cache *cache,
			     const uint8_t key[LEGACY_NONCE_CACHE_KEY_LEN])
{
	memset(cache, 0, sizeof(*cache));
	memcpy(cache->key, key, LEGACY_NONCE_CACHE_KEY_LEN);
}

void legacy_nonce_cache_init_random(struct legacy_nonce_cache *cache)
{
	uint8_t key[LEGACY_NONCE_CACHE_KEY_LEN];

	randombytes_buf(key, sizeof(key));
	legacy_nonce_cache_init(cache, key);
	sodium_memzero(key, sizeof(key));
}

void legacy_nonce_cache_wipe(struct legacy_nonce_cache *cache)
{
	sodium_memzero(cache, sizeof(*cache));
}

/* SipHash of sender_len || sender || nonce: the length byte keeps (sender, nonce) pairs of
 * different sender lengths from ever hashing the same bytes. */
static uint64_t fingerprint_of(const struct legacy_nonce_cache *cache, const uint8_t *sender,
			       size_t sender_len, const uint8_t nonce[MQTTIP_LEGACY_NONCE_LEN])
{
	uint8_t in[1 + LEGACY_SENDER_MAX + MQTTIP_LEGACY_NONCE_LEN];
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t fp = 0;

	in[0] = (uint8_t)sender_len;
	if (sender_len)
		memcpy(in + 1, sender, sender_len);
	memcpy(in + 1 + sender_len, nonce, MQTTIP_LEGACY_NONCE_LEN);
	crypto_shorthash(h, in, 1 + sender_len + MQTTIP_LEGACY_NONCE_LEN, cache->key);
	for (size_t i = 0; i < sizeof(h); i++)
		fp |= (uint64_t)h[i] << (8 * i);
	return fp;
}

static uint32_t home_slot(uint64_t fp)
{
	return (uint32_t)(fp & SLOT_MASK);
}

/* Removes index slot i, then shifts back the entries of its probe run that could no longer be
 * found, so lookups never need tombstones. */
static void index_delete(struct legacy_nonce_cache *cache, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		uint32_t home;

		j = (j + 1) & SLOT_MASK;
		if (cache->slot[j] == 0)
			break;
		home = home_slot(cache->fingerprint[cache->slot[j] - 1u]);
		/* The entry at j stays if its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		cache->slot[i] = cache->slot[j];
		i = j;
	}
	cache->slot[i] = 0;
}

static void evict_oldest(struct legacy_nonce_cache *cache)
{
	uint32_t pos = cache->next; /* when full, the next position holds the oldest entry */
	uint32_t s = home_slot(cache->fingerprint[pos]);

	while (cache->slot[s] != pos + 1u)
		s = (s + 1) & SLOT_MASK;
	index_delete(cache, s);
	cache->count--;
}

bool legacy_nonce_cache_check_and_add(struct legacy_nonce_cache *cache, const uint8_t *sender,
				      size_t sender_len,
				      const uint8_t nonce[MQTTIP_LEGACY_NONCE_LEN])
{
	uint64_t fp;
	uint32_t s;

	if (sender_len > LEGACY_SENDER_MAX)
		sender_len = LEGACY_SENDER_MAX;
	fp = fingerprint_of(cache, sender, sender_len, nonce);
	s = home_slot(fp);

	for (; cache->slot[s] != 0; s = (s + 1) & SLOT_MASK) {
		if (cache->fingerprint[cache->slot[s] - 1u] == fp)
			return false;
	}
	if (cache->count == LEGACY_NONCE_CACHE_ENTRIES) {
		evict_oldest(cache);
		/* The shift may have moved entries into our run: probe again for a free slot. */
		s = home_slot(fp);
		while (cache->slot[s] != 0)
			s = (s + 1) & SLOT_MASK;
	}
	cache->fingerprint[cache->next] = fp;
	cache->slot[s] = (uint16_t)(cache->next + 1u);
	cache->next = (cache->next + 1u) & RING_MASK;
	cache->count++;
	return true;
}
