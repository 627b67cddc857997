/* pki_revocation.c - revoked.txt, revocation.bin and the CRL of a PKI directory (see
 * pki_revocation.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "commands.h"
#include "pki_block.h"
#include "pki_files.h"
#include "pki_revocation.h"

int pki_revocation_load(const char *dir, const uint8_t network_public[32], struct revocation *out)
{
	char path[PKI_PATH_MAX];
	unsigned char *data;
	size_t len;
	int err;

	memset(out, 0, sizeof(*out));
	if (!pki_path(path, "%s/%s", dir, PKI_F_REVOCATION)) {
		pki_fail("%s: path too long", dir);
		return -1;
	}
	if (pki_read_file(path, &data, &len) < 0) {
		if (errno == ENOENT)
			return 0;
		pki_fail("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	err = revocation_verify(data, len, network_public, out);
	free(data);
	if (err != REVOCATION_OK) {
		pki_fail("%s: %s; restore the file from a backup of %s", path,
			 revocation_strerror(err), dir);
		return -1;
	}
	return 1;
}

static bool parse_retired(char *line, struct pki_retired *it)
{
	char *save = NULL, *f[6];
	size_t n = 0, bin_len;
	long long not_after = 0, revoked_at = 0;
	unsigned long long serial = 0;

	memset(it, 0, sizeof(*it));
	for (char *tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (n == 6)
			return false;
		f[n++] = tok;
	}
	if (n < 4 || !pki_name_valid(f[1]))
		return false;
	strcpy(it->name, f[1]);
	if (!strcmp(f[0], "x509")) {
		it->kind = PKI_RETIRED_X509;
		if (n != 4 || strlen(f[2]) >= sizeof(it->x509_serial) ||
		    sscanf(f[3], "%lld", &revoked_at) != 1)
			return false;
		strcpy(it->x509_serial, f[2]);
	} else if (!strcmp(f[0], "key")) {
		it->kind = PKI_RETIRED_KEY;
		if (n != 5 || strlen(f[2]) != 2 * MQTTIP_KEY_LEN ||
		    sodium_hex2bin(it->key, sizeof(it->key), f[2], strlen(f[2]), NULL, &bin_len,
				   NULL) != 0 ||
		    bin_len != MQTTIP_KEY_LEN)
			return false;
	} else if (!strcmp(f[0], "serial")) {
		it->kind = PKI_RETIRED_SERIAL;
		if (n != 5 || sscanf(f[2], "%llu", &serial) != 1)
			return false;
		it->serial = serial;
	} else {
		return false;
	}
	if (it->kind != PKI_RETIRED_X509 &&
	    (sscanf(f[3], "%lld", &not_after) != 1 || sscanf(f[4], "%lld", &revoked_at) != 1))
		return false;
	it->not_after = (time_t)not_after;
	it->revoked_at = (time_t)revoked_at;
	return true;
}

int pki_revocations_retire(struct pki_revocations *r, const struct pki_retired *item)
{
	struct pki_retired *grown = realloc(r->items, (r->n + 1) * sizeof(*grown));

	if (!grown)
		return pki_fail("out of memory");
	r->items = grown;
	r->items[r->n++] = *item;
	return 0;
}

static int read_records(const char *dir, struct pki_revocations *r)
{
	char path[PKI_PATH_MAX], *text, *cursor, *line;
	unsigned lineno = 0;
	size_t len;
	int rc = 0;

	if (!pki_path(path, "%s/%s", dir, PKI_F_REVOKED))
		return pki_fail("%s: path too long", dir);
	if (pki_read_file(path, (unsigned char **)&text, &len) < 0) {
		if (errno == ENOENT)
			return 0;
		return pki_fail("cannot read %s: %s", path, strerror(errno));
	}
	for (cursor = text; rc == 0 && cursor && *cursor;) {
		char *nl = strchr(cursor, '\n'), *hash;
		struct pki_retired it;
		unsigned long long v;

		line = cursor;
		cursor = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		lineno++;
		if ((hash = strchr(line, '#')))
			*hash = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (!*line)
			continue;
		if (sscanf(line, "version %llu", &v) == 1)
			r->version = v > r->version ? v : r->version;
		else if (!parse_retired(line, &it))
			rc = pki_fail("%s:%u: bad line; restore the file", path, lineno);
		else
			rc = pki_revocations_retire(r, &it);
	}
	free(text);
	return rc;
}

int pki_revocations_read(const char *dir, const uint8_t network_public[32],
			 struct pki_revocations *r)
{
	static struct revocation current;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = read_records(dir, r);
	if (rc == 0) {
		int got = pki_revocation_load(dir, network_public, &current);

		if (got < 0)
			rc = MQTTIP_EXIT_FAILED;
		/* the list itself is the authority on its version: never sign a lower one */
		else if (got > 0 && current.version > r->version)
			r->version = current.version;
	}
	if (rc)
		pki_revocations_free(r);
	return rc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, MQTTIP_KEY_LEN);
}

/* Sorts and removes duplicates; returns the new count. */
static size_t sort_unique(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	unsigned char *p = base;
	size_t out = 0;

	if (n == 0)
		return 0;
	qsort(base, n, size, cmp);
	for (size_t i = 1; i < n; i++) {
		if (cmp(p + out * size, p + i * size) != 0) {
			out++;
			memmove(p + out * size, p + i * size, size);
		}
	}
	return out + 1;
}

/* The key of a revoked node recorded before nodes.txt kept keys: from its node.cert, if still
 * there. */
static bool key_from_node_cert(const char *dir, const char *name, uint8_t key[MQTTIP_KEY_LEN])
{
	char path[PKI_PATH_MAX];
	uint8_t bytes[MQTTIP_CERT_MAX_LEN];
	unsigned char *text;
	size_t len;
	struct cert c;
	long n;

	if (!pki_path(path, "%s/%s/%s/node.cert", dir, PKI_D_NODES, name) ||
	    pki_read_file(path, &text, &len) < 0)
		return false;
	n = bundle_block_find((const char *)text, len, BUNDLE_LABEL_NODE_CERT, bytes,
			      sizeof(bytes));
	free(text);
	if (n < 0 || cert_decode(bytes, (size_t)n, &c) != CERT_OK || strcmp(c.name, name))
		return false;
	memcpy(key, c.x25519_public, MQTTIP_KEY_LEN);
	return true;
}

int pki_revocations_sign(struct pki_revocations *r, const char *dir, const struct pki_registry *reg,
			 const uint8_t ca_secret[64], time_t now)
{
	size_t cap = reg->n + r->n + 1, ns = 0, nk = 0, need;
	uint64_t *serials = calloc(cap, sizeof(*serials));
	uint8_t(*keys)[MQTTIP_KEY_LEN] = calloc(cap, sizeof(*keys));
	time_t horizon = now - PKI_REVOCATION_PRUNE_SECONDS;
	int n, rc = 0;

	if (!serials || !keys) {
		rc = pki_fail("out of memory");
		goto out;
	}
	if (r->version == UINT64_MAX) {
		rc = pki_fail("the revocation list versions of %s are used up; create a new PKI",
			      dir);
		goto out;
	}
	for (size_t i = 0; i < reg->n; i++) {
		const struct pki_node *node = &reg->nodes[i];

		if (!node->revoked || node->not_after < horizon)
			continue;
		if (node->has_key)
			memcpy(keys[nk++], node->x25519_public, MQTTIP_KEY_LEN);
		else if (key_from_node_cert(dir, node->name, keys[nk]))
			nk++;
		else
			serials[ns++] = node->vpn_serial;
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct pki_retired *it = &r->items[i];

		if (it->kind == PKI_RETIRED_X509 || it->not_after < horizon)
			continue;
		if (it->kind == PKI_RETIRED_KEY)
			memcpy(keys[nk++], it->key, MQTTIP_KEY_LEN);
		else
			serials[ns++] = it->serial;
	}
	ns = sort_unique(serials, ns, sizeof(*serials), cmp_u64);
	nk = sort_unique(keys, nk, sizeof(*keys), cmp_key);
	need = MQTTIP_REVOCATION_MIN_LEN + ns * MQTTIP_REVOCATION_SERIAL_LEN + nk * MQTTIP_KEY_LEN;
	if (need > MQTTIP_REVOCATION_MAX_LEN) {
		rc = pki_fail("the VPN revocation list would hold %zu keys and %zu serials (%zu "
			      "bytes, more than its %d); nothing was changed: wait until revoked "
			      "certificates expire, or move the network to a new PKI",
			      nk, ns, need, MQTTIP_REVOCATION_MAX_LEN);
		goto out;
	}
	n = revocation_encode_sign(r->version + 1, (uint64_t)now, serials, ns,
				   (const uint8_t(*)[MQTTIP_KEY_LEN])keys, nk, ca_secret, r->list,
				   sizeof(r->list));
	if (n < 0) {
		rc = pki_fail("cannot sign the revocation list: %s; report this bug",
			      revocation_strerror(n));
		goto out;
	}
	r->version++;
	r->list_len = (size_t)n;
	r->n_serials = ns;
	r->n_keys = nk;
out:
	free(serials);
	free(keys);
	return rc;
}

static void format_retired(FILE *f, const struct pki_retired *it)
{
	char hex[2 * MQTTIP_KEY_LEN + 1];

	switch (it->kind) {
	case PKI_RETIRED_KEY:
		sodium_bin2hex(hex, sizeof(hex), it->key, sizeof(it->key));
		fprintf(f, "key %s %s %lld %lld\n", it->name, hex, (long long)it->not_after,
			(long long)it->revoked_at);
		break;
	case PKI_RETIRED_SERIAL:
		fprintf(f, "serial %s %" PRIu64 " %lld %lld\n", it->name, it->serial,
			(long long)it->not_after, (long long)it->revoked_at);
		break;
	case PKI_RETIRED_X509:
		fprintf(f, "x509 %s %s %lld\n", it->name, it->x509_serial,
			(long long)it->revoked_at);
		break;
	}
}

static int write_records(const char *dir, const struct pki_revocations *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char path[PKI_PATH_MAX];
	int rc = 0;

	if (!f)
		return pki_fail("out of memory");
	fprintf(f,
		"# mqttip revocations besides the revoked nodes of nodes.txt, kept by `mqttip "
		"pki`; do not edit.\n"
		"# version N                               the last VPN revocation list signed "
		"(revocation.bin)\n"
		"# key NAME HEX NOT-AFTER REVOKED-AT        an X25519 key retired by renew "
		"--new-key\n"
		"# serial NAME SERIAL NOT-AFTER REVOKED-AT  a VPN certificate retired, its key "
		"unknown\n"
		"# x509 NAME SERIAL REVOKED-AT              a client certificate retired (on the "
		"CRL)\n");
	fprintf(f, "version %" PRIu64 "\n", r->version);
	for (size_t i = 0; i < r->n; i++)
		format_retired(f, &r->items[i]);
	if (fclose(f) != 0) {
		free(buf);
		return pki_fail("out of memory");
	}
	if (!pki_path(path, "%s/%s", dir, PKI_F_REVOKED) ||
	    pki_write_file(path, buf, len, PKI_MODE_PUBLIC) < 0)
		rc = pki_fail("cannot write %s/%s: %s", dir, PKI_F_REVOKED, strerror(errno));
	free(buf);
	return rc;
}

int pki_revocations_write(const char *dir, const struct pki_revocations *r)
{
	char path[PKI_PATH_MAX];

	if (!pki_path(path, "%s/%s", dir, PKI_F_REVOCATION))
		return pki_fail("%s: path too long", dir);
	if (pki_write_file(path, r->list, r->list_len, PKI_MODE_PUBLIC) < 0)
		return pki_fail("cannot write %s: %s", path, strerror(errno));
	return write_records(dir, r);
}

int pki_revocations_write_crl(const char *dir, const struct pki_ca *ca,
			      const struct pki_registry *reg, const struct pki_revocations *r,
			      time_t now)
{
	struct pki_revoked *list = calloc(reg->n + r->n + 1, sizeof(*list));
	char path[PKI_PATH_MAX];
	size_t n = 0;
	int rc = 0;

	if (!list)
		return pki_fail("out of memory");
	for (size_t i = 0; i < reg->n; i++) {
		if (!reg->nodes[i].revoked)
			continue;
		snprintf(list[n].serial_hex, sizeof(list[n].serial_hex), "%s",
			 reg->nodes[i].x509_serial);
		list[n++].when = reg->nodes[i].revoked_at;
	}
	for (size_t i = 0; i < r->n; i++) {
		if (r->items[i].kind != PKI_RETIRED_X509)
			continue;
		snprintf(list[n].serial_hex, sizeof(list[n].serial_hex), "%s",
			 r->items[i].x509_serial);
		list[n++].when = r->items[i].revoked_at;
	}
	if (!pki_path(path, "%s/%s", dir, PKI_F_CRL) ||
	    pki_x509_write_crl(path, ca->broker_ca, ca->broker_key, list, n,
			       now - PKI_BACKDATE_SECONDS) < 0)
		rc = pki_fail("cannot write the CRL %s/%s: %s", dir, PKI_F_CRL, pki_x509_error());
	free(list);
	return rc;
}

void pki_revocations_free(struct pki_revocations *r)
{
	free(r->items);
	r->items = NULL;
	r->n = 0;
}
