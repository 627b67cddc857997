/* pki_nodecerts.c - a node's certificates and files (see pki_nodecerts.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "pki_block.h"
#include "pki_files.h"
#include "pki_nodecerts.h"
#include "revocation.h"

int pki_nodecerts_make(struct pki_nodecerts *nc, const struct pki_ca *ca, time_t now,
		       time_t not_after, uint64_t serial, bool new_keys)
{
	struct pki_node *node = nc->node;
	struct netaddr ips[MQTTIP_CERT_MAX_ADDRS];
	struct pki_x509_subject subject = {.cn = node->name, .ips = ips, .n_ips = node->n_addrs};
	struct cert check;
	int err;

	if (new_keys) {
		EVP_PKEY_free(nc->client_key);
		nc->client_key = pki_x509_keygen();
		nc->have_client_secret = nc->client_key != NULL;
		crypto_box_keypair(nc->x25519_public, nc->x25519_secret);
		nc->have_x25519_secret = true;
	}
	for (size_t i = 0; i < node->n_addrs; i++)
		ips[i] = node->addrs[i].addr;
	nc->client_cert = nc->client_key ? pki_x509_make_leaf(&subject, nc->client_key,
							      ca->broker_ca, ca->broker_key,
							      now - PKI_BACKDATE_SECONDS, not_after)
					 : NULL;
	if (!nc->client_cert || !pki_x509_serial_hex(nc->client_cert, node->x509_serial))
		return pki_fail("cannot create the client certificate: %s", pki_x509_error());

	memset(&nc->cert, 0, sizeof(nc->cert));
	snprintf(nc->cert.name, sizeof(nc->cert.name), "%s", node->name);
	nc->cert.n_addrs = node->n_addrs;
	memcpy(nc->cert.addrs, node->addrs, sizeof(node->addrs));
	nc->cert.n_routes = node->n_routes;
	memcpy(nc->cert.routes, node->routes, sizeof(node->routes));
	memcpy(nc->cert.x25519_public, nc->x25519_public, MQTTIP_KEY_LEN);
	nc->cert.not_before = (uint64_t)(now - PKI_BACKDATE_SECONDS);
	nc->cert.not_after = (uint64_t)not_after;
	nc->cert.serial = serial;
	nc->cert_len =
	    cert_encode_sign(&nc->cert, ca->network_secret, nc->cert_bytes, sizeof(nc->cert_bytes));
	if (nc->cert_len < 0)
		return pki_fail("cannot create the VPN node certificate: %s",
				cert_strerror(nc->cert_len));
	/* What we hand out must pass the check every peer will make. */
	err = cert_verify(nc->cert_bytes, (size_t)nc->cert_len, ca->network_public, (uint64_t)now,
			  &check);
	if (err != CERT_OK)
		return pki_fail("the new VPN node certificate does not verify (%s); report this "
				"bug",
				cert_strerror(err));
	node->vpn_serial = serial;
	node->not_after = not_after;
	node->has_key = true;
	memcpy(node->x25519_public, nc->x25519_public, MQTTIP_KEY_LEN);
	return 0;
}

static void node_comment(struct pki_text *t, const struct pki_node *node, const char *what)
{
	char p[NETADDR_STR_MAX + 8];

	pki_text_printf(t, "# mqttip %s of node %s\n# addresses", what, node->name);
	for (size_t i = 0; i < node->n_addrs; i++) {
		pki_prefix_format(&node->addrs[i], p, sizeof(p));
		pki_text_printf(t, " %s", p);
	}
	for (size_t i = 0; i < node->n_routes; i++) {
		pki_prefix_format(&node->routes[i], p, sizeof(p));
		pki_text_printf(t, "%s%s", i ? " " : "\n# routes ", p);
	}
	pki_text_printf(t, "\n");
}

static void revocation_comment(struct pki_text *t, const uint8_t *list, size_t len)
{
	static struct revocation r;

	if (revocation_decode(list, len, &r) == REVOCATION_OK)
		pki_text_printf(t,
				"# mqttip VPN revocation list version %llu (%u keys, %u serials)\n",
				(unsigned long long)r.version, r.n_keys, r.n_serials);
}

static int write_bundle(struct pki_nodecerts *nc, const struct pki_ca *ca, const char *path,
			const uint8_t *revocation, size_t revocation_len)
{
	unsigned char *ca_der = NULL, *crt_der = NULL, *key_der = NULL;
	int ca_len = pki_x509_cert_der(ca->broker_ca, &ca_der);
	int crt_len = pki_x509_cert_der(nc->client_cert, &crt_der);
	int key_len = pki_x509_key_der(nc->client_key, &key_der);
	static struct pki_text t;
	int rc;

	if (ca_len <= 0 || crt_len <= 0 || key_len <= 0) {
		rc = pki_fail("cannot encode the certificates: %s", pki_x509_error());
		goto out;
	}
	memset(&t, 0, sizeof(t));
	node_comment(&t, nc->node, "bundle 1 (secret: holds private keys)");
	pki_text_block(&t, BUNDLE_LABEL_BROKER_CA, ca_der, (size_t)ca_len);
	pki_text_block(&t, BUNDLE_LABEL_CLIENT_CERT, crt_der, (size_t)crt_len);
	pki_text_block(&t, BUNDLE_LABEL_CLIENT_KEY, key_der, (size_t)key_len);
	pki_text_block(&t, BUNDLE_LABEL_NETWORK_CA, ca->network_public, sizeof(ca->network_public));
	pki_text_block(&t, BUNDLE_LABEL_NODE_CERT, nc->cert_bytes, (size_t)nc->cert_len);
	pki_text_block(&t, BUNDLE_LABEL_NODE_KEY, nc->x25519_secret, sizeof(nc->x25519_secret));
	if (revocation_len) {
		revocation_comment(&t, revocation, revocation_len);
		pki_text_block(&t, BUNDLE_LABEL_REVOCATION, revocation, revocation_len);
	}
	rc = pki_write_text(path, &t, PKI_MODE_SECRET);
	nc->wrote_bundle = rc == 0;
out:
	sodium_memzero(&t, sizeof(t));
	OPENSSL_free(ca_der);
	OPENSSL_free(crt_der);
	if (key_der)
		OPENSSL_clear_free(key_der, (size_t)key_len);
	return rc;
}

int pki_nodecerts_write(struct pki_nodecerts *nc, const struct pki_ca *ca,
			const uint8_t *revocation, size_t revocation_len)
{
	const char *name = nc->node->name;
	char nodedir[PKI_PATH_MAX], path[PKI_PATH_MAX];
	static struct pki_text t;
	int rc = MQTTIP_EXIT_FAILED;

	if (!pki_path(nodedir, "%s/%s/%s", nc->dir, PKI_D_NODES, name) || pki_mkdir(nodedir) < 0)
		return pki_fail("cannot create %s/%s/%s: %s; check that %s is writable", nc->dir,
				PKI_D_NODES, name, strerror(errno), nc->dir);
#define NODE_PATH(file)                                                                            \
	if (!pki_path(path, "%s/%s", nodedir, file)) {                                             \
		pki_fail("%s: path too long", nodedir);                                            \
		goto out;                                                                          \
	}
	NODE_PATH("ca.crt");
	if (pki_x509_write_cert(path, ca->broker_ca) < 0)
		goto write_failed;
	NODE_PATH("client.crt");
	if (pki_x509_write_cert(path, nc->client_cert) < 0)
		goto write_failed;
	if (nc->have_client_secret && !nc->skip_client_key_file) {
		NODE_PATH("client.key");
		if (pki_x509_write_key(path, nc->client_key) < 0)
			goto write_failed;
	}

	memset(&t, 0, sizeof(t));
	node_comment(&t, nc->node, "VPN node certificate");
	pki_text_block(&t, BUNDLE_LABEL_NODE_CERT, nc->cert_bytes, (size_t)nc->cert_len);
	NODE_PATH("node.cert");
	if (pki_write_text(path, &t, PKI_MODE_PUBLIC))
		goto out;
	if (nc->have_x25519_secret && !nc->skip_node_key_file) {
		memset(&t, 0, sizeof(t));
		pki_text_printf(&t, "# mqttip VPN node key (X25519) of node %s: secret\n", name);
		pki_text_block(&t, BUNDLE_LABEL_NODE_KEY, nc->x25519_secret,
			       sizeof(nc->x25519_secret));
		NODE_PATH("node.key");
		if (pki_write_text(path, &t, PKI_MODE_SECRET))
			goto out;
	}
	memset(&t, 0, sizeof(t));
	pki_text_printf(&t, "# mqttip VPN network CA public key (Ed25519): the network id\n");
	pki_text_block(&t, BUNDLE_LABEL_NETWORK_CA, ca->network_public, sizeof(ca->network_public));
	NODE_PATH("network-ca.pub");
	if (pki_write_text(path, &t, PKI_MODE_PUBLIC))
		goto out;
	if (revocation_len) {
		memset(&t, 0, sizeof(t));
		revocation_comment(&t, revocation, revocation_len);
		pki_text_block(&t, BUNDLE_LABEL_REVOCATION, revocation, revocation_len);
		NODE_PATH("revocation.list");
		if (pki_write_text(path, &t, PKI_MODE_PUBLIC))
			goto out;
	}
	rc = 0;
	if (nc->have_client_secret && nc->have_x25519_secret) {
		if (!pki_path(path, "%s/%s.bundle", nodedir, name)) {
			rc = pki_fail("%s: path too long", nodedir);
			goto out;
		}
		rc = write_bundle(nc, ca, path, revocation, revocation_len);
	}
	goto out;
#undef NODE_PATH
write_failed:
	pki_fail("cannot write %s: %s", path, pki_x509_error());
out:
	sodium_memzero(&t, sizeof(t));
	return rc;
}

void pki_nodecerts_free(struct pki_nodecerts *nc)
{
	X509_free(nc->client_cert);
	EVP_PKEY_free(nc->client_key);
	sodium_memzero(nc, sizeof(*nc));
}

int pki_bundle_set_revocation(const char *path, const uint8_t *list, size_t len)
{
	static const char begin[] = "-----BEGIN " BUNDLE_LABEL_REVOCATION "-----";
	static const char end[] = "-----END " BUNDLE_LABEL_REVOCATION "-----";
	static struct pki_text t;
	unsigned char *old;
	size_t old_len, keep;
	const char *b, *e = NULL;
	struct stat st;
	int rc;

	if (pki_read_file(path, &old, &old_len) < 0 || stat(path, &st) < 0)
		return pki_fail("cannot read %s: %s", path, strerror(errno));
	/* the block and the comment line written just before it go; the rest stays as it is */
	b = strstr((const char *)old, begin);
	if (b && !(e = strstr(b, end))) {
		pki_free_wiped(old, old_len);
		return pki_fail("%s: its revocation list block has no END line; issue or renew the "
				"node again to rewrite it",
				path);
	}
	keep = b ? (size_t)(b - (const char *)old) : old_len;
	if (b && keep > 0) {
		const char *line = (const char *)old + keep - 1;

		while (line > (const char *)old && line[-1] != '\n')
			line--;
		if (!strncmp(line, "# mqttip VPN revocation list", 28))
			keep = (size_t)(line - (const char *)old);
	}
	memset(&t, 0, sizeof(t));
	pki_text_printf(&t, "%.*s", (int)keep, (const char *)old);
	if (keep && t.buf[t.len - 1] != '\n')
		pki_text_printf(&t, "\n");
	revocation_comment(&t, list, len);
	pki_text_block(&t, BUNDLE_LABEL_REVOCATION, list, len);
	if (e) {
		const char *rest = e + strlen(end);

		if (*rest == '\r')
			rest++;
		if (*rest == '\n')
			rest++;
		pki_text_printf(&t, "%s", rest);
	}
	rc = pki_write_text(path, &t, (unsigned)(st.st_mode & 07777));
	sodium_memzero(&t, sizeof(t));
	pki_free_wiped(old, old_len);
	return rc;
}
