/* pki_revoke.c - `mqttip pki revoke DIR NAME`: the node's X.509 certificate goes on the CRL
 * (mosquitto's crlfile, refused at the TLS handshake), its name on the plugin's deny list (refused
 * at connect, dropped on reload), and its X25519 key on the VPN revocation list signed by the
 * network CA (refused by every node that holds the list, whatever the broker does). */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "pki.h"
#include "pki_args.h"
#include "pki_brokerdir.h"
#include "pki_ca.h"
#include "pki_files.h"
#include "pki_nodecerts.h"
#include "pki_registry.h"
#include "pki_revocation.h"
#include "pki_x509.h"

enum { F_BROKER_DIR };

struct revoke {
	const char *dir, *name, *broker_dir;
	struct pki_ca ca;
	struct pki_registry reg;
	struct pki_revocations rev;
};

/* The nodes' own copies of the list (bundle, revocation.list) get the new one, so a node
 * provisioned from them later starts with it. Returns how many bundles were updated. */
static int refresh_node_copies(struct revoke *rv, size_t *n_bundles)
{
	static struct pki_text t;
	char path[PKI_PATH_MAX];
	int rc = 0;

	*n_bundles = 0;
	for (size_t i = 0; i < rv->reg.n && rc == 0; i++) {
		const char *name = rv->reg.nodes[i].name;

		if (rv->reg.nodes[i].revoked)
			continue;
		if (!pki_path(path, "%s/%s/%s/%s.bundle", rv->dir, PKI_D_NODES, name, name))
			return pki_fail("%s: path too long", rv->dir);
		if (pki_exists(path)) {
			rc = pki_bundle_set_revocation(path, rv->rev.list, rv->rev.list_len);
			*n_bundles += rc == 0;
		}
		if (!pki_path(path, "%s/%s/%s/revocation.list", rv->dir, PKI_D_NODES, name))
			return pki_fail("%s: path too long", rv->dir);
		if (rc == 0 && pki_exists(path)) {
			memset(&t, 0, sizeof(t));
			pki_text_printf(&t, "# mqttip VPN revocation list version %" PRIu64 "\n",
					rv->rev.version);
			pki_text_block(&t, BUNDLE_LABEL_REVOCATION, rv->rev.list, rv->rev.list_len);
			rc = pki_write_text(path, &t, PKI_MODE_PUBLIC);
		}
	}
	return rc;
}

static int revoke_run(struct revoke *rv)
{
	const char *changed[] = {"crl.pem", "policy"};
	char line[MQTTIP_CERT_NAME_MAX + 8];
	struct pki_node *node;
	time_t now = time(NULL);
	size_t n_bundles;
	int rc;

	rc = pki_broker_dir_check(rv->broker_dir);
	if (!rc)
		rc = pki_ca_load(rv->dir, &rv->ca, true);
	if (!rc)
		rc = pki_lock(rv->dir);
	if (!rc)
		rc = pki_registry_read(rv->dir, &rv->reg);
	if (!rc)
		rc = pki_revocations_read(rv->dir, rv->ca.network_public, &rv->rev);
	if (rc)
		return rc;
	node = pki_registry_find(&rv->reg, rv->name);
	if (!node)
		return pki_fail("no node %s in %s/%s; check the name (nodes are listed there)",
				rv->name, rv->dir, PKI_F_NODES);
	if (node->revoked)
		return pki_fail("node %s is already revoked; nothing to do", rv->name);
	node->revoked = true;
	node->revoked_at = now;
	/* Signed first: a list that would not fit stops the command before anything changed.
	 * nodes.txt is written last, so a failure in between leaves the node valid and the
	 * command can simply be run again. */
	rc = pki_revocations_sign(&rv->rev, rv->dir, &rv->reg, rv->ca.network_secret, now);
	if (!rc)
		rc = pki_revocations_write(rv->dir, &rv->rev);
	if (!rc)
		rc = pki_revocations_write_crl(rv->dir, &rv->ca, &rv->reg, &rv->rev, now);
	snprintf(line, sizeof(line), "deny %s\n", rv->name);
	if (!rc)
		rc = pki_policy_append(rv->dir, line);
	if (!rc)
		rc = pki_registry_write(rv->dir, &rv->reg);
	if (!rc)
		rc = refresh_node_copies(rv, &n_bundles);
	if (rc)
		return rc;
	printf("node %s revoked: %s/%s, %s/%s and %s/%s (VPN revocation list version %" PRIu64
	       ", %zu keys, %zu serials) updated; %zu bundles carry the new list\n",
	       rv->name, rv->dir, PKI_F_CRL, rv->dir, PKI_F_POLICY, rv->dir, PKI_F_REVOCATION,
	       rv->rev.version, rv->rev.n_keys, rv->rev.n_serials, n_bundles);
	return pki_broker_apply(rv->dir, rv->broker_dir, changed, 2);
}

int pki_revoke(int argc, char **argv)
{
	struct pki_flag flags[] = {
	    [F_BROKER_DIR] = PKI_BROKER_DIR_FLAG,
	};
	struct pki_command_line cl = {
	    .command = "mqttip pki revoke",
	    .positional_names = "DIR NAME",
	    .n_positional = 2,
	    .description = "Revokes node NAME: its client certificate goes on DIR/broker/crl.pem, "
			   "'deny NAME' into DIR/broker/policy, its VPN key on the revocation list "
			   "DIR/revocation.bin.",
	    .flags = flags,
	    .n_flags = sizeof(flags) / sizeof(flags[0]),
	};
	static struct revoke rv;
	int rc = pki_args_exit_status(pki_args_parse(&cl, argc, argv));

	if (rc >= 0)
		return rc;
	if (!pki_name_valid(cl.positional[1])) {
		fprintf(stderr,
			"mqttip pki revoke: '%s' is not a node name; node names are listed "
			"in DIR/%s\n",
			cl.positional[1], PKI_F_NODES);
		return MQTTIP_EXIT_USAGE;
	}
	memset(&rv, 0, sizeof(rv));
	rv.dir = cl.positional[0];
	rv.name = cl.positional[1];
	rv.broker_dir = flags[F_BROKER_DIR].count ? flags[F_BROKER_DIR].values[0] : NULL;
	rc = revoke_run(&rv);
	pki_revocations_free(&rv.rev);
	pki_registry_free(&rv.reg);
	pki_ca_free(&rv.ca);
	return rc;
}
