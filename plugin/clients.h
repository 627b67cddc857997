/* clients.h - per-connection cache: the identity and rights of each live client, keyed by the
 * broker's client pointer. An entry is (re)built when the client authenticates (or on its first
 * ACL check if the listener skips authentication) and dropped on disconnect, so the per-message
 * ACL path is one hash lookup: no certificate parsing, no allocation. */
#ifndef MQTTIP_PLUGIN_CLIENTS_H
#define MQTTIP_PLUGIN_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "acl.h"
#include "identity.h"
#include "metrics.h"
#include "policy.h"

#define CLIENTS_BUCKETS 4096

struct client_entry {
	const void *key; /* struct mosquitto * of the connection */
	struct client_entry *hash_next;
	char *client_id; /* copy, to kick the connection by id later */
	bool has_identity;
	struct identity id;
	struct policy_rights rights;
	struct acl_subject subject; /* points at id and rights; id NULL without identity */
	struct metrics_node *node;  /* NULL without identity: counted as anonymous */
};

struct clients {
	struct client_entry *buckets[CLIENTS_BUCKETS];
	size_t count;
};

struct client_entry *clients_find(const struct clients *c, const void *key);
/* A fresh entry for key (an existing one is dropped first); NULL when out of memory. */
struct client_entry *clients_add(struct clients *c, const void *key, const char *client_id);
void clients_remove(struct clients *c, const void *key);
/* A live entry with identity, not revoked, using client_id; NULL if none. O(n), for kicks. */
struct client_entry *clients_find_live_id(const struct clients *c, const char *client_id);
/* Calls fn for every entry (fn must not add or remove entries). */
void clients_each(struct clients *c, void (*fn)(struct client_entry *, void *), void *arg);
void clients_free(struct clients *c);

#endif
