/* pki_init.c - `mqttip pki init DIR`: both CAs, the broker's server certificate, an empty CRL and
 * policy, the VPN networks. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "commands.h"
#include "pki.h"
#include "pki_args.h"
#include "pki_block.h"
#include "pki_ca.h"
#include "pki_files.h"
#include "pki_registry.h"
#include "pki_revocation.h"
#include "pki_x509.h"

#define DEFAULT_NET4	"10.0.1.0/24"
#define DEFAULT_CA_DAYS 3650

enum { F_NET, F_SERVER_NAME, F_SERVER_IP, F_DAYS };

static bool dns_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || (c == '*' && i == 0)))
			return false;
	}
	return true;
}

static int add_networks(const struct pki_flag *f, struct pki_network *net)
{
	bool have4 = false, have6 = false;

	for (size_t i = 0; i < f->count; i++) {
		struct cert_prefix *p = &net->nets[net->n_nets];
		bool v4;

		if (!pki_prefix_parse(f->values[i], p) || !pki_prefix_is_network(p)) {
			fprintf(stderr,
				"mqttip pki init: --net %s is not a network prefix; write it like "
				"10.0.1.0/24 or fd00:1:2:3::/64 (host bits zero)\n",
				f->values[i]);
			return MQTTIP_EXIT_USAGE;
		}
		v4 = p->addr.family == 4;
		if (netaddr_is_multicast(&p->addr)) {
			fprintf(stderr,
				"mqttip pki init: --net %s is multicast; give a unicast network\n",
				f->values[i]);
			return MQTTIP_EXIT_USAGE;
		}
		if (p->len < 8 || p->len > (v4 ? 30 : 126)) {
			fprintf(stderr,
				"mqttip pki init: --net %s: prefix length must be 8..%d so that it "
				"holds nodes\n",
				f->values[i], v4 ? 30 : 126);
			return MQTTIP_EXIT_USAGE;
		}
		for (size_t j = 0; j < net->n_nets; j++) {
			if (pki_prefix_overlap(p, &net->nets[j])) {
				fprintf(stderr,
					"mqttip pki init: --net %s overlaps another --net; "
					"give disjoint networks\n",
					f->values[i]);
				return MQTTIP_EXIT_USAGE;
			}
		}
		have4 |= v4;
		have6 |= !v4;
		net->n_nets++;
	}
	/* Defaults per family, so a user who names only an IPv4 network still gets IPv6. */
	if (!have4) {
		pki_prefix_parse(DEFAULT_NET4, &net->nets[net->n_nets]);
		net->n_nets++;
	}
	if (!have6) {
		struct cert_prefix *ula = &net->nets[net->n_nets++];

		/* RFC 4193 unique local /64: fd00::/8, then random global and subnet IDs. */
		memset(ula, 0, sizeof(*ula));
		ula->addr.family = 6;
		ula->addr.bytes[0] = 0xfd;
		randombytes_buf(ula->addr.bytes + 1, 7);
		ula->len = 64;
	}
	return 0;
}

static bool pki_present(const char *dir, char *found)
{
	static const char *const files[] = {PKI_F_BROKER_CA_KEY, PKI_F_NETWORK_CA_KEY, PKI_F_NODES,
					    PKI_F_BROKER_CA, PKI_F_NETWORK};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (pki_path(found, "%s/%s", dir, files[i]) && pki_exists(found))
			return true;
	}
	return false;
}

/* Version 1, empty: every node starts with a list, so the first revocation is version 2 and a
 * node provisioned before it can tell the difference. */
static int write_first_revocation_list(const char *dir, const uint8_t sk[64])
{
	static struct pki_revocations rev;
	struct pki_registry none = {0};
	int rc;

	memset(&rev, 0, sizeof(rev));
	rc = pki_revocations_sign(&rev, dir, &none, sk, time(NULL));
	if (!rc)
		rc = pki_revocations_write(dir, &rev);
	pki_revocations_free(&rev);
	return rc;
}

static int write_network_ca(const char *dir, struct pki_network *net)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	struct pki_text t;
	char path[PKI_PATH_MAX];
	int rc;

	crypto_sign_keypair(pk, sk);
	memset(&t, 0, sizeof(t));
	pki_text_printf(&t, "# mqttip VPN network CA secret key (Ed25519): keep it offline\n");
	pki_text_block(&t, BUNDLE_LABEL_NETWORK_CA_KEY, sk, sizeof(sk));
	rc = pki_path(path, "%s/%s", dir, PKI_F_NETWORK_CA_KEY)
		 ? pki_write_text(path, &t, PKI_MODE_SECRET)
		 : pki_fail("%s: path too long", dir);
	if (!rc)
		rc = write_first_revocation_list(dir, sk);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(&t, sizeof(t));
	if (rc)
		return rc;
	pki_text_printf(&t, "# mqttip VPN network CA public key (Ed25519): the network id\n");
	pki_text_block(&t, BUNDLE_LABEL_NETWORK_CA, pk, sizeof(pk));
	if (!pki_path(path, "%s/%s", dir, PKI_F_NETWORK_CA_PUB))
		return pki_fail("%s: path too long", dir);
	return pki_write_text(path, &t, PKI_MODE_PUBLIC) || pki_network_write(dir, net)
		   ? MQTTIP_EXIT_FAILED
		   : 0;
}

static int write_broker(const char *dir, const struct pki_flag *names, const struct pki_flag *ips,
			time_t now, time_t expires)
{
	const char *dns[1 + PKI_FLAG_MAX_VALUES];
	struct netaddr addr[2 + PKI_FLAG_MAX_VALUES];
	struct pki_x509_subject server = {.server = true};
	EVP_PKEY *ca_key = NULL, *server_key = NULL;
	X509 *ca = NULL, *crt = NULL;
	char path[PKI_PATH_MAX], cn[80], tag[4];
	int rc = MQTTIP_EXIT_FAILED;
	struct pki_text policy;

	dns[0] = "localhost";
	server.n_dns = 1;
	for (size_t i = 0; i < names->count; i++) {
		if (strcmp(names->values[i], "localhost"))
			dns[server.n_dns++] = names->values[i];
	}
	netaddr_parse("127.0.0.1", 9, &addr[0]);
	netaddr_parse("::1", 3, &addr[1]);
	server.n_ips = 2;
	for (size_t i = 0; i < ips->count; i++) {
		struct netaddr a;

		if (netaddr_parse(ips->values[i], strlen(ips->values[i]), &a) == 0 &&
		    !netaddr_equal(&a, &addr[0]) && !netaddr_equal(&a, &addr[1]))
			addr[server.n_ips++] = a;
	}
	server.dns = dns;
	server.ips = addr;
	server.cn = dns[server.n_dns > 1 ? 1 : 0];
	/* A random tag tells two PKIs' CAs apart in every certificate that names them. */
	randombytes_buf(tag, 3);
	snprintf(cn, sizeof(cn), "mqttip broker CA %02x%02x%02x", (uint8_t)tag[0], (uint8_t)tag[1],
		 (uint8_t)tag[2]);
	ca_key = pki_x509_keygen();
	server_key = pki_x509_keygen();
	ca = ca_key ? pki_x509_make_ca(ca_key, cn, now - PKI_BACKDATE_SECONDS, expires) : NULL;
	crt = ca && server_key ? pki_x509_make_leaf(&server, server_key, ca, ca_key,
						    now - PKI_BACKDATE_SECONDS, expires)
			       : NULL;
	if (!crt) {
		pki_fail("cannot create the broker certificates: %s", pki_x509_error());
		goto out;
	}
#define WRITE(file, call)                                                                          \
	do {                                                                                       \
		if (!pki_path(path, "%s/%s", dir, file) || (call) < 0) {                           \
			pki_fail("cannot write %s/%s: %s", dir, file, pki_x509_error());           \
			goto out;                                                                  \
		}                                                                                  \
	} while (0)
	WRITE(PKI_F_BROKER_CA_KEY, pki_x509_write_key(path, ca_key));
	WRITE(PKI_F_BROKER_CA, pki_x509_write_cert(path, ca));
	WRITE(PKI_F_SERVER_KEY, pki_x509_write_key(path, server_key));
	WRITE(PKI_F_SERVER_CRT, pki_x509_write_cert(path, crt));
	WRITE(PKI_F_CRL, pki_x509_write_crl(path, ca, ca_key, NULL, 0, now - PKI_BACKDATE_SECONDS));
#undef WRITE
	memset(&policy, 0, sizeof(policy));
	pki_text_printf(&policy,
			"# mqttip plugin policy (plugin_opt_policy_file), kept by `mqttip pki`;\n"
			"# rules may be added by hand. One rule a line:\n"
			"#   deny NAME           revoked: refused at connect, dropped on reload\n"
			"#   admin NAME          may read $SYS/broker/mqttip/#\n"
			"#   legacy NAME         may publish legacy MQTT_VPN messages\n"
			"#   route NAME PREFIX   extra prefix routed by the gateway NAME\n"
			"#   bridge NAME PREFIX  broker bridge NAME carries the nodes in PREFIX\n");
	if (!pki_path(path, "%s/%s", dir, PKI_F_POLICY))
		goto out;
	rc = pki_write_text(path, &policy, PKI_MODE_PUBLIC);
out:
	X509_free(crt);
	X509_free(ca);
	EVP_PKEY_free(server_key);
	EVP_PKEY_free(ca_key);
	return rc;
}

int pki_init(int argc, char **argv)
{
	struct pki_flag flags[] = {
	    [F_NET] = {.name = "--net",
		       .value = "PREFIX",
		       .max = PKI_MAX_NETWORKS - 2,
		       .help = "overlay network (default " DEFAULT_NET4 " and a random ULA /64)"},
	    [F_SERVER_NAME] = {.name = "--server-name",
			       .value = "NAME",
			       .max = PKI_FLAG_MAX_VALUES,
			       .help = "extra DNS name of the broker (localhost is always in)"},
	    [F_SERVER_IP] = {.name = "--server-ip",
			     .value = "ADDR",
			     .max = PKI_FLAG_MAX_VALUES,
			     .help = "extra IP address of the broker (127.0.0.1, ::1 always in)"},
	    [F_DAYS] = {.name = "--days",
			.value = "N",
			.max = 1,
			.help = "validity of the CAs in days (default 3650)"},
	};
	struct pki_command_line cl = {
	    .command = "mqttip pki init",
	    .positional_names = "DIR",
	    .n_positional = 1,
	    .description = "Creates a PKI in DIR: broker CA, broker server certificate, CRL, "
			   "policy, VPN network CA.",
	    .flags = flags,
	    .n_flags = sizeof(flags) / sizeof(flags[0]),
	};
	struct pki_network net;
	char path[PKI_PATH_MAX];
	const char *dir;
	long days = DEFAULT_CA_DAYS;
	time_t now = time(NULL);
	struct stat st;
	int rc = pki_args_exit_status(pki_args_parse(&cl, argc, argv));

	if (rc >= 0)
		return rc;
	dir = cl.positional[0];
	if (flags[F_DAYS].count && pki_args_days(flags[F_DAYS].values[0], &days) < 0) {
		fprintf(stderr, "mqttip pki init: --days %s: give a whole number from 1 to %d\n",
			flags[F_DAYS].values[0], PKI_MAX_DAYS);
		return MQTTIP_EXIT_USAGE;
	}
	for (size_t i = 0; i < flags[F_SERVER_NAME].count; i++) {
		if (!dns_name_valid(flags[F_SERVER_NAME].values[i])) {
			fprintf(stderr,
				"mqttip pki init: --server-name %s is not a DNS name; use letters, "
				"digits, '.' and '-'\n",
				flags[F_SERVER_NAME].values[i]);
			return MQTTIP_EXIT_USAGE;
		}
	}
	for (size_t i = 0; i < flags[F_SERVER_IP].count; i++) {
		struct netaddr a;
		const char *v = flags[F_SERVER_IP].values[i];

		if (netaddr_parse(v, strlen(v), &a) < 0) {
			fprintf(stderr,
				"mqttip pki init: --server-ip %s is not an address in canonical "
				"form; write it like 192.0.2.1 or 2001:db8::1\n",
				v);
			return MQTTIP_EXIT_USAGE;
		}
	}
	memset(&net, 0, sizeof(net));
	rc = add_networks(&flags[F_NET], &net);
	if (rc)
		return rc;
	net.expires = now + (time_t)days * 86400;

	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		return pki_fail("%s exists and is not a directory; give a new directory", dir);
	if (pki_present(dir, path))
		return pki_fail("%s already holds a PKI (%s exists); use another directory, or "
				"remove it to start over",
				dir, path);
	if (pki_mkdir(dir) < 0)
		return pki_fail("cannot create %s: %s; check that its parent exists and is "
				"writable",
				dir, strerror(errno));
	if (!pki_path(path, "%s/%s", dir, PKI_D_BROKER) || pki_mkdir(path) < 0 ||
	    !pki_path(path, "%s/%s", dir, PKI_D_NODES) || pki_mkdir(path) < 0)
		return pki_fail("cannot create %s: %s; check that %s is writable", path,
				strerror(errno), dir);
	rc = write_broker(dir, &flags[F_SERVER_NAME], &flags[F_SERVER_IP], now, net.expires);
	if (!rc)
		rc = write_network_ca(dir, &net);
	if (!rc) {
		struct pki_registry empty = {0};

		rc = pki_registry_write(dir, &empty);
	}
	if (rc)
		return rc;
	printf("PKI created in %s\n", dir);
	for (size_t i = 0; i < net.n_nets; i++) {
		char p[NETADDR_STR_MAX + 8];

		pki_prefix_format(&net.nets[i], p, sizeof(p));
		printf("  network    %s\n", p);
	}
	printf("  broker     %s/%s (copy to the broker host; see docs/PKI.md)\n", dir,
	       PKI_D_BROKER);
	printf("next: mqttip pki issue %s NAME --addr ADDRESS\n", dir);
	return 0;
}
