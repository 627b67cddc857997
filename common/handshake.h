/* handshake.h - the mqttip key exchange: Noise_IKpsk2_25519_ChaChaPoly_SHA256 in WireGuard's two
 * messages, with the initiator's node certificate and a TAI64N timestamp in the initiation's
 * encrypted payload (docs/PROTOCOL.md "Handshake"). All integers little-endian:
 *   initiation (type 1): type | version | reserved(2) = 0 | sender_index(4) | e(32) |
 *                        enc(s)(48) | enc(timestamp(12) || m(1) || capabilities(m) ||
 *                        certificate(n))(12+1+m+n+16) | mac1(16)
 *   response   (type 2): type | version | reserved(2) = 0 | sender_index(4) | receiver_index(4) |
 *                        e(32) | enc(capabilities(m))(m+16) | mac1(16)
 * The capabilities (0..MQTTIP_HANDSHAKE_EXT_MAX bytes, PROTOCOL.md 6.15) are opaque here: the node
 * engine writes and reads them (caps.h); Noise authenticates and encrypts them.
 * Prologue = "mqttip/2" || network_id(32) || initiator_addr16 || responder_addr16, the addresses
 * being those of the kx topic, so a message moved to another topic pair or network fails to
 * decrypt. mac1 = HMAC-SHA-256(SHA-256("mac1----" || receiver static public), bytes before
 * mac1)[0..16).
 *
 * Contract. The responder, for each message on <p>/kx/<self>/<src>:
 *   1. handshake_initiation_check()  size, type, version, reserved, mac1: no DH yet;
 *   2. ratelimit_allow(src)          the caller's step (ratelimit.h), after mac1 so that messages
 *                                    without mac1 cannot drain a sender's tokens;
 *   3. handshake_initiation_consume() Noise read, certificate against the network CA at now,
 *                                    certificate key == Noise static, certificate owns <src>,
 *                                    timestamp strictly newer than the last accepted one;
 *   4. handshake_response_create()   with the PSK chosen for that peer; yields the keypair.
 *      Only then the caller stores the returned timestamp as the peer's last accepted one.
 * The initiator calls handshake_initiation_create() and, on the response,
 * handshake_response_consume(), which yields its keypair; before it, a response that passes
 * handshake_mac1_ok() takes a rate-limit token (PROTOCOL.md 6.11), as the broker can forge one.
 * Every function returns HANDSHAKE_OK or a negative enum handshake_error. The Noise state is wiped
 * once keys are derived and on every error, except that a response refused by
 * handshake_response_consume() leaves a pending initiation intact: mac1 only proves knowledge of
 * a public key, so a forged response must not cancel the real one. Nothing allocates; a struct
 * handshake is plain fixed-size data that the caller owns. */
#ifndef MQTTIP_HANDSHAKE_H
#define MQTTIP_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert.h"
#include "keypair.h"
#include "netaddr.h"
#include "noise.h"
#include "proto.h"

enum handshake_error {
	HANDSHAKE_OK = 0,
	HANDSHAKE_ERR_MALFORMED = -1, /* size, type, version or reserved bytes wrong */
	HANDSHAKE_ERR_MAC1 = -2,      /* mac1 does not match our static key */
	HANDSHAKE_ERR_DECRYPT = -3,   /* Noise refused: tampered, other prologue, PSK, bad key */
	HANDSHAKE_ERR_CERT = -4,      /* certificate refused; cert_error in struct handshake */
	HANDSHAKE_ERR_STATIC_MISMATCH = -5, /* certificate x25519 key != Noise static key */
	HANDSHAKE_ERR_ADDR_NOT_OWNED = -6,  /* certificate does not own the topic source */
	HANDSHAKE_ERR_REPLAY = -7,	    /* timestamp not newer than the last accepted one */
	HANDSHAKE_ERR_INDEX = -8,	    /* response's receiver index is not our sender index */
	HANDSHAKE_ERR_STATE = -9,	    /* call out of turn for this handshake */
	HANDSHAKE_ERR_BUFFER = -10,	    /* output buffer too small */
	HANDSHAKE_ERR_INVALID = -11,	    /* bad argument: certificate length, Noise setup */
};

enum handshake_state {
	HANDSHAKE_EMPTY = 0,	       /* zeroed or wiped */
	HANDSHAKE_INITIATION_SENT,     /* initiator: waiting for the response */
	HANDSHAKE_INITIATION_CONSUMED, /* responder: peer verified, response to write */
};

/* What a node brings to every handshake. Pointers are borrowed for the call only. */
struct handshake_local {
	const uint8_t *static_private; /* X25519, MQTTIP_KEY_LEN */
	/* X25519(static_private), checked against our certificate (node.c): Noise's s and mac1 */
	uint8_t static_public[MQTTIP_KEY_LEN];
	const uint8_t *network_id; /* the network CA's Ed25519 public key */
	const uint8_t *cert;	   /* our encoded node certificate, sent in the initiation */
	size_t cert_len;	   /* 1..MQTTIP_CERT_MAX_LEN */
	const uint8_t *ext;	   /* our capabilities, sent in the initiation; may be NULL */
	size_t ext_len;		   /* 0..MQTTIP_HANDSHAKE_EXT_MAX */
};

struct handshake {
	struct noise_handshakestate noise;
	enum handshake_state state;
	bool is_initiator;
	uint32_t local_index;  /* our sender index: the peer writes it as receiver index */
	uint32_t remote_index; /* the peer's sender index (responder: known after consume) */
	struct netaddr initiator_addr, responder_addr; /* the kx topic pair in the prologue */
	uint8_t
	    local_static_public[MQTTIP_KEY_LEN]; /* initiator: the key the response's mac1 uses */
	int cert_error; /* the cert_error behind HANDSHAKE_ERR_CERT, else CERT_OK */
};

const char *handshake_strerror(int err);

/* Raw-byte helpers, for dispatching before any crypto. Type: the first byte, or -1 if empty.
 * Indices: -1 if msg is too short to hold them or of another type. */
int handshake_message_type(const uint8_t *msg, size_t len);
int handshake_sender_index(const uint8_t *msg, size_t len, uint32_t *index);
int handshake_receiver_index(const uint8_t *msg, size_t len, uint32_t *index); /* responses */

/* TAI64N label of a wall-clock time: big-endian (2^62 + 10 + unix_seconds) || nanoseconds, so
 * later times compare greater with memcmp. */
void handshake_tai64n(uint64_t unix_seconds, uint32_t nanoseconds,
		      uint8_t out[MQTTIP_TIMESTAMP_LEN]);

/* mac1 over msg[0 .. len-16) keyed for receiver_static_public. _ok compares in constant time
 * with the last 16 bytes (false if len < 16); _write stores it there. */
bool handshake_mac1_ok(const uint8_t *msg, size_t len, const uint8_t *receiver_static_public);
void handshake_mac1_write(uint8_t *msg, size_t len, const uint8_t *receiver_static_public);

/* Initiator: writes the initiation for the kx topic <p>/kx/<peer_addr>/<self_addr>.
 * peer_static_public comes from the responder's verified certificate; psk NULL = all zeros;
 * timestamp from handshake_tai64n(), strictly increasing per sender across restarts.
 * out needs MQTTIP_INITIATION_FIXED_LEN + local->ext_len + local->cert_len bytes. */
int handshake_initiation_create(struct handshake *hs, const struct handshake_local *local,
				const struct netaddr *self_addr, const struct netaddr *peer_addr,
				const uint8_t *peer_static_public, const uint8_t *psk,
				uint32_t sender_index,
				const uint8_t timestamp[MQTTIP_TIMESTAMP_LEN], uint8_t *out,
				size_t cap, size_t *out_len);

/* Responder, step 1: header and mac1 only (cheap; safe before the rate limit). */
int handshake_initiation_check(const uint8_t *msg, size_t len, const uint8_t *self_static_public);

/* Responder, step 3, for a message that arrived on <p>/kx/<self_addr>/<peer_addr>. Repeats step 1
 * (so no DH is ever done on a message without a valid mac1), then verifies in the order of the
 * contract above. last_timestamp: the last timestamp accepted from the node owning peer_addr, or
 * NULL if none. On success hs is HANDSHAKE_INITIATION_CONSUMED, *peer_cert_out is the verified
 * certificate, timestamp_out the initiation's timestamp and ext_out (ext_len_out bytes) the
 * initiator's capabilities (all required). After HANDSHAKE_ERR_STATIC_MISMATCH, _ADDR_NOT_OWNED or
 * _REPLAY *peer_cert_out still holds the verified certificate, for the log; after other errors its
 * content is unspecified. */
int handshake_initiation_consume(struct handshake *hs, const struct handshake_local *local,
				 const struct netaddr *peer_addr, const struct netaddr *self_addr,
				 uint64_t now_unix, const uint8_t *last_timestamp,
				 const uint8_t *msg, size_t len, struct cert *peer_cert_out,
				 uint8_t timestamp_out[MQTTIP_TIMESTAMP_LEN],
				 uint8_t ext_out[MQTTIP_HANDSHAKE_EXT_MAX], size_t *ext_len_out);

/* Responder, step 4: writes the response (MQTTIP_RESPONSE_MIN_LEN + ext_len bytes) carrying our
 * capabilities ext (0..MQTTIP_HANDSHAKE_EXT_MAX bytes) with psk (NULL = zeros) and fills *kp
 * (send = c2, receive = c1). hs is wiped afterwards, whatever the result. */
int handshake_response_create(struct handshake *hs, const uint8_t *psk, uint32_t sender_index,
			      const uint8_t *ext, size_t ext_len, uint8_t *out, size_t cap,
			      size_t *out_len, struct keypair *kp, uint64_t now_ms);

/* Initiator: checks size, header, receiver index == our sender index and mac1 (our static key)
 * before any DH, then Noise; on success fills *kp (send = c1, receive = c2) and the responder's
 * capabilities (ext_out, *ext_len_out), and wipes hs. */
int handshake_response_consume(struct handshake *hs, const uint8_t *msg, size_t len,
			       struct keypair *kp, uint64_t now_ms,
			       uint8_t ext_out[MQTTIP_HANDSHAKE_EXT_MAX], size_t *ext_len_out);

void handshake_wipe(struct handshake *hs);

#endif
