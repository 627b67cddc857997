/* pki_rabbitmq.c - `mqttip pki rabbitmq DIR`: a shell script of rabbitmqctl commands that gives
 * every valid node of the PKI a RabbitMQ user (no password: it logs in by its certificate's CN,
 * ssl_cert_login_from = common_name) with the plugin's topic rules as permissions
 * (rabbitmq_acl.h), and deletes the users of revoked nodes. Users and permissions are cluster-wide,
 * so the script runs once, on any node; it is idempotent (run it again after issue or revoke).
 * docs/SCALING.md has the recipe. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "pki.h"
#include "pki_args.h"
#include "pki_files.h"
#include "pki_registry.h"
#include "proto.h"
#include "rabbitmq_acl.h"

static const char script_head[] =
    "#!/bin/sh\n"
    "# RabbitMQ users and permissions for the mqttip nodes of %s, written by\n"
    "# `mqttip pki rabbitmq` (docs/SCALING.md). Run it on any node of the cluster (users and\n"
    "# permissions are cluster-wide) after every `mqttip pki issue` or `revoke`. Each node logs "
    "in\n"
    "# by its client certificate's CN (ssl_cert_login_from = common_name) as a user without a\n"
    "# password and may only do what the mqttip plugin would let it do on mosquitto.\n"
    "#   RABBITMQCTL   the rabbitmqctl command to use (default: rabbitmqctl)\n"
    "set -eu\n"
    "ctl=${RABBITMQCTL:-rabbitmqctl}\n"
    "vhost='%s'\n"
    "\n"
    "# The default account would take any client certificate whose CN is 'guest'.\n"
    "$ctl delete_user guest >/dev/null 2>&1 || true\n"
    "\n"
    "# node NAME CONFIGURE WRITE READ TOPIC_WRITE TOPIC_READ\n"
    "node() {\n"
    "\tif ! $ctl -s list_users | cut -f1 | grep -qxF \"$1\"; then\n"
    "\t\t$ctl add_user \"$1\" \"$(od -An -N24 -tx1 /dev/urandom | tr -d ' \\n')\" >/dev/null\n"
    "\tfi\n"
    "\t$ctl clear_password \"$1\" >/dev/null\n"
    "\t$ctl set_permissions -p \"$vhost\" \"$1\" \"$2\" \"$3\" \"$4\" >/dev/null\n"
    "\t$ctl set_topic_permissions -p \"$vhost\" \"$1\" amq.topic \"$5\" \"$6\" >/dev/null\n"
    "}\n"
    "# revoked NAME: a revoked node has no user (its open connections are closed)\n"
    "revoked() {\n"
    "\tif $ctl -s list_users | cut -f1 | grep -qxF \"$1\"; then\n"
    "\t\t$ctl delete_user \"$1\" >/dev/null\n"
    "\tfi\n"
    "}\n"
    "\n";

/* The node's line of the script into out; with out NULL only checks that it can be written. */
static int write_node(FILE *out, const char *prefix, const struct pki_node *n)
{
	struct rabbitmq_node rn = {n->name, n->addrs, n->n_addrs, n->routes, n->n_routes};
	struct rabbitmq_perms *p = malloc(sizeof(*p));
	char err[256];
	int rc = 0;

	if (p == NULL)
		return pki_fail("out of memory");
	if (rabbitmq_permissions(prefix, &rn, p, err, sizeof(err)) != 0) {
		rc = pki_fail("%s", err);
	} else if (out != NULL) {
		fprintf(out, "node %s \\\n\t'%s' \\\n\t'%s' \\\n\t'%s' \\\n\t'%s' \\\n\t'%s'\n",
			n->name, p->configure, p->write, p->read, p->topic_write, p->topic_read);
	}
	free(p);
	return rc;
}

static int rabbitmq_run(const char *dir, const char *prefix, const char *vhost, const char *path,
			struct pki_registry *reg)
{
	FILE *out = stdout;
	char tmp[PKI_PATH_MAX];
	size_t valid = 0, revoked = 0;
	int rc = pki_registry_read(dir, reg);

	if (rc)
		return rc;
	if (strchr(vhost, '\'') != NULL || vhost[0] == '\0')
		return pki_fail("vhost '%s': must be non-empty and without a single quote", vhost);
	/* Every node first, so that a refusal leaves no half script behind (stdout included). */
	for (size_t i = 0; i < reg->n && !rc; i++) {
		if (!reg->nodes[i].revoked)
			rc = write_node(NULL, prefix, &reg->nodes[i]);
	}
	if (rc)
		return rc;
	if (path != NULL) {
		if (!pki_path(tmp, "%s.tmp", path))
			return pki_fail("output path %s too long", path);
		out = fopen(tmp, "w");
		if (out == NULL)
			return pki_fail("cannot write %s: %s", tmp, strerror(errno));
	}
	fprintf(out, script_head, dir, vhost);
	for (size_t i = 0; i < reg->n && !rc; i++) {
		if (reg->nodes[i].revoked) {
			fprintf(out, "revoked %s\n", reg->nodes[i].name);
			revoked++;
		} else {
			rc = write_node(out, prefix, &reg->nodes[i]);
			valid++;
		}
	}
	if (path == NULL)
		return rc;
	if (fclose(out) != 0 && !rc)
		rc = pki_fail("cannot write %s: %s", tmp, strerror(errno));
	if (!rc && (chmod(tmp, 0755) != 0 || rename(tmp, path) != 0))
		rc = pki_fail("cannot write %s: %s", path, strerror(errno));
	if (rc) {
		remove(tmp);
		return rc;
	}
	fprintf(stderr,
		"%s: %zu node(s), %zu revoked; run it where rabbitmqctl reaches the cluster\n",
		path, valid, revoked);
	return 0;
}

int pki_rabbitmq(int argc, char **argv)
{
	struct pki_flag flags[] = {
	    {"--prefix",
	     "PREFIX",
	     1,
	     "topic prefix of the network (default " MQTTIP_TOPIC_PREFIX ")",
	     {0},
	     0},
	    {"--vhost", "VHOST", 1, "RabbitMQ virtual host of mqtt.vhost (default /)", {0}, 0},
	    {"--out", "FILE", 1, "write the script to FILE (mode 0755) instead of stdout", {0}, 0},
	};
	struct pki_command_line cl = {
	    .command = "mqttip pki rabbitmq",
	    .positional_names = "DIR",
	    .n_positional = 1,
	    .description = "Writes a shell script of rabbitmqctl commands: a user per valid node "
			   "of DIR (certificate login, no password) whose permissions are the "
			   "plugin's topic rules, and the removal of revoked nodes' users "
			   "(docs/SCALING.md).",
	    .flags = flags,
	    .n_flags = sizeof(flags) / sizeof(flags[0]),
	};
	struct pki_registry reg = {0};
	int rc = pki_args_exit_status(pki_args_parse(&cl, argc, argv));

	if (rc >= 0)
		return rc;
	rc = rabbitmq_run(cl.positional[0],
			  flags[0].count ? flags[0].values[0] : MQTTIP_TOPIC_PREFIX,
			  flags[1].count ? flags[1].values[0] : "/",
			  flags[2].count ? flags[2].values[0] : NULL, &reg);
	pki_registry_free(&reg);
	return rc;
}
