/* keypair.h - one direction pair of transport keys from a completed handshake, and the transport
 * message codec (docs/PROTOCOL.md "Transport messages"):
 *   type=4(1) | reserved 0(3) | receiver_index(4, LE) | counter(8, LE) | AEAD(body) | tag(16)
 * The 16-byte header is the AEAD's associated data; the nonce is 4 zero bytes and the counter,
 * little-endian (as Noise and WireGuard). Sealing and opening work in place on the caller's buffer
 * with the body at buf + MQTTIP_TRANSPORT_HEADER_LEN: one pass of the cipher, no copy, no
 * allocation. The replay window is updated only after the tag verifies. */
#ifndef MQTTIP_KEYPAIR_H
#define MQTTIP_KEYPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "replay.h"

struct keypair {
	uint8_t send_key[MQTTIP_KEY_LEN];
	uint8_t recv_key[MQTTIP_KEY_LEN];
	uint64_t send_counter; /* next counter to use */
	struct replay_window replay;
	uint32_t local_index;  /* what the peer puts in receiver_index when writing to us */
	uint32_t remote_index; /* what we put in receiver_index when writing to the peer */
	uint64_t birth_ms;     /* monotonic clock at creation */
	bool is_initiator;     /* we sent the initiation that made it */
	bool valid;
	bool unconfirmed; /* session.h: a responder's new keypair (next) the initiator has not used
			   */
};

/* Timer settings; keypair_params_default() gives PROTOCOL.md's values. */
struct keypair_params {
	uint64_t rekey_after_ms;
	uint64_t reject_after_ms;
	uint64_t rekey_after_messages;
	uint64_t reject_after_messages;
};

enum keypair_error {
	KEYPAIR_OK = 0,
	KEYPAIR_ERR_MALFORMED = -1, /* too short, wrong type, reserved bits set */
	KEYPAIR_ERR_INVALID = -2,   /* keypair not valid (wiped or never set) */
	KEYPAIR_ERR_EXPIRED = -3,   /* older than reject_after_ms */
	KEYPAIR_ERR_EXHAUSTED = -4, /* counter reached reject_after_messages */
	KEYPAIR_ERR_AUTH = -5,	    /* tag did not verify: tampered or wrong key */
	KEYPAIR_ERR_REPLAY = -6,    /* counter seen before or left of the window */
	KEYPAIR_ERR_BUFFER = -7,
};

struct keypair_params keypair_params_default(void);
const char *keypair_strerror(int err);

/* Reads the receiver index of a transport message (to find the keypair); -1 if malformed. */
int transport_receiver_index(const uint8_t *msg, size_t len, uint32_t *index);

/* buf holds body_len bytes of body at buf + MQTTIP_TRANSPORT_HEADER_LEN and has room for the
 * tag after it (cap). Writes header and tag, encrypts in place; *msg_len = whole message. */
int keypair_seal(struct keypair *kp, uint64_t now_ms, const struct keypair_params *p, uint8_t *buf,
		 size_t cap, size_t body_len, size_t *msg_len);
/* Decrypts msg in place; on success *body points into msg and *body_len is its length. Order:
 * header checks, keypair valid and not expired, counter below the limit, replay pre-check (no
 * update), tag verification and decryption, then the window update. After KEYPAIR_ERR_AUTH the
 * bytes after the header may have been zeroed (libsodium clears its output on a bad tag). The
 * receiver index is authenticated (AD) but not compared: callers pick kp by it. */
int keypair_open(struct keypair *kp, uint64_t now_ms, const struct keypair_params *p, uint8_t *msg,
		 size_t msg_len, uint8_t **body, size_t *body_len);
/* True when this keypair, used for sending, calls for a new handshake (PROTOCOL.md "Timers"):
 * it cannot seal any more (keypair_can_seal), or send_counter >= rekey_after_messages (either
 * side), or we are its initiator and its age >= rekey_after_ms. */
bool keypair_wants_rekey(const struct keypair *kp, uint64_t now_ms, const struct keypair_params *p);
/* True when not valid or age (now_ms - birth_ms; 0 if the clock reads earlier) >=
 * reject_after_ms. */
bool keypair_is_expired(const struct keypair *kp, uint64_t now_ms, const struct keypair_params *p);
/* True when keypair_seal() would accept now: valid, not expired, send counter not exhausted. */
bool keypair_can_seal(const struct keypair *kp, uint64_t now_ms, const struct keypair_params *p);
void keypair_wipe(struct keypair *kp);

#endif
