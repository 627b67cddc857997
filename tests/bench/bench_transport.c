/* bench_transport.c - seal+open cost of the transport (batch framing, header, AEAD with the
 * header as AD, replay window, batch reading) next to bare ChaCha20-Poly1305-IETF encrypt+decrypt
 * of the same IP packet bytes, measured in the same run. Prints MB/s of IP packet bytes,
 * packets/s and the time ratio transport/raw (target: <= 1.2 at 1400 B).
 * Usage: bench_transport [iterations per repetition] (default: about 16 MiB of packets). */
#define _POSIX_C_SOURCE 199309L
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "keypair.h"

#define REPS 9

static uint8_t buf[MQTTIP_MAX_TRANSPORT_MSG];

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct transport_bench {
	struct keypair tx, rx;
	struct keypair_params p;
	size_t body_len;
	int npkts;
};

static void transport_setup(struct transport_bench *b, size_t pkt_len, int npkts)
{
	uint8_t *body = buf + MQTTIP_TRANSPORT_HEADER_LEN;
	uint8_t key[MQTTIP_KEY_LEN];

	randombytes_buf(key, sizeof(key));
	memset(b, 0, sizeof(*b));
	memcpy(b->tx.send_key, key, sizeof(key));
	memcpy(b->rx.recv_key, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	replay_init(&b->rx.replay);
	b->tx.remote_index = b->rx.local_index = 1;
	b->tx.is_initiator = true;
	b->tx.valid = b->rx.valid = true;
	b->p = keypair_params_default();
	b->npkts = npkts;
	for (int i = 0; i < npkts; i++) {
		uint8_t *slot = body + b->body_len + MQTTIP_BATCH_RECORD_HEADER;

		randombytes_buf(slot, pkt_len);
		b->body_len = batch_append(body, MQTTIP_MAX_BODY, b->body_len, slot, pkt_len);
	}
}

/* Time of iters x (seal, open, read every packet); negative on any failure. Open decrypts in
 * place, which leaves the plaintext body where the next seal wants it. */
static double transport_run(struct transport_bench *b, long iters)
{
	double t0 = seconds();

	for (long i = 0; i < iters; i++) {
		struct batch_reader r;
		const uint8_t *pkt;
		uint8_t *opened;
		size_t msg_len, opened_len, len;
		int got = 0;

		if (keypair_seal(&b->tx, 0, &b->p, buf, sizeof(buf), b->body_len, &msg_len) ||
		    keypair_open(&b->rx, 0, &b->p, buf, msg_len, &opened, &opened_len))
			return -1;
		batch_reader_init(&r, opened, opened_len);
		while (batch_next(&r, &pkt, &len) == 1)
			got++;
		if (got != b->npkts)
			return -1;
	}
	return seconds() - t0;
}

/* The same plaintext bytes through bare encrypt+decrypt, in place, no AD. */
static double raw_run(const uint8_t key[MQTTIP_KEY_LEN], size_t len, long iters)
{
	uint8_t nonce[12] = {0}, tag[16];
	double t0 = seconds();

	for (long i = 0; i < iters; i++) {
		uint64_t n = (uint64_t)i;

		memcpy(nonce + 4, &n, sizeof(n));
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(buf, tag, NULL, buf, len, NULL,
								   0, NULL, nonce, key);
		if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(buf, NULL, buf, len, tag,
								       NULL, 0, nonce, key) != 0)
			return -1;
	}
	return seconds() - t0;
}

/* Transport and raw runs alternate, so both see the same machine load; the best of each is
 * kept (the first round warms up and is not counted). */
static int bench_case(size_t pkt_len, int npkts, long iters, double *transport, double *raw)
{
	struct transport_bench b;
	uint8_t key[MQTTIP_KEY_LEN];

	transport_setup(&b, pkt_len, npkts);
	randombytes_buf(key, sizeof(key));
	*transport = *raw = -1;
	for (int rep = 0; rep <= REPS; rep++) {
		double t = transport_run(&b, iters);
		double r = raw_run(key, pkt_len * (size_t)npkts, iters);

		if (t < 0 || r < 0)
			return -1;
		if (rep > 0 && (*transport < 0 || t < *transport))
			*transport = t;
		if (rep > 0 && (*raw < 0 || r < *raw))
			*raw = r;
	}
	keypair_wipe(&b.tx);
	keypair_wipe(&b.rx);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		size_t pkt_len;
		int npkts;
	} cases[] = {
	    {"64 B x1", 64, 1},
	    {"1400 B x1", 1400, 1},
	    {"1400 B x10 (one message)", 1400, 10},
	};
	long fixed_iters = argc > 1 ? atol(argv[1]) : 0;
	int failed = 0;

	if (sodium_init() < 0 || argc > 2 || (argc > 1 && fixed_iters <= 0)) {
		fprintf(stderr, "usage: %s [iterations]\n", argv[0]);
		return 2;
	}
	printf("seal+open per message, best of %d repetitions; MB/s counts IP packet bytes\n",
	       REPS);
	printf("%-26s %10s | %10s %12s | %10s %12s | %s\n", "case", "iters", "transp MB/s",
	       "transp pkt/s", "raw MB/s", "raw pkt/s", "time ratio transport/raw");
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t bytes = cases[c].pkt_len * (size_t)cases[c].npkts;
		long iters = fixed_iters ? fixed_iters : (long)((16u << 20) / bytes);
		double pkts = (double)iters * cases[c].npkts, t, r;

		if (bench_case(cases[c].pkt_len, cases[c].npkts, iters, &t, &r) != 0) {
			printf("%-26s FAILED\n", cases[c].name);
			failed = 1;
			continue;
		}
		printf("%-26s %10ld | %11.1f %12.0f | %10.1f %12.0f | %.3f\n", cases[c].name, iters,
		       pkts * (double)cases[c].pkt_len / t / 1e6, pkts / t,
		       pkts * (double)cases[c].pkt_len / r / 1e6, pkts / r, t / r);
	}
	return failed;
}
