/* pki_show.c - `mqttip pki show FILE`, `mqttip pki verify DIR FILE` and `mqttip pki revocation
 * DIR`: every certificate of ours in a file (X.509 PEM, CRL, VPN node certificate or revocation
 * list as a block or raw bytes, bundle), in human form or checked against a PKI's CAs, with a
 * warning for whatever is not yet valid, expired or expires within PKI_WARN_DAYS; and a PKI's
 * current revocation list, for hand distribution. Private keys are only ever named, never
 * printed. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <sodium.h>

#include "cert.h"
#include "commands.h"
#include "pki.h"
#include "pki_args.h"
#include "pki_block.h"
#include "pki_ca.h"
#include "pki_files.h"
#include "pki_registry.h"
#include "pki_revocation.h"
#include "pki_x509.h"

/* One item found in a file, handed to a visitor. */
enum item_kind {
	ITEM_UNKNOWN,
	ITEM_X509,
	ITEM_X509_CA,
	ITEM_CRL,
	ITEM_NODE_CERT,
	ITEM_REVOCATION,
	ITEM_NETWORK_CA,
	ITEM_SECRET
};

#define PKI_WARN_DAYS 30 /* warn about a certificate or CRL that ends within this */

struct item {
	enum item_kind kind;
	const char *label;
	const uint8_t *der;
	size_t len;
};

typedef int (*item_visitor)(const struct item *it, void *ctx);

static const struct {
	const char *label;
	enum item_kind kind;
} known_labels[] = {
    {BUNDLE_LABEL_X509, ITEM_X509},
    {BUNDLE_LABEL_CLIENT_CERT, ITEM_X509},
    {BUNDLE_LABEL_BROKER_CA, ITEM_X509_CA},
    {BUNDLE_LABEL_X509_CRL, ITEM_CRL},
    {BUNDLE_LABEL_NODE_CERT, ITEM_NODE_CERT},
    {BUNDLE_LABEL_NETWORK_CA, ITEM_NETWORK_CA},
    {BUNDLE_LABEL_REVOCATION, ITEM_REVOCATION},
};

/* Calls visit for each item of the file; returns the number of items, or -1 (error printed). */
static int for_each_item(const char *path, item_visitor visit, void *ctx, int *visit_rc)
{
	static uint8_t bin[PKI_TEXT_MAX];
	unsigned char *data;
	size_t len, pos = 0;
	struct bundle_block b;
	int n = 0, r;

	*visit_rc = 0;
	if (pki_read_file(path, &data, &len) < 0) {
		pki_fail("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (len >= 3 && !memcmp(data, MQTTIP_CERT_MAGIC, 3)) {
		struct item it = {ITEM_NODE_CERT, "raw node certificate", data, len};

		*visit_rc |= visit(&it, ctx);
		pki_free_wiped(data, len);
		return 1;
	}
	if (len >= 3 && !memcmp(data, MQTTIP_REVOCATION_MAGIC, 3)) {
		struct item it = {ITEM_REVOCATION, "raw revocation list", data, len};

		*visit_rc |= visit(&it, ctx);
		pki_free_wiped(data, len);
		return 1;
	}
	while ((r = bundle_block_next((const char *)data, len, &pos, &b, bin, sizeof(bin))) == 1) {
		struct item it = {ITEM_UNKNOWN, b.label, bin, b.len};

		for (size_t i = 0; i < sizeof(known_labels) / sizeof(known_labels[0]); i++) {
			if (!strcmp(b.label, known_labels[i].label))
				it.kind = known_labels[i].kind;
		}
		/* "PRIVATE KEY", "EC PRIVATE KEY", "MQTTIP NODE KEY", ...: named, not shown. */
		if (it.kind == ITEM_UNKNOWN && strstr(b.label, "KEY"))
			it.kind = ITEM_SECRET;
		if (it.kind == ITEM_UNKNOWN)
			continue;
		n++;
		*visit_rc |= visit(&it, ctx);
	}
	sodium_memzero(bin, sizeof(bin));
	pki_free_wiped(data, len);
	if (r < 0) {
		pki_fail("%s: a '-----BEGIN' block is damaged (bad base64 or no END line); get a "
			 "fresh copy",
			 path);
		return -1;
	}
	if (n == 0) {
		pki_fail("%s holds no certificate of ours (X.509 PEM, VPN node certificate, "
			 "revocation list or bundle)",
			 path);
		return -1;
	}
	return n;
}

static void print_time(const char *what, uint64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[64];

	if (gmtime_r(&tt, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm))
		printf("  %-12s %s\n", what, buf);
	else
		printf("  %-12s %" PRIu64 "\n", what, t);
}

static void print_hex(const char *what, const uint8_t *p, size_t n)
{
	printf("  %-12s ", what);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

static void format_time(time_t t, char *buf, size_t cap)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, cap, "%lld", (long long)t);
}

/* A duration as people say it: "90 seconds", "12 minutes", "5 hours", "29 days". */
static void format_span(long long secs, char *buf, size_t cap)
{
	if (secs < 120)
		snprintf(buf, cap, "%lld seconds", secs);
	else if (secs < 2 * 3600)
		snprintf(buf, cap, "%lld minutes", secs / 60);
	else if (secs < 2 * 86400)
		snprintf(buf, cap, "%lld hours", secs / 3600);
	else
		snprintf(buf, cap, "%lld days", secs / 86400);
}

/* Warning lines (prefix before each) for a validity window [not_before, not_after) at now;
 * returns how many. advice ends the line about an approaching end. */
static int warn_window(const char *prefix, const char *what, time_t not_before, time_t not_after,
		       time_t now, const char *advice)
{
	char when[64], span[32];

	if (not_before > now) {
		format_time(not_before, when, sizeof(when));
		format_span(not_before - now, span, sizeof(span));
		printf("%sWARNING: %s is not valid before %s, %s from now: the clock of the "
		       "machine that signed it is ahead, or this one's is behind\n",
		       prefix, what, when, span);
		return 1;
	}
	format_time(not_after, when, sizeof(when));
	if (not_after <= now) {
		printf("%sWARNING: %s expired on %s\n", prefix, what, when);
		return 1;
	}
	if (not_after - now < (time_t)PKI_WARN_DAYS * 86400) {
		format_span(not_after - now, span, sizeof(span));
		printf("%sWARNING: %s expires in %s (%s); %s\n", prefix, what, span, when, advice);
		return 1;
	}
	return 0;
}

/* mosquitto (OpenSSL) refuses every client while the CRL's thisUpdate lies ahead of its clock,
 * and once its nextUpdate has passed. */
static int warn_crl(const char *prefix, X509_CRL *crl, time_t now)
{
	time_t last = pki_x509_time(X509_CRL_get0_lastUpdate(crl));
	time_t next = pki_x509_time(X509_CRL_get0_nextUpdate(crl));
	char when[64], span[32];

	if (last > now) {
		format_time(last, when, sizeof(when));
		format_span(last - now, span, sizeof(span));
		printf("%sWARNING: the CRL's this update (%s) lies %s in the future: a broker "
		       "with this clock refuses every client until then (\"certificate verify "
		       "failed\"); the clock of the machine that signed it is ahead\n",
		       prefix, when, span);
		return 1;
	}
	return warn_window(prefix, "the CRL", last, next ? next : last + 1, now,
			   "after that a broker refuses every client: it ends with the broker CA, "
			   "plan a new PKI");
}

static void print_node_cert(const struct cert *c)
{
	char p[NETADDR_STR_MAX + 8];

	printf("VPN node certificate\n  %-12s %s\n", "name", c->name);
	for (size_t i = 0; i < c->n_addrs; i++) {
		pki_prefix_format(&c->addrs[i], p, sizeof(p));
		printf("  %-12s %s\n", "address", p);
	}
	for (size_t i = 0; i < c->n_routes; i++) {
		pki_prefix_format(&c->routes[i], p, sizeof(p));
		printf("  %-12s %s\n", "route", p);
	}
	print_time("not before", c->not_before);
	print_time("not after", c->not_after);
	printf("  %-12s %" PRIu64 "\n", "serial", c->serial);
	print_hex("x25519 key", c->x25519_public, sizeof(c->x25519_public));
	print_hex("CA key id", c->ca_key_id, sizeof(c->ca_key_id));
}

static void print_revocation(const struct revocation *r)
{
	char hex[2 * MQTTIP_KEY_LEN + 1];

	printf("VPN revocation list\n  %-12s %" PRIu64 "\n", "version", r->version);
	print_time("issued", r->issued_at);
	print_hex("CA key id", r->ca_key_id, sizeof(r->ca_key_id));
	printf("  %-12s %u keys, %u serials, %u bytes\n", "entries", r->n_keys, r->n_serials,
	       r->len);
	for (size_t i = 0; i < r->n_keys; i++) {
		sodium_bin2hex(hex, sizeof(hex), revocation_key_at(r, i), MQTTIP_KEY_LEN);
		printf("  %-12s %s\n", "key", hex);
	}
	for (size_t i = 0; i < r->n_serials; i++)
		printf("  %-12s %" PRIu64 "\n", "serial", revocation_serial_at(r, i));
}

static int show_network_ca(const struct item *it)
{
	uint8_t id[MQTTIP_CERT_KEY_ID_LEN];

	if (it->len != crypto_sign_PUBLICKEYBYTES) {
		printf("VPN network CA: wrong length %zu\n", it->len);
		return 1;
	}
	cert_ca_key_id(it->der, id);
	printf("VPN network CA (Ed25519 public key = network id)\n");
	print_hex("public key", it->der, it->len);
	print_hex("key id", id, sizeof(id));
	return 0;
}

static int show_item(const struct item *it, void *ctx)
{
	static struct revocation rev;
	const unsigned char *p = it->der;
	time_t now = time(NULL);
	struct cert c;
	X509 *x;
	X509_CRL *crl;
	int err;

	(void)ctx;
	switch (it->kind) {
	case ITEM_X509:
	case ITEM_X509_CA:
		x = d2i_X509(NULL, &p, (long)it->len);
		if (!x) {
			printf("%s: not a valid X.509 certificate\n", it->label);
			return 1;
		}
		pki_x509_print(stdout, x);
		warn_window("  ", "this certificate", pki_x509_not_before(x), pki_x509_not_after(x),
			    now,
			    it->kind == ITEM_X509_CA ? "plan a new PKI"
						     : "renew it (`mqttip pki renew DIR NAME`)");
		X509_free(x);
		return 0;
	case ITEM_CRL:
		crl = d2i_X509_CRL(NULL, &p, (long)it->len);
		if (!crl) {
			printf("%s: not a valid CRL\n", it->label);
			return 1;
		}
		pki_x509_print_crl(stdout, crl);
		warn_crl("  ", crl, now);
		X509_CRL_free(crl);
		return 0;
	case ITEM_NODE_CERT:
		err = cert_decode(it->der, it->len, &c);
		if (err != CERT_OK) {
			printf("VPN node certificate: cannot be decoded (%s)\n",
			       cert_strerror(err));
			return 1;
		}
		print_node_cert(&c);
		warn_window("  ", "this certificate", (time_t)c.not_before, (time_t)c.not_after,
			    now, "renew it (`mqttip pki renew DIR NAME`)");
		return 0;
	case ITEM_REVOCATION:
		err = revocation_decode(it->der, it->len, &rev);
		if (err != REVOCATION_OK) {
			printf("VPN revocation list: cannot be decoded (%s)\n",
			       revocation_strerror(err));
			return 1;
		}
		print_revocation(&rev);
		return 0;
	case ITEM_NETWORK_CA:
		return show_network_ca(it);
	case ITEM_SECRET:
		printf("private key (%s): not shown\n", it->label);
		return 0;
	case ITEM_UNKNOWN:
		return 0;
	}
	return 1;
}

int pki_show(int argc, char **argv)
{
	struct pki_command_line cl = {
	    .command = "mqttip pki show",
	    .positional_names = "FILE",
	    .n_positional = 1,
	    .description = "Prints the certificates in FILE (X.509 PEM, CRL, VPN node "
			   "certificate, bundle); private keys are never printed.",
	};
	int visit_rc, rc = pki_args_exit_status(pki_args_parse(&cl, argc, argv));

	if (rc >= 0)
		return rc;
	if (for_each_item(cl.positional[0], show_item, NULL, &visit_rc) < 0)
		return MQTTIP_EXIT_FAILED;
	return visit_rc ? MQTTIP_EXIT_FAILED : 0;
}

struct verify_ctx {
	const char *file, *dir;
	time_t now;
	struct pki_ca *ca;
	struct pki_registry reg;
	struct revocation list;	       /* DIR's current revocation list (version 0: none) */
	char prefix[PKI_PATH_MAX + 2]; /* "FILE: " before warnings */
	X509_STORE *store;
	bool have_node_cert, have_x509;
	unsigned checked; /* certificates verified, valid or not */
	struct cert node; /* the VPN certificate, for the bundle's consistency check */
	char x509_cn[256];
	struct netaddr x509_ips[MQTTIP_CERT_MAX_ADDRS + 1];
	size_t n_x509_ips;
};

static int verify_x509(const struct item *it, struct verify_ctx *v)
{
	const unsigned char *p = it->der;
	X509 *x = d2i_X509(NULL, &p, (long)it->len);
	X509_STORE_CTX *sctx = X509_STORE_CTX_new();
	char cn[256] = "?";
	int ok = 0, err = X509_V_ERR_UNSPECIFIED;

	if (x && sctx && X509_STORE_CTX_init(sctx, v->store, x, NULL) == 1) {
		ok = X509_verify_cert(sctx) == 1;
		err = X509_STORE_CTX_get_error(sctx);
	}
	if (x)
		pki_x509_cn(x, cn, sizeof(cn));
	if (ok) {
		printf("%s: X.509 certificate %s: valid (broker CA of %s, CRL checked)\n", v->file,
		       cn, v->dir);
		warn_window(v->prefix, "this X.509 certificate", pki_x509_not_before(x),
			    pki_x509_not_after(x), v->now,
			    "renew it (`mqttip pki renew DIR NAME`)");
	} else
		printf("%s: X.509 certificate %s: INVALID: %s\n", v->file, cn,
		       x ? X509_verify_cert_error_string(err) : "cannot be decoded");
	if (x && ok && !v->have_x509) {
		v->have_x509 = true;
		memcpy(v->x509_cn, cn, sizeof(v->x509_cn));
		v->n_x509_ips = pki_x509_ips(x, v->x509_ips, MQTTIP_CERT_MAX_ADDRS + 1);
	}
	X509_STORE_CTX_free(sctx);
	X509_free(x);
	return ok ? 0 : 1;
}

static int verify_same_ca(const struct item *it, struct verify_ctx *v)
{
	unsigned char *der = NULL;
	int len = i2d_X509(v->ca->broker_ca, &der);
	bool same = len > 0 && (size_t)len == it->len && !memcmp(der, it->der, it->len);

	OPENSSL_free(der);
	if (!same)
		printf("%s: broker CA: INVALID: not the broker CA of %s\n", v->file, v->dir);
	return same ? 0 : 1;
}

static int verify_revocation(const struct item *it, struct verify_ctx *v)
{
	static struct revocation r;
	int err = revocation_verify(it->der, it->len, v->ca->network_public, &r);

	if (err != REVOCATION_OK) {
		printf("%s: VPN revocation list: INVALID: %s\n", v->file, revocation_strerror(err));
		return 1;
	}
	err = revocation_compare(&v->list, &r);
	if (err == REVOCATION_ERR_CONFLICT) {
		printf("%s: VPN revocation list version %" PRIu64
		       ": INVALID: differs from the list "
		       "of %s under the same version\n",
		       v->file, r.version, v->dir);
		return 1;
	}
	printf("%s: VPN revocation list version %" PRIu64 ": valid (network CA of %s)\n", v->file,
	       r.version, v->dir);
	if (err == REVOCATION_ERR_OLDER)
		printf("%sWARNING: %s holds version %" PRIu64 ": nodes that have it refuse this "
		       "one; hand out the newer list (`mqttip pki revocation %s`)\n",
		       v->prefix, v->dir, v->list.version, v->dir);
	return 0;
}

static int verify_item(const struct item *it, void *ctx)
{
	struct verify_ctx *v = ctx;
	struct cert c;
	int err;

	switch (it->kind) {
	case ITEM_X509:
		v->checked++;
		return verify_x509(it, v);
	case ITEM_NODE_CERT:
		v->checked++;
		err = cert_verify(it->der, it->len, v->ca->network_public, (uint64_t)v->now, &c);
		if (err != CERT_OK) {
			printf("%s: VPN node certificate: INVALID: %s\n", v->file,
			       cert_strerror(err));
			return 1;
		}
		if (revocation_is_revoked(&v->list, &c)) {
			printf(
			    "%s: VPN node certificate %s: INVALID: revoked by the revocation list "
			    "of %s (version %" PRIu64 ")\n",
			    v->file, c.name, v->dir, v->list.version);
			return 1;
		}
		for (size_t i = 0; i < v->reg.n; i++) {
			const struct pki_node *n = &v->reg.nodes[i];

			if (n->revoked && n->vpn_serial == c.serial && !strcmp(n->name, c.name)) {
				printf("%s: VPN node certificate %s: INVALID: revoked in %s/%s\n",
				       v->file, c.name, v->dir, PKI_F_NODES);
				return 1;
			}
		}
		printf("%s: VPN node certificate %s: valid (network CA of %s)\n", v->file, c.name,
		       v->dir);
		warn_window(v->prefix, "this VPN node certificate", (time_t)c.not_before,
			    (time_t)c.not_after, v->now, "renew it (`mqttip pki renew DIR NAME`)");
		v->have_node_cert = true;
		v->node = c;
		return 0;
	case ITEM_REVOCATION:
		v->checked++;
		return verify_revocation(it, v);
	case ITEM_NETWORK_CA:
		if (it->len != sizeof(v->ca->network_public) ||
		    sodium_memcmp(it->der, v->ca->network_public, it->len) != 0) {
			printf("%s: network CA: INVALID: not the network CA of %s\n", v->file,
			       v->dir);
			return 1;
		}
		return 0;
	case ITEM_X509_CA:
		return verify_same_ca(it, v);
	case ITEM_CRL:
	case ITEM_SECRET:
	case ITEM_UNKNOWN:
		return 0;
	}
	return 1;
}

/* In a bundle both certificates must name the same node with the same addresses. */
static int check_pair(const struct verify_ctx *v)
{
	if (!v->have_node_cert || !v->have_x509)
		return 0;
	bool same = !strcmp(v->node.name, v->x509_cn) && v->n_x509_ips == v->node.n_addrs;

	for (size_t i = 0; same && i < v->node.n_addrs; i++)
		same = netaddr_equal(&v->node.addrs[i].addr, &v->x509_ips[i]);
	if (!same) {
		printf("%s: INVALID: the X.509 and VPN certificates name different nodes or "
		       "addresses\n",
		       v->file);
		return 1;
	}
	return 0;
}

/* The CRL a broker of this PKI loads: a warning when it refuses everybody, or soon will. */
static void warn_dir_crl(const char *path, time_t now)
{
	FILE *f = fopen(path, "r");
	X509_CRL *crl = f ? PEM_read_X509_CRL(f, NULL, NULL, NULL) : NULL;
	char prefix[PKI_PATH_MAX + 2];

	snprintf(prefix, sizeof(prefix), "%s: ", path);
	if (crl)
		warn_crl(prefix, crl, now);
	X509_CRL_free(crl);
	if (f)
		fclose(f);
}

int pki_verify(int argc, char **argv)
{
	struct pki_command_line cl = {
	    .command = "mqttip pki verify",
	    .positional_names = "DIR FILE",
	    .n_positional = 2,
	    .description = "Checks every certificate in FILE against the CAs of the PKI in DIR "
			   "(and its CRL); exit status 0 only when all are valid.",
	};
	static struct verify_ctx v;
	struct pki_ca ca;
	char crl_path[PKI_PATH_MAX];
	X509_LOOKUP *lookup;
	int visit_rc, rc = pki_args_exit_status(pki_args_parse(&cl, argc, argv));

	if (rc >= 0)
		return rc;
	memset(&v, 0, sizeof(v));
	rc = pki_ca_load(cl.positional[0], &ca, false);
	if (!rc)
		rc = pki_registry_read(cl.positional[0], &v.reg);
	if (rc) {
		pki_ca_free(&ca);
		return rc;
	}
	v.file = cl.positional[1];
	v.dir = cl.positional[0];
	v.ca = &ca;
	v.now = time(NULL);
	snprintf(v.prefix, sizeof(v.prefix), "%s: ", v.file);
	if (pki_revocation_load(v.dir, ca.network_public, &v.list) < 0) {
		pki_registry_free(&v.reg);
		pki_ca_free(&ca);
		return MQTTIP_EXIT_FAILED;
	}
	v.store = X509_STORE_new();
	lookup = v.store ? X509_STORE_add_lookup(v.store, X509_LOOKUP_file()) : NULL;
	if (!lookup || X509_STORE_add_cert(v.store, ca.broker_ca) != 1 ||
	    !pki_path(crl_path, "%s/%s", cl.positional[0], PKI_F_CRL) ||
	    X509_load_crl_file(lookup, crl_path, X509_FILETYPE_PEM) != 1 ||
	    X509_STORE_set_flags(v.store, X509_V_FLAG_CRL_CHECK) != 1) {
		rc = pki_fail("cannot load the CA and CRL of %s (%s); is it a PKI made by `mqttip "
			      "pki init`?",
			      cl.positional[0], pki_x509_error());
	} else {
		warn_dir_crl(crl_path, v.now);
		if (for_each_item(v.file, verify_item, &v, &visit_rc) < 0)
			rc = MQTTIP_EXIT_FAILED;
		else if (v.checked == 0)
			rc =
			    pki_fail("%s holds no node, client or server certificate or revocation "
				     "list to verify",
				     v.file);
		else
			rc = visit_rc || check_pair(&v) ? MQTTIP_EXIT_FAILED : 0;
	}
	X509_STORE_free(v.store);
	pki_registry_free(&v.reg);
	pki_ca_free(&ca);
	return rc;
}

/* Who an entry of the list revokes, from the PKI's records. */
static const char *entry_owner(const struct pki_registry *reg, const struct pki_revocations *rev,
			       const uint8_t *key, uint64_t serial)
{
	for (size_t i = 0; i < reg->n; i++) {
		const struct pki_node *n = &reg->nodes[i];

		if (n->revoked && ((key && n->has_key && !memcmp(n->x25519_public, key, 32)) ||
				   (!key && n->vpn_serial == serial)))
			return n->name;
	}
	for (size_t i = 0; i < rev->n; i++) {
		const struct pki_retired *it = &rev->items[i];

		if ((key && it->kind == PKI_RETIRED_KEY && !memcmp(it->key, key, 32)) ||
		    (!key && it->kind == PKI_RETIRED_SERIAL && it->serial == serial))
			return it->name;
	}
	return "?";
}

int pki_revocation(int argc, char **argv)
{
	struct pki_command_line cl = {
	    .command = "mqttip pki revocation",
	    .positional_names = "DIR",
	    .n_positional = 1,
	    .description = "Prints the VPN revocation list of the PKI in DIR as a block with "
			   "comments (who each entry revokes): for nodes that were offline, to "
			   "hand over; `mqttip pki show` and bundles read the same block.",
	};
	static struct revocation r;
	static struct pki_text t;
	struct pki_registry reg = {0};
	struct pki_revocations rev = {0};
	struct pki_ca ca;
	char hex[2 * MQTTIP_KEY_LEN + 1], when[64];
	int got, rc = pki_args_exit_status(pki_args_parse(&cl, argc, argv));

	if (rc >= 0)
		return rc;
	rc = pki_ca_load(cl.positional[0], &ca, false);
	if (!rc)
		rc = pki_registry_read(cl.positional[0], &reg);
	if (!rc)
		rc = pki_revocations_read(cl.positional[0], ca.network_public, &rev);
	got = rc ? -1 : pki_revocation_load(cl.positional[0], ca.network_public, &r);
	if (got == 0)
		rc = pki_fail("%s has no %s (a PKI made before revocation lists); `mqttip pki "
			      "revoke` writes one",
			      cl.positional[0], PKI_F_REVOCATION);
	else if (got < 0)
		rc = MQTTIP_EXIT_FAILED;
	if (!rc) {
		memset(&t, 0, sizeof(t));
		format_time((time_t)r.issued_at, when, sizeof(when));
		pki_text_printf(&t,
				"# mqttip VPN revocation list of %s, version %" PRIu64
				", signed %s: %u keys, %u serials\n",
				cl.positional[0], r.version, when, r.n_keys, r.n_serials);
		for (size_t i = 0; i < r.n_keys; i++) {
			const uint8_t *k = revocation_key_at(&r, i);

			sodium_bin2hex(hex, sizeof(hex), k, MQTTIP_KEY_LEN);
			pki_text_printf(&t, "# key %s %s\n", hex, entry_owner(&reg, &rev, k, 0));
		}
		for (size_t i = 0; i < r.n_serials; i++) {
			uint64_t sn = revocation_serial_at(&r, i);

			pki_text_printf(&t, "# serial %" PRIu64 " %s\n", sn,
					entry_owner(&reg, &rev, NULL, sn));
		}
		pki_text_block(&t, BUNDLE_LABEL_REVOCATION, r.bytes, r.len);
		fwrite(t.buf, 1, t.len, stdout);
	}
	pki_revocations_free(&rev);
	pki_registry_free(&reg);
	pki_ca_free(&ca);
	return rc;
}
