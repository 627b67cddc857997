/* identity.c - loads and cross-checks the node's credentials (see identity.h). */
#define _POSIX_C_SOURCE 200809L
#include "identity.h"
#include "keyperms.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "netaddr.h"
#include "pki_block.h"
#include "pki_files.h"

#define DER_MAX 8192

static const char *ssl_error(void)
{
	unsigned long e = ERR_get_error();

	return e ? ERR_reason_error_string(e) : "unknown error";
}

struct text {
	unsigned char *data;
	size_t len;
};

static int read_text(const char *path, struct text *t, char *err, size_t cap)
{
	if (pki_read_file(path, &t->data, &t->len) < 0)
		return set_error(err, cap, "cannot read %s: %s", path, strerror(errno));
	return 0;
}

static void free_text(struct text *t)
{
	if (t->data)
		pki_free_wiped(t->data, t->len);
	t->data = NULL;
}

/* A block of exactly want bytes (want 0: any length up to cap); returns its length. */
static long block(const struct text *t, const char *path, const char *label, uint8_t *out,
		  size_t cap, size_t want, char *err, size_t errcap)
{
	long n = bundle_block_find((const char *)t->data, t->len, label, out, cap);

	if (n < 0)
		return set_error(err, errcap, "%s: no valid '%s' block (is it the right file?)",
				 path, label);
	if (want && (size_t)n != want)
		return set_error(err, errcap, "%s: '%s' block has %ld bytes, expected %zu", path,
				 label, n, want);
	return n;
}

static int load_bundle(struct identity *id, const char *path, char *err, size_t cap)
{
	struct text t = {0};
	uint8_t *der = NULL;
	const unsigned char *p;
	long n;
	int rc = -1;

	if (read_text(path, &t, err, cap))
		return -1;
	der = OPENSSL_malloc(DER_MAX);
	if (!der) {
		set_error(err, cap, "out of memory");
		goto out;
	}
	if ((n = block(&t, path, BUNDLE_LABEL_BROKER_CA, der, DER_MAX, 0, err, cap)) < 0)
		goto out;
	p = der;
	if (!(id->broker_ca = d2i_X509(NULL, &p, n))) {
		set_error(err, cap, "%s: broker CA certificate unreadable: %s", path, ssl_error());
		goto out;
	}
	if ((n = block(&t, path, BUNDLE_LABEL_CLIENT_CERT, der, DER_MAX, 0, err, cap)) < 0)
		goto out;
	p = der;
	if (!(id->client_cert = d2i_X509(NULL, &p, n))) {
		set_error(err, cap, "%s: client certificate unreadable: %s", path, ssl_error());
		goto out;
	}
	if ((n = block(&t, path, BUNDLE_LABEL_CLIENT_KEY, der, DER_MAX, 0, err, cap)) < 0)
		goto out;
	p = der;
	id->client_key = d2i_AutoPrivateKey(NULL, &p, n);
	OPENSSL_cleanse(der, DER_MAX);
	if (!id->client_key) {
		set_error(err, cap, "%s: client key unreadable: %s", path, ssl_error());
		goto out;
	}
	if (block(&t, path, BUNDLE_LABEL_NETWORK_CA, id->network_id, sizeof(id->network_id),
		  sizeof(id->network_id), err, cap) < 0)
		goto out;
	if ((n = block(&t, path, BUNDLE_LABEL_NODE_CERT, id->cert_bytes, sizeof(id->cert_bytes), 0,
		       err, cap)) < 0)
		goto out;
	id->cert_len = (size_t)n;
	if (block(&t, path, BUNDLE_LABEL_NODE_KEY, id->node_secret, sizeof(id->node_secret),
		  sizeof(id->node_secret), err, cap) < 0)
		goto out;
	/* optional (bundles from before revocation lists have none); verified by the node */
	n = bundle_block_find((const char *)t.data, t.len, BUNDLE_LABEL_REVOCATION, id->revocation,
			      sizeof(id->revocation));
	id->revocation_len = n > 0 ? (size_t)n : 0;
	rc = 0;
out:
	OPENSSL_free(der);
	free_text(&t);
	return rc;
}

static int load_pem(struct identity *id, const struct config *c, char *err, size_t cap)
{
	FILE *f;

	if (!(f = fopen(c->cafile, "r")))
		return set_error(err, cap, "cannot read %s: %s", c->cafile, strerror(errno));
	id->broker_ca = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!id->broker_ca)
		return set_error(err, cap, "%s: no PEM certificate: %s", c->cafile, ssl_error());
	if (!(f = fopen(c->cert, "r")))
		return set_error(err, cap, "cannot read %s: %s", c->cert, strerror(errno));
	id->client_cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!id->client_cert)
		return set_error(err, cap, "%s: no PEM certificate: %s", c->cert, ssl_error());
	if (!(f = fopen(c->key, "r")))
		return set_error(err, cap, "cannot read %s: %s", c->key, strerror(errno));
	id->client_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!id->client_key)
		return set_error(err, cap, "%s: no PEM private key: %s", c->key, ssl_error());
	return 0;
}

static int load_block_file(const char *path, const char *label, uint8_t *out, size_t cap,
			   size_t want, long *len, char *err, size_t errcap)
{
	struct text t = {0};
	long n;

	if (read_text(path, &t, err, errcap))
		return -1;
	n = block(&t, path, label, out, cap, want, err, errcap);
	free_text(&t);
	if (n < 0)
		return -1;
	if (len)
		*len = n;
	return 0;
}

static int load_separate(struct identity *id, const struct config *c, char *err, size_t cap)
{
	long n;

	if (load_pem(id, c, err, cap))
		return -1;
	if (load_block_file(c->network_ca, BUNDLE_LABEL_NETWORK_CA, id->network_id,
			    sizeof(id->network_id), sizeof(id->network_id), NULL, err, cap) ||
	    load_block_file(c->node_cert, BUNDLE_LABEL_NODE_CERT, id->cert_bytes,
			    sizeof(id->cert_bytes), 0, &n, err, cap) ||
	    load_block_file(c->node_key, BUNDLE_LABEL_NODE_KEY, id->node_secret,
			    sizeof(id->node_secret), sizeof(id->node_secret), NULL, err, cap))
		return -1;
	id->cert_len = (size_t)n;
	return 0;
}

static int load_psk(struct identity *id, const char *path, char *err, size_t cap)
{
	struct text t = {0};
	size_t bin_len = 0;
	const char *end;
	int rc;

	if (read_text(path, &t, err, cap))
		return -1;
	rc = sodium_hex2bin(id->psk, sizeof(id->psk), (const char *)t.data, t.len, " \r\n\t",
			    &bin_len, &end);
	if (rc || bin_len != sizeof(id->psk) || (size_t)(end - (const char *)t.data) != t.len)
		rc =
		    set_error(err, cap, "%s: expected 64 hexadecimal digits (a 32-byte PSK)", path);
	else
		id->has_psk = true;
	free_text(&t);
	return rc;
}

static int check_client_cert(struct identity *id, const char *path, char *err, size_t cap)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc = -1;

	if (!store || !ctx || !X509_STORE_add_cert(store, id->broker_ca) ||
	    !X509_STORE_CTX_init(ctx, store, id->client_cert, NULL)) {
		set_error(err, cap, "cannot check the client certificate: %s", ssl_error());
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		set_error(err, cap,
			  "%s: client certificate does not verify against the broker CA: %s", path,
			  X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	if (X509_check_private_key(id->client_cert, id->client_key) != 1) {
		set_error(err, cap, "%s: client key does not match the client certificate", path);
		goto out;
	}
	rc = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

/* The files that hold secrets, checked like ssh checks private keys (keyperms.h). */
static int check_secret_modes(const struct config *c, char *err, size_t cap)
{
	const struct {
		const char *path, *what;
	} files[] = {
	    {c->bundle, "private keys"},
	    {c->key, "a private key"},
	    {c->node_key, "a private key"},
	    {c->psk, "a pre-shared key"},
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (files[i].path[0] &&
		    keyperms_check(files[i].path, files[i].what, c->strict_perms, err, cap))
			return -1;
	}
	return 0;
}

int identity_load(struct identity *id, const struct config *c, uint64_t now_unix, char *err,
		  size_t cap)
{
	const char *src = c->bundle[0] ? c->bundle : c->node_cert;
	int rc;

	memset(id, 0, sizeof(*id));
	if (check_secret_modes(c, err, cap))
		return -1;
	if (!c->bundle[0] && !c->node_cert[0]) {
		/* legacy only: broker credentials optional (plain broker, or TLS with PEM files) */
		if (!c->cafile[0] || !c->cert[0] || !c->key[0])
			return 0;
		return load_pem(id, c, err, cap) ? -1 : check_client_cert(id, c->cert, err, cap);
	}
	id->secure = true;
	if (c->bundle[0] ? load_bundle(id, c->bundle, err, cap) : load_separate(id, c, err, cap))
		return -1;
	rc = cert_verify(id->cert_bytes, id->cert_len, id->network_id, now_unix, &id->cert);
	if (rc == CERT_ERR_WRONG_CA)
		return set_error(
		    err, cap, "%s: node certificate was not issued by this network CA (wrong CA)",
		    src);
	if (rc)
		return set_error(err, cap, "%s: node certificate refused: %s", src,
				 cert_strerror(rc));
	crypto_scalarmult_base(id->node_public, id->node_secret);
	if (sodium_memcmp(id->node_public, id->cert.x25519_public, MQTTIP_KEY_LEN))
		return set_error(err, cap, "%s: node key does not match the node certificate", src);
	if (check_client_cert(id, c->bundle[0] ? c->bundle : c->cert, err, cap))
		return -1;
	if (c->psk[0] && load_psk(id, c->psk, err, cap))
		return -1;
	return 0;
}

SSL_CTX *identity_tls_context(const struct identity *id, const char *host, char *err, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_VERIFY_PARAM *param;
	struct netaddr a;

	if (!ctx) {
		set_error(err, cap, "TLS: %s", ssl_error());
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	param = SSL_CTX_get0_param(ctx);
	if (netaddr_parse(host, strlen(host), &a) == 0
		? !X509_VERIFY_PARAM_set1_ip_asc(param, host)
		: !X509_VERIFY_PARAM_set1_host(param, host, 0))
		goto bad;
	if (!X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), id->broker_ca) ||
	    SSL_CTX_use_certificate(ctx, id->client_cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, id->client_key) != 1)
		goto bad;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
bad:
	set_error(err, cap, "TLS setup: %s", ssl_error());
	SSL_CTX_free(ctx);
	return NULL;
}

void identity_free(struct identity *id)
{
	X509_free(id->client_cert);
	EVP_PKEY_free(id->client_key);
	X509_free(id->broker_ca);
	sodium_memzero(id, sizeof(*id));
}
