/* rv32_cycles.c - instructions the ESP32-C3's ISA (rv32imc) executes for one full handshake,
 * each side apart, and for one 1400-byte transport message (seal + open), counted with the
 * instret CSR. Runs bare metal under qemu-system-riscv32 with -icount shift=0, where instret
 * counts executed instructions exactly (without -icount qemu returns host clock ticks: a
 * calibration loop of known length catches that and fails). Built and run by
 * tests/bench/rv32_cycles.sh; CTest's rv32_cycles_smoke runs it once so it keeps working.
 * Prints each step's count and the time it would take at 160 MHz if the core retired one
 * instruction per cycle (an estimate: the ESP32-C3 is single-issue and in order, so its real
 * IPC is at most 1 and this time a lower bound). Exits non-zero if any step fails. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "handshake.h"
#include "keypair.h"

#define NOW_UNIX  UINT64_C(1700000000)
#define CLOCK_KHZ 160000u /* the ESP32-C3's top clock */
#define PKT_LEN	  1400u	  /* the tunnel MTU of the firmware */

struct side {
	uint8_t priv[32];
	uint8_t cert[MQTTIP_CERT_MAX_LEN];
	struct netaddr addr;
	struct handshake_local local;
};

static uint8_t ca_pk[32], ca_sk[64];
static uint8_t buf[MQTTIP_MAX_TRANSPORT_MSG];

/* The 64-bit instret counter, read high-low-high so a carry between the halves is not lost. */
static uint64_t instret(void)
{
	uint32_t hi, lo, hi2;

	do {
		__asm__ volatile(".option push\n\t.option arch, +zicsr\n\t"
				 "csrr %0, instreth\n\tcsrr %1, instret\n\tcsrr %2, instreth\n\t"
				 ".option pop"
				 : "=r"(hi), "=r"(lo), "=r"(hi2));
	} while (hi != hi2);
	return (uint64_t)hi << 32 | lo;
}

static uint64_t overhead; /* instructions a measurement of nothing counts */

/* 1000 nops between two reads must count exactly 1000 more than nothing does. */
static int calibrate(void)
{
	uint64_t t0, t1, t2, t3;

	t0 = instret();
	t1 = instret();
	t2 = instret();
	__asm__ volatile(".rept 1000\n\tnop\n\t.endr");
	t3 = instret();
	overhead = t1 - t0;
	if (t3 - t2 - overhead != 1000) {
		fprintf(stderr,
			"rv32_cycles: instret does not count instructions (1000 nops read as %lu):"
			" run qemu with -icount shift=0\n",
			(unsigned long)(t3 - t2 - overhead));
		return -1;
	}
	return 0;
}

static int side_init(struct side *s, const char *name, uint8_t last_octet)
{
	struct cert c;
	int len;

	memset(s, 0, sizeof(*s)); /* no capabilities (local.ext) */
	randombytes_buf(s->priv, sizeof(s->priv));
	memset(&c, 0, sizeof(c));
	strcpy(c.name, name);
	s->addr = (struct netaddr){.family = 4, .bytes = {10, 0, 0, last_octet}};
	c.n_addrs = 1;
	c.addrs[0].addr = s->addr;
	c.addrs[0].len = 24;
	crypto_scalarmult_base(c.x25519_public, s->priv);
	c.not_before = NOW_UNIX - 3600;
	c.not_after = NOW_UNIX + 3600;
	len = cert_encode_sign(&c, ca_sk, s->cert, sizeof(s->cert));
	if (len <= 0)
		return -1;
	s->local.static_private = s->priv;
	memcpy(s->local.static_public, c.x25519_public, 32);
	s->local.network_id = ca_pk;
	s->local.cert = s->cert;
	s->local.cert_len = (size_t)len;
	return 0;
}

enum step {
	INIT_CREATE,
	RESP_CONSUME,
	INIT_CHECK,
	INIT_CONSUME,
	RESP_CREATE,
	SEAL,
	OPEN,
	X25519,
	X25519_BASE,
	ED25519_VERIFY,
	AEAD_1400,
	N_STEPS
};

static uint64_t count[N_STEPS];

/* MEASURE(step, ok, call): counts the instructions of call, ANDs its success into ok. */
#define MEASURE(step, ok, call)                                                                    \
	do {                                                                                       \
		uint64_t t0_ = instret();                                                          \
		(ok) = (ok) && (call);                                                             \
		count[step] = instret() - t0_ - overhead;                                          \
	} while (0)

static int handshake_once(const struct side *a, const struct side *b, uint32_t i)
{
	struct handshake hs_a, hs_b;
	struct keypair kp_a, kp_b;
	struct cert peer;
	uint8_t msg[MQTTIP_INITIATION_MAX_LEN], resp[MQTTIP_RESPONSE_MAX_LEN], ts[12], ts_out[12];
	uint8_t ext[MQTTIP_HANDSHAKE_EXT_MAX];
	size_t len = 0, resp_len = 0, ext_len = 0;
	int ok = 1;

	handshake_tai64n(NOW_UNIX, i, ts);
	MEASURE(INIT_CREATE, ok,
		handshake_initiation_create(&hs_a, &a->local, &a->addr, &b->addr,
					    b->local.static_public, NULL, i, ts, msg, sizeof(msg),
					    &len) == HANDSHAKE_OK);
	MEASURE(INIT_CHECK, ok,
		handshake_initiation_check(msg, len, b->local.static_public) == HANDSHAKE_OK);
	MEASURE(INIT_CONSUME, ok,
		handshake_initiation_consume(&hs_b, &b->local, &a->addr, &b->addr, NOW_UNIX, NULL,
					     msg, len, &peer, ts_out, ext,
					     &ext_len) == HANDSHAKE_OK);
	MEASURE(RESP_CREATE, ok,
		handshake_response_create(&hs_b, NULL, ~i, NULL, 0, resp, sizeof(resp), &resp_len,
					  &kp_b, 0) == HANDSHAKE_OK);
	MEASURE(RESP_CONSUME, ok,
		handshake_response_consume(&hs_a, resp, resp_len, &kp_a, 0, ext, &ext_len) ==
		    HANDSHAKE_OK);
	ok = ok && sodium_memcmp(kp_a.send_key, kp_b.recv_key, 32) == 0;
	handshake_wipe(&hs_a);
	handshake_wipe(&hs_b);
	keypair_wipe(&kp_a);
	keypair_wipe(&kp_b);
	return ok ? 0 : -1;
}

/* One 1400-byte IP packet in a batch of one, sealed and opened in place, as the device sends. */
static int transport_once(void)
{
	struct keypair tx, rx;
	struct keypair_params p = keypair_params_default();
	uint8_t key[MQTTIP_KEY_LEN], pkt[PKT_LEN];
	uint8_t *body = buf + MQTTIP_TRANSPORT_HEADER_LEN, *opened = NULL;
	size_t body_len, msg_len = 0, opened_len = 0;
	int ok = 1;

	randombytes_buf(key, sizeof(key));
	randombytes_buf(pkt, sizeof(pkt));
	memset(&tx, 0, sizeof(tx));
	memset(&rx, 0, sizeof(rx));
	memcpy(tx.send_key, key, sizeof(key));
	memcpy(rx.recv_key, key, sizeof(key));
	replay_init(&rx.replay);
	tx.remote_index = rx.local_index = 1;
	tx.is_initiator = true;
	tx.valid = rx.valid = true;
	memcpy(body + MQTTIP_BATCH_RECORD_HEADER, pkt, sizeof(pkt));
	body_len =
	    batch_append(body, MQTTIP_MAX_BODY, 0, body + MQTTIP_BATCH_RECORD_HEADER, sizeof(pkt));
	MEASURE(SEAL, ok, keypair_seal(&tx, 0, &p, buf, sizeof(buf), body_len, &msg_len) == 0);
	MEASURE(OPEN, ok, keypair_open(&rx, 0, &p, buf, msg_len, &opened, &opened_len) == 0);
	ok = ok && opened_len == body_len &&
	     memcmp(opened + MQTTIP_BATCH_RECORD_HEADER, pkt, sizeof(pkt)) == 0;
	keypair_wipe(&tx);
	keypair_wipe(&rx);
	return ok ? 0 : -1;
}

/* The primitives the steps are made of, for scale. */
static int primitives_once(void)
{
	uint8_t scalar[32], point[32], out[32], sig[64], m[64], nonce[12] = {0}, tag[16];
	int ok = 1;

	randombytes_buf(scalar, sizeof(scalar));
	randombytes_buf(m, sizeof(m));
	crypto_scalarmult_base(point, scalar);
	MEASURE(X25519, ok, crypto_scalarmult(out, scalar, point) == 0);
	MEASURE(X25519_BASE, ok, crypto_scalarmult_base(out, scalar) == 0);
	crypto_sign_detached(sig, NULL, m, sizeof(m), ca_sk);
	MEASURE(ED25519_VERIFY, ok, crypto_sign_verify_detached(sig, m, sizeof(m), ca_pk) == 0);
	MEASURE(AEAD_1400, ok,
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(
		    buf, tag, NULL, buf, PKT_LEN, NULL, 0, NULL, nonce, out) == 0 &&
		    crypto_aead_chacha20poly1305_ietf_decrypt_detached(buf, NULL, buf, PKT_LEN, tag,
								       NULL, 0, nonce, out) == 0);
	return ok ? 0 : -1;
}

/* Instructions, and hundredths of a millisecond at CLOCK_KHZ, rounded. */
static void row(const char *what, uint64_t n)
{
	unsigned long cs = (unsigned long)((n * 100 + CLOCK_KHZ / 2) / CLOCK_KHZ);

	printf("  %-48s %9lu  %4lu.%02lu ms\n", what, (unsigned long)n, cs / 100, cs % 100);
}

int main(void)
{
	struct side a, b;

	if (sodium_init() < 0 || calibrate() != 0)
		return 1;
	crypto_sign_keypair(ca_pk, ca_sk);
	if (side_init(&a, "alice", 1) != 0 || side_init(&b, "bob", 2) != 0)
		return 1;
	/* Twice each, the second run counted (nothing is lazily set up, but so it stays true). */
	for (uint32_t i = 0; i < 2; i++) {
		if (handshake_once(&a, &b, i) != 0 || transport_once() != 0 ||
		    primitives_once() != 0) {
			fprintf(stderr, "rv32_cycles: a handshake or transport step failed\n");
			return 1;
		}
	}

	printf("rv32imc instructions (qemu -icount, instret), and the time at %u MHz if one "
	       "instruction retired per cycle:\n",
	       CLOCK_KHZ / 1000);
	printf("initiator, one full handshake:\n");
	row("initiation create (Noise write: e, es, s, ss)", count[INIT_CREATE]);
	row("response consume (Noise read: e, ee, se, psk)", count[RESP_CONSUME]);
	row("initiator total", count[INIT_CREATE] + count[RESP_CONSUME]);
	printf("responder, one full handshake:\n");
	row("initiation mac1 check", count[INIT_CHECK]);
	row("initiation consume (Noise read, cert verify)", count[INIT_CONSUME]);
	row("response create (Noise write: e, ee, se, psk)", count[RESP_CREATE]);
	row("responder total", count[INIT_CHECK] + count[INIT_CONSUME] + count[RESP_CREATE]);
	printf("transport, one %u-byte IP packet:\n", PKT_LEN);
	row("keypair_seal", count[SEAL]);
	row("keypair_open", count[OPEN]);
	row("seal + open", count[SEAL] + count[OPEN]);
	printf("primitives (libsodium %s):\n", sodium_version_string());
	row("X25519 scalar multiplication", count[X25519]);
	row("X25519 fixed-base (key generation)", count[X25519_BASE]);
	row("Ed25519 signature verification", count[ED25519_VERIFY]);
	row("ChaCha20-Poly1305 1400 B encrypt + decrypt", count[AEAD_1400]);
	return 0;
}
