/* noise_vectors FILE [--require PROTOCOL_NAME ...]: runs the Noise test vectors of a
 * cacophony-format JSON file against common/noise.c. Every vector whose protocol noise.c supports
 * is played from both sides (the initiator writes and the responder reads alternately, then the
 * transport messages through the split CipherStates); every ciphertext, decrypted payload and the
 * handshake hash must match byte for byte. Skipped vectors are counted per reason. The last line
 * is "N passed, N failed"; the exit status is non-zero if a vector failed, a required protocol
 * did not pass, or nothing passed. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "noise.h"

#define MAX_FIELD   (NOISE_MAX_MESSAGE + 1)
#define MAX_REASONS 16
#define MAX_REQUIRE 32

struct reason_count {
	char reason[96];
	unsigned count;
};

static struct reason_count reasons[MAX_REASONS];
static unsigned n_reasons;

struct required {
	const char *name;
	unsigned passed, failed;
};

static uint8_t buf_a[MAX_FIELD], buf_b[MAX_FIELD], buf_c[MAX_FIELD];

static void count_skip(const char *reason)
{
	for (unsigned i = 0; i < n_reasons; i++) {
		if (strcmp(reasons[i].reason, reason) == 0) {
			reasons[i].count++;
			return;
		}
	}
	if (n_reasons < MAX_REASONS) {
		snprintf(reasons[n_reasons].reason, sizeof(reasons[n_reasons].reason), "%s",
			 reason);
		reasons[n_reasons++].count = 1;
	}
}

/* Names the component of "Noise_<pattern>_<dh>_<cipher>_<hash>" we do not support. */
static void skip_reason(const char *name, char *out, size_t cap)
{
	char copy[128];
	char *parts[6] = {0};
	unsigned n = 0;

	snprintf(copy, sizeof(copy), "%s", name);
	for (char *tok = strtok(copy, "_"); tok && n < 6; tok = strtok(NULL, "_"))
		parts[n++] = tok;
	if (n != 5)
		snprintf(out, cap, "malformed protocol name");
	else if (strcmp(parts[2], "25519") != 0)
		snprintf(out, cap, "dh %s not supported", parts[2]);
	else if (strcmp(parts[3], "ChaChaPoly") != 0)
		snprintf(out, cap, "cipher %s not supported", parts[3]);
	else if (strcmp(parts[4], "SHA256") != 0)
		snprintf(out, cap, "hash %s not supported", parts[4]);
	else
		snprintf(out, cap, "pattern %s not supported", parts[1]);
}

/* Decodes a hex string field; returns its length or -1 when bad. */
static long hex_decode(const cJSON *item, uint8_t *out, size_t cap)
{
	const char *s = cJSON_GetStringValue(item);
	const char *end;
	size_t len;

	if (!s || sodium_hex2bin(out, cap, s, strlen(s), NULL, &len, &end) != 0 || *end)
		return -1;
	return (long)len;
}

/* A 32-byte key field: absent -> NULL, present -> out. */
static bool key_field(const cJSON *v, const char *name, uint8_t out[NOISE_KEY_LEN],
		      const uint8_t **ptr)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(v, name);

	*ptr = NULL;
	if (!item)
		return true;
	if (hex_decode(item, out, NOISE_KEY_LEN) != NOISE_KEY_LEN)
		return false;
	*ptr = out;
	return true;
}

static bool psk_field(const cJSON *v, const char *name, uint8_t out[NOISE_MAX_PSKS][NOISE_KEY_LEN],
		      size_t *n)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(v, name), *item;

	*n = 0;
	if (!arr)
		return true;
	if (!cJSON_IsArray(arr))
		return false;
	cJSON_ArrayForEach(item, arr)
	{
		if (*n >= NOISE_MAX_PSKS ||
		    hex_decode(item, out[*n], NOISE_KEY_LEN) != NOISE_KEY_LEN)
			return false;
		(*n)++;
	}
	return true;
}

struct side {
	uint8_t s[NOISE_KEY_LEN], e[NOISE_KEY_LEN], rs[NOISE_KEY_LEN];
	uint8_t psks[NOISE_MAX_PSKS][NOISE_KEY_LEN];
	uint8_t prologue[1024];
	long prologue_len;
	struct noise_keys keys;
};

static bool load_side(const cJSON *v, const char *who, struct side *sd)
{
	char name[32];
	const cJSON *pro;

	memset(sd, 0, sizeof(*sd));
	snprintf(name, sizeof(name), "%s_static", who);
	if (!key_field(v, name, sd->s, &sd->keys.s))
		return false;
	snprintf(name, sizeof(name), "%s_ephemeral", who);
	if (!key_field(v, name, sd->e, &sd->keys.e))
		return false;
	snprintf(name, sizeof(name), "%s_remote_static", who);
	if (!key_field(v, name, sd->rs, &sd->keys.rs))
		return false;
	snprintf(name, sizeof(name), "%s_psks", who);
	if (!psk_field(v, name, sd->psks, &sd->keys.n_psks))
		return false;
	sd->keys.psks = sd->keys.n_psks ? (const uint8_t(*)[NOISE_KEY_LEN])sd->psks : NULL;
	snprintf(name, sizeof(name), "%s_prologue", who);
	pro = cJSON_GetObjectItemCaseSensitive(v, name);
	sd->prologue_len = pro ? hex_decode(pro, sd->prologue, sizeof(sd->prologue)) : 0;
	return sd->prologue_len >= 0;
}

static bool report(const char *proto, long index, const char *what)
{
	if (index >= 0)
		printf("FAIL %s message %ld: %s\n", proto, index, what);
	else
		printf("FAIL %s: %s\n", proto, what);
	return false;
}

/* One message from writer to reader: ciphertext and payload must match the vector. */
static bool handshake_message(const char *proto, long i, struct noise_handshakestate *w,
			      struct noise_handshakestate *r, const uint8_t *payload, long plen,
			      const uint8_t *ct, long clen)
{
	size_t out_len, got_len;
	int rc;

	rc =
	    noise_handshake_write_message(w, payload, (size_t)plen, buf_a, sizeof(buf_a), &out_len);
	if (rc != NOISE_OK)
		return report(proto, i, "write_message failed");
	if (out_len != (size_t)clen || memcmp(buf_a, ct, out_len) != 0)
		return report(proto, i, "ciphertext mismatch");
	rc = noise_handshake_read_message(r, ct, (size_t)clen, buf_b, sizeof(buf_b), &got_len);
	if (rc != NOISE_OK)
		return report(proto, i, "read_message failed");
	if (got_len != (size_t)plen || memcmp(buf_b, payload, got_len) != 0)
		return report(proto, i, "payload mismatch");
	return true;
}

static bool transport_message(const char *proto, long i, struct noise_cipherstate *w,
			      struct noise_cipherstate *r, const uint8_t *payload, long plen,
			      const uint8_t *ct, long clen)
{
	size_t out_len, got_len;

	if (noise_cipher_encrypt(w, NULL, 0, payload, (size_t)plen, buf_a, sizeof(buf_a),
				 &out_len) != NOISE_OK)
		return report(proto, i, "transport encrypt failed");
	if (out_len != (size_t)clen || memcmp(buf_a, ct, out_len) != 0)
		return report(proto, i, "transport ciphertext mismatch");
	if (noise_cipher_decrypt(r, NULL, 0, ct, (size_t)clen, buf_b, sizeof(buf_b), &got_len) !=
	    NOISE_OK)
		return report(proto, i, "transport decrypt failed");
	if (got_len != (size_t)plen || memcmp(buf_b, payload, got_len) != 0)
		return report(proto, i, "transport payload mismatch");
	return true;
}

static bool run_messages(const char *proto, const cJSON *v, struct noise_handshakestate *init,
			 struct noise_handshakestate *resp)
{
	static uint8_t payload[MAX_FIELD];
	const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(v, "messages"), *m;
	const cJSON *hh = cJSON_GetObjectItemCaseSensitive(v, "handshake_hash");
	struct noise_cipherstate ic1, ic2, rc1, rc2;
	bool split = false, one_way = noise_handshake_is_one_way(init), ok = true;
	long i = 0;

	if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0)
		return report(proto, -1, "no messages");
	cJSON_ArrayForEach(m, msgs)
	{
		long plen = hex_decode(cJSON_GetObjectItemCaseSensitive(m, "payload"), payload,
				       sizeof(payload));
		long clen = hex_decode(cJSON_GetObjectItemCaseSensitive(m, "ciphertext"), buf_c,
				       sizeof(buf_c));
		/* The message list alternates initiator/responder, except one-way patterns. */
		bool from_init = one_way || i % 2 == 0;

		if (plen < 0 || clen < 0)
			return report(proto, i, "bad hex in vector");
		if (!split &&
		    noise_handshake_is_finished(init) != noise_handshake_is_finished(resp))
			return report(proto, i, "sides disagree on handshake end");
		if (!split && noise_handshake_is_finished(init)) {
			if (hh) {
				uint8_t h[NOISE_HASH_LEN];

				if (hex_decode(hh, h, sizeof(h)) != NOISE_HASH_LEN)
					return report(proto, -1, "bad handshake_hash in vector");
				if (memcmp(init->ss.h, h, sizeof(h)) != 0 ||
				    memcmp(resp->ss.h, h, sizeof(h)) != 0)
					return report(proto, i, "handshake hash mismatch");
			}
			if (noise_handshake_split(init, &ic1, &ic2) != NOISE_OK ||
			    noise_handshake_split(resp, &rc1, &rc2) != NOISE_OK)
				return report(proto, i, "split failed");
			split = true;
		}
		if (!split)
			ok = from_init ? handshake_message(proto, i, init, resp, payload, plen,
							   buf_c, clen)
				       : handshake_message(proto, i, resp, init, payload, plen,
							   buf_c, clen);
		else
			ok = from_init ? transport_message(proto, i, &ic1, &rc1, payload, plen,
							   buf_c, clen)
				       : transport_message(proto, i, &rc2, &ic2, payload, plen,
							   buf_c, clen);
		if (!ok)
			return false;
		i++;
	}
	if (!split)
		return report(proto, -1, "handshake did not finish within the messages");
	return true;
}

static bool run_vector(const char *proto, const cJSON *v)
{
	struct side is, rs;
	struct noise_handshakestate init, resp;
	bool ok;

	if (!load_side(v, "init", &is) || !load_side(v, "resp", &rs))
		return report(proto, -1, "bad key field in vector");
	if (noise_handshake_init(&init, proto, true, is.prologue, (size_t)is.prologue_len,
				 &is.keys) != NOISE_OK ||
	    noise_handshake_init(&resp, proto, false, rs.prologue, (size_t)rs.prologue_len,
				 &rs.keys) != NOISE_OK)
		return report(proto, -1, "handshake init failed");
	ok = run_messages(proto, v, &init, &resp);
	noise_handshake_wipe(&init);
	noise_handshake_wipe(&resp);
	return ok;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		data = malloc((size_t)len + 1);
		if (data && fread(data, 1, (size_t)len, f) == (size_t)len) {
			data[len] = '\0';
		} else {
			free(data);
			data = NULL;
		}
	}
	fclose(f);
	return data;
}

int main(int argc, char **argv)
{
	struct required req[MAX_REQUIRE];
	unsigned n_req = 0, passed = 0, failed = 0;
	const cJSON *vectors, *v;
	cJSON *root;
	char *text;
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE [--require PROTOCOL_NAME ...]\n", argv[0]);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--require") != 0 || i + 1 >= argc || n_req >= MAX_REQUIRE) {
			fprintf(stderr, "bad argument: %s\n", argv[i]);
			return 2;
		}
		req[n_req++] = (struct required){argv[++i], 0, 0};
	}
	text = read_file(argv[1]);
	if (!text) {
		fprintf(stderr, "cannot read %s\n", argv[1]);
		return 2;
	}
	root = cJSON_Parse(text);
	free(text);
	vectors = cJSON_GetObjectItemCaseSensitive(root, "vectors");
	if (!cJSON_IsArray(vectors)) {
		fprintf(stderr, "%s: no \"vectors\" array\n", argv[1]);
		cJSON_Delete(root);
		return 2;
	}
	cJSON_ArrayForEach(v, vectors)
	{
		const char *proto =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "protocol_name"));
		struct noise_handshakestate probe;
		static const struct noise_keys no_keys;
		char reason[96];
		bool ok;

		if (!proto) {
			count_skip("no protocol_name");
			continue;
		}
		/* Support is asked of noise.c itself; NOISE_ERR_STATE (missing keys) still runs. */
		if (noise_handshake_init(&probe, proto, true, NULL, 0, &no_keys) ==
		    NOISE_ERR_UNSUPPORTED) {
			skip_reason(proto, reason, sizeof(reason));
			count_skip(reason);
			continue;
		}
		noise_handshake_wipe(&probe);
		ok = run_vector(proto, v);
		ok ? passed++ : failed++;
		for (unsigned r = 0; r < n_req; r++) {
			if (strcmp(req[r].name, proto) == 0)
				ok ? req[r].passed++ : req[r].failed++;
		}
	}
	cJSON_Delete(root);

	for (unsigned r = 0; r < n_req; r++) {
		if (req[r].passed == 0 || req[r].failed != 0) {
			printf("required %s: %u passed, %u failed\n", req[r].name, req[r].passed,
			       req[r].failed);
			status = 1;
		}
	}
	for (unsigned i = 0; i < n_reasons; i++)
		printf("skipped %u (%s)\n", reasons[i].count, reasons[i].reason);
	if (passed == 0)
		status = 1;
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : status;
}
