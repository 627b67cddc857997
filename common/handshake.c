/* handshake.c - see handshake.h for the message layouts and the order of the checks. */
#include "handshake.h"
#include "bytes.h"

#include <string.h>

#include <sodium.h>

#define HEADER_LEN	 8  /* type, version, reserved(2), sender_index */
#define RESPONSE_HDR_LEN 12 /* the same plus receiver_index */
#define PROLOGUE_LEN	 (8 + MQTTIP_NETWORK_ID_LEN + 16 + 16)
#define TAI64_EPOCH	 UINT64_C(0x400000000000000a) /* 2^62 + the 10 s TAI-UTC offset of 1970 */
#define MAX_INIT_PAYLOAD (MQTTIP_TIMESTAMP_LEN + 1 + MQTTIP_HANDSHAKE_EXT_MAX + MQTTIP_CERT_MAX_LEN)

const char *handshake_strerror(int err)
{
	switch (err) {
	case HANDSHAKE_OK:
		return "ok";
	case HANDSHAKE_ERR_MALFORMED:
		return "malformed handshake message";
	case HANDSHAKE_ERR_MAC1:
		return "mac1 does not match";
	case HANDSHAKE_ERR_DECRYPT:
		return "handshake decryption failed";
	case HANDSHAKE_ERR_CERT:
		return "peer certificate refused";
	case HANDSHAKE_ERR_STATIC_MISMATCH:
		return "certificate key differs from the handshake static key";
	case HANDSHAKE_ERR_ADDR_NOT_OWNED:
		return "certificate does not own the topic source address";
	case HANDSHAKE_ERR_REPLAY:
		return "timestamp not newer than the last accepted one";
	case HANDSHAKE_ERR_INDEX:
		return "response is for another handshake";
	case HANDSHAKE_ERR_STATE:
		return "handshake call out of turn";
	case HANDSHAKE_ERR_BUFFER:
		return "buffer too small";
	case HANDSHAKE_ERR_INVALID:
		return "invalid argument";
	default:
		return "unknown handshake error";
	}
}

int handshake_message_type(const uint8_t *msg, size_t len)
{
	return len ? msg[0] : -1;
}

int handshake_sender_index(const uint8_t *msg, size_t len, uint32_t *index)
{
	if (len < HEADER_LEN || (msg[0] != MQTTIP_MSG_INITIATION && msg[0] != MQTTIP_MSG_RESPONSE))
		return -1;
	*index = load_le32(msg + 4);
	return 0;
}

int handshake_receiver_index(const uint8_t *msg, size_t len, uint32_t *index)
{
	if (len < RESPONSE_HDR_LEN || msg[0] != MQTTIP_MSG_RESPONSE)
		return -1;
	*index = load_le32(msg + 8);
	return 0;
}

void handshake_tai64n(uint64_t unix_seconds, uint32_t nanoseconds,
		      uint8_t out[MQTTIP_TIMESTAMP_LEN])
{
	uint64_t label = TAI64_EPOCH + unix_seconds;

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(label >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(nanoseconds >> (24 - 8 * i));
}

static void mac1_compute(const uint8_t *msg, size_t len, const uint8_t *receiver_static_public,
			 uint8_t mac[crypto_auth_hmacsha256_BYTES])
{
	uint8_t key[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)MQTTIP_LABEL_MAC1,
				  sizeof(MQTTIP_LABEL_MAC1) - 1);
	crypto_hash_sha256_update(&st, receiver_static_public, MQTTIP_KEY_LEN);
	crypto_hash_sha256_final(&st, key);
	crypto_auth_hmacsha256(mac, msg, len - MQTTIP_MAC_LEN, key);
}

bool handshake_mac1_ok(const uint8_t *msg, size_t len, const uint8_t *receiver_static_public)
{
	uint8_t mac[crypto_auth_hmacsha256_BYTES];

	if (len < MQTTIP_MAC_LEN)
		return false;
	mac1_compute(msg, len, receiver_static_public, mac);
	return crypto_verify_16(mac, msg + len - MQTTIP_MAC_LEN) == 0;
}

void handshake_mac1_write(uint8_t *msg, size_t len, const uint8_t *receiver_static_public)
{
	uint8_t mac[crypto_auth_hmacsha256_BYTES];

	if (len < MQTTIP_MAC_LEN)
		return;
	mac1_compute(msg, len, receiver_static_public, mac);
	memcpy(msg + len - MQTTIP_MAC_LEN, mac, MQTTIP_MAC_LEN);
}

void handshake_wipe(struct handshake *hs)
{
	sodium_memzero(hs, sizeof(*hs));
}

static void build_prologue(uint8_t out[PROLOGUE_LEN], const uint8_t *network_id,
			   const struct netaddr *initiator, const struct netaddr *responder)
{
	memcpy(out, MQTTIP_PROLOGUE_LABEL, 8);
	memcpy(out + 8, network_id, MQTTIP_NETWORK_ID_LEN);
	netaddr_to16(initiator, out + 8 + MQTTIP_NETWORK_ID_LEN);
	netaddr_to16(responder, out + 8 + MQTTIP_NETWORK_ID_LEN + 16);
}

static void write_header(uint8_t *out, uint8_t type, uint32_t sender_index)
{
	out[0] = type;
	out[1] = MQTTIP_PROTOCOL_VERSION;
	out[2] = 0;
	out[3] = 0;
	store_le32(out + 4, sender_index);
}

static bool header_ok(const uint8_t *msg, uint8_t type)
{
	return msg[0] == type && msg[1] == MQTTIP_PROTOCOL_VERSION && msg[2] == 0 && msg[3] == 0;
}

/* A failed Noise read: authentication and low-order keys are the peer's fault alike. */
static int noise_read_error(int err)
{
	switch (err) {
	case NOISE_ERR_DECRYPT:
	case NOISE_ERR_DH:
		return HANDSHAKE_ERR_DECRYPT;
	case NOISE_ERR_MALFORMED:
		return HANDSHAKE_ERR_MALFORMED;
	default:
		return HANDSHAKE_ERR_INVALID;
	}
}

static void keypair_from_split(struct keypair *kp, const struct noise_cipherstate *send,
			       const struct noise_cipherstate *recv, uint32_t local_index,
			       uint32_t remote_index, bool is_initiator, uint64_t now_ms)
{
	sodium_memzero(kp, sizeof(*kp));
	memcpy(kp->send_key, send->k, MQTTIP_KEY_LEN);
	memcpy(kp->recv_key, recv->k, MQTTIP_KEY_LEN);
	replay_init(&kp->replay);
	kp->local_index = local_index;
	kp->remote_index = remote_index;
	kp->birth_ms = now_ms;
	kp->is_initiator = is_initiator;
	kp->valid = true;
}

int handshake_initiation_create(struct handshake *hs, const struct handshake_local *local,
				const struct netaddr *self_addr, const struct netaddr *peer_addr,
				const uint8_t *peer_static_public, const uint8_t *psk,
				uint32_t sender_index,
				const uint8_t timestamp[MQTTIP_TIMESTAMP_LEN], uint8_t *out,
				size_t cap, size_t *out_len)
{
	static const uint8_t zero_psk[NOISE_KEY_LEN];
	uint8_t prologue[PROLOGUE_LEN];
	uint8_t payload[MAX_INIT_PAYLOAD];
	uint8_t psks[1][NOISE_KEY_LEN];
	struct noise_keys keys = {0};
	size_t noise_len = 0, total;
	int err;

	handshake_wipe(hs);
	if (local->cert_len == 0 || local->cert_len > MQTTIP_CERT_MAX_LEN ||
	    local->ext_len > MQTTIP_HANDSHAKE_EXT_MAX || (local->ext_len && !local->ext))
		return HANDSHAKE_ERR_INVALID;
	total = MQTTIP_INITIATION_FIXED_LEN + local->ext_len + local->cert_len;
	if (cap < total)
		return HANDSHAKE_ERR_BUFFER;

	build_prologue(prologue, local->network_id, self_addr, peer_addr);
	memcpy(psks[0], psk ? psk : zero_psk, NOISE_KEY_LEN);
	keys.s = local->static_private;
	keys.s_pub = local->static_public;
	keys.rs = peer_static_public;
	keys.psks = (const uint8_t(*)[NOISE_KEY_LEN])psks;
	keys.n_psks = 1;
	err = noise_handshake_init(&hs->noise, MQTTIP_NOISE_PROTOCOL, true, prologue,
				   sizeof(prologue), &keys);
	sodium_memzero(psks, sizeof(psks));
	if (err != NOISE_OK) {
		handshake_wipe(hs);
		return HANDSHAKE_ERR_INVALID;
	}

	/* payload: timestamp || capabilities length (1) || capabilities || certificate */
	memcpy(payload, timestamp, MQTTIP_TIMESTAMP_LEN);
	payload[MQTTIP_TIMESTAMP_LEN] = (uint8_t)local->ext_len;
	if (local->ext_len)
		memcpy(payload + MQTTIP_TIMESTAMP_LEN + 1, local->ext, local->ext_len);
	memcpy(payload + MQTTIP_TIMESTAMP_LEN + 1 + local->ext_len, local->cert, local->cert_len);
	err = noise_handshake_write_message(
	    &hs->noise, payload, MQTTIP_TIMESTAMP_LEN + 1 + local->ext_len + local->cert_len,
	    out + HEADER_LEN, total - HEADER_LEN - MQTTIP_MAC_LEN, &noise_len);
	if (err != NOISE_OK || noise_len != total - HEADER_LEN - MQTTIP_MAC_LEN) {
		handshake_wipe(hs);
		return HANDSHAKE_ERR_INVALID;
	}
	write_header(out, MQTTIP_MSG_INITIATION, sender_index);
	handshake_mac1_write(out, total, peer_static_public);

	hs->state = HANDSHAKE_INITIATION_SENT;
	hs->is_initiator = true;
	hs->local_index = sender_index;
	hs->initiator_addr = *self_addr;
	hs->responder_addr = *peer_addr;
	memcpy(hs->local_static_public, local->static_public, MQTTIP_KEY_LEN);
	sodium_memzero(payload, sizeof(payload));
	*out_len = total;
	return HANDSHAKE_OK;
}

int handshake_initiation_check(const uint8_t *msg, size_t len, const uint8_t *self_static_public)
{
	if (len <= MQTTIP_INITIATION_FIXED_LEN || len > MQTTIP_INITIATION_MAX_LEN ||
	    !header_ok(msg, MQTTIP_MSG_INITIATION))
		return HANDSHAKE_ERR_MALFORMED;
	if (!handshake_mac1_ok(msg, len, self_static_public))
		return HANDSHAKE_ERR_MAC1;
	return HANDSHAKE_OK;
}

/* The checks after the Noise read, in the order of the contract. */
static int verify_peer(struct handshake *hs, const struct handshake_local *local,
		       const struct netaddr *peer_addr, uint64_t now_unix,
		       const uint8_t *last_timestamp, const uint8_t *payload, size_t payload_len,
		       struct cert *peer_cert)
{
	size_t ext_len;
	int err;

	if (payload_len <= MQTTIP_TIMESTAMP_LEN + 1)
		return HANDSHAKE_ERR_MALFORMED;
	ext_len = payload[MQTTIP_TIMESTAMP_LEN];
	if (ext_len > MQTTIP_HANDSHAKE_EXT_MAX || payload_len <= MQTTIP_TIMESTAMP_LEN + 1 + ext_len)
		return HANDSHAKE_ERR_MALFORMED;
	err = cert_verify(payload + MQTTIP_TIMESTAMP_LEN + 1 + ext_len,
			  payload_len - MQTTIP_TIMESTAMP_LEN - 1 - ext_len, local->network_id,
			  now_unix, peer_cert);
	if (err != CERT_OK) {
		hs->cert_error = err;
		return HANDSHAKE_ERR_CERT;
	}
	if (sodium_memcmp(peer_cert->x25519_public, hs->noise.rs, MQTTIP_KEY_LEN) != 0)
		return HANDSHAKE_ERR_STATIC_MISMATCH;
	if (cert_check_owns(peer_cert, peer_addr) != CERT_OK)
		return HANDSHAKE_ERR_ADDR_NOT_OWNED;
	if (last_timestamp && memcmp(payload, last_timestamp, MQTTIP_TIMESTAMP_LEN) <= 0)
		return HANDSHAKE_ERR_REPLAY;
	return HANDSHAKE_OK;
}

int handshake_initiation_consume(struct handshake *hs, const struct handshake_local *local,
				 const struct netaddr *peer_addr, const struct netaddr *self_addr,
				 uint64_t now_unix, const uint8_t *last_timestamp,
				 const uint8_t *msg, size_t len, struct cert *peer_cert_out,
				 uint8_t timestamp_out[MQTTIP_TIMESTAMP_LEN],
				 uint8_t ext_out[MQTTIP_HANDSHAKE_EXT_MAX], size_t *ext_len_out)
{
	uint8_t prologue[PROLOGUE_LEN];
	uint8_t payload[MAX_INIT_PAYLOAD];
	struct noise_keys keys = {0};
	size_t payload_len;
	int err, cert_err;

	handshake_wipe(hs);
	err = handshake_initiation_check(msg, len, local->static_public);
	if (err != HANDSHAKE_OK)
		return err;

	build_prologue(prologue, local->network_id, peer_addr, self_addr);
	/* No PSK yet: IKpsk2 mixes it only into the response, and handshake_response_create() sets
	 * it once the caller knows who the initiator is. */
	keys.s = local->static_private;
	keys.s_pub = local->static_public;
	err = noise_handshake_init(&hs->noise, MQTTIP_NOISE_PROTOCOL, false, prologue,
				   sizeof(prologue), &keys);
	if (err != NOISE_OK) {
		handshake_wipe(hs);
		return HANDSHAKE_ERR_INVALID;
	}
	err = noise_handshake_read_message(&hs->noise, msg + HEADER_LEN,
					   len - HEADER_LEN - MQTTIP_MAC_LEN, payload,
					   sizeof(payload), &payload_len);
	if (err != NOISE_OK) {
		handshake_wipe(hs);
		return noise_read_error(err);
	}
	err = verify_peer(hs, local, peer_addr, now_unix, last_timestamp, payload, payload_len,
			  peer_cert_out);
	if (err != HANDSHAKE_OK) {
		cert_err = hs->cert_error;
		handshake_wipe(hs);
		hs->cert_error = cert_err;
		sodium_memzero(payload, sizeof(payload));
		return err;
	}

	memcpy(timestamp_out, payload, MQTTIP_TIMESTAMP_LEN);
	*ext_len_out = payload[MQTTIP_TIMESTAMP_LEN];
	memcpy(ext_out, payload + MQTTIP_TIMESTAMP_LEN + 1, *ext_len_out);
	sodium_memzero(payload, sizeof(payload));
	hs->state = HANDSHAKE_INITIATION_CONSUMED;
	hs->is_initiator = false;
	hs->remote_index = load_le32(msg + 4);
	hs->initiator_addr = *peer_addr;
	hs->responder_addr = *self_addr;
	return HANDSHAKE_OK;
}

int handshake_response_create(struct handshake *hs, const uint8_t *psk, uint32_t sender_index,
			      const uint8_t *ext, size_t ext_len, uint8_t *out, size_t cap,
			      size_t *out_len, struct keypair *kp, uint64_t now_ms)
{
	static const uint8_t empty_payload[1];
	static const uint8_t zero_psk[NOISE_KEY_LEN];
	struct noise_cipherstate c1, c2;
	size_t noise_len = 0, total = MQTTIP_RESPONSE_MIN_LEN + ext_len;
	int err;

	if (hs->state != HANDSHAKE_INITIATION_CONSUMED || hs->is_initiator) {
		handshake_wipe(hs);
		return HANDSHAKE_ERR_STATE;
	}
	if (ext_len > MQTTIP_HANDSHAKE_EXT_MAX || (ext_len && !ext)) {
		handshake_wipe(hs);
		return HANDSHAKE_ERR_INVALID;
	}
	if (cap < total) {
		handshake_wipe(hs);
		return HANDSHAKE_ERR_BUFFER;
	}
	err = noise_handshake_set_psk(&hs->noise, 0, psk ? psk : zero_psk);
	if (err == NOISE_OK)
		err = noise_handshake_write_message(
		    &hs->noise, ext_len ? ext : empty_payload, ext_len, out + RESPONSE_HDR_LEN,
		    total - RESPONSE_HDR_LEN - MQTTIP_MAC_LEN, &noise_len);
	if (err != NOISE_OK || noise_len != total - RESPONSE_HDR_LEN - MQTTIP_MAC_LEN ||
	    noise_handshake_split(&hs->noise, &c1, &c2) != NOISE_OK) {
		handshake_wipe(hs);
		return HANDSHAKE_ERR_INVALID;
	}
	write_header(out, MQTTIP_MSG_RESPONSE, sender_index);
	store_le32(out + 8, hs->remote_index);
	handshake_mac1_write(out, total, hs->noise.rs);

	keypair_from_split(kp, &c2, &c1, sender_index, hs->remote_index, false, now_ms);
	noise_cipher_wipe(&c1);
	noise_cipher_wipe(&c2);
	handshake_wipe(hs);
	*out_len = total;
	return HANDSHAKE_OK;
}

int handshake_response_consume(struct handshake *hs, const uint8_t *msg, size_t len,
			       struct keypair *kp, uint64_t now_ms,
			       uint8_t ext_out[MQTTIP_HANDSHAKE_EXT_MAX], size_t *ext_len_out)
{
	struct noise_handshakestate trial;
	struct noise_cipherstate c1, c2;
	uint8_t payload[MQTTIP_HANDSHAKE_EXT_MAX + MQTTIP_AEAD_TAG_LEN];
	size_t payload_len;
	int err;

	if (hs->state != HANDSHAKE_INITIATION_SENT || !hs->is_initiator)
		return HANDSHAKE_ERR_STATE;
	if (len < MQTTIP_RESPONSE_MIN_LEN || len > MQTTIP_RESPONSE_MAX_LEN ||
	    !header_ok(msg, MQTTIP_MSG_RESPONSE))
		return HANDSHAKE_ERR_MALFORMED;
	if (load_le32(msg + 8) != hs->local_index)
		return HANDSHAKE_ERR_INDEX;
	if (!handshake_mac1_ok(msg, len, hs->local_static_public))
		return HANDSHAKE_ERR_MAC1;

	/* Reading mutates the Noise state even when it fails; work on a copy so that only a
	 * response that decrypts consumes the pending initiation. */
	trial = hs->noise;
	err = noise_handshake_read_message(&trial, msg + RESPONSE_HDR_LEN,
					   len - RESPONSE_HDR_LEN - MQTTIP_MAC_LEN, payload,
					   sizeof(payload), &payload_len);
	if (err == NOISE_OK && payload_len > MQTTIP_HANDSHAKE_EXT_MAX)
		err = NOISE_ERR_MALFORMED;
	if (err != NOISE_OK) {
		sodium_memzero(&trial, sizeof(trial));
		return noise_read_error(err);
	}
	if (noise_handshake_split(&trial, &c1, &c2) != NOISE_OK) {
		sodium_memzero(&trial, sizeof(trial));
		return HANDSHAKE_ERR_INVALID;
	}
	keypair_from_split(kp, &c1, &c2, hs->local_index, load_le32(msg + 4), true, now_ms);
	memcpy(ext_out, payload, payload_len);
	*ext_len_out = payload_len;
	noise_cipher_wipe(&c1);
	noise_cipher_wipe(&c2);
	sodium_memzero(&trial, sizeof(trial));
	handshake_wipe(hs);
	return HANDSHAKE_OK;
}
