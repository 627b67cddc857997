/* pki_issue.c - `mqttip pki issue DIR NAME --addr ...`: one node's X.509 client certificate and
 * VPN node certificate with their keys, as separate files and as one bundle. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cert.h"
#include "commands.h"
#include "pki.h"
#include "pki_args.h"
#include "pki_block.h"
#include "pki_ca.h"
#include "pki_brokerdir.h"
#include "pki_files.h"
#include "pki_nodecerts.h"
#include "pki_registry.h"
#include "pki_revocation.h"
#include "pki_x509.h"

#define DEFAULT_NODE_DAYS 365

enum { F_ADDR, F_ROUTE, F_DAYS, F_ADMIN, F_BROKER_DIR };

struct issue {
	const char *dir, *name;
	struct pki_ca ca;
	struct pki_registry reg;
	struct pki_node node;
	struct pki_nodecerts nc;
	struct revocation list; /* DIR's current one, for the bundle */
};

static void list_networks(const struct pki_network *net, char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < net->n_nets && used < cap; i++) {
		char p[NETADDR_STR_MAX + 8];

		pki_prefix_format(&net->nets[i], p, sizeof(p));
		used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", p);
	}
}

/* The addresses of a network that are no host's: its first (network; IPv6 subnet-router
 * anycast) and, for IPv4, its last (broadcast). */
static const char *reserved_host(const struct cert_prefix *net, const struct netaddr *a)
{
	struct cert_prefix host = {.addr = *a, .len = net->len};
	size_t bits = a->family == 4 ? 32 : 128;
	bool all_ones = true;

	if (pki_prefix_is_network(&host))
		return "network";
	for (size_t bit = net->len; bit < bits; bit++) {
		if (!(a->bytes[bit / 8] & (0x80u >> (bit % 8))))
			all_ones = false;
	}
	return a->family == 4 && all_ones ? "broadcast" : NULL;
}

static int check_addresses(struct issue *is, const struct pki_flag *f)
{
	char nets[256];

	list_networks(&is->ca.network, nets, sizeof(nets));
	for (size_t i = 0; i < f->count; i++) {
		const char *v = f->values[i], *slash = strchr(v, '/');
		struct cert_prefix p = {0};
		const struct cert_prefix *net = NULL;
		const char *reserved;
		char text[NETADDR_STR_MAX];

		if (netaddr_parse(v, slash ? (size_t)(slash - v) : strlen(v), &p.addr) < 0 ||
		    (slash && !pki_prefix_parse(v, &p))) {
			fprintf(stderr,
				"mqttip pki issue: --addr %s is not an address; write it like "
				"10.0.1.2/24 or fd00:1:2:3::2/64 (canonical form)\n",
				v);
			return MQTTIP_EXIT_USAGE;
		}
		netaddr_format(&p.addr, text, sizeof(text));
		for (size_t j = 0; j < is->ca.network.n_nets; j++) {
			const struct cert_prefix *n = &is->ca.network.nets[j];

			if (netaddr_in_prefix(&p.addr, &n->addr, n->len))
				net = n;
		}
		if (!net)
			return pki_fail("address %s is outside the VPN networks of %s (%s); pick "
					"one inside them",
					text, is->dir, nets);
		if (slash && p.len != net->len)
			return pki_fail("--addr %s: the prefix length must be /%u, that of its "
					"network; or leave it out",
					v, net->len);
		p.len = net->len;
		reserved = reserved_host(net, &p.addr);
		if (reserved)
			return pki_fail("address %s is the %s address of its network; pick a host "
					"address",
					text, reserved);
		for (size_t j = 0; j < is->node.n_addrs; j++) {
			if (netaddr_equal(&is->node.addrs[j].addr, &p.addr))
				return pki_fail("address %s given twice; give each once", text);
		}
		for (size_t k = 0; k < is->reg.n; k++) {
			const struct pki_node *o = &is->reg.nodes[k];

			for (size_t j = 0; !o->revoked && j < o->n_addrs; j++) {
				if (netaddr_equal(&o->addrs[j].addr, &p.addr))
					return pki_fail("address %s is already held by node %s; "
							"pick another (or revoke %s first)",
							text, o->name, o->name);
			}
		}
		is->node.addrs[is->node.n_addrs++] = p;
	}
	return 0;
}

static int check_routes(struct issue *is, const struct pki_flag *f)
{
	for (size_t i = 0; i < f->count; i++) {
		const char *v = f->values[i];
		struct cert_prefix p;

		if (!pki_prefix_parse(v, &p) || !pki_prefix_is_network(&p)) {
			fprintf(stderr,
				"mqttip pki issue: --route %s is not a network prefix; write it "
				"like 192.168.5.0/24 (host bits zero)\n",
				v);
			return MQTTIP_EXIT_USAGE;
		}
		for (size_t j = 0; j < is->ca.network.n_nets; j++) {
			if (pki_prefix_overlap(&p, &is->ca.network.nets[j]))
				return pki_fail("--route %s overlaps the VPN network; a gateway "
						"routes prefixes outside it, nodes inside get "
						"--addr",
						v);
		}
		for (size_t j = 0; j < is->node.n_routes; j++) {
			if (pki_prefix_overlap(&p, &is->node.routes[j]))
				return pki_fail("--route %s overlaps another --route; give "
						"disjoint prefixes",
						v);
		}
		for (size_t k = 0; k < is->reg.n; k++) {
			const struct pki_node *o = &is->reg.nodes[k];

			for (size_t j = 0; !o->revoked && j < o->n_routes; j++) {
				if (pki_prefix_overlap(&p, &o->routes[j]))
					return pki_fail("--route %s overlaps a route of node %s; "
							"one gateway per prefix",
							v, o->name);
			}
		}
		is->node.routes[is->node.n_routes++] = p;
	}
	return 0;
}

static int update_policy(struct issue *is, bool admin)
{
	struct pki_text t;
	char p[NETADDR_STR_MAX + 8];

	memset(&t, 0, sizeof(t));
	if (admin)
		pki_text_printf(&t, "admin %s\n", is->name);
	for (size_t i = 0; i < is->node.n_routes; i++) {
		pki_prefix_format(&is->node.routes[i], p, sizeof(p));
		pki_text_printf(&t, "route %s %s\n", is->name, p);
	}
	return t.len ? pki_policy_append(is->dir, t.buf) : 0;
}

static int issue_run(struct issue *is, struct pki_flag *flags)
{
	const char *broker_dir = flags[F_BROKER_DIR].count ? flags[F_BROKER_DIR].values[0] : NULL;
	const char *changed[] = {"policy"};
	time_t now = time(NULL), not_after;
	long days = DEFAULT_NODE_DAYS;
	const struct pki_node *dup;
	uint64_t serial;
	int rc, have_list;

	if (!pki_name_valid(is->name)) {
		fprintf(stderr,
			"mqttip pki issue: node name '%s' is not valid; use 1 to %d letters, "
			"digits, '.', '_' or '-', not starting with '.' or '-'\n",
			is->name, MQTTIP_CERT_NAME_MAX);
		return MQTTIP_EXIT_USAGE;
	}
	if (flags[F_ADDR].count == 0) {
		fprintf(stderr, "mqttip pki issue: give the node's address with --addr, e.g. "
				"--addr 10.0.1.2/24\n");
		return MQTTIP_EXIT_USAGE;
	}
	if (flags[F_DAYS].count && pki_args_days(flags[F_DAYS].values[0], &days) < 0) {
		fprintf(stderr, "mqttip pki issue: --days %s: give a whole number from 1 to %d\n",
			flags[F_DAYS].values[0], PKI_MAX_DAYS);
		return MQTTIP_EXIT_USAGE;
	}
	rc = pki_broker_dir_check(broker_dir);
	if (!rc)
		rc = pki_ca_load(is->dir, &is->ca, true);
	if (!rc)
		rc = pki_lock(is->dir);
	if (rc)
		return rc;
	rc = pki_registry_read(is->dir, &is->reg);
	if (!rc)
		rc = pki_registry_next_serial(&is->reg, &serial);
	if (rc)
		return rc;
	have_list = pki_revocation_load(is->dir, is->ca.network_public, &is->list);
	if (have_list < 0)
		return MQTTIP_EXIT_FAILED;
	dup = pki_registry_find(&is->reg, is->name);
	if (dup)
		return pki_fail("node %s already exists in %s/%s (%s); choose another name",
				is->name, is->dir, PKI_F_NODES, dup->revoked ? "revoked" : "valid");
	snprintf(is->node.name, sizeof(is->node.name), "%s", is->name);
	rc = check_addresses(is, &flags[F_ADDR]);
	if (!rc)
		rc = check_routes(is, &flags[F_ROUTE]);
	if (rc)
		return rc;
	not_after = now + (time_t)days * 86400;
	if (not_after > is->ca.expires)
		return pki_fail("--days %ld outlives the CAs of %s; give at most --days %lld", days,
				is->dir, (long long)((is->ca.expires - now) / 86400));
	is->nc.dir = is->dir;
	is->nc.node = &is->node;
	rc = pki_nodecerts_make(&is->nc, &is->ca, now, not_after, serial, true);
	if (!rc)
		rc = pki_nodecerts_write(&is->nc, &is->ca, is->list.bytes, is->list.len);
	if (!rc)
		rc = pki_registry_add(&is->reg, &is->node);
	if (!rc)
		rc = pki_registry_write(is->dir, &is->reg);
	if (!rc)
		rc = update_policy(is, flags[F_ADMIN].count > 0);
	if (rc)
		return rc;
	printf("node %s issued: %s/%s/%s/ (bundle: %s.bundle), VPN serial %" PRIu64 "\n", is->name,
	       is->dir, PKI_D_NODES, is->name, is->name, serial);
	/* the policy changes only for an admin or a gateway */
	return pki_broker_apply(is->dir, broker_dir, changed,
				flags[F_ADMIN].count || is->node.n_routes ? 1 : 0);
}

int pki_issue(int argc, char **argv)
{
	struct pki_flag flags[] = {
	    [F_ADDR] = {.name = "--addr",
			.value = "ADDR[/LEN]",
			.max = MQTTIP_CERT_MAX_ADDRS,
			.help = "overlay address, ADDR or ADDR/LEN, inside a network of DIR"},
	    [F_ROUTE] = {.name = "--route",
			 .value = "PREFIX",
			 .max = MQTTIP_CERT_MAX_ROUTES,
			 .help = "prefix this node routes for others (gateway)"},
	    [F_DAYS] = {.name = "--days",
			.value = "N",
			.max = 1,
			.help = "validity in days (default 365)"},
	    [F_ADMIN] = {.name = "--admin",
			 .max = 1,
			 .help = "may read the broker's mqttip metrics"},
	    [F_BROKER_DIR] = PKI_BROKER_DIR_FLAG,
	};
	struct pki_command_line cl = {
	    .command = "mqttip pki issue",
	    .positional_names = "DIR NAME",
	    .n_positional = 2,
	    .description = "Issues node NAME's certificates and keys into DIR/nodes/NAME/.",
	    .flags = flags,
	    .n_flags = sizeof(flags) / sizeof(flags[0]),
	};
	static struct issue is;
	int rc = pki_args_exit_status(pki_args_parse(&cl, argc, argv));

	if (rc >= 0)
		return rc;
	memset(&is, 0, sizeof(is));
	is.dir = cl.positional[0];
	is.name = cl.positional[1];
	rc = issue_run(&is, flags);
	pki_nodecerts_free(&is.nc);
	pki_registry_free(&is.reg);
	pki_ca_free(&is.ca);
	sodium_memzero(&is, sizeof(is));
	return rc;
}
