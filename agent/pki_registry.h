/* pki_registry.h - the PKI directory's own records: the VPN networks (network.txt), the issued
 * nodes (nodes.txt: duplicate names and addresses, revocation by name) and the plugin's policy
 * file (broker/policy, format fixed in docs/PKI.md and the plugin's documentation). All text,
 * one record a line, '#' comments. */
#ifndef MQTTIP_PKI_REGISTRY_H
#define MQTTIP_PKI_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cert.h"
#include "pki_x509.h"

#define PKI_MAX_NETWORKS 8

/* File names inside the PKI directory (docs/PKI.md "Directory layout"). */
#define PKI_F_BROKER_CA_KEY  "broker-ca.key"
#define PKI_F_NETWORK_CA_KEY "network-ca.key"
#define PKI_F_NETWORK_CA_PUB "network-ca.pub"
#define PKI_F_NETWORK	     "network.txt"
#define PKI_F_NODES	     "nodes.txt"
#define PKI_D_BROKER	     "broker"
#define PKI_F_BROKER_CA	     "broker/ca.crt"
#define PKI_F_SERVER_CRT     "broker/server.crt"
#define PKI_F_SERVER_KEY     "broker/server.key"
#define PKI_F_CRL	     "broker/crl.pem"
#define PKI_F_POLICY	     "broker/policy"
#define PKI_D_NODES	     "nodes"

struct pki_network {
	size_t n_nets;
	struct cert_prefix nets[PKI_MAX_NETWORKS];
	time_t expires;
};

struct pki_node {
	char name[MQTTIP_CERT_NAME_MAX + 1];
	bool revoked;
	char x509_serial[PKI_SERIAL_HEX_MAX];
	uint64_t vpn_serial;
	time_t not_after, revoked_at;
	uint8_t n_addrs, n_routes;
	struct cert_prefix addrs[MQTTIP_CERT_MAX_ADDRS];
	struct cert_prefix routes[MQTTIP_CERT_MAX_ROUTES];
	bool has_key; /* false for lines written before the key was recorded */
	uint8_t x25519_public[MQTTIP_KEY_LEN];
};

struct pki_registry {
	size_t n;
	struct pki_node *nodes; /* malloc'd */
};

/* Text of a prefix "addr/len" into buf (NETADDR_STR_MAX + 4). */
void pki_prefix_format(const struct cert_prefix *p, char *buf, size_t cap);
/* Parses "addr/len" (canonical only). */
bool pki_prefix_parse(const char *text, struct cert_prefix *out);
/* True when no bit beyond len is set (a network, not a host inside it). */
bool pki_prefix_is_network(const struct cert_prefix *p);
bool pki_prefix_overlap(const struct cert_prefix *a, const struct cert_prefix *b);

int pki_network_write(const char *dir, const struct pki_network *n);
/* 0, or -1 with a message already printed. */
int pki_network_read(const char *dir, struct pki_network *n);

int pki_registry_read(const char *dir, struct pki_registry *r);
int pki_registry_write(const char *dir, const struct pki_registry *r);
struct pki_node *pki_registry_find(struct pki_registry *r, const char *name);
int pki_registry_add(struct pki_registry *r, const struct pki_node *node);
/* The serial of the next VPN certificate: one above every serial in the registry (each node's
 * current one, which only grows), so serials increase strictly across the network and a renewal
 * always outranks the certificate it renews (PROTOCOL.md 4.9). 0, or the error line printed. */
int pki_registry_next_serial(const struct pki_registry *r, uint64_t *serial);
void pki_registry_free(struct pki_registry *r);

/* Appends lines to broker/policy, keeping what an operator wrote there. */
int pki_policy_append(const char *dir, const char *lines);

bool pki_name_valid(const char *name);

#endif
