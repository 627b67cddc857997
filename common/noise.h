/* noise.h - the Noise Protocol Framework (revision 34) for 25519_ChaChaPoly_SHA256, with
 * CipherState, SymmetricState and HandshakeState as the specification names them, and every
 * interactive and one-way pattern of the spec (fundamental, deferred and psk-modified), so that
 * IK, IKpsk2, NNpsk0, XX and the rest run from a name such as
 * "Noise_IKpsk2_25519_ChaChaPoly_SHA256". State is fixed-size and allocation-free; everything
 * secret is wiped by noise_handshake_wipe() and noise_cipher_wipe(). Built from libsodium:
 * crypto_scalarmult (X25519), crypto_aead_chacha20poly1305_ietf, crypto_hash_sha256 and
 * crypto_auth_hmacsha256. */
#ifndef MQTTIP_NOISE_H
#define MQTTIP_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOISE_KEY_LEN	  32
#define NOISE_HASH_LEN	  32
#define NOISE_TAG_LEN	  16
#define NOISE_MAX_MESSAGE 65535
#define NOISE_MAX_PSKS	  4

enum noise_error {
	NOISE_OK = 0,
	NOISE_ERR_UNSUPPORTED = -1, /* protocol name not one we implement */
	NOISE_ERR_STATE = -2,	    /* call out of turn, missing key for the pattern */
	NOISE_ERR_BUFFER = -3,	    /* output too small or message too long */
	NOISE_ERR_DECRYPT = -4,	    /* authentication failed */
	NOISE_ERR_DH = -5,	    /* X25519 produced the all-zero output (low-order point) */
	NOISE_ERR_MALFORMED = -6,   /* message too short for the pattern */
	NOISE_ERR_NONCE = -7,	    /* CipherState nonce exhausted */
};

struct noise_cipherstate {
	uint8_t k[NOISE_KEY_LEN];
	uint64_t n;
	bool has_key;
};

struct noise_symmetricstate {
	struct noise_cipherstate cs;
	uint8_t ck[NOISE_HASH_LEN];
	uint8_t h[NOISE_HASH_LEN];
};

struct noise_pattern; /* opaque, static table in noise.c */

struct noise_handshakestate {
	struct noise_symmetricstate ss;
	const struct noise_pattern *pattern;
	uint8_t s[NOISE_KEY_LEN], s_pub[NOISE_KEY_LEN];
	uint8_t e[NOISE_KEY_LEN], e_pub[NOISE_KEY_LEN];
	uint8_t rs[NOISE_KEY_LEN], re[NOISE_KEY_LEN];
	uint8_t psks[NOISE_MAX_PSKS][NOISE_KEY_LEN];
	uint8_t n_psks, psks_used;
	uint8_t psk_mask; /* bit N set: modifier pskN */
	bool has_s, has_e, has_rs, has_re;
	bool initiator;
	bool failed; /* an error after state changed, or split done: no further messages */
	uint8_t message_index;
};

/* Keys given to noise_handshake_init; NULL for absent ones. e is only for test vectors: when
 * given, the first "e" token uses it instead of a fresh key pair. re is stored as given; none of
 * the shipped patterns has an "e" pre-message (no fallback patterns). psks fill the pattern's
 * psk slots in order (psk0 before psk2 ...); n_psks may be smaller than the number of modifiers
 * when the rest follow with noise_handshake_set_psk() before their "psk" token is processed. */
struct noise_keys {
	const uint8_t *s;     /* local static private key */
	const uint8_t *s_pub; /* X25519(s) when the caller holds it (not checked: a wrong one fails
			       * the peer's decryption), else NULL: derived from s, a scalar
			       * multiplication (0.8 M instructions on an ESP32-C3) */
	const uint8_t *e;     /* local ephemeral private key (tests) */
	const uint8_t *rs;    /* remote static public key, pre-known */
	const uint8_t *re;    /* remote ephemeral public key, pre-known (fallback patterns) */
	const uint8_t (*psks)[NOISE_KEY_LEN];
	size_t n_psks;
};

/* CipherState: EncryptWithAd/DecryptWithAd (in place allowed: out == in; no other overlap).
 * Without a key they copy the plaintext through, as the spec says. out_len gets the written
 * length. Nonce n == 2^64-1 is reserved: NOISE_ERR_NONCE. A failed decryption leaves n as it
 * was and zeroes out[0..in_len-16). */
int noise_cipher_encrypt(struct noise_cipherstate *cs, const uint8_t *ad, size_t ad_len,
			 const uint8_t *in, size_t in_len, uint8_t *out, size_t cap,
			 size_t *out_len);
int noise_cipher_decrypt(struct noise_cipherstate *cs, const uint8_t *ad, size_t ad_len,
			 const uint8_t *in, size_t in_len, uint8_t *out, size_t cap,
			 size_t *out_len);
void noise_cipher_wipe(struct noise_cipherstate *cs);

/* HKDF of the spec (HMAC-SHA-256), n_outputs 2 or 3. */
void noise_hkdf(const uint8_t ck[NOISE_HASH_LEN], const uint8_t *ikm, size_t ikm_len,
		uint8_t out1[NOISE_HASH_LEN], uint8_t out2[NOISE_HASH_LEN],
		uint8_t *out3 /* NULL for two outputs */);

/* Initialize(handshake_pattern, initiator, prologue, s, e, rs, re) with psks, from a full
 * protocol name "Noise_<pattern>[<modifiers>]_25519_ChaChaPoly_SHA256", modifiers pskN joined
 * by '+'. Returns NOISE_ERR_UNSUPPORTED for other DH/cipher/hash choices and unknown patterns
 * or modifiers, NOISE_ERR_STATE when a key the pattern needs up front is missing (own s when
 * the pattern sends it, rs when it is a pre-message) or more psks than modifiers are given.
 * Messages: payload must not overlap out/msg. Message length is capped at NOISE_MAX_MESSAGE.
 * Any error after the state changed (DH, DECRYPT, NONCE) aborts the handshake: later calls
 * return NOISE_ERR_STATE. STATE, BUFFER and MALFORMED from checks up front change nothing. */
int noise_handshake_init(struct noise_handshakestate *hs, const char *protocol_name, bool initiator,
			 const uint8_t *prologue, size_t prologue_len,
			 const struct noise_keys *keys);
int noise_handshake_write_message(struct noise_handshakestate *hs, const uint8_t *payload,
				  size_t payload_len, uint8_t *out, size_t cap, size_t *out_len);
int noise_handshake_read_message(struct noise_handshakestate *hs, const uint8_t *msg,
				 size_t msg_len, uint8_t *payload, size_t cap, size_t *payload_len);
/* Sets psk slot index (0-based, in modifier order) of a handshake in progress, while that slot
 * has not been used yet: e.g. an IKpsk2 responder picks the psk after reading message 1 and
 * learning rs. NOISE_ERR_STATE if the slot was used, does not exist or slots before it are
 * still empty. */
int noise_handshake_set_psk(struct noise_handshakestate *hs, size_t index,
			    const uint8_t psk[NOISE_KEY_LEN]);
bool noise_handshake_is_finished(const struct noise_handshakestate *hs);
/* True when the next message is ours to write. */
bool noise_handshake_is_my_turn(const struct noise_handshakestate *hs);
/* Split(): c1 encrypts initiator->responder, c2 responder->initiator. Call once finished.
 * Afterwards ck, e, s and the psks are wiped; h (the handshake hash), rs and the public keys
 * stay readable until noise_handshake_wipe(). */
int noise_handshake_split(struct noise_handshakestate *hs, struct noise_cipherstate *c1,
			  struct noise_cipherstate *c2);
/* One-way patterns (N, K, X...) finish after one message; true for them. */
bool noise_handshake_is_one_way(const struct noise_handshakestate *hs);
void noise_handshake_wipe(struct noise_handshakestate *hs);

#endif
