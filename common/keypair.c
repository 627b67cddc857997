/* keypair.c - transport message seal/open (PROTOCOL.md "Transport messages") and the per-keypair
 * timer and counter rules (PROTOCOL.md "Timers"). */
#include "keypair.h"
#include "bytes.h"

#include <sodium.h>
#include <string.h>

_Static_assert(MQTTIP_TRANSPORT_HEADER_LEN == 16, "header layout below is 16 bytes");
_Static_assert(MQTTIP_AEAD_TAG_LEN == crypto_aead_chacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(MQTTIP_KEY_LEN == crypto_aead_chacha20poly1305_ietf_KEYBYTES, "key size");
_Static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12, "nonce = 4 zero bytes + 8");

struct keypair_params keypair_params_default(void)
{
	struct keypair_params p = {
	    .rekey_after_ms = MQTTIP_REKEY_AFTER_TIME_MS,
	    .reject_after_ms = MQTTIP_REJECT_AFTER_TIME_MS,
	    .rekey_after_messages = MQTTIP_REKEY_AFTER_MESSAGES,
	    .reject_after_messages = MQTTIP_REJECT_AFTER_MESSAGES,
	};
	return p;
}

const char *keypair_strerror(int err)
{
	switch (err) {
	case KEYPAIR_OK:
		return "ok";
	case KEYPAIR_ERR_MALFORMED:
		return "malformed transport message";
	case KEYPAIR_ERR_INVALID:
		return "no valid keypair";
	case KEYPAIR_ERR_EXPIRED:
		return "keypair expired";
	case KEYPAIR_ERR_EXHAUSTED:
		return "message counter exhausted";
	case KEYPAIR_ERR_AUTH:
		return "authentication failed";
	case KEYPAIR_ERR_REPLAY:
		return "replayed or too old counter";
	case KEYPAIR_ERR_BUFFER:
		return "buffer too small or body too long";
	default:
		return "unknown error";
	}
}

/* A clock that reads earlier than the keypair's birth counts as age 0: the caller's monotonic
 * clock never does that, and treating it as "very old" would turn one bad reading into a rekey
 * storm. */
static uint64_t keypair_age(const struct keypair *kp, uint64_t now_ms)
{
	return now_ms >= kp->birth_ms ? now_ms - kp->birth_ms : 0;
}

/* The configured limit may only lower the protocol's hard limit: the replay window refuses
 * counters at or above MQTTIP_REJECT_AFTER_MESSAGES whatever the configuration. */
static uint64_t reject_limit(const struct keypair_params *p)
{
	return p->reject_after_messages < MQTTIP_REJECT_AFTER_MESSAGES
		   ? p->reject_after_messages
		   : MQTTIP_REJECT_AFTER_MESSAGES;
}

static void transport_nonce(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	store_le64(nonce + 4, counter);
}

/* Same checks as keypair_open's first step, so a message that yields an index also parses. */
static bool transport_header_ok(const uint8_t *msg, size_t len)
{
	if (len < MQTTIP_TRANSPORT_OVERHEAD || len > MQTTIP_MAX_TRANSPORT_MSG)
		return false;
	return msg[0] == MQTTIP_MSG_TRANSPORT && msg[1] == 0 && msg[2] == 0 && msg[3] == 0;
}

int transport_receiver_index(const uint8_t *msg, size_t len, uint32_t *index)
{
	if (!transport_header_ok(msg, len))
		return -1;
	*index = load_le32(msg + 4);
	return 0;
}

int keypair_seal(struct keypair *kp, uint64_t now_ms, const struct keypair_params *p, uint8_t *buf,
		 size_t cap, size_t body_len, size_t *msg_len)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	uint8_t *body = buf + MQTTIP_TRANSPORT_HEADER_LEN;
	uint64_t counter;

	if (body_len > MQTTIP_MAX_BODY || cap < MQTTIP_TRANSPORT_OVERHEAD ||
	    body_len > cap - MQTTIP_TRANSPORT_OVERHEAD)
		return KEYPAIR_ERR_BUFFER;
	if (!kp->valid)
		return KEYPAIR_ERR_INVALID;
	if (keypair_age(kp, now_ms) >= p->reject_after_ms)
		return KEYPAIR_ERR_EXPIRED;
	if (kp->send_counter >= reject_limit(p))
		return KEYPAIR_ERR_EXHAUSTED;

	counter = kp->send_counter++;
	buf[0] = MQTTIP_MSG_TRANSPORT;
	buf[1] = buf[2] = buf[3] = 0;
	store_le32(buf + 4, kp->remote_index);
	store_le64(buf + 8, counter);
	transport_nonce(nonce, counter);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(
	    body, body + body_len, NULL, body, body_len, buf, MQTTIP_TRANSPORT_HEADER_LEN, NULL,
	    nonce, kp->send_key);
	*msg_len = MQTTIP_TRANSPORT_OVERHEAD + body_len;
	return KEYPAIR_OK;
}

int keypair_open(struct keypair *kp, uint64_t now_ms, const struct keypair_params *p, uint8_t *msg,
		 size_t msg_len, uint8_t **body, size_t *body_len)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	uint8_t *cipher = msg + MQTTIP_TRANSPORT_HEADER_LEN;
	size_t cipher_len;
	uint64_t counter;

	if (!transport_header_ok(msg, msg_len))
		return KEYPAIR_ERR_MALFORMED;
	if (!kp->valid)
		return KEYPAIR_ERR_INVALID;
	if (keypair_age(kp, now_ms) >= p->reject_after_ms)
		return KEYPAIR_ERR_EXPIRED;
	counter = load_le64(msg + 8);
	if (counter >= reject_limit(p))
		return KEYPAIR_ERR_EXHAUSTED;
	/* Unauthenticated, so it only refuses; the window moves after the tag verifies. */
	if (!replay_check(&kp->replay, counter))
		return KEYPAIR_ERR_REPLAY;

	cipher_len = msg_len - MQTTIP_TRANSPORT_OVERHEAD;
	transport_nonce(nonce, counter);
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(
		cipher, NULL, cipher, cipher_len, cipher + cipher_len, msg,
		MQTTIP_TRANSPORT_HEADER_LEN, nonce, kp->recv_key) != 0)
		return KEYPAIR_ERR_AUTH;
	if (!replay_check_and_update(&kp->replay, counter)) {
		sodium_memzero(cipher, cipher_len);
		return KEYPAIR_ERR_REPLAY;
	}
	*body = cipher;
	*body_len = cipher_len;
	return KEYPAIR_OK;
}

/* WireGuard's rules: either side rekeys when its send counter nears the limit (it alone can
 * exhaust it); only the initiator rekeys on age, so both sides do not start handshakes at once. */
bool keypair_wants_rekey(const struct keypair *kp, uint64_t now_ms, const struct keypair_params *p)
{
	if (!keypair_can_seal(kp, now_ms, p) || kp->send_counter >= p->rekey_after_messages)
		return true;
	return kp->is_initiator && keypair_age(kp, now_ms) >= p->rekey_after_ms;
}

bool keypair_is_expired(const struct keypair *kp, uint64_t now_ms, const struct keypair_params *p)
{
	return !kp->valid || keypair_age(kp, now_ms) >= p->reject_after_ms;
}

bool keypair_can_seal(const struct keypair *kp, uint64_t now_ms, const struct keypair_params *p)
{
	return !keypair_is_expired(kp, now_ms, p) && kp->send_counter < reject_limit(p);
}

void keypair_wipe(struct keypair *kp)
{
	sodium_memzero(kp, sizeof(*kp));
	kp->valid = false;
}
