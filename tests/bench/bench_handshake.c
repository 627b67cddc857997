/* bench_handshake.c - full handshakes per second on one core: initiation create, mac1 check and
 * consume (Noise read and certificate verification against the network CA), response create and
 * consume, i.e. both nodes' work for one key exchange. For reference, X25519 scalar
 * multiplications and Ed25519 signature verifications per second, measured in the same run: a
 * handshake costs eight X25519 DH (es, ss, ee, se on each side), two ephemeral key generations
 * (fixed-base) and one Ed25519 verify. Also the cost of refusing a flood message at mac1, the
 * only work an initiation without a valid mac1 gets. Exits non-zero if any handshake fails.
 * Usage: bench_handshake [iterations] (default 2000). */
#define _POSIX_C_SOURCE 199309L
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handshake.h"

#define NOW_UNIX UINT64_C(1700000000)

struct node {
	uint8_t priv[32];
	uint8_t cert[MQTTIP_CERT_MAX_LEN];
	struct netaddr addr;
	struct handshake_local local;
};

static uint8_t ca_pk[32], ca_sk[64];

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int node_init(struct node *n, const char *name, uint8_t last_octet)
{
	struct cert c;
	int len;

	memset(n, 0, sizeof(*n)); /* no capabilities (local.ext) */
	randombytes_buf(n->priv, sizeof(n->priv));
	memset(&c, 0, sizeof(c));
	strcpy(c.name, name);
	n->addr = (struct netaddr){.family = 4, .bytes = {10, 0, 0, last_octet}};
	c.n_addrs = 1;
	c.addrs[0].addr = n->addr;
	c.addrs[0].len = 24;
	crypto_scalarmult_base(c.x25519_public, n->priv);
	c.not_before = NOW_UNIX - 3600;
	c.not_after = NOW_UNIX + 3600;
	len = cert_encode_sign(&c, ca_sk, n->cert, sizeof(n->cert));
	if (len <= 0)
		return -1;
	n->local.static_private = n->priv;
	memcpy(n->local.static_public, c.x25519_public, 32);
	n->local.network_id = ca_pk;
	n->local.cert = n->cert;
	n->local.cert_len = (size_t)len;
	return 0;
}

static int one_handshake(const struct node *a, const struct node *b, uint64_t i)
{
	struct handshake hs_a, hs_b;
	struct keypair kp_a, kp_b;
	struct cert peer;
	uint8_t msg[MQTTIP_INITIATION_MAX_LEN], resp[MQTTIP_RESPONSE_MAX_LEN], ts[12], ts_out[12];
	uint8_t ext[MQTTIP_HANDSHAKE_EXT_MAX];
	size_t len, resp_len, ext_len;
	int ok;

	handshake_tai64n(NOW_UNIX, (uint32_t)(i % 1000000000), ts);
	ok = handshake_initiation_create(&hs_a, &a->local, &a->addr, &b->addr,
					 b->local.static_public, NULL, (uint32_t)i, ts, msg,
					 sizeof(msg), &len) == HANDSHAKE_OK &&
	     handshake_initiation_check(msg, len, b->local.static_public) == HANDSHAKE_OK &&
	     handshake_initiation_consume(&hs_b, &b->local, &a->addr, &b->addr, NOW_UNIX, NULL, msg,
					  len, &peer, ts_out, ext, &ext_len) == HANDSHAKE_OK &&
	     handshake_response_create(&hs_b, NULL, (uint32_t)~i, NULL, 0, resp, sizeof(resp),
				       &resp_len, &kp_b, 0) == HANDSHAKE_OK &&
	     handshake_response_consume(&hs_a, resp, resp_len, &kp_a, 0, ext, &ext_len) ==
		 HANDSHAKE_OK &&
	     sodium_memcmp(kp_a.send_key, kp_b.recv_key, 32) == 0;
	handshake_wipe(&hs_a);
	handshake_wipe(&hs_b);
	keypair_wipe(&kp_a);
	keypair_wipe(&kp_b);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 2000;
	uint8_t scalar[32], point[32], out[32], sig[64], m[64], flood[MQTTIP_INITIATION_MAX_LEN];
	struct node a, b;
	double t, hs_s, x_s, ed_s, mac_s;
	long refused = 0;
	volatile uint8_t sink = 0;

	if (iters <= 0 || sodium_init() < 0)
		return 2;
	crypto_sign_keypair(ca_pk, ca_sk);
	if (node_init(&a, "alice", 1) != 0 || node_init(&b, "bob", 2) != 0)
		return 1;

	t = seconds();
	for (long i = 0; i < iters; i++) {
		if (one_handshake(&a, &b, (uint64_t)i) != 0) {
			fprintf(stderr, "bench_handshake: handshake %ld failed\n", i);
			return 1;
		}
	}
	hs_s = seconds() - t;

	randombytes_buf(scalar, sizeof(scalar));
	crypto_scalarmult_base(point, scalar);
	t = seconds();
	for (long i = 0; i < iters * 8; i++) {
		if (crypto_scalarmult(out, scalar, point) != 0)
			return 1;
		scalar[0] ^= out[0];
	}
	x_s = seconds() - t;

	randombytes_buf(m, sizeof(m));
	crypto_sign_detached(sig, NULL, m, sizeof(m), ca_sk);
	t = seconds();
	for (long i = 0; i < iters; i++)
		sink ^= (uint8_t)crypto_sign_verify_detached(sig, m, sizeof(m), ca_pk);
	ed_s = seconds() - t;
	if (sink != 0)
		return 1;

	randombytes_buf(flood, sizeof(flood));
	flood[0] = MQTTIP_MSG_INITIATION;
	flood[1] = MQTTIP_PROTOCOL_VERSION;
	flood[2] = flood[3] = 0;
	t = seconds();
	for (long i = 0; i < iters * 8; i++) {
		flood[4] = (uint8_t)i;
		refused += handshake_initiation_check(flood, 300, b.local.static_public) ==
			   HANDSHAKE_ERR_MAC1;
	}
	mac_s = seconds() - t;
	if (refused != iters * 8)
		return 1;

	printf("handshakes: %ld in %.3f s = %.0f full handshakes/s (%.1f us each, both sides)\n",
	       iters, hs_s, (double)iters / hs_s, hs_s / (double)iters * 1e6);
	printf("x25519:     %.0f scalar multiplications/s (%.1f us each)\n",
	       (double)(iters * 8) / x_s, x_s / (double)(iters * 8) * 1e6);
	printf("ed25519:    %.0f signature verifications/s (%.1f us each)\n", (double)iters / ed_s,
	       ed_s / (double)iters * 1e6);
	printf("mac1:       %.0f refused initiations/s (%.2f us each)\n",
	       (double)(iters * 8) / mac_s, mac_s / (double)(iters * 8) * 1e6);
	printf("ratio:      one handshake costs as much as %.1f X25519 operations\n",
	       (hs_s / (double)iters) / (x_s / (double)(iters * 8)));
	return 0;
}
