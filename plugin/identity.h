/* identity.h - a node's broker identity from its verified X.509 client certificate:
 * CN = node name, subjectAltName IP entries = owned overlay addresses (IPv4 and IPv6).
 * A certificate without a usable CN (missing, empty, longer than 63 bytes, control characters,
 * more than one CN) yields no identity; more than IDENTITY_MAX_ADDRS addresses likewise. */
#ifndef MQTTIP_PLUGIN_IDENTITY_H
#define MQTTIP_PLUGIN_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "netaddr.h"
#include "policy.h"

#define IDENTITY_MAX_ADDRS 8

struct identity {
	char name[POLICY_NAME_MAX];
	uint8_t naddrs;
	struct netaddr addrs[IDENTITY_MAX_ADDRS];
};

/* Returns 0, or -1 with the reason in why. Does not take ownership of cert. */
int identity_from_x509(X509 *cert, struct identity *out, char *why, size_t whylen);

#endif
