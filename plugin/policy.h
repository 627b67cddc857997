/* policy.h - the policy file: per node name (certificate CN) revocation, admin right, legacy
 * permission, extra routed prefixes and bridged prefixes. Text, one rule per line, '#' starts a
 * comment:
 *   deny <node>   admin <node>   legacy <node>   route <node> <addr>/<len>
 *   bridge <node> <addr>/<len>   <node> is a broker bridge that speaks for the nodes of another
 *                                broker inside the prefix: a route that also covers their
 *                                directory entries (docs/SCALING.md)
 * Parsing is strict (unknown keyword, missing or extra field, bad prefix, over-long name: error
 * naming the line) and never reads outside the given buffer. */
#ifndef MQTTIP_PLUGIN_POLICY_H
#define MQTTIP_PLUGIN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

#define POLICY_NAME_MAX	  64 /* node name with its NUL (the VPN certificate's limit is 63) */
#define POLICY_MAX_ROUTES 16
#define POLICY_MAX_NODES  65536
#define POLICY_MAX_FILE	  (4u << 20)

struct policy_route {
	struct netaddr prefix;
	uint8_t len;
	bool bridge; /* a bridge rule: also publishes <p>/cert/<addr> inside the prefix */
};

/* What a node may do beyond its certificate; all false/empty for a node the policy omits. */
struct policy_rights {
	bool deny;
	bool admin;
	bool legacy;
	uint8_t nroutes;
	struct policy_route routes[POLICY_MAX_ROUTES];
};

struct policy_node {
	char name[POLICY_NAME_MAX];
	struct policy_rights rights;
};

struct policy {
	struct policy_node *nodes; /* sorted by name after a successful parse */
	size_t count;
};

/* Parses text[0..len) into out (allocates). Returns 0, or -1 with "line N: ..." in err. */
int policy_parse(const char *text, size_t len, struct policy *out, char *err, size_t errlen);
/* Reads and parses a file. Returns 0, or -1 with the reason in err. */
int policy_load(const char *path, struct policy *out, char *err, size_t errlen);
/* The rights of name (all clear when the policy does not mention it). */
void policy_lookup(const struct policy *p, const char *name, struct policy_rights *out);
/* True when after is a revocation or lacks a right that before had (used on reload). */
bool policy_rights_lost(const struct policy_rights *before, const struct policy_rights *after);
void policy_free(struct policy *p);

#endif
