/* pki_renew.c - `mqttip pki renew DIR NAME [--days N] [--new-key]`: new certificates of both PKIs
 * for a node that keeps its name, addresses and routes. The VPN certificate gets a higher serial,
 * so peers take it in place of the old one by the serial rule (PROTOCOL.md 4.9); by default the
 * keys stay, so no session is interrupted and only public files need to travel to the node. With
 * --new-key both keys are new and the old ones are retired: the old X25519 key goes on the VPN
 * revocation list and the old client certificate on the CRL, so a copy of the old keys is worth
 * nothing once nodes and broker have the new lists. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "commands.h"
#include "pki.h"
#include "pki_args.h"
#include "pki_block.h"
#include "pki_brokerdir.h"
#include "pki_ca.h"
#include "pki_files.h"
#include "pki_nodecerts.h"
#include "pki_registry.h"
#include "pki_revocation.h"
#include "pki_x509.h"

#define DEFAULT_NODE_DAYS 365

enum { F_DAYS, F_NEW_KEY, F_BROKER_DIR };

struct renew {
	const char *dir, *name, *broker_dir;
	bool new_key;
	struct pki_ca ca;
	struct pki_registry reg;
	struct pki_revocations rev;
	struct pki_nodecerts nc;
	struct revocation list; /* DIR's current one, for the node's copies */
	struct pki_node old;
};

static int node_file(const struct renew *rn, const char *file, char path[PKI_PATH_MAX])
{
	if (!pki_path(path, "%s/%s/%s/%s", rn->dir, PKI_D_NODES, rn->name, file))
		return pki_fail("%s: path too long", rn->dir);
	return 0;
}

/* A secret block of the node's bundle: where its keys still are when node.key or client.key
 * were removed. Returns the block's length or -1. */
static long bundle_block(const struct renew *rn, const char *label, uint8_t *out, size_t cap)
{
	char path[PKI_PATH_MAX];
	unsigned char *text;
	size_t len;
	long n;

	if (!pki_path(path, "%s/%s/%s/%s.bundle", rn->dir, PKI_D_NODES, rn->name, rn->name) ||
	    pki_read_file(path, &text, &len) < 0)
		return -1;
	n = bundle_block_find((const char *)text, len, label, out, cap);
	pki_free_wiped(text, len);
	return n;
}

/* The node's X25519 key: public from nodes.txt (or its node.cert), secret from node.key or the
 * bundle when still here (it is needed for the bundle only). */
static int keep_x25519(struct renew *rn, const struct pki_node *node)
{
	char path[PKI_PATH_MAX];
	uint8_t bytes[MQTTIP_CERT_MAX_LEN], derived[crypto_scalarmult_BYTES];
	unsigned char *text;
	size_t len;
	struct cert c;
	long n;

	if (node->has_key) {
		memcpy(rn->nc.x25519_public, node->x25519_public, MQTTIP_KEY_LEN);
	} else {
		if (node_file(rn, "node.cert", path))
			return MQTTIP_EXIT_FAILED;
		if (pki_read_file(path, &text, &len) < 0)
			return pki_fail(
			    "the X25519 key of %s is not in %s/%s and %s cannot be read "
			    "(%s); restore it, or renew with --new-key",
			    rn->name, rn->dir, PKI_F_NODES, path, strerror(errno));
		n = bundle_block_find((const char *)text, len, BUNDLE_LABEL_NODE_CERT, bytes,
				      sizeof(bytes));
		pki_free_wiped(text, len);
		if (n < 0 || cert_decode(bytes, (size_t)n, &c) != CERT_OK ||
		    strcmp(c.name, rn->name))
			return pki_fail("%s is not the VPN certificate of %s; restore it, or renew "
					"with --new-key",
					path, rn->name);
		memcpy(rn->nc.x25519_public, c.x25519_public, MQTTIP_KEY_LEN);
	}
	if (node_file(rn, "node.key", path))
		return MQTTIP_EXIT_FAILED;
	if (pki_exists(path)) {
		if (pki_read_file(path, &text, &len) < 0)
			return pki_fail("cannot read %s: %s", path, strerror(errno));
		n = bundle_block_find((const char *)text, len, BUNDLE_LABEL_NODE_KEY,
				      rn->nc.x25519_secret, sizeof(rn->nc.x25519_secret));
		pki_free_wiped(text, len);
	} else {
		n = bundle_block(rn, BUNDLE_LABEL_NODE_KEY, rn->nc.x25519_secret,
				 sizeof(rn->nc.x25519_secret));
		if (n < 0)
			return 0;
		rn->nc.skip_node_key_file = true;
		snprintf(path, PKI_PATH_MAX, "%s/%s/%s/%s.bundle", rn->dir, PKI_D_NODES, rn->name,
			 rn->name);
	}
	if (n != (long)sizeof(rn->nc.x25519_secret) ||
	    crypto_scalarmult_base(derived, rn->nc.x25519_secret) != 0 ||
	    sodium_memcmp(derived, rn->nc.x25519_public, sizeof(derived)) != 0)
		return pki_fail("%s does not hold the X25519 key of %s's certificate; restore it, "
				"or renew with --new-key",
				path, rn->name);
	rn->nc.have_x25519_secret = true;
	return 0;
}

/* The node's ECDSA key: public from its client.crt, private from client.key when still here. */
static int keep_client_key(struct renew *rn)
{
	char path[PKI_PATH_MAX];
	X509 *old;
	EVP_PKEY *key;

	if (node_file(rn, "client.crt", path))
		return MQTTIP_EXIT_FAILED;
	old = pki_x509_read_cert(path);
	if (!old)
		return pki_fail("cannot read %s (%s); the new client certificate keeps its key: "
				"restore the file, or renew with --new-key",
				path, pki_x509_error());
	if (node_file(rn, "client.key", path)) {
		X509_free(old);
		return MQTTIP_EXIT_FAILED;
	}
	if (pki_exists(path)) {
		key = pki_x509_read_key(path);
	} else {
		uint8_t der[PKI_TEXT_MAX];
		long n = bundle_block(rn, BUNDLE_LABEL_CLIENT_KEY, der, sizeof(der));
		const unsigned char *p = der;

		key = n > 0 ? d2i_AutoPrivateKey(NULL, &p, n) : NULL;
		sodium_memzero(der, sizeof(der));
		rn->nc.skip_client_key_file = true;
		snprintf(path, PKI_PATH_MAX, "%s/%s/%s/%s.bundle", rn->dir, PKI_D_NODES, rn->name,
			 rn->name);
	}
	if (key && X509_check_private_key(old, key) != 1) {
		EVP_PKEY_free(key);
		X509_free(old);
		return pki_fail("%s does not match %s's client.crt; restore it, or renew with "
				"--new-key",
				path, rn->name);
	}
	rn->nc.have_client_secret = key != NULL;
	rn->nc.client_key = key ? key : X509_get_pubkey(old);
	X509_free(old);
	if (!rn->nc.client_key)
		return pki_fail("cannot read the public key of %s/%s/%s/client.crt: %s", rn->dir,
				PKI_D_NODES, rn->name, pki_x509_error());
	return 0;
}

/* --new-key: the old key and client certificate are revoked, with a new list signed. */
static int retire_old(struct renew *rn, time_t now)
{
	struct pki_retired it;

	memset(&it, 0, sizeof(it));
	snprintf(it.name, sizeof(it.name), "%s", rn->name);
	it.revoked_at = now;
	it.not_after = rn->old.not_after;
	if (rn->old.has_key) {
		it.kind = PKI_RETIRED_KEY;
		memcpy(it.key, rn->old.x25519_public, MQTTIP_KEY_LEN);
	} else {
		it.kind = PKI_RETIRED_SERIAL;
		it.serial = rn->old.vpn_serial;
	}
	if (pki_revocations_retire(&rn->rev, &it))
		return MQTTIP_EXIT_FAILED;
	memset(&it, 0, sizeof(it));
	it.kind = PKI_RETIRED_X509;
	snprintf(it.name, sizeof(it.name), "%s", rn->name);
	snprintf(it.x509_serial, sizeof(it.x509_serial), "%s", rn->old.x509_serial);
	it.revoked_at = now;
	if (pki_revocations_retire(&rn->rev, &it))
		return MQTTIP_EXIT_FAILED;
	return pki_revocations_sign(&rn->rev, rn->dir, &rn->reg, rn->ca.network_secret, now);
}

static void format_day(time_t t, char *buf, size_t cap)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M UTC", &tm))
		snprintf(buf, cap, "%lld", (long long)t);
}

static int renew_run(struct renew *rn, long days)
{
	const char *changed[] = {"crl.pem"};
	time_t now = time(NULL), not_after = now + (time_t)days * 86400;
	struct pki_node *node;
	uint64_t serial;
	char until[64];
	int rc;

	rc = pki_broker_dir_check(rn->broker_dir);
	if (!rc)
		rc = pki_ca_load(rn->dir, &rn->ca, true);
	if (!rc)
		rc = pki_lock(rn->dir);
	if (!rc)
		rc = pki_registry_read(rn->dir, &rn->reg);
	if (!rc)
		rc = pki_revocations_read(rn->dir, rn->ca.network_public, &rn->rev);
	if (!rc)
		rc = pki_registry_next_serial(&rn->reg, &serial);
	if (rc)
		return rc;
	node = pki_registry_find(&rn->reg, rn->name);
	if (!node)
		return pki_fail("no node %s in %s/%s; issue it with `mqttip pki issue`", rn->name,
				rn->dir, PKI_F_NODES);
	if (node->revoked)
		return pki_fail("node %s is revoked and cannot be renewed; issue a new node under "
				"another name",
				rn->name);
	if (not_after > rn->ca.expires)
		return pki_fail("--days %ld outlives the CAs of %s; give at most --days %lld", days,
				rn->dir, (long long)((rn->ca.expires - now) / 86400));
	rn->old = *node;
	if (!rn->new_key) {
		rc = keep_x25519(rn, node);
		if (!rc)
			rc = keep_client_key(rn);
		if (rc)
			return rc;
	}
	rn->nc.dir = rn->dir;
	rn->nc.node = node;
	rc = pki_nodecerts_make(&rn->nc, &rn->ca, now, not_after, serial, rn->new_key);
	/* With --new-key the list changes and is signed before any file is written, so a list
	 * that would not fit stops the command while nothing has changed yet. */
	if (!rc && rn->new_key)
		rc = retire_old(rn, now);
	if (rc)
		return rc;
	if (rn->new_key) {
		rc = pki_revocations_write(rn->dir, &rn->rev);
		if (!rc)
			rc = pki_revocations_write_crl(rn->dir, &rn->ca, &rn->reg, &rn->rev, now);
		if (!rc)
			rc = revocation_decode(rn->rev.list, rn->rev.list_len, &rn->list) ==
				     REVOCATION_OK
				 ? 0
				 : pki_fail("the new revocation list does not decode; report this "
					    "bug");
	} else if (pki_revocation_load(rn->dir, rn->ca.network_public, &rn->list) < 0) {
		rc = MQTTIP_EXIT_FAILED;
	}
	if (!rc)
		rc = pki_nodecerts_write(&rn->nc, &rn->ca, rn->list.bytes, rn->list.len);
	if (!rc)
		rc = pki_registry_write(rn->dir, &rn->reg);
	if (rc)
		return rc;
	format_day(not_after, until, sizeof(until));
	printf("node %s renewed: VPN serial %" PRIu64 " -> %" PRIu64 ", valid until %s, %s\n",
	       rn->name, rn->old.vpn_serial, serial, until,
	       rn->new_key ? "new keys (the old ones are revoked)"
			   : "same keys (sessions stay up; peers take the new certificate by its "
			     "serial)");
	if (rn->nc.wrote_bundle)
		printf("give the node %s/%s/%s/%s.bundle (or the files beside it) and reload it "
		       "(`mqttip up`: SIGHUP)\n",
		       rn->dir, PKI_D_NODES, rn->name, rn->name);
	else
		printf("the node's private keys are not in %s/%s/%s/ (nor its bundle), so no "
		       "bundle was written: give the node the new client.crt and node.cert "
		       "(public; its keys are unchanged) and reload it\n",
		       rn->dir, PKI_D_NODES, rn->name);
	if (rn->new_key)
		printf("VPN revocation list version %" PRIu64 " written to %s/%s\n",
		       rn->rev.version, rn->dir, PKI_F_REVOCATION);
	return pki_broker_apply(rn->dir, rn->broker_dir, changed, rn->new_key ? 1 : 0);
}

int pki_renew(int argc, char **argv)
{
	struct pki_flag flags[] = {
	    [F_DAYS] = {.name = "--days",
			.value = "N",
			.max = 1,
			.help = "validity in days from now (default 365)"},
	    [F_NEW_KEY] = {.name = "--new-key",
			   .max = 1,
			   .help = "new X25519 and ECDSA keys; the old ones are revoked"},
	    [F_BROKER_DIR] = PKI_BROKER_DIR_FLAG,
	};
	struct pki_command_line cl = {
	    .command = "mqttip pki renew",
	    .positional_names = "DIR NAME",
	    .n_positional = 2,
	    .description = "Renews node NAME: new certificates (higher VPN serial) for the same "
			   "name, addresses and routes, by default with the same keys.",
	    .flags = flags,
	    .n_flags = sizeof(flags) / sizeof(flags[0]),
	};
	static struct renew rn;
	long days = DEFAULT_NODE_DAYS;
	int rc = pki_args_exit_status(pki_args_parse(&cl, argc, argv));

	if (rc >= 0)
		return rc;
	if (!pki_name_valid(cl.positional[1])) {
		fprintf(stderr,
			"mqttip pki renew: '%s' is not a node name; node names are listed in "
			"DIR/%s\n",
			cl.positional[1], PKI_F_NODES);
		return MQTTIP_EXIT_USAGE;
	}
	if (flags[F_DAYS].count && pki_args_days(flags[F_DAYS].values[0], &days) < 0) {
		fprintf(stderr, "mqttip pki renew: --days %s: give a whole number from 1 to %d\n",
			flags[F_DAYS].values[0], PKI_MAX_DAYS);
		return MQTTIP_EXIT_USAGE;
	}
	memset(&rn, 0, sizeof(rn));
	rn.dir = cl.positional[0];
	rn.name = cl.positional[1];
	rn.new_key = flags[F_NEW_KEY].count > 0;
	rn.broker_dir = flags[F_BROKER_DIR].count ? flags[F_BROKER_DIR].values[0] : NULL;
	rc = renew_run(&rn, days);
	pki_nodecerts_free(&rn.nc);
	pki_revocations_free(&rn.rev);
	pki_registry_free(&rn.reg);
	pki_ca_free(&rn.ca);
	sodium_memzero(&rn, sizeof(rn));
	return rc;
}
