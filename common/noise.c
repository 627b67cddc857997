/* noise.c - Noise Protocol Framework rev 34, 25519_ChaChaPoly_SHA256, on libsodium primitives.
 * Patterns are a static table of token lists (spec sections 7.4, 7.5, 7.7); psk modifiers are
 * not tabled but kept as a bit mask on the HandshakeState and applied around the token lists
 * (section 9). */
#include "noise.h"

#include <string.h>

#include <sodium.h>

#define NOISE_DH_LEN	      32
#define NOISE_BLOCK_LEN	      64
#define NOISE_NONCE_LEN	      12
#define NOISE_MAX_PATTERN_MSG 4
#define NOISE_MAX_TOKENS      6
#define NOISE_MAX_PRE_TOKENS  1

enum noise_token { TOK_END = 0, TOK_E, TOK_S, TOK_EE, TOK_ES, TOK_SE, TOK_SS, TOK_PSK };

struct noise_pattern {
	const char *name;
	/* Pre-messages: only "s" occurs in the shipped patterns. */
	uint8_t pre_initiator[NOISE_MAX_PRE_TOKENS + 1];
	uint8_t pre_responder[NOISE_MAX_PRE_TOKENS + 1];
	uint8_t n_messages;
	/* Message i is written by the initiator when i is even. */
	uint8_t messages[NOISE_MAX_PATTERN_MSG][NOISE_MAX_TOKENS + 1];
};

#define E  TOK_E
#define S  TOK_S
#define EE TOK_EE
#define ES TOK_ES
#define SE TOK_SE
#define SS TOK_SS

static const struct noise_pattern noise_patterns[] = {
    /* One-way (7.4) */
    {"N", {0}, {S}, 1, {{E, ES}}},
    {"K", {S}, {S}, 1, {{E, ES, SS}}},
    {"X", {0}, {S}, 1, {{E, ES, S, SS}}},
    /* Interactive fundamental (7.5) */
    {"NN", {0}, {0}, 2, {{E}, {E, EE}}},
    {"NK", {0}, {S}, 2, {{E, ES}, {E, EE}}},
    {"NX", {0}, {0}, 2, {{E}, {E, EE, S, ES}}},
    {"KN", {S}, {0}, 2, {{E}, {E, EE, SE}}},
    {"KK", {S}, {S}, 2, {{E, ES, SS}, {E, EE, SE}}},
    {"KX", {S}, {0}, 2, {{E}, {E, EE, SE, S, ES}}},
    {"XN", {0}, {0}, 3, {{E}, {E, EE}, {S, SE}}},
    {"XK", {0}, {S}, 3, {{E, ES}, {E, EE}, {S, SE}}},
    {"XX", {0}, {0}, 3, {{E}, {E, EE, S, ES}, {S, SE}}},
    {"IN", {0}, {0}, 2, {{E, S}, {E, EE, SE}}},
    {"IK", {0}, {S}, 2, {{E, ES, S, SS}, {E, EE, SE}}},
    {"IX", {0}, {0}, 2, {{E, S}, {E, EE, SE, S, ES}}},
    /* Deferred (7.7) */
    {"NK1", {0}, {S}, 2, {{E}, {E, EE, ES}}},
    {"NX1", {0}, {0}, 3, {{E}, {E, EE, S}, {ES}}},
    {"X1N", {0}, {0}, 4, {{E}, {E, EE}, {S}, {SE}}},
    {"X1K", {0}, {S}, 4, {{E, ES}, {E, EE}, {S}, {SE}}},
    {"XK1", {0}, {S}, 3, {{E}, {E, EE, ES}, {S, SE}}},
    {"X1K1", {0}, {S}, 4, {{E}, {E, EE, ES}, {S}, {SE}}},
    {"X1X", {0}, {0}, 4, {{E}, {E, EE, S, ES}, {S}, {SE}}},
    {"XX1", {0}, {0}, 3, {{E}, {E, EE, S}, {ES, S, SE}}},
    {"X1X1", {0}, {0}, 4, {{E}, {E, EE, S}, {ES, S}, {SE}}},
    {"K1N", {S}, {0}, 3, {{E}, {E, EE}, {SE}}},
    {"K1K", {S}, {S}, 3, {{E, ES}, {E, EE}, {SE}}},
    {"KK1", {S}, {S}, 2, {{E}, {E, EE, SE, ES}}},
    {"K1K1", {S}, {S}, 3, {{E}, {E, EE, ES}, {SE}}},
    {"K1X", {S}, {0}, 3, {{E}, {E, EE, S, ES}, {SE}}},
    {"KX1", {S}, {0}, 3, {{E}, {E, EE, SE, S}, {ES}}},
    {"K1X1", {S}, {0}, 3, {{E}, {E, EE, S}, {SE, ES}}},
    {"I1N", {0}, {0}, 3, {{E, S}, {E, EE}, {SE}}},
    {"I1K", {0}, {S}, 3, {{E, ES, S}, {E, EE}, {SE}}},
    {"IK1", {0}, {S}, 2, {{E, S}, {E, EE, SE, ES}}},
    {"I1K1", {0}, {S}, 3, {{E, S}, {E, EE, ES}, {SE}}},
    {"I1X", {0}, {0}, 3, {{E, S}, {E, EE, S, ES}, {SE}}},
    {"IX1", {0}, {0}, 3, {{E, S}, {E, EE, SE, S}, {ES}}},
    {"I1X1", {0}, {0}, 3, {{E, S}, {E, EE, S}, {SE, ES}}},
};

#undef E
#undef S
#undef EE
#undef ES
#undef SE
#undef SS

static const char noise_suffix[] = "_25519_ChaChaPoly_SHA256";

/* ---- CipherState ---- */

static void noise_nonce(uint8_t nonce[NOISE_NONCE_LEN], uint64_t n)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

static void noise_cipher_init_key(struct noise_cipherstate *cs, const uint8_t k[NOISE_KEY_LEN])
{
	memcpy(cs->k, k, NOISE_KEY_LEN);
	cs->n = 0;
	cs->has_key = true;
}

static int noise_cipher_passthrough(const uint8_t *in, size_t in_len, uint8_t *out, size_t cap,
				    size_t *out_len)
{
	if (cap < in_len)
		return NOISE_ERR_BUFFER;
	if (in_len > 0 && out != in)
		memmove(out, in, in_len);
	*out_len = in_len;
	return NOISE_OK;
}

int noise_cipher_encrypt(struct noise_cipherstate *cs, const uint8_t *ad, size_t ad_len,
			 const uint8_t *in, size_t in_len, uint8_t *out, size_t cap,
			 size_t *out_len)
{
	uint8_t nonce[NOISE_NONCE_LEN];
	unsigned long long clen;

	if (!cs->has_key)
		return noise_cipher_passthrough(in, in_len, out, cap, out_len);
	if (in_len > SIZE_MAX - NOISE_TAG_LEN || cap < in_len + NOISE_TAG_LEN)
		return NOISE_ERR_BUFFER;
	if (cs->n == UINT64_MAX)
		return NOISE_ERR_NONCE;
	noise_nonce(nonce, cs->n);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, in, in_len, ad, ad_len, NULL, nonce,
						  cs->k);
	cs->n++;
	*out_len = (size_t)clen;
	return NOISE_OK;
}

int noise_cipher_decrypt(struct noise_cipherstate *cs, const uint8_t *ad, size_t ad_len,
			 const uint8_t *in, size_t in_len, uint8_t *out, size_t cap,
			 size_t *out_len)
{
	uint8_t nonce[NOISE_NONCE_LEN];
	unsigned long long mlen;

	if (!cs->has_key)
		return noise_cipher_passthrough(in, in_len, out, cap, out_len);
	if (in_len < NOISE_TAG_LEN)
		return NOISE_ERR_DECRYPT;
	if (cap < in_len - NOISE_TAG_LEN)
		return NOISE_ERR_BUFFER;
	if (cs->n == UINT64_MAX)
		return NOISE_ERR_NONCE;
	noise_nonce(nonce, cs->n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &mlen, NULL, in, in_len, ad, ad_len,
						      nonce, cs->k) != 0)
		return NOISE_ERR_DECRYPT;
	cs->n++;
	*out_len = (size_t)mlen;
	return NOISE_OK;
}

void noise_cipher_wipe(struct noise_cipherstate *cs)
{
	sodium_memzero(cs, sizeof(*cs));
}

/* ---- SymmetricState ---- */

void noise_hkdf(const uint8_t ck[NOISE_HASH_LEN], const uint8_t *ikm, size_t ikm_len,
		uint8_t out1[NOISE_HASH_LEN], uint8_t out2[NOISE_HASH_LEN], uint8_t *out3)
{
	crypto_auth_hmacsha256_state st;
	uint8_t temp_key[NOISE_HASH_LEN];
	const uint8_t one = 1, two = 2, three = 3;

	crypto_auth_hmacsha256_init(&st, ck, NOISE_HASH_LEN);
	crypto_auth_hmacsha256_update(&st, ikm, ikm_len);
	crypto_auth_hmacsha256_final(&st, temp_key);

	crypto_auth_hmacsha256_init(&st, temp_key, sizeof(temp_key));
	crypto_auth_hmacsha256_update(&st, &one, 1);
	crypto_auth_hmacsha256_final(&st, out1);

	crypto_auth_hmacsha256_init(&st, temp_key, sizeof(temp_key));
	crypto_auth_hmacsha256_update(&st, out1, NOISE_HASH_LEN);
	crypto_auth_hmacsha256_update(&st, &two, 1);
	crypto_auth_hmacsha256_final(&st, out2);

	if (out3) {
		crypto_auth_hmacsha256_init(&st, temp_key, sizeof(temp_key));
		crypto_auth_hmacsha256_update(&st, out2, NOISE_HASH_LEN);
		crypto_auth_hmacsha256_update(&st, &three, 1);
		crypto_auth_hmacsha256_final(&st, out3);
	}
	sodium_memzero(temp_key, sizeof(temp_key));
	sodium_memzero(&st, sizeof(st));
}

static void noise_mix_hash(struct noise_symmetricstate *ss, const uint8_t *data, size_t len)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, ss->h, NOISE_HASH_LEN);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, ss->h);
}

static void noise_mix_key(struct noise_symmetricstate *ss, const uint8_t *ikm, size_t len)
{
	uint8_t temp_k[NOISE_HASH_LEN];

	noise_hkdf(ss->ck, ikm, len, ss->ck, temp_k, NULL);
	noise_cipher_init_key(&ss->cs, temp_k);
	sodium_memzero(temp_k, sizeof(temp_k));
}

static void noise_mix_key_and_hash(struct noise_symmetricstate *ss, const uint8_t *ikm, size_t len)
{
	uint8_t temp_h[NOISE_HASH_LEN], temp_k[NOISE_HASH_LEN];

	noise_hkdf(ss->ck, ikm, len, ss->ck, temp_h, temp_k);
	noise_mix_hash(ss, temp_h, sizeof(temp_h));
	noise_cipher_init_key(&ss->cs, temp_k);
	sodium_memzero(temp_h, sizeof(temp_h));
	sodium_memzero(temp_k, sizeof(temp_k));
}

/* Callers have checked cap, so only NOISE_ERR_NONCE can come back. */
static int noise_encrypt_and_hash(struct noise_symmetricstate *ss, const uint8_t *in, size_t in_len,
				  uint8_t *out, size_t cap, size_t *out_len)
{
	int rc =
	    noise_cipher_encrypt(&ss->cs, ss->h, NOISE_HASH_LEN, in, in_len, out, cap, out_len);
	if (rc == NOISE_OK)
		noise_mix_hash(ss, out, *out_len);
	return rc;
}

static int noise_decrypt_and_hash(struct noise_symmetricstate *ss, const uint8_t *in, size_t in_len,
				  uint8_t *out, size_t cap, size_t *out_len)
{
	int rc =
	    noise_cipher_decrypt(&ss->cs, ss->h, NOISE_HASH_LEN, in, in_len, out, cap, out_len);
	if (rc == NOISE_OK)
		noise_mix_hash(ss, in, in_len);
	return rc;
}

/* ---- Protocol names ---- */

static const struct noise_pattern *noise_find_pattern(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(noise_patterns) / sizeof(noise_patterns[0]); i++) {
		if (strlen(noise_patterns[i].name) == len &&
		    memcmp(noise_patterns[i].name, name, len) == 0)
			return &noise_patterns[i];
	}
	return NULL;
}

/* Parses "Noise_<pattern><mods>_25519_ChaChaPoly_SHA256"; mods are "pskN" joined by '+'. */
static int noise_parse_name(const char *protocol_name, const struct noise_pattern **pattern,
			    uint8_t *psk_mask)
{
	static const char prefix[] = "Noise_";
	size_t len = strlen(protocol_name), suffix_len = sizeof(noise_suffix) - 1;
	const char *p, *end, *mods;

	if (len <= (sizeof(prefix) - 1) + suffix_len ||
	    memcmp(protocol_name, prefix, sizeof(prefix) - 1) != 0 ||
	    strcmp(protocol_name + len - suffix_len, noise_suffix) != 0)
		return NOISE_ERR_UNSUPPORTED;
	p = protocol_name + sizeof(prefix) - 1;
	end = protocol_name + len - suffix_len;
	/* Pattern names are upper-case letters and digits; modifiers start lower-case. */
	for (mods = p;
	     mods < end && ((*mods >= 'A' && *mods <= 'Z') || (*mods >= '0' && *mods <= '9'));
	     mods++)
		;
	*pattern = noise_find_pattern(p, (size_t)(mods - p));
	if (!*pattern)
		return NOISE_ERR_UNSUPPORTED;
	*psk_mask = 0;
	while (mods < end) {
		unsigned n;

		if (*psk_mask != 0) {
			if (*mods != '+')
				return NOISE_ERR_UNSUPPORTED;
			mods++;
		}
		if (end - mods < 4 || memcmp(mods, "psk", 3) != 0 || mods[3] < '0' || mods[3] > '9')
			return NOISE_ERR_UNSUPPORTED;
		n = (unsigned)(mods[3] - '0');
		mods += 4;
		if ((mods < end && mods[0] >= '0' && mods[0] <= '9') ||
		    n > (*pattern)->n_messages || (*psk_mask & (1u << n)))
			return NOISE_ERR_UNSUPPORTED;
		*psk_mask |= (uint8_t)(1u << n);
	}
	return NOISE_OK;
}

/* ---- HandshakeState ---- */

static unsigned noise_popcount(uint8_t mask)
{
	unsigned c = 0;

	for (; mask; mask &= (uint8_t)(mask - 1))
		c++;
	return c;
}

static bool noise_writes(const struct noise_handshakestate *hs, unsigned message)
{
	return (message % 2 == 0) == hs->initiator;
}

static bool noise_pattern_sends_s(const struct noise_handshakestate *hs)
{
	const struct noise_pattern *pat = hs->pattern;

	if ((hs->initiator ? pat->pre_initiator : pat->pre_responder)[0] == TOK_S)
		return true;
	for (unsigned m = 0; m < pat->n_messages; m++) {
		if (!noise_writes(hs, m))
			continue;
		for (const uint8_t *t = pat->messages[m]; *t != TOK_END; t++) {
			if (*t == TOK_S)
				return true;
		}
	}
	return false;
}

int noise_handshake_init(struct noise_handshakestate *hs, const char *protocol_name, bool initiator,
			 const uint8_t *prologue, size_t prologue_len,
			 const struct noise_keys *keys)
{
	const struct noise_pattern *pat;
	uint8_t psk_mask;
	size_t name_len;
	int rc;

	memset(hs, 0, sizeof(*hs));
	if (sodium_init() < 0)
		return NOISE_ERR_STATE;
	rc = noise_parse_name(protocol_name, &pat, &psk_mask);
	if (rc != NOISE_OK)
		return rc;
	if (keys->n_psks > noise_popcount(psk_mask) || (keys->n_psks > 0 && !keys->psks))
		return NOISE_ERR_STATE;

	hs->pattern = pat;
	hs->psk_mask = psk_mask;
	hs->initiator = initiator;
	if (keys->s) {
		memcpy(hs->s, keys->s, NOISE_KEY_LEN);
		if (keys->s_pub)
			memcpy(hs->s_pub, keys->s_pub, NOISE_KEY_LEN);
		else
			crypto_scalarmult_base(hs->s_pub, hs->s);
		hs->has_s = true;
	}
	if (keys->e) {
		memcpy(hs->e, keys->e, NOISE_KEY_LEN);
		crypto_scalarmult_base(hs->e_pub, hs->e);
		hs->has_e = true;
	}
	if (keys->rs) {
		memcpy(hs->rs, keys->rs, NOISE_KEY_LEN);
		hs->has_rs = true;
	}
	if (keys->re) {
		memcpy(hs->re, keys->re, NOISE_KEY_LEN);
		hs->has_re = true;
	}
	for (size_t i = 0; i < keys->n_psks; i++)
		memcpy(hs->psks[i], keys->psks[i], NOISE_KEY_LEN);
	hs->n_psks = (uint8_t)keys->n_psks;

	if ((noise_pattern_sends_s(hs) && !hs->has_s) ||
	    ((initiator ? pat->pre_responder : pat->pre_initiator)[0] == TOK_S && !hs->has_rs)) {
		noise_handshake_wipe(hs);
		return NOISE_ERR_STATE;
	}

	/* InitializeSymmetric */
	name_len = strlen(protocol_name);
	if (name_len <= NOISE_HASH_LEN)
		memcpy(hs->ss.h, protocol_name, name_len);
	else
		crypto_hash_sha256(hs->ss.h, (const uint8_t *)protocol_name, name_len);
	memcpy(hs->ss.ck, hs->ss.h, NOISE_HASH_LEN);
	noise_mix_hash(&hs->ss, prologue, prologue_len);

	/* Pre-messages, initiator's first: public keys known to both sides. */
	if (pat->pre_initiator[0] == TOK_S)
		noise_mix_hash(&hs->ss, initiator ? hs->s_pub : hs->rs, NOISE_KEY_LEN);
	if (pat->pre_responder[0] == TOK_S)
		noise_mix_hash(&hs->ss, initiator ? hs->rs : hs->s_pub, NOISE_KEY_LEN);
	return NOISE_OK;
}

int noise_handshake_set_psk(struct noise_handshakestate *hs, size_t index,
			    const uint8_t psk[NOISE_KEY_LEN])
{
	if (hs->failed || !hs->pattern || index >= noise_popcount(hs->psk_mask) ||
	    index < hs->psks_used || index > hs->n_psks)
		return NOISE_ERR_STATE;
	memcpy(hs->psks[index], psk, NOISE_KEY_LEN);
	if (index == hs->n_psks)
		hs->n_psks++;
	return NOISE_OK;
}

bool noise_handshake_is_finished(const struct noise_handshakestate *hs)
{
	return hs->pattern && hs->message_index >= hs->pattern->n_messages;
}

bool noise_handshake_is_my_turn(const struct noise_handshakestate *hs)
{
	return hs->pattern && !hs->failed && !noise_handshake_is_finished(hs) &&
	       noise_writes(hs, hs->message_index);
}

bool noise_handshake_is_one_way(const struct noise_handshakestate *hs)
{
	return hs->pattern && hs->pattern->name[1] == '\0';
}

/* Bytes of the current message before its payload, psks it needs, and whether the payload is
 * encrypted: a dry run of the key schedule so that size errors change no state. */
static size_t noise_message_layout(const struct noise_handshakestate *hs, bool *payload_keyed,
				   unsigned *psks_needed)
{
	const uint8_t *t = hs->pattern->messages[hs->message_index];
	bool has_key = hs->ss.cs.has_key;
	bool psk = hs->psk_mask != 0;
	size_t len = 0;

	*psks_needed = 0;
	if (hs->message_index == 0 && (hs->psk_mask & 1u)) {
		has_key = true;
		(*psks_needed)++;
	}
	for (; *t != TOK_END; t++) {
		switch (*t) {
		case TOK_E:
			len += NOISE_DH_LEN;
			has_key = has_key || psk;
			break;
		case TOK_S:
			len += NOISE_DH_LEN + (has_key ? NOISE_TAG_LEN : 0);
			break;
		default:
			has_key = true;
			break;
		}
	}
	if (hs->psk_mask & (1u << (hs->message_index + 1))) {
		has_key = true;
		(*psks_needed)++;
	}
	*payload_keyed = has_key;
	return len;
}

static int noise_dh(struct noise_handshakestate *hs, uint8_t token)
{
	uint8_t shared[NOISE_DH_LEN];
	const uint8_t *local, *remote;
	bool local_e, remote_e;
	int rc;

	switch (token) {
	case TOK_EE:
		local_e = remote_e = true;
		break;
	case TOK_ES:
		local_e = hs->initiator;
		remote_e = !hs->initiator;
		break;
	case TOK_SE:
		local_e = !hs->initiator;
		remote_e = hs->initiator;
		break;
	default:
		local_e = remote_e = false;
		break;
	}
	if ((local_e ? !hs->has_e : !hs->has_s) || (remote_e ? !hs->has_re : !hs->has_rs))
		return NOISE_ERR_STATE;
	local = local_e ? hs->e : hs->s;
	remote = remote_e ? hs->re : hs->rs;
	rc = crypto_scalarmult(shared, local, remote) == 0 ? NOISE_OK : NOISE_ERR_DH;
	if (rc == NOISE_OK)
		noise_mix_key(&hs->ss, shared, sizeof(shared));
	sodium_memzero(shared, sizeof(shared));
	return rc;
}

static void noise_mix_psk(struct noise_handshakestate *hs)
{
	noise_mix_key_and_hash(&hs->ss, hs->psks[hs->psks_used], NOISE_KEY_LEN);
	hs->psks_used++;
}

static int noise_check_turn(const struct noise_handshakestate *hs, bool writing)
{
	if (!hs->pattern || hs->failed || noise_handshake_is_finished(hs) ||
	    noise_writes(hs, hs->message_index) != writing)
		return NOISE_ERR_STATE;
	return NOISE_OK;
}

static int noise_finish_message(struct noise_handshakestate *hs, int rc)
{
	if (rc == NOISE_OK)
		hs->message_index++;
	else
		hs->failed = true;
	return rc;
}

int noise_handshake_write_message(struct noise_handshakestate *hs, const uint8_t *payload,
				  size_t payload_len, uint8_t *out, size_t cap, size_t *out_len)
{
	const uint8_t *t;
	bool keyed;
	unsigned psks_needed;
	size_t head, total, pos = 0, n;
	int rc = noise_check_turn(hs, true);

	if (rc != NOISE_OK)
		return rc;
	head = noise_message_layout(hs, &keyed, &psks_needed);
	if (payload_len > NOISE_MAX_MESSAGE)
		return NOISE_ERR_BUFFER;
	total = head + payload_len + (keyed ? NOISE_TAG_LEN : 0);
	if (total > NOISE_MAX_MESSAGE || total > cap)
		return NOISE_ERR_BUFFER;
	if (hs->psks_used + psks_needed > hs->n_psks)
		return NOISE_ERR_STATE;

	if (hs->message_index == 0 && (hs->psk_mask & 1u))
		noise_mix_psk(hs);
	for (t = hs->pattern->messages[hs->message_index]; *t != TOK_END && rc == NOISE_OK; t++) {
		switch (*t) {
		case TOK_E:
			if (!hs->has_e) {
				randombytes_buf(hs->e, NOISE_KEY_LEN);
				crypto_scalarmult_base(hs->e_pub, hs->e);
				hs->has_e = true;
			}
			memcpy(out + pos, hs->e_pub, NOISE_DH_LEN);
			pos += NOISE_DH_LEN;
			noise_mix_hash(&hs->ss, hs->e_pub, NOISE_DH_LEN);
			if (hs->psk_mask)
				noise_mix_key(&hs->ss, hs->e_pub, NOISE_DH_LEN);
			break;
		case TOK_S:
			rc = noise_encrypt_and_hash(&hs->ss, hs->s_pub, NOISE_DH_LEN, out + pos,
						    cap - pos, &n);
			pos += n;
			break;
		default:
			rc = noise_dh(hs, *t);
			break;
		}
	}
	if (rc == NOISE_OK && (hs->psk_mask & (1u << (hs->message_index + 1))))
		noise_mix_psk(hs);
	if (rc == NOISE_OK) {
		rc =
		    noise_encrypt_and_hash(&hs->ss, payload, payload_len, out + pos, cap - pos, &n);
		*out_len = pos + n;
	}
	return noise_finish_message(hs, rc);
}

int noise_handshake_read_message(struct noise_handshakestate *hs, const uint8_t *msg,
				 size_t msg_len, uint8_t *payload, size_t cap, size_t *payload_len)
{
	const uint8_t *t;
	bool keyed;
	unsigned psks_needed;
	size_t head, pos = 0, n, s_len;
	uint8_t rs[NOISE_KEY_LEN];
	int rc = noise_check_turn(hs, false);

	if (rc != NOISE_OK)
		return rc;
	if (msg_len > NOISE_MAX_MESSAGE)
		return NOISE_ERR_BUFFER;
	head = noise_message_layout(hs, &keyed, &psks_needed);
	if (msg_len < head + (keyed ? NOISE_TAG_LEN : 0))
		return NOISE_ERR_MALFORMED;
	if (cap < msg_len - head - (keyed ? NOISE_TAG_LEN : 0))
		return NOISE_ERR_BUFFER;
	if (hs->psks_used + psks_needed > hs->n_psks)
		return NOISE_ERR_STATE;

	if (hs->message_index == 0 && (hs->psk_mask & 1u))
		noise_mix_psk(hs);
	for (t = hs->pattern->messages[hs->message_index]; *t != TOK_END && rc == NOISE_OK; t++) {
		switch (*t) {
		case TOK_E:
			memcpy(hs->re, msg + pos, NOISE_DH_LEN);
			hs->has_re = true;
			pos += NOISE_DH_LEN;
			noise_mix_hash(&hs->ss, hs->re, NOISE_DH_LEN);
			if (hs->psk_mask)
				noise_mix_key(&hs->ss, hs->re, NOISE_DH_LEN);
			break;
		case TOK_S:
			s_len = NOISE_DH_LEN + (hs->ss.cs.has_key ? NOISE_TAG_LEN : 0);
			rc = noise_decrypt_and_hash(&hs->ss, msg + pos, s_len, rs, sizeof(rs), &n);
			if (rc == NOISE_OK) {
				memcpy(hs->rs, rs, NOISE_KEY_LEN);
				hs->has_rs = true;
			}
			pos += s_len;
			break;
		default:
			rc = noise_dh(hs, *t);
			break;
		}
	}
	if (rc == NOISE_OK && (hs->psk_mask & (1u << (hs->message_index + 1))))
		noise_mix_psk(hs);
	if (rc == NOISE_OK)
		rc = noise_decrypt_and_hash(&hs->ss, msg + pos, msg_len - pos, payload, cap,
					    payload_len);
	return noise_finish_message(hs, rc);
}

int noise_handshake_split(struct noise_handshakestate *hs, struct noise_cipherstate *c1,
			  struct noise_cipherstate *c2)
{
	uint8_t k1[NOISE_HASH_LEN], k2[NOISE_HASH_LEN];

	if (!hs->pattern || hs->failed || !noise_handshake_is_finished(hs))
		return NOISE_ERR_STATE;
	noise_hkdf(hs->ss.ck, NULL, 0, k1, k2, NULL);
	noise_cipher_init_key(c1, k1);
	noise_cipher_init_key(c2, k2);
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));

	/* The handshake's secrets are no longer needed; h and the public keys stay. */
	sodium_memzero(hs->ss.ck, sizeof(hs->ss.ck));
	noise_cipher_wipe(&hs->ss.cs);
	sodium_memzero(hs->s, sizeof(hs->s));
	sodium_memzero(hs->e, sizeof(hs->e));
	sodium_memzero(hs->psks, sizeof(hs->psks));
	hs->failed = true;
	return NOISE_OK;
}

void noise_handshake_wipe(struct noise_handshakestate *hs)
{
	sodium_memzero(hs, sizeof(*hs));
}
