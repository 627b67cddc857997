/* test_pki_nodecert.c NODE_CERT NETWORK_CA_PUB NODE_KEY NAME ADDR/LEN: checks a VPN node
 * certificate issued by `mqttip pki issue` with the portable core and, independently, with plain
 * libsodium: the Ed25519 signature by the network CA over the bytes before it, the CA key id, the
 * X25519 key pair; then that every flipped bit, every byte inverted, every truncation and an
 * appended byte make cert_verify fail. The files are read with libsodium's base64 decoder, not
 * with the agent's parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cert.h"
#include "check.h"

static size_t read_block(const char *path, const char *label, uint8_t *out, size_t cap)
{
	static char text[16384];
	char begin[96], end[96];
	const char *b, *e;
	size_t n, bin_len = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		perror(path);
		exit(2);
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	snprintf(begin, sizeof(begin), "-----BEGIN %s-----\n", label);
	snprintf(end, sizeof(end), "-----END %s-----", label);
	b = strstr(text, begin);
	e = b ? strstr(b, end) : NULL;
	if (!b || !e ||
	    sodium_base642bin(out, cap, b + strlen(begin), (size_t)(e - b - strlen(begin)), "\n",
			      &bin_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
		fprintf(stderr, "%s: no valid %s block\n", path, label);
		exit(2);
	}
	return bin_len;
}

int main(int argc, char **argv)
{
	uint8_t buf[MQTTIP_CERT_MAX_LEN + 1], mutated[MQTTIP_CERT_MAX_LEN + 1];
	uint8_t ca[32], secret[32], pub[32], hash[32], other_ca[32], other_sk[64];
	struct cert c, tmp;
	struct cert_prefix want;
	uint64_t now = (uint64_t)time(NULL);
	size_t len;
	unsigned accepted_mutations = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: %s NODE_CERT NETWORK_CA_PUB NODE_KEY NAME ADDR/LEN\n",
			argv[0]);
		return 2;
	}
	if (sodium_init() < 0)
		return 2;
	len = read_block(argv[1], "MQTTIP NODE CERTIFICATE", buf, sizeof(buf));
	CHECK_EQ_INT(read_block(argv[2], "MQTTIP NETWORK CA", ca, sizeof(ca)), 32);
	CHECK_EQ_INT(read_block(argv[3], "MQTTIP NODE KEY", secret, sizeof(secret)), 32);
	CHECK(len > MQTTIP_CERT_SIG_LEN && len <= MQTTIP_CERT_MAX_LEN);

	/* The core accepts it and reads back what was asked for. */
	CHECK_EQ_INT(cert_verify(buf, len, ca, now, &c), CERT_OK);
	CHECK(strcmp(c.name, argv[4]) == 0);
	memset(&want, 0, sizeof(want));
	CHECK(netaddr_parse_prefix(argv[5], strlen(argv[5]), &want.addr, &want.len) == 0);
	CHECK(c.n_addrs >= 1 && netaddr_equal(&c.addrs[0].addr, &want.addr) &&
	      c.addrs[0].len == want.len);
	CHECK(c.not_before <= now && c.not_after > now);

	/* Independently: Ed25519 over every byte before the signature, key id = SHA-256 prefix,
	 * and the node key is the secret half of the certificate's X25519 key. */
	CHECK(crypto_sign_verify_detached(buf + len - 64, buf, len - 64, ca) == 0);
	crypto_hash_sha256(hash, ca, sizeof(ca));
	CHECK_MEM(c.ca_key_id, hash, MQTTIP_CERT_KEY_ID_LEN);
	CHECK(crypto_scalarmult_base(pub, secret) == 0);
	CHECK_MEM(pub, c.x25519_public, 32);
	CHECK(memcmp(buf, "MQC", 3) == 0 && buf[3] == MQTTIP_CERT_VERSION);

	/* Any change breaks it. */
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 9; bit++) {
			memcpy(mutated, buf, len);
			mutated[i] ^= bit < 8 ? (uint8_t)(1u << bit) : 0xff;
			if (cert_verify(mutated, len, ca, now, &tmp) == CERT_OK) {
				accepted_mutations++;
				fprintf(stderr, "accepted with byte %zu ^ bit %d\n", i, bit);
			}
		}
	}
	CHECK_EQ_INT(accepted_mutations, 0);
	for (size_t cut = 0; cut < len; cut++)
		CHECK(cert_verify(buf, cut, ca, now, &tmp) != CERT_OK);
	memcpy(mutated, buf, len);
	mutated[len] = 0;
	CHECK(cert_verify(mutated, len + 1, ca, now, &tmp) != CERT_OK);

	/* Another network's CA, and time outside the validity window. */
	crypto_sign_keypair(other_ca, other_sk);
	CHECK_EQ_INT(cert_verify(buf, len, other_ca, now, &tmp), CERT_ERR_WRONG_CA);
	CHECK_EQ_INT(cert_verify(buf, len, ca, c.not_after + 1, &tmp), CERT_ERR_EXPIRED);
	CHECK_EQ_INT(cert_verify(buf, len, ca, c.not_before - 1, &tmp), CERT_ERR_NOT_YET_VALID);
	printf("%zu-byte certificate, %zu mutations refused\n", len, len * 9 + len + 1);
	return check_done();
}
