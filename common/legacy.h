/* legacy.h - messages of martin-ger's MQTT_VPN (interoperability mode), byte for byte, and a
 * bounded cache of recent nonces to refuse replays.
 *
 * Message (on topic <p>/<dst>, see topic.h TOPIC_LEGACY):
 *   nonce (24) | 16 zero bytes | Poly1305 tag (16) | XSalsa20 ciphertext of the IP packet
 * i.e. the nonce followed by the whole output of NaCl's classic crypto_secretbox(), which takes the
 * packet behind 32 zero bytes and returns 16 zero bytes, the tag and the ciphertext. Key = the
 * first 32 bytes of SHA-512(password). Without a password MQTT_VPN sends the raw IP packet; that
 * needs no codec.
 *
 * Legacy messages carry no sender identity, no counter and no timestamp: anyone who knows the
 * password can forge, and anyone on the broker can replay. The nonce cache narrows replays to
 * messages older than the last LEGACY_NONCE_CACHE_ENTRIES accepted ones; nothing can do better
 * without changing the format. Nothing here allocates; sodium_init() must have succeeded first. */
#ifndef MQTTIP_LEGACY_H
#define MQTTIP_LEGACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* Errors (negative), so that a caller can count and log why a message was dropped. */
enum legacy_error {
	LEGACY_OK = 0,
	LEGACY_ERR_LENGTH = -1, /* shorter than MQTTIP_LEGACY_OVERHEAD + 1 or packet > MAX_IP */
	LEGACY_ERR_ZERO = -2,	/* the 16 "zero bytes" are not all zero */
	LEGACY_ERR_TAG = -3,	/* authentication failed: wrong key, forged or corrupted */
	LEGACY_ERR_CAP = -4,	/* the output buffer is too small */
};

const char *legacy_strerror(int err);

/* key = first 32 bytes of SHA-512(pw[0..len)), as MQTT_VPN's -k option does (no salt, no
 * stretching: the password must be long and random to resist offline guessing). */
void legacy_key_from_password(const char *pw, size_t len, uint8_t key[MQTTIP_KEY_LEN]);

/* Seals packet[0..len) (1..MQTTIP_MAX_IP_PACKET bytes) into out (cap >= len +
 * MQTTIP_LEGACY_OVERHEAD, no overlap with packet). The nonce MUST be fresh random bytes for every
 * message (XSalsa20 with a repeated nonce leaks the XOR of two packets, and receivers refuse a
 * nonce they have seen): use legacy_seal_random unless a test needs a fixed nonce.
 * Returns LEGACY_OK and sets *out_len, or a legacy_error. */
int legacy_seal(const uint8_t key[MQTTIP_KEY_LEN], const uint8_t nonce[MQTTIP_LEGACY_NONCE_LEN],
		const uint8_t *packet, size_t len, uint8_t *out, size_t cap, size_t *out_len);
/* legacy_seal with a nonce from randombytes_buf. */
int legacy_seal_random(const uint8_t key[MQTTIP_KEY_LEN], const uint8_t *packet, size_t len,
		       uint8_t *out, size_t cap, size_t *out_len);

/* Opens msg[0..len) into out[0..*pkt_len). Refuses (in this order) a length outside
 * [MQTTIP_LEGACY_OVERHEAD + 1, MQTTIP_LEGACY_OVERHEAD + MQTTIP_MAX_IP_PACKET], a non-zero byte in
 * the zero region, a bad tag, and a cap smaller than the packet; out is not written unless the
 * message is authentic. The zero region is not authenticated and MQTT_VPN ignores it, but every
 * crypto_secretbox implementation (NaCl, TweetNaCl, libsodium) writes zeros there, so no genuine
 * sender is refused, and refusing keeps the accepted message exactly the bytes its sender made.
 * The nonce of a message that opened is msg[0..MQTTIP_LEGACY_NONCE_LEN): pass it to
 * legacy_nonce_cache_check_and_add next, and drop the packet if that returns false. */
int legacy_open(const uint8_t key[MQTTIP_KEY_LEN], const uint8_t *msg, size_t len, uint8_t *out,
		size_t cap, size_t *pkt_len);

/* Replay cache: the nonces of the last LEGACY_NONCE_CACHE_ENTRIES accepted messages, each kept as
 * a 64-bit SipHash-2-4 fingerprint under a secret key (so nobody can aim for a collision; an
 * accidental one drops a genuine message with probability about 2^-56 per message). A ring in
 * arrival order plus an open-addressing index (linear probing, load <= 1/2, backward-shift
 * deletion): check_and_add is O(1) expected. Memory: sizeof(struct legacy_nonce_cache) =
 * 16 + 8 * 256 + 2 * 512 + 8 = 3096 bytes, fixed.
 * Limit: a replay of a message older than the last 256 accepted is not caught (legacy messages
 * have no counter or time to compare with). */
#define LEGACY_NONCE_CACHE_ENTRIES 256 /* power of two */
#define LEGACY_NONCE_CACHE_SLOTS   (2 * LEGACY_NONCE_CACHE_ENTRIES)
#define LEGACY_NONCE_CACHE_KEY_LEN 16 /* crypto_shorthash_KEYBYTES */
#define LEGACY_SENDER_MAX	   16 /* an IPv6 address; MQTT_VPN senders are IPv4 (4 bytes) */

struct legacy_nonce_cache {
	uint8_t key[LEGACY_NONCE_CACHE_KEY_LEN];
	uint64_t fingerprint[LEGACY_NONCE_CACHE_ENTRIES]; /* ring, oldest at next once full */
	uint16_t slot[LEGACY_NONCE_CACHE_SLOTS];	  /* ring position + 1; 0 = empty */
	uint32_t next;					  /* ring position of the next insert */
	uint32_t count;					  /* entries in use */
};

/* Empties the cache; key is the fingerprint key (tests pass a fixed one). */
void legacy_nonce_cache_init(struct legacy_nonce_cache *cache,
			     const uint8_t key[LEGACY_NONCE_CACHE_KEY_LEN]);
/* Empties the cache with a key from randombytes_buf: what a receiver should use. */
void legacy_nonce_cache_init_random(struct legacy_nonce_cache *cache);
/* Call only after legacy_open accepted the message (so that forgeries cannot flush the cache).
 * The entry is the pair (sender, nonce), sender being the opened packet's IPv4 source address
 * (sender[0..sender_len), at most LEGACY_SENDER_MAX bytes): MQTT_VPN nodes draw nonces from
 * rand() seeded with the start second, so two nodes started in the same second send the same
 * nonces, and a cache of nonces alone would drop the second node's packets as replays. A
 * replay repeats both the nonce and the sealed source, so it is still caught.
 * Returns false if the pair is among the last LEGACY_NONCE_CACHE_ENTRIES recorded (a replay:
 * drop the packet); otherwise records it, evicting the oldest entry when full, and returns
 * true. */
bool legacy_nonce_cache_check_and_add(struct legacy_nonce_cache *cache, const uint8_t *sender,
				      size_t sender_len,
				      const uint8_t nonce[MQTTIP_LEGACY_NONCE_LEN]);
/* Wipes the fingerprint key and the entries. */
void legacy_nonce_cache_wipe(struct legacy_nonce_cache *cache);

#endif
