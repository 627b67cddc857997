/* pki_revoke.c - `mqttip pki revoke DIR NAME`: the node's X.509 certificate goes on the CRL
 * (mosquitto's crlfile, refused at the TLS handshake) and its name on the plugin's deny list
 * (refused at connect, dropped on reload). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "pki.h"
#include "pki_args.h"
#include "pki_ca.h"
#include "pki_files.h"
#include "pki_registry.h"
#include "pki_x509.h"

static int revoke_run(const char *dir, const char *name, struct pki_ca *ca,
		      struct pki_registry *reg)
{
	struct pki_revoked *list;
	struct pki_node *node;
	char path[PKI_PATH_MAX], line[MQTTIP_CERT_NAME_MAX + 8];
	size_t n = 0;
	int rc;

	rc = pki_ca_load(dir, ca, true);
	if (!rc)
		rc = pki_lock(dir);
	if (!rc)
		rc = pki_registry_read(dir, reg);
	if (rc)
		return rc;
	node = pki_registry_find(reg, name);
	if (!node)
		return pki_fail("no node %s in %s/%s; check the name (nodes are listed there)",
				name, dir, PKI_F_NODES);
	if (node->revoked)
		return pki_fail("node %s is already revoked; nothing to do", name);
	node->revoked = true;
	node->revoked_at = time(NULL);
	list = calloc(reg->n, sizeof(*list));
	if (!list)
		return pki_fail("out of memory");
	for (size_t i = 0; i < reg->n; i++) {
		if (!reg->nodes[i].revoked)
			continue;
		snprintf(list[n].serial_hex, sizeof(list[n].serial_hex), "%s",
			 reg->nodes[i].x509_serial);
		list[n++].when = reg->nodes[i].revoked_at;
	}
	if (!pki_path(path, "%s/%s", dir, PKI_F_CRL) ||
	    pki_x509_write_crl(path, ca->broker_ca, ca->broker_key, list, n) < 0)
		rc = pki_fail("cannot write the CRL %s/%s: %s", dir, PKI_F_CRL, pki_x509_error());
	free(list);
	if (!rc)
		rc = pki_registry_write(dir, reg);
	snprintf(line, sizeof(line), "deny %s\n", name);
	if (!rc)
		rc = pki_policy_append(dir, line);
	if (rc)
		return rc;
	printf("node %s revoked: %s/%s and %s/%s updated; send SIGHUP to mosquitto to apply\n",
	       name, dir, PKI_F_CRL, dir, PKI_F_POLICY);
	return 0;
}

int pki_revoke(int argc, char **argv)
{
	struct pki_command_line cl = {
	    .command = "mqttip pki revoke",
	    .positional_names = "DIR NAME",
	    .n_positional = 2,
	    .description = "Revokes node NAME: its client certificate goes on DIR/broker/crl.pem, "
			   "'deny NAME' into DIR/broker/policy.",
	};
	struct pki_registry reg = {0};
	struct pki_ca ca;
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
	memset(&ca, 0, sizeof(ca));
	rc = revoke_run(cl.positional[0], cl.positional[1], &ca, &reg);
	pki_registry_free(&reg);
	pki_ca_free(&ca);
	return rc;
}
