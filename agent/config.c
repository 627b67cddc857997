/* config.c - one table of keys shared by the config file and the flags, so both accept exactly
 * the same settings with the same checks. */
#define _GNU_SOURCE
#include "config.h"
#include "broker.h"
#include "cli.h"
#include "log.h"
#include "node.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "proto.h"
#include "statuspath.h"

_Static_assert(CONFIG_BROKERS_MAX == BROKER_MAX_URLS, "a config holds as many URLs as a broker");

enum key_kind {
	K_STR,
	K_PATH,
	K_BOOL,
	K_UINT,
	K_ADDR4,
	K_NETMASK,
	K_ADDR6,
	K_PREFIX6,
	K_MS,
	K_BROKERS
};

struct key {
	const char *name;
	int short_flag; /* 0: long only */
	enum key_kind kind;
	size_t offset;
	size_t size;
	unsigned min, max;
};

#define STR(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)
#define NUM(field) offsetof(struct config, field), 0

static const struct key keys[] = {
    {"interface", 'i', K_STR, STR(ifname), 0, 0},
    {"address", 'a', K_ADDR4, NUM(addr4), 0, 0},
    {"netmask", 'm', K_NETMASK, NUM(prefix4), 0, 0},
    {"address6", '6', K_ADDR6, NUM(addr6), 0, 0},
    {"prefix6", 'x', K_PREFIX6, NUM(prefix6), 0, 0},
    {"broker", 'b', K_BROKERS, NUM(broker), 0, 0},
    {"client-id", 'n', K_STR, STR(client_id), 0, 0},
    {"username", 'u', K_STR, STR(username), 0, 0},
    {"password", 'p', K_STR, STR(password), 0, 0},
    {"legacy-psk", 'k', K_STR, STR(legacy_psk), 0, 0},
    {"prefix", 't', K_STR, STR(prefix), 0, 0},
    {"debug", 'd', K_BOOL, NUM(debug), 0, 0},
    {"strict-perms", 0, K_BOOL, NUM(strict_perms), 0, 0},
    {"no-offload", 0, K_BOOL, NUM(no_offload), 0, 0},
    {"bundle", 0, K_PATH, STR(bundle), 0, 0},
    {"cert", 0, K_PATH, STR(cert), 0, 0},
    {"key", 0, K_PATH, STR(key), 0, 0},
    {"cafile", 0, K_PATH, STR(cafile), 0, 0},
    {"node-cert", 0, K_PATH, STR(node_cert), 0, 0},
    {"node-key", 0, K_PATH, STR(node_key), 0, 0},
    {"network-ca", 0, K_PATH, STR(network_ca), 0, 0},
    {"psk", 0, K_PATH, STR(psk), 0, 0},
    {"status-socket", 0, K_PATH, STR(status_socket), 0, 0},
    {"state-file", 0, K_PATH, STR(state_file), 0, 0},
    {"mtu", 0, K_UINT, NUM(mtu), 576, MQTTIP_MAX_IP_PACKET},
    {"max-peers", 0, K_UINT, NUM(max_peers), 1, 4096},
    {"queue-per-peer", 0, K_UINT, NUM(queue_per_peer), 1, 1024},
    {"mqtt-keepalive", 0, K_UINT, NUM(mqtt_keepalive), 5, 3600},
    {"broadcast-peers", 0, K_UINT, NUM(broadcast_peers), 0, 256},
    {"max-message", 0, K_UINT, NUM(max_message), NODE_MAX_MESSAGE_MIN, MQTTIP_MAX_TRANSPORT_MSG},
    {"connect-timeout", 0, K_MS, NUM(connect_timeout_ms), 1, 600},
    {"subscribe-qos", 0, K_UINT, NUM(subscribe_qos), 0, 1},
    {"rekey-after", 0, K_MS, NUM(rekey_after_ms), 10, 86400},
    {"reject-after", 0, K_MS, NUM(reject_after_ms), 15, 86400},
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->ifname, "mqttip0");
	strcpy(c->prefix, MQTTIP_TOPIC_PREFIX);
	c->prefix4 = 24;
	c->prefix6 = 64;
	c->mtu = 1400;
	c->max_peers = 1024;
	c->queue_per_peer = 64;
	c->mqtt_keepalive = 30;
	c->broadcast_peers = 32;
	c->max_message = MQTTIP_MAX_TRANSPORT_MSG;
	c->connect_timeout_ms = 10000;
	c->subscribe_qos = 1;
	c->rekey_after_ms = MQTTIP_REKEY_AFTER_TIME_MS;
	c->reject_after_ms = MQTTIP_REJECT_AFTER_TIME_MS;
}

static int parse_uint(const char *v, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long n;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return -1;
	*out = (unsigned)n;
	return 0;
}

static int netmask_to_prefix(const char *v, uint8_t *out)
{
	struct netaddr m;
	uint32_t bits;
	uint8_t len = 0;

	if (netaddr_parse(v, strlen(v), &m) || m.family != 4)
		return -1;
	bits = (uint32_t)m.bytes[0] << 24 | (uint32_t)m.bytes[1] << 16 | (uint32_t)m.bytes[2] << 8 |
	       m.bytes[3];
	while (len < 32 && (bits & (UINT32_C(0x80000000) >> len)))
		len++;
	if (len < 32 && (bits << len) != 0)
		return -1; /* not contiguous */
	*out = len;
	return 0;
}

/* Appends the space-separated URLs of v to the broker list (emptied first when replace). */
static int add_brokers(struct config *c, const char *v, bool replace, char *err, size_t cap)
{
	const char *p = v;

	if (replace)
		c->n_brokers = 0;
	for (;;) {
		size_t n;

		p += strspn(p, " \t");
		if (!*p)
			break;
		n = strcspn(p, " \t");
		if (c->n_brokers == CONFIG_BROKERS_MAX)
			return set_error(err, cap, "broker: at most %d URLs", CONFIG_BROKERS_MAX);
		if (n >= CONFIG_STR_MAX)
			return set_error(err, cap, "broker: URL too long (at most %d bytes)",
					 CONFIG_STR_MAX - 1);
		memcpy(c->broker[c->n_brokers], p, n);
		c->broker[c->n_brokers++][n] = '\0';
		p += n;
	}
	if (!c->n_brokers)
		return set_error(err, cap, "broker: no URL given");
	return 0;
}

static int set_key(struct config *c, const struct key *k, const char *v, char *err, size_t cap)
{
	char *field = (char *)c + k->offset;
	unsigned n;

	switch (k->kind) {
	case K_STR:
	case K_PATH:
		if (strlen(v) >= k->size)
			return set_error(err, cap, "%s: value too long (at most %zu bytes)",
					 k->name, k->size - 1);
		if (k->kind == K_PATH && !*v)
			return set_error(err, cap, "%s: empty path", k->name);
		strcpy(field, v);
		return 0;
	case K_BOOL:
		if (!*v || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") ||
		    !strcmp(v, "1"))
			*(bool *)field = true;
		else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") ||
			 !strcmp(v, "0"))
			*(bool *)field = false;
		else
			return set_error(err, cap, "%s: expected true or false, not '%s'", k->name,
					 v);
		return 0;
	case K_UINT:
		if (parse_uint(v, k->min, k->max, &n))
			return set_error(err, cap, "%s: expected a number from %u to %u, not '%s'",
					 k->name, k->min, k->max, v);
		*(unsigned *)field = n;
		return 0;
	case K_MS:
		if (parse_uint(v, k->min, k->max, &n))
			return set_error(err, cap, "%s: expected seconds from %u to %u, not '%s'",
					 k->name, k->min, k->max, v);
		*(uint64_t *)field = (uint64_t)n * 1000;
		return 0;
	case K_BROKERS:
		return add_brokers(c, v, true, err, cap);
	case K_ADDR4:
		c->no_addr4 = !strcmp(v, "none");
		c->has_addr4 = false;
		if (c->no_addr4)
			return 0;
		if (netaddr_parse(v, strlen(v), &c->addr4) || c->addr4.family != 4)
			return set_error(err, cap,
					 "%s: '%s' is not an IPv4 address (a.b.c.d) or 'none'",
					 k->name, v);
		c->has_addr4 = true;
		return 0;
	case K_NETMASK:
		if (netmask_to_prefix(v, &c->prefix4))
			return set_error(err, cap,
					 "%s: '%s' is not an IPv4 netmask (255.255.255.0)", k->name,
					 v);
		c->has_prefix4 = true;
		return 0;
	case K_ADDR6:
		c->no_addr6 = !strcmp(v, "none");
		c->has_addr6 = false;
		if (c->no_addr6)
			return 0;
		if (netaddr_parse(v, strlen(v), &c->addr6) || c->addr6.family != 6)
			return set_error(err, cap,
					 "%s: '%s' is not an IPv6 address in canonical (RFC 5952) "
					 "form or 'none'",
					 k->name, v);
		c->has_addr6 = true;
		return 0;
	case K_PREFIX6:
		if (parse_uint(v, 1, 128, &n))
			return set_error(err, cap, "%s: expected a prefix length from 1 to 128",
					 k->name);
		c->prefix6 = (uint8_t)n;
		c->has_prefix6 = true;
		return 0;
	}
	return set_error(err, cap, "%s: internal error", k->name);
}

/* Spellings of conf/agent.conf's first draft, accepted as well. */
static const char *const aliases[][2] = {
    {"ca-file", "cafile"},
    {"cert-file", "cert"},
    {"key-file", "key"},
    {"network-ca-file", "network-ca"},
    {"node-cert-file", "node-cert"},
    {"node-key-file", "node-key"},
    {"bundle-file", "bundle"},
    {"psk-file", "psk"},
};

int config_set(struct config *c, const char *key, const char *value, char *err, size_t cap)
{
	char name[64];
	size_t n = strlen(key);

	if (n >= sizeof(name))
		return set_error(err, cap, "unknown key '%s'", key);
	for (size_t i = 0; i <= n; i++)
		name[i] = key[i] == '_' ? '-' : key[i]; /* node_cert = node-cert */
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		if (!strcmp(name, aliases[i][0]))
			strcpy(name, aliases[i][1]);
	}
	for (size_t i = 0; i < N_KEYS; i++) {
		if (!strcmp(keys[i].name, name))
			return set_key(c, &keys[i], value, err, cap);
	}
	return set_error(err, cap, "unknown key '%s'", key);
}

size_t config_min_message(const struct config *c)
{
	return MQTTIP_NODE_MESSAGE_LEN((size_t)c->mtu, c->legacy_psk[0] != '\0');
}

/* A '#' at the start of the value or after a blank starts a comment ("mtu = 1400  # why"). */
static char *comment_start(char *value)
{
	for (char *p = value; *p; p++) {
		if (*p == '#' && (p == value || p[-1] == ' ' || p[-1] == '\t'))
			return p;
	}
	return NULL;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

int config_load_file(struct config *c, const char *path, char *err, size_t cap)
{
	FILE *f = fopen(path, "r");
	char line[2048], sub[512];
	unsigned lineno = 0;
	int rc = 0;

	if (!f)
		return set_error(err, cap, "cannot read config file %s: %s", path, strerror(errno));
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		char *s, *eq, *key, *value, *hash;

		lineno++;
		s = trim(line);
		if (!*s || *s == '#')
			continue;
		/* "key = value" or "key value" */
		eq = s + strcspn(s, " \t=");
		if (!*eq) {
			rc = set_error(err, cap, "%s:%u: expected 'key = value'", path, lineno);
			break;
		}
		value = eq + strspn(eq, " \t");
		if (*value == '=')
			value++;
		*eq = '\0';
		key = s;
		value = trim(value);
		if ((hash = comment_start(value)) != NULL) {
			*hash = '\0';
			value = trim(value);
			if (!*value) {
				rc =
				    set_error(err, cap,
					      "%s:%u: %s: no value before the comment ('#' after a "
					      "blank starts a comment)",
					      path, lineno, key);
				break;
			}
		}
		if (config_set(c, key, value, sub, sizeof(sub)))
			rc = set_error(err, cap, "%s:%u: %s", path, lineno, sub);
	}
	sodium_memzero(line, sizeof(line));
	fclose(f);
	return rc;
}

void config_usage(FILE *out, const void *ctx)
{
	(void)ctx;
	fprintf(
	    out,
	    "Usage: mqttip up [-c FILE] [flags]\n"
	    "Runs the tunnel in the foreground. Flags (config file keys in brackets):\n"
	    "  -c FILE            config file (key = value lines; docs/AGENT.md)\n"
	    "  -i IFNAME          TUN interface (interface, default mqttip0)\n"
	    "  -a ADDR|none       IPv4 address (address; default: the node certificate's)\n"
	    "  -m NETMASK         IPv4 netmask (netmask; default: the certificate's prefix\n"
	    "                     length, else 255.255.255.0)\n"
	    "  -6 ADDR|none       IPv6 address (address6; default: the node certificate's)\n"
	    "  -x LEN             IPv6 prefix length (prefix6; default: the certificate's, "
	    "else 64)\n"
	    "  -b URL             broker: mqtts://host:port, ssl://, mqtt://, tcp:// (broker);\n"
	    "                     repeat -b (or list URLs in 'broker') for brokers tried in turn\n"
	    "  -n ID              MQTT client id (client-id, default node name or address)\n"
	    "  -u USER -p PASS    MQTT username and password (username, password)\n"
	    "  -k PASSWORD        legacy MQTT_VPN mode (legacy-psk)\n"
	    "  -t PREFIX          topic prefix (prefix, default mqttip)\n"
	    "  -d                 packet-level debug log (debug)\n"
	    "  --bundle FILE      node bundle from 'mqttip pki issue' (bundle)\n"
	    "  --cert --key --cafile --node-cert --node-key --network-ca FILE  separate files\n"
	    "  --psk FILE         32-byte pre-shared key, hex (psk)\n"
	    "  --strict-perms     refuse key files group or others can access (strict-perms;\n"
	    "                     default false: use them with a warning)\n"
	    "  --status-socket P  (status-socket, default /run/mqttip/IFNAME.sock; in a network\n"
	    "                     namespace /run/mqttip/NETNS/IFNAME.sock)\n"
	    "  --state-file P     newest VPN revocation list (state-file, default\n"
	    "                     /var/lib/mqttip/IFNAME.state; in a network namespace\n"
	    "                     /var/lib/mqttip/NETNS/IFNAME.state)\n"
	    "  --mtu N            interface MTU (mtu, default 1400)\n"
	    "  --max-message B    largest MQTT message, bytes (max-message, default 16416)\n"
	    "  --connect-timeout S  first broker connect timeout (connect-timeout, default 10)\n"
	    "  --subscribe-qos Q  highest subscription QoS, 1 or 0 (subscribe-qos, default 1;\n"
	    "                     0 for RabbitMQ 3.x clusters: docs/SCALING.md)\n"
	    "  --no-offload       TUN without offloads: one packet per read and write\n"
	    "                     (no-offload, default false)\n"
	    "  --max-peers N --queue-per-peer N --mqtt-keepalive S --broadcast-peers N\n"
	    "  --rekey-after S --reject-after S\n");
}

enum config_result config_parse_args(struct config *c, int argc, char **argv, char *err, size_t cap)
{
	struct option longopts[N_KEYS + 3];
	char shortopts[3 * N_KEYS + 8];
	size_t n = 0, s = 0;
	int opt, idx;
	bool cli_brokers = false;

	shortopts[s++] = ':';
	for (size_t i = 0; i < N_KEYS; i++) {
		int has_arg = keys[i].kind == K_BOOL ? no_argument : required_argument;

		longopts[n++] = (struct option){keys[i].name, has_arg, NULL, 1000 + (int)i};
		if (keys[i].short_flag) {
			shortopts[s++] = (char)keys[i].short_flag;
			if (has_arg == required_argument)
				shortopts[s++] = ':';
		}
	}
	longopts[n++] = (struct option){"config", required_argument, NULL, 'c'};
	longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[n] = (struct option){NULL, 0, NULL, 0};
	memcpy(shortopts + s, "c:h", 4);

	/* First pass: only the config file, so that flags override it whatever their order. */
	opterr = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
		if (opt == 'h') {
			config_usage(stdout, NULL);
			return CONFIG_HELP;
		}
		if (opt == '?' || opt == ':') {
			cli_describe(opt, argc, argv, longopts, err, cap);
			return CONFIG_USAGE;
		}
		if (opt == 'c') {
			if (strlen(optarg) >= sizeof(c->config_file)) {
				set_error(err, cap, "config file path too long");
				return CONFIG_ERROR;
			}
			strcpy(c->config_file, optarg);
		}
	}
	if (optind < argc) {
		set_error(err, cap, "unexpected argument '%s'", argv[optind]);
		return CONFIG_USAGE;
	}
	if (c->config_file[0] && config_load_file(c, c->config_file, err, cap))
		return access(c->config_file, R_OK) ? CONFIG_FILE_ERROR : CONFIG_ERROR;
	optind = 0;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
		const struct key *k = NULL;
		int rc;

		if (opt >= 1000)
			k = &keys[opt - 1000];
		for (size_t i = 0; !k && i < N_KEYS; i++) {
			if (keys[i].short_flag == opt)
				k = &keys[i];
		}
		if (!k)
			continue;
		/* -b replaces the file's brokers; more -b add to the list */
		if (k->kind == K_BROKERS)
			rc = add_brokers(c, optarg, !cli_brokers, err, cap);
		else
			rc = set_key(c, k, k->kind == K_BOOL ? "" : optarg, err, cap);
		if (rc)
			return CONFIG_ERROR;
		cli_brokers |= k->kind == K_BROKERS;
	}
	return CONFIG_OK;
}

int config_finish(struct config *c, char *err, size_t cap)
{
	if (!c->ifname[0])
		return set_error(err, cap, "interface: empty name");
	if (!c->n_brokers)
		return set_error(err, cap,
				 "no broker given: use -b URL (or 'broker = URL' in the file)");
	for (unsigned i = 0; i < c->n_brokers; i++) {
		char host[256];
		bool tls;
		int port;

		if (broker_parse_url(c->broker[i], &tls, host, sizeof(host), &port, err, cap))
			return -1;
	}
	if (!c->bundle[0] && !c->node_cert[0] && !c->legacy_psk[0])
		return set_error(
		    err, cap,
		    "no credentials: give --bundle FILE (secure mode), the separate files, "
		    "or -k PASSWORD (legacy mode)");
	if (!c->bundle[0] && c->node_cert[0] &&
	    (!c->node_key[0] || !c->network_ca[0] || !c->cert[0] || !c->key[0] || !c->cafile[0]))
		return set_error(err, cap,
				 "separate files: --cert --key --cafile --node-cert "
				 "--node-key --network-ca are all needed (or use --bundle)");
	if (c->legacy_psk[0] && !c->bundle[0] && !c->node_cert[0] && !c->has_addr4)
		return set_error(err, cap, "legacy mode needs the interface address: -a ADDR");
	if (!c->status_socket[0] &&
	    statuspath_default(c->ifname, c->status_socket, sizeof(c->status_socket)))
		return set_error(err, cap, "status socket path too long");
	if (!c->state_file[0] && statuspath_in("/var/lib/mqttip", c->ifname, ".state",
					       c->state_file, sizeof(c->state_file)))
		return set_error(err, cap, "state file path too long");
	if (c->reject_after_ms <= c->rekey_after_ms)
		return set_error(err, cap, "reject-after must be longer than rekey-after");
	if (c->max_message < config_min_message(c) || c->max_message < MQTTIP_INITIATION_MAX_LEN)
		return set_error(
		    err, cap,
		    "max-message %u is below the %zu bytes one packet of mtu %u needs: "
		    "raise max-message or lower mtu",
		    c->max_message, config_min_message(c), c->mtu);
	if (c->legacy_psk[0] && c->no_addr4)
		return set_error(err, cap,
				 "legacy mode (-k) carries IPv4 only: it cannot run with "
				 "address = none");
	return 0;
}

void config_wipe(struct config *c)
{
	sodium_memzero(c->password, sizeof(c->password));
	sodium_memzero(c->legacy_psk, sizeof(c->legacy_psk));
}
